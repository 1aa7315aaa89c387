"""Bad settings give a ConfigError naming the key; bad arrays give an InvalidDataError naming
the column, the rule, how many rows broke it and an example row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.errors import ConfigError, InvalidDataError
from cvm.value import segments as seg
from cvm.value.config import ValueConfig, load_config


def test_default_configuration_loads():
    config = ValueConfig()
    assert config.segments.value_matrix.current.method == "top_share"
    assert config.segments.value_matrix.current.share == 0.2
    assert [t.key for t in config.segments.pyramid.tiers] == ["vip", "key", "major", "ordinary"]
    assert config.segments.concentration.lorenz_points == 101
    assert config.segments.loyalty_profit.loyalty.method == "median"
    assert config.segments.rfm.grid.shape == (5, 5)


@pytest.mark.parametrize(("segments", "fragments"), [
    ({"value_matrix": {"current": {"method": "threshold"}}},
     ["segments.value_matrix.current", "needs a threshold"]),
    ({"value_matrix": {"potential": {"threshold": 5}}},
     ["segments.value_matrix.potential", "threshold is set but method is 'top_share'"]),
    ({"value_matrix": {"current": {"share": 0}}}, ["segments.value_matrix.current.share", "greater than 0"]),
    ({"value_matrix": {"current": {"share": 1.5}}}, ["segments.value_matrix.current.share", "less than or equal to 1"]),
    ({"value_matrix": {"current": {"method": "top"}}}, ["segments.value_matrix.current.method"]),
    ({"value_matrix": {"current": {"method": "threshold", "threshold": float("nan")}}},
     ["segments.value_matrix.current.threshold"]),
    ({"value_matrix": {"axis": {}}}, ["segments.value_matrix.axis: unknown setting"]),
    ({"pyramid": {"tiers": [{"key": "vip", "share": 0.5}, {"key": "ordinary", "share": 0.4}]}},
     ["segments.pyramid", "must sum to 1", "sum to 0.9", "0.5 + 0.4"]),
    ({"pyramid": {"tiers": [{"key": "vip", "share": 0.0}, {"key": "ordinary", "share": 1.0}]}},
     ["segments.pyramid.tiers.0.share", "greater than 0"]),
    ({"pyramid": {"tiers": [{"key": "vip", "share": -0.5}, {"key": "ordinary", "share": 1.5}]}},
     ["segments.pyramid.tiers.0.share", "segments.pyramid.tiers.1.share"]),
    ({"pyramid": {"tiers": [{"key": "vip", "share": 0.5}, {"key": "vip", "share": 0.5}]}},
     ["segments.pyramid", "repeated: vip"]),
    ({"pyramid": {"tiers": [{"key": "gold", "share": 0.5}, {"key": "ordinary", "share": 0.5}]}},
     ["segments.pyramid", "gold", "en and zh"]),
    ({"pyramid": {"tiers": [{"key": "gold", "share": 0.5, "en": "Gold"}, {"key": "ordinary", "share": 0.5}]}},
     ["segments.pyramid", "gold", "en and zh"]),
    ({"pyramid": {"tiers": [{"key": "Gold Tier", "share": 1.0, "en": "G", "zh": "金"}]}},
     ["segments.pyramid.tiers.0.key"]),
    ({"pyramid": {"tiers": []}}, ["segments.pyramid", "at least one tier"]),
    ({"concentration": {"top_shares": [0.1, 0]}}, ["segments.concentration.top_shares.1", "greater than 0"]),
    ({"concentration": {"top_shares": []}}, ["segments.concentration.top_shares"]),
    ({"concentration": {"lorenz_points": 1}}, ["segments.concentration.lorenz_points"]),
    ({"rfm": {"rules": [{"segment": "champions", "recency": [1, 5], "fm": [1, 4]}]}},
     ["segments.rfm", "not covered", "(R 1, FM 5)", "(R 5, FM 5)"]),
    ({"rfm": {"rules": [{"segment": "champions", "recency": [1, 5], "fm": [1, 5]},
                        {"segment": "lost", "recency": [1, 1], "fm": [1, 2]}]}},
     ["segments.rfm", "covered more than once", "(R 1, FM 1) by champions and lost", "(R 1, FM 2)"]),
    ({"rfm": {"rules": [{"segment": "champions", "recency": [5, 1], "fm": [1, 5]}]}},
     ["segments.rfm", "champions has recency range [5, 1]"]),
    ({"rfm": {"rules": [{"segment": "champions", "recency": [0, 5], "fm": [1, 5]}]}},
     ["segments.rfm.rules.0.recency.0"]),
    ({"rfm": {"rules": [{"segment": "stars", "recency": [1, 5], "fm": [1, 5]}]}},
     ["segments.rfm.rules.0.segment", "'stars'"]),
    ({"rfm": {"fm_rounding": "nearest"}}, ["segments.rfm.fm_rounding"]),
    ({"loyalty_profit": {"loyalty": {"method": "threshold"}}}, ["segments.loyalty_profit.loyalty", "needs a threshold"]),
    ({"loyalty_level": {"loyal_min_tenure_days": 100}},
     ["segments.loyalty_level", "loyal_min_tenure_days (100) must be at least old_min_tenure_days (365)"]),
    ({"loyalty_level": {"old_min_tenure_days": 30}},
     ["segments.loyalty_level", "old_min_tenure_days (30) must be at least new_max_tenure_days (90)"]),
    ({"loyalty_level": {"loyal_min_purchases": 0}}, ["segments.loyalty_level.loyal_min_purchases"]),
    ({"loyalty_level": {"loyal_min_purchases": 2, "new_max_purchases": 2}},
     ["segments.loyalty_level", "loyal_min_purchases (2) must be more than new_max_purchases (2)"]),
    ({"loyalty_level": {"new_max_tenure_days": -1}}, ["segments.loyalty_level.new_max_tenure_days"]),
])
def test_bad_settings_name_the_key(segments, fragments):
    with pytest.raises(ConfigError) as caught:
        load_config({"segments": segments})
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message


def test_settings_of_the_wrong_kind():
    with pytest.raises(ConfigError, match="expected PyramidSettings"):
        seg.pyramid([1.0], settings={"tiers": []})
    with pytest.raises(ConfigError, match="expected ValueMatrixSettings"):
        seg.value_matrix([1.0], [1.0], seg.PyramidSettings())


def test_every_function_reads_the_whole_configuration_and_its_section():
    config = load_config({"segments": {"value_matrix": {"current": {"share": 1.0}}}})
    expected = ["profit", "profit"]
    assert seg.value_matrix([1.0, 2.0], [0.0, 0.0], config).tolist() == expected
    assert seg.value_matrix([1.0, 2.0], [0.0, 0.0], config.segments).tolist() == expected
    assert seg.value_matrix([1.0, 2.0], [0.0, 0.0], config.segments.value_matrix).tolist() == expected


@pytest.mark.parametrize("call", [
    lambda v: seg.value_matrix(v, np.ones(len(v))),
    lambda v: seg.value_matrix(np.ones(len(v)), v),
    lambda v: seg.pyramid(v),
    lambda v: seg.concentration(v),
    lambda v: seg.loyalty_profitability(v, np.ones(len(v))),
    lambda v: seg.pyramid_table(v, ["ordinary"] * len(v)),
])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected_with_the_row(call, bad):
    values = np.array([1.0, 2.0, bad, 4.0])
    with pytest.raises(InvalidDataError, match=r"must be a finite number: 1 row\(s\) break it, for example row 2"):
        call(values)


def test_the_error_names_the_column_and_says_what_to_do():
    with pytest.raises(InvalidDataError) as caught:
        seg.value_matrix([1.0, 2.0], [np.nan, np.nan])
    assert str(caught.value).startswith("potential: must be a finite number: 2 row(s) break it")
    assert caught.value.hint and "potential" in caught.value.hint


def test_nullable_series_with_missing_values():
    with pytest.raises(InvalidDataError, match=r"value: must be a finite number: 1 row"):
        seg.pyramid(pd.Series([1.0, None], dtype="Float64"))


def test_text_and_two_dimensional_input():
    with pytest.raises(InvalidDataError, match="current: values must be numbers"):
        seg.value_matrix(["a", "b"], [1.0, 2.0])
    with pytest.raises(InvalidDataError, match=r"value: expected one value per customer .* shape \(2, 2\)"):
        seg.pyramid(np.ones((2, 2)))
    with pytest.raises(InvalidDataError, match="value: expected one value per customer"):
        seg.concentration(5.0)


@pytest.mark.parametrize("call", [
    lambda: seg.value_matrix([1.0, 2.0], [1.0]),
    lambda: seg.loyalty_profitability([1.0], [1.0, 2.0]),
    lambda: seg.rfm_segments([1, 2], [1, 2], [1]),
    lambda: seg.loyalty_level([1, 2], [10.0], [1.0, 2.0]),
    lambda: seg.pyramid_table([1.0, 2.0], ["vip"]),
    lambda: seg.pyramid_table([1.0, 2.0], ["vip", "ordinary"], realized=[1.0]),
    lambda: seg.breakdown(pd.Categorical(["a", "b"]), pd.DataFrame({"x": [1]})),
    lambda: seg.breakdown(pd.Categorical(["a"]), pd.DataFrame({"x": [1]}), value=[1.0, 2.0]),
])
def test_mismatched_lengths(call):
    with pytest.raises(InvalidDataError, match="one value per customer each, but"):
        call()


def test_mismatched_lengths_message_names_both_inputs():
    with pytest.raises(InvalidDataError, match="current has 2, potential has 1 values"):
        seg.value_matrix([1.0, 2.0], [1.0])


@pytest.mark.parametrize(("bad", "shown"), [(0, "0.0"), (6, "6.0"), (2.5, "2.5"), (np.nan, "nan"), (-1, "-1.0")])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_rfm_scores_must_be_whole_numbers_from_1_to_5(bad, shown, position):
    scores = [np.array([5.0, 3.0]), np.array([5.0, 3.0]), np.array([5.0, 3.0])]
    scores[position][1] = bad
    name = ["recency_score", "frequency_score", "monetary_score"][position]
    with pytest.raises(InvalidDataError) as caught:
        seg.rfm_segments(*scores)
    assert str(caught.value).startswith(
        f"{name}: must be a whole number from 1 to 5: 1 row(s) break it, for example row 1 (value {shown})")
    assert "rfm_scores" in caught.value.hint


def test_rfm_scores_as_text():
    with pytest.raises(InvalidDataError, match="recency_score: values must be numbers"):
        seg.rfm_segments(["high"], [1], [1])


@pytest.mark.parametrize(("n", "tenure", "since", "fragment"), [
    ([-1], [10.0], [1.0], "n_purchases: must be a whole number >= 0: 1 row(s)"),
    ([1.5], [10.0], [1.0], "n_purchases: must be a whole number >= 0"),
    ([np.nan], [10.0], [1.0], "n_purchases: must be a whole number >= 0"),
    ([2], [np.nan], [1.0], "tenure_days: must be a finite number of days >= 0 for customers with purchases"),
    ([2], [-3.0], [1.0], "tenure_days: must be a finite number of days >= 0"),
    ([2], [10.0], [np.nan], "days_since_last_purchase: must be a finite number of days >= 0"),
    ([0], [-3.0], [np.nan], "tenure_days: must be >= 0 or missing"),
])
def test_loyalty_level_inputs(n, tenure, since, fragment):
    with pytest.raises(InvalidDataError) as caught:
        seg.loyalty_level(n, tenure, since)
    assert fragment in str(caught.value)


def test_pyramid_table_rejects_unknown_or_missing_tiers():
    with pytest.raises(InvalidDataError, match=r"tiers: every customer needs a known segment \(known: vip, key, major, "
                                               r"ordinary\): 1 row\(s\) break it, for example row 1 \(value 'gold'\)"):
        seg.pyramid_table([1.0, 2.0], ["vip", "gold"])
    with pytest.raises(InvalidDataError, match="tiers: every customer needs a known segment"):
        seg.pyramid_table([1.0, 2.0], pd.Categorical(["vip", None], categories=["vip", "ordinary"]))


def test_breakdown_rejects_missing_segments_and_non_tables():
    with pytest.raises(InvalidDataError, match=r"segment: every customer needs a known segment: 1 row"):
        seg.breakdown(pd.Categorical(["a", None]), pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(InvalidDataError, match="by: expected a DataFrame of profile columns, got list"):
        seg.breakdown(pd.Categorical(["a"]), [1])
    with pytest.raises(InvalidDataError, match="value: must be a finite number"):
        seg.breakdown(pd.Categorical(["a"]), pd.DataFrame({"x": [1]}), value=[np.nan])


def test_labelled_rejects_keys_without_labels():
    with pytest.raises(InvalidDataError, match=r"labels: no 'pyramid' label for 'gold'") as caught:
        seg.labelled(pd.Categorical(["gold", "vip"]), "pyramid")
    assert "settings" in caught.value.hint
    with pytest.raises(InvalidDataError, match="no 'rfm' label for 'strategic'"):
        seg.labelled(seg.value_matrix([1.0], [1.0]), "rfm")


def test_a_dumped_configuration_loads_back_unchanged():
    config = load_config({"segments": {
        "value_matrix": {"current": {"method": "threshold", "threshold": 100}},
        "pyramid": {"tiers": [{"key": "gold", "share": 0.3, "en": "Gold", "zh": "金卡"},
                              {"key": "ordinary", "share": 0.7}]},
        "loyalty_profit": {"profitability": {"method": "top_share", "share": 0.3}},
    }})
    assert load_config(config.model_dump(mode="json")) == config
    assert load_config(ValueConfig().model_dump(mode="json")) == ValueConfig()
