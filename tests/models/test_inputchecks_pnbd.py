"""Bad input to Pareto/NBD gives an error that names the column and the rule."""

from __future__ import annotations

import numpy as np
import pytest

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError
from cvm.models.pareto_nbd import ParetoNBDModel

GOOD = {"frequency": [0.0, 2.0, 5.0], "recency": [0.0, 10.0, 30.0], "T": [39.0, 39.0, 35.0]}


@pytest.fixture(scope="module")
def model():
    fitted = ParetoNBDModel()
    fitted.params_ = dict(ParetoNBDModel.example_params)  # predictions need only the parameters
    return fitted


def _with(**changes):
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("customers", "column", "rule"),
    [
        (_with(frequency=[-1.0, 2.0, 5.0]), "frequency", "whole number >= 0"),
        (_with(frequency=[0.5, 2.0, 5.0]), "frequency", "whole number >= 0"),
        (_with(T=[-1.0, 39.0, 35.0]), "T", "must be >= 0"),
        (_with(recency=[0.0, 40.0, 30.0]), "recency", "between 0 and T"),
        (_with(recency=[0.0, -1.0, 30.0]), "recency", "between 0 and T"),
        (_with(recency=[1.0, 10.0, 30.0]), "recency", "must be 0 when frequency is 0"),
        (_with(T=[np.nan, 39.0, 35.0]), "T", "finite"),
        (_with(frequency=[np.inf, 2.0, 5.0]), "frequency", "finite"),
    ],
)
def test_fit_rejects_bad_rows(customers, column, rule):
    with pytest.raises(InvalidDataError, match=rule) as info:
        ParetoNBDModel().fit(customers)
    assert repr(column) in str(info.value)
    assert "Pareto/NBD" in str(info.value)


def test_missing_column_is_named():
    with pytest.raises(MissingColumnError, match="'recency'"):
        ParetoNBDModel().fit({"frequency": [1.0], "T": [3.0]})


def test_non_numeric_column():
    with pytest.raises(InvalidDataError, match="'T' is not numeric"):
        ParetoNBDModel().fit(_with(T=["a", "b", "c"]))


def test_predictions_check_the_history_too(model):
    with pytest.raises(InvalidDataError, match="between 0 and T"):
        model.expected_purchases(_with(recency=[0.0, 40.0, 30.0]), 10)
    with pytest.raises(InvalidDataError, match="between 0 and T"):
        model.probability_alive(_with(recency=[0.0, 40.0, 30.0]))


@pytest.mark.parametrize("t", [-1.0, np.nan, np.inf])
def test_horizon_must_be_finite_and_non_negative(model, t):
    with pytest.raises(InvalidDataError, match="'t' must be a finite number >= 0"):
        model.expected_purchases(GOOD, t)
    with pytest.raises(InvalidDataError, match="'t'"):
        model.probability_alive(GOOD, t)
    with pytest.raises(InvalidDataError, match="'t'"):
        model.expected_purchases_new_customer(t)


def test_period_edges_must_be_non_negative(model):
    with pytest.raises(InvalidDataError, match="'edges'"):
        model.expected_purchases_by_period(GOOD, [-1.0, 4.0])


@pytest.mark.parametrize("rate", [0.0, -0.1, np.nan])
def test_discount_rate_must_be_positive(model, rate):
    with pytest.raises(InvalidDataError, match="'discount_rate' must be a finite number > 0"):
        model.discounted_expected_residual_transactions(GOOD, rate)


@pytest.mark.parametrize("n", [-1, 1.5])
def test_purchase_count_must_be_a_whole_number(model, n):
    with pytest.raises(InvalidDataError, match="'n' must be a whole number >= 0"):
        model.probability_of_purchases(10.0, n)


def test_unfitted_model_says_so():
    with pytest.raises(ConfigError, match="not fitted"):
        ParetoNBDModel().expected_purchases(GOOD, 10)


def test_weights_must_match_rows():
    with pytest.raises(InvalidDataError, match="weights has 2 values for 3 customers"):
        ParetoNBDModel().fit(GOOD, weights=[1.0, 2.0])


def test_no_customers():
    with pytest.raises(InvalidDataError, match="no customers"):
        ParetoNBDModel().fit({"frequency": [], "recency": [], "T": []})
