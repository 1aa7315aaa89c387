"""Per-customer and per-period summaries of a transaction log, written once as Ibis expressions.

Every function here takes a canonical `transactions` table (columns `customer_id`, `date`,
`amount`, optionally `order_id` and `product_cost`) and returns an **unexecuted** Ibis
expression on the same backend, so one definition runs unchanged on DuckDB, PostgreSQL and
Spark. Only purchases dated on or before the observation end count; later rows are ignored.

Counting conventions (as in BTYD, CLVTools and lifetimes):

* A *purchase* is a **purchase day**: all rows of one customer on one date are summed into one
  purchase. With `count_by="order"` a purchase is a distinct `order_id` instead (rows without an
  order id count as one order per customer and day); an order's date is its earliest row.
* Durations are whole days divided by the exact length of the time unit
  (`TimeUnit.days`: week = 7, month = 365.2425 / 12 days …). Day numbers are integers, so the
  results are exact and the same on every engine.
* Calendar periods start at `TimeUnit.truncate`: the Monday of an ISO week, the 1st of a month,
  quarter or year.

## BTYD summary: `btyd_summary`, `calibration_holdout`

| column | type | meaning | 说明 |
|---|---|---|---|
| `customer_id` | string | the customer | 客户编号 |
| `frequency` | int64 | repeat purchases: purchases up to the end minus 1 (the first purchase is not counted) | 重复购买次数（首次购买不计） |
| `recency` | float64 | time from the first to the last purchase, in units | 首次到最后一次购买的时长（单位数） |
| `T` | float64 | time from the first purchase to the observation end, in units (the customer's age) | 首次购买到观察期末的时长（客户年龄） |
| `monetary_value` | float64 | mean spend of the repeat purchases (first purchase excluded); 0 when `frequency` is 0 | 重复购买的平均金额（不含首次购买）；无重复购买时为 0 |
| `frequency_holdout` | int64 | purchases in the holdout period (calibration end, holdout end] | 验证期内的购买次数 |
| `revenue_holdout` | float64 | total spend in the holdout period | 验证期内的总金额 |
| `monetary_value_holdout` | float64 | mean spend per holdout purchase; 0 when there is none | 验证期内每次购买的平均金额；无购买时为 0 |
| `duration_holdout` | float64 | length of the holdout period, in units | 验证期长度（单位数） |

A customer is in the summary when the first purchase is on or before the observation
(calibration) end. Rows are sorted by `customer_id` unless `sort=False`.

## Period panel: `period_panel`

| column | type | meaning | 说明 |
|---|---|---|---|
| `customer_id` | string | the customer | 客户编号 |
| `period_start` | date | first day of the calendar period | 期间首日 |
| `orders` | int64 | purchases in the period: purchase days, or distinct orders with `count_by="order"` | 期内购买次数（按购买日，或按订单） |
| `revenue` | float64 | total amount in the period | 期内收入 |
| `product_cost` | float64 | total product cost in the period (rows without one add 0); NULL when the log has no `product_cost` column | 期内商品成本；无成本列时为空 |
| `marketing_cost` | float64 | relationship-marketing cost in the period; 0 without a `marketing_costs` table | 期内营销成本；未提供时为 0 |
| `gross_margin` | float64 | `revenue - product_cost - marketing_cost`; NULL when product cost is unknown | 毛利；成本未知时为空 |

A row exists for each customer and period with a purchase or a marketing cost; `dense=True`
adds zero rows for every period from the customer's first row to the period of the
observation end. Marketing costs dated after the observation end are ignored.
Segment-level marketing costs (`customer_id` blank, `segment` set) are shared equally among
the customers of that segment in the `customers` table; without a `customers` table they are
ignored, with a warning. Rows with neither a customer nor a segment are ignored.

## RFM scoring input: `rfm_scores`

| column | type | meaning | 说明 |
|---|---|---|---|
| `customer_id` | string | the customer | 客户编号 |
| `days_since_last_purchase` | int64 | days from the last purchase to the observation end | 距最近一次购买的天数 |
| `n_purchases` | int64 | purchase days up to the observation end (the first one included) | 购买天数（含首次） |
| `total_spend` | float64 | total amount up to the observation end | 累计消费金额 |
| `recency_score` | int64 | 1-5 quintile of recency; the most recent customers get 5 | 最近度得分（1-5，越近越高） |
| `frequency_score` | int64 | 1-5 quintile of `n_purchases` | 频率得分（1-5） |
| `monetary_score` | int64 | 1-5 quintile of `total_spend` | 金额得分（1-5） |
| `rfm_score` | int64 | the three scores as one number, e.g. 545 | 三项得分组合，如 545 |

Quintiles are SQL `NTILE(5)` over a total order: the value, then `customer_id` (so ties are
broken deterministically; where the customers are not all in one quintile the first groups
get the extra customer). String order is the engine's collation: byte order on DuckDB and
Spark, the database collation on PostgreSQL (use a `C` collation for identical results).

## Value history: `value_history`, `value_history_periods`

One row per customer with a purchase on or before the observation end (the same customers
as `btyd_summary`): what the customer has been worth so far, then the last few calendar
periods side by side, so that a customer's trajectory reads along one row.

| column | type | meaning | 说明 |
|---|---|---|---|
| `customer_id` | string | the customer | 客户编号 |
| `first_purchase` | date | day of the first purchase | 首次购买日期 |
| `last_purchase` | date | day of the last purchase up to the end | 最近一次购买日期 |
| `n_purchases` | int64 | purchase days up to the end (the first one included) | 购买天数（含首次） |
| `tenure_days` | int64 | days from the first purchase to the observation end | 首次购买至观察期末的天数 |
| `days_since_last_purchase` | int64 | days from the last purchase to the observation end | 距最近一次购买的天数 |
| `revenue` | float64 | net amount up to the end: `gross_sales - returns` | 累计净收入（销售额减退货额） |
| `returns` | float64 | returned amount: the sum of `-amount` over rows with a negative amount; 0 when there is none | 退货额（负金额行取反之和）；无退货时为 0 |
| `gross_sales` | float64 | sum of the positive amounts | 销售额（正金额之和） |
| `product_cost` | float64 | total product cost (rows without one add 0); NULL when the log has no `product_cost` column | 累计商品成本；无成本列时为空 |
| `marketing_cost` | float64 | relationship-marketing cost dated on or before the end, allocated as in `period_panel`; 0 without a `marketing_costs` table | 累计营销成本（分摊同期间面板）；未提供时为 0 |
| `gross_margin` | float64 | `revenue - product_cost - marketing_cost`; NULL when product cost is unknown | 累计毛利；成本未知时为空 |
| `revenue_hist_k` | float64 | revenue (net amount) in history period k | 第 k 期收入 |
| `product_cost_hist_k` | float64 | product cost in history period k; NULL when the log has no `product_cost` column | 第 k 期商品成本；无成本列时为空 |
| `marketing_cost_hist_k` | float64 | marketing cost in history period k | 第 k 期营销成本 |
| `gross_margin_hist_k` | float64 | `revenue_hist_k - product_cost_hist_k - marketing_cost_hist_k`; NULL when product cost is unknown | 第 k 期毛利；成本未知时为空 |
| `orders_hist_k` | int64 | purchase days in history period k | 第 k 期购买天数 |
| `n_purchases_previous` | int64 | purchase days up to the day before period K starts (one period earlier); 0 when none | 上一期末（第 K 期开始前一日）的购买天数 |
| `recency_days_previous` | int64 | days from the first to the last purchase up to that day; NULL when none | 上一期末的首末次购买间隔天数；无购买时为空 |
| `tenure_days_previous` | int64 | days from the first purchase to that day; NULL when none | 上一期末的客户关系天数；无购买时为空 |

The history periods are the last `periods` calendar periods (default 3; 1 to 120) of the
`period` unit (`month`, the default, `quarter` or `year`), numbered k = 1 … K oldest first:
period K is the one that contains the observation end (partial when the end is not its last
day), period K - 1 the one before, and so on. The five columns of period 1 come first, then
those of period 2, …. A period in which nothing happened shows 0 (product cost and margin stay
NULL when product cost is unknown), including periods before the customer's first purchase.
`value_history_periods` lists the first and last day of each history period, oldest first
(the last day of period K is the observation end), to label the columns. The three
`*_previous` columns give the customer's BTYD state one period earlier (as of the day before
period K starts), from which a model tells whether the probability of being alive is falling.

Every row dated on or before the end counts, in its purchase day: a day with only a return
row is a purchase day too (as in `btyd_summary` and `rfm_scores`), and a zero amount is
neither a sale nor a return. Marketing costs follow the rules of `period_panel` (per-customer
rows; segment rows shared equally among the segment's customers in `customers`; rows after
the end ignored); a customer with marketing cost but no purchase up to the end is **not** in
the value history (`period_panel` shows such costs). Rows are sorted by `customer_id` unless
`sort=False`.

## Cohort table: `cohort_table`

| column | type | meaning | 说明 |
|---|---|---|---|
| `cohort` | date | start of the period of acquisition: the first purchase, or `customers.acquisition_date` when given | 获客所在期间 |
| `period_start` | date | first day of the calendar period of activity | 活跃期间首日 |
| `period_index` | int64 | calendar periods since the cohort period (0 = the acquisition period) | 距获客期的期数 |
| `active_customers` | int64 | customers of the cohort who bought in the period | 期内有购买的客户数 |
| `orders` | int64 | purchases (purchase days, or orders with `count_by="order"`) | 期内购买次数 |
| `revenue` | float64 | total amount | 期内收入 |
| `gross_margin` | float64 | `revenue - product_cost`; NULL when the log has no `product_cost` column | 毛利；无成本列时为空 |

A customer whose recorded acquisition date is later than a purchase shows that purchase at a
negative `period_index`.

>>> import ibis
>>> log = ibis.memtable({
...     "customer_id": ["a", "a", "a", "b"],
...     "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
...     "amount": [10.0, 5.0, 20.0, 7.0],
... }).mutate(date=ibis._.date.cast("date"))
>>> btyd_summary(log, observation_end="2024-01-29").to_pyarrow().to_pylist()
... # doctest: +NORMALIZE_WHITESPACE
[{'customer_id': 'a', 'frequency': 1, 'recency': 2.0, 'T': 4.0, 'monetary_value': 20.0},
 {'customer_id': 'b', 'frequency': 0, 'recency': 0.0, 'T': 3.0, 'monetary_value': 0.0}]
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable
from numbers import Integral
from typing import Any

import ibis
import ibis.expr.types as ir

from cvm.data.timeunit import TimeUnit
from cvm.errors import ConfigError, MissingColumnError

__all__ = [
    "btyd_summary",
    "calibration_holdout",
    "cohort_table",
    "period_panel",
    "rfm_scores",
    "value_history",
    "value_history_periods",
]

_EPOCH = dt.date(1970, 1, 1)
_EPOCH_MONDAY = dt.date(1969, 12, 29)  # the Monday that starts the ISO week of 1970-01-01
_COUNT_BY = ("day", "order")
NO_ORDER_PREFIX = "#day:"
"""With ``count_by="order"``, rows without an order id form the order ``#day:YYYY-MM-DD``."""


# --------------------------------------------------------------------------------------------
# argument checks


def _as_date(value: Any, name: str) -> dt.date:
    """A ``datetime.date`` from a date, a datetime or an ISO string; ConfigError otherwise."""
    if isinstance(value, dt.datetime):  # also pandas.Timestamp
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ConfigError(
        f"{name} must be a date or an ISO date string such as '2024-12-31', got {value!r}",
        hint=f"pass {name}=datetime.date(2024, 12, 31) or {name}='2024-12-31'",
    )


def _table(value: Any, name: str, required: Iterable[str]) -> ir.Table:
    """Check that ``value`` is an Ibis table with the ``required`` columns."""
    if not isinstance(value, ir.Table):
        raise ConfigError(
            f"{name} must be an Ibis table, got {type(value).__name__}",
            hint="load the data with cvm.data.ingest, or wrap a DataFrame with ibis.memtable(df)",
        )
    missing = [c for c in required if c not in value.columns]
    if missing:
        raise MissingColumnError(
            f"{name} has no column {', '.join(repr(c) for c in missing)} "
            f"(it has: {', '.join(value.columns)})",
            hint=f"map your columns onto the canonical {name} columns when ingesting "
            "(see docs/data-model.md)",
        )
    return value


def _check_types(t: ir.Table, name: str, *, date_cols: Iterable[str] = (),
                 numeric_cols: Iterable[str] = ()) -> None:
    for col in date_cols:
        typ = t[col].type()
        if not (typ.is_date() or typ.is_timestamp()):
            raise ConfigError(
                f"{name}.{col} must be a date or timestamp column, it is {typ}",
                hint="parse dates while ingesting (cvm.data.ingest) before summarising",
            )
    for col in numeric_cols:
        typ = t[col].type()
        if not typ.is_numeric():
            raise ConfigError(
                f"{name}.{col} must be numeric, it is {typ}",
                hint="parse amounts while ingesting (cvm.data.ingest) before summarising",
            )


def _transactions(value: Any, count_by: str = "day") -> ir.Table:
    t = _table(value, "transactions", ("customer_id", "date", "amount"))
    numeric = ["amount"] + (["product_cost"] if "product_cost" in t.columns else [])
    _check_types(t, "transactions", date_cols=["date"], numeric_cols=numeric)
    if count_by not in _COUNT_BY:
        raise ConfigError(
            f"count_by must be 'day' or 'order', got {count_by!r}",
            hint="'day' counts purchase days (the BTYD convention); 'order' counts order ids",
        )
    if count_by == "order" and "order_id" not in t.columns:
        raise MissingColumnError(
            "count_by='order' needs an order_id column, and transactions has none "
            f"(it has: {', '.join(t.columns)})",
            hint="map an order id column when ingesting, or use count_by='day'",
        )
    if t.date.type().is_timestamp():
        t = t.mutate(date=t.date.date())
    return t


def _unit(value: Any, name: str) -> TimeUnit:
    if not isinstance(value, (TimeUnit, str)):
        raise ConfigError(f"{name} must be a time unit name or TimeUnit, got {value!r}",
                          hint="use one of: day, week, month, quarter, year")
    return TimeUnit.parse(value)


def _period(value: Any) -> TimeUnit:
    return _unit(value, "period")


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# building blocks


def _day_number(date: ir.DateValue) -> ir.IntegerValue:
    """Whole days since 1970-01-01: exact and time-zone free on every engine."""
    return date.delta(ibis.date(_EPOCH), unit="day").cast("int64")


def _days_since_epoch(date: dt.date) -> int:
    return (date - _EPOCH).days


def _order_key(t: ir.Table) -> ir.StringValue:
    """The order a row belongs to; rows without an order id form one order per customer-day."""
    return t.order_id.cast("string").fill_null(
        ibis.literal(NO_ORDER_PREFIX).concat(t.date.cast("string"))
    )


def _ranked_days(t: ir.Table) -> ir.Table:
    """The rows of ``t`` with ``_day``: the customer's purchase day number, 0 for the first
    purchase day, 1 for the next day with a purchase, … (a dense rank of ``date``).

    This is how ``count_by="day"`` counts purchase days without first aggregating to one row
    per customer and day: a customer's purchase days up to any date are ``max(_day) + 1`` over
    the rows up to that date, and the first day's spend is the sum over ``_day == 0``. One
    window (a sort by customer and date) plus one per-customer aggregation costs far less than
    two hash aggregations, the first of which has a group for nearly every row.
    """
    return t.mutate(_day=ibis.dense_rank().over(group_by="customer_id", order_by="date"))


def _order_days(t: ir.Table) -> ir.Table:
    """For ``count_by="order"``: one row per customer and purchase day with ``date``,
    ``spend``, ``n`` (orders that day) and ``first_spend`` (spend of the day's first order,
    ties broken by the smaller order id)."""
    orders = t.mutate(order_key=_order_key(t)).group_by(["customer_id", "order_key"]).aggregate(
        date=ibis._.date.min(), spend=ibis._.amount.sum()
    )
    return orders.group_by(["customer_id", "date"]).aggregate(
        spend=orders.spend.sum(),
        n=orders.order_key.count(),
        first_spend=orders.spend.argmin(orders.order_key),
    )


def _zero() -> ir.FloatingValue:
    """A float64 zero; a bare ``0.0`` literal is NUMERIC on PostgreSQL."""
    return ibis.literal(0).cast("float64")


def _mean_or_zero(total: ir.FloatingValue, count: ir.IntegerValue) -> ir.FloatingValue:
    """``total / count``, or 0 when ``count`` is 0 (never divides by zero on any engine)."""
    safe = ibis.ifelse(count > 0, count, 1).cast("float64")
    return ibis.ifelse(count > 0, total / safe, 0.0)


def _btyd_columns(first, last, n, total, first_spend, end: dt.date, unit: TimeUnit) -> dict:
    """The BTYD columns from per-customer first and last purchase dates, purchase count,
    total spend and first-purchase spend. Day numbers are integers until the final division."""
    first_day = _day_number(first)
    frequency = (n - 1).cast("int64")
    return {
        "frequency": frequency,
        "recency": (_day_number(last) - first_day).cast("float64") / unit.days,
        "T": (ibis.literal(_days_since_epoch(end), "int64") - first_day).cast("float64")
        / unit.days,
        "monetary_value": _mean_or_zero((total - first_spend).cast("float64"), frequency),
    }


# --------------------------------------------------------------------------------------------
# BTYD summaries


def btyd_summary(
    transactions: ir.Table,
    *,
    observation_end: dt.date | str,
    unit: TimeUnit | str = "week",
    count_by: str = "day",
    sort: bool = True,
) -> ir.Table:
    """Per-customer `frequency, recency, T, monetary_value` up to ``observation_end``.

    The columns are defined in the module docstring. Purchases after ``observation_end``
    are ignored; customers whose first purchase is later are absent. ``unit`` sets the unit
    of ``recency`` and ``T``; ``count_by`` is ``"day"`` (purchase days) or ``"order"``.
    With ``sort=False`` the rows come in no particular order (cheaper on large logs).

    >>> import ibis
    >>> log = ibis.memtable({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "date": ["2024-01-01", "2024-01-03", "2024-01-29", "2024-02-01"],
    ...     "amount": [10.0, 30.0, 50.0, 5.0],
    ... }).mutate(date=ibis._.date.cast("date"))
    >>> btyd_summary(log, observation_end="2024-01-31", unit="day").execute()
      customer_id  frequency  recency     T  monetary_value
    0           a          2     28.0  30.0            40.0
    """
    end = _as_date(observation_end, "observation_end")
    unit = _unit(unit, "unit")
    sort = _bool(sort, "sort")
    t = _transactions(transactions, count_by)
    t = t.filter(t.date <= end)
    if count_by == "day":
        r = _ranked_days(t)
        result = r.group_by("customer_id").aggregate(
            **_btyd_columns(r.date.min(), r.date.max(), r._day.max() + 1, r.amount.sum(),
                            r.amount.sum(where=r._day == 0), end, unit)
        )
    else:
        p = _order_days(t)
        result = p.group_by("customer_id").aggregate(
            **_btyd_columns(p.date.min(), p.date.max(), p.n.sum(), p.spend.sum(),
                            p.first_spend.argmin(p.date), end, unit)
        )
    return result.order_by("customer_id") if sort else result


def calibration_holdout(
    transactions: ir.Table,
    *,
    calibration_end: dt.date | str,
    holdout_end: dt.date | str,
    unit: TimeUnit | str = "week",
    count_by: str = "day",
    sort: bool = True,
) -> ir.Table:
    """The BTYD summary up to ``calibration_end`` plus what each customer did in the holdout.

    Customers are those whose first purchase is on or before ``calibration_end``. The holdout
    is the period after ``calibration_end`` up to and including ``holdout_end``; its columns
    (`frequency_holdout`, `revenue_holdout`, `monetary_value_holdout`, `duration_holdout`)
    are defined in the module docstring. Every holdout purchase counts (none is "first").

    >>> import ibis
    >>> log = ibis.memtable({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "date": ["2024-01-01", "2024-01-08", "2024-01-20", "2024-01-25"],
    ...     "amount": [10.0, 30.0, 50.0, 5.0],
    ... }).mutate(date=ibis._.date.cast("date"))
    >>> calibration_holdout(log, calibration_end="2024-01-14", holdout_end="2024-01-28"
    ...                     ).to_pyarrow().to_pylist()  # doctest: +NORMALIZE_WHITESPACE
    [{'customer_id': 'a', 'frequency': 1, 'recency': 1.0, 'T': 1.8571428571428572,
      'monetary_value': 30.0, 'frequency_holdout': 1, 'revenue_holdout': 50.0,
      'monetary_value_holdout': 50.0, 'duration_holdout': 2.0}]
    """
    cal = _as_date(calibration_end, "calibration_end")
    hold = _as_date(holdout_end, "holdout_end")
    if hold <= cal:
        raise ConfigError(
            f"holdout_end ({hold}) must be after calibration_end ({cal})",
            hint="the holdout period is (calibration_end, holdout_end]",
        )
    unit = _unit(unit, "unit")
    sort = _bool(sort, "sort")
    t = _transactions(transactions, count_by)
    t = t.filter(t.date <= hold)
    # every calibration day precedes every holdout day, so the first purchase overall is the
    # first calibration purchase of the customers we keep
    if count_by == "day":
        r = _ranked_days(t)
        in_cal = r.date <= cal
        n_cal = r._day.max(where=in_cal) + 1
        stats = r.group_by("customer_id").aggregate(
            _first=r.date.min(),
            _last=r.date.max(where=in_cal),
            _n=n_cal,
            _total=r.amount.sum(where=in_cal),
            _first_spend=r.amount.sum(where=r._day == 0),
            _n_hold=r._day.max() + 1 - n_cal,
            _rev_hold=r.amount.sum(where=r.date > cal),
        )
    else:
        p = _order_days(t)
        in_cal = p.date <= cal
        in_hold = p.date > cal
        stats = p.group_by("customer_id").aggregate(
            _first=p.date.min(),
            _last=p.date.max(where=in_cal),
            _n=p.n.sum(where=in_cal),
            _total=p.spend.sum(where=in_cal),
            _first_spend=p.first_spend.argmin(p.date),
            _n_hold=p.n.sum(where=in_hold),
            _rev_hold=p.spend.sum(where=in_hold),
        )
    stats = stats.filter(stats._first <= cal)
    n_hold = stats._n_hold.fill_null(0).cast("int64")
    rev_hold = stats._rev_hold.cast("float64").fill_null(0.0)
    result = stats.select(
        "customer_id",
        **_btyd_columns(stats._first, stats._last, stats._n, stats._total, stats._first_spend,
                        cal, unit),
        frequency_holdout=n_hold,
        revenue_holdout=rev_hold,
        monetary_value_holdout=_mean_or_zero(rev_hold, n_hold),
        duration_holdout=ibis.literal((hold - cal).days).cast("float64") / unit.days,
    )
    return result.order_by("customer_id") if sort else result


# --------------------------------------------------------------------------------------------
# calendar periods


def _period_number(start: ir.DateValue, period: TimeUnit) -> ir.IntegerValue:
    """Whole calendar periods from a fixed origin to the period starting at ``start``."""
    if period is TimeUnit.DAY:
        return _day_number(start)
    if period is TimeUnit.WEEK:
        return start.delta(ibis.date(_EPOCH_MONDAY), unit="day").cast("int64") // 7
    year = start.year().cast("int64")
    if period is TimeUnit.YEAR:
        return year
    month0 = start.month().cast("int64") - 1
    if period is TimeUnit.QUARTER:
        return year * 4 + month0 // 3
    return year * 12 + month0


def _add_periods(start: ir.DateValue, k: ir.IntegerValue, period: TimeUnit) -> ir.DateValue:
    """The start of the ``k``-th period after the period starting at ``start``."""
    if period is TimeUnit.DAY:
        return (start + k.as_interval("D")).cast("date")
    if period is TimeUnit.WEEK:
        return (start + (k * 7).as_interval("D")).cast("date")
    months = {TimeUnit.MONTH: 1, TimeUnit.QUARTER: 3, TimeUnit.YEAR: 12}[period]
    return (start + (k * months).as_interval("M")).cast("date")


def _period_start(date: ir.DateValue, period: TimeUnit) -> ir.DateValue:
    return period.truncate(date).cast("date")


# --------------------------------------------------------------------------------------------
# period panel


def _marketing_costs(
    costs: Any, customers: Any, period: TimeUnit, end: dt.date,
    bucket: Callable[[ir.DateValue], ir.Value] | None = None,
) -> ir.Table:
    """Marketing cost per customer and period: ``customer_id, period_start, marketing_cost``.

    ``bucket``, when given, maps a cost's date to the key put in ``period_start`` instead of
    the period's first day (the value history's period number), so that segment costs are
    summed per bucket before they are shared among the segment's customers.
    """
    mc = _table(costs, "marketing_costs", ("customer_id", "date", "cost"))
    _check_types(mc, "marketing_costs", date_cols=["date"], numeric_cols=["cost"])
    if mc.date.type().is_timestamp():
        mc = mc.mutate(date=mc.date.date())
    mc = mc.filter(mc.date <= end).mutate(
        period_start=_period_start(mc.date, period) if bucket is None else bucket(mc.date),
        cost=mc.cost.cast("float64"),
    )
    per_customer = mc.filter(mc.customer_id.notnull()).select(
        customer_id=mc.customer_id.cast("string"), period_start="period_start", marketing_cost="cost"
    )
    if "segment" not in mc.columns:
        return per_customer
    if customers is None:
        warnings.warn(
            "marketing_costs has a segment column but no customers table was given: "
            "segment-level cost rows (blank customer_id) are ignored; pass customers= "
            "with a segment column to share them among the segment's customers",
            UserWarning,
            stacklevel=3,
        )
        return per_customer
    cust = _table(customers, "customers", ("customer_id", "segment"))
    members = cust.filter(cust.segment.notnull() & cust.customer_id.notnull()).select(
        customer_id=cust.customer_id.cast("string"), segment=cust.segment.cast("string")
    ).distinct()
    sizes = members.group_by("segment").aggregate(_members=members.customer_id.count())
    seg = mc.filter(mc.customer_id.isnull() & mc.segment.notnull())
    seg = seg.group_by([seg.segment.cast("string").name("segment"), "period_start"]).aggregate(
        _cost=seg.cost.sum()
    )
    seg = seg.join(sizes, "segment")
    shared = members.join(seg, "segment").select(
        "customer_id", "period_start",
        marketing_cost=ibis._._cost / ibis._._members.cast("float64"),
    )
    return per_customer.union(shared)


def period_panel(
    transactions: ir.Table,
    *,
    period: TimeUnit | str = "month",
    observation_end: dt.date | str,
    marketing_costs: ir.Table | None = None,
    customers: ir.Table | None = None,
    dense: bool = False,
    count_by: str = "day",
    sort: bool = True,
) -> ir.Table:
    """Per customer and calendar period: orders, revenue, product and marketing cost, margin.

    Columns and row rules are in the module docstring. ``marketing_costs`` has
    ``customer_id, date, cost`` (and optionally ``segment``); ``customers`` (``customer_id,
    segment``) is needed only to share segment-level costs. Rows are sorted by
    ``customer_id, period_start`` unless ``sort=False``.

    >>> import ibis
    >>> log = ibis.memtable({
    ...     "customer_id": ["a", "a", "a"],
    ...     "date": ["2024-01-05", "2024-01-05", "2024-03-02"],
    ...     "amount": [10.0, 5.0, 20.0],
    ...     "product_cost": [4.0, 2.0, 8.0],
    ... }).mutate(date=ibis._.date.cast("date"))
    >>> panel = period_panel(log, observation_end="2024-03-31", dense=True)
    >>> panel.select("period_start", "orders", "revenue", "product_cost", "gross_margin").execute()
      period_start  orders  revenue  product_cost  gross_margin
    0   2024-01-01       1     15.0           6.0           9.0
    1   2024-02-01       0      0.0           0.0           0.0
    2   2024-03-01       1     20.0           8.0          12.0
    """
    end = _as_date(observation_end, "observation_end")
    period = _period(period)
    dense = _bool(dense, "dense")
    sort = _bool(sort, "sort")
    t = _transactions(transactions, count_by)
    if customers is not None and marketing_costs is None:
        _table(customers, "customers", ("customer_id",))
    has_cost = "product_cost" in t.columns
    null_cost = ibis.null("float64")
    zero_cost = _zero() if has_cost else null_cost

    t = t.filter(t.date <= end).mutate(period_start=_period_start(t.date, period))
    counted = t.date if count_by == "day" else _order_key(t)
    parts = [
        t.group_by(["customer_id", "period_start"]).aggregate(
            orders=counted.nunique().cast("int64"),
            revenue=t.amount.sum().cast("float64"),
            product_cost=t.product_cost.sum().fill_null(0.0).cast("float64") if has_cost
            else null_cost,
            marketing_cost=_zero(),
        )
    ]
    if marketing_costs is not None:
        mc = _marketing_costs(marketing_costs, customers, period, end)
        parts.append(mc.select(
            "customer_id", "period_start",
            orders=ibis.literal(0, "int64"),
            revenue=_zero(),
            product_cost=zero_cost,
            marketing_cost=mc.marketing_cost.cast("float64"),
        ))
    if len(parts) == 1:
        panel = parts[0]
    else:
        rows = ibis.union(*parts, distinct=False)
        panel = rows.group_by(["customer_id", "period_start"]).aggregate(
            orders=rows.orders.sum().cast("int64"),
            revenue=rows.revenue.sum(),
            product_cost=rows.product_cost.sum(),
            marketing_cost=rows.marketing_cost.sum(),
        )
    if dense:
        # every period from the customer's first to the end's, joined to the active ones (a
        # join, not a union aggregated again: 2.5 times as fast on a million customers)
        firsts = panel.group_by("customer_id").aggregate(_first=panel.period_start.min())
        end_start = _period_start(ibis.date(end), period)
        n_periods = _period_number(end_start, period) - _period_number(firsts._first, period) + 1
        grid = firsts.select(
            "customer_id", "_first", _k=ibis.range(0, n_periods)
        ).unnest("_k")
        grid = grid.select("customer_id", period_start=_add_periods(grid._first, grid._k, period))
        joined = grid.left_join(panel, ["customer_id", "period_start"])
        panel = joined.select(
            grid.customer_id,
            grid.period_start,
            orders=joined.orders.fill_null(0).cast("int64"),
            revenue=joined.revenue.fill_null(0.0),
            product_cost=joined.product_cost.fill_null(0.0) if has_cost else joined.product_cost,
            marketing_cost=joined.marketing_cost.fill_null(0.0),
        )
    panel = panel.select(
        "customer_id", "period_start", "orders", "revenue", "product_cost", "marketing_cost",
        gross_margin=panel.revenue - panel.product_cost - panel.marketing_cost,
    )
    return panel.order_by(["customer_id", "period_start"]) if sort else panel


# --------------------------------------------------------------------------------------------
# RFM


def rfm_scores(
    transactions: ir.Table,
    *,
    observation_end: dt.date | str,
    sort: bool = True,
) -> ir.Table:
    """Recency, frequency and monetary inputs per customer, with 1-5 quintile scores.

    Columns (never the BTYD names) are defined in the module docstring; purchases are
    purchase days up to ``observation_end``.

    >>> import ibis
    >>> log = ibis.memtable({
    ...     "customer_id": ["a", "b", "b", "c"],
    ...     "date": ["2024-01-01", "2024-01-02", "2024-01-09", "2024-01-10"],
    ...     "amount": [10.0, 5.0, 5.0, 30.0],
    ... }).mutate(date=ibis._.date.cast("date"))
    >>> rfm_scores(log, observation_end="2024-01-10").select(
    ...     "customer_id", "days_since_last_purchase", "n_purchases", "rfm_score").execute()
      customer_id  days_since_last_purchase  n_purchases  rfm_score
    0           a                         9            1        111
    1           b                         1            2        232
    2           c                         0            1        323
    """
    end = _as_date(observation_end, "observation_end")
    sort = _bool(sort, "sort")
    t = _transactions(transactions)
    t = t.filter(t.date <= end)
    days = t.group_by(["customer_id", "date"]).aggregate(spend=t.amount.sum())
    c = days.group_by("customer_id").aggregate(
        days_since_last_purchase=(
            ibis.literal(_days_since_epoch(end), "int64") - _day_number(days.date.max())
        ).cast("int64"),
        n_purchases=days.count().cast("int64"),
        total_spend=days.spend.sum().cast("float64"),
    )

    def score(*order: Any) -> ir.IntegerValue:
        return (ibis.ntile(5).over(order_by=[*order, c.customer_id]) + 1).cast("int64")

    scored = c.mutate(
        recency_score=score(c.days_since_last_purchase.desc()),
        frequency_score=score(c.n_purchases),
        monetary_score=score(c.total_spend),
    )
    scored = scored.mutate(
        rfm_score=(scored.recency_score * 100 + scored.frequency_score * 10
                   + scored.monetary_score).cast("int64")
    )
    return scored.order_by("customer_id") if sort else scored


# --------------------------------------------------------------------------------------------
# cohorts


def cohort_table(
    transactions: ir.Table,
    *,
    period: TimeUnit | str = "month",
    observation_end: dt.date | str,
    customers: ir.Table | None = None,
    count_by: str = "day",
    sort: bool = True,
) -> ir.Table:
    """Acquisition cohort by calendar period: active customers, orders, revenue, margin.

    A customer's cohort is the period of their first purchase (up to ``observation_end``),
    or of ``customers.acquisition_date`` where that table gives one. Columns are defined in
    the module docstring; rows are sorted by ``cohort, period_start`` unless ``sort=False``.

    >>> import ibis
    >>> log = ibis.memtable({
    ...     "customer_id": ["a", "a", "b", "b"],
    ...     "date": ["2024-01-05", "2024-02-10", "2024-02-01", "2024-02-20"],
    ...     "amount": [10.0, 20.0, 5.0, 7.0],
    ... }).mutate(date=ibis._.date.cast("date"))
    >>> cohort_table(log, observation_end="2024-02-29").drop("gross_margin").execute()
          cohort period_start  period_index  active_customers  orders  revenue
    0 2024-01-01   2024-01-01             0                 1       1     10.0
    1 2024-01-01   2024-02-01             1                 1       1     20.0
    2 2024-02-01   2024-02-01             0                 1       2     12.0
    """
    end = _as_date(observation_end, "observation_end")
    period = _period(period)
    sort = _bool(sort, "sort")
    t = _transactions(transactions, count_by)
    has_cost = "product_cost" in t.columns
    t = t.filter(t.date <= end)

    acquired = t.group_by("customer_id").aggregate(_acquired=t.date.min())
    if customers is not None:
        cust = _table(customers, "customers", ("customer_id", "acquisition_date"))
        _check_types(cust, "customers", date_cols=["acquisition_date"])
        acq = cust.acquisition_date
        if acq.type().is_timestamp():
            acq = acq.date()
        given = cust.filter(cust.customer_id.notnull()).group_by(
            cust.customer_id.cast("string").name("customer_id")
        ).aggregate(_given=acq.min())
        acquired = acquired.left_join(given, "customer_id").select(
            "customer_id", _acquired=ibis.coalesce(ibis._._given, ibis._._acquired)
        )
    acquired = acquired.select("customer_id", cohort=_period_start(acquired._acquired, period))

    t = t.mutate(period_start=_period_start(t.date, period))
    counted = t.date if count_by == "day" else _order_key(t)
    active = t.group_by(["customer_id", "period_start"]).aggregate(
        orders=counted.nunique().cast("int64"),
        revenue=t.amount.sum().cast("float64"),
        product_cost=t.product_cost.sum().fill_null(0.0).cast("float64") if has_cost
        else ibis.null("float64"),
    )
    rows = active.join(acquired, "customer_id")
    table = rows.group_by(["cohort", "period_start"]).aggregate(
        active_customers=rows.customer_id.count().cast("int64"),
        orders=rows.orders.sum().cast("int64"),
        revenue=rows.revenue.sum(),
        _product_cost=rows.product_cost.sum(),
    )
    table = table.select(
        "cohort",
        "period_start",
        period_index=(_period_number(table.period_start, period)
                      - _period_number(table.cohort, period)).cast("int64"),
        active_customers="active_customers",
        orders="orders",
        revenue="revenue",
        gross_margin=table.revenue - table._product_cost,
    )
    return table.order_by(["cohort", "period_start"]) if sort else table


# --------------------------------------------------------------------------------------------
# value history

_HISTORY_UNITS = (TimeUnit.MONTH, TimeUnit.QUARTER, TimeUnit.YEAR)
MAX_HISTORY_PERIODS = 120
"""The most history periods ``value_history`` lays side by side (ten years of months)."""
_HISTORY_MEASURES = ("revenue", "product_cost", "marketing_cost", "gross_margin", "orders")


def _history_args(period: Any, periods: Any) -> tuple[TimeUnit, int]:
    """The checked ``period`` (month, quarter or year) and number of history periods."""
    unit = _period(period)
    if unit not in _HISTORY_UNITS:
        raise ConfigError(
            f"period must be month, quarter or year for a value history, got {unit.value!r}",
            hint="use period='month' (the default), 'quarter' or 'year'; period_panel gives "
            "daily or weekly figures",
        )
    if isinstance(periods, bool) or not isinstance(periods, Integral):
        raise ConfigError(f"periods must be a whole number of periods, got {periods!r}",
                          hint=f"pass periods=3, say (1 to {MAX_HISTORY_PERIODS})")
    if not 1 <= periods <= MAX_HISTORY_PERIODS:
        raise ConfigError(
            f"periods must be from 1 to {MAX_HISTORY_PERIODS}, got {periods}",
            hint="ask for fewer periods, or a longer period (quarter, year)",
        )
    return unit, int(periods)


def _calendar_number(date: dt.date, period: TimeUnit) -> int:
    """``_period_number`` of the month, quarter or year holding ``date``, in Python."""
    if period is TimeUnit.YEAR:
        return date.year
    if period is TimeUnit.QUARTER:
        return date.year * 4 + (date.month - 1) // 3
    return date.year * 12 + date.month - 1


def _history_index(date: ir.DateValue, period: TimeUnit, end: dt.date,
                   periods: int) -> ir.IntegerValue:
    """k = 1 … ``periods`` for a date (on or before ``end``) in history period k; 0 before.

    ``_period_number`` reads only the year and month, so it needs no truncated date.
    """
    origin = _calendar_number(end, period) - periods
    k = _period_number(date, period) - ibis.literal(origin, "int64")
    return ibis.ifelse(k > 0, k, 0).cast("int64")


def value_history_periods(
    observation_end: dt.date | str,
    period: TimeUnit | str = "month",
    periods: int = 3,
) -> list[tuple[dt.date, dt.date]]:
    """First and last day of each history period of ``value_history``, oldest first.

    The last period is the one that contains ``observation_end`` and ends on it (it is
    partial when the end is not the last day of its period).

    >>> value_history_periods("2024-03-15", "month", 3)  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)),
     (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29)),
     (datetime.date(2024, 3, 1), datetime.date(2024, 3, 15))]
    >>> value_history_periods("2024-12-31", "quarter", 1)
    [(datetime.date(2024, 10, 1), datetime.date(2024, 12, 31))]
    """
    end = _as_date(observation_end, "observation_end")
    unit, n = _history_args(period, periods)
    starts = [unit.period_start(end)]
    for _ in range(n - 1):
        starts.append(unit.period_start(starts[-1] - dt.timedelta(days=1)))
    starts.reverse()
    lasts = [following - dt.timedelta(days=1) for following in starts[1:]] + [end]
    return list(zip(starts, lasts, strict=True))


def value_history(
    transactions: ir.Table,
    *,
    observation_end: dt.date | str,
    period: TimeUnit | str = "month",
    periods: int = 3,
    marketing_costs: ir.Table | None = None,
    customers: ir.Table | None = None,
    sort: bool = True,
) -> ir.Table:
    """Per customer: purchases, revenue, returns, costs and margin to date, and per period.

    One row per customer with a purchase on or before ``observation_end``; the columns and
    the history periods (the last ``periods`` months, quarters or years, oldest first, the
    last one holding the end) are defined in the module docstring, and
    :func:`value_history_periods` gives their dates. ``marketing_costs`` and ``customers``
    are as in :func:`period_panel`. Rows are sorted by ``customer_id`` unless ``sort=False``.

    One pass over the log: its rows ranked by purchase day (one sort, as in
    :func:`btyd_summary`), then one aggregation per customer with a conditional sum per
    history column. Marketing costs are summed per customer the same way and joined one to
    one. No pivot, and no join that repeats rows, so the expression runs on every engine.

    >>> import ibis
    >>> log = ibis.memtable({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "date": ["2024-01-05", "2024-01-05", "2024-03-02", "2024-02-10"],
    ...     "amount": [10.0, -4.0, 20.0, 7.0],
    ...     "product_cost": [4.0, -2.0, 8.0, 3.0],
    ... }).mutate(date=ibis._.date.cast("date"))
    >>> history = value_history(log, observation_end="2024-03-15", periods=2)
    >>> history.select("customer_id", "n_purchases", "tenure_days", "revenue", "returns",
    ...                "gross_margin").execute()
      customer_id  n_purchases  tenure_days  revenue  returns  gross_margin
    0           a            2           70     26.0      4.0          16.0
    1           b            1           34      7.0      0.0           4.0
    >>> value_history_periods("2024-03-15", "month", 2)[0]  # period 1 is February
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    >>> history.select("customer_id", "revenue_hist_1", "orders_hist_1", "revenue_hist_2",
    ...                "orders_hist_2").execute()
      customer_id  revenue_hist_1  orders_hist_1  revenue_hist_2  orders_hist_2
    0           a             0.0              0            20.0              1
    1           b             7.0              1             0.0              0
    """
    end = _as_date(observation_end, "observation_end")
    unit, n_periods = _history_args(period, periods)
    sort = _bool(sort, "sort")
    t = _transactions(transactions)
    if customers is not None and marketing_costs is None:
        _table(customers, "customers", ("customer_id",))
    has_cost = "product_cost" in t.columns

    def index(date: ir.DateValue) -> ir.IntegerValue:
        return _history_index(date, unit, end, n_periods)

    # 1. the log, once per customer, from its rows ranked by purchase day (see _ranked_days):
    # the purchase days up to history period k are max(_day) + 1 over the rows up to it, so
    # each period's count is a difference of two of those maxima and needs no DISTINCT
    r = _ranked_days(t.filter(t.date <= end))
    h = _history_index(r.date, unit, end, n_periods)
    amount = r.amount
    measures = {"revenue": amount}
    if has_cost:
        measures["product_cost"] = r.product_cost
    aggregates = {
        "_first": r.date.min(),
        "_last": r.date.max(),
        "_days": r._day.max() + 1,
        "_returns": (-amount).sum(where=amount < 0),
        "_gross": amount.sum(where=amount > 0),
        **{f"_{name}": column.sum() for name, column in measures.items()},
    }
    for k in range(1, n_periods + 1):
        aggregates.update({f"_{name}_{k}": column.sum(where=h == k)
                           for name, column in measures.items()})
        aggregates[f"_days_{k - 1}"] = r._day.max(where=h <= k - 1) + 1
    aggregates["_last_previous"] = r.date.max(where=h <= n_periods - 1)
    s = r.group_by("customer_id").aggregate(**aggregates)

    # 2. marketing costs, once per customer, joined one to one (buyers only)
    if marketing_costs is not None:
        mc = _marketing_costs(marketing_costs, customers, unit, end,
                              bucket=lambda date: _history_index(date, unit, end, n_periods))
        cost = mc.marketing_cost.cast("float64")
        per_customer = mc.group_by("customer_id").aggregate(
            _marketing_cost=cost.sum(),
            **{f"_marketing_cost_{k}": cost.sum(where=mc.period_start == k)
               for k in range(1, n_periods + 1)},
        )
        s = s.left_join(per_customer, "customer_id")

    # 3. the columns, with 0 where a sum ran over no row
    end_day = ibis.literal(_days_since_epoch(end), "int64")

    def money(measure: str, k: int | None = None) -> ir.FloatingValue:
        if measure == "product_cost" and not has_cost:
            return ibis.null("float64")
        if measure == "marketing_cost" and marketing_costs is None:
            return _zero()
        return s[f"_{measure}" if k is None else f"_{measure}_{k}"].cast("float64").fill_null(0.0)

    def days_before(k: int) -> ir.IntegerValue:
        """Purchase days up to the end of history period k (k = 0: before the history)."""
        return s._days if k == n_periods else s[f"_days_{k}"].fill_null(0)

    columns: dict[str, Any] = {
        "first_purchase": s._first,
        "last_purchase": s._last,
        "n_purchases": s._days.cast("int64"),
        "tenure_days": (end_day - _day_number(s._first)).cast("int64"),
        "days_since_last_purchase": (end_day - _day_number(s._last)).cast("int64"),
        "revenue": money("revenue"),
        "returns": money("returns"),
        "gross_sales": money("gross"),
        "product_cost": money("product_cost"),
        "marketing_cost": money("marketing_cost"),
    }
    columns["gross_margin"] = (columns["revenue"] - columns["product_cost"]
                               - columns["marketing_cost"])
    for k in range(1, n_periods + 1):
        revenue, product_cost, marketing_cost = (
            money(measure, k) for measure in ("revenue", "product_cost", "marketing_cost"))
        columns[f"revenue_hist_{k}"] = revenue
        columns[f"product_cost_hist_{k}"] = product_cost
        columns[f"marketing_cost_hist_{k}"] = marketing_cost
        columns[f"gross_margin_hist_{k}"] = revenue - product_cost - marketing_cost
        columns[f"orders_hist_{k}"] = (days_before(k) - days_before(k - 1)).cast("int64")
    # the same customer one period earlier: as of the day before the last history period
    previous_end = value_history_periods(end, unit, n_periods)[-1][0] - dt.timedelta(days=1)
    previous_day = ibis.literal(_days_since_epoch(previous_end), "int64")
    bought_before = days_before(n_periods - 1) > 0
    columns["n_purchases_previous"] = days_before(n_periods - 1).cast("int64")
    columns["recency_days_previous"] = ibis.ifelse(
        bought_before, _day_number(s._last_previous) - _day_number(s._first), ibis.null("int64")).cast("int64")
    columns["tenure_days_previous"] = ibis.ifelse(
        bought_before, previous_day - _day_number(s._first), ibis.null("int64")).cast("int64")
    result = s.select("customer_id", **columns)
    return result.order_by("customer_id") if sort else result
