"""Hand-computed cases for the base-health metrics (cvm.value.health).

Every expected number below is worked out by hand in the comment or docstring beside it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from cvm.value.health import inter_purchase_time, referral_stats, retention, satisfaction


def _panel(rows):
    customer, start, orders = zip(*rows)
    return pd.DataFrame({"customer_id": list(customer), "period_start": pd.to_datetime(list(start)),
                         "orders": list(orders)})


# ----------------------------------------------------------------------------- retention

PANEL = _panel([
    ("a", "2024-01-01", 1), ("a", "2024-02-01", 1),
    ("b", "2024-01-01", 2), ("b", "2024-03-01", 1),
    ("c", "2024-02-01", 1),
    ("d", "2024-03-01", 0), ("d", "2024-04-01", 0),  # zero rows (dense panel): never active
    ("e", "2024-01-01", 1), ("e", "2024-03-01", 1), ("e", "2024-04-01", 3),
])


def test_retention_by_period_hand_computed():
    """Jan: a b e active, b bought twice. Feb: a (again) c (new); of Jan's 3, a stayed.
    Mar: b e, both bought before; of Feb's a c, nobody stayed. Apr: e; of Mar's b e, e stayed."""
    table = retention(PANEL, "month").by_period
    assert table["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    assert table["active_customers"].tolist() == [3, 2, 2, 1]
    assert table["new_customers"].tolist() == [3, 1, 0, 0]
    assert table["repeat_customers"].tolist() == [1, 1, 2, 1]
    np.testing.assert_allclose(table["repurchase_rate"], [1 / 3, 1 / 2, 1.0, 1.0])
    assert table["previous_active_customers"].tolist() == [0, 3, 2, 2]
    assert table["retained_customers"].tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(table["retention_rate"], [np.nan, 1 / 3, 0.0, 0.5])
    np.testing.assert_allclose(table["churn_rate"], [np.nan, 2 / 3, 1.0, 0.5])


def test_cohort_table_hand_computed():
    """Jan cohort a b e: Feb a, Mar b e, Apr e. Feb cohort c: never again. Mar/Apr: no new customers."""
    cohorts = retention(PANEL, "month").cohorts
    assert cohorts["cohort_start"].dt.strftime("%m").tolist() == ["01"] * 4 + ["02"] * 3
    assert cohorts["periods_since"].tolist() == [0, 1, 2, 3, 0, 1, 2]
    assert cohorts["period_start"].dt.strftime("%m").tolist() == ["01", "02", "03", "04", "02", "03", "04"]
    assert cohorts["cohort_customers"].tolist() == [3, 3, 3, 3, 1, 1, 1]
    assert cohorts["active_customers"].tolist() == [3, 1, 2, 1, 1, 0, 0]
    np.testing.assert_allclose(cohorts["share_active"], [1, 1 / 3, 2 / 3, 1 / 3, 1, 0, 0])


def test_retention_period_with_nobody_active():
    """Jan a; Feb nobody (the period still appears); Mar a again."""
    table = retention(_panel([("a", "2024-01-01", 1), ("a", "2024-03-01", 1)])).by_period
    assert table["active_customers"].tolist() == [1, 0, 1]
    np.testing.assert_allclose(table["repurchase_rate"], [0.0, np.nan, 1.0])
    np.testing.assert_allclose(table["retention_rate"], [np.nan, 0.0, np.nan])


def test_repeated_panel_rows_are_added_up():
    """Two rows of one order for a in one month make 2 purchases: a repurchase."""
    table = retention(_panel([("a", "2024-01-01", 1), ("a", "2024-01-01", 1), ("b", "2024-01-01", 1)])).by_period
    assert table["active_customers"].tolist() == [2]
    assert table["repeat_customers"].tolist() == [1]


@pytest.mark.parametrize(("period", "starts"), [
    ("week", ["2024-01-01", "2024-01-08", "2024-01-15"]),  # Mondays
    ("quarter", ["2024-01-01", "2024-04-01", "2024-07-01"]),
    ("year", ["2022-01-01", "2023-01-01", "2024-01-01"]),
    ("day", ["2024-01-01", "2024-01-02", "2024-01-03"]),
])
def test_retention_other_periods(period, starts):
    """a in periods 1 and 2, b in 2 and 3: retention 1/1 then 1/2."""
    panel = _panel([("a", starts[0], 1), ("a", starts[1], 1), ("b", starts[1], 1), ("b", starts[2], 1)])
    tables = retention(panel, period)
    assert tables.by_period["period_start"].dt.strftime("%Y-%m-%d").tolist() == starts
    np.testing.assert_allclose(tables.by_period["retention_rate"], [np.nan, 1.0, 0.5])
    assert tables.cohorts["active_customers"].tolist() == [1, 1, 0, 1, 1]


def test_retention_empty_panel_gives_empty_tables():
    empty = _panel([("a", "2024-01-01", 1)]).iloc[:0]
    tables = retention(empty)
    assert len(tables.by_period) == 0 and len(tables.cohorts) == 0
    assert "retention_rate" in tables.by_period.columns and "share_active" in tables.cohorts.columns


def test_retention_ignores_row_order():
    shuffled = PANEL.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(retention(shuffled).by_period, retention(PANEL).by_period)
    pd.testing.assert_frame_equal(retention(shuffled).cohorts, retention(PANEL).cohorts)


# ----------------------------------------------------------------------------- inter-purchase time


def test_inter_purchase_time_hand_computed():
    """a 30/1 = 30, b 90/3 = 30, c single purchase, d 10/1 = 10: mean (30+30+10)/3, median 30,
    pooled (30+90+10)/(1+3+1) = 26."""
    result = inter_purchase_time(pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "tenure_days": [30, 90, 0, 10], "purchase_days": [2, 4, 1, 2]}))
    np.testing.assert_allclose(result.customers["mean_days_between_purchases"], [30, 30, np.nan, 10])
    base = result.base.iloc[0]
    assert (base["customers"], base["repeat_customers"]) == (4, 3)
    assert base["mean_days"] == pytest.approx(70 / 3)
    assert base["median_days"] == 30
    assert base["pooled_days"] == 26


def test_inter_purchase_time_from_btyd_summary():
    """frequency 2 and recency 8 weeks = 56 days over 2 gaps = 28 days; 61 days in months over 1 gap."""
    weeks = inter_purchase_time(pd.DataFrame({"customer_id": ["a"], "frequency": [2], "recency": [8.0]}), "week")
    assert weeks.customers["mean_days_between_purchases"].tolist() == [28.0]
    months = inter_purchase_time(
        pd.DataFrame({"customer_id": ["a"], "frequency": [1], "recency": [61 / (365.2425 / 12)]}), "month")
    assert months.customers["mean_days_between_purchases"].tolist() == [61.0]


def test_inter_purchase_time_without_repeat_buyers():
    result = inter_purchase_time(pd.DataFrame({"customer_id": ["a"], "tenure_days": [0], "purchase_days": [1]}))
    assert result.base["repeat_customers"].tolist() == [0]
    assert np.isnan(result.base["mean_days"].iloc[0]) and np.isnan(result.base["pooled_days"].iloc[0])


# ----------------------------------------------------------------------------- referrals

REFERRALS = pd.DataFrame({
    "referrer_id": ["a", "b", "a", "e", "x", "y", "z", "z", "s", "g"],
    "referred_id": ["b", "c", "d", "f", "y", "z", "x", "w", "s", "c"],
    "date": pd.to_datetime(["2024-01-01"] * 9 + ["2024-02-01"]),  # g referred c after b did
})
BASE = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "f", "g", "h", "x"]})


def test_referral_rates_hand_computed():
    """Base of 9: a b e g x referred someone (5/9); b c d f x were referred (5/9)."""
    summary = referral_stats(REFERRALS, BASE).summary.iloc[0]
    assert summary["customers"] == 9
    assert summary["referrers"] == 5 and summary["referral_rate"] == pytest.approx(5 / 9)
    assert summary["referred_customers"] == 5 and summary["referred_share"] == pytest.approx(5 / 9)
    assert summary["referrals"] == 10 and summary["duplicate_referrals"] == 1


def test_referral_trees_and_depth():
    """a -> b -> c and a -> d: 4 customers, depth 2. e -> f: depth 1. g's later referral of c
    does not count, so g is no root."""
    stats = referral_stats(REFERRALS, BASE)
    assert stats.trees.to_dict("list") == {"root_id": ["a", "e"], "tree_customers": [4, 2], "depth": [2, 1]}
    assert stats.summary["trees"].iloc[0] == 2
    assert stats.summary["max_depth"].iloc[0] == 2
    assert stats.summary["mean_depth"].iloc[0] == 1.5


def test_referral_cycles_are_reported(caplog):
    """x -> y -> z -> x loops (named x, its smallest id); w hangs below it; s referred itself."""
    with caplog.at_level(logging.WARNING, logger="cvm.value.health"):
        stats = referral_stats(REFERRALS, BASE)
    assert stats.cycles.to_dict("list") == {
        "customer_id": ["s", "w", "x", "y", "z"],
        "cycle": ["s", "x", "x", "x", "x"],
        "on_cycle": [True, False, True, True, True],
    }
    assert stats.summary["cycles"].iloc[0] == 2
    assert stats.summary["cycle_customers"].iloc[0] == 5
    assert "2 referral cycle(s)" in caplog.text


def test_same_day_referrals_keep_the_smallest_referrer():
    referrals = pd.DataFrame({"referrer_id": ["m", "k"], "referred_id": ["c", "c"],
                              "date": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    stats = referral_stats(referrals, pd.DataFrame({"customer_id": ["c"]}))
    assert stats.trees["root_id"].tolist() == ["k"]
    assert stats.summary["duplicate_referrals"].iloc[0] == 1


def test_long_chain_and_long_cycle_end():
    """A chain of 1000 customers has depth 999; a loop of 1000 ends and is reported."""
    ids = [f"c{i:04d}" for i in range(1000)]
    chain = pd.DataFrame({"referrer_id": ids[:-1], "referred_id": ids[1:]})
    stats = referral_stats(chain, pd.DataFrame({"customer_id": ids}))
    assert stats.trees.to_dict("list") == {"root_id": ["c0000"], "tree_customers": [1000], "depth": [999]}
    loop = pd.DataFrame({"referrer_id": ids, "referred_id": ids[1:] + ids[:1]})
    stats = referral_stats(loop, pd.DataFrame({"customer_id": ids}))
    assert len(stats.trees) == 0
    assert stats.summary[["cycles", "cycle_customers"]].iloc[0].tolist() == [1, 1000]
    assert set(stats.cycles["cycle"]) == {"c0000"}


def test_referrals_empty():
    stats = referral_stats(pd.DataFrame({"referrer_id": [], "referred_id": []}), BASE)
    assert stats.summary[["customers", "referrers", "referral_rate", "trees", "max_depth"]].iloc[0].tolist() == [9, 0, 0.0, 0, 0]
    assert len(stats.trees) == 0 and len(stats.cycles) == 0


# ----------------------------------------------------------------------------- satisfaction


def _surveys(rows):
    customer, date, sat, nps, complaint = zip(*rows)
    return pd.DataFrame({"customer_id": list(customer), "date": pd.to_datetime(list(date)),
                         "satisfaction": list(sat), "nps": pd.array(list(nps), dtype="Int64"),
                         "complaint": pd.array(list(complaint), dtype="boolean")})


def test_nps_edges_6_7_8_9():
    """6 is a detractor, 7 and 8 passives, 9 a promoter: (1 - 1) / 4 = 0."""
    surveys = _surveys([(c, "2024-01-10", None, s, None) for c, s in zip("abcd", [6, 7, 8, 9])])
    base = satisfaction(surveys).base.iloc[0]
    assert (base["promoters"], base["passives"], base["detractors"]) == (1, 2, 1)
    assert base["nps"] == 0.0
    assert base["promoter_share"] == 0.25 and base["detractor_share"] == 0.25


def test_nps_extremes():
    """0 0 10 10 10: (3 - 2) / 5 = 20; all 10: 100; all 0: -100."""
    surveys = _surveys([(c, "2024-01-10", None, s, None) for c, s in zip("abcde", [0, 0, 10, 10, 10])])
    assert satisfaction(surveys).base["nps"].iloc[0] == pytest.approx(20.0)
    surveys = _surveys([(c, "2024-01-10", None, 10, None) for c in "ab"])
    assert satisfaction(surveys).base["nps"].iloc[0] == 100.0
    surveys = _surveys([(c, "2024-01-10", None, 0, None) for c in "ab"])
    assert satisfaction(surveys).base["nps"].iloc[0] == -100.0


SURVEYS = _surveys([
    ("a", "2024-01-05", 1.0, 0, True),
    ("a", "2024-02-20", 5.0, 9, False),    # a's latest: 5, 9, no complaint
    ("b", "2024-01-10", 2.0, 6, True),
    ("b", "2024-02-25", None, None, None),  # empty answer: b keeps 2, 6, complaint
    ("c", "2024-02-01", 4.0, 8, False),
    ("c", "2024-02-01", 3.0, 7, False),    # same day: the later row counts (3, 7)
])


def test_latest_answer_per_customer():
    """Latest answers: a (5, 9, no), b (2, 6, yes), c (3, 7, no): complaints 1/3, CSAT 10/3,
    NPS (1 - 1)/3 = 0."""
    base = satisfaction(SURVEYS).base.iloc[0]
    assert base["respondents"] == 3
    assert (base["complaint_answers"], base["complaints"]) == (3, 1)
    assert base["complaint_rate"] == pytest.approx(1 / 3)
    assert base["mean_satisfaction"] == pytest.approx(10 / 3)
    assert (base["promoters"], base["passives"], base["detractors"], base["nps"]) == (1, 1, 1, 0.0)


def test_satisfaction_per_period():
    """Jan: a (1, 0, yes), b (2, 6, yes): complaints 2/2, CSAT 1.5, NPS -100.
    Feb: a (5, 9, no), b answered nothing, c (3, 7, no): complaints 0/2, CSAT 4, NPS 50."""
    table = satisfaction(SURVEYS, period="month").by_period
    assert table["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01"]
    assert table["respondents"].tolist() == [2, 2]  # b's empty February row is no answer
    np.testing.assert_allclose(table["complaint_rate"], [1.0, 0.0])
    np.testing.assert_allclose(table["mean_satisfaction"], [1.5, 4.0])
    assert table["nps_answers"].tolist() == [2, 2]
    np.testing.assert_allclose(table["nps"], [-100.0, 50.0])


def test_satisfaction_by_segment():
    """vip a, b: NPS (1 - 1)/2 = 0, complaints 1/2. other c: NPS 0 (a passive). z has a segment but no answer; b has no stage."""
    segments = pd.DataFrame({"customer_id": ["a", "b", "c", "z"], "tier": ["vip", "vip", "other", "vip"],
                             "stage": ["stable", None, "stable", "decline"]})
    table = satisfaction(SURVEYS, segments).by_segment
    assert table[["segment", "segment_value"]].values.tolist() == [
        ["tier", "other"], ["tier", "vip"], ["stage", "stable"]]
    assert table["respondents"].tolist() == [1, 2, 2]
    np.testing.assert_allclose(table["complaint_rate"], [0.0, 0.5, 0.0])
    np.testing.assert_allclose(table["nps"], [0.0, 0.0, 50.0])
    np.testing.assert_allclose(table["mean_satisfaction"], [3.0, 3.5, 4.0])


def test_satisfaction_with_only_nps_and_empty_tables():
    surveys = pd.DataFrame({"customer_id": ["a"], "date": pd.to_datetime(["2024-01-01"]), "nps": [9]})
    base = satisfaction(surveys).base.iloc[0]
    assert base["nps"] == 100.0 and base["complaint_answers"] == 0 and np.isnan(base["complaint_rate"])
    tables = satisfaction(surveys.iloc[:0], pd.DataFrame({"customer_id": [], "tier": []}))
    assert tables.base["respondents"].tolist() == [0] and np.isnan(tables.base["nps"].iloc[0])
    assert len(tables.by_period) == 0 and len(tables.by_segment) == 0
    assert list(tables.by_segment.columns[:3]) == ["segment", "segment_value", "respondents"]


def test_health_terms_have_both_labels():
    from cvm.labels import TERMS, label

    assert label("health.promoter", "zh") == "推荐者" and label("health.detractor") == "detractor"
    assert {"health.retention_rate", "health.repurchase_rate", "health.churn_rate", "health.nps",
            "health.complaint_rate", "health.referral_rate"} <= set(TERMS)
