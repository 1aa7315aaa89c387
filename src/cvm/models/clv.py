"""Discounted expected purchases and customer lifetime value from any purchase model.

Time is the model's time unit (the unit of the BTYD summary it was fitted on), and the
discount rate is per that unit: a purchase ``t`` units from now is worth
``(1 + discount_rate) ** -t`` of one today. :meth:`cvm.data.timeunit.TimeUnit.discount_rate`
turns an annual rate into the rate per unit exactly, so a 10 % annual rate is the same
money whatever unit the model uses.

Future purchases are counted in ``steps`` equal slices of the horizon (by default one per
time unit, at least 12 and at most 1,200) and each slice is discounted at its midpoint.
Models with a closed-form discounted expectation (Pareto/NBD's DERT, BG/BB's DERT) give
their own for an infinite horizon.

>>> from cvm.models.bgnbd import BetaGeoModel
>>> model = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
>>> customers = {"frequency": [2.0], "recency": [30.43], "T": [38.86]}
>>> undiscounted = discounted_expected_purchases(model, customers, horizon=39, discount_rate=0.0)
>>> round(float(undiscounted[0]), 3)   # the plain expectation E[X(39)]
1.226
>>> discounted = discounted_expected_purchases(model, customers, horizon=39, discount_rate=0.01)
>>> bool(discounted[0] < undiscounted[0])
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cvm.errors import ConfigError, InvalidDataError

CLV_BLOCK = 200_000
"""Customers per block when a model's discounted purchases are summed slice by slice."""


def discount_edges(horizon: float, steps: int | None = None) -> np.ndarray:
    """Ends of the equal slices the horizon is cut into.

    >>> discount_edges(3.0).tolist()[:3]
    [0.25, 0.5, 0.75]
    """
    if not (horizon > 0 and math.isfinite(horizon)):
        raise ConfigError(f"horizon must be a positive, finite number of time units, got {horizon!r}")
    if steps is None:
        steps = int(min(max(math.ceil(horizon), 12), 1200))
    if steps < 1:
        raise ConfigError(f"steps must be at least 1, got {steps!r}")
    return horizon * np.arange(1, steps + 1) / steps


def discounted_expected_purchases(
    model: Any, customers: Any, *, horizon: float, discount_rate: float, steps: int | None = None
) -> np.ndarray:
    """Expected purchases of each customer over ``(T, T + horizon]``, discounted to T."""
    _check_rate(discount_rate)
    edges = discount_edges(horizon, steps)
    midpoints = edges - np.diff(edges, prepend=0.0) / 2
    factors = np.exp(-math.log1p(discount_rate) * midpoints)
    if hasattr(model, "weighted_expected_purchases"):  # without the customers × slices table
        return model.weighted_expected_purchases(customers, edges, factors)
    # customers × slices, a block of customers at a time, so memory stays flat
    columns = model.read_columns(customers)
    n = len(next(iter(columns.values()))) if columns else 0
    out = np.empty(n)
    for start in range(0, n, CLV_BLOCK):
        block = {k: v[start:start + CLV_BLOCK] for k, v in columns.items()}
        out[start:start + CLV_BLOCK] = np.einsum("ij,j->i", model.expected_purchases_by_period(block, edges), factors)
    return out


def customer_lifetime_value(
    model: Any,
    customers: Any,
    *,
    spend: Any,
    horizon: float,
    discount_rate: float,
    margin: float = 1.0,
    steps: int | None = None,
) -> np.ndarray:
    """Discounted expected value of each customer's purchases over the horizon.

    ``spend`` is the expected value of each future purchase (one number, or one per
    customer, for example :meth:`GammaGammaModel.expected_spend`); ``margin`` the share of it
    that is profit (1.0 gives revenue).

    >>> from cvm.models.bgnbd import BetaGeoModel
    >>> model = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> customers = {"frequency": [0.0, 5.0], "recency": [0.0, 30.0], "T": [39.0, 39.0]}
    >>> clv = customer_lifetime_value(model, customers, spend=[20.0, 40.0], horizon=52,
    ...                               discount_rate=0.002, margin=0.3)
    >>> bool(clv[1] > clv[0] > 0)
    True
    """
    purchases = discounted_expected_purchases(
        model, customers, horizon=horizon, discount_rate=discount_rate, steps=steps
    )
    spend = np.broadcast_to(np.asarray(spend, dtype=float), purchases.shape)
    if not np.all(np.isfinite(spend)):
        bad = int(np.flatnonzero(~np.isfinite(spend))[0])
        raise InvalidDataError(f"spend is not finite for customer row {bad}")
    if not math.isfinite(margin):
        raise ConfigError(f"margin must be a finite number, got {margin!r}")
    return purchases * spend * margin


def _check_rate(rate: float) -> None:
    if not (math.isfinite(rate) and rate > -1):
        raise ConfigError(f"discount rate must be a number greater than -1, got {rate!r}")
