"""TimeUnit: one place for time conversions."""

import datetime as dt

import ibis
import pytest

from cvm.data.timeunit import GREGORIAN_YEAR_DAYS, TimeUnit
from cvm.errors import ConfigError


def test_exact_lengths_in_days():
    assert TimeUnit.DAY.days == 1
    assert TimeUnit.WEEK.days == 7
    assert TimeUnit.YEAR.days == GREGORIAN_YEAR_DAYS == 365.2425
    assert TimeUnit.MONTH.days == pytest.approx(30.436875, abs=0)
    assert TimeUnit.QUARTER.days * 4 == TimeUnit.YEAR.days


@pytest.mark.parametrize("unit", list(TimeUnit))
def test_round_trip_days(unit):
    assert unit.to_days(unit.from_days(123.0)) == pytest.approx(123.0, rel=1e-15)


@pytest.mark.parametrize(
    "text, unit",
    [("week", TimeUnit.WEEK), ("Weeks", TimeUnit.WEEK), (" monthly ", TimeUnit.MONTH),
     ("季度", TimeUnit.QUARTER), ("年", TimeUnit.YEAR), ("d", TimeUnit.DAY)],
)
def test_parse_accepts_names_plurals_and_chinese(text, unit):
    assert TimeUnit.parse(text) is unit


def test_parse_rejects_unknown_unit_with_the_choices():
    with pytest.raises(ConfigError, match="unknown time unit 'fortnight'") as info:
        TimeUnit.parse("fortnight")
    assert "day, week, month, quarter, year" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "unit, expected",
    [
        (TimeUnit.DAY, dt.date(2024, 5, 15)),
        (TimeUnit.WEEK, dt.date(2024, 5, 13)),  # Monday of the ISO week
        (TimeUnit.MONTH, dt.date(2024, 5, 1)),
        (TimeUnit.QUARTER, dt.date(2024, 4, 1)),
        (TimeUnit.YEAR, dt.date(2024, 1, 1)),
    ],
)
def test_truncate_gives_the_calendar_period_start(unit, expected):
    t = ibis.memtable({"d": [dt.date(2024, 5, 15)]})
    con = ibis.duckdb.connect()
    assert con.to_pyarrow(t.select(p=unit.truncate(t.d))).column("p").to_pylist() == [expected]


def test_future_calendar_periods_and_their_edges():
    import datetime as dt

    from cvm.errors import ConfigError

    end = dt.date(1997, 12, 31)
    assert TimeUnit.QUARTER.future_periods(end, 2) == [
        (dt.date(1998, 1, 1), dt.date(1998, 3, 31)),
        (dt.date(1998, 4, 1), dt.date(1998, 6, 30)),
    ]
    assert TimeUnit.YEAR.future_periods(dt.date(2023, 6, 30), 2) == [
        (dt.date(2023, 7, 1), dt.date(2023, 12, 31)),  # the rest of 2023
        (dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ]
    weeks = TimeUnit.WEEK.future_periods(dt.date(2024, 5, 5), 2)  # a Sunday: next ISO week starts Monday
    assert weeks == [(dt.date(2024, 5, 6), dt.date(2024, 5, 12)), (dt.date(2024, 5, 13), dt.date(2024, 5, 19))]
    assert TimeUnit.MONTH.period_edges(dt.date(2024, 1, 31), 2, "day") == [29.0, 60.0]  # leap February
    assert TimeUnit.QUARTER.period_edges(end, 4, "year")[-1] == TimeUnit.YEAR.from_days(365)
    with pytest.raises(ConfigError, match="at least 1"):
        TimeUnit.MONTH.future_periods(end, 0)
