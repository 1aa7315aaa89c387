"""Value composition, negative-value customers and value at risk.

**Composition.** A customer's value has three parts:

* *realized value*: the CRM gross margin to date;
* *potential value*: the discounted expected future margin (the model-based CLV);
* *influence value*: the realized margin of the customers they referred, directly, plus
  ``referral.indirect_decay`` times that of the customers those referred, its square one step
  further, and so on up to ``referral.max_depth`` steps. Self-referrals are ignored, a
  referral whose customer is unknown adds nothing, and a customer referred twice by the same
  referrer counts once.

**Negative value.** A customer whose CRM gross margin to date, or whose lifetime value net of
acquisition cost (realized + potential − acquisition cost), is below zero is flagged with the
first reason that explains it: ``returns`` (returns made the margin negative: it would be ≥ 0
without them), ``discounts`` (sold below cost: product cost above revenue), ``cost_to_serve``
(marketing cost above the margin before marketing), ``acquisition_cost`` (margin and future
value do not recover what acquiring them cost).

**Value at risk.** A *valuable* customer (value-matrix cell in ``risk.valuable_tiers``)
whose probability of being alive fell by at least ``risk.min_drop`` since one forecast period
earlier is *at risk*. The value at risk is the expected margin lost if they churn: their future
margin if alive (CLV / P(alive)) times the probability that they have churned (1 − P(alive)).

>>> influence_value(["a", "b", "c"], [10.0, 20.0, 40.0], referrer=["a", "b"], referred=["b", "c"],
...                 decay=0.5, max_depth=3).tolist()   # a: 20 + 0.5 × 40; b: 40
[40.0, 40.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from cvm.value._arrays import filled

__all__ = ["influence_value", "negative_value_reason", "value_at_risk", "NEGATIVE_REASONS"]

NEGATIVE_REASONS = ("returns", "discounts", "cost_to_serve", "acquisition_cost")
"""Reasons for a negative value, in the order they are tried (labels ``negative.*``)."""


def influence_value(
    customer_id: Any, realized: Any, *, referrer: Any, referred: Any, decay: float, max_depth: int
) -> np.ndarray:
    """Decayed sum of the realized margin of each customer's direct and indirect referrals."""
    ids = _strings(customer_id)
    return influence_from_rows(realized, source=_positions(_strings(referrer), ids),
                               target=_positions(_strings(referred), ids), decay=decay, max_depth=max_depth)


def influence_from_rows(realized: Any, *, source: np.ndarray, target: np.ndarray, decay: float,
                        max_depth: int) -> np.ndarray:
    """:func:`influence_value` with the referrals given as customer rows (-1 for unknown ids).

    >>> influence_from_rows([10.0, 20.0], source=np.array([0, -1]), target=np.array([1, 0]),
    ...                     decay=0.5, max_depth=2).tolist()
    [20.0, 0.0]
    """
    realized = filled(realized)
    n = len(realized)
    if n == 0:
        return np.zeros(0)
    keep = (source >= 0) & (target >= 0) & (source != target)
    edges = np.unique(np.stack([source[keep], target[keep]], axis=1), axis=0) if keep.any() else np.zeros((0, 2), int)
    graph = sparse.csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    total = np.zeros(n)
    step = realized
    weight = 1.0
    for _ in range(max_depth):
        step = graph @ step
        total += weight * step
        weight *= decay
        if weight == 0 or not step.any():
            break
    return total


def _strings(values: Any) -> pa.Array:
    values = values.array if isinstance(values, pd.Series) else values
    array = values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
    return pc.cast(array, pa.large_string())


def _positions(values: pa.Array, ids: pa.Array) -> np.ndarray:
    """Row of each value among ``ids`` (-1 where absent)."""
    return pc.index_in(values, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)


def negative_value_reason(
    *,
    revenue: Any,
    product_cost: Any,
    marketing_cost: Any,
    returns: Any,
    realized: Any,
    potential: Any,
    acquisition_cost: Any,
) -> pd.Categorical:
    """The reason each negative-value customer is negative (missing for the others).

    >>> negative_value_reason(revenue=[50, 50, 50, 50, 50], product_cost=[30, 60, 20, 20, 20],
    ...     marketing_cost=[0, 0, 40, 0, 0], returns=[40, 0, 0, 0, 0], realized=[-1, -10, -10, 30, 30],
    ...     potential=[5, 5, 5, 5, 5], acquisition_cost=[0, 0, 0, 50, 0]).tolist()
    ['returns', 'discounts', 'cost_to_serve', 'acquisition_cost', nan]
    """
    revenue, product_cost, marketing_cost, returns, realized, potential, cac = (
        filled(v) for v in (revenue, product_cost, marketing_cost, returns, realized, potential, acquisition_cost)
    )
    below = realized < 0
    negative = below | (realized + potential - cac < 0)
    codes = np.full(realized.shape, -1, dtype=np.int8)
    rows = np.flatnonzero(negative)  # few customers: the reasons are worked out for them only
    if rows.size:
        b, r = below[rows], realized[rows]
        conditions = [
            b & (returns[rows] > 0) & (r + returns[rows] >= 0),
            b & (product_cost[rows] > revenue[rows]),
            b & (marketing_cost[rows] > revenue[rows] - product_cost[rows]),
        ]
        # whatever is left: the acquisition cost (or a margin negative for mixed reasons)
        codes[rows] = np.select(conditions, [0, 1, 2], default=3)
    return pd.Categorical.from_codes(codes, categories=list(NEGATIVE_REASONS))


def value_at_risk(*, valuable: Any, p_alive: Any, p_alive_previous: Any, clv: Any, min_drop: float) -> tuple[np.ndarray, np.ndarray]:
    """Whether each customer is at risk, and their value at risk (0 when not at risk).

    >>> at_risk, amount = value_at_risk(valuable=[True, True, False], p_alive=[0.5, 0.9, 0.5],
    ...     p_alive_previous=[0.8, 0.92, 0.9], clv=[100.0, 50.0, 30.0], min_drop=0.05)
    >>> at_risk.tolist(), amount.tolist()       # 100 / 0.5 × (1 − 0.5)
    ([True, False, False], [100.0, 0.0, 0.0])
    """
    p = np.asarray(p_alive, dtype=float)
    previous = np.asarray(p_alive_previous, dtype=float)
    clv = filled(np.asarray(clv, dtype=float))
    with np.errstate(invalid="ignore"):
        falling = np.asarray(valuable, dtype=bool) & (previous - p >= min_drop)
    falling &= np.isfinite(previous)
    with np.errstate(divide="ignore", invalid="ignore"):
        if_alive = np.where(p > 0, clv / p, 0.0)
    return falling, np.where(falling, if_alive * (1 - p), 0.0)
