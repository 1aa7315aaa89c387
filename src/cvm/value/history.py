"""Historical value: revenue, product cost, relationship-marketing cost and CRM gross margin.

The CRM gross margin of a customer is **revenue − product cost − relationship-marketing
cost**, in total up to the observation end and in each of the last K calendar periods. The
figures come from :func:`cvm.data.summaries.value_history`. Where the transaction log has no
product cost, the cost is estimated from the configured margin rate
(``product cost = revenue × (1 − margin.margin_rate)``) and ``cost_source`` says
``estimated``; where there is no marketing-cost table, ``margin.marketing_cost_rate × revenue``
is allocated as marketing cost (0 by default). Every such fallback is reported in the notes
of the result, so no estimated number passes for a recorded one.

>>> import pandas as pd
>>> from cvm.value.config import ValueConfig
>>> history = pd.DataFrame({"customer_id": ["a", "b"], "revenue": [100.0, 40.0],
...     "product_cost": [None, None], "marketing_cost": [5.0, 0.0], "returns": [0.0, 10.0],
...     "gross_sales": [100.0, 50.0]})
>>> margins = historical_value(history, ValueConfig(), periods=0)
>>> margins.columns["gross_margin"].tolist()        # 100 - 70 - 5, 40 - 28 - 0
[25.0, 12.0]
>>> margins.columns["cost_source"].tolist(), margins.notes[0][:40]
(['estimated', 'estimated'], 'The log has no product cost: it is estim')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cvm.errors import InvalidDataError, MissingColumnError
from cvm.labels import Note
from cvm.value._arrays import filled
from cvm.value.config import ValueConfig

__all__ = ["HistoricalValue", "historical_value", "history_columns"]


@dataclass
class HistoricalValue:
    """Per-customer historical columns (aligned with the input rows) and notes on fallbacks."""

    columns: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)
    margin_ratio: float = float("nan")
    """The base's gross margin / revenue where product cost is recorded (NaN when it is not)."""


def history_columns(periods: int) -> list[str]:
    """The per-period history columns for ``periods`` periods, oldest first.

    >>> history_columns(2)[:3]
    ['revenue_hist_1', 'product_cost_hist_1', 'marketing_cost_hist_1']
    """
    names = []
    for k in range(1, periods + 1):
        names += [f"{part}_hist_{k}" for part in ("revenue", "product_cost", "marketing_cost", "gross_margin", "orders")]
    return names


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table.columns:
        raise MissingColumnError(
            f"value history: the table has no column {name!r} (columns: {list(table.columns)})",
            hint="pass the table from cvm.data.summaries.value_history",
        )
    column = table[name]
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def historical_value(
    history: pd.DataFrame, config: ValueConfig, *, periods: int, has_marketing_costs: bool | None = None
) -> HistoricalValue:
    """Revenue, costs and CRM gross margin per customer, in total and per history period.

    ``history`` is the per-customer table of :func:`cvm.data.summaries.value_history`;
    ``periods`` how many ``*_hist_k`` periods it holds. ``has_marketing_costs`` says whether a
    marketing-cost table was given (``None``: whenever any marketing cost is non-zero).
    """
    settings = config.margin
    revenue = _column(history, "revenue")
    product_cost = _column(history, "product_cost")
    marketing_cost = _column(history, "marketing_cost")
    returns = _column(history, "returns") if "returns" in history.columns else np.zeros(revenue.size)
    gross_sales = _column(history, "gross_sales") if "gross_sales" in history.columns else revenue + returns
    _require_finite(revenue, "revenue")
    notes: list[str] = []
    estimated = np.isnan(product_cost)
    if estimated.all() and estimated.size:
        notes.append(Note("note.margin.no_product_cost", rate=settings.margin_rate))
    elif estimated.any():
        notes.append(Note("note.margin.some_product_cost_missing", n=int(estimated.sum()),
                          rate=settings.margin_rate))
    cost = _estimate_missing(product_cost, estimated, revenue, settings.margin_rate)
    if has_marketing_costs is None:
        has_marketing_costs = bool(np.nansum(np.abs(marketing_cost)) > 0)
    allocate = not has_marketing_costs and settings.marketing_cost_rate > 0
    marketing = filled(marketing_cost)
    if allocate:
        marketing = revenue * settings.marketing_cost_rate
        notes.append(Note("note.margin.marketing_allocated", rate=settings.marketing_cost_rate))
    margin = revenue - cost - marketing
    if not estimated.any():
        recorded_revenue, recorded_margin = float(revenue.sum()), float(margin.sum())
    else:
        recorded = ~estimated
        recorded_revenue, recorded_margin = float(revenue[recorded].sum()), float(margin[recorded].sum())
    ratio = recorded_margin / recorded_revenue if recorded_revenue > 0 else float("nan")
    columns: dict[str, np.ndarray] = {
        "revenue": revenue,
        "product_cost": cost,
        "marketing_cost": marketing,
        "gross_margin": margin,
        "returns": filled(returns),
        "gross_sales": filled(gross_sales),
        "cost_source": pd.Categorical.from_codes(estimated.astype(np.int8), categories=["recorded", "estimated"]),
    }
    recent = np.zeros(revenue.size)
    recent_sum = recent  # summed in place below
    for k in range(1, periods + 1):
        rev_k = filled(_column(history, f"revenue_hist_{k}"))
        cost_k = _column(history, f"product_cost_hist_{k}")
        cost_k = _estimate_missing(cost_k, np.isnan(cost_k), rev_k, settings.margin_rate)
        mkt_k = rev_k * settings.marketing_cost_rate if allocate else filled(_column(history, f"marketing_cost_hist_{k}"))
        margin_k = rev_k - cost_k - mkt_k
        columns |= {
            f"revenue_hist_{k}": rev_k,
            f"product_cost_hist_{k}": cost_k,
            f"marketing_cost_hist_{k}": mkt_k,
            f"gross_margin_hist_{k}": margin_k,
            f"orders_hist_{k}": filled(_column(history, f"orders_hist_{k}")),
        }
        recent_sum += margin_k
    columns["gross_margin_recent"] = recent_sum
    with np.errstate(divide="ignore", invalid="ignore"):
        columns["credit_index"] = np.where(columns["gross_sales"] > 0, 1 - columns["returns"] / columns["gross_sales"], 1.0)
    return HistoricalValue(columns=columns, notes=notes, margin_ratio=ratio)


def _estimate_missing(cost: np.ndarray, missing: np.ndarray, revenue: np.ndarray, margin_rate: float) -> np.ndarray:
    """``cost``, with ``revenue × (1 − margin_rate)`` where it is missing."""
    if not missing.any():
        return cost
    if missing.all():
        return revenue * (1 - margin_rate)
    return np.where(missing, revenue * (1 - margin_rate), cost)


def _require_finite(values: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InvalidDataError(
            f"value history: column {name!r} must be a finite number: {bad.size} row(s) break it, "
            f"for example row {int(bad[0])}"
        )
