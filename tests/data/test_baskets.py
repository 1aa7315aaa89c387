"""`cvm.data.baskets`: hand-computed co-purchase statistics, input checks, and agreement with
the plain-Python reference (`tests/reference.py`) on random logs, on every engine."""

from __future__ import annotations

import datetime as dt
import math

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvm.data import baskets
from cvm.errors import ConfigError, MissingColumnError
from tests import reference

D = dt.date
END = D(2024, 3, 31)

LOG = pa.Table.from_pylist([
    # a: tea twice (two days) and cups; a return of cake and a zero row do not count
    {"customer_id": "a", "date": D(2024, 1, 2), "amount": 10.0, "category": "tea"},
    {"customer_id": "a", "date": D(2024, 1, 2), "amount": 3.0, "category": "tea"},
    {"customer_id": "a", "date": D(2024, 2, 2), "amount": 4.0, "category": " tea "},
    {"customer_id": "a", "date": D(2024, 2, 2), "amount": 5.0, "category": "cups"},
    {"customer_id": "a", "date": D(2024, 2, 9), "amount": -5.0, "category": "cake"},
    {"customer_id": "a", "date": D(2024, 2, 9), "amount": 0.0, "category": "cake"},
    {"customer_id": "b", "date": D(2024, 1, 5), "amount": 8.0, "category": "tea"},
    {"customer_id": "b", "date": D(2024, 1, 5), "amount": 2.0, "category": "cups"},
    {"customer_id": "c", "date": D(2024, 1, 9), "amount": 4.0, "category": "tea"},
    {"customer_id": "c", "date": D(2024, 1, 9), "amount": 9.0, "category": "cake"},
    {"customer_id": "c", "date": D(2024, 1, 9), "amount": 9.0, "category": None},
    {"customer_id": "c", "date": D(2024, 1, 9), "amount": 9.0, "category": "  "},
    {"customer_id": "d", "date": D(2024, 1, 3), "amount": 6.0, "category": "coffee"},
    {"customer_id": "d", "date": D(2024, 1, 3), "amount": 2.0, "category": "cake"},
    {"customer_id": "e", "date": D(2024, 3, 1), "amount": 7.0, "category": "coffee"},
    {"customer_id": "e", "date": D(2024, 4, 1), "amount": 7.0, "category": "cups"},  # after end
])


def run(expr, order):
    return expr.to_pandas().sort_values(order, ignore_index=True)


def _plain(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date()
    return value


def records(frame):
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


def assert_rows(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w)


# ------------------------------------------------------------------ hand-computed


def test_correctness_baskets_count_purchase_days_of_positive_rows(backend):
    items = run(baskets.customer_items(backend.load(LOG), observation_end=END),
                ["customer_id", "item"])
    assert items[["customer_id", "item", "purchases"]].values.tolist() == [
        ["a", "cups", 1], ["a", "tea", 2], ["b", "cups", 1], ["b", "tea", 1],
        ["c", "cake", 1], ["c", "tea", 1], ["d", "cake", 1], ["d", "coffee", 1],
        ["e", "coffee", 1]]
    assert str(items.loc[1, "first_purchase"])[:10] == "2024-01-02"


def test_correctness_since_keeps_only_later_purchases(backend):
    items = run(baskets.customer_items(backend.load(LOG), observation_end=D(2024, 4, 30),
                                       since=D(2024, 2, 28)), ["customer_id", "item"])
    assert items[["customer_id", "item"]].values.tolist() == [["e", "coffee"], ["e", "cups"]]


def test_correctness_rules_support_confidence_lift(backend):
    b = baskets.customer_items(backend.load(LOG), observation_end=END)
    rules = run(baskets.item_rules(b, min_customers=1, min_lift=0.0),
                ["antecedent", "consequent"])
    got = {(r.antecedent, r.consequent): r for r in rules.itertuples()}
    # 5 customers; tea: a b c, cups: a b, cake: c d, coffee: d e
    tea_cups = got[("tea", "cups")]
    assert (tea_cups.customers_both, tea_cups.customers_antecedent,
            tea_cups.customers_consequent) == (2, 3, 2)
    assert tea_cups.support == pytest.approx(2 / 5)
    assert tea_cups.confidence == pytest.approx(2 / 3)
    assert tea_cups.lift == pytest.approx((2 / 3) / (2 / 5))
    assert got[("cups", "tea")].confidence == pytest.approx(1.0)
    assert got[("cake", "tea")].lift == pytest.approx(0.5 / (3 / 5))
    assert ("tea", "coffee") not in got          # never bought together
    assert len(got) == 6                         # 3 pairs bought together, both ways


def test_correctness_rules_thresholds(backend):
    b = baskets.customer_items(backend.load(LOG), observation_end=END)
    kept = run(baskets.item_rules(b, min_customers=2), ["antecedent", "consequent"])
    assert kept[["antecedent", "consequent"]].values.tolist() == [["cups", "tea"], ["tea", "cups"]]
    lifted = run(baskets.item_rules(b, min_customers=1, min_lift=1.2), ["antecedent", "consequent"])
    assert sorted(lifted.lift.round(3)) == [1.25, 1.25, 1.667, 1.667]  # cake<->coffee, tea<->cups
    one = run(baskets.item_rules(b, min_customers=1, min_lift=0.0, rules_per_item=1),
              ["antecedent"])
    assert one[["antecedent", "consequent"]].values.tolist() == [
        ["cake", "coffee"], ["coffee", "cake"], ["cups", "tea"], ["tea", "cups"]]


def test_correctness_suggestions_skip_owned_items_and_rank_by_confidence(backend):
    b = baskets.customer_items(backend.load(LOG), observation_end=END)
    rules = baskets.item_rules(b, min_customers=1, min_lift=0.0)
    got = run(baskets.cross_sell_suggestions(b, rules, top=2), ["customer_id", "rank"])
    assert got[["customer_id", "rank", "item", "antecedent"]].values.tolist() == [
        ["a", 1, "cake", "tea"],          # tea -> cake 1/3, cups -> nothing new
        ["b", 1, "cake", "tea"],
        ["c", 1, "cups", "tea"],          # tea -> cups 2/3 beats cake -> coffee 1/2
        ["c", 2, "coffee", "cake"],
        ["d", 1, "tea", "cake"],          # cake -> tea 1/2 (lift 0.83: kept with min_lift 0)
        ["e", 1, "cake", "coffee"],
    ]
    assert set(got.source) == {"rules"}


def test_correctness_fill_with_popular_completes_each_list(backend):
    b = baskets.customer_items(backend.load(LOG), observation_end=END)
    rules = baskets.item_rules(b, min_customers=2)  # only tea <-> cups
    got = run(baskets.cross_sell_suggestions(b, rules, top=2, fill_with_popular=True),
              ["customer_id", "rank"])
    # popularity: tea 3, cake 2, coffee 2, cups 2 (ties by item)
    assert got[["customer_id", "rank", "item", "source"]].values.tolist() == [
        ["a", 1, "cake", "popular"], ["a", 2, "coffee", "popular"],
        ["b", 1, "cake", "popular"], ["b", 2, "coffee", "popular"],
        ["c", 1, "cups", "rules"], ["c", 2, "coffee", "popular"],
        ["d", 1, "tea", "popular"], ["d", 2, "cups", "popular"],
        ["e", 1, "tea", "popular"], ["e", 2, "cake", "popular"],
    ]
    assert got.loc[got.source == "popular", "confidence"].isna().all()


def test_correctness_popular_baseline(backend):
    b = baskets.customer_items(backend.load(LOG), observation_end=END)
    got = run(baskets.popular_suggestions(b, top=1), ["customer_id"])
    assert got[["customer_id", "item", "customers"]].values.tolist() == [
        ["a", "cake", 2], ["b", "cake", 2], ["c", "coffee", 2], ["d", "tea", 3],
        ["e", "tea", 3]]
    assert got.share.tolist() == pytest.approx([0.4, 0.4, 0.4, 0.6, 0.6])
    pop = run(baskets.item_popularity(b), ["popularity_rank"])
    assert pop[["item", "customers", "popularity_rank"]].values.tolist() == [
        ["tea", 3, 1], ["cake", 2, 2], ["coffee", 2, 3], ["cups", 2, 4]]


def test_correctness_product_level_items():
    log = ibis.memtable(LOG.append_column("product_id", pa.array(
        ["T1", "T2", "T1", "C1", "K1", "K1", "T1", "C1", "T3", "K1", None, "", "F1", "K1",
         "F1", "C1"])))
    items = run(baskets.customer_items(log, observation_end=END, item="product_id"),
                ["customer_id", "item"])
    assert items[items.customer_id == "a"].item.tolist() == ["C1", "T1", "T2"]


def test_correctness_empty_window_gives_empty_tables():
    log = ibis.memtable(LOG)
    b = baskets.customer_items(log, observation_end=D(2023, 12, 31))
    rules = baskets.item_rules(b, min_customers=1)
    assert b.to_pandas().empty and rules.to_pandas().empty
    assert baskets.cross_sell_suggestions(b, rules, fill_with_popular=True).to_pandas().empty
    assert baskets.popular_suggestions(b).to_pandas().empty


# ------------------------------------------------------------------ input checks


def test_inputchecks_missing_item_column_names_the_columns():
    log = ibis.memtable(LOG.drop_columns(["category"]))
    with pytest.raises(MissingColumnError, match="no column 'category'.*it has: customer_id"):
        baskets.customer_items(log, observation_end=END)


@pytest.mark.parametrize("kwargs, message", [
    ({"observation_end": "not a date"}, "observation_end must be a date"),
    ({"observation_end": END, "since": END}, "since .* must be before observation_end"),
    ({"observation_end": END, "item": ""}, "item must be a column name"),
    ({"observation_end": END, "item": 3}, "item must be a column name"),
])
def test_inputchecks_basket_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        baskets.customer_items(ibis.memtable(LOG), **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_customers": 0}, "min_customers must be a whole number of at least 1"),
    ({"min_customers": 2.5}, "min_customers"),
    ({"min_customers": True}, "min_customers"),
    ({"min_lift": -1}, "min_lift must be a finite number"),
    ({"min_lift": float("nan")}, "min_lift"),
    ({"min_lift": float("inf")}, "min_lift"),
    ({"rules_per_item": 0}, "rules_per_item"),
])
def test_inputchecks_rule_thresholds(kwargs, message):
    b = baskets.customer_items(ibis.memtable(LOG), observation_end=END)
    with pytest.raises(ConfigError, match=message):
        baskets.item_rules(b, **kwargs)


def test_inputchecks_suggestion_arguments():
    b = baskets.customer_items(ibis.memtable(LOG), observation_end=END)
    rules = baskets.item_rules(b)
    with pytest.raises(ConfigError, match="top must be a whole number"):
        baskets.cross_sell_suggestions(b, rules, top=0)
    with pytest.raises(ConfigError, match="fill_with_popular must be True or False"):
        baskets.cross_sell_suggestions(b, rules, fill_with_popular="yes")
    with pytest.raises(ConfigError, match="top must be a whole number"):
        baskets.popular_suggestions(b, top=-1)
    with pytest.raises(MissingColumnError, match="rules has no column 'antecedent'"):
        baskets.cross_sell_suggestions(b, b)
    with pytest.raises(ConfigError, match="baskets must be an Ibis table"):
        baskets.item_rules(LOG)


# ------------------------------------------------------------------ against the reference

CATEGORIES = ["tea", "cups", "cake", "coffee", "milk"]


@st.composite
def logs(draw):
    n = draw(st.integers(1, 40))
    rows = []
    for _ in range(n):
        rows.append({
            "customer_id": draw(st.sampled_from("abcdefgh")),
            "date": D(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 120))),
            "amount": draw(st.sampled_from([-3.0, 0.0, 2.5, 10.0])),
            "category": draw(st.sampled_from(CATEGORIES + [None])),
        })
    return rows


def _table(rows):
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("customer_id", pa.string()), ("date", pa.date32()), ("amount", pa.float64()),
        ("category", pa.string())]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=logs(), min_customers=st.integers(1, 3), min_lift=st.sampled_from([0.0, 1.0, 1.5]),
       per_item=st.integers(1, 4), top=st.integers(1, 4), fill=st.booleans())
def test_consistency_with_reference_on_random_logs(rows, min_customers, min_lift, per_item, top,
                                                   fill):
    log = ibis.memtable(_table(rows))
    end = D(2024, 3, 31)
    b = baskets.customer_items(log, observation_end=end)
    assert records(run(b, ["customer_id", "item"])) == reference.customer_items(
        rows, observation_end=end)
    ref_b = reference.customer_items(rows, observation_end=end)
    rules = baskets.item_rules(b, min_customers=min_customers, min_lift=min_lift,
                               rules_per_item=per_item)
    ref_rules = reference.item_rules(ref_b, min_customers=min_customers, min_lift=min_lift,
                                     rules_per_item=per_item)
    got_rules = records(run(rules, ["antecedent", "consequent"]))
    assert [(r["antecedent"], r["consequent"]) for r in got_rules] == [
        (r["antecedent"], r["consequent"]) for r in ref_rules]
    assert_rows(got_rules, ref_rules)
    suggestions = records(run(baskets.cross_sell_suggestions(b, rules, top=top,
                                                             fill_with_popular=fill),
                              ["customer_id", "rank"]))
    want = reference.cross_sell_suggestions(ref_b, ref_rules, top=top, fill_with_popular=fill)
    assert [(s["customer_id"], s["rank"], s["item"], s["source"]) for s in suggestions] == [
        (s["customer_id"], s["rank"], s["item"], s["source"]) for s in want]
    popular = records(run(baskets.popular_suggestions(b, top=top), ["customer_id", "rank"]))
    assert_rows(popular, reference.popular_suggestions(ref_b, top=top))


def test_consistency_with_reference_on_every_engine(backend):
    import random
    rng = random.Random(7)
    rows = [{"customer_id": f"c{rng.randrange(60)}",
             "date": D(2024, 1, 1) + dt.timedelta(days=rng.randrange(100)),
             "amount": rng.choice([-2.0, 5.0, 12.5]),
             "category": rng.choice(CATEGORIES)} for _ in range(400)]
    log = backend.load(_table(rows))
    b = baskets.customer_items(log, observation_end=END)
    rules = baskets.item_rules(b, min_customers=3, min_lift=0.9, rules_per_item=3)
    ref_b = reference.customer_items(rows, observation_end=END)
    ref_rules = reference.item_rules(ref_b, min_customers=3, min_lift=0.9, rules_per_item=3)
    assert_rows(records(run(rules, ["antecedent", "consequent"])), ref_rules)
    got = records(run(baskets.cross_sell_suggestions(b, rules, top=3, fill_with_popular=True),
                      ["customer_id", "rank"]))
    want = reference.cross_sell_suggestions(ref_b, ref_rules, top=3, fill_with_popular=True)
    assert [(s["customer_id"], s["rank"], s["item"], s["antecedent"]) for s in got] == [
        (s["customer_id"], s["rank"], s["item"], s["antecedent"]) for s in want]
