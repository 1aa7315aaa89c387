"""Bad inputs to the customer value table give a clear CVM error, never a raw traceback."""

from __future__ import annotations

import numpy as np
import pytest

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError
from cvm.models.bgbb import BetaGeoBetaBinomModel
from cvm.value.config import load_config
from cvm.value.table import customer_value, example_inputs


@pytest.fixture
def inputs():
    return example_inputs()


def test_history_without_a_required_column(inputs):
    inputs["history"] = inputs["history"].drop(columns="tenure_days")
    with pytest.raises(MissingColumnError, match="tenure_days"):
        customer_value(**inputs)


def test_customer_without_a_summary_row(inputs):
    inputs["summary"] = inputs["summary"].iloc[1:]
    with pytest.raises(InvalidDataError, match=r"1 customer\(s\) of the history have no BTYD summary, e.g. \['c1'\]"):
        customer_value(**inputs)


def test_duplicate_customer_ids(inputs):
    history = inputs["history"]
    history.loc[1, "customer_id"] = "c1"
    with pytest.raises(InvalidDataError, match="unique"):
        customer_value(**inputs)


def test_non_finite_revenue_names_the_row(inputs):
    inputs["history"].loc[2, "revenue"] = np.inf
    with pytest.raises(InvalidDataError, match="'revenue' must be a finite number.*row 2"):
        customer_value(**inputs)


def test_bad_configuration_names_every_key(inputs):
    with pytest.raises(ConfigError) as error:
        customer_value(**(inputs | {"config": {"forecast": {"periods": 0, "colour": "red"}}}))
    assert "forecast.periods" in str(error.value) and "forecast.colour: unknown setting" in str(error.value)


def test_configuration_file_errors(tmp_path):
    broken = tmp_path / "value.yaml"
    broken.write_text("clv:\n  horizon_years: [3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="value.yaml: line"):
        load_config(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    future = tmp_path / "future.yaml"
    future.write_text("version: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="version 2 is not supported"):
        load_config(future)


def test_a_discrete_time_model_is_refused(inputs):
    inputs["model"] = BetaGeoBetaBinomModel.from_params(BetaGeoBetaBinomModel.example_params)
    with pytest.raises(ConfigError, match="continuous-time purchase model"):
        customer_value(**inputs)


def test_referrals_and_rfm_need_their_columns(inputs):
    with pytest.raises(MissingColumnError, match="referred_id"):
        customer_value(**(inputs | {"referrals": inputs["referrals"].rename(columns={"referred_id": "x"})}))
    with pytest.raises(MissingColumnError, match="recency_score"):
        customer_value(**(inputs | {"rfm": inputs["history"][["customer_id"]]}))
