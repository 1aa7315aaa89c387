"""Lifecycle stages: where each customer is in the relationship, at every period end.

Stages (labels ``lifecycle.*`` in English and Chinese):

* **prospect** (潜在期): known (in the customers table) but no purchase yet;
* **exploration** (考察期): the first periods after the first purchase, while the customer
  has made few purchases (``lifecycle.exploration_periods`` periods, or at most
  ``lifecycle.exploration_purchases`` purchase days);
* **formation** (形成期): volume rising: the mean revenue of the last
  ``lifecycle.trend_periods`` periods is at least ``lifecycle.growth_ratio`` times the
  customer's own baseline (the mean over the ``lifecycle.baseline_periods`` periods before);
* **stable** (稳定期): active, with volume neither rising nor falling against the baseline;
* **decline** (衰退期): volume falling: recent mean revenue below ``lifecycle.decline_ratio``
  times the baseline, or no purchase for ``lifecycle.decline_gap_periods`` periods or more,
  or (at the observation end, when the model's probability of being alive is given) P(alive)
  fell by ``risk.min_drop`` or more since one period earlier;
* **churned** (终止期): no purchase for ``lifecycle.churn_gap_periods`` periods or more, or
  (at the observation end) P(alive) below ``lifecycle.churn_p_alive``: beyond what the model
  still considers alive;
* **recovered** (恢复期): buying again after a churned spell or a quiet spell of
  ``lifecycle.quiet_periods`` periods or more; the stage lasts
  ``lifecycle.recovered_periods`` periods (including the one of the return).

The rules are tried in the order churned, recovered, decline by a purchase gap, exploration,
decline by falling volume, formation, stable (an explorer who stops buying is declining; volume
trends are not read during exploration); the first that holds gives the stage, and its key is kept as the **reason** (with the numbers
it used) so every assignment can be explained. Periods are calendar periods of
``forecast.period`` (months by default) and the input is the dense period panel
(:func:`cvm.data.summaries.period_panel` with ``dense=True``): every customer has a row for
every period from their first one to the period of the observation end.

>>> import pandas as pd
>>> panel = pd.DataFrame({"customer_id": ["a"] * 6,
...     "period_start": pd.date_range("2024-01-01", periods=6, freq="MS"),
...     "orders": [1, 1, 1, 1, 0, 0], "revenue": [50.0, 60.0, 55.0, 50.0, 0.0, 0.0]})
>>> stages = lifecycle_stages(panel)
>>> stages.history["stage"].tolist()
['exploration', 'exploration', 'exploration', 'stable', 'stable', 'decline']
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from cvm.errors import InvalidDataError, MissingColumnError
from cvm.labels import label
from cvm.value.settings import Settings

__all__ = ["LifecycleSettings", "Lifecycle", "lifecycle_stages", "STAGES", "transitions", "stage_distribution",
           "early_warning", "WARNING_SIGNS"]

STAGES = ("prospect", "exploration", "formation", "stable", "decline", "churned", "recovered")
"""The stage keys, in lifecycle order (labels ``lifecycle.<key>``)."""


class LifecycleSettings(Settings):
    """Thresholds of the lifecycle rules (see the module docstring)."""

    exploration_periods: int = Field(3, ge=1, le=120, description="Periods after the first purchase that count as exploration.")
    exploration_purchases: int = Field(
        2, ge=1, le=1000, description="A customer with at most this many purchase days is still exploring.")
    baseline_periods: int = Field(
        6, ge=1, le=120, description="Periods before the recent ones whose mean revenue is the customer's own baseline.")
    trend_periods: int = Field(3, ge=1, le=120, description="Recent periods whose mean revenue is compared with the baseline.")
    growth_ratio: float = Field(1.2, gt=1, le=100, description="Recent / baseline revenue at or above which volume is rising (formation).")
    decline_ratio: float = Field(0.5, gt=0, lt=1, description="Recent / baseline revenue below which volume is falling (decline).")
    decline_gap_periods: int = Field(2, ge=1, le=120, description="Periods without a purchase from which a customer is declining.")
    churn_gap_periods: int = Field(6, ge=2, le=240, description="Periods without a purchase from which a customer has churned.")
    churn_p_alive: float = Field(
        0.1, ge=0, le=1, description="At the observation end, P(alive) below this means churned (when P(alive) is given).")
    quiet_periods: int = Field(3, ge=1, le=240, description="A quiet spell of this many periods or more makes a return a recovery.")
    recovered_periods: int = Field(2, ge=1, le=120, description="Periods a returning customer stays in the recovered stage.")

    overdue_factor: float = Field(
        1.5, gt=1, le=100,
        description="Early warning: a repeat customer is overdue when the days since their last purchase exceed this "
        "many times their own mean days between purchases (tenure / (purchases - 1)).")
    falling_ratio: float = Field(
        0.5, gt=0, lt=1,
        description="Early warning: spending is falling when the last history period's revenue is below this share "
        "of the mean of the earlier history periods (which must be above 0).")

    @model_validator(mode="after")
    def _gaps_in_order(self) -> LifecycleSettings:
        if self.decline_gap_periods >= self.churn_gap_periods:
            raise ValueError("decline_gap_periods must be smaller than churn_gap_periods")
        return self


@dataclass
class Lifecycle:
    """Stage of every customer in every period, and the current stage with its reason."""

    history: pd.DataFrame
    """One row per customer and period: ``customer_id, period_start, stage, reason`` (+ labels)."""
    current: pd.DataFrame
    """One row per customer: the stage at the observation end, its reason and labels."""
    periods: list[pd.Timestamp] = field(default_factory=list)


_CHUNK_CELLS = 1 << 18
"""Customers × periods cells computed at once (bounds the working memory of the rules)."""


def _column(panel: Any, name: str) -> Any:
    """``name`` of a pandas DataFrame (a Series) or of a pyarrow Table (a ChunkedArray)."""
    if name not in panel.column_names if isinstance(panel, pa.Table) else name not in panel.columns:
        raise MissingColumnError(
            f"lifecycle: the period panel has no column {name!r}",
            hint="pass cvm.data.summaries.period_panel(..., dense=True)",
        )
    return panel.column(name) if isinstance(panel, pa.Table) else panel[name]


def _numbers(values: Any) -> np.ndarray:
    """A numeric column as float64, anything not a number as 0 (as ``pd.to_numeric(errors="coerce")``)."""
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
            out = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            return out if values.null_count == 0 else np.nan_to_num(out, nan=0.0, posinf=np.inf, neginf=-np.inf)
        values = values.to_pandas()
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.array(out, dtype=np.float64, copy=True) if not out.flags.writeable else out
    np.copyto(out, 0.0, where=np.isnan(out))
    return out


def _runs(values: Any) -> np.ndarray:
    """Start of every run of equal consecutive values."""
    n = len(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        if n > 1:
            if pa.types.is_dictionary(values.type):
                values = values.dictionary_decode() if hasattr(values, "dictionary_decode") else values.cast(
                    values.type.value_type)
            changed = pc.not_equal(values.slice(1), values.slice(0, n - 1)).fill_null(True)
            changed = changed.to_numpy(zero_copy_only=False)
    else:
        if isinstance(values.dtype, pd.CategoricalDtype):
            array = values.cat.codes.to_numpy()
        elif values.dtype.kind in "iufMmb":
            array = values.to_numpy()
        else:
            array = np.asarray(values.to_numpy(dtype=object))
        changed = array[1:] != array[:-1] if n > 1 else np.zeros(0, dtype=bool)
        changed = np.asarray(changed, dtype=bool)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], changed]) if n > 1 else np.ones(1, dtype=bool))


def _customers(ids: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct customer ids as strings, sorted (as ``np.unique(ids.astype(str))``), and each row's index.

    Only the first row of every run of equal ids is hashed and turned into text: a panel
    sorted by customer (as ``period_panel`` gives it) costs one pass over its rows.
    """
    starts = _runs(ids)
    heads = ids.take(pa.array(starts)) if isinstance(ids, pa.ChunkedArray) else ids.iloc[starts]
    heads = heads.to_pandas() if isinstance(heads, pa.ChunkedArray) else heads.reset_index(drop=True)
    missing = int(heads.isna().sum())
    if missing:
        raise InvalidDataError(f"lifecycle: column 'customer_id' has missing values ({missing:,} run(s) of rows)",
                               hint="drop the rows without a customer id")
    if heads.dtype.kind in "iu":  # whole numbers: Arrow writes the same decimal text, faster
        text = pa.array(heads.to_numpy()).cast(pa.large_string())
    else:
        text = pa.array(heads.astype(str).to_numpy(dtype=object), type=pa.large_string())
    order = pc.sort_indices(text).to_numpy()
    ordered = text.take(pa.array(order))
    n = len(ordered)
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = pc.not_equal(ordered.slice(1), ordered.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    rank = np.cumsum(new) - 1
    position = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    position[order] = rank
    customers = ordered.filter(pa.array(new)).to_numpy(zero_copy_only=False).astype(object)
    return customers, np.repeat(position, np.diff(starts, append=len(ids)))


def _small_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of every int64 value among the sorted distinct values, and those values.

    Period starts are few and evenly spaced in some unit (days, or nanoseconds that are whole
    days), so a lookup table over (value - min) / gcd replaces hashing every row.
    """
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), values
    lo = values.min()
    if values.itemsize < 8 and int(values.max()) - int(lo) >= 2**31 - 1:
        values = values.astype(np.int64)
    offset = values - lo
    step = 1
    if int(offset.max()) >= 1 << 24:
        step = int(np.gcd.reduce(offset)) or 1
        offset //= step
    if int(offset.max()) >= 1 << 24:
        codes, distinct = pd.factorize(values, sort=True)
        return codes, np.asarray(distinct, dtype=np.int64)
    seen = np.zeros(int(offset.max()) + 1, dtype=bool)
    seen[offset] = True
    lookup = np.cumsum(seen) - 1
    lookup = lookup.astype(np.int16 if lookup[-1] < 2**15 else np.int64)
    return lookup[offset], np.flatnonzero(seen).astype(np.int64) * step + int(lo)


def _periods(starts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct period starts (as ``np.unique(pd.to_datetime(starts))``) and each row's index."""
    n = len(starts)
    if isinstance(starts, pa.ChunkedArray):
        kind = starts.type
        if (pa.types.is_date(kind) or pa.types.is_timestamp(kind)) and starts.null_count == 0:
            storage = pa.int32() if kind.bit_width == 32 else pa.int64()
            array = starts.combine_chunks() if starts.num_chunks != 1 else starts.chunk(0)
            codes, distinct = _small_codes(array.view(storage).to_numpy())
            raw = pa.array(distinct, pa.int64()).cast(storage).view(kind)
            periods = pd.to_datetime(pd.Series(raw.to_pandas(date_as_object=True))).to_numpy()
            return periods, codes
        starts = starts.to_pandas(date_as_object=True)
    if starts.dtype.kind == "M":
        times = pd.to_datetime(starts).to_numpy()
        if np.isnat(times).any():
            raise InvalidDataError(f"lifecycle: column 'period_start' has missing values "
                                   f"({int(np.isnat(times).sum()):,} rows)")
        codes, distinct = _small_codes(times.view(np.int64))
        return distinct.view(times.dtype), codes
    codes, distinct = pd.factorize(starts, sort=False, use_na_sentinel=True)
    if (codes < 0).any():
        raise InvalidDataError(f"lifecycle: column 'period_start' has missing values "
                               f"({int((codes < 0).sum()):,} rows)",
                               hint="every row of the period panel needs its period start")
    times = pd.to_datetime(pd.Series(np.asarray(distinct, dtype=object) if distinct.dtype == object else distinct))
    periods, inverse = np.unique(times.to_numpy(), return_inverse=True)
    if n == 0:
        return periods, np.zeros(0, dtype=np.int64)
    return periods, inverse.reshape(-1)[codes]


def _running(ufunc: np.ufunc, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``ufunc.accumulate(values, axis=0)`` one whole row at a time (numpy's accumulate down
    axis 0 walks each column separately, which is several times slower on wide blocks). The
    additions happen in the same order, so the sums are identical."""
    out = values.copy() if out is None else out
    for j in range(1, out.shape[0]):
        ufunc(out[j - 1], out[j], out=out[j])
    return out


def _rules(orders: np.ndarray, revenue: np.ndarray, present: np.ndarray, settings: LifecycleSettings) -> dict:
    """The stage rules on a block of periods × customers (one column per customer, each on its own).

    Periods run down the rows so that every step along time (cumulative sums, running maxima,
    the recent and baseline windows) works on whole contiguous rows of customers.
    """
    p, n = orders.shape
    t = np.arange(p, dtype=np.int32)[:, None]
    active = orders > 0
    # the first period of each customer, and their age in periods at every period
    first = np.where(active.any(axis=0), active.argmax(axis=0), p).astype(np.int32)
    age = t - first[None, :]  # 0 in the first period, negative before it
    purchases = _running(np.add, orders)
    # periods since the last purchase (0 in a period with one)
    last_active = _running(np.maximum, np.where(active, t, np.int32(-1)))
    gap = np.where(last_active >= 0, t - last_active, np.int32(10**9))
    # a purchase that ends a quiet spell of at least quiet_periods periods (quiet_periods >= 1)
    previous_last = np.empty_like(last_active)
    previous_last[:1] = -1
    previous_last[1:] = last_active[:-1]
    returned = active & (previous_last >= 0) & (t - previous_last - 1 >= settings.quiet_periods)
    del previous_last, last_active

    # recent and baseline mean revenue from cumulative sums: row j + 1 is the sum to period j
    cumulative = np.zeros((p + 1, n))
    cumulative[1:] = revenue
    _running(np.add, cumulative[1:], out=cumulative[1:])
    k, b = settings.trend_periods, settings.baseline_periods
    recent = np.empty((p, n))
    baseline = np.full((p, n), np.nan)
    for j in range(p):
        end = j + 1
        np.divide(cumulative[end] - cumulative[max(end - k, 0)], min(end, k), out=recent[j])
        base_end = max(end - k, 0)
        base_len = min(base_end, b)
        if base_len > 0:
            np.divide(cumulative[base_end] - cumulative[base_end - base_len], base_len, out=baseline[j])
    del cumulative
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(baseline > 0, recent / baseline, np.nan)

    churned = gap >= settings.churn_gap_periods
    # the periods from a return on (recovered_periods of them)
    return_period = _running(np.maximum, np.where(returned, t, np.int32(-1)))
    recovered = (return_period >= 0) & (t - return_period < settings.recovered_periods) & ~churned
    exploration = (age < settings.exploration_periods) | (purchases <= settings.exploration_purchases)
    quiet = gap >= settings.decline_gap_periods
    falling = ratio < settings.decline_ratio
    formation = ratio >= settings.growth_ratio

    # the first rule that holds: assign from the last rule to the first
    reason = np.full((p, n), len(_RULES), dtype=np.int8)
    for code, holds in reversed(list(enumerate([churned, recovered, quiet, exploration, falling, formation]))):
        np.copyto(reason, np.int8(code), where=holds)
    return {"reason": reason, "valid": present & (age >= 0), "recent": recent, "baseline": baseline, "gap": gap}


def lifecycle_stages(
    panel: pd.DataFrame | pa.Table,
    settings: LifecycleSettings | None = None,
    *,
    p_alive: Any = None,
    p_alive_previous: Any = None,
    min_drop: float = 0.05,
    prospects: Any = None,
) -> Lifecycle:
    """Stage of each customer at the end of every period of the dense ``panel``.

    ``panel`` is a pandas DataFrame or a pyarrow Table; only ``customer_id, period_start,
    orders, revenue`` are read (a Table with just those columns is the leanest input: ten
    million customers over 24 months fit in a few GB). ``p_alive`` and ``p_alive_previous``
    (optional) are Series indexed by customer id with the model's probability of being alive
    at the observation end and one period earlier; they refine the current stage (churned,
    decline). ``prospects`` lists customer ids known without purchases.

    Customer ids are compared as text: ``history.customer_id`` is a categorical of the ids as
    strings (one category per customer, in sorted order) and ``current.customer_id`` the same
    strings. Rows are sorted by customer id (as text), then period.

    >>> import pyarrow as pa
    >>> table = pa.table({"customer_id": [7, 7, 7, 12], "period_start": pa.array(
    ...     [19723, 19754, 19783, 19783], pa.int32()).cast(pa.date32()),
    ...     "orders": [1, 0, 0, 2], "revenue": [40.0, 0.0, 0.0, 90.0]})
    >>> result = lifecycle_stages(table)
    >>> result.current[["customer_id", "lifecycle_stage", "lifecycle_reason"]].values.tolist()
    [['12', 'exploration', 'first_periods_or_few_purchases'], ['7', 'decline', 'no_purchase_for_decline_gap']]
    >>> result.history["stage"].astype(str).tolist()
    ['exploration', 'exploration', 'exploration', 'decline']
    """
    settings = settings or LifecycleSettings()
    if not isinstance(panel, (pd.DataFrame, pa.Table)):
        raise InvalidDataError(f"lifecycle: the period panel must be a pandas DataFrame or a pyarrow Table, "
                               f"not {type(panel).__name__}")
    columns = {name: _column(panel, name) for name in ("customer_id", "period_start", "orders", "revenue")}
    customers, rows = _customers(columns["customer_id"])
    periods, cols = _periods(columns["period_start"])
    shape = (customers.size, periods.size)
    flat = rows.astype(np.int64) * shape[1] + cols
    del rows, cols
    orders = np.zeros(shape)
    orders.reshape(-1)[flat] = _numbers(columns["orders"])
    if np.any(orders < 0):
        raise InvalidDataError("lifecycle: column 'orders' must be >= 0")
    revenue = np.zeros(shape)
    revenue.reshape(-1)[flat] = _numbers(columns["revenue"])
    present = np.zeros(shape, dtype=bool)
    present.reshape(-1)[flat] = True
    n_cells = int(np.count_nonzero(present))
    del flat

    # the rules, a block of customers at a time (turned to periods × customers for _rules); the
    # history's columns (customer by customer, period by period) are filled as they come
    stage_of = np.array([STAGES.index(k) for k in (*_RULES, "stable")], dtype=np.int8)
    out = {"reason": np.empty(n_cells, dtype=np.int8), "recent": np.empty(n_cells),
           "baseline": np.empty(n_cells), "gap": np.empty(n_cells, dtype=np.int64),
           "customer": np.empty(n_cells, dtype=np.int32 if shape[0] < 2**31 else np.int64),
           "period": np.empty(n_cells, dtype=np.int16 if shape[1] < 2**15 else np.int32)}
    current_reason = np.full(shape[0], len(_RULES), dtype=np.int8)
    step = max(1, _CHUNK_CELLS // max(shape[1], 1))

    def rules_on(lo: int) -> tuple[int, dict]:
        hi = min(lo + step, shape[0])
        block = _rules(np.ascontiguousarray(orders[lo:hi].T), np.ascontiguousarray(revenue[lo:hi].T),
                       np.ascontiguousarray(present[lo:hi].T), settings)
        # the valid cells customer by customer, read straight from the periods × customers block
        customer, period = np.nonzero(block["valid"].T)
        index = period * (hi - lo) + customer
        cells = {key: np.take(block[key].reshape(-1), index) for key in ("reason", "recent", "baseline", "gap")}
        cells["customer"], cells["period"] = customer + lo, period
        return hi, {"last": block["reason"][-1], **cells}

    # blocks on two threads (numpy lets go of the GIL in the array work); results kept in order
    filled = 0
    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        pending: deque = deque()
        starts = iter(range(0, shape[0] if shape[1] else 0, step))
        for lo in starts:
            pending.append((lo, pool.submit(rules_on, lo)))
            if len(pending) < 4:
                continue
            filled = _place(pending.popleft(), out, current_reason, filled)
        while pending:
            filled = _place(pending.popleft(), out, current_reason, filled)
    del orders, revenue, present
    if filled < n_cells:
        out = {key: value[:filled].copy() for key, value in out.items()}

    # the current stage (last period) refined by the model's P(alive)
    current_code = stage_of[current_reason]
    reasons = np.array([*REASONS, "p_alive_low", "p_alive_falling"], dtype=object)
    if p_alive is not None:
        alive = _aligned(p_alive, customers)
        dead = alive < settings.churn_p_alive
        current_reason = np.where(dead & (current_code != STAGES.index("churned")), len(REASONS), current_reason)
        current_code = np.where(dead, STAGES.index("churned"), current_code)
        if p_alive_previous is not None:
            before = _aligned(p_alive_previous, customers)
            falling = (before - alive >= min_drop) & np.isin(
                current_code, [STAGES.index("stable"), STAGES.index("formation")])
            current_reason = np.where(falling, len(REASONS) + 1, current_reason)
            current_code = np.where(falling, STAGES.index("decline"), current_code)

    customer = out.pop("customer")
    ids = pd.Categorical.from_codes(customer, categories=pd.Index(customers, dtype=object))
    del customer
    stage_codes = stage_of[out["reason"]]
    history = pd.DataFrame({
        "customer_id": ids,
        "period_start": periods[out.pop("period")],
        "stage": pd.Categorical.from_codes(stage_codes, categories=list(STAGES)),
        "reason": pd.Categorical.from_codes(out.pop("reason"), categories=list(REASONS)),
        "recent_revenue": out.pop("recent"),
        "baseline_revenue": out.pop("baseline"),
        "periods_since_purchase": out.pop("gap"),
    }, copy=False)
    current = pd.DataFrame({
        "customer_id": customers,
        "lifecycle_stage": pd.Categorical.from_codes(current_code, categories=list(STAGES)),
        "lifecycle_reason": reasons[current_reason],
    })
    if prospects is not None:
        known = pd.Index(pd.Series(prospects, dtype=str)).difference(pd.Index(customers))
        if len(known):
            current = pd.concat([current, pd.DataFrame({
                "customer_id": known.to_numpy(),
                "lifecycle_stage": pd.Categorical(["prospect"] * len(known), categories=list(STAGES)),
                "lifecycle_reason": "no_purchase_yet",
            })], ignore_index=True)
    for frame, column in ((history, "stage"), (current, "lifecycle_stage")):
        for lang in ("en", "zh"):
            names = [label(f"lifecycle.{key}", lang) for key in STAGES]
            frame[f"{column}_{lang}"] = pd.Categorical.from_codes(frame[column].cat.codes, categories=names)
    return Lifecycle(history=history, current=current, periods=[pd.Timestamp(p) for p in periods])


def _place(job: tuple, out: dict, current_reason: np.ndarray, filled: int) -> int:
    """Copy one block's cells into the history's columns, after those of the blocks before it."""
    lo, future = job
    hi, cells = future.result()
    current_reason[lo:hi] = cells.pop("last")
    taken = cells["reason"].size
    part = slice(filled, filled + taken)
    gap = cells.pop("gap")
    out["gap"][part] = np.where(gap >= 10**9, -1, gap)
    for key, values in cells.items():
        out[key][part] = values
    return filled + taken


def _aligned(values: Any, customers: np.ndarray) -> np.ndarray:
    """``values`` (a Series indexed by customer id) in the order of ``customers``, NaN where absent."""
    series = pd.Series(values)
    if len(series) == len(customers) and series.index.equals(pd.Index(customers, dtype=object)):
        return series.to_numpy(dtype=float, na_value=np.nan)
    return series.reindex(customers.astype(object)).to_numpy(dtype=float, na_value=np.nan)


_RULES = ("churned", "recovered", "decline", "exploration", "decline", "formation")
"""The stage each rule gives, in the order they are tried (``stable`` when none holds)."""

REASONS = ("no_purchase_for_churn_gap", "returned_after_quiet_spell", "no_purchase_for_decline_gap",
           "first_periods_or_few_purchases", "volume_falling", "volume_rising", "steady_volume")
"""Why a stage was given, in the order of the rules (plus ``p_alive_low``, ``p_alive_falling``
and ``no_purchase_yet`` for the current stage)."""


def transitions(history: pd.DataFrame) -> pd.DataFrame:
    """Counts of customers moving from one stage to another between consecutive periods.

    One row per (period_start, from_stage, to_stage); a customer's first period counts as a
    move from ``None`` (new). The counts into each period sum to that period's customers.

    >>> h = pd.DataFrame({"customer_id": ["a", "a", "b"], "period_start": pd.to_datetime(
    ...     ["2024-01-01", "2024-02-01", "2024-02-01"]), "stage": ["exploration", "stable", "exploration"]})
    >>> transitions(h)[["period_start", "from_stage", "to_stage", "customers"]].values.tolist()[-1][1:]
    ['exploration', 'stable', 1]
    """
    for column in ("customer_id", "period_start", "stage"):
        if column not in history.columns:
            raise MissingColumnError(f"transitions: the history has no column {column!r}")
    customer, _ = _codes(history["customer_id"], sort=True)
    period, periods = _codes(history["period_start"], sort=True)
    stage, names = _codes(history["stage"], sort=False)
    # by customer, then period (a missing period last, as sort_values puts NaT)
    period = np.where(period < 0, len(periods), period) if (period < 0).any() else period
    if customer.size > 1:
        step = customer[1:].astype(np.int64) - customer[:-1]
        in_order = bool(np.all((step > 0) | ((step == 0) & (period[1:] > period[:-1]))))
        del step
        if not in_order:
            order = np.lexsort((period, customer))
            customer, period, stage = customer[order], period[order], stage[order]
            del order
    new = len(names)
    width = new + 1
    before = np.full(stage.size, new, dtype=np.int64)
    if stage.size > 1:
        same = customer[1:] == customer[:-1]
        before[1:] = np.where(same & (stage[:-1] >= 0), stage[:-1], new)
        del same
    combo = (period.astype(np.int64) * width + before) * max(new, 1) + stage
    del before
    combo = combo[(period < len(periods)) & (stage >= 0)] if (stage < 0).any() or (period >= len(periods)).any() \
        else combo
    counts = np.bincount(combo, minlength=len(periods) * width * new) if new else np.zeros(0, dtype=np.int64)
    found = np.flatnonzero(counts)
    labels = np.array([*names, "(new)"], dtype=object)
    frame = pd.DataFrame({
        "period_start": periods[found // (width * new)] if new else periods[:0],
        "from_stage": labels[found // new % width] if new else labels[:0],
        "to_stage": labels[found % new] if new else labels[:0],
        "customers": counts[found].astype(np.int64),
    })
    return frame.sort_values(["period_start", "from_stage", "to_stage"], kind="stable").reset_index(drop=True)


def _codes(values: pd.Series, *, sort: bool) -> tuple[np.ndarray, Any]:
    """Integer codes of a column (−1 where missing) and the distinct values they index.

    A categorical keeps its own codes (its category order is the order ``sort_values`` uses);
    dates go through a lookup table (they are few); stages come back as text, since
    ``transitions`` reports them as text.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        codes = values.cat.codes.to_numpy()
        return codes, categories if sort else categories.to_numpy(dtype=object)
    if values.dtype.kind == "M" and sort:
        times = values.to_numpy()
        missing = np.isnat(times)
        if not missing.any():
            codes, distinct = _small_codes(times.view(np.int64))
            return codes, distinct.view(times.dtype)
    codes, distinct = pd.factorize(values, sort=sort)
    return codes, distinct if sort else np.asarray(distinct, dtype=object)


def stage_distribution(history: pd.DataFrame) -> pd.DataFrame:
    """Customers per stage in every period (a period × stage table; rows sum to the period's customers).

    >>> h = pd.DataFrame({"customer_id": ["a", "b"], "period_start": pd.to_datetime(["2024-01-01"] * 2),
    ...                   "stage": pd.Categorical(["stable", "decline"], categories=list(STAGES))})
    >>> stage_distribution(h).loc[pd.Timestamp("2024-01-01"), ["stable", "decline"]].tolist()
    [1, 1]
    """
    for column in ("period_start", "stage"):
        if column not in history.columns:
            raise MissingColumnError(f"stage distribution: the history has no column {column!r}")
    stage = history["stage"]
    # the columns' name is the one pd.crosstab gave: the column's for a categorical, else col_0
    name = "stage" if isinstance(stage.dtype, pd.CategoricalDtype) else "col_0"
    if not (isinstance(stage.dtype, pd.CategoricalDtype) and list(stage.cat.categories) == list(STAGES)):
        stage = pd.Series(pd.Categorical(stage, categories=list(STAGES)), index=history.index, name="stage")
    codes = stage.cat.codes.to_numpy()
    period, periods = _codes(history["period_start"], sort=True)
    width = len(STAGES)
    cell = period.astype(np.int64) * width + codes
    if (period < 0).any() or (codes < 0).any():
        cell = cell[(period >= 0) & (codes >= 0)]
    counts = np.bincount(cell, minlength=len(periods) * width)
    counts = counts.reshape(len(periods), width)
    seen = counts.sum(axis=1) > 0
    index = pd.Index(periods[seen], name="period_start")
    return pd.DataFrame(counts[seen], index=index, columns=pd.Index(list(STAGES), name=name))


WARNING_SIGNS = ("overdue", "volume_falling", "p_alive_falling", "complaints_rising")
"""Early-warning signs, in the order they are listed (labels ``warning.<key>``)."""


def early_warning(
    table: pd.DataFrame,
    settings: LifecycleSettings | None = None,
    *,
    min_drop: float = 0.05,
    periods: int | None = None,
    surveys: pd.DataFrame | None = None,
    recent_since: Any = None,
) -> pd.DataFrame:
    """Customers showing warning signs of decline, ranked by the margin at stake.

    ``table`` is the customer value table (:func:`cvm.value.table.customer_value`). The signs:

    * ``overdue``: a repeat customer whose days since the last purchase exceed
      ``overdue_factor`` times their own mean days between purchases;
    * ``volume_falling``: the last history period's revenue below ``falling_ratio`` times the
      mean of the earlier history periods;
    * ``p_alive_falling``: P(alive) fell by ``min_drop`` or more since one period earlier;
    * ``complaints_rising`` (with ``surveys`` and ``recent_since``): more complaints since
      ``recent_since`` than in any equally long stretch before, on average.

    Churned customers and prospects are left out (they are past warning). The margin at
    stake is what the customer would bring if still alive times the chance they are gone
    (CLV / P(alive) × (1 − P(alive))); the list is sorted by it, largest first, with the
    signs that fired in English and Chinese.

    >>> t = pd.DataFrame({"customer_id": ["a", "b"], "n_purchases": [5, 5], "tenure_days": [400, 400],
    ...     "days_since_last_purchase": [300, 10], "p_alive": [0.4, 0.9], "p_alive_previous": [0.7, 0.9],
    ...     "clv": [40.0, 90.0], "revenue_hist_1": [50.0, 50.0], "revenue_hist_2": [0.0, 60.0]})
    >>> warned = early_warning(t)
    >>> warned[["customer_id", "signs", "n_signs"]].values.tolist()
    [['a', 'overdue, volume_falling, p_alive_falling', 3]]
    """
    settings = settings or LifecycleSettings()
    for column in ("customer_id", "n_purchases", "tenure_days", "days_since_last_purchase", "p_alive", "clv"):
        if column not in table.columns:
            raise MissingColumnError(f"early warning: the customer value table has no column {column!r}")
    n = len(table)
    purchases = table["n_purchases"].to_numpy(dtype=float)
    tenure = table["tenure_days"].to_numpy(dtype=float, na_value=np.nan)
    since = table["days_since_last_purchase"].to_numpy(dtype=float, na_value=np.nan)
    p = table["p_alive"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        usual = np.where(purchases >= 2, tenure / (purchases - 1), np.nan)
        signs = {"overdue": since > settings.overdue_factor * usual}
    history = sorted((int(c.rsplit("_", 1)[1]) for c in table.columns if c.startswith("revenue_hist_")))
    if periods is not None:
        history = [k for k in history if k <= periods]
    if len(history) >= 2:
        last = table[f"revenue_hist_{history[-1]}"].to_numpy(dtype=float)
        earlier = np.mean([table[f"revenue_hist_{k}"].to_numpy(dtype=float) for k in history[:-1]], axis=0)
        signs["volume_falling"] = (earlier > 0) & (last < settings.falling_ratio * earlier)
    else:
        signs["volume_falling"] = np.zeros(n, dtype=bool)
    if "p_alive_previous" in table.columns:
        before = table["p_alive_previous"].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            signs["p_alive_falling"] = before - p >= min_drop
    else:
        signs["p_alive_falling"] = np.zeros(n, dtype=bool)
    signs["complaints_rising"] = _complaints_rising(table["customer_id"], surveys, recent_since)
    fired = np.stack([np.asarray(signs[k], dtype=bool) for k in WARNING_SIGNS], axis=1)
    eligible = purchases > 0
    if "lifecycle_stage" in table.columns:
        eligible &= ~table["lifecycle_stage"].astype(str).isin(["churned", "prospect"]).to_numpy()
    warned = eligible & fired.any(axis=1)
    rows = np.flatnonzero(warned)
    clv = table["clv"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_stake = np.where(p > 0, clv / p * (1 - p), 0.0)
    # the signs that fired, as text: one string per combination of signs, not per customer
    pattern = fired[rows].astype(np.int64) @ (1 << np.arange(len(WARNING_SIGNS)))
    combos = [[key for bit, key in enumerate(WARNING_SIGNS) if code >> bit & 1]
              for code in range(1 << len(WARNING_SIGNS))]
    listed = np.array([", ".join(keys) for keys in combos], dtype=object)
    listed_en = np.array(["; ".join(label(f"warning.{k}", "en") for k in keys) for keys in combos], dtype=object)
    listed_zh = np.array(["；".join(label(f"warning.{k}", "zh") for k in keys) for keys in combos], dtype=object)
    out = pd.DataFrame({
        "customer_id": table["customer_id"].to_numpy()[rows],
        "margin_at_stake": at_stake[rows],
        "n_signs": fired[rows].sum(axis=1),
        "signs": listed[pattern],
        "signs_en": listed_en[pattern],
        "signs_zh": listed_zh[pattern],
    })
    for column in ("value_matrix", "lifecycle_stage", "p_alive", "clv", "value_at_risk"):
        if column in table.columns:
            out[column] = table[column].to_numpy()[rows]
    return out.sort_values(["margin_at_stake", "n_signs"], ascending=False, kind="stable").reset_index(drop=True)


def _complaints_rising(customer_id: pd.Series, surveys: pd.DataFrame | None, recent_since: Any) -> np.ndarray:
    """More complaints since ``recent_since`` than before it, per day of each stretch."""
    n = len(customer_id)
    if surveys is None or recent_since is None or surveys.empty:
        return np.zeros(n, dtype=bool)
    for column in ("customer_id", "date", "complaint"):
        if column not in surveys.columns:
            raise MissingColumnError(f"early warning: the surveys table has no column {column!r}")
    complaints = surveys[surveys["complaint"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    dates = pd.to_datetime(complaints["date"])
    start = pd.Timestamp(recent_since)
    first = pd.to_datetime(surveys["date"]).min()
    recent_days = max((pd.to_datetime(surveys["date"]).max() - start).days + 1, 1)
    earlier_days = max((start - first).days, 1)
    ids = customer_id.astype(str)
    recent = complaints.loc[(dates >= start).to_numpy(), "customer_id"].astype(str).value_counts()
    earlier = complaints.loc[(dates < start).to_numpy(), "customer_id"].astype(str).value_counts()
    recent_rate = ids.map(recent).fillna(0).to_numpy(dtype=float) / recent_days
    earlier_rate = ids.map(earlier).fillna(0).to_numpy(dtype=float) / earlier_days
    return recent_rate > earlier_rate

