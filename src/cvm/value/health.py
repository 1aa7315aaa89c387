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

Referral trees use every referral row, also those of customers outside `customers`. A
customer has at most one referrer: when a customer was referred several times, the earliest
referral counts (by `date`, undated rows last, then by the smallest `referrer_id`), and the
others are counted as `duplicate_referrals` and left out of the trees. A **root** is a customer
who was not referred and whose referral of someone counts. A customer's *depth* is the number of referral steps from their
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
`segment_value`, for the values with an answer): `segments` is a DataFrame with `customer_id`
and one or more segment columns (for example a value tier or a lifecycle stage), one row per
customer; customers without a segment value are left out of that segment's rows. Each has `respondents` (customers with an
answer to at least one measure; a survey row with no answer at all does not count) and per measure: `complaint_answers`, `complaints`, `complaint_rate`,
`satisfaction_answers`, `mean_satisfaction`, `nps_answers`, `promoters`, `passives`,
`detractors`, `promoter_share`, `detractor_share`, `nps`. Rates with no answers are NaN.

## Labels

The metrics and the NPS groups have English and Chinese names in `cvm.labels` (`health.*`:
`health.retention_rate` 留存率, `health.repurchase_rate` 复购率, `health.nps` 净推荐值,
`health.promoter` 推荐者, `health.passive` 中立者, `health.detractor` 贬损者 …).
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


def _ids(table: pd.DataFrame, column: str, what: str, *,
         sort: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ids as integer codes, the distinct ids as text and as they are (checked on the distinct ids only)."""
    codes, uniques = pd.factorize(table[column], sort=sort)
    values = np.asarray(uniques, dtype=object)
    text = values.astype(str)
    blank = np.char.str_len(np.char.strip(text.astype("U"))) == 0 if text.size else np.zeros(0, bool)
    bad = codes < 0
    if blank.any():
        bad |= blank[np.maximum(codes, 0)] & (codes >= 0)
    if bad.any():
        raise InvalidDataError(
            f"{what}: column {column!r} must not be missing or blank: {_example(table, bad)}",
            hint="drop these rows or fill in the id",
        )
    return codes.astype(np.int64), text, values


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
    return period.period_numbers(days)


def _period_starts(numbers: np.ndarray, period: TimeUnit) -> np.ndarray:
    """The first day (datetime64[D]) of each period number of `_period_numbers`."""
    return period.first_days(numbers).astype("datetime64[D]")


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
    codes, _, _ = _ids(panel, "customer_id", what)
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
    codes = codes[active]
    p = numbers[active] - first_period
    # one row per customer and period: a panel may repeat a (customer, period) pair
    key = codes.astype(np.int64) * n_periods + p
    order = np.argsort(key, kind="stable")
    key = key[order]
    # (a panel whose rows all have 0 orders has no active row: no starts, not one start at 0)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, np.int64)
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


# --------------------------------------------------------------------------- time between purchases


@dataclass(frozen=True)
class InterPurchaseTime:
    """Mean days between purchase days per customer (`customers`) and for the base (`base`)."""

    customers: pd.DataFrame
    base: pd.DataFrame


def inter_purchase_time(customers: pd.DataFrame, unit: TimeUnit | str = "week") -> InterPurchaseTime:
    """Average days between consecutive purchase days, per customer and for the base.

    ``customers`` has ``customer_id`` with ``tenure_days`` and ``purchase_days``, or the BTYD
    summary's ``frequency`` and ``recency`` (in ``unit``s). Single-purchase customers have no gap.

    >>> summary = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...                         "tenure_days": [30, 90, 0], "purchase_days": [2, 4, 1]})
    >>> result = inter_purchase_time(summary)
    >>> result.customers["mean_days_between_purchases"].tolist()
    [30.0, 30.0, nan]
    >>> result.base[["repeat_customers", "mean_days", "median_days", "pooled_days"]]
       repeat_customers  mean_days  median_days  pooled_days
    0                 2       30.0         30.0         30.0
    """
    what = "inter-purchase time"
    hint = ("pass one row per customer with tenure_days and purchase_days, or the BTYD summary "
            "of cvm.data.summaries.btyd_summary (frequency, recency) with its unit")
    unit = TimeUnit.parse(unit)
    if isinstance(customers, pd.DataFrame) and "tenure_days" not in customers.columns and {
        "frequency", "recency"} <= set(customers.columns):
        customers = _frame(customers, what, ["customer_id", "frequency", "recency"], hint)
        gaps = _numbers(customers, "frequency", what, allow_missing=False)
        tenure = _numbers(customers, "recency", what, allow_missing=False) * unit.days
        tenure = np.round(tenure, 6)  # recency is whole days / unit length: undo the float error
        purchases = gaps + 1
        names = ("frequency", "recency")
    else:
        customers = _frame(customers, what, ["customer_id", "tenure_days", "purchase_days"], hint)
        tenure = _numbers(customers, "tenure_days", what, allow_missing=False)
        purchases = _numbers(customers, "purchase_days", what, allow_missing=False)
        gaps = purchases - 1
        names = ("purchase_days", "tenure_days")
    bad = (purchases < 1) | (purchases != np.floor(purchases))
    if bad.any():
        raise InvalidDataError(
            f"{what}: column {names[0]!r} must give a whole number of at least 1 purchase day: "
            f"{_example(customers, bad)}", hint=hint)
    bad = (tenure < 0) | ((gaps == 0) & (tenure != 0))
    if bad.any():
        raise InvalidDataError(
            f"{what}: column {names[1]!r} must be 0 or more, and 0 for a customer with one purchase "
            f"day: {_example(customers, bad)}", hint=hint)
    mean = _ratio(tenure, gaps)
    table = pd.DataFrame({
        "customer_id": customers["customer_id"].to_numpy(),
        "purchase_days": purchases.astype(np.int64),
        "tenure_days": tenure,
        "mean_days_between_purchases": mean,
    })
    repeat = gaps > 0
    repeat_means = mean[repeat]
    base = pd.DataFrame({
        "customers": [len(table)],
        "repeat_customers": [int(repeat.sum())],
        "mean_days": [float(repeat_means.mean()) if repeat_means.size else np.nan],
        "median_days": [float(np.median(repeat_means)) if repeat_means.size else np.nan],
        "pooled_days": [float(_ratio(tenure[repeat].sum(), gaps[repeat].sum()))],
    })
    return InterPurchaseTime(table, base)


# --------------------------------------------------------------------------- referrals


@dataclass(frozen=True)
class ReferralStats:
    """Referral rates (`summary`), one row per referral tree (`trees`) and looping referrals (`cycles`)."""

    summary: pd.DataFrame
    trees: pd.DataFrame
    cycles: pd.DataFrame


def _doubling_steps(n: int) -> int:
    return max(1, int(np.ceil(np.log2(max(n, 2)))) + 1)


def referral_stats(referrals: pd.DataFrame, customers: pd.DataFrame) -> ReferralStats:
    """Referral rate, referred share, referral trees (root, size, depth) and referral cycles.

    >>> referrals = pd.DataFrame({"referrer_id": ["a", "b", "a", "x", "y"],
    ...                           "referred_id": ["b", "c", "d", "y", "x"]})
    >>> base = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"]})
    >>> stats = referral_stats(referrals, base)
    >>> stats.summary[["referral_rate", "referred_share", "max_depth", "cycles"]]
       referral_rate  referred_share  max_depth  cycles
    0            0.4             0.6          2       1
    >>> stats.trees
      root_id  tree_customers  depth
    0       a               4      2
    >>> stats.cycles
      customer_id cycle  on_cycle
    0           x     x      True
    1           y     x      True
    """
    what = "referral statistics"
    hint = "pass the referrals table (referrer_id, referred_id, optional date) and the customers table (customer_id)"
    referrals = _frame(referrals, what, ["referrer_id", "referred_id"], hint)
    customers = _frame(customers, what, ["customer_id"], hint)
    referrer, referrer_text, referrer_values = _ids(referrals, "referrer_id", "referrals")
    referred, referred_text, referred_values = _ids(referrals, "referred_id", "referrals")
    _, base_text, _ = _ids(customers, "customer_id", "customers")

    # one numbering of everyone in a referral, in id order (so "smallest id" is the smallest code);
    # ids are matched as text, and ordered and reported as they are (so 9 < 10 and an int id stays an int)
    node_text, first, inverse = np.unique(np.r_[referrer_text, referred_text], return_index=True, return_inverse=True)
    nodes = np.r_[referrer_values, referred_values][first] if first.size else np.array([], dtype=object)
    try:
        natural = np.argsort(nodes, kind="stable")
    except TypeError:  # ids of mixed types (numbers and text) have no order but that of their text
        natural = np.arange(nodes.size)
    rank = np.empty(natural.size, np.int64)
    rank[natural] = np.arange(natural.size)
    node_text, nodes, inverse = node_text[natural], nodes[natural], rank[inverse]
    referrer = inverse[: referrer_text.size][referrer]
    referred = inverse[referrer_text.size:][referred]
    in_referrals = pd.Index(node_text).get_indexer(base_text)
    refers = np.zeros(nodes.size, bool)
    refers[referrer] = True
    was_referred = np.zeros(nodes.size, bool)
    was_referred[referred] = True
    n_customers = base_text.size
    referrers_in_base = int(refers[in_referrals[in_referrals >= 0]].sum())
    referred_in_base = int(was_referred[in_referrals[in_referrals >= 0]].sum())

    # one referrer per referred customer: the earliest referral (undated ones last), then the smallest referrer id
    if "date" in referrals.columns:
        raw = referrals["date"]
        parsed = raw if pd.api.types.is_datetime64_any_dtype(raw.dtype) else pd.to_datetime(raw, errors="coerce")
        bad = (parsed.isna() & raw.notna()).to_numpy()
        if bad.any():
            raise InvalidDataError(f"referrals: column 'date' must be a date: {_example(referrals, bad)}",
                                   hint="fix these dates or leave them empty")
        day = parsed.to_numpy().astype("datetime64[D]").astype(np.int64)
        day = np.where(parsed.isna().to_numpy(), np.iinfo(np.int64).max, day)
    else:
        day = np.zeros(referrer.size, np.int64)
    order = np.lexsort((referrer, day, referred))
    first = np.r_[True, referred[order][1:] != referred[order][:-1]] if order.size else np.zeros(0, bool)
    kept = order[first]
    duplicates = int(referrer.size - kept.size)

    n = nodes.size
    sentinel = n  # the parent of every root; points to itself
    parent = np.full(n + 1, sentinel, dtype=np.int64)
    parent[referred[kept]] = referrer[kept]
    has_children = np.zeros(n + 1, bool)
    has_children[referrer[kept]] = True

    # pointer doubling: jump = 2^k-th ancestor, dist = steps taken until the sentinel
    jump = parent.copy()
    dist = np.ones(n + 1, dtype=np.int64)
    dist[sentinel] = 0
    smallest = np.minimum(np.arange(n + 1), parent)  # smallest node among the first 2^k on the path
    for _ in range(_doubling_steps(n + 1)):
        dist = dist + dist[jump]
        smallest = np.minimum(smallest, smallest[jump])
        jump = jump[jump]
    in_tree = jump[:n] == sentinel
    # on a cycle: the nodes reached after >= n steps from a node that never reaches the sentinel
    on_cycle = np.zeros(n, bool)
    on_cycle[jump[:n][~in_tree]] = True
    # a cycle's name: its smallest node; those below a cycle take the name of the cycle they fall into
    cycle_of = np.where(on_cycle, smallest[:n], -1)
    cycle_of = np.where(~in_tree & ~on_cycle, cycle_of[np.minimum(jump[:n], n - 1)] if n else cycle_of, cycle_of)
    looped = np.flatnonzero(~in_tree)
    cycles = pd.DataFrame({
        "customer_id": nodes[looped].astype(object),
        "cycle": nodes[cycle_of[looped]].astype(object) if looped.size else np.array([], dtype=object),
        "on_cycle": on_cycle[looped],
    })
    n_cycles = int(np.unique(cycle_of[on_cycle]).size)
    if n_cycles:
        logger.warning("referrals: %d referral cycle(s) involving %d customer(s) (for example %s); "
                       "they are left out of the referral trees", n_cycles, looped.size, nodes[looped[0]])

    # roots and their trees: depth = dist - 1 (the root is one step from the sentinel)
    depth = dist[:n] - 1
    up = np.where(parent[:n] == sentinel, np.arange(n), parent[:n])
    root = up.copy()
    for _ in range(_doubling_steps(n + 1)):
        root = root[root]
    tree_nodes = np.flatnonzero(in_tree)
    is_root = in_tree & (parent[:n] == sentinel) & has_children[:n]
    roots = np.flatnonzero(is_root)
    size = np.bincount(root[tree_nodes], minlength=n)
    deepest = np.zeros(n, dtype=np.int64)
    np.maximum.at(deepest, root[tree_nodes], depth[tree_nodes])
    trees = pd.DataFrame({
        "root_id": nodes[roots],
        "tree_customers": size[roots].astype(np.int64),
        "depth": deepest[roots].astype(np.int64),
    })
    summary = pd.DataFrame({
        "customers": [n_customers],
        "referrers": [referrers_in_base],
        "referral_rate": [float(_ratio(referrers_in_base, n_customers))],
        "referred_customers": [referred_in_base],
        "referred_share": [float(_ratio(referred_in_base, n_customers))],
        "referrals": [int(referrer.size)],
        "duplicate_referrals": [duplicates],
        "trees": [len(trees)],
        "max_depth": [int(trees["depth"].max()) if len(trees) else 0],
        "mean_depth": [float(trees["depth"].mean()) if len(trees) else np.nan],
        "cycles": [n_cycles],
        "cycle_customers": [int(looped.size)],
    })
    return ReferralStats(summary, trees, cycles)


# --------------------------------------------------------------------------- satisfaction


@dataclass(frozen=True)
class SatisfactionTables:
    """Complaint rate, mean CSAT and NPS for the base, per period and per segment."""

    base: pd.DataFrame
    by_period: pd.DataFrame
    by_segment: pd.DataFrame


_MEASURES = ("complaint", "satisfaction", "nps")


def _complaints(surveys: pd.DataFrame, what: str) -> np.ndarray:
    """The complaint column as 1.0 (yes), 0.0 (no) or NaN (no answer)."""
    raw = surveys["complaint"]
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64").to_numpy(dtype=float, na_value=np.nan) if raw.dtype != bool else raw.to_numpy(float)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = raw.map({True: 1.0, False: 0.0}, na_action="ignore").astype("float64").to_numpy()
        values = np.where(raw.isna().to_numpy(), np.nan, values)
    bad = ~np.isnan(values) & (values != 0) & (values != 1)
    bad |= np.isnan(values) & raw.notna().to_numpy()
    if bad.any():
        raise InvalidDataError(
            f"{what}: column 'complaint' must be yes/no (true/false or 1/0): {_example(surveys, bad)}",
            hint="ingest the surveys table with cvm.data.ingest, which reads yes/no answers")
    return values


def _measures(answers: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """The satisfaction columns per group, from per-customer latest answers."""
    grouped = answers.groupby(groups, sort=True, dropna=True, observed=True) if groups else None

    def agg(column: str, how: str) -> pd.Series | float:
        if grouped is None:
            return getattr(answers[column], how)()
        return getattr(grouped[column], how)()

    parts = {
        "respondents": agg("answered", "sum"),
        "complaint_answers": agg("complaint", "count"),
        "complaints": agg("complaint", "sum"),
        "satisfaction_answers": agg("satisfaction", "count"),
        "mean_satisfaction": agg("satisfaction", "mean"),
        "nps_answers": agg("nps", "count"),
        "promoters": agg("promoter", "sum"),
        "passives": agg("passive", "sum"),
        "detractors": agg("detractor", "sum"),
    }
    table = pd.DataFrame(parts) if groups else pd.DataFrame({k: [v] for k, v in parts.items()})
    for c in ("respondents", "complaint_answers", "complaints", "satisfaction_answers", "nps_answers",
              "promoters", "passives", "detractors"):
        table[c] = table[c].fillna(0).astype(np.int64)
    table["mean_satisfaction"] = table["mean_satisfaction"].astype(float)
    table["complaint_rate"] = _ratio(table["complaints"], table["complaint_answers"])
    table["promoter_share"] = _ratio(table["promoters"], table["nps_answers"])
    table["detractor_share"] = _ratio(table["detractors"], table["nps_answers"])
    table["nps"] = 100.0 * (table["promoter_share"] - table["detractor_share"])
    return table.reset_index() if groups else table


def _latest_answers(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per ``keys``: each measure's latest non-missing answer (rows are in time order)."""
    last = rows.groupby(keys, sort=False)[list(_MEASURES)].last()  # last skips missing answers
    return last.reset_index()


def satisfaction(surveys: pd.DataFrame, segments: pd.DataFrame | None = None,
                 period: TimeUnit | str = "month") -> SatisfactionTables:
    """Complaint rate, mean CSAT and NPS from each customer's latest answers: base, per period, per segment.

    >>> surveys = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d", "a"],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-02-01", "2024-02-03", "2024-02-10"]),
    ...     "satisfaction": [2.0, 4.0, 5.0, 3.0, 4.0],
    ...     "nps": [3, 9, 10, 7, 6],
    ...     "complaint": [True, False, False, False, False],
    ... })
    >>> tables = satisfaction(surveys, pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...                                              "tier": ["vip", "vip", "other", "other"]}))
    >>> tables.base[["respondents", "complaint_rate", "mean_satisfaction", "nps"]]
       respondents  complaint_rate  mean_satisfaction   nps
    0            4             0.0                4.0  25.0
    >>> tables.by_period[["period_start", "respondents", "nps"]]
      period_start  respondents   nps
    0   2024-01-01            2   0.0
    1   2024-02-01            3   0.0
    >>> tables.by_segment[["segment", "segment_value", "respondents", "nps"]]
      segment segment_value  respondents   nps
    0    tier         other            2  50.0
    1    tier           vip            2   0.0
    """
    what = "satisfaction"
    hint = "pass the surveys table (customer_id, date, and satisfaction, nps or complaint)"
    period = TimeUnit.parse(period)
    surveys = _frame(surveys, what, ["customer_id", "date"], hint)
    present = [m for m in _MEASURES if m in surveys.columns]
    if not present:
        raise MissingColumnError(
            f"{what}: the surveys table has none of the columns 'satisfaction', 'nps', 'complaint' "
            f"(columns: {list(surveys.columns)})", hint=hint)
    customer, survey_ids, _ = _ids(surveys, "customer_id", what)
    days = _days(surveys, "date", what)
    rows = pd.DataFrame({"customer_id": customer, "day": days})
    rows["satisfaction"] = (_numbers(surveys, "satisfaction", what, allow_missing=True)
                            if "satisfaction" in surveys.columns else np.nan)
    if "nps" in surveys.columns:
        nps = _numbers(surveys, "nps", what, allow_missing=True)
        bad = ~np.isnan(nps) & ((nps < 0) | (nps > 10) | (nps != np.floor(nps)))
        if bad.any():
            raise InvalidDataError(
                f"{what}: column 'nps' must be a whole number from 0 to 10: {_example(surveys, bad)}",
                hint="fix these scores or leave them empty")
        rows["nps"] = nps
    else:
        rows["nps"] = np.nan
    rows["complaint"] = _complaints(surveys, what) if "complaint" in surveys.columns else np.nan
    rows["period"] = _period_numbers(days, period)
    rows = rows.iloc[np.argsort(days, kind="stable")]

    def finish(latest: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
        score = latest["nps"].to_numpy(dtype=float)
        answered = latest[list(_MEASURES)].notna().any(axis=1).to_numpy()
        latest = latest.assign(promoter=score >= 9, passive=(score >= 7) & (score <= 8), detractor=score <= 6,
                               answered=answered)
        table = _measures(latest, groups)
        if groups:  # a period or segment value is listed only when someone answered in it
            table = table[table["respondents"].to_numpy() > 0].reset_index(drop=True)
        return table

    latest = _latest_answers(rows, ["customer_id"])
    base = finish(latest, [])[SATISFACTION_COLUMNS]

    by_period = finish(_latest_answers(rows, ["period", "customer_id"]), ["period"])
    by_period.insert(0, "period_start", _dates(_period_starts(by_period["period"].to_numpy(np.int64), period)))
    by_period = by_period[["period_start", *SATISFACTION_COLUMNS]]

    frames = []
    if segments is not None:
        seg_hint = "pass a DataFrame with customer_id and one or more segment columns, one row per customer"
        segments = _frame(segments, "satisfaction segments", ["customer_id"], seg_hint)
        seg_codes, seg_ids, _ = _ids(segments, "customer_id", "satisfaction segments")
        repeated = pd.Series(seg_codes).duplicated().to_numpy()
        if repeated.any():
            raise InvalidDataError(
                f"satisfaction segments: column 'customer_id' must be unique: {_example(segments, repeated)}",
                hint=seg_hint)
        columns = [c for c in segments.columns if c != "customer_id"]
        if not columns:
            raise MissingColumnError(f"satisfaction segments: the table has no segment column besides "
                                     f"'customer_id'", hint=seg_hint)
        # position of each surveyed customer's row in `segments`
        row_of_id = np.full(seg_ids.size, -1, np.int64)
        row_of_id[seg_codes] = np.arange(seg_codes.size)
        id_position = pd.Index(seg_ids).get_indexer(survey_ids)
        survey_row = np.where(id_position >= 0, row_of_id[np.maximum(id_position, 0)], -1)
        position = survey_row[latest["customer_id"].to_numpy(np.int64)] if survey_ids.size else np.zeros(0, np.int64)
        found = position >= 0
        for column in columns:
            values = segments[column].to_numpy(dtype=object)
            joined = latest[found].assign(segment_value=values[position[found]])
            joined = joined[pd.notna(joined["segment_value"].to_numpy())]
            table = finish(joined, ["segment_value"]) if len(joined) else finish(joined.iloc[:0], ["segment_value"])
            table.insert(0, "segment", column)
            frames.append(table)
    if frames:
        by_segment = pd.concat(frames, ignore_index=True)
    else:
        by_segment = finish(latest.iloc[:0].assign(segment_value=pd.Series(dtype=object)), ["segment_value"])
        by_segment.insert(0, "segment", pd.Series(dtype=object))
    by_segment = by_segment[["segment", "segment_value", *SATISFACTION_COLUMNS]].reset_index(drop=True)
    return SatisfactionTables(base, by_period, by_segment)
