"""`value_history` and `value_history_periods`: hand-computed cases, input checks, and agreement
with a slow plain-Python reference on random logs, on every engine (see `tests/conftest.py`).

The reference (`reference_value_history` below) is written from the definitions in the module
docstring of `cvm.data.summaries` with dicts and loops only; the calendar and the allocation
of marketing costs come from `tests/reference.py`, the reference of `period_panel`, so the
value history is checked against the same cost allocation as the period panel.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import defaultdict

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cvm.data import summaries
from cvm.errors import ConfigError, MissingColumnError
from tests import reference

D = dt.date
MEASURES = ("revenue", "product_cost", "marketing_cost", "gross_margin", "orders")
TOTALS = ("customer_id", "first_purchase", "last_purchase", "n_purchases", "tenure_days",
          "days_since_last_purchase", "revenue", "returns", "gross_sales", "product_cost",
          "marketing_cost", "gross_margin")


PREVIOUS = ("n_purchases_previous", "recency_days_previous", "tenure_days_previous")


def history_columns(periods: int) -> list[str]:
    return [f"{m}_hist_{k}" for k in range(1, periods + 1) for m in MEASURES] + list(PREVIOUS)


def row(totals: tuple, *history: tuple, previous: tuple) -> dict:
    """One expected row: the totals, then (revenue, product, marketing, margin, orders) per k,
    then (purchase days, recency days, tenure days) one period earlier."""
    values = dict(zip(TOTALS, totals, strict=True))
    for k, h in enumerate(history, start=1):
        values.update(zip((f"{m}_hist_{k}" for m in MEASURES), h, strict=True))
    values.update(zip(PREVIOUS, previous, strict=True))
    return values


def row_history(*history: tuple) -> dict:
    return {f"{m}_hist_{k}": v for k, h in enumerate(history, start=1)
            for m, v in zip(MEASURES, h, strict=True)}


# ------------------------------------------------------------------ hand-computed

LOG = pa.Table.from_pylist([
    {"customer_id": "a", "date": D(2023, 12, 20), "amount": 50.0, "product_cost": 20.0},
    {"customer_id": "a", "date": D(2024, 1, 5), "amount": 10.0, "product_cost": 4.0},
    {"customer_id": "a", "date": D(2024, 1, 5), "amount": -4.0, "product_cost": -2.0},
    {"customer_id": "a", "date": D(2024, 3, 2), "amount": 20.0, "product_cost": 8.0},
    {"customer_id": "a", "date": D(2024, 3, 20), "amount": 99.0, "product_cost": 1.0},
    {"customer_id": "b", "date": D(2024, 2, 10), "amount": 7.0, "product_cost": 3.0},
    {"customer_id": "b", "date": D(2024, 2, 12), "amount": -7.0, "product_cost": -3.0},
    {"customer_id": "b", "date": D(2024, 3, 15), "amount": 30.0, "product_cost": None},
    {"customer_id": "c", "date": D(2024, 4, 1), "amount": 5.0, "product_cost": 1.0},
])
COSTS = pa.Table.from_pylist([
    {"customer_id": "a", "segment": None, "date": D(2024, 2, 15), "cost": 1.5},
    {"customer_id": "a", "segment": None, "date": D(2023, 11, 1), "cost": 2.0},
    {"customer_id": None, "segment": "s1", "date": D(2024, 3, 1), "cost": 6.0},
    {"customer_id": None, "segment": "s1", "date": D(2024, 3, 16), "cost": 60.0},  # after end
    {"customer_id": "d", "segment": None, "date": D(2024, 1, 10), "cost": 5.0},  # never buys
])
CUSTOMERS = pa.Table.from_pylist([
    {"customer_id": c, "segment": "s1"} for c in ("a", "b", "d")
])
END = D(2024, 3, 15)


def test_correctness_months_with_returns_costs_and_a_partial_month(backend):
    """End 15 Mar 2024, three months: January, February and 1-15 March.

    a buys on 20 Dec (before the history), on 5 Jan (10 and a 4 return: one purchase day)
    and on 2 Mar; the 20 Mar purchase is after the end. Marketing on a: 2.0 in Nov (total
    only) and 1.5 in Feb; segment s1's 6.0 in March is shared by a, b and d (2.0 each).
    b buys on 10 Feb, returns it all on 12 Feb (a purchase day with only a return) and buys
    on the end day itself, without a product cost (adds 0). c buys only after the end and d
    only has marketing cost: neither is in the table.
    """
    log = backend.load(LOG)
    costs = backend.load(COSTS)
    customers = backend.load(CUSTOMERS)
    result = summaries.value_history(log, observation_end=END, marketing_costs=costs,
                                     customers=customers)
    assert result.columns == (*TOTALS, *history_columns(3))
    assert result.to_pyarrow().to_pylist() == [
        row(("a", D(2023, 12, 20), D(2024, 3, 2), 3, 86, 13,
             76.0, 4.0, 80.0, 30.0, 5.5, 40.5),
            (6.0, 2.0, 0.0, 4.0, 1), (0.0, 0.0, 1.5, -1.5, 0), (20.0, 8.0, 2.0, 10.0, 1),
            previous=(2, 16, 71)),  # as of 29 Feb: 20 Dec and 5 Jan
        row(("b", D(2024, 2, 10), D(2024, 3, 15), 3, 34, 0,
             30.0, 7.0, 37.0, 0.0, 2.0, 28.0),
            (0.0, 0.0, 0.0, 0.0, 0), (0.0, 0.0, 0.0, 0.0, 2), (30.0, 0.0, 2.0, 28.0, 1),
            previous=(2, 2, 19)),  # 10 and 12 Feb
    ]


def test_correctness_quarters(backend):
    """The same log by quarter, two periods: Q4 2023 and 1 Jan - 15 Mar 2024."""
    log = backend.load(LOG)
    costs = backend.load(COSTS)
    customers = backend.load(CUSTOMERS)
    result = summaries.value_history(log, observation_end=END, period="quarter", periods=2,
                                     marketing_costs=costs, customers=customers)
    got = result.select("customer_id", *history_columns(2)).to_pyarrow().to_pylist()
    assert got == [
        {"customer_id": "a", **row_history((50.0, 20.0, 2.0, 28.0, 1),
                                           (26.0, 10.0, 3.5, 12.5, 2)),
         **dict(zip(PREVIOUS, (1, 0, 11)))},  # as of 31 Dec 2023
        {"customer_id": "b", **row_history((0.0, 0.0, 0.0, 0.0, 0),
                                           (30.0, 0.0, 2.0, 28.0, 3)),
         **dict(zip(PREVIOUS, (0, None, None)))},
    ]


def test_correctness_without_product_or_marketing_cost(backend):
    """No product_cost column: product cost and margins are NULL; no costs table: 0."""
    log = backend.load(LOG.drop_columns(["product_cost"]))
    result = summaries.value_history(log, observation_end=END, period="year", periods=1)
    assert result.to_pyarrow().to_pylist() == [
        row(("a", D(2023, 12, 20), D(2024, 3, 2), 3, 86, 13,
             76.0, 4.0, 80.0, None, 0.0, None),
            (26.0, None, 0.0, None, 2), previous=(1, 0, 11)),  # as of 31 Dec 2023
        row(("b", D(2024, 2, 10), D(2024, 3, 15), 3, 34, 0,
             30.0, 7.0, 37.0, None, 0.0, None),
            (30.0, None, 0.0, None, 3), previous=(0, None, None)),  # not a customer yet
    ]


def test_correctness_matches_btyd_customers_and_rfm_counts():
    """Same customers as btyd_summary; n_purchases and recency as rfm_scores."""
    log = ibis.memtable(LOG)
    history = summaries.value_history(log, observation_end=END).to_pyarrow().to_pylist()
    btyd = summaries.btyd_summary(log, observation_end=END).to_pyarrow().to_pylist()
    rfm = summaries.rfm_scores(log, observation_end=END).to_pyarrow().to_pylist()
    assert [r["customer_id"] for r in history] == [r["customer_id"] for r in btyd]
    assert [(r["n_purchases"], r["days_since_last_purchase"], r["revenue"]) for r in history] == [
        (r["n_purchases"], r["days_since_last_purchase"], r["total_spend"]) for r in rfm]


def test_correctness_output_types():
    log = ibis.memtable(LOG)
    types = {name: str(t) for name, t in summaries.value_history(
        log, observation_end=END, periods=2).schema().items()}
    assert types == {
        "customer_id": "string", "first_purchase": "date", "last_purchase": "date",
        **{c: "int64" for c in ("n_purchases", "tenure_days", "days_since_last_purchase")},
        **{c: "float64" for c in TOTALS[6:]},
        **{c: "int64" if c.startswith("orders") or c in PREVIOUS else "float64" for c in history_columns(2)},
    }


def test_correctness_history_periods():
    """Oldest first; the last period ends on the observation end; leap years; year ends."""
    assert summaries.value_history_periods(D(2024, 3, 15), "month", 3) == [
        (D(2024, 1, 1), D(2024, 1, 31)), (D(2024, 2, 1), D(2024, 2, 29)),
        (D(2024, 3, 1), D(2024, 3, 15))]
    assert summaries.value_history_periods("2024-01-31", "quarter", 2) == [
        (D(2023, 10, 1), D(2023, 12, 31)), (D(2024, 1, 1), D(2024, 1, 31))]
    assert summaries.value_history_periods(dt.datetime(2023, 12, 31, 9), "years", 2) == [
        (D(2022, 1, 1), D(2022, 12, 31)), (D(2023, 1, 1), D(2023, 12, 31))]
    months = summaries.value_history_periods(D(2024, 12, 31), "month", 120)
    assert len(months) == 120 and months[0] == (D(2015, 1, 1), D(2015, 1, 31))
    assert all(b[0] - a[1] == dt.timedelta(days=1) for a, b in zip(months, months[1:]))
    assert summaries.value_history_periods(D(2024, 3, 15)) == summaries.value_history_periods(
        D(2024, 3, 15), "month", 3)


def test_correctness_timestamps_and_unsorted_rows():
    """Timestamps count on their day; sort=False gives the same rows in some order."""
    log = ibis.memtable(LOG)
    expected = summaries.value_history(log, observation_end=END).to_pyarrow().to_pylist()
    stamped = log.mutate(date=log.date.cast("timestamp") + ibis.interval(hours=23))
    assert summaries.value_history(stamped, observation_end=END).to_pyarrow().to_pylist() == (
        expected)
    unsorted = summaries.value_history(log, observation_end=END, sort=False)
    assert sorted(unsorted.to_pyarrow().to_pylist(), key=lambda r: r["customer_id"]) == expected


def test_correctness_segment_costs_without_customers_warn_and_are_ignored():
    log = ibis.memtable(LOG)
    with pytest.warns(UserWarning, match="segment-level cost rows .* are ignored"):
        result = summaries.value_history(log, observation_end=END,
                                         marketing_costs=ibis.memtable(COSTS))
    assert [r["marketing_cost"] for r in result.to_pyarrow().to_pylist()] == [3.5, 0.0]


# ------------------------------------------------------------------ input checks

SMALL = ibis.memtable({"customer_id": ["a"], "date": [D(2024, 1, 1)], "amount": [1.0]})


@pytest.mark.parametrize("period", ["day", "week", "weeks"])
def test_inputchecks_period_must_be_month_quarter_or_year(period):
    for call in (lambda: summaries.value_history(SMALL, observation_end=END, period=period),
                 lambda: summaries.value_history_periods(END, period, 3)):
        with pytest.raises(ConfigError, match="period must be month, quarter or year") as info:
            call()
        assert "period_panel" in str(info.value)


def test_inputchecks_unknown_period():
    with pytest.raises(ConfigError, match="unknown time unit 'decade'"):
        summaries.value_history(SMALL, observation_end=END, period="decade")
    with pytest.raises(ConfigError, match="period must be a time unit"):
        summaries.value_history_periods(END, 12, 3)


@pytest.mark.parametrize("periods", [0, -1, 121, 1000])
def test_inputchecks_periods_out_of_range(periods):
    for call in (lambda: summaries.value_history(SMALL, observation_end=END, periods=periods),
                 lambda: summaries.value_history_periods(END, "month", periods)):
        with pytest.raises(ConfigError, match=f"periods must be from 1 to 120, got {periods}"):
            call()


@pytest.mark.parametrize("periods", [2.5, "3", True, None])
def test_inputchecks_periods_not_a_whole_number(periods):
    with pytest.raises(ConfigError, match="periods must be a whole number of periods"):
        summaries.value_history(SMALL, observation_end=END, periods=periods)


def test_inputchecks_tables_dates_and_flags():
    with pytest.raises(MissingColumnError, match=r"no column 'amount'.*it has: customer_id, date"):
        summaries.value_history(SMALL.drop("amount"), observation_end=END)
    frame = pd.DataFrame({"customer_id": ["a"], "date": [END], "amount": [1.0]})
    with pytest.raises(ConfigError, match="must be an Ibis table, got DataFrame"):
        summaries.value_history(frame, observation_end=END)
    with pytest.raises(ConfigError, match=r"transactions.amount must be numeric, it is string"):
        summaries.value_history(SMALL.mutate(amount=SMALL.amount.cast("string")),
                                observation_end=END)
    with pytest.raises(ConfigError, match="observation_end must be a date or an ISO date"):
        summaries.value_history(SMALL, observation_end="15/03/2024")
    with pytest.raises(ConfigError, match="observation_end must be a date or an ISO date"):
        summaries.value_history_periods(None, "month", 3)
    with pytest.raises(ConfigError, match="sort must be True or False"):
        summaries.value_history(SMALL, observation_end=END, sort="yes")
    with pytest.raises(TypeError):
        summaries.value_history(SMALL, END)  # type: ignore[misc]


def test_inputchecks_costs_and_customers():
    costs = ibis.memtable({"customer_id": ["a"], "date": [END], "amount": [3.0]})
    with pytest.raises(MissingColumnError, match="marketing_costs has no column 'cost'"):
        summaries.value_history(SMALL, observation_end=END, marketing_costs=costs)
    segment_costs = ibis.memtable(COSTS)
    with pytest.raises(MissingColumnError, match="customers has no column 'segment'"):
        summaries.value_history(SMALL, observation_end=END, marketing_costs=segment_costs,
                                customers=ibis.memtable({"customer_id": ["a"]}))
    with pytest.raises(ConfigError, match="customers must be an Ibis table"):
        summaries.value_history(SMALL, observation_end=END, customers=[("a", "s1")])


# ------------------------------------------------------------------ consistency

EXAMPLES = {"duckdb": 25, "postgres": 10, "spark": 3}
BASE = D(2023, 11, 20)  # the log spans a year end and a leap day
SPAN = 150
IDS = [f"c{i:02d}" for i in range(6)]  # fixed width, lower case: one order on every engine
TRANSACTIONS = pa.schema([("customer_id", pa.string()), ("date", pa.date32()),
                          ("amount", pa.float64()), ("product_cost", pa.float64())])
COST_TABLE = pa.schema([("customer_id", pa.string()), ("segment", pa.string()),
                        ("date", pa.date32()), ("cost", pa.float64())])
CUSTOMER_TABLE = pa.schema([("customer_id", pa.string()), ("segment", pa.string())])


def day(offset: int) -> dt.date:
    return BASE + dt.timedelta(days=offset)


dates = st.integers(0, SPAN).map(day)
amounts = st.integers(-30_000, 100_000).map(lambda cents: cents / 100)  # returns included
costs_cents = st.integers(0, 50_000).map(lambda cents: cents / 100)
logs = st.lists(st.fixed_dictionaries({
    "customer_id": st.sampled_from(IDS),
    "date": dates,
    "amount": amounts,
    "product_cost": st.one_of(st.none(), costs_cents),
}), max_size=30)
cost_logs = st.lists(st.fixed_dictionaries({
    "customer_id": st.one_of(st.none(), st.sampled_from(IDS)),
    "segment": st.one_of(st.none(), st.sampled_from(["s1", "s2", "s3"])),
    "date": dates,
    "cost": costs_cents,
}), max_size=8)
customer_tables = st.lists(st.fixed_dictionaries({
    "customer_id": st.sampled_from(IDS),
    "segment": st.one_of(st.none(), st.sampled_from(["s1", "s2"])),
}), max_size=6, unique_by=lambda c: c["customer_id"])


def reference_history_periods(end: dt.date, period: str, periods: int) -> list[dt.date]:
    starts = [reference.period_start(end, period)]
    while len(starts) < periods:
        starts.insert(0, reference.previous_period(starts[0], period))
    return starts


def reference_value_history(rows, *, observation_end, period, periods, marketing_costs,
                            customers, has_cost) -> list[dict]:
    """The value history from its definition, with loops over rows and customers."""
    end = observation_end
    index = {start: k for k, start in enumerate(
        reference_history_periods(end, period, periods), start=1)}
    buyers: dict[str, dict] = {}
    for r in rows:
        if r["date"] > end:
            continue
        c = buyers.setdefault(r["customer_id"], {
            "days": set(), "revenue": 0.0, "returns": 0.0, "gross": 0.0, "cost": 0.0,
            "hist": defaultdict(lambda: {"revenue": 0.0, "product_cost": 0.0,
                                         "marketing_cost": 0.0, "days": set()}),
        })
        amount, cost = r["amount"], r.get("product_cost") or 0.0
        c["days"].add(r["date"])
        c["revenue"] += amount
        c["returns"] += -amount if amount < 0 else 0.0
        c["gross"] += amount if amount > 0 else 0.0
        c["cost"] += cost
        k = index.get(reference.period_start(r["date"], period))
        if k is not None:
            h = c["hist"][k]
            h["revenue"] += amount
            h["product_cost"] += cost
            h["days"].add(r["date"])
    marketing: dict[str, float] = defaultdict(float)
    if marketing_costs is not None:
        for (customer, start), cost in reference.marketing_cost_by_period(
                marketing_costs, customers, period, end).items():
            if customer in buyers:
                marketing[customer] += cost
                if start in index:
                    buyers[customer]["hist"][index[start]]["marketing_cost"] += cost
    out = []
    for customer, c in sorted(buyers.items()):
        product_cost = c["cost"] if has_cost else None
        values = {
            "customer_id": customer,
            "first_purchase": min(c["days"]),
            "last_purchase": max(c["days"]),
            "n_purchases": len(c["days"]),
            "tenure_days": (end - min(c["days"])).days,
            "days_since_last_purchase": (end - max(c["days"])).days,
            "revenue": c["revenue"],
            "returns": c["returns"],
            "gross_sales": c["gross"],
            "product_cost": product_cost,
            "marketing_cost": marketing[customer],
            "gross_margin": (None if product_cost is None
                             else c["revenue"] - product_cost - marketing[customer]),
        }
        for k in range(1, periods + 1):
            h = c["hist"][k]
            cost = h["product_cost"] if has_cost else None
            values.update({
                f"revenue_hist_{k}": h["revenue"],
                f"product_cost_hist_{k}": cost,
                f"marketing_cost_hist_{k}": h["marketing_cost"],
                f"gross_margin_hist_{k}": (None if cost is None
                                           else h["revenue"] - cost - h["marketing_cost"]),
                f"orders_hist_{k}": len(h["days"]),
            })
        previous_end = max(index) - dt.timedelta(days=1)  # the day before period K
        before = sorted(d for d in c["days"] if d <= previous_end)
        values.update({
            "n_purchases_previous": len(before),
            "recency_days_previous": (before[-1] - before[0]).days if before else None,
            "tenure_days_previous": (previous_end - before[0]).days if before else None,
        })
        out.append(values)
    return out


def assert_same(actual: list[dict], expected: list[dict]) -> None:
    """Same rows, columns and order; floats to 1e-9 (sums run in a different order)."""
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected, strict=True):
        assert list(a) == list(e), (list(a), list(e))
        for column, want in e.items():
            got = a[column]
            if isinstance(want, float) and got is not None:
                assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (column, a, e)
            else:
                assert got == want, (column, a, e)


def test_consistency_with_plain_python_reference(backend):
    @settings(max_examples=EXAMPLES[backend.name], deadline=None, derandomize=True,
              database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(log=logs, end=st.integers(-5, SPAN + 10).map(day),
           period=st.sampled_from(["month", "quarter", "year"]), periods=st.integers(1, 5),
           with_cost=st.booleans(), mc=st.one_of(st.none(), cost_logs),
           customers=st.one_of(st.none(), customer_tables))
    @example(log=[], end=day(30), period="month", periods=3, with_cost=True, mc=None,
             customers=None)
    @example(  # a marketing-only customer (c05) and a buyer whose purchase follows the end
        log=[{"customer_id": "c01", "date": day(3), "amount": 10.0, "product_cost": 4.0},
             {"customer_id": "c01", "date": day(3), "amount": -2.5, "product_cost": None},
             {"customer_id": "c02", "date": day(90), "amount": 8.0, "product_cost": 1.0}],
        end=day(50), period="month", periods=4, with_cost=True,
        mc=[{"customer_id": None, "segment": "s1", "date": day(1), "cost": 9.0},
            {"customer_id": "c05", "segment": None, "date": day(2), "cost": 1.0}],
        customers=[{"customer_id": "c05", "segment": "s1"},
                   {"customer_id": "c01", "segment": "s1"}])
    def run(log, end, period, periods, with_cost, mc, customers):
        records = log if with_cost else [
            {k: v for k, v in r.items() if k != "product_cost"} for r in log]
        table = pa.Table.from_pylist(log, schema=TRANSACTIONS)
        transactions = backend.load(table if with_cost else table.drop_columns(["product_cost"]))
        mc_table = None if mc is None else backend.load(
            pa.Table.from_pylist(mc, schema=COST_TABLE))
        cust_table = None if customers is None else backend.load(
            pa.Table.from_pylist(customers, schema=CUSTOMER_TABLE))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # segment rows without customers
            expr = summaries.value_history(
                transactions, observation_end=end, period=period, periods=periods,
                marketing_costs=mc_table, customers=cust_table)
        expected = reference_value_history(
            records, observation_end=end, period=period, periods=periods, marketing_costs=mc,
            customers=customers, has_cost=with_cost)
        assert_same(expr.to_pyarrow().to_pylist(), expected)
        labels = summaries.value_history_periods(end, period, periods)
        assert [first for first, _ in labels] == reference_history_periods(end, period, periods)

    run()


def test_consistency_with_period_panel():
    """Each history column equals the period panel's row for that customer and period."""
    log = ibis.memtable(LOG)
    costs, customers = ibis.memtable(COSTS), ibis.memtable(CUSTOMERS)
    end = D(2024, 3, 31)
    history = summaries.value_history(log, observation_end=end, periods=4,
                                      marketing_costs=costs, customers=customers)
    panel = summaries.period_panel(log, observation_end=end, marketing_costs=costs,
                                   customers=customers).to_pyarrow().to_pylist()
    cells = {(r["customer_id"], r["period_start"]): r for r in panel}
    starts = [first for first, _ in summaries.value_history_periods(end, "month", 4)]
    zero = dict.fromkeys(("revenue", "product_cost", "marketing_cost", "gross_margin",
                          "orders"), 0)
    rows = history.to_pyarrow().to_pylist()
    assert len(rows) == 2
    for r in rows:
        for k, start in enumerate(starts, start=1):
            cell = cells.get((r["customer_id"], start), zero)
            assert [r[f"{m}_hist_{k}"] for m in MEASURES] == [cell[m] for m in MEASURES]
        mine = [c for (cid, _), c in cells.items() if cid == r["customer_id"]]
        assert r["marketing_cost"] == sum(c["marketing_cost"] for c in mine)
        assert r["revenue"] == sum(c["revenue"] for c in mine)
