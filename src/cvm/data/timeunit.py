"""Time units and their exact conversions, defined in one place.

CVM measures durations (recency, customer age ``T``) in a :class:`TimeUnit` and groups
purchases into calendar periods of a unit. Two facts hold for every unit:

* ``unit.days`` is the exact length in days used to turn a day count into a duration:
  day 1, week 7; month, quarter and year use the mean Gregorian year of 365.2425 days
  (month = 365.2425 / 12 = 30.436875 days, quarter = 91.310625 days). No other factor
  (30 days, 4.345 weeks) appears anywhere else in CVM.
* ``unit.truncate(date)`` is the start of the calendar period that contains ``date``:
  the day itself, the Monday of its ISO week, the first of its month, quarter or year.

>>> TimeUnit("week").days
7.0
>>> TimeUnit.parse("months") is TimeUnit.MONTH
True
>>> TimeUnit.MONTH.days * 12 == TimeUnit.YEAR.days
True
>>> TimeUnit.QUARTER.from_days(365.2425)
4.0
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import TYPE_CHECKING

from cvm.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import numpy as np

GREGORIAN_YEAR_DAYS = 365.2425
"""Mean length of the Gregorian calendar year in days (400-year cycle)."""

_DAYS = {
    "day": 1.0,
    "week": 7.0,
    "month": GREGORIAN_YEAR_DAYS / 12,
    "quarter": GREGORIAN_YEAR_DAYS / 4,
    "year": GREGORIAN_YEAR_DAYS,
}
_TRUNCATE_CODE = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_ALIASES = {
    "d": "day", "days": "day", "daily": "day", "日": "day", "天": "day",
    "w": "week", "weeks": "week", "weekly": "week", "周": "week",
    "m": "month", "months": "month", "monthly": "month", "月": "month",
    "q": "quarter", "quarters": "quarter", "quarterly": "quarter", "季": "quarter", "季度": "quarter",
    "y": "year", "years": "year", "yearly": "year", "annual": "year", "年": "year",
}


class TimeUnit(StrEnum):
    """A unit of time: ``day``, ``week``, ``month``, ``quarter`` or ``year``."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @classmethod
    def parse(cls, value: "TimeUnit | str") -> "TimeUnit":
        """Accept a unit, its name, a plural, an adjective or its Chinese name.

        >>> TimeUnit.parse("季度")
        <TimeUnit.QUARTER: 'quarter'>
        """
        if isinstance(value, TimeUnit):
            return value
        key = str(value).strip().lower()
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(u.value for u in cls)
            raise ConfigError(
                f"unknown time unit {value!r}", hint=f"use one of: {names}"
            ) from None

    @property
    def days(self) -> float:
        """Exact length of one unit in days (see the module docstring)."""
        return _DAYS[self.value]

    def from_days(self, n_days: float) -> float:
        """Convert a number of days into this unit.

        >>> TimeUnit.WEEK.from_days(14)
        2.0
        """
        return n_days / self.days

    def to_days(self, n_units: float) -> float:
        """Convert a number of units into days.

        >>> TimeUnit.YEAR.to_days(2)
        730.485
        """
        return n_units * self.days

    def discount_rate(self, annual_rate: float) -> float:
        """The discount rate per unit equivalent to ``annual_rate`` per (Gregorian) year.

        Compounded exactly: ``(1 + annual_rate) ** (days / 365.2425) - 1``.

        >>> round(TimeUnit.WEEK.discount_rate(0.10), 8)
        0.00182832
        >>> TimeUnit.YEAR.discount_rate(0.10)
        0.1
        """
        if not (math.isfinite(annual_rate) and annual_rate > -1):
            raise ConfigError(f"the annual discount rate must be a number greater than -1, got {annual_rate!r}")
        if self is TimeUnit.YEAR:
            return float(annual_rate)
        return math.expm1(math.log1p(annual_rate) * self.days / GREGORIAN_YEAR_DAYS)

    def period_start(self, date: dt.date) -> dt.date:
        """First day of the calendar period of this unit that contains ``date``.

        >>> TimeUnit.QUARTER.period_start(dt.date(1997, 11, 20))
        datetime.date(1997, 10, 1)
        >>> TimeUnit.WEEK.period_start(dt.date(2024, 5, 3))   # a Friday; ISO weeks start on Monday
        datetime.date(2024, 4, 29)
        """
        if self is TimeUnit.DAY:
            return date
        if self is TimeUnit.WEEK:
            return date - dt.timedelta(days=date.weekday())
        if self is TimeUnit.MONTH:
            return date.replace(day=1)
        if self is TimeUnit.QUARTER:
            return date.replace(month=3 * ((date.month - 1) // 3) + 1, day=1)
        return date.replace(month=1, day=1)

    def next_period_start(self, date: dt.date) -> dt.date:
        """First day of the calendar period after the one that contains ``date``.

        >>> TimeUnit.MONTH.next_period_start(dt.date(1997, 12, 31))
        datetime.date(1998, 1, 1)
        """
        start = self.period_start(date)
        if self is TimeUnit.DAY:
            return start + dt.timedelta(days=1)
        if self is TimeUnit.WEEK:
            return start + dt.timedelta(days=7)
        months = {TimeUnit.MONTH: 1, TimeUnit.QUARTER: 3, TimeUnit.YEAR: 12}[self]
        index = start.year * 12 + start.month - 1 + months
        return dt.date(index // 12, index % 12 + 1, 1)

    def period_numbers(self, days: "np.ndarray") -> "np.ndarray":
        """The calendar period (consecutive whole numbers since 1970) of each day number
        (days since 1970-01-01, an integer array).

        >>> import numpy as np
        >>> TimeUnit.MONTH.period_numbers(np.array([0, 31, 59]))   # 1970-01-01, 02-01, 03-01
        array([0, 1, 2])
        """
        import numpy as np

        days = np.asarray(days, dtype=np.int64)
        if self is TimeUnit.DAY:
            return days
        if self is TimeUnit.WEEK:
            return (days + 3) // 7  # 1970-01-01 is a Thursday: week 0 starts on Monday 1969-12-29
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        if self is TimeUnit.MONTH:
            return months
        if self is TimeUnit.QUARTER:
            return months // 3
        return months // 12

    def first_days(self, numbers: "np.ndarray") -> "np.ndarray":
        """The first day (days since 1970-01-01, int64) of each period number of
        :meth:`period_numbers`.

        >>> import numpy as np
        >>> TimeUnit.WEEK.first_days(np.array([0, 1])).astype("datetime64[D]")
        array(['1969-12-29', '1970-01-05'], dtype='datetime64[D]')
        """
        import numpy as np

        numbers = np.asarray(numbers, dtype=np.int64)
        if self is TimeUnit.DAY:
            return numbers
        if self is TimeUnit.WEEK:
            return numbers * 7 - 3
        months = {TimeUnit.MONTH: 1, TimeUnit.QUARTER: 3, TimeUnit.YEAR: 12}[self]
        return (numbers * months).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)

    def future_periods(self, observation_end: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
        """The next ``count`` calendar periods after ``observation_end``, as (first, last) days.

        The first period is the one containing the day after ``observation_end``; it is
        partial when ``observation_end`` is not the last day of a period.

        >>> TimeUnit.MONTH.future_periods(dt.date(1997, 9, 30), 3)[0]
        (datetime.date(1997, 10, 1), datetime.date(1997, 10, 31))
        >>> TimeUnit.MONTH.future_periods(dt.date(1997, 9, 15), 1)   # the rest of September
        [(datetime.date(1997, 9, 16), datetime.date(1997, 9, 30))]
        """
        if count < 1:
            raise ConfigError(f"the number of future periods must be at least 1, got {count!r}")
        periods = []
        first = observation_end + dt.timedelta(days=1)
        for _ in range(count):
            following = self.next_period_start(first)
            periods.append((first, following - dt.timedelta(days=1)))
            first = following
        return periods

    def period_edges(self, observation_end: dt.date, count: int, unit: "TimeUnit | str") -> list[float]:
        """Ends of the next ``count`` calendar periods of this unit, in ``unit``s after the end.

        These are the ``edges`` of the models' ``expected_purchases_by_period``: the
        expected purchases in each of the next three calendar months, say, of a model
        fitted in weeks.

        >>> TimeUnit.MONTH.period_edges(dt.date(1997, 9, 30), 3, "week")
        [4.428571428571429, 8.714285714285714, 13.142857142857142]
        """
        unit = TimeUnit.parse(unit)
        return [unit.from_days((last - observation_end).days + 0.0) for _, last in self.future_periods(observation_end, count)]

    def truncate(self, date: "ir.DateValue") -> "ir.DateValue":
        """Ibis expression for the first day of the calendar period that holds ``date``."""
        if self is TimeUnit.DAY:
            return date
        return date.truncate(_TRUNCATE_CODE[self.value])
