"""Every summary agrees with the slow plain-Python reference (`tests/reference.py`) on each engine.

Hypothesis draws random transaction logs: empty logs, one customer, one day, several rows per
customer-day, orders without an id, customers whose only purchases fall after the observation
end, and marketing costs per customer and per segment. The Ibis expressions run on DuckDB,
PostgreSQL and Spark (see `tests/conftest.py`); floats must agree to 1e-9 relative. Fewer
examples run on the slower engines, with a fixed seed so every run checks the same logs.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings

import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cvm.data import summaries
from tests import reference

EXAMPLES = {"duckdb": 25, "postgres": 10, "spark": 3}
BASE = dt.date(2023, 12, 18)  # a Monday; the log spans a year end and a leap day
SPAN = 120
# fixed-width lower-case ids sort the same under every engine's collation
CUSTOMERS = [f"c{i:02d}" for i in range(8)]
UNITS = ["day", "week", "month", "quarter", "year"]

TRANSACTIONS = pa.schema([
    ("customer_id", pa.string()),
    ("date", pa.date32()),
    ("amount", pa.float64()),
    ("order_id", pa.string()),
    ("product_cost", pa.float64()),
])
COSTS = pa.schema([
    ("customer_id", pa.string()), ("segment", pa.string()), ("date", pa.date32()),
    ("cost", pa.float64()),
])
CUSTOMER_TABLE = pa.schema([
    ("customer_id", pa.string()), ("acquisition_date", pa.date32()), ("segment", pa.string()),
])


def day(offset: int) -> dt.date:
    return BASE + dt.timedelta(days=offset)


dates = st.integers(0, SPAN).map(day)
money = st.integers(0, 100_000).map(lambda cents: cents / 100)
rows = st.fixed_dictionaries({
    "customer_id": st.sampled_from(CUSTOMERS),
    "date": dates,
    "amount": money,
    "order_id": st.one_of(st.none(), st.sampled_from(["o1", "o2", "o3", "o4"])),
    "product_cost": money,
})
logs = st.lists(rows, max_size=30)
ends = st.integers(-5, SPAN + 10).map(day)

ONE_CUSTOMER = [
    {"customer_id": "c01", "date": day(3), "amount": 10.0, "order_id": "o1", "product_cost": 4.0},
    {"customer_id": "c01", "date": day(3), "amount": 5.5, "order_id": None, "product_cost": 1.0},
    {"customer_id": "c01", "date": day(40), "amount": 7.25, "order_id": "o2", "product_cost": 2.0},
]
ONE_DAY = [
    {"customer_id": c, "date": day(10), "amount": 1.0 + i, "order_id": f"o{i}", "product_cost": 0.5}
    for i, c in enumerate(CUSTOMERS[:5])
]
AFTER_END = [
    {"customer_id": "c02", "date": day(5), "amount": 3.0, "order_id": "o1", "product_cost": 1.0},
    {"customer_id": "c03", "date": day(90), "amount": 8.0, "order_id": "o2", "product_cost": 1.0},
]


def load(backend, records: list[dict], schema: pa.Schema, drop: tuple[str, ...] = ()):
    table = pa.Table.from_pylist(records, schema=schema)
    if drop:
        table = table.drop_columns(list(drop))
    return backend.load(table)


def without(records: list[dict], *columns: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in columns} for r in records]


def assert_same(actual: list[dict], expected: list[dict]) -> None:
    """Same rows in the same order; floats to 1e-9 relative."""
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected, strict=True):
        assert list(a) == list(e), (list(a), list(e))
        for column, want in e.items():
            got = a[column]
            if isinstance(want, float) and got is not None:
                assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (column, a, e)
            else:
                assert got == want, (column, a, e)


def check(backend):
    """Decorator: run a Hypothesis property with the example budget of ``backend``."""
    return settings(
        max_examples=EXAMPLES[backend.name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def test_btyd_summary_matches_reference(backend):
    @check(backend)
    @given(log=logs, end=ends, unit=st.sampled_from(UNITS),
           count_by=st.sampled_from(["day", "order"]))
    @example(log=[], end=day(30), unit="week", count_by="day")
    @example(log=ONE_CUSTOMER, end=day(60), unit="week", count_by="order")
    @example(log=ONE_DAY, end=day(10), unit="day", count_by="day")
    @example(log=AFTER_END, end=day(50), unit="month", count_by="day")
    def run(log, end, unit, count_by):
        table = load(backend, log, TRANSACTIONS)
        actual = summaries.btyd_summary(
            table, observation_end=end, unit=unit, count_by=count_by
        ).to_pyarrow().to_pylist()
        expected = reference.btyd_summary(log, observation_end=end, unit=unit, count_by=count_by)
        assert_same(actual, expected)

    run()


def test_calibration_holdout_matches_reference(backend):
    @check(backend)
    @given(log=logs, cal=st.integers(-5, SPAN), length=st.integers(1, 60),
           unit=st.sampled_from(UNITS), count_by=st.sampled_from(["day", "order"]))
    @example(log=[], cal=30, length=30, unit="week", count_by="day")
    @example(log=AFTER_END, cal=50, length=30, unit="week", count_by="day")
    @example(log=ONE_CUSTOMER, cal=20, length=30, unit="day", count_by="order")
    def run(log, cal, length, unit, count_by):
        table = load(backend, log, TRANSACTIONS)
        cal_end, hold_end = day(cal), day(cal + length)
        actual = summaries.calibration_holdout(
            table, calibration_end=cal_end, holdout_end=hold_end, unit=unit, count_by=count_by
        ).to_pyarrow().to_pylist()
        expected = reference.calibration_holdout(
            log, calibration_end=cal_end, holdout_end=hold_end, unit=unit, count_by=count_by
        )
        assert_same(actual, expected)

    run()


costs = st.lists(st.fixed_dictionaries({
    "customer_id": st.one_of(st.none(), st.sampled_from(CUSTOMERS)),
    "segment": st.one_of(st.none(), st.sampled_from(["s1", "s2", "s3"])),
    "date": dates,
    "cost": money,
}), max_size=8)
customer_tables = st.lists(st.fixed_dictionaries({
    "customer_id": st.sampled_from(CUSTOMERS),
    "acquisition_date": st.one_of(st.none(), dates),
    "segment": st.one_of(st.none(), st.sampled_from(["s1", "s2"])),
}), max_size=6, unique_by=lambda c: c["customer_id"])


def test_period_panel_matches_reference(backend):
    @check(backend)
    @given(log=logs, end=ends, period=st.sampled_from(UNITS[1:] + ["day"]), dense=st.booleans(),
           with_cost=st.booleans(), count_by=st.sampled_from(["day", "order"]),
           mc=st.one_of(st.none(), costs), customers=st.one_of(st.none(), customer_tables))
    @example(log=[], end=day(30), period="month", dense=True, with_cost=True, count_by="day",
             mc=None, customers=None)
    @example(log=[], end=day(0), period="week", dense=False, with_cost=True, count_by="day",
             mc=[{"customer_id": "c00", "segment": None, "date": day(0), "cost": 0.0}],
             customers=None)  # an empty log with a cost column: marketing-only rows cost 0
    @example(log=AFTER_END, end=day(50), period="week", dense=True, with_cost=False,
             count_by="order", mc=[{"customer_id": None, "segment": "s1", "date": day(1),
                                    "cost": 9.0}],
             customers=[{"customer_id": "c05", "acquisition_date": None, "segment": "s1"},
                        {"customer_id": "c02", "acquisition_date": None, "segment": "s1"}])
    def run(log, end, period, dense, with_cost, count_by, mc, customers):
        drop = () if with_cost else ("product_cost",)
        table = load(backend, log, TRANSACTIONS, drop)
        mc_table = None if mc is None else load(backend, mc, COSTS)
        cust_table = None if customers is None else load(backend, customers, CUSTOMER_TABLE)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # segment rows without customers
            expr = summaries.period_panel(
                table, period=period, observation_end=end, marketing_costs=mc_table,
                customers=cust_table, dense=dense, count_by=count_by,
            )
        actual = expr.to_pyarrow().to_pylist()
        expected = reference.period_panel(
            without(log, *drop), period=period, observation_end=end, marketing_costs=mc,
            customers=customers, dense=dense, count_by=count_by, has_cost=with_cost,
        )
        assert_same(actual, expected)

    run()


def test_rfm_scores_match_reference(backend):
    @check(backend)
    @given(log=logs, end=ends)
    @example(log=[], end=day(30))
    @example(log=ONE_DAY, end=day(10))
    @example(log=AFTER_END, end=day(50))
    def run(log, end):
        table = load(backend, log, TRANSACTIONS)
        actual = summaries.rfm_scores(table, observation_end=end).to_pyarrow().to_pylist()
        assert_same(actual, reference.rfm_scores(log, observation_end=end))

    run()


def test_cohort_table_matches_reference(backend):
    @check(backend)
    @given(log=logs, end=ends, period=st.sampled_from(UNITS), with_cost=st.booleans(),
           count_by=st.sampled_from(["day", "order"]),
           customers=st.one_of(st.none(), customer_tables))
    @example(log=[], end=day(30), period="month", with_cost=True, count_by="day",
             customers=None)
    @example(log=ONE_CUSTOMER, end=day(60), period="week", with_cost=True, count_by="order",
             customers=[{"customer_id": "c01", "acquisition_date": day(20), "segment": None}])
    def run(log, end, period, with_cost, count_by, customers):
        drop = () if with_cost else ("product_cost",)
        table = load(backend, log, TRANSACTIONS, drop)
        cust_table = None if customers is None else load(backend, customers, CUSTOMER_TABLE)
        actual = summaries.cohort_table(
            table, period=period, observation_end=end, customers=cust_table, count_by=count_by
        ).to_pyarrow().to_pylist()
        expected = reference.cohort_table(
            without(log, *drop), period=period, observation_end=end, customers=customers,
            count_by=count_by,
        )
        assert_same(actual, expected)

    run()
