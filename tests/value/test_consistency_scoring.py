"""Scoring large tables in parallel threads gives exactly what one thread gives."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
