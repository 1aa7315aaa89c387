"""Scoring large tables in parallel threads gives exactly what one thread gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.value import scoring
from cvm.value.config import ValueConfig


def test_parallel_and_serial_scores_are_identical(monkeypatch):
    rng = np.random.default_rng(5)
    n = scoring.PARALLEL_ROWS + 1
    table = pd.DataFrame({
        "gross_margin_recent": rng.normal(50, 30, n).round(2),
        "clv": rng.lognormal(3, 1, n),
        "tenure_days": rng.integers(0, 900, n).astype(float),
        "credit_index": np.where(rng.random(n) < 0.9, 1.0, rng.random(n)),
        "margin_growth": rng.normal(0, 10, n),
    })
    model = ValueConfig().scoring.models[0]
    parallel = scoring.score(table, model)
    monkeypatch.setattr(scoring, "PARALLEL_ROWS", 10**12)
    serial = scoring.score(table, model)
    pd.testing.assert_frame_equal(parallel, serial)


@pytest.mark.parametrize("kind", ["continuous", "mostly_zero", "mostly_max", "min_zero_max", "whole_numbers"])
def test_percentile_ranks_equal_average_ranks(kind):
    """Every route of the percentile (counting, common values apart, one sort) gives
    (average rank - 1) / (n - 1), as scipy's rankdata does."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(11)
    n = 5000
    values = {
        "continuous": rng.normal(0, 1, n),
        "mostly_zero": np.where(rng.random(n) < 0.8, 0.0, rng.normal(0, 5, n).round(1)),
        "mostly_max": np.where(rng.random(n) < 0.9, 1.0, rng.random(n).round(2)),
        "min_zero_max": rng.choice([-3.0, 0.0, 7.0, 1.5, -0.25, 2.0], size=n, p=[0.3, 0.3, 0.3, 0.04, 0.03, 0.03]),
        "whole_numbers": rng.integers(0, 50, n).astype(float),
    }[kind]
    expected = (rankdata(values) - 1) / (n - 1)
    np.testing.assert_allclose(scoring._percentile(values), expected, rtol=0, atol=1e-12)
