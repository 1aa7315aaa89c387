"""The dense period panel built from the sparse one, in memory, after the engine has run.

:func:`cvm.data.summaries.period_panel` with ``dense=True`` lets the engine add a zero row for
every period in which a customer bought nothing. On a million customers that panel has some
12 million rows, and building, sorting and moving it out of the engine takes several times as
long as the sparse panel (about 2 million rows). :func:`densify_panel` takes the executed
sparse panel and writes the zero rows with numpy instead: the same rows, in the same order,
with the same values. ``customer_id`` comes back dictionary-encoded (a pandas ``category``),
one dictionary entry per customer, which keeps twelve million repeated ids cheap to hold and
to group by.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cvm.data.timeunit import TimeUnit
from cvm.errors import InvalidDataError

__all__ = ["densify_panel"]

_COLUMNS = ("customer_id", "period_start", "orders", "revenue", "product_cost", "marketing_cost")
_HINT = "pass the sparse panel of cvm.data.summaries.period_panel(..., dense=False), executed with .to_pyarrow()"


def densify_panel(panel: pa.Table, *, period: TimeUnit | str, observation_end: dt.date | str) -> pa.Table:
    """Every customer's rows from the first period in ``panel`` to the period of ``observation_end``.

    ``panel`` is the executed sparse period panel (``customer_id, period_start, orders,
    revenue, product_cost, marketing_cost``, one row per customer and period with activity) in
    the calendar ``period`` it was built with. Periods missing in between get a row of zeros
    (``product_cost`` stays NULL when the whole column is NULL, as in a log without costs) and
    ``gross_margin`` is recomputed as ``revenue - product_cost - marketing_cost``. Rows come
    sorted by customer, then period; the result equals ``period_panel(..., dense=True)``
    executed, except that ``customer_id`` is dictionary-encoded.

    >>> import pyarrow as pa, datetime as dt
    >>> sparse = pa.table({
    ...     "customer_id": ["a", "a", "b"],
    ...     "period_start": [dt.date(2024, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 3, 1)],
    ...     "orders": [1, 2, 1], "revenue": [15.0, 20.0, 5.0], "product_cost": [6.0, 8.0, 1.0],
    ...     "marketing_cost": [0.0, 0.0, 0.0]})
    >>> dense = densify_panel(sparse, period="month", observation_end="2024-03-31")
    >>> dense.select(["customer_id", "period_start", "orders", "gross_margin"]).to_pandas()
      customer_id period_start  orders  gross_margin
    0           a   2024-01-01       1           9.0
    1           a   2024-02-01       0           0.0
    2           a   2024-03-01       2          12.0
    3           b   2024-03-01       1           4.0
    """
    period = TimeUnit.parse(period)
    end = _as_date(observation_end)
    panel = _checked(panel)
    ids = panel.column("customer_id")
    numbers = _period_numbers(panel.column("period_start"), period)
    end_number = int(period.period_numbers(np.array([(end - dt.date(1970, 1, 1)).days]))[0])
    if numbers.size and int(numbers.max()) > end_number:
        raise InvalidDataError(f"the period panel has rows after the period of the observation end {end}",
                               hint="build the sparse panel with the same observation_end")
    ids, numbers, panel = _sorted(ids, numbers, panel)
    starts = _run_starts(ids, numbers)
    lengths = np.diff(starts, append=numbers.size)
    first = numbers[starts] if starts.size else np.zeros(0, dtype=np.int64)
    periods = end_number - first + 1
    offsets = np.concatenate([[0], np.cumsum(periods)]).astype(np.int64)
    n_rows = int(offsets[-1])
    # where each sparse row lands among the dense rows: its customer's first dense row, plus
    # the periods since the customer's first
    at = numbers + np.repeat(offsets[:-1] - first, lengths)

    customer_of_row = np.repeat(np.arange(starts.size, dtype=np.int32), periods)
    dictionary = ids.take(pa.array(starts)) if starts.size else pa.array([], ids.type)
    customer_id = pa.DictionaryArray.from_arrays(pa.array(customer_of_row, pa.int32()), dictionary)
    # each dense row's period number, less the earliest; its first day read off a short table
    lowest = int(first.min()) if first.size else end_number
    dense_numbers = np.arange(n_rows, dtype=np.int64)
    dense_numbers -= np.repeat(offsets[:-1] - (first - lowest), periods)
    first_days = period.first_days(np.arange(lowest, end_number + 1, dtype=np.int64)).astype(np.int32)
    period_start = first_days[dense_numbers]

    columns = {"customer_id": customer_id, "period_start": pa.array(period_start, pa.int32()).view(pa.date32()),
               "orders": pa.array(_spread(panel.column("orders"), at, n_rows, np.int64))}
    no_cost = len(panel) > 0 and panel.column("product_cost").null_count == len(panel)
    for name in ("revenue", "product_cost", "marketing_cost"):
        if name == "product_cost" and no_cost:
            columns[name] = pa.nulls(n_rows, pa.float64())
        else:
            columns[name] = pa.array(_spread(panel.column(name), at, n_rows, np.float64))
    # the same subtraction as the engine's, row by row; a zero row's margin is 0 - 0 - 0
    margin = pc.subtract(pc.subtract(panel.column("revenue"), panel.column("product_cost")),
                         panel.column("marketing_cost"))
    columns["gross_margin"] = (pa.nulls(n_rows, pa.float64()) if no_cost
                               else pa.array(_spread(margin, at, n_rows, np.float64)))
    return pa.table(columns)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidDataError(f"observation_end must be a date (YYYY-MM-DD), got {value!r}") from None


def _checked(panel: Any) -> pa.Table:
    if not isinstance(panel, pa.Table):
        raise InvalidDataError(f"the period panel must be a pyarrow Table, not {type(panel).__name__}", hint=_HINT)
    missing = [name for name in _COLUMNS if name not in panel.column_names]
    if missing:
        raise InvalidDataError(f"the period panel has no column {', '.join(map(repr, missing))}", hint=_HINT)
    for name in ("customer_id", "period_start", "orders"):
        nulls = panel.column(name).null_count
        if nulls:
            raise InvalidDataError(f"the period panel's column {name!r} has {nulls:,} missing value(s)", hint=_HINT)
    if not pa.types.is_date32(panel.column("period_start").type):
        raise InvalidDataError(f"the period panel's column 'period_start' must be a date, "
                               f"not {panel.column('period_start').type}", hint=_HINT)
    return panel.combine_chunks()


def _period_numbers(starts: pa.ChunkedArray, period: TimeUnit) -> np.ndarray:
    """Each period start's period number, checking that it is the first day of its period."""
    days = starts.combine_chunks().view(pa.int32()).to_numpy().astype(np.int64) if len(starts) else \
        np.zeros(0, dtype=np.int64)
    numbers = period.period_numbers(days)
    wrong = np.flatnonzero(period.first_days(numbers) != days)
    if wrong.size:
        bad = dt.date(1970, 1, 1) + dt.timedelta(days=int(days[wrong[0]]))
        raise InvalidDataError(f"the period panel's period_start {bad} (row {int(wrong[0]) + 1:,}) is not "
                               f"the first day of a {period.value}",
                               hint=f"build the sparse panel with period={period.value!r}")
    return numbers


def _sorted(ids: pa.ChunkedArray, numbers: np.ndarray, panel: pa.Table) -> tuple[Any, np.ndarray, pa.Table]:
    """The panel in customer, then period order (as the engine sorts it, in byte order), sorting
    only when it is not already."""
    ids = ids.combine_chunks()
    n = len(ids)
    if n > 1:
        same = pc.equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
        ascending = pc.less_equal(ids.slice(0, n - 1), ids.slice(1)).to_numpy(zero_copy_only=False)
        in_order = ascending.all() and (numbers[1:][same] > numbers[:-1][same]).all()
        if not in_order:
            order = pc.sort_indices(pa.table({"c": ids, "p": numbers}),
                                    sort_keys=[("c", "ascending"), ("p", "ascending")])
            panel = panel.take(order)
            ids = panel.column("customer_id").combine_chunks()
            numbers = numbers[order.to_numpy()]
    return ids, numbers, panel


def _run_starts(ids: Any, numbers: np.ndarray) -> np.ndarray:
    """First row of each customer; a customer listed twice in one period is an error."""
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    changed = np.ones(n, dtype=bool)
    if n > 1:
        changed[1:] = pc.not_equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    repeated = np.flatnonzero(~changed[1:] & (numbers[1:] == numbers[:-1]))
    if repeated.size:
        row = int(repeated[0]) + 1
        raise InvalidDataError(f"the period panel lists customer {ids[row].as_py()!r} twice in one period "
                               f"(row {row + 1:,})", hint=_HINT)
    return np.flatnonzero(changed)


def _spread(values: pa.ChunkedArray, at: np.ndarray, n_rows: int, dtype: Any) -> np.ndarray:
    """Zeros, with the sparse rows' values placed at their dense rows (a missing value counts 0,
    as the engine's ``fill_null(0)`` does)."""
    out = np.zeros(n_rows, dtype=dtype)
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if array.null_count:
        array = pc.fill_null(array, 0)
    out[at] = array.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return out
