"""Cross-sell suggestions (`cvm.value.crosssell`): the planted co-purchase pattern of the
synthetic retailer is recovered, the holdout evaluation counts what it says, and the verdict
against the most-popular baseline is honest either way."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

from cvm.datasets import COMPANION_CATEGORY, generate_retail
from cvm.labels import label
from cvm.value import crosssell

D = dt.date


@pytest.fixture(scope="module")
def retail_log():
    return ibis.memtable(generate_retail(6_000, seed=11).transactions)


def linked(a: str, b: str) -> bool:
    return COMPANION_CATEGORY[a] == b or COMPANION_CATEGORY[b] == a


def test_correctness_rules_with_lift_are_exactly_the_planted_companions(retail_log):
    result = crosssell.cross_sell(retail_log, observation_end="2024-12-31")
    pairs = set(zip(result.rules.antecedent, result.rules.consequent, strict=True))
    planted = {(a, b) for a in COMPANION_CATEGORY for b in COMPANION_CATEGORY
               if a != b and linked(a, b)}
    assert pairs == planted
    assert (result.rules.lift > 1.15).all()


def test_correctness_first_suggestion_is_the_companion_for_single_category_customers(retail_log):
    transactions = retail_log.to_pandas()
    result = crosssell.cross_sell(retail_log, observation_end="2024-12-31")
    owned = transactions[transactions.amount > 0].groupby("customer_id").category.agg(set)
    single = owned[owned.map(len) == 1]
    first = result.suggestions[result.suggestions["rank"] == 1].set_index("customer_id")
    first = first.loc[first.index.intersection(single.index)]
    assert len(first) > 100
    expected = single.loc[first.index].map(lambda s: COMPANION_CATEGORY[next(iter(s))])
    # rules from a favourite point to its companion (or to a category whose companion it is)
    agree = (first["item"] == expected) | pd.Series(
        [linked(next(iter(single[c])), i) for c, i in first["item"].items()], index=first.index)
    assert agree.all()
    assert (first["item"] == expected).mean() > 0.8
    assert (first["source"] == "rules").all()


def test_correctness_rules_beat_the_popular_baseline_on_the_planted_pattern(retail_log):
    check = crosssell.evaluate_cross_sell(retail_log, calibration_end="2024-06-30",
                                          observation_end="2024-12-31")
    rates = check.table.set_index("method")
    assert rates.loc["rules", "customers_evaluated"] > 300
    assert rates.loc["rules", "hit_rate_first"] > 1.5 * rates.loc["popular", "hit_rate_first"]
    assert rates.loc["rules", "hit_rate"] > rates.loc["popular", "hit_rate"]
    assert check.lift_over_baseline > 1
    assert check.notes[0].startswith("co-purchase rules beat the most-popular baseline")


def test_correctness_product_level_suggestions_beat_the_baseline(retail_log):
    check = crosssell.evaluate_cross_sell(retail_log, calibration_end="2024-06-30",
                                          observation_end="2024-12-31",
                                          settings={"item": "product_id"})
    rates = check.table.set_index("method")
    assert rates.loc["rules", "hit_rate"] > rates.loc["popular", "hit_rate"]


# ------------------------------------------------------------------ a hand-computed holdout

HOLDOUT_LOG = pd.DataFrame([
    # calibration (to 2024-03-31): tea with cups twice, tea alone, cake with coffee
    ("a", "2024-01-02", "tea"), ("a", "2024-01-02", "cups"),
    ("b", "2024-01-05", "tea"), ("b", "2024-01-05", "cups"),
    ("c", "2024-02-01", "tea"),
    ("d", "2024-02-03", "coffee"), ("d", "2024-02-03", "cake"),
    ("e", "2024-03-01", "coffee"),
    # holdout: c buys cups (suggested by the rules), e buys tea (suggested by popularity),
    # a buys tea again (not new), f is new (no calibration basket)
    ("c", "2024-04-10", "cups"), ("e", "2024-05-01", "tea"), ("a", "2024-04-02", "tea"),
    ("f", "2024-04-03", "cake"),
], columns=["customer_id", "date", "category"]).assign(amount=5.0)


def holdout_log():
    return ibis.memtable(HOLDOUT_LOG.assign(date=pd.to_datetime(HOLDOUT_LOG.date).dt.date))


def test_correctness_hand_computed_holdout_counts():
    check = crosssell.evaluate_cross_sell(
        holdout_log(), calibration_end="2024-03-31", observation_end="2024-06-30",
        settings={"min_customers": 1, "suggestions": 1, "fill_with_popular": False})
    table = check.table.set_index("method")
    # evaluated: c (cups is new) and e (tea is new); a bought nothing new, f had no basket
    assert table.loc["rules", "customers_evaluated"] == 2
    # rules: c <- cups (tea -> cups), e <- cake (coffee -> cake): one hit of two
    assert table.loc["rules"][["suggestions", "hits", "customers_hit", "customers_hit_first"]
                              ].tolist() == [2, 1, 1, 1]
    assert table.loc["rules", "hit_rate"] == pytest.approx(0.5)
    assert table.loc["rules", "precision"] == pytest.approx(0.5)
    # popular (tea 3, coffee 2, cups 2, cake 1): c <- coffee (miss), e <- tea (hit)
    assert table.loc["popular"][["suggestions", "hits", "customers_hit"]].tolist() == [2, 1, 1]
    assert check.lift_over_baseline == pytest.approx(1.0)
    assert "do not beat the most-popular baseline" in check.notes[0]
    assert any("only 2 customers could be evaluated" in n for n in check.notes)
    assert table.loc["popular", "method_zh"] == label("cross_sell.popular", "zh")
    assert check.summary("zh").startswith("在验证期内购买了新商品的 2 位客户中")


def test_correctness_nothing_new_bought_cannot_be_evaluated():
    log = HOLDOUT_LOG[HOLDOUT_LOG.date < "2024-04-01"]
    check = crosssell.evaluate_cross_sell(
        ibis.memtable(log.assign(date=pd.to_datetime(log.date).dt.date)),
        calibration_end="2024-03-31", observation_end="2024-06-30")
    assert check.table.customers_evaluated.tolist() == [0, 0]
    assert check.table.hit_rate.isna().all()
    assert "cannot be evaluated" in check.notes[0]
    assert pd.isna(check.lift_over_baseline)


def test_correctness_reasons_in_both_languages_and_notes():
    result = crosssell.cross_sell(holdout_log(), observation_end="2024-03-31",
                                  settings={"min_customers": 1, "suggestions": 2})
    rows = result.suggestions.set_index(["customer_id", "rank"])
    assert rows.loc[("c", 1), "item"] == "cups" and rows.loc[("c", 1), "source"] == "rules"
    reasons_en = result.reasons("en")
    reasons_zh = result.reasons("zh")
    c_first = result.suggestions.index[(result.suggestions.customer_id == "c")
                                       & (result.suggestions["rank"] == 1)][0]
    assert reasons_en[c_first] == ("bought tea: 67% of its buyers also bought cups "
                                   "(1.7× the average)")
    assert "也购买了 cups" in reasons_zh[c_first]
    popular_row = result.suggestions.index[result.suggestions.source == "popular"][0]
    assert reasons_en[popular_row].startswith("popular: ")
    assert result.customers == 5
    assert result.customers_with_suggestions == 2          # c (tea -> cups), e (coffee -> cake)
    assert any("got no rule-based suggestion" in n for n in result.notes)


def test_correctness_no_rule_note_suggests_what_to_change():
    result = crosssell.cross_sell(holdout_log(), observation_end="2024-03-31",
                                  settings={"min_customers": 50})
    assert result.rules.empty
    assert "lower cross_sell.min_customers" in result.notes[0]
    assert (result.suggestions.source == "popular").all()


def test_correctness_empty_window_note():
    result = crosssell.cross_sell(holdout_log(), observation_end="2023-12-31")
    assert result.customers == 0 and result.suggestions.empty
    assert "no suggestion can be made" in result.notes[0]
