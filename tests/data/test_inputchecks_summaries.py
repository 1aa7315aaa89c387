"""Bad arguments to the summaries raise ConfigError / MissingColumnError with useful messages.

Every check happens while the expression is built, before any engine runs, so these tests
need no backend.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from cvm.data import summaries
from cvm.errors import ConfigError, MissingColumnError

D = dt.date(2024, 1, 31)


@pytest.fixture
def log() -> ibis.Table:
    return ibis.memtable({
        "customer_id": ["a", "b"],
        "date": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
        "amount": [1.0, 2.0],
    })


ALL = {
    "btyd_summary": lambda t, **kw: summaries.btyd_summary(t, observation_end=D, **kw),
    "calibration_holdout": lambda t, **kw: summaries.calibration_holdout(
        t, calibration_end=D, holdout_end="2024-03-31", **kw),
    "period_panel": lambda t, **kw: summaries.period_panel(t, observation_end=D, **kw),
    "rfm_scores": lambda t, **kw: summaries.rfm_scores(t, observation_end=D, **kw),
    "cohort_table": lambda t, **kw: summaries.cohort_table(t, observation_end=D, **kw),
}


def test_errors_are_value_errors():
    assert issubclass(ConfigError, ValueError)
    assert issubclass(MissingColumnError, ConfigError)


@pytest.mark.parametrize("name", ALL)
def test_missing_column_is_named(name, log):
    with pytest.raises(MissingColumnError, match=r"no column 'amount'.*it has: customer_id, date"):
        ALL[name](log.drop("amount"))


@pytest.mark.parametrize("name", ALL)
def test_not_a_table(name):
    frame = pd.DataFrame({"customer_id": ["a"], "date": [D], "amount": [1.0]})
    with pytest.raises(ConfigError, match="must be an Ibis table, got DataFrame"):
        ALL[name](frame)


@pytest.mark.parametrize("name", ALL)
def test_unparsed_dates_and_amounts(name, log):
    with pytest.raises(ConfigError, match=r"transactions.date must be a date .* it is string"):
        ALL[name](log.mutate(date=log.date.cast("string")))
    with pytest.raises(ConfigError, match=r"transactions.amount must be numeric, it is string"):
        ALL[name](log.mutate(amount=log.amount.cast("string")))


@pytest.mark.parametrize("name", ALL)
def test_sort_must_be_boolean(name, log):
    with pytest.raises(ConfigError, match="sort must be True or False"):
        ALL[name](log, sort="yes")


@pytest.mark.parametrize("bad", ["31/01/2024", "", "tomorrow", 20240131, None])
def test_bad_observation_end(bad, log):
    with pytest.raises(ConfigError, match=r"observation_end must be a date or an ISO date"):
        summaries.btyd_summary(log, observation_end=bad)


def test_observation_end_accepts_dates_datetimes_and_strings(log):
    exprs = [summaries.btyd_summary(log, observation_end=end) for end in
             (D, dt.datetime(2024, 1, 31, 18, 30), pd.Timestamp("2024-01-31"), "2024-01-31")]
    assert len({ibis.to_sql(e, dialect="duckdb") for e in exprs}) == 1


def test_holdout_end_must_follow_calibration_end(log):
    for hold in ("2024-01-31", "2024-01-01"):
        with pytest.raises(ConfigError, match=r"holdout_end \(.*\) must be after calibration_end"):
            summaries.calibration_holdout(log, calibration_end="2024-01-31", holdout_end=hold)
    with pytest.raises(ConfigError, match="calibration_end must be a date"):
        summaries.calibration_holdout(log, calibration_end="Q3", holdout_end="2024-03-31")


@pytest.mark.parametrize("name", ["btyd_summary", "calibration_holdout"])
def test_bad_unit(name, log):
    with pytest.raises(ConfigError, match="unknown time unit 'fortnight'") as info:
        ALL[name](log, unit="fortnight")
    assert "day, week, month, quarter, year" in str(info.value)
    with pytest.raises(ConfigError, match="unit must be a time unit"):
        ALL[name](log, unit=7)


@pytest.mark.parametrize("name", ["period_panel", "cohort_table"])
def test_bad_period(name, log):
    with pytest.raises(ConfigError, match="unknown time unit 'decade'"):
        ALL[name](log, period="decade")


@pytest.mark.parametrize("name", ["btyd_summary", "calibration_holdout", "period_panel",
                                  "cohort_table"])
def test_count_by(name, log):
    with pytest.raises(ConfigError, match="count_by must be 'day' or 'order', got 'week'"):
        ALL[name](log, count_by="week")
    with pytest.raises(MissingColumnError, match="count_by='order' needs an order_id column"):
        ALL[name](log, count_by="order")


def test_options_are_keyword_only(log):
    with pytest.raises(TypeError):
        summaries.btyd_summary(log, D)  # type: ignore[misc]


def test_marketing_costs_checked(log):
    costs = ibis.memtable({"customer_id": ["a"], "date": [D], "amount": [3.0]})
    with pytest.raises(MissingColumnError, match="marketing_costs has no column 'cost'"):
        summaries.period_panel(log, observation_end=D, marketing_costs=costs)
    costs = ibis.memtable({"customer_id": ["a"], "date": ["2024-01-01"], "cost": [3.0]})
    with pytest.raises(ConfigError, match="marketing_costs.date must be a date"):
        summaries.period_panel(log, observation_end=D, marketing_costs=costs)


def test_segment_costs_need_customers(log):
    costs = ibis.memtable({"customer_id": [None], "segment": ["s1"], "date": [D], "cost": [3.0]},
                          schema={"customer_id": "string", "segment": "string", "date": "date",
                                  "cost": "float64"})
    with pytest.warns(UserWarning, match="segment-level cost rows .* are ignored"):
        summaries.period_panel(log, observation_end=D, marketing_costs=costs)
    customers = ibis.memtable({"customer_id": ["a"]})
    with pytest.raises(MissingColumnError, match="customers has no column 'segment'"):
        summaries.period_panel(log, observation_end=D, marketing_costs=costs, customers=customers)


def test_cohort_customers_need_acquisition_date(log):
    customers = ibis.memtable({"customer_id": ["a"], "segment": ["s1"]})
    with pytest.raises(MissingColumnError, match="customers has no column 'acquisition_date'"):
        summaries.cohort_table(log, observation_end=D, customers=customers)


def test_dense_must_be_boolean(log):
    with pytest.raises(ConfigError, match="dense must be True or False"):
        summaries.period_panel(log, observation_end=D, dense="no")


def test_timestamps_are_accepted(log):
    stamped = log.mutate(date=log.date.cast("timestamp"))
    result = summaries.btyd_summary(stamped, observation_end=D, unit="day").to_pyarrow()
    assert result.column("T").to_pylist() == [30.0, 29.0]
