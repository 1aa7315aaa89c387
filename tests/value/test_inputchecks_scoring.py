"""Bad scoring models and bad tables give a clear CVMError naming the model and the key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.errors import ConfigError, InvalidDataError
from cvm.value.config import ValueConfig, load_config
from cvm.value.scoring import (
    FIVE_FACTOR_MODEL,
    Indicator,
    ScoringModel,
    ScoringSettings,
    score,
    score_all,
    validate_model,
)

TABLE = pd.DataFrame({
    "revenue": [10.0, 20.0, 30.0],
    "n_purchases": [1, 2, 3],
    "segment": pd.Series(["gold", "silver", "gold"], dtype="str"),
    "note": pd.Series(["a", "b", "c"], dtype="str"),
    "since": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]),
}, index=pd.Index(["c1", "c2", "c3"], name="customer_id"))


def model(**changes) -> dict:
    """A valid model as YAML would give it, with ``changes``."""
    base = {"name": "mine", "indicators": [{"name": "revenue"}, {"name": "n_purchases", "weight": 2}]}
    return {**base, **changes}


def config_error(*models) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config({"scoring": {"models": list(models)}})
    return str(caught.value)


# ------------------------------------------------------------------ the configuration

@pytest.mark.parametrize("weight", [0, -1, -0.5])
def test_zero_or_negative_weight(weight):
    message = config_error(model(indicators=[{"name": "revenue", "weight": weight}]))
    assert f"scoring.models.mine.indicators.revenue.weight: Input should be greater than 0 (got {weight})" in message


@pytest.mark.parametrize("weight", [float("inf"), float("nan")])
def test_non_finite_weight(weight):
    message = config_error(model(indicators=[{"name": "revenue", "weight": weight}]))
    assert "scoring.models.mine.indicators.revenue.weight: Input should be a finite number" in message


def test_unknown_normalisation_direction_and_setting():
    message = config_error(model(indicators=[
        {"name": "revenue", "normalisation": "rank", "direction": "up", "scale": 2}]))
    assert "scoring.models.mine.indicators.revenue.normalisation: Input should be 'percentile', 'minmax' or 'zscore' (got 'rank')" in message
    assert "scoring.models.mine.indicators.revenue.direction:" in message and "(got 'up')" in message
    assert "scoring.models.mine.indicators.revenue.scale: unknown setting" in message
    assert "scoring.models.mine.colour: unknown setting" in config_error(model(colour="red"))


def test_tiers_must_decrease_strictly_and_end_at_zero():
    message = config_error(model(tiers=[
        {"key": "A", "en": "A", "zh": "甲", "min_score": 50},
        {"key": "B", "en": "B", "zh": "乙", "min_score": 50},
        {"key": "C", "en": "C", "zh": "丙", "min_score": 70},
        {"key": "D", "en": "D", "zh": "丁", "min_score": 10},
    ]))
    assert "scoring.models.mine.tiers: " in message
    assert "tier 'B' (50) follows tier 'A' (50)" in message
    assert "tier 'C' (70) follows tier 'B' (50)" in message
    assert "the last tier ('D') must have min_score 0" in message


def test_tier_keys_and_names_must_be_unique_and_scores_within_0_to_100():
    message = config_error(model(tiers=[
        {"key": "A", "en": "top", "zh": "甲", "min_score": 50},
        {"key": "A", "en": "top", "zh": "乙", "min_score": 0},
    ]))
    assert "tier key 'A' is used 2 times" in message and "tier en 'top' is used 2 times" in message
    message = config_error(model(tiers=[{"key": "A", "en": "A", "zh": "甲", "min_score": 120},
                                        {"key": "B", "en": "B", "zh": "乙", "min_score": 0}]))
    assert "scoring.models.mine.tiers.A.min_score: Input should be less than or equal to 100 (got 120)" in message
    assert "scoring.models.mine.tiers: at least one tier" in config_error(model(tiers=[]))


def test_duplicate_indicators():
    message = config_error(model(indicators=[{"name": "revenue"}, {"name": "revenue", "weight": 2}]))
    assert "scoring.models.mine.indicators: indicator 'revenue' is listed 2 times" in message
    message = config_error(model(indicators=[{"name": "future_contribution"}, {"name": "clv"}]))
    assert "indicators 'future_contribution', 'clv' all read column 'clv'" in message


def test_duplicate_model_names():
    message = config_error(model(), model(), {"name": "five_factor"})
    assert "scoring.models: model names must be unique: 'mine' is used 2 times" in message


def test_model_names_are_identifiers_and_indicators_are_needed():
    message = config_error(model(name="my model"))
    assert "scoring.models.my model.name: String should match pattern" in message
    assert "scoring.models.mine.indicators: at least one indicator is needed" in config_error(model(indicators=[]))
    assert "scoring.models.mine.indicators: Field required" in config_error({"name": "mine"})
    assert "indicator name ' revenue' starts or ends with spaces" in config_error(
        model(indicators=[{"name": " revenue"}]))


def test_scope_values_must_fit_the_operator():
    message = config_error(model(scope=[
        {"column": "segment", "op": "in", "value": "gold"},
        {"column": "revenue", "op": ">", "value": [1, 2]},
        {"column": "segment", "op": "not_in", "value": []},
        {"column": "revenue", "op": "~", "value": 1},
        {"column": "revenue", "op": "<", "value": float("nan")},
    ]))
    assert "scoring.models.mine.scope.0: op 'in' needs a list of values, got 'gold'" in message
    assert "scoring.models.mine.scope.1: op '>' compares with one value, not a list" in message
    assert "scoring.models.mine.scope.2: op 'not_in' needs at least one value" in message
    assert "scoring.models.mine.scope.3.op: Input should be '==', '!=', '<', '<=', '>', '>=', 'in' or 'not_in' (got '~')" in message
    assert "scoring.models.mine.scope.4: the value must be a finite number" in message


def test_every_problem_of_every_model_is_reported_at_once():
    message = config_error(
        model(indicators=[{"name": "revenue", "weight": -1}]),
        model(name="other", tiers=[{"key": "A", "en": "A", "zh": "甲", "min_score": 5}]),
    )
    assert "scoring.models.mine.indicators.revenue.weight" in message
    assert "scoring.models.other.tiers: the last tier ('A') must have min_score 0" in message


def test_scoring_settings_must_be_a_list_of_models():
    with pytest.raises(ConfigError, match=r"scoring\.models: Input should be a valid tuple"):
        load_config({"scoring": {"models": "five_factor"}})
    with pytest.raises(ConfigError, match=r"scoring\.weights: unknown setting"):
        load_config({"scoring": {"weights": [1, 2]}})


def test_a_bad_yaml_file_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "value.yaml"
    path.write_text(
        "scoring:\n  models:\n    - name: mine\n      indicators:\n        - {name: clv, weight: 0}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: scoring.models.mine.indicators.clv.weight: Input should be greater than 0 (got 0)"
    )


def test_models_built_in_python_are_checked_too():
    with pytest.raises(ValueError, match="greater than 0"):
        Indicator(name="revenue", weight=-1)
    with pytest.raises(ValueError, match="indicators.revenue.weight"):
        ScoringModel(name="m", indicators=[{"name": "revenue", "weight": 0}])
    with pytest.raises(ValueError, match="model names must be unique"):
        ScoringSettings(models=[FIVE_FACTOR_MODEL, FIVE_FACTOR_MODEL])


# ------------------------------------------------------------------ the model against a table

def test_unknown_indicator_and_scope_column_are_listed_together_with_the_columns():
    bad = ScoringModel.model_validate(model(
        indicators=[{"name": "revenue"}, {"name": "p_alive"}, {"name": "loyalty"}],
        scope=[{"column": "region", "op": "==", "value": "N"}],
    ))
    with pytest.raises(ConfigError) as caught:
        validate_model(bad, list(TABLE.columns))
    message = str(caught.value)
    assert message.startswith("scoring model 'mine' does not fit the table: ")
    assert "indicator 'p_alive' is neither a built-in indicator nor a column of the table" in message
    assert "indicator 'loyalty' reads column 'tenure_days', which the table does not have" in message
    assert "scope condition 1 (region == 'N'): column 'region' is not in the table" in message
    assert "Columns of the table: revenue, n_purchases, segment, note, since" in message
    assert "What to do:" in message
    with pytest.raises(ConfigError, match="p_alive"):
        score(TABLE, bad)


def test_a_long_column_list_is_shortened():
    wide = {f"col{i}": [1.0] for i in range(60)}
    with pytest.raises(ConfigError, match="col39 … and 20 more"):
        validate_model(ScoringModel.model_validate(model()), list(wide))


def test_a_text_indicator_column_is_an_error():
    bad = ScoringModel.model_validate(model(indicators=[{"name": "segment"}, {"name": "since"}]))
    validate_model(bad, list(TABLE.columns))  # names alone cannot tell
    with pytest.raises(ConfigError) as caught:
        validate_model(bad, TABLE.dtypes)
    message = str(caught.value)
    assert "scoring model 'mine'" in message
    assert "indicator 'segment' holds str values, not numbers" in message
    assert "indicator 'since' holds datetime64" in message
    with pytest.raises(ConfigError, match="indicator 'segment' holds str values, not numbers"):
        score(TABLE, bad)


@pytest.mark.parametrize(("condition", "expected"), [
    ({"column": "revenue", "op": ">", "value": "10"},
     "scope condition 1 (revenue > '10'): column 'revenue' holds numbers but the value '10' is text"),
    ({"column": "segment", "op": "==", "value": 5},
     "scope condition 1 (segment == 5): column 'segment' holds text but the value 5 is numbers"),
    ({"column": "segment", "op": "in", "value": ["gold", 1]},
     "column 'segment' holds text but the value ('gold', 1) is numbers"),
    ({"column": "since", "op": ">", "value": "not a date"},
     "column 'since' holds dates and ('not a date',) is not a date"),
    ({"column": "since", "op": ">", "value": 3},
     "column 'since' holds dates but the value 3 is numbers"),
])
def test_a_scope_value_of_the_wrong_kind(condition, expected):
    bad = ScoringModel.model_validate(model(scope=[condition]))
    with pytest.raises(ConfigError) as caught:
        score(TABLE, bad)
    assert "scoring model 'mine'" in str(caught.value)
    assert expected in str(caught.value)


def test_a_comparison_pandas_refuses_is_a_config_error():
    table = TABLE.assign(kind=pd.Categorical(["x", "y", "x"]))  # unordered: no < between categories
    bad = ScoringModel.model_validate(model(scope=[{"column": "kind", "op": "<", "value": "y"}]))
    with pytest.raises(ConfigError, match=r"scope condition 1 \(kind < 'y'\) cannot be evaluated on column 'kind'"):
        score(table, bad)


def test_infinite_indicator_values_are_bad_data():
    table = TABLE.assign(revenue=[10.0, np.inf, 30.0])
    with pytest.raises(InvalidDataError) as caught:
        score(table, ScoringModel.model_validate(model()))
    message = str(caught.value)
    assert "scoring model 'mine': column 'revenue' (indicator 'revenue') has 1 infinite value(s)" in message
    assert "first at row 'c2'" in message
    # out of scope, an infinite value does not matter
    scoped = ScoringModel.model_validate(model(scope=[{"column": "n_purchases", "op": "!=", "value": 2}]))
    assert score(table, scoped)["score"].notna().sum() == 2


def test_the_table_must_be_a_data_frame_with_distinct_column_names():
    good = ScoringModel.model_validate(model())
    with pytest.raises(InvalidDataError, match="needs a pandas DataFrame"):
        score({"revenue": [1.0]}, good)  # type: ignore[arg-type]
    doubled = pd.concat([TABLE[["revenue"]], TABLE[["revenue", "n_purchases"]]], axis=1)
    with pytest.raises(InvalidDataError, match="several columns named 'revenue'"):
        score(doubled, good)


def test_score_all_reports_every_model_that_does_not_fit():
    settings = load_config({"scoring": {"models": [
        {"name": "five_factor"}, model(), model(name="other", indicators=[{"name": "p_alive"}])]}})
    with pytest.raises(ConfigError) as caught:
        score_all(TABLE, settings)
    message = str(caught.value)
    assert "scoring model 'five_factor' does not fit the table" in message
    assert "scoring model 'other' does not fit the table: indicator 'p_alive'" in message
    assert "scoring model 'mine'" not in message
    with pytest.raises(ConfigError, match="needs ScoringSettings"):
        score_all(TABLE, {"models": []})
    with pytest.raises(InvalidDataError, match="needs a pandas DataFrame"):
        score_all([1, 2], ValueConfig())  # type: ignore[arg-type]


def test_a_model_must_be_a_scoring_model():
    with pytest.raises(ConfigError, match="a scoring model is needed, got dict"):
        score(TABLE, model())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="a scoring model is needed, got str"):
        validate_model("five_factor", ["clv"])  # type: ignore[arg-type]


def test_asking_for_a_model_that_is_not_configured():
    with pytest.raises(ConfigError, match=r"scoring model 'rfm' is not configured \(models: five_factor\)"):
        ScoringSettings().get("rfm")
