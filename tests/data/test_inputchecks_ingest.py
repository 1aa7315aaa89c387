"""Input checks: every validation rule fires with the right count, rows and examples; the
strict policy raises and writes nothing; the quarantine policy writes exactly the bad rows."""

from __future__ import annotations

import csv
import datetime as dt
from importlib.resources import files
from pathlib import Path

import pytest

from cvm.data.ingest import ingest
from cvm.errors import InvalidDataError, MissingColumnError

AS_OF = "2024-12-31"

MESSY = """客户编号,下单时间,实付金额,订单号,币种
C1,2024-01-05,¥100.00,O1,CNY
C1,2024-01-05,¥100.00,O1,CNY
,2024-01-06,50,O2,CNY
C2,2024-02-30,20,O3,CNY
C2,2999-01-01,20,O4,CNY
C3,2024-01-07,abc,O5,CNY
C3,2024-01-07,nan,O6,CNY
C4,2024-01-08,-30,O7,CNY
C5,2024-01-09,80,O8,CNY
C5,2024-01-10,-80,O8,CNY
C6,2024-01-11,60,O9,CNY
C7,2024-01-11,60,O9,CNY
C8,2024-01-12,70,O10,CNY
C8,2024-01-13,30,O10,CNY
C9,2024-01-14,$5,O11,USD
C9,2024-01-14,,O12,CNY
C10,,10,O13,CNY
C11,2024-01-15,"1,234.50",O14,CNY
C12,2024-01-16,(5),O15,CNY
"""
BAD_ROWS = [4, 5, 6, 7, 8, 12, 13, 16, 17, 18]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """The messy file ingested once under the quarantine policy."""
    tmp = tmp_path_factory.mktemp("messy")
    path = write(tmp, "orders.csv", MESSY)
    result = ingest(path, policy="quarantine", as_of=AS_OF)
    return path, result


@pytest.mark.parametrize(
    ("rule", "column", "severity", "rows", "examples"),
    [
        ("missing_id", "customer_id", "error", [4], [None]),
        ("unparseable_date", "date", "error", [5], ["2024-02-30"]),
        ("future_date", "date", "error", [6], ["2999-01-01"]),
        ("invalid_number", "amount", "error", [7], ["abc"]),
        ("non_finite_number", "amount", "error", [8], ["nan"]),
        ("negative_amount", "amount", "warning", [9, 11, 20], ["-30", "-80", "(5)"]),
        ("repeated_order_id", "order_id", "error", [12, 13], ["O9", "O9"]),
        ("order_id_several_dates", "order_id", "warning", [14, 15], ["O10", "O10"]),
        ("mixed_currencies", "currency", "error", [16], ["币种=USD, 实付金额=$5"]),
        ("duplicate_row", None, "warning", [3], None),
    ],
)
def test_each_rule_reports_count_rows_examples(messy, rule, column, severity, rows, examples):
    _, result = messy
    issue = result.report.issue(rule, column)
    assert issue is not None, result.report.to_dict()["issues"]
    assert issue.severity == severity
    assert issue.count == len(rows)
    assert issue.rows == rows
    if examples is not None:
        assert issue.examples == examples
    assert issue.file == "orders.csv"
    assert issue.message.endswith(".")


def test_missing_values_are_reported_per_column(messy):
    report = messy[1].report
    assert report.issue("missing_value", "amount").rows == [17]
    assert report.issue("missing_value", "date").rows == [18]
    assert report.issue("missing_value", "amount").column == "实付金额"


def test_refunds_are_netted_and_reported(messy):
    report = messy[1].report
    refunded = report.issue("refunded_order")
    assert (refunded.severity, refunded.count, refunded.rows) == ("info", 2, [10, 11])
    unmatched = report.issue("unmatched_return")
    assert (unmatched.count, unmatched.rows) == (2, [9, 20])


def test_quarantine_keeps_valid_rows_and_writes_bad_rows(messy):
    path, result = messy
    report = result.report
    assert (report.n_rows, report.n_rejected, report.n_valid) == (19, 10, 9)
    qpath = path.with_name("orders.quarantine.csv")
    assert report.quarantine_path == str(qpath)
    with open(qpath, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["source_row"]) for r in rows] == BAD_ROWS
    reasons = {int(r["source_row"]): r["reasons"] for r in rows}
    assert reasons[4] == "missing_id"
    assert reasons[12] == reasons[13] == "repeated_order_id"
    assert reasons[16] == "mixed_currencies"
    assert rows[0]["客户编号"] == ""  # raw columns are kept under the user's headers
    got = result.table.order_by("source_row").to_pyarrow().to_pylist()
    assert [r["source_row"] for r in got] == [2, 3, 14, 15, 19]
    assert [r["amount"] for r in got] == [100.0, 100.0, 70.0, 30.0, 1234.5]
    assert got[0]["date"] == dt.date(2024, 1, 5)
    assert result.table.columns == ("customer_id", "date", "timestamp", "amount", "order_id",
                                    "currency", "source_row")


def test_report_json_round_trip(messy, tmp_path):
    import json

    report = messy[1].report
    data = json.loads(report.write_json(tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["n_rejected"] == 10 and data["ok"] is False
    assert {i["rule"] for i in data["issues"]} >= {"missing_id", "mixed_currencies"}
    assert data["issues"][0]["label_zh"]


def test_strict_raises_and_writes_nothing(tmp_path):
    path = write(tmp_path, "orders.csv", MESSY)
    with pytest.raises(InvalidDataError) as info:
        ingest(path, as_of=AS_OF)
    assert "missing_id" in str(info.value) and "orders.csv" in str(info.value)
    assert info.value.report.n_rejected == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


def test_mapping_that_names_a_missing_column_fails_first(tmp_path):
    path = write(tmp_path, "m.csv", "客户编号,日期,金额\nA,2024-01-01,1\n")
    with pytest.raises(MissingColumnError) as info:
        ingest(path, columns={"customer_id": "客户号"})
    assert "客户号" in str(info.value) and "'客户编号'" in str(info.value)
    assert not (tmp_path / "m.quarantine.csv").exists()


def test_cdnow_sample_ingests_without_errors():
    path = files("cvm.datasets") / "data" / "cdnow_sample.csv.gz"
    result = ingest(path, as_of="2000-01-01")
    report = result.report
    assert report.ok and report.n_rows == 6919 and report.n_rejected == 0
    assert {i.severity for i in report.issues} <= {"warning", "info"}
    dup = report.issue("duplicate_row")
    assert dup.severity == "warning" and dup.count > 0
    assert result.table.count().execute() == 6919  # no returns: nothing netted
    assert result.table.columns == ("customer_id", "date", "timestamp", "amount", "quantity",
                                    "source_row")


def test_every_rule_has_an_english_and_chinese_label(messy):
    from cvm.data.validation import RULES
    from cvm.labels import TERMS

    assert all(f"rule.{r}" in TERMS for r in RULES)
    assert {i.rule for i in messy[1].report.issues} <= set(RULES)
    assert messy[1].report.issue("missing_id").message_zh == "编号缺失或为空：1 行（列 客户编号）。"
