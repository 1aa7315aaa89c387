"""Bad input to the base-health metrics gives a CVMError that names the column and the rule."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError
from cvm.value.health import inter_purchase_time, referral_stats, retention, satisfaction


def _panel(**changes):
    table = pd.DataFrame({"customer_id": ["a", "b"], "period_start": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                          "orders": [1, 2]})
    for column, values in changes.items():
        table[column] = values
    return table


def _surveys(**changes):
    table = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                          "satisfaction": [4.0, 5.0], "nps": [9, 6], "complaint": [False, True]})
    for column, values in changes.items():
        table[column] = values
    return table


# ----------------------------------------------------------------------------- retention


@pytest.mark.parametrize("column", ["customer_id", "period_start", "orders"])
def test_retention_missing_column(column):
    with pytest.raises(MissingColumnError, match=f"(?s)no column '{column}'.*period_panel"):
        retention(_panel().drop(columns=column))


def test_retention_needs_a_dataframe():
    with pytest.raises(InvalidDataError, match="needs a pandas DataFrame, got list"):
        retention([1, 2])


@pytest.mark.parametrize("ids", [["a", None], ["a", "  "]])
def test_retention_missing_or_blank_ids(ids):
    with pytest.raises(InvalidDataError, match="'customer_id' must not be missing or blank: 1 row"):
        retention(_panel(customer_id=ids))


def test_retention_negative_orders():
    with pytest.raises(InvalidDataError, match="'orders' must not be negative: 1 row.*row 1"):
        retention(_panel(orders=[1, -1]))


def test_retention_orders_not_numbers():
    with pytest.raises(InvalidDataError, match="'orders' must be a number: 1 row"):
        retention(_panel(orders=["1", "many"]))


def test_retention_period_start_not_first_day():
    panel = _panel(period_start=pd.to_datetime(["2024-01-01", "2024-02-15"]))
    with pytest.raises(InvalidDataError, match="'period_start' must be the first day of a month: 1 row"):
        retention(panel, "month")
    with pytest.raises(InvalidDataError, match="first day of a week"):
        retention(_panel(), "week")  # 2024-02-01 is a Thursday


def test_retention_unparseable_date():
    with pytest.raises(InvalidDataError, match="'period_start' must be a date: 1 row"):
        retention(_panel(period_start=["2024-01-01", "not a date"]))


def test_retention_unknown_period():
    with pytest.raises(ConfigError, match="unknown time unit 'fortnight'"):
        retention(_panel(), "fortnight")


# ----------------------------------------------------------------------------- inter-purchase time


def test_inter_purchase_time_missing_columns():
    with pytest.raises(MissingColumnError, match="(?s)no column 'tenure_days'.*btyd_summary"):
        inter_purchase_time(pd.DataFrame({"customer_id": ["a"], "purchase_days": [2]}))


@pytest.mark.parametrize("purchases", [0, 1.5])
def test_inter_purchase_time_bad_purchase_days(purchases):
    table = pd.DataFrame({"customer_id": ["a"], "tenure_days": [10], "purchase_days": [purchases]})
    with pytest.raises(InvalidDataError, match="'purchase_days' must give a whole number of at least 1"):
        inter_purchase_time(table)


@pytest.mark.parametrize(("tenure", "purchases"), [(-1, 2), (5, 1)])
def test_inter_purchase_time_bad_tenure(tenure, purchases):
    table = pd.DataFrame({"customer_id": ["a"], "tenure_days": [tenure], "purchase_days": [purchases]})
    with pytest.raises(InvalidDataError, match="'tenure_days' must be 0 or more, and 0 for a customer with one"):
        inter_purchase_time(table)


def test_inter_purchase_time_missing_value():
    table = pd.DataFrame({"customer_id": ["a"], "tenure_days": [float("nan")], "purchase_days": [2]})
    with pytest.raises(InvalidDataError, match="'tenure_days' must be a finite number, not missing"):
        inter_purchase_time(table)


# ----------------------------------------------------------------------------- referrals


def test_referrals_missing_columns():
    base = pd.DataFrame({"customer_id": ["a"]})
    with pytest.raises(MissingColumnError, match="no column 'referred_id'"):
        referral_stats(pd.DataFrame({"referrer_id": ["a"]}), base)
    with pytest.raises(MissingColumnError, match="no column 'customer_id'"):
        referral_stats(pd.DataFrame({"referrer_id": ["a"], "referred_id": ["b"]}), pd.DataFrame({"id": ["a"]}))


def test_referrals_blank_id():
    referrals = pd.DataFrame({"referrer_id": ["a", ""], "referred_id": ["b", "c"]})
    with pytest.raises(InvalidDataError, match="referrals: column 'referrer_id' must not be missing or blank: 1 row"):
        referral_stats(referrals, pd.DataFrame({"customer_id": ["a"]}))


def test_referrals_bad_date():
    referrals = pd.DataFrame({"referrer_id": ["a", "b"], "referred_id": ["b", "c"], "date": ["2024-01-01", "soon"]})
    with pytest.raises(InvalidDataError, match="referrals: column 'date' must be a date: 1 row"):
        referral_stats(referrals, pd.DataFrame({"customer_id": ["a"]}))


# ----------------------------------------------------------------------------- satisfaction


def test_satisfaction_missing_columns():
    with pytest.raises(MissingColumnError, match="no column 'date'"):
        satisfaction(_surveys().drop(columns="date"))
    with pytest.raises(MissingColumnError, match="none of the columns 'satisfaction', 'nps', 'complaint'"):
        satisfaction(_surveys().drop(columns=["satisfaction", "nps", "complaint"]))


@pytest.mark.parametrize("score", [11, -1, 7.5])
def test_nps_out_of_range(score):
    with pytest.raises(InvalidDataError, match="'nps' must be a whole number from 0 to 10: 1 row"):
        satisfaction(_surveys(nps=[9, score]))


def test_complaint_not_yes_no():
    with pytest.raises(InvalidDataError, match="'complaint' must be yes/no.*1 row"):
        satisfaction(_surveys(complaint=[1, 2]))
    with pytest.raises(InvalidDataError, match="'complaint' must be yes/no"):
        satisfaction(_surveys(complaint=["maybe", None]))


def test_satisfaction_not_a_number():
    with pytest.raises(InvalidDataError, match="'satisfaction' must be a number: 1 row"):
        satisfaction(_surveys(satisfaction=["4", "great"]))


def test_segments_checks():
    with pytest.raises(MissingColumnError, match="no segment column besides 'customer_id'"):
        satisfaction(_surveys(), pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(MissingColumnError, match="no column 'customer_id'"):
        satisfaction(_surveys(), pd.DataFrame({"tier": ["vip"]}))
    with pytest.raises(InvalidDataError, match="'customer_id' must be unique: 1 row"):
        satisfaction(_surveys(), pd.DataFrame({"customer_id": ["a", "a"], "tier": ["vip", "key"]}))
