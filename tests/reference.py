"""A slow, obviously correct plain-Python version of every summary in `cvm.data.summaries`.

Written from the definitions in the module docstring of `cvm.data.summaries`, with dicts and
loops only (no pandas, no SQL), so the consistency tests can check the Ibis expressions on
each engine against it. Input rows are dicts with `customer_id`, `date` (a
``datetime.date``), `amount`, and optionally `order_id` and `product_cost`. Each function
returns a list of dicts, sorted like the real summary.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

GREGORIAN_YEAR_DAYS = 365.2425
UNIT_DAYS = {
    "day": 1.0,
    "week": 7.0,
    "month": GREGORIAN_YEAR_DAYS / 12,
    "quarter": GREGORIAN_YEAR_DAYS / 4,
    "year": GREGORIAN_YEAR_DAYS,
}
NO_ORDER_PREFIX = "#day:"

Row = dict[str, Any]


# ---------------------------------------------------------------------------- calendar


def period_start(day: dt.date, period: str) -> dt.date:
    """First day of the calendar period holding ``day`` (weeks start on Monday)."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if period == "year":
        return dt.date(day.year, 1, 1)
    raise ValueError(period)


def next_period(start: dt.date, period: str) -> dt.date:
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month0 = start.month - 1 + months
    return dt.date(start.year + month0 // 12, month0 % 12 + 1, 1)


def periods_between(first: dt.date, last: dt.date, period: str) -> int:
    """How many periods lie from the period starting ``first`` to the one starting ``last``."""
    n = 0
    p = first
    if last >= first:
        while p < last:
            p = next_period(p, period)
            n += 1
        return n
    while p > last:
        p = previous_period(p, period)
        n -= 1
    return n


def previous_period(start: dt.date, period: str) -> dt.date:
    return period_start(start - dt.timedelta(days=1), period)


# ---------------------------------------------------------------------------- purchases


def _order_key(row: Row) -> str:
    if row.get("order_id") is not None:
        return row["order_id"]
    return NO_ORDER_PREFIX + row["date"].isoformat()


def purchases(rows: list[Row], end: dt.date, count_by: str = "day") -> dict[str, list[tuple]]:
    """Per customer, their purchases up to ``end`` as (date, tie_key, spend), in time order.

    A purchase is a purchase day (all rows of the day summed), or with ``count_by="order"``
    an order (rows with the same order key summed; its date is its earliest row).
    """
    groups: dict[tuple, list] = {}
    for row in rows:
        if row["date"] > end:
            continue
        if count_by == "day":
            key = (row["customer_id"], row["date"])
            tie = ""
        else:
            key = (row["customer_id"], _order_key(row))
            tie = key[1]
        if key not in groups:
            groups[key] = [row["date"], tie, 0.0]
        groups[key][0] = min(groups[key][0], row["date"])
        groups[key][2] += row["amount"]
    out: dict[str, list[tuple]] = defaultdict(list)
    for (customer, _), (date, tie, spend) in groups.items():
        out[customer].append((date, tie, spend))
    for customer in out:
        out[customer].sort(key=lambda p: (p[0], p[1]))
    return dict(out)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------------------- BTYD


def btyd_summary(rows, *, observation_end, unit="week", count_by="day") -> list[Row]:
    days = UNIT_DAYS[unit]
    return [_btyd_row(customer, ps, observation_end, days)
            for customer, ps in sorted(purchases(rows, observation_end, count_by).items())]


def _btyd_row(customer, ps, end, days) -> Row:
    first, last = ps[0][0], ps[-1][0]
    repeat = [spend for _, _, spend in ps[1:]]
    return {
        "customer_id": customer,
        "frequency": len(ps) - 1,
        "recency": (last - first).days / days,
        "T": (end - first).days / days,
        "monetary_value": _mean(repeat),
    }


def calibration_holdout(rows, *, calibration_end, holdout_end, unit="week",
                        count_by="day") -> list[Row]:
    """Purchases are formed from the rows up to ``holdout_end``; an order is dated by its
    earliest row, so an order straddling the calibration end belongs to calibration."""
    days = UNIT_DAYS[unit]
    out = []
    for customer, ps in sorted(purchases(rows, holdout_end, count_by).items()):
        calibration = [p for p in ps if p[0] <= calibration_end]
        if not calibration:
            continue
        holdout = [spend for date, _, spend in ps if date > calibration_end]
        out.append({
            **_btyd_row(customer, calibration, calibration_end, days),
            "frequency_holdout": len(holdout),
            "revenue_holdout": sum(holdout),
            "monetary_value_holdout": _mean(holdout),
            "duration_holdout": (holdout_end - calibration_end).days / days,
        })
    return out


# ---------------------------------------------------------------------------- panel


def _sum_or_none(values: list) -> float | None:
    """SQL SUM: the sum of the values that are not NULL; NULL when there is none."""
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def marketing_cost_by_period(costs, customers, period, end) -> dict[tuple, float]:
    """(customer_id, period_start) -> marketing cost, segment costs shared equally."""
    out: dict[tuple, float] = defaultdict(float)
    members: dict[str, set] = defaultdict(set)
    for c in customers or []:
        if c.get("customer_id") is not None and c.get("segment") is not None:
            members[c["segment"]].add(c["customer_id"])
    for row in costs:
        if row["date"] > end:
            continue
        start = period_start(row["date"], period)
        if row.get("customer_id") is not None:
            out[(row["customer_id"], start)] += row["cost"]
        elif row.get("segment") is not None and customers is not None:
            group = members.get(row["segment"], set())
            for customer in group:
                out[(customer, start)] += row["cost"] / len(group)
    return dict(out)


def period_panel(rows, *, period="month", observation_end, marketing_costs=None,
                 customers=None, dense=False, count_by="day", has_cost=None) -> list[Row]:
    """``has_cost`` says whether the log has a product_cost column; an empty log cannot show it."""
    if has_cost is None:
        has_cost = any("product_cost" in r for r in rows) if rows else False
    cells: dict[tuple, dict] = {}

    def cell(key):
        if key not in cells:
            cells[key] = {"purchases": set(), "revenue": 0.0, "product_cost": [],
                          "marketing_cost": 0.0}
        return cells[key]

    for row in rows:
        if row["date"] > observation_end:
            continue
        c = cell((row["customer_id"], period_start(row["date"], period)))
        c["purchases"].add(row["date"] if count_by == "day" else _order_key(row))
        c["revenue"] += row["amount"]
        c["product_cost"].append(row.get("product_cost"))
    if marketing_costs is not None:
        for key, cost in marketing_cost_by_period(
            marketing_costs, customers, period, observation_end
        ).items():
            cell(key)["marketing_cost"] += cost
    if dense:
        end_period = period_start(observation_end, period)
        firsts: dict[str, dt.date] = {}
        for customer, start in cells:
            firsts[customer] = min(start, firsts.get(customer, start))
        for customer, start in firsts.items():
            p = start
            while p <= end_period:
                cell((customer, p))
                p = next_period(p, period)
    out = []
    for (customer, start), c in sorted(cells.items()):
        product_cost = (_sum_or_none(c["product_cost"]) or 0.0) if has_cost else None
        out.append({
            "customer_id": customer,
            "period_start": start,
            "orders": len(c["purchases"]),
            "revenue": c["revenue"],
            "product_cost": product_cost,
            "marketing_cost": c["marketing_cost"],
            "gross_margin": (None if product_cost is None
                             else c["revenue"] - product_cost - c["marketing_cost"]),
        })
    return out


# ---------------------------------------------------------------------------- RFM


def ntile(n_rows: int, buckets: int = 5) -> list[int]:
    """SQL NTILE: bucket numbers 1..buckets for rows in order; the first groups get one more."""
    size, extra = divmod(n_rows, buckets)
    out = []
    for b in range(1, buckets + 1):
        out += [b] * (size + (1 if b <= extra else 0))
    return out


def rfm_scores(rows, *, observation_end) -> list[Row]:
    table = {}
    for customer, ps in purchases(rows, observation_end, "day").items():
        table[customer] = {
            "customer_id": customer,
            "days_since_last_purchase": (observation_end - ps[-1][0]).days,
            "n_purchases": len(ps),
            "total_spend": sum(spend for _, _, spend in ps),
        }
    customers = list(table.values())
    for column, score, reverse in (
        ("days_since_last_purchase", "recency_score", True),
        ("n_purchases", "frequency_score", False),
        ("total_spend", "monetary_score", False),
    ):
        ordered = sorted(customers, key=lambda c: ((-c[column]) if reverse else c[column],
                                                   c["customer_id"]))
        for c, bucket in zip(ordered, ntile(len(ordered)), strict=True):
            c[score] = bucket
    for c in customers:
        c["rfm_score"] = c["recency_score"] * 100 + c["frequency_score"] * 10 + c["monetary_score"]
    return sorted(customers, key=lambda c: c["customer_id"])


# ---------------------------------------------------------------------------- cohorts


def cohort_table(rows, *, period="month", observation_end, customers=None,
                 count_by="day") -> list[Row]:
    has_cost = any("product_cost" in r for r in rows) if rows else False
    kept = [r for r in rows if r["date"] <= observation_end]
    acquired: dict[str, dt.date] = {}
    for r in kept:
        acquired[r["customer_id"]] = min(r["date"], acquired.get(r["customer_id"], r["date"]))
    given: dict[str, dt.date] = {}
    for c in customers or []:
        if c.get("customer_id") is not None and c.get("acquisition_date") is not None:
            date = c["acquisition_date"]
            given[c["customer_id"]] = min(date, given.get(c["customer_id"], date))
    for customer in acquired:
        acquired[customer] = given.get(customer, acquired[customer])
    cells: dict[tuple, dict] = {}
    for r in kept:
        cohort = period_start(acquired[r["customer_id"]], period)
        start = period_start(r["date"], period)
        c = cells.setdefault((cohort, start), {"customers": set(), "purchases": set(),
                                               "revenue": 0.0, "product_cost": []})
        c["customers"].add(r["customer_id"])
        c["purchases"].add((r["customer_id"],
                            r["date"] if count_by == "day" else _order_key(r)))
        c["revenue"] += r["amount"]
        c["product_cost"].append(r.get("product_cost"))
    out = []
    for (cohort, start), c in sorted(cells.items()):
        cost = (_sum_or_none(c["product_cost"]) or 0.0) if has_cost else None
        out.append({
            "cohort": cohort,
            "period_start": start,
            "period_index": periods_between(cohort, start, period),
            "active_customers": len(c["customers"]),
            "orders": len(c["purchases"]),
            "revenue": c["revenue"],
            "gross_margin": None if cost is None else c["revenue"] - cost,
        })
    return out


# ---------------------------------------------------------------------------- baskets


def customer_items(rows, *, observation_end, item="category", since=None) -> list[Row]:
    """Baskets (`cvm.data.baskets.customer_items`), sorted by customer and item."""
    days: dict[tuple, set] = defaultdict(set)
    for r in rows:
        value = r.get(item)
        value = None if value is None else str(value).strip()
        if (r["date"] <= observation_end and (since is None or r["date"] > since)
                and r["amount"] > 0 and value):
            days[(str(r["customer_id"]), value)].add(r["date"])
    return [{"customer_id": c, "item": i, "purchases": len(d), "first_purchase": min(d)}
            for (c, i), d in sorted(days.items())]


def _owners(baskets) -> dict[str, set]:
    owners: dict[str, set] = defaultdict(set)
    for b in baskets:
        owners[b["item"]].add(b["customer_id"])
    return owners


def item_rules(baskets, *, min_customers=5, min_lift=1.0, rules_per_item=20) -> list[Row]:
    """Co-purchase rules (`cvm.data.baskets.item_rules`), sorted by antecedent and consequent."""
    owners = _owners(baskets)
    n = len({b["customer_id"] for b in baskets})
    kept = []
    for a, buyers_a in owners.items():
        rules = []
        for c, buyers_c in owners.items():
            both = len(buyers_a & buyers_c)
            if a == c or both < min_customers:
                continue
            confidence = both / len(buyers_a)
            lift = confidence / (len(buyers_c) / n)
            if lift > min_lift:
                rules.append({"antecedent": a, "consequent": c, "customers_both": both,
                              "customers_antecedent": len(buyers_a),
                              "customers_consequent": len(buyers_c), "support": both / n,
                              "confidence": confidence, "lift": lift})
        rules.sort(key=lambda r: (-r["confidence"], -r["lift"], r["consequent"]))
        kept.extend(rules[:rules_per_item])
    return sorted(kept, key=lambda r: (r["antecedent"], r["consequent"]))


def _popularity(baskets) -> list[tuple[str, int]]:
    """(item, customers), most popular first, ties by item."""
    owners = _owners(baskets)
    return sorted(((i, len(b)) for i, b in owners.items()), key=lambda p: (-p[1], p[0]))


def popular_suggestions(baskets, *, top=3) -> list[Row]:
    """Most-popular baseline (`cvm.data.baskets.popular_suggestions`), by customer and rank."""
    n = len({b["customer_id"] for b in baskets})
    held: dict[str, set] = defaultdict(set)
    for b in baskets:
        held[b["customer_id"]].add(b["item"])
    out = []
    for customer in sorted(held):
        lacking = [(i, k) for i, k in _popularity(baskets) if i not in held[customer]]
        out.extend({"customer_id": customer, "rank": rank, "item": i, "customers": k,
                    "share": k / n} for rank, (i, k) in enumerate(lacking[:top], start=1))
    return out


def cross_sell_suggestions(baskets, rules, *, top=3, fill_with_popular=False) -> list[Row]:
    """Suggestions (`cvm.data.baskets.cross_sell_suggestions`), by customer and rank."""
    held: dict[str, set] = defaultdict(set)
    for b in baskets:
        held[b["customer_id"]].add(b["item"])
    popularity = _popularity(baskets)
    out = []
    for customer in sorted(held):
        best: dict[str, Row] = {}
        for r in rules:
            if r["antecedent"] in held[customer] and r["consequent"] not in held[customer]:
                key = (-r["confidence"], -r["lift"], r["antecedent"])
                current = best.get(r["consequent"])
                if current is None or key < (-current["confidence"], -current["lift"],
                                             current["antecedent"]):
                    best[r["consequent"]] = r
        ranked = sorted(best.values(), key=lambda r: (-r["confidence"], -r["lift"], r["consequent"]))
        rows = [{"customer_id": customer, "item": r["consequent"], "antecedent": r["antecedent"],
                 "customers_both": r["customers_both"], "support": r["support"],
                 "confidence": r["confidence"], "lift": r["lift"], "source": "rules"}
                for r in ranked[:top]]
        if fill_with_popular:
            chosen = {r["item"] for r in rows}
            for i, _ in popularity:
                if len(rows) >= top:
                    break
                if i not in held[customer] and i not in chosen:
                    rows.append({"customer_id": customer, "item": i, "antecedent": None,
                                 "customers_both": None, "support": None, "confidence": None,
                                 "lift": None, "source": "popular"})
        for rank, row in enumerate(rows, start=1):
            out.append({"rank": rank, **row})
    return out
