"""Correctness of the value parsers: every supported date form, day-first choice, impossible
dates, money formats, flags; the same answers on PostgreSQL; and a Hypothesis property that a
formatted date parses back to itself."""

from __future__ import annotations

import datetime as dt
import os

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.data import parsing as P

DATES = [
    # (text, dayfirst, expected date, expected timestamp or None for midnight)
    ("2024-05-03", None, dt.date(2024, 5, 3), None),
    ("  2024-05-03 ", None, dt.date(2024, 5, 3), None),
    ("2024/05/03", None, dt.date(2024, 5, 3), None),
    ("2024/5/3", None, dt.date(2024, 5, 3), None),
    ("2024.05.03", None, dt.date(2024, 5, 3), None),
    ("2024-05-03 14:30", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 14, 30)),
    ("2024-05-03T14:30:05", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 14, 30, 5)),
    ("2024-05-03T14:30:05.123456", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 14, 30, 5)),
    ("2024-05-03T23:30:00Z", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 23, 30)),
    # offsets keep the local wall-clock date and time
    ("2024-05-03T23:30:00+08:00", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 23, 30)),
    ("2024-05-03 01:00:00+0800", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 1, 0)),
    ("2024-05-03T01:00-05", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 1, 0)),
    ("03/05/2024", True, dt.date(2024, 5, 3), None),
    ("03/05/2024", False, dt.date(2024, 3, 5), None),
    ("03-05-2024", True, dt.date(2024, 5, 3), None),
    ("3.5.2024", True, dt.date(2024, 5, 3), None),
    ("03/05/2024 08:15", True, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 8, 15)),
    ("2024年5月3日", None, dt.date(2024, 5, 3), None),
    ("2024年05月03日 14:30", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 14, 30)),
    ("2024年5月3日14时30分", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 14, 30)),
    ("20240503", None, dt.date(2024, 5, 3), None),
    ("45415", None, dt.date(2024, 5, 3), None),
    ("45415.75", None, dt.date(2024, 5, 3), dt.datetime(2024, 5, 3, 18, 0)),
    ("1", None, dt.date(1899, 12, 31), None),
    ("2958465", None, dt.date(9999, 12, 31), None),
    ("2024-02-29", None, dt.date(2024, 2, 29), None),
    ("2000-02-29", None, dt.date(2000, 2, 29), None),
]
INVALID = ["2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01", "2024-04-31", "2024-05-03 24:00",
           "2024-05-03 12:60", "32/01/2024", "0", "2958466", "20241301", "abc", "2024-5", "五月"]


def run(expr: ibis.Table) -> list[dict]:
    return expr.to_pyarrow().to_pylist()


@pytest.mark.parametrize("dayfirst", [None, True, False])
def test_every_supported_date_form(dayfirst):
    cases = [c for c in DATES if c[1] in (None, dayfirst)]
    t = ibis.memtable({"s": [c[0] for c in cases]})
    rows = run(P.parse_date(t, "s", "d", dayfirst=dayfirst))
    for (text, _, date, ts), row in zip(cases, rows, strict=True):
        assert row["d"] == date, text
        assert row["d__ts"] == (ts or dt.datetime.combine(date, dt.time())), text
        assert not row["d__invalid"] and not row["d__blank"] and not row["d__ambiguous"], text


def test_impossible_and_unparseable_dates_are_invalid_not_shifted():
    t = ibis.memtable({"s": INVALID})
    rows = run(P.parse_date(t, "s", "d", dayfirst=True))
    assert [r["d"] for r in rows] == [None] * len(INVALID)
    assert all(r["d__invalid"] for r in rows)


def test_day_month_dates_without_an_order_are_ambiguous_not_invalid():
    t = ibis.memtable({"s": ["03/05/2024", None, "  "]})
    rows = run(P.parse_date(t, "s", "d"))
    assert [(r["d"], r["d__ambiguous"], r["d__invalid"], r["d__blank"]) for r in rows] == [
        (None, True, False, False), (None, False, False, True), (None, False, False, True)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["03/05/2024", "25/12/2024"], (True, False)),
        (["03/05/2024", "12/25/2024"], (False, False)),
        (["03/05/2024", "04/06/2024"], (None, False)),
        (["25/12/2024", "12/25/2024"], (None, True)),
        (["2024-01-01"], (None, False)),
    ],
)
def test_infer_dayfirst(values, expected):
    ev = P.infer_dayfirst(ibis.memtable({"s": values}), "s")
    assert (ev.dayfirst, ev.conflicting) == expected


def test_typed_dates_and_timestamps_pass_through():
    t = ibis.memtable({"d": [dt.date(2024, 5, 3)], "ts": [dt.datetime(2024, 5, 3, 9, 30)]})
    row = run(P.parse_date(P.parse_date(t, "d", "a"), "ts", "b"))[0]
    assert (row["a"], row["b"], row["b__ts"]) == (dt.date(2024, 5, 3), dt.date(2024, 5, 3),
                                                  dt.datetime(2024, 5, 3, 9, 30))


MONEY = [
    ("12", 12.0, None), ("-12.5", -12.5, None), ("+3", 3.0, None), (".5", 0.5, None),
    ("1,234.50", 1234.5, None), ("1 234 567", 1234567.0, None), ("(12.50)", -12.5, None),
    ("¥1,234.50", 1234.5, "CNY"), ("￥8", 8.0, "CNY"), ("8元", 8.0, "CNY"), ("-3 元", -3.0, "CNY"),
    ("RMB 10", 10.0, "CNY"), ("CNY10", 10.0, "CNY"), ("$5", 5.0, "USD"), ("$-4", -4.0, "USD"),
    ("-$4", -4.0, "USD"), ("USD 7", 7.0, "USD"), ("€ 3", 3.0, "EUR"), ("3 EUR", 3.0, "EUR"),
    ("£2.5", 2.5, "GBP"), ("1.2E+05", 120000.0, None), ("(¥12.50)", -12.5, "CNY"),
]
NOT_NUMBERS = ["abc", "12,34", "1,2345", "12 34", "1.2.3", "--1", "¥", "12abc", "一百"]
NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "+INF"]


def test_money_formats():
    t = ibis.memtable({"s": [m[0] for m in MONEY]})
    rows = run(P.parse_number(t, "s", "v"))
    assert [(r["v"], r["v__currency"]) for r in rows] == [(m[1], m[2]) for m in MONEY]
    assert not any(r["v__invalid"] or r["v__non_finite"] for r in rows)


def test_invalid_and_non_finite_numbers_are_separate_rules():
    t = ibis.memtable({"s": NOT_NUMBERS + NON_FINITE + [None, ""]})
    rows = run(P.parse_number(t, "s", "v"))
    n = len(NOT_NUMBERS)
    assert all(r["v__invalid"] and not r["v__non_finite"] for r in rows[:n])
    assert all(r["v__non_finite"] and not r["v__invalid"] for r in rows[n:n + len(NON_FINITE)])
    assert all(r["v__blank"] for r in rows[-2:])
    assert all(r["v"] is None for r in rows)


def test_typed_numbers_pass_through_and_flag_non_finite():
    import pyarrow as pa

    # a pyarrow table keeps NaN as NaN (pandas would turn it into NULL)
    t = ibis.memtable(pa.table({"x": pa.array([1.5, float("nan"), float("inf"), None])}))
    rows = run(P.parse_number(t, "x", "v"))
    assert [r["v"] for r in rows] == [1.5, None, None, None]
    assert [r["v__non_finite"] for r in rows] == [False, True, True, False]


def test_flags():
    yes = ["1", "true", "T", "yes", "Y", "是", "有"]
    no = ["0", "false", "F", "no", "N", "否", "无"]
    t = ibis.memtable({"s": yes + no + ["maybe"]})
    rows = run(P.parse_flag(t, "s", "v"))
    assert [r["v"] for r in rows] == [True] * len(yes) + [False] * len(no) + [None]
    assert [r["v__invalid"] for r in rows] == [False] * (len(yes) + len(no)) + [True]


FORMATS = {
    "iso": lambda d: d.isoformat(),
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "dotted": lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",
    "zh": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "compact": lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}",
    "dmy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "serial": lambda d: str((d - dt.date(1899, 12, 30)).days),
}


@settings(max_examples=12, deadline=None)
@given(
    dates=st.lists(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
                   min_size=1, max_size=40),
    fmt=st.sampled_from(sorted(FORMATS)),
)
def test_property_formatted_date_parses_back(dates, fmt):
    dates = [d for d in dates if d.year >= 1000]  # four-digit years only
    if not dates:
        return
    t = ibis.memtable({"s": [FORMATS[fmt](d) for d in dates]})
    rows = run(P.parse_date(t, "s", "d", dayfirst=True))
    assert [r["d"] for r in rows] == dates


@pytest.fixture(scope="module")
def pg():
    url = os.environ.get("CVM_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set CVM_TEST_POSTGRES_URL to run the PostgreSQL checks")
    from cvm.data.connect import postgres_connection

    return postgres_connection(url)


@pytest.mark.postgres
def test_postgres_parses_like_duckdb(pg):
    dates = [c[0] for c in DATES] + INVALID + [None]
    money = [m[0] for m in MONEY] + NOT_NUMBERS + NON_FINITE
    n = max(len(dates), len(money))
    data = {"d": dates + [None] * (n - len(dates)), "m": money + [None] * (n - len(money)),
            "i": list(range(n))}
    local = ibis.memtable(data)
    remote = pg.create_table(f"__cvm_test_parse_{os.getpid()}", local, temp=True)

    def parsed(t):
        t = P.parse_date(t, "d", "dd", dayfirst=True)
        t = P.parse_number(t, "m", "mm")
        return t.order_by("i")

    assert run(parsed(remote)) == run(parsed(local))
