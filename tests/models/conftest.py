"""Shared fixtures of the model tests."""

from __future__ import annotations

import ibis
import pytest

from cvm.data.summaries import calibration_holdout
from cvm.datasets import load


@pytest.fixture(scope="session")
def cdnow():
    """The CDNOW 1/10 sample split as in Fader, Hardie & Lee (2005): calibration to
    1997-09-30, holdout to 1998-06-30, in weeks (2,357 customers), as a pandas DataFrame."""
    table = ibis.memtable(load("cdnow_sample"))
    return calibration_holdout(
        table, calibration_end="1997-09-30", holdout_end="1998-06-30", unit="week"
    ).to_pyarrow().to_pandas()
