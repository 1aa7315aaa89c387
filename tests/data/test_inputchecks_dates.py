"""Input checks of the day/month order of dates: stated, inferred from the values, ambiguous."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cvm.data.ingest import ingest, validate

AS_OF = "2024-12-31"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


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
