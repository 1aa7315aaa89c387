"""The health of the customer base: retention, repurchase, purchase rhythm, referrals, satisfaction.

Every function takes pandas DataFrames (the tables of `docs/data-model.md` and
`cvm.data.summaries`, already executed) and works on whole columns at once, so ten million
customers take seconds. Each returns a small frozen dataclass of DataFrames with the columns
listed below; an empty input gives the same tables with no rows. A missing column raises
`MissingColumnError`, a value that breaks a rule raises `InvalidDataError` naming the column,
the number of rows and an example row.

## Retention: `retention(panel, period="month")`

Input: the period panel of `cvm.data.summaries.period_panel` (`customer_id`, `period_start`,
`orders`), built from the whole transaction log with the same `period`. A customer is
**active** in a period when they made at least one purchase in it (`orders > 0`; rows with 0
orders, from `dense=True` or marketing costs only, are not activity). Periods run from the
earliest to the latest `period_start` of the panel, including periods in which nobody bought.

Per period (`by_period`):

| column | meaning |
|---|---|
| `period_start` | first day of the calendar period |
| `active_customers` | customers with a purchase in the period |
| `new_customers` | active customers whose first active period this is |
| `repeat_customers` | active customers who **repurchased**: 2 or more purchases in the period, or a purchase in an earlier period |
| `repurchase_rate` | `repeat_customers / active_customers` (NaN when nobody is active) |
| `previous_active_customers` | customers active in the period before |
| `retained_customers` | customers active in the period before **and** in this one |
| `retention_rate` | `retained_customers / previous_active_customers`; NaN for the first period and after a period with nobody active |
| `churn_rate` | `1 − retention_rate` |

So a customer's very first purchase is never a repurchase, and every later purchase is one.

Cohorts (`cohorts`): a customer's cohort is their first active period. One row per cohort and
number of periods since (0, 1, … up to the last period of the panel): `cohort_start`,
`periods_since`, `period_start`, `cohort_customers`, `active_customers` (cohort members active
in that period) and `share_active` (`active_customers / cohort_customers`; 1 at 0 periods).

## Time between purchases: `inter_purchase_time(customers, unit="week")`

Input: one row per customer with either `tenure_days` (days from the first to the last purchase
day) and `purchase_days` (purchase days, the first one included), or the BTYD summary of
`cvm.data.summaries.btyd_summary` (`frequency` = purchase days − 1, `recency` = the same tenure
in `unit`s, converted with the exact unit length of `cvm.data.timeunit`). A customer with `n`
purchase days has `n − 1` gaps between consecutive purchase days, which add up to the tenure, so
their **mean days between purchases** is `tenure_days / (n − 1)`; it is NaN for customers with
a single purchase day (no gap). For the base (`base`, one row): `customers`,
`repeat_customers` (2+ purchase days), `mean_days` (the average of the customers' means),
`median_days` (the median of the customers' means) and `pooled_days` (all gaps pooled: total
tenure / total gaps, so frequent buyers weigh more). The median of a customer's own gaps needs
the purchase dates and is not computed here.

## Referrals: `referral_stats(referrals, customers)`

Input: the `referrals` table (`referrer_id`, `referred_id`, optional `date`) and the customer
base (a DataFrame with `customer_id`). Rates count customers of the base only:
`referral_rate` is the share of base customers who referred at least one customer, and
`referred_share` the share who were referred.

Referral trees use every referral row. A customer has at most one referrer: when a customer
was referred several times, the earliest referral counts (by `date`, then by `referrer_id`),
and the others are counted as `duplicate_referrals`. A **root** is a customer who referred
someone but was not referred. A customer's *depth* is the number of referral steps from their
root (the root is at depth 0, the customers it referred at 1 …); a tree's `depth` is its
longest chain. Referrals that loop (A referred B, B referred A; or A referred A) form a
**cycle**: cycles have no root, so their customers and everyone referred below them are left
out of the trees, listed in `cycles` (`customer_id`, `cycle` = the smallest customer id on its
cycle, `on_cycle` = on the loop itself rather than below it) and counted in the summary; a
warning is logged. The search follows pointers by doubling, so it always ends (about log2 of
the number of customers steps).

Tables: `summary` (one row: `customers`, `referrers`, `referral_rate`, `referred_customers`,
`referred_share`, `referrals`, `duplicate_referrals`, `trees`, `max_depth`, `mean_depth`,
`cycles`, `cycle_customers`), `trees` (one row per root: `root_id`, `tree_customers` including
the root, `depth`, sorted by `root_id`) and `cycles`.

## Satisfaction: `satisfaction(surveys, segments=None, period="month")`

Input: the `surveys` table (`customer_id`, `date`, and any of `satisfaction`, `nps`,
`complaint`). For each measure a customer counts **once, with their latest answer to that
measure** (latest `date`; on the same day the row that comes last in the table): a customer
who answered twice counts with the newer answer only, and a survey row without an NPS score
does not hide an older NPS score. Per period, the latest answer within the period counts.

* Complaint rate: customers whose latest complaint answer is yes / customers who answered.
* Mean CSAT: the mean of the latest satisfaction scores, on the survey's own scale.
* NPS: scores 9–10 are *promoters*, 7–8 *passives*, 0–6 *detractors*;
  `nps = 100 × (promoters − detractors) / nps_answers`, from −100 to 100. A score must be a
  whole number from 0 to 10.

Tables: `base` (one row), `by_period` (one row per calendar period with an answer, by
`period_start`) and `by_segment` (one row per segment column and value: `segment`,
`segment_value`): `segments` is a DataFrame with `customer_id` and one or more segment columns
(for example a value tier or a lifecycle stage), one row per customer; customers without a
segment value are left out of that segment's rows. Each has `respondents` (customers with any
answer) and per measure: `complaint_answers`, `complaints`, `complaint_rate`,
`satisfaction_answers`, `mean_satisfaction`, `nps_answers`, `promoters`, `passives`,
`detractors`, `promoter_share`, `detractor_share`, `nps`. Rates with no answers are NaN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cvm.data.timeunit import TimeUnit
from cvm.errors import InvalidDataError, MissingColumnError

logger = logging.getLogger(__name__)

__all__ = [
    "InterPurchaseTime",
    "ReferralStats",
    "RetentionTables",
    "SatisfactionTables",
    "inter_purchase_time",
    "referral_stats",
    "retention",
    "satisfaction",
]

BY_PERIOD_COLUMNS = [
    "period_start", "active_customers", "new_customers", "repeat_customers", "repurchase_rate",
    "previous_active_customers", "retained_customers", "retention_rate", "churn_rate",
]
COHORT_COLUMNS = ["cohort_start", "periods_since", "period_start", "cohort_customers", "active_customers", "share_active"]
IPT_CUSTOMER_COLUMNS = ["customer_id", "purchase_days", "tenure_days", "mean_days_between_purchases"]
IPT_BASE_COLUMNS = ["customers", "repeat_customers", "mean_days", "median_days", "pooled_days"]
REFERRAL_SUMMARY_COLUMNS = [
    "customers", "referrers", "referral_rate", "referred_customers", "referred_share", "referrals",
    "duplicate_referrals", "trees", "max_depth", "mean_depth", "cycles", "cycle_customers",
]
TREE_COLUMNS = ["root_id", "tree_customers", "depth"]
CYCLE_COLUMNS = ["customer_id", "cycle", "on_cycle"]
SATISFACTION_COLUMNS = [
    "respondents", "complaint_answers", "complaints", "complaint_rate", "satisfaction_answers",
    "mean_satisfaction", "nps_answers", "promoters", "passives", "detractors", "promoter_share",
    "detractor_share", "nps",
]


# --------------------------------------------------------------------------- shared checks


def _frame(value: Any, what: str, required: list[str], hint: str) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise InvalidDataError(f"{what}: needs a pandas DataFrame, got {type(value).__name__}", hint=hint)
    missing = [c for c in required if c not in value.columns]
    if missing:
        raise MissingColumnError(
            f"{what}: the table has no column {missing[0]!r} (needs {required}; columns: {list(value.columns)})",
            hint=hint,
        )
    return value


def _example(table: pd.DataFrame, bad: np.ndarray) -> str:
    first = int(np.flatnonzero(bad)[0])
    return f"{bad.sum()} row(s) break it, for example row {first} ({table.iloc[first].to_dict()})"


def _ids(table: pd.DataFrame, column: str, what: str) -> pd.Series:
    ids = table[column]
    text = ids.astype("string")
    bad = (ids.isna() | (text.str.strip() == "")).to_numpy(dtype=bool, na_value=True)
    if bad.any():
        raise InvalidDataError(
            f"{what}: column {column!r} must not be missing or blank: {_example(table, bad)}",
            hint="drop these rows or fill in the id",
        )
    return text


def _days(table: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """Dates as whole day numbers since 1970-01-01 (int64)."""
    raw = table[column]
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = raw
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
    else:
        values = pd.to_datetime(raw, errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        raise InvalidDataError(
            f"{what}: column {column!r} must be a date: {_example(table, bad)}",
            hint="fix or drop these rows (ingestion with cvm.data.ingest parses dates)",
        )
    return values.to_numpy().astype("datetime64[D]").astype(np.int64)


def _numbers(table: pd.DataFrame, column: str, what: str, *, allow_missing: bool) -> np.ndarray:
    raw = table[column]
    if raw.dtype == bool or pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.astype("float64").to_numpy()
    elif pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        unreadable = np.isnan(values) & raw.notna().to_numpy()
        if unreadable.any():
            raise InvalidDataError(
                f"{what}: column {column!r} must be a number: {_example(table, unreadable)}",
                hint="fix or drop these rows",
            )
    bad = np.isinf(values) if allow_missing else ~np.isfinite(values)
    if bad.any():
        rule = "a finite number" if allow_missing else "a finite number, not missing"
        raise InvalidDataError(f"{what}: column {column!r} must be {rule}: {_example(table, bad)}",
                               hint="fix or drop these rows")
    return values


def _period_numbers(days: np.ndarray, period: TimeUnit) -> np.ndarray:
    """The calendar period of each day number, as consecutive integers."""
    if period is TimeUnit.DAY:
        return days
    if period is TimeUnit.WEEK:
        return (days + 3) // 7  # 1970-01-01 is a Thursday: week 0 starts on Monday 1969-12-29
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if period is TimeUnit.MONTH:
        return months
    if period is TimeUnit.QUARTER:
        return months // 3
    return months // 12


def _period_starts(numbers: np.ndarray, period: TimeUnit) -> np.ndarray:
    """The first day (datetime64[D]) of each period number of `_period_numbers`."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if period is TimeUnit.DAY:
        return numbers.astype("datetime64[D]")
    if period is TimeUnit.WEEK:
        return (numbers * 7 - 3).astype("datetime64[D]")
    months = {TimeUnit.MONTH: 1, TimeUnit.QUARTER: 3, TimeUnit.YEAR: 12}[period]
    return (numbers * months).astype("datetime64[M]").astype("datetime64[D]")


def _dates(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="datetime64[D]").astype("datetime64[s]"))


def _ratio(numerator: Any, denominator: Any) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


# --------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class RetentionTables:
    """Retention per period (`by_period`) and the cohort retention table (`cohorts`)."""

    by_period: pd.DataFrame
    cohorts: pd.DataFrame


def retention(panel: pd.DataFrame, period: TimeUnit | str = "month") -> RetentionTables:
    """Active customers, repurchase, retention and churn rates per period, and cohort retention.

    ``panel`` is the period panel (``customer_id``, ``period_start``, ``orders``) built with the
    same ``period``; see the module documentation for the definitions.

    >>> panel = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c"],
    ...     "period_start": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01", "2024-03-01", "2024-02-01"]),
    ...     "orders": [1, 1, 2, 1, 1],
    ... })
    >>> tables = retention(panel, "month")
    >>> tables.by_period[["active_customers", "repeat_customers", "retention_rate"]]
       active_customers  repeat_customers  retention_rate
    0                 2                 1             NaN
    1                 2                 1             0.5
    2                 1                 1             0.0
    >>> tables.cohorts[["periods_since", "cohort_customers", "share_active"]].head(3)
       periods_since  cohort_customers  share_active
    0              0                 2           1.0
    1              1                 2           0.5
    2              2                 2           0.5
    """
    what = "retention"
    hint = "pass the period panel of cvm.data.summaries.period_panel, executed to pandas"
    period = TimeUnit.parse(period)
    panel = _frame(panel, what, ["customer_id", "period_start", "orders"], hint)
    ids = _ids(panel, "customer_id", what)
    days = _days(panel, "period_start", what)
    orders = _numbers(panel, "orders", what, allow_missing=False)
    bad = orders < 0
    if bad.any():
        raise InvalidDataError(f"{what}: column 'orders' must not be negative: {_example(panel, bad)}", hint=hint)
    numbers = _period_numbers(days, period)
    bad = _period_starts(numbers, period).astype(np.int64) != days
    if bad.any():
        raise InvalidDataError(
            f"{what}: column 'period_start' must be the first day of a {period.value}: {_example(panel, bad)}",
            hint=f"build the panel with period={period.value!r}, or pass the panel's own period",
        )
    if len(panel) == 0:
        by_period = pd.DataFrame({c: pd.Series(dtype="int64") for c in BY_PERIOD_COLUMNS})
        by_period["period_start"] = pd.Series(dtype="datetime64[s]")
        for c in ("repurchase_rate", "retention_rate", "churn_rate"):
            by_period[c] = by_period[c].astype(float)
        cohorts = pd.DataFrame({c: pd.Series(dtype="int64") for c in COHORT_COLUMNS})
        cohorts["cohort_start"] = pd.Series(dtype="datetime64[s]")
        cohorts["period_start"] = pd.Series(dtype="datetime64[s]")
        cohorts["share_active"] = cohorts["share_active"].astype(float)
        return RetentionTables(by_period[BY_PERIOD_COLUMNS], cohorts[COHORT_COLUMNS])

    first_period = int(numbers.min())
    n_periods = int(numbers.max()) - first_period + 1
    active = orders > 0
    codes, _ = pd.factorize(ids[active], sort=False)
    p = numbers[active] - first_period
    # one row per customer and period: a panel may repeat a (customer, period) pair
    key = codes.astype(np.int64) * n_periods + p
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    orders_in = np.add.reduceat(orders[active][order], starts) if starts.size else np.array([], float)
    key = key[starts]
    cust, p = key // n_periods, key % n_periods
    # keys sorted by customer then period: a customer's first row is their first active period
    first_row = np.r_[True, cust[1:] != cust[:-1]] if cust.size else np.array([], bool)
    cohort = np.maximum.accumulate(np.where(first_row, np.arange(cust.size), 0))
    cohort = p[cohort]
    previous_same = np.r_[False, (cust[1:] == cust[:-1]) & (p[1:] == p[:-1] + 1)] if cust.size else first_row
    repeat = (~first_row) | (orders_in >= 2)

    count = lambda mask: np.bincount(p[mask], minlength=n_periods).astype(np.int64)  # noqa: E731
    active_n = count(np.ones(p.size, bool))
    new_n = count(first_row)
    repeat_n = count(repeat)
    retained_n = count(previous_same)
    prev_n = np.r_[0, active_n[:-1]]
    retention_rate = _ratio(retained_n, prev_n)
    retention_rate[0] = np.nan
    by_period = pd.DataFrame({
        "period_start": _dates(_period_starts(np.arange(n_periods) + first_period, period)),
        "active_customers": active_n,
        "new_customers": new_n,
        "repeat_customers": repeat_n,
        "repurchase_rate": _ratio(repeat_n, active_n),
        "previous_active_customers": prev_n,
        "retained_customers": retained_n,
        "retention_rate": retention_rate,
        "churn_rate": 1.0 - retention_rate,
    })

    # cohort grid: cohorts with members x periods since, up to the last period
    cohort_size = np.bincount(cohort[first_row], minlength=n_periods)
    cells = np.bincount(cohort * n_periods + (p - cohort), minlength=n_periods * n_periods)
    cohort_ids = np.flatnonzero(cohort_size)
    lengths = n_periods - cohort_ids
    c = np.repeat(cohort_ids, lengths)
    k = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    members = cohort_size[c]
    active_cells = cells[c * n_periods + k]
    cohorts = pd.DataFrame({
        "cohort_start": _dates(_period_starts(c + first_period, period)),
        "periods_since": k.astype(np.int64),
        "period_start": _dates(_period_starts(c + k + first_period, period)),
        "cohort_customers": members.astype(np.int64),
        "active_customers": active_cells.astype(np.int64),
        "share_active": _ratio(active_cells, members),
    })
    return RetentionTables(by_period, cohorts)
