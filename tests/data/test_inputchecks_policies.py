"""Input checks of the ingestion policies: returns and refunds, duplicates, currencies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cvm.data.ingest import ingest, validate
from cvm.errors import InvalidDataError

AS_OF = "2024-12-31"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


RETURNS = """customer_id,date,amount,order_id
A,2024-01-01,10,O1
A,2024-01-03,-4,O1
B,2024-01-02,5,
B,2024-01-02,-5,
"""


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ("auto", [("A", dt.date(2024, 1, 1), 6.0, 2)]),
        ("net-order", [("A", dt.date(2024, 1, 1), 6.0, 2)]),
        ("net-day", [("A", dt.date(2024, 1, 1), 10.0, 2)]),
        ("keep", [("A", dt.date(2024, 1, 1), 10.0, 2), ("A", dt.date(2024, 1, 3), -4.0, 3),
                  ("B", dt.date(2024, 1, 2), 5.0, 4), ("B", dt.date(2024, 1, 2), -5.0, 5)]),
    ],
)
def test_returns_policies(tmp_path, returns, expected):
    path = write(tmp_path, "r.csv", RETURNS)
    result = ingest(path, returns=returns, as_of=AS_OF)
    rows = result.table.order_by("source_row").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["date"], r["amount"], r["source_row"]) for r in rows] == expected
    if returns != "keep":
        assert result.report.issue("refunded_order").rows == [4, 5]


def test_returns_reject_makes_negative_amounts_errors(tmp_path):
    path = write(tmp_path, "r.csv", RETURNS)
    with pytest.raises(InvalidDataError) as info:
        ingest(path, returns="reject", as_of=AS_OF)
    issue = info.value.report.issue("negative_amount")
    assert (issue.severity, issue.rows) == ("error", [3, 5])


def test_duplicates_reject(tmp_path):
    path = write(tmp_path, "d.csv", "customer_id,date,amount\nA,2024-01-01,1\nA,2024-01-01,1\n")
    result = ingest(path, duplicates="reject", policy="quarantine", as_of=AS_OF)
    assert result.report.issue("duplicate_row").severity == "error"
    assert result.table.count().execute() == 1
    assert Path(result.report.quarantine_path).read_text(encoding="utf-8").count("\n") == 2


def test_stated_currency_rejects_other_currencies(tmp_path):
    path = write(tmp_path, "c.csv", "customer_id,date,amount\nA,2024-01-01,$1\nB,2024-01-01,$2\n"
                 "C,2024-01-01,3元\n")
    report = validate(path, currency="CNY", as_of=AS_OF)
    issue = report.issue("mixed_currencies")
    assert (issue.count, issue.rows) == (2, [2, 3])
    assert "USD 2" in issue.message and "CNY 1" in issue.message
