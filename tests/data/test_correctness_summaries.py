"""Summaries reproduce published numbers (CDNOW) and hand-computed answers, on every engine."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import importlib.resources
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from cvm.data import summaries

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
D = dt.date


def cdnow_sample() -> pa.Table:
    """The CDNOW 1/10 sample as a canonical transactions table (string id, date, float64)."""
    source = importlib.resources.files("cvm.datasets") / "data" / "cdnow_sample.csv.gz"
    with importlib.resources.as_file(source) as path:
        raw = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={
            "customer_id": pa.string(), "date": pa.date32(), "amount": pa.float64(),
        }))
    return raw.select(["customer_id", "date", "amount"])


def golden(name: str) -> dict[str, dict[str, str]]:
    with gzip.open(GOLDEN / name, "rt", newline="") as f:
        return {row["ID"]: row for row in csv.DictReader(f)}


def test_cdnow_calibration_holdout_counts(backend):
    """CDNOW 1/10 sample, calibration to 1997-09-30, holdout to 1998-06-30, weeks.

    Source: ../shared/REFERENCES.md "Conventions you must match" (2,357 customers, total
    x = 2,457, 1,411 with x = 0, 946 with x > 0) and "Holdout, BG/NBD" (1,882 repeat
    transactions in weeks 40-78: BTYD data `sum(cdnowSummary$cbs[,"x.star"])`).
    """
    log = backend.load(cdnow_sample())
    result = summaries.calibration_holdout(
        log, calibration_end="1997-09-30", holdout_end="1998-06-30", unit="week"
    ).to_pyarrow().to_pylist()
    assert len(result) == 2357
    assert sum(r["frequency"] for r in result) == 2457
    assert sum(r["frequency"] == 0 for r in result) == 1411
    assert sum(r["frequency"] > 0 for r in result) == 946
    assert sum(r["frequency_holdout"] for r in result) == 1882
    assert {r["duration_holdout"] for r in result} == {273 / 7}  # 39 weeks
    assert [r["customer_id"] for r in result] == sorted(r["customer_id"] for r in result)


def test_cdnow_summary_equals_lifetimes_per_customer(backend):
    """Per customer, frequency, recency and T equal lifetimes' summary; m_x equals `zbar`.

    Source: lifetimes 0.11.3 `datasets/cdnow_customers_summary.csv` (frequency, recency, T,
    rounded to 2 decimals) and `cdnow_customers_summary_with_transactions.csv` (`zbar`, the
    mean repeat-day spend, rounded to 0.01); see tests/golden/README.md.
    """
    log = backend.load(cdnow_sample())
    result = summaries.btyd_summary(log, observation_end=D(1997, 9, 30), unit="week")
    got = {r["customer_id"]: r for r in result.to_pyarrow().to_pylist()}
    summary = golden("cdnow_sample_summary_lifetimes.csv.gz")
    monetary = golden("cdnow_sample_summary_monetary_lifetimes.csv.gz")
    assert set(got) == set(summary) == set(monetary)
    for cid, want in summary.items():
        r = got[cid]
        assert r["frequency"] == int(want["frequency"]), cid
        assert round(r["recency"], 2) == float(want["recency"]), cid
        assert round(r["T"], 2) == float(want["T"]), cid
        assert abs(r["monetary_value"] - float(monetary[cid]["zbar"])) <= 0.005 + 1e-9, cid
        if r["frequency"] == 0:
            assert r["monetary_value"] == 0.0


def test_cdnow_calibration_columns_equal_btyd_summary():
    """The calibration part of the split is the BTYD summary at the calibration end."""
    log = ibis.memtable(cdnow_sample())
    split = summaries.calibration_holdout(
        log, calibration_end="1997-09-30", holdout_end="1998-06-30").to_pyarrow().to_pylist()
    summary = summaries.btyd_summary(log, observation_end="1997-09-30").to_pyarrow().to_pylist()
    assert len(split) == len(summary) == 2357
    for s, b in zip(split, summary, strict=True):
        assert [s[k] for k in ("customer_id", "frequency", "recency", "T")] == [
            b[k] for k in ("customer_id", "frequency", "recency", "T")]
        # the two sum the repeat spend in different orders
        assert s["monetary_value"] == pytest.approx(b["monetary_value"], rel=1e-12)


def types(expr: ibis.Table) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in expr.schema().items()}


def test_output_schemas():
    """Column names and types are the ones the module docstring defines."""
    log = ibis.memtable({"customer_id": ["a"], "date": [D(2024, 1, 1)], "amount": [1.0],
                         "product_cost": [0.5]})
    end = "2024-02-01"
    assert types(summaries.btyd_summary(log, observation_end=end)) == {
        "customer_id": "string", "frequency": "int64", "recency": "float64", "T": "float64",
        "monetary_value": "float64",
    }
    split = summaries.calibration_holdout(log, calibration_end=end, holdout_end="2024-03-01")
    assert list(split.columns) == [
        "customer_id", "frequency", "recency", "T", "monetary_value", "frequency_holdout",
        "revenue_holdout", "monetary_value_holdout", "duration_holdout",
    ]
    assert types(summaries.period_panel(log, observation_end=end)) == {
        "customer_id": "string", "period_start": "date", "orders": "int64",
        "revenue": "float64", "product_cost": "float64", "marketing_cost": "float64",
        "gross_margin": "float64",
    }
    assert list(summaries.rfm_scores(log, observation_end=end).columns) == [
        "customer_id", "days_since_last_purchase", "n_purchases", "total_spend",
        "recency_score", "frequency_score", "monetary_score", "rfm_score",
    ]
    assert types(summaries.cohort_table(log, observation_end=end)) == {
        "cohort": "date", "period_start": "date", "period_index": "int64",
        "active_customers": "int64", "orders": "int64", "revenue": "float64",
        "gross_margin": "float64",
    }


# ------------------------------------------------------------------ hand-made logs

PANEL_LOG = pa.Table.from_pylist([
    dict(zip(("customer_id", "date", "amount", "order_id", "product_cost"), row, strict=True))
    for row in (
        ("a", D(2024, 1, 5), 10.0, "o1", 4.0),
        ("a", D(2024, 1, 5), 5.0, "o2", 2.0),
        ("a", D(2024, 3, 2), 20.0, "o3", 8.0),
        ("b", D(2024, 2, 10), 7.0, "o4", 3.0),
        ("b", D(2024, 4, 1), 100.0, "o5", 1.0),
    )
])
PANEL_COLUMNS = ("customer_id", "period_start", "orders", "revenue", "product_cost",
                 "marketing_cost", "gross_margin")


def table(columns, *values) -> list[dict]:
    return [dict(zip(columns, v, strict=True)) for v in values]


def test_period_panel_hand_computed(backend):
    """Month panel with per-customer and segment marketing costs (computed by hand).

    a buys twice on 5 Jan (one purchase day, two orders) and on 2 Mar; b on 10 Feb and after
    the end. 1.5 is spent on a in Feb; 6.0 on segment s1 in Mar, shared by its 3 customers.
    """
    log = backend.load(PANEL_LOG)
    costs = backend.load(pa.Table.from_pylist([
        {"customer_id": "a", "segment": None, "date": D(2024, 2, 15), "cost": 1.5},
        {"customer_id": None, "segment": "s1", "date": D(2024, 3, 1), "cost": 6.0},
        {"customer_id": None, "segment": "s1", "date": D(2024, 4, 1), "cost": 60.0},  # after end
    ]))
    customers = backend.load(pa.Table.from_pylist([
        {"customer_id": c, "segment": "s1"} for c in ("a", "b", "c")
    ]))
    panel = summaries.period_panel(log, period="month", observation_end=D(2024, 3, 31),
                                   marketing_costs=costs, customers=customers)
    assert panel.to_pyarrow().to_pylist() == table(
        PANEL_COLUMNS,
        ("a", D(2024, 1, 1), 1, 15.0, 6.0, 0.0, 9.0),
        ("a", D(2024, 2, 1), 0, 0.0, 0.0, 1.5, -1.5),
        ("a", D(2024, 3, 1), 1, 20.0, 8.0, 2.0, 10.0),
        ("b", D(2024, 2, 1), 1, 7.0, 3.0, 0.0, 4.0),
        ("b", D(2024, 3, 1), 0, 0.0, 0.0, 2.0, -2.0),
        ("c", D(2024, 3, 1), 0, 0.0, 0.0, 2.0, -2.0),
    )


def test_period_panel_dense_orders_and_unknown_cost(backend):
    """Dense fill to the end period; orders by order id; NULL cost and margin without costs."""
    log = backend.load(PANEL_LOG.drop_columns(["product_cost"]))
    panel = summaries.period_panel(log, period="month", observation_end="2024-03-31",
                                   dense=True, count_by="order")
    assert panel.to_pyarrow().to_pylist() == table(
        PANEL_COLUMNS,
        ("a", D(2024, 1, 1), 2, 15.0, None, 0.0, None),
        ("a", D(2024, 2, 1), 0, 0.0, None, 0.0, None),
        ("a", D(2024, 3, 1), 1, 20.0, None, 0.0, None),
        ("b", D(2024, 2, 1), 1, 7.0, None, 0.0, None),
        ("b", D(2024, 3, 1), 0, 0.0, None, 0.0, None),
    )


def test_rfm_scores_hand_computed(backend):
    """Six customers, so NTILE(5) puts two in the first quintile; ties by customer_id.

    Recency (days before 31 Jan, most recent = 5): c1 30, c4 15, c6 11, c2 1, c3 0, c5 0.
    Purchase days: c1 c2 c5 c6 one, c4 two, c3 three. Spend: c5 1, c1 10, c3 15, c6 30,
    c4 40, c2 100 (two rows on one day). c7 only buys after the end and is absent.
    """
    purchases = [("c1", 1, 10.0), ("c2", 30, 50.0), ("c2", 30, 50.0), ("c3", 10, 5.0),
                 ("c3", 20, 5.0), ("c3", 31, 5.0), ("c4", 15, 20.0), ("c4", 16, 20.0),
                 ("c5", 31, 1.0), ("c6", 20, 30.0), ("c7", 32, 99.0)]
    log = backend.load(pa.Table.from_pylist([
        {"customer_id": c, "date": D(2024, 1, 1) + dt.timedelta(days=d - 1), "amount": a}
        for c, d, a in purchases
    ]))
    result = summaries.rfm_scores(log, observation_end=D(2024, 1, 31)).to_pyarrow().to_pylist()
    assert result == table(
        ("customer_id", "days_since_last_purchase", "n_purchases", "total_spend",
         "recency_score", "frequency_score", "monetary_score", "rfm_score"),
        ("c1", 30, 1, 10.0, 1, 1, 1, 111),
        ("c2", 1, 1, 100.0, 3, 1, 5, 315),
        ("c3", 0, 3, 15.0, 4, 5, 2, 452),
        ("c4", 15, 2, 40.0, 1, 4, 4, 144),
        ("c5", 0, 1, 1.0, 5, 2, 1, 521),
        ("c6", 11, 1, 30.0, 2, 3, 3, 233),
    )


COHORT_LOG = pa.Table.from_pylist([
    {"customer_id": "a", "date": D(2024, 1, 5), "amount": 10.0, "product_cost": 4.0},
    {"customer_id": "a", "date": D(2024, 1, 5), "amount": 5.0, "product_cost": 1.0},
    {"customer_id": "a", "date": D(2024, 2, 10), "amount": 20.0, "product_cost": 5.0},
    {"customer_id": "b", "date": D(2024, 1, 20), "amount": 8.0, "product_cost": 2.0},
    {"customer_id": "b", "date": D(2024, 3, 3), "amount": 12.0, "product_cost": 6.0},
    {"customer_id": "c", "date": D(2024, 2, 1), "amount": 7.0, "product_cost": 3.0},
    {"customer_id": "c", "date": D(2024, 2, 2), "amount": 3.0, "product_cost": 1.0},
    {"customer_id": "c", "date": D(2024, 4, 2), "amount": 100.0, "product_cost": 1.0},
])
COHORT_COLUMNS = ("cohort", "period_start", "period_index", "active_customers", "orders",
                  "revenue", "gross_margin")


def test_cohort_table_hand_computed(backend):
    """Monthly cohorts by first purchase: a and b in January, c in February."""
    log = backend.load(COHORT_LOG)
    result = summaries.cohort_table(log, period="month", observation_end="2024-03-31")
    assert result.to_pyarrow().to_pylist() == table(
        COHORT_COLUMNS,
        (D(2024, 1, 1), D(2024, 1, 1), 0, 2, 2, 23.0, 16.0),
        (D(2024, 1, 1), D(2024, 2, 1), 1, 1, 1, 20.0, 15.0),
        (D(2024, 1, 1), D(2024, 3, 1), 2, 1, 1, 12.0, 6.0),
        (D(2024, 2, 1), D(2024, 2, 1), 0, 1, 2, 10.0, 6.0),
    )


def test_cohort_table_acquisition_dates_and_weeks(backend):
    """b was acquired on 15 Dec 2023 (customers table), so b forms the December cohort;
    with weeks, 5 Jan 2024 (week of Mon 1 Jan) to 10 Feb (week of Mon 5 Feb) is 5 weeks."""
    log = backend.load(COHORT_LOG)
    customers = backend.load(pa.Table.from_pylist([
        {"customer_id": "b", "acquisition_date": D(2023, 12, 15)},
        {"customer_id": "a", "acquisition_date": None},
    ]))
    result = summaries.cohort_table(log, observation_end="2024-03-31", customers=customers)
    assert result.to_pyarrow().to_pylist() == table(
        COHORT_COLUMNS,
        (D(2023, 12, 1), D(2024, 1, 1), 1, 1, 1, 8.0, 6.0),
        (D(2023, 12, 1), D(2024, 3, 1), 3, 1, 1, 12.0, 6.0),
        (D(2024, 1, 1), D(2024, 1, 1), 0, 1, 1, 15.0, 10.0),
        (D(2024, 1, 1), D(2024, 2, 1), 1, 1, 1, 20.0, 15.0),
        (D(2024, 2, 1), D(2024, 2, 1), 0, 1, 2, 10.0, 6.0),
    )
    weekly = summaries.cohort_table(log.filter(log.customer_id == "a"), period="week",
                                    observation_end="2024-03-31")
    assert [(r["cohort"], r["period_start"], r["period_index"])
            for r in weekly.to_pyarrow().to_pylist()] == [
        (D(2024, 1, 1), D(2024, 1, 1), 0), (D(2024, 1, 1), D(2024, 2, 5), 5)]


def test_btyd_summary_hand_computed_units_and_orders(backend):
    """a: purchase days 1 Jan (two orders: 10 + 30), 3 Jan (40) and 29 Jan (50); end 31 Jan.

    By day: frequency 2, recency 28 days, T 30 days, m = (40 + 50) / 2 = 45. By order: the
    first purchase is o1 (smallest id on the first day): frequency 3, m = (30 + 40 + 50) / 3.
    """
    log = backend.load(pa.Table.from_pylist([
        {"customer_id": "a", "date": D(2024, 1, 1), "amount": 10.0, "order_id": "o1"},
        {"customer_id": "a", "date": D(2024, 1, 1), "amount": 30.0, "order_id": "o2"},
        {"customer_id": "a", "date": D(2024, 1, 3), "amount": 40.0, "order_id": "o3"},
        {"customer_id": "a", "date": D(2024, 1, 29), "amount": 50.0, "order_id": "o4"},
        {"customer_id": "b", "date": D(2024, 2, 1), "amount": 5.0, "order_id": "o5"},
    ]))
    by_day = summaries.btyd_summary(log, observation_end="2024-01-31", unit="day")
    assert by_day.to_pyarrow().to_pylist() == [
        {"customer_id": "a", "frequency": 2, "recency": 28.0, "T": 30.0, "monetary_value": 45.0}]
    by_order = summaries.btyd_summary(log, observation_end="2024-01-31", unit="week",
                                      count_by="order").to_pyarrow().to_pylist()
    assert by_order == [{"customer_id": "a", "frequency": 3, "recency": 4.0, "T": 30 / 7,
                         "monetary_value": pytest.approx(120 / 3, rel=1e-12)}]
    monthly = summaries.btyd_summary(log, observation_end="2024-01-31", unit="month")
    assert monthly.to_pyarrow().to_pylist()[0]["T"] == 30 / (365.2425 / 12)
