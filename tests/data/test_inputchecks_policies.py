"""Input checks of the ingestion policies: returns and refunds, duplicates, currencies, and the
day/month order of dates (stated, inferred, ambiguous)."""

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


@pytest.mark.parametrize(
    ("dates", "dayfirst", "expected"),
    [
        (["03/05/2024", "25/12/2024"], None, dt.date(2024, 5, 3)),
        (["03/05/2024", "12/25/2024"], None, dt.date(2024, 3, 5)),
        (["03/05/2024", "04/06/2024"], False, dt.date(2024, 3, 5)),
        (["03-05-2024", "04-06-2024"], True, dt.date(2024, 5, 3)),
    ],
)
def test_day_first_inference_and_choice(tmp_path, dates, dayfirst, expected):
    body = "".join(f"A,{d},1\n" for d in dates)
    path = write(tmp_path, "d.csv", "customer_id,date,amount\n" + body)
    result = ingest(path, dayfirst=dayfirst, as_of=AS_OF)
    first = result.table.order_by("source_row").to_pyarrow().to_pylist()[0]
    assert first["date"] == expected


@pytest.mark.parametrize(
    ("dates", "needle"),
    [(["03/05/2024", "04/06/2024"], "either way"), (["25/12/2024", "12/25/2024"], "mixes")],
)
def test_ambiguous_day_month_order(tmp_path, dates, needle):
    body = "".join(f"A,{d},1\n" for d in dates)
    path = write(tmp_path, "d.csv", "customer_id,date,amount\n" + body)
    report = validate(path, as_of=AS_OF)
    issue = report.issue("ambiguous_date")
    assert (issue.count, issue.rows, issue.severity) == (2, [2, 3], "error")
    assert needle in issue.message and "--dayfirst" in issue.message
