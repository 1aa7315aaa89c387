"""Scoring models on tables small enough to score by hand (cvm.value.scoring).

Every expected number below is worked out in the comment beside it from the rules in the
module documentation: percentile = (average rank - 1) / (n - 1), minmax = (x - min) / (max - min),
zscore = Phi((x - mean) / population sd), score = 100 x sum of normalised weights x values.
"""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from cvm.labels import label
from cvm.value.config import ValueConfig, load_config
from cvm.value.scoring import (
    BUILTIN_INDICATORS,
    FIVE_FACTOR_MODEL,
    Condition,
    Indicator,
    ScoringModel,
    ScoringSettings,
    Tier,
    score,
    score_all,
)


def one(name: str = "x", **indicator) -> ScoringModel:
    """A model of one indicator on column ``name``."""
    return ScoringModel(name="m", indicators=[Indicator(name=name, **indicator)])


def frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index([f"c{i}" for i in range(1, n + 1)], name="customer_id"))


# ------------------------------------------------------------------ normalisations

def test_minmax_is_the_share_of_the_range():
    # range 0..20: 0 -> 0, 5 -> 0.25, 10 -> 0.5, 20 -> 1
    result = score(frame(x=[0.0, 5.0, 10.0, 20.0]), one(normalisation="minmax"))
    assert result["x_score"].tolist() == [0.0, 0.25, 0.5, 1.0]
    assert result["score"].tolist() == [0.0, 25.0, 50.0, 100.0]


def test_percentile_gives_ties_the_average_rank():
    # 5, 7, 7, 9: ranks 1, 2.5, 2.5, 4 -> (rank - 1) / 3 = 0, 0.5, 0.5, 1
    result = score(frame(x=[5.0, 7.0, 7.0, 9.0]), one(normalisation="percentile"))
    assert result["x_score"].tolist() == [0.0, 0.5, 0.5, 1.0]
    # 3, 3, 3, 1: the three 3s share ranks 2, 3, 4 -> 3 -> 2/3; the 1 gets 0
    result = score(frame(x=[3.0, 3.0, 3.0, 1.0]), one(normalisation="percentile"))
    assert result["x_score"].tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 0.0], abs=1e-15)


def test_percentile_of_whole_numbers_and_of_fractions_agree():
    # the counting route (whole numbers in a short range) and the sorting route give the same ranks
    days = [30, 10, 10, 400, 20, 10]
    whole = score(frame(x=days), one())["x_score"]
    fractional = score(frame(x=[d + 0.5 for d in days]), one())["x_score"]
    # ranks: 10, 10, 10 -> 2 (avg of 1..3); 20 -> 4; 30 -> 5; 400 -> 6; (rank - 1) / 5
    assert whole.tolist() == pytest.approx([0.8, 0.2, 0.2, 1.0, 0.6, 0.2])
    assert fractional.tolist() == whole.tolist()


def test_zscore_is_the_normal_cdf_of_the_population_z_score():
    phi = NormalDist().cdf
    # 1, 2, 3: mean 2, population sd sqrt(2/3) -> z = -1.2247, 0, 1.2247
    result = score(frame(x=[1.0, 2.0, 3.0]), one(normalisation="zscore"))
    z = 1 / np.sqrt(2 / 3)
    assert result["x_score"].tolist() == pytest.approx([phi(-z), 0.5, phi(z)], abs=1e-12)
    # 0, 0, 0, 4: mean 1, sd sqrt(12 / 4) = sqrt(3) -> z = -1/sqrt(3) thrice and sqrt(3)
    result = score(frame(x=[0.0, 0.0, 0.0, 4.0]), one(normalisation="zscore"))
    expected = [phi(-1 / np.sqrt(3))] * 3 + [phi(np.sqrt(3))]
    assert result["x_score"].tolist() == pytest.approx(expected, abs=1e-12)
    assert result["score"].tolist() == pytest.approx([100 * e for e in expected], abs=1e-8)


@pytest.mark.parametrize("normalisation", ["minmax", "percentile", "zscore"])
def test_a_constant_indicator_gives_one_half(normalisation):
    result = score(frame(x=[7.0, 7.0, 7.0]), one(normalisation=normalisation))
    assert result["x_score"].tolist() == [0.5, 0.5, 0.5]
    assert result["score"].tolist() == [50.0, 50.0, 50.0]
    alone = score(frame(x=[3.0]), one(normalisation=normalisation))
    assert alone["x_score"].tolist() == [0.5]


@pytest.mark.parametrize("normalisation", ["minmax", "percentile", "zscore"])
def test_lower_is_better_turns_the_normalised_value_round(normalisation):
    table = frame(x=[0.0, 5.0, 10.0, 20.0])
    up = score(table, one(normalisation=normalisation))["x_score"].to_numpy()
    down = score(table, one(normalisation=normalisation, direction="lower_is_better"))["x_score"].to_numpy()
    np.testing.assert_allclose(down, 1 - up, atol=1e-15)
    if normalisation == "minmax":
        assert down.tolist() == [1.0, 0.75, 0.5, 0.0]


# ------------------------------------------------------------------ weights and the score

def test_weights_are_divided_by_their_sum():
    model = ScoringModel(name="m", indicators=[Indicator(name="a", weight=3), Indicator(name="b", weight=1)])
    assert model.weights == {"a": 0.75, "b": 0.25}
    same = ScoringModel(name="m", indicators=[Indicator(name="a", weight=0.75), Indicator(name="b", weight=0.25)])
    # a by minmax: 0, 0.5, 1; b by minmax: 1, 0, 0.5
    table = frame(a=[0.0, 1.0, 2.0], b=[10.0, 0.0, 5.0])
    cfg = {"normalisation": "minmax"}
    m1 = ScoringModel(name="m", indicators=[Indicator(name="a", weight=3, **cfg), Indicator(name="b", weight=1, **cfg)])
    m2 = ScoringModel(name="m", indicators=[Indicator(name="a", weight=0.75, **cfg), Indicator(name="b", weight=0.25, **cfg)])
    # 100 x (0.75 a + 0.25 b) = 25, 37.5, 87.5
    assert score(table, m1)["score"].tolist() == [25.0, 37.5, 87.5]
    pd.testing.assert_frame_equal(score(table, m1), score(table, m2))
    assert same.weights == model.weights


def test_huge_weights_still_add_up_to_one():
    model = ScoringModel(name="m", indicators=[Indicator(name="a", weight=1e308), Indicator(name="b", weight=1e308)])
    assert model.weights == {"a": 0.5, "b": 0.5}


def test_the_example_of_the_documentation():
    table = frame(revenue=[100.0, 300.0, 200.0, 400.0], days=[10, 40, 20, 30])
    model = ScoringModel(name="simple", indicators=[
        Indicator(name="revenue", weight=3), Indicator(name="days", direction="lower_is_better")])
    result = score(table, model)
    # revenue percentile 0, 2/3, 1/3, 1; days percentile 0, 1, 1/3, 2/3 turned round: 1, 0, 2/3, 1/3
    # score = 100 x (0.75 revenue + 0.25 days) = 25, 50, 41.67, 83.33
    assert result["score"].tolist() == pytest.approx([25.0, 50.0, 125 / 3, 250 / 3])
    assert result["tier"].tolist() == ["D", "C", "C", "A"]


# ------------------------------------------------------------------ tiers

def test_a_score_exactly_at_a_cut_off_belongs_to_the_higher_tier():
    # minmax over 0..100 gives the values themselves as scores
    table = frame(x=[0.0, 39.99, 40.0, 59.99, 60.0, 79.99, 80.0, 100.0])
    result = score(table, one(normalisation="minmax"))
    assert result["score"].tolist() == pytest.approx(table["x"].tolist())
    assert result["tier"].tolist() == ["D", "D", "C", "C", "B", "B", "A", "A"]
    assert result["tier_en"].tolist() == ["D", "D", "C", "C", "B", "B", "A", "A"]
    assert result["tier_zh"].tolist() == ["D 级", "D 级", "C 级", "C 级", "B 级", "B 级", "A 级", "A 级"]


def test_floating_point_rounding_does_not_push_a_score_below_its_cut_off():
    # weights 0.1, 3.8, 2.6 (sum 6.5); c1 has the top of a and b and the bottom of c:
    # 100 x (0.1 + 3.8) / 6.5 = 60 exactly, but 59.999999999999986 in floating point
    weights = np.array([0.1, 3.8, 2.6]) / 6.5
    assert 100 * (weights[0] + weights[1]) < 60
    cfg = {"normalisation": "minmax"}
    model = ScoringModel(name="m", indicators=[
        Indicator(name="a", weight=0.1, **cfg), Indicator(name="b", weight=3.8, **cfg),
        Indicator(name="c", weight=2.6, **cfg)])
    result = score(frame(a=[1.0, 0.0], b=[1.0, 0.0], c=[0.0, 1.0]), model)
    assert result["score"].tolist() == [60.0, 40.0]
    assert result["tier"].tolist() == ["B", "C"]


def test_custom_tiers_and_the_tier_columns():
    model = ScoringModel(
        name="m", indicators=[Indicator(name="x", normalisation="minmax")],
        tiers=[{"key": "gold", "en": "Gold", "zh": "金牌", "min_score": 50},
               {"key": "silver", "en": "Silver", "zh": "银牌", "min_score": 0}],
    )
    result = score(frame(x=[0.0, 49.0, 50.0, 100.0]), model)
    assert result["tier"].tolist() == ["silver", "silver", "gold", "gold"]
    assert result["tier_en"].tolist() == ["Silver", "Silver", "Gold", "Gold"]
    assert result["tier_zh"].tolist() == ["银牌", "银牌", "金牌", "金牌"]
    # ordered from worst to best, so comparisons and max() read naturally
    assert list(result["tier"].cat.categories) == ["silver", "gold"]
    assert result["tier"].cat.ordered
    assert result["tier"].max() == "gold"


def test_one_tier_holds_everybody():
    model = ScoringModel(name="m", indicators=[Indicator(name="x")],
                         tiers=[{"key": "all", "en": "All", "zh": "全部", "min_score": 0}])
    assert score(frame(x=[1.0, 2.0]), model)["tier"].tolist() == ["all", "all"]


def test_the_result_keeps_the_index_and_has_one_column_per_indicator():
    model = ScoringModel(name="m", indicators=[Indicator(name="a"), Indicator(name="b")])
    table = frame(a=[1.0, 2.0], b=[3.0, 4.0], other=["x", "y"])
    result = score(table, model)
    assert list(result.columns) == ["score", "tier", "tier_en", "tier_zh", "a_score", "b_score"]
    assert result.index.equals(table.index)
    assert result["score"].dtype == np.float64
    assert isinstance(result["tier"].dtype, pd.CategoricalDtype)
    assert result.attrs["model"] == "m" and result.attrs["notes"] == []


# ------------------------------------------------------------------ scope

SCOPE_TABLE = pd.DataFrame({
    "x": [10.0, 20.0, 30.0, 40.0, 50.0],
    "n": [1, 2, 3, 4, np.nan],
    "segment": pd.Series(["gold", "silver", "gold", None, "bronze"], dtype="str"),
    "since": pd.to_datetime(["2020-01-01", "2021-06-01", "2022-01-01", "2023-01-01", None]),
})


@pytest.mark.parametrize(("column", "op", "value", "in_scope"), [
    ("n", "==", 2, [1]),
    ("n", "!=", 2, [0, 2, 3]),          # the blank n (row 4) is never in scope
    ("n", "<", 3, [0, 1]),
    ("n", "<=", 3, [0, 1, 2]),
    ("n", ">", 2, [2, 3]),
    ("n", ">=", 2, [1, 2, 3]),
    ("n", "in", [1, 4, 9], [0, 3]),
    ("n", "not_in", [1, 4], [1, 2]),
    ("segment", "==", "gold", [0, 2]),
    ("segment", "!=", "gold", [1, 4]),    # the blank segment (row 3) is out
    ("segment", "in", ["silver", "bronze"], [1, 4]),
    ("segment", "not_in", ["gold"], [1, 4]),
    ("segment", "<", "gold", [4]),        # text compares alphabetically: bronze < gold
    ("since", ">=", "2021-06-01", [1, 2, 3]),
    ("since", "<", dt.date(2021, 6, 1), [0]),
    ("since", "in", [dt.datetime(2022, 1, 1)], [2]),
])
def test_every_scope_operator(column, op, value, in_scope):
    model = ScoringModel(name="m", indicators=[Indicator(name="x", normalisation="minmax")],
                         scope=[Condition(column=column, op=op, value=value)])
    result = score(SCOPE_TABLE, model)
    assert np.flatnonzero(result["score"].notna().to_numpy()).tolist() == in_scope
    out = result.drop(index=result.index[in_scope])
    assert out["score"].isna().all() and out["x_score"].isna().all()
    assert out["tier"].isna().all() and out["tier_en"].isna().all() and out["tier_zh"].isna().all()


def test_conditions_must_all_hold_and_customers_are_compared_within_the_scope():
    model = ScoringModel(name="m", indicators=[Indicator(name="x", normalisation="minmax")],
                         scope=[{"column": "n", "op": ">=", "value": 2},
                                {"column": "segment", "op": "in", "value": ["gold", "silver"]}])
    result = score(SCOPE_TABLE, model)
    # in scope: rows 1 (x 20) and 2 (x 30); minmax among them: 0 and 1, not 0.25 and 0.5
    assert result["x_score"].tolist()[1:3] == [0.0, 1.0]
    assert result["score"].isna().tolist() == [True, False, False, True, True]


def test_an_empty_scope_is_noted():
    model = ScoringModel(name="m", indicators=[Indicator(name="x")],
                         scope=[{"column": "n", "op": ">", "value": 100}])
    result = score(SCOPE_TABLE, model)
    assert result["score"].isna().all()
    assert result.attrs["notes"] == ["scoring model 'm': no customer is in scope (of 5)"]


def test_a_yaml_date_value_is_a_date():
    config = load_config({"scoring": {"models": [{
        "name": "recent", "indicators": [{"name": "x"}],
        "scope": [{"column": "since", "op": ">=", "value": dt.date(2022, 1, 1)}]}]}})
    result = score(SCOPE_TABLE, config.scoring.get("recent"))
    assert result["score"].notna().tolist() == [False, False, True, True, False]


# ------------------------------------------------------------------ missing and special values

def test_a_missing_value_counts_as_the_worst_and_is_noted():
    table = frame(x=[np.nan, 10.0, 20.0, 30.0])
    result = score(table, one(normalisation="minmax"))
    # the known values are normalised among themselves: 0, 0.5, 1; the missing one gets 0
    assert result["x_score"].tolist() == [0.0, 0.0, 0.5, 1.0]
    assert result["score"].notna().all()
    assert result.attrs["notes"] == [
        "scoring model 'm': indicator 'x' (column 'x') is missing for 1 of 4 customers in scope "
        "(first at row 'c1'); they get the worst value, 0"
    ]
    lower = score(table, one(normalisation="minmax", direction="lower_is_better"))
    assert lower["x_score"].tolist() == [0.0, 1.0, 0.5, 0.0]


def test_an_indicator_nobody_in_scope_has_gives_one_half():
    result = score(frame(x=[np.nan, np.nan]), one())
    assert result["x_score"].tolist() == [0.5, 0.5]
    assert result.attrs["notes"] == [
        "scoring model 'm': indicator 'x' (column 'x') is missing for 2 of 2 customers in scope "
        "(first at row 'c1'), so it tells nobody apart: everybody gets 0.5"
    ]


def test_nullable_and_yes_no_columns_are_numbers():
    table = frame(count=pd.array([1, None, 3], dtype="Int64"), member=[True, False, True])
    model = ScoringModel(name="m", indicators=[Indicator(name="count", normalisation="minmax"),
                                               Indicator(name="member", normalisation="minmax")])
    result = score(table, model)
    assert result["count_score"].tolist() == [0.0, 0.0, 1.0]
    assert result["member_score"].tolist() == [1.0, 0.0, 1.0]
    assert result["score"].tolist() == [50.0, 0.0, 100.0]


def test_minmax_of_a_range_beyond_float64():
    result = score(frame(x=[-1e308, 0.0, 1e308]), one(normalisation="minmax"))
    assert result["x_score"].tolist() == [0.0, 0.5, 1.0]


def test_zscore_of_huge_values_is_finite():
    result = score(frame(x=[-1e300, 0.0, 1e300]), one(normalisation="zscore"))
    z = 1 / np.sqrt(2 / 3)
    assert result["x_score"].tolist() == pytest.approx([NormalDist().cdf(-z), 0.5, NormalDist().cdf(z)])


# ------------------------------------------------------------------ the five-factor model

def test_the_five_factor_model_is_the_default():
    assert ScoringSettings().models == (FIVE_FACTOR_MODEL,)
    assert ValueConfig().scoring.get("five_factor") is FIVE_FACTOR_MODEL
    assert FIVE_FACTOR_MODEL.weights == {
        "current_contribution": 0.3, "future_contribution": 0.3, "loyalty": 0.15,
        "credit": 0.1, "growth_potential": 0.15}
    assert sum(FIVE_FACTOR_MODEL.weights.values()) == pytest.approx(1.0)
    assert [i.column for i in FIVE_FACTOR_MODEL.indicators] == [
        "gross_margin_recent", "clv", "tenure_days", "credit_index", "margin_growth"]
    assert {i.name: i.column for i in FIVE_FACTOR_MODEL.indicators} == BUILTIN_INDICATORS
    assert (FIVE_FACTOR_MODEL.title_en, FIVE_FACTOR_MODEL.title_zh) == (
        label("scoring.five_factor", "en"), label("scoring.five_factor", "zh"))
    assert [(t.key, t.min_score) for t in FIVE_FACTOR_MODEL.tiers] == [
        ("A", 80), ("B", 60), ("C", 40), ("D", 0)]
    assert [t.zh for t in FIVE_FACTOR_MODEL.tiers] == ["A 级", "B 级", "C 级", "D 级"]


def test_the_five_factor_model_on_three_customers():
    table = frame(gross_margin_recent=[50.0, 10.0, 30.0], clv=[200.0, 100.0, 300.0],
                  tenure_days=[700, 30, 365], credit_index=[1.0, 1.0, 0.5],
                  margin_growth=[-5.0, 20.0, 0.0])
    result = score_all(table, ValueConfig())["five_factor"]
    # percentiles (n = 3, (rank - 1) / 2):
    #   margin 1, 0, .5; clv .5, 0, 1; tenure 1, 0, .5; credit .75, .75, 0 (ties at ranks 2, 3); growth 0, 1, .5
    # c1: .3 + .15 + .15 + .075 + 0 = .675;  c2: 0 + 0 + 0 + .075 + .15 = .225
    # c3: .15 + .3 + .075 + 0 + .075 = .6
    assert result["score"].tolist() == pytest.approx([67.5, 22.5, 60.0])
    assert result["tier"].tolist() == ["B", "D", "B"]
    assert result["credit_score"].tolist() == [0.75, 0.75, 0.0]


def test_users_keep_the_default_beside_their_own_model_or_drop_it():
    own = {"name": "buyers", "title_en": "Buyers", "title_zh": "买家",
           "indicators": [{"name": "p_alive"}, {"name": "days_since_last_purchase",
                                                 "direction": "lower_is_better"}]}
    both = load_config({"scoring": {"models": [{"name": "five_factor"}, own]}}).scoring
    assert [m.name for m in both.models] == ["five_factor", "buyers"]
    assert both.get("five_factor") == FIVE_FACTOR_MODEL
    only = load_config({"scoring": {"models": [own]}}).scoring
    assert [m.name for m in only.models] == ["buyers"]
    assert only.get("buyers").title_zh == "买家"
    untitled = load_config({"scoring": {"models": [{"name": "plain", "indicators": [{"name": "x"}]}]}})
    assert untitled.scoring.get("plain").title_en == "plain"
    table = frame(p_alive=[0.9, 0.2], days_since_last_purchase=[5, 90], x=[1.0, 2.0])
    assert list(score_all(table, only)) == ["buyers"]
    assert score_all(table, only)["buyers"]["score"].tolist() == [100.0, 0.0]


def test_the_default_configuration_survives_a_yaml_round_trip():
    import yaml

    dumped = yaml.safe_dump(ScoringSettings().model_dump(mode="json"), allow_unicode=True)
    assert ScoringSettings.model_validate(yaml.safe_load(dumped)) == ScoringSettings()


def test_the_configuration_example_of_the_documentation_loads_and_scores():
    import inspect

    import yaml

    import cvm.value.scoring as scoring

    doc = inspect.cleandoc(scoring.__doc__)
    after = doc.split("A configuration that keeps the five-factor model and adds one of its own:\n\n", 1)[1]
    block = after.split("\n\n", 1)[0]
    config = load_config(yaml.safe_load("\n".join(line[4:] for line in block.splitlines())))
    assert [m.name for m in config.scoring.models] == ["five_factor", "active_buyers"]
    buyers = config.scoring.get("active_buyers")
    table = frame(p_alive=[0.9, 0.5, 0.1, 0.8], days_since_last_purchase=[3, 30, 300, 10],
                  n_purchases=[5, 2, 9, 1], channel=["app", "online", "app", "app"])
    result = score(table, buyers)
    # c4 is out (one purchase); among c1..c3 c1 is best on both indicators, c3 worst on both
    assert result["score"].tolist()[:3] == [100.0, pytest.approx(100 * (2 / 3 * 0.5 + 1 / 3 * (1 - 27 / 297))), 0.0]
    assert np.isnan(result["score"].iloc[3])
    assert result["tier"].tolist()[:3] == ["gold", "silver", "silver"]


@pytest.mark.parametrize("settings_class", [Indicator, Condition, Tier, ScoringModel, ScoringSettings])
def test_every_setting_is_documented(settings_class):
    for name, field in settings_class.model_fields.items():
        assert (field.description or "").strip(), f"{settings_class.__name__}.{name} has no description"


def test_the_five_factor_model_reads_the_customer_value_table():
    from cvm.value.table import customer_value, example_inputs

    value = customer_value(**example_inputs())
    for column in BUILTIN_INDICATORS.values():
        assert column in value.table.columns
    result = score_all(value.table, value.config)["five_factor"]
    assert result["score"].notna().all()
    # customer 4 has the largest recent margin, CLV and tenure: the best score of the base
    assert result["score"].idxmax() == value.table.index[4]
