"""Bad input to the spend model (and MBG/NBD) gives InvalidDataError / MissingColumnError naming column and rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cvm.errors import InvalidDataError, MissingColumnError
from cvm.errors import ModelAssumptionError
from cvm.models.gamma_gamma import GammaGammaModel, MeanSpendUndefinedWarning
from cvm.models.mbgnbd import ModifiedBetaGeoModel

GOOD = {"frequency": [0.0, 1.0, 3.0], "monetary_value": [0.0, 12.5, 30.0]}


@pytest.mark.parametrize(
    ("column", "values", "rule"),
    [
        ("frequency", [0.0, -1.0, 3.0], "whole number >= 0"),
        ("frequency", [0.0, 1.5, 3.0], "whole number >= 0"),
        ("frequency", [0.0, np.nan, 3.0], "finite"),
        ("monetary_value", [0.0, 0.0, 30.0], "> 0 when frequency > 0"),
        ("monetary_value", [0.0, -5.0, 30.0], "> 0 when frequency > 0"),
        ("monetary_value", [0.0, np.inf, 30.0], "finite"),
    ],
)
def test_bad_values_name_column_and_rule(column, values, rule):
    data = dict(GOOD, **{column: values})
    with pytest.raises(InvalidDataError, match=rule) as info:
        GammaGammaModel().fit(data)
    assert repr(column) in str(info.value) and "row 1" in str(info.value)


def test_missing_column():
    with pytest.raises(MissingColumnError, match="monetary_value"):
        GammaGammaModel().fit({"frequency": [1.0, 2.0]})


def test_monetary_value_ignored_without_repeat_purchases():
    """monetary_value may be missing (NaN) where frequency is 0: it is not read there."""
    data = GammaGammaModel.simulate(dict(p=6.0, q=4.0, gamma=15.0), 500, seed=1)
    data["monetary_value"] = np.where(data["frequency"] > 0, data["monetary_value"], np.nan)
    model = GammaGammaModel().fit(data)
    assert np.all(np.isfinite(model.expected_spend(data)))


def test_no_repeat_customers():
    with pytest.raises(InvalidDataError, match="frequency > 0"):
        GammaGammaModel().fit({"frequency": [0.0, 0.0], "monetary_value": [0.0, 0.0]})


def test_weights_length_checked():
    with pytest.raises(InvalidDataError, match="weights"):
        GammaGammaModel().fit(GOOD, weights=[1.0, 2.0])


def test_undefined_mean_spend_raises_instead_of_inf():
    """q <= 1: the population mean spend does not exist; predictions raise a clear error, never inf/NaN."""
    model = GammaGammaModel.from_dict(
        GammaGammaModel().fit(GammaGammaModel.simulate(dict(p=6.0, q=4.0, gamma=15.0), 300, seed=2)).to_dict()
    )
    model.params_ = {"p": 0.05, "q": 0.8, "gamma": 10.0}
    with pytest.raises(ModelAssumptionError, match="does not exist"):
        model.population_mean_spend()
    with pytest.raises(ModelAssumptionError, match="p x \\+ q <= 1"):
        model.expected_spend(GOOD)
    spend = model.expected_spend({"frequency": [1.0, 5.0], "monetary_value": [12.5, 30.0]}, undefined="observed")
    assert np.all(np.isfinite(spend)) and spend[0] == 12.5


def test_heavy_tailed_fit_warns_and_records():
    """A fit with q <= 1 warns (MeanSpendUndefinedWarning) and the warning is in summary()."""
    rng = np.random.default_rng(5)
    frequency = rng.integers(1, 4, 3000).astype(float)
    data = {"frequency": frequency, "monetary_value": np.exp(rng.standard_cauchy(3000).clip(-30, 30))}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GammaGammaModel().fit(data)
    if model.params_["q"] <= 1:
        assert any(w.category is MeanSpendUndefinedWarning for w in caught)
        assert any("q =" in w for w in model.summary().warnings)
    else:  # pragma: no cover - the data is chosen so that q <= 1
        pytest.fail(f"expected q <= 1, got {model.params_}")


@pytest.mark.parametrize(
    ("column", "values", "rule"),
    [
        ("frequency", [-1.0, 2.0], "whole number"),
        ("recency", [0.0, 50.0], "between 0 and T"),
        ("recency", [1.0, 3.0], "must be 0 when frequency is 0"),
        ("T", [-1.0, 40.0], "must be >= 0"),
    ],
)
def test_mbgnbd_bad_values(column, values, rule):
    data = dict({"frequency": [0.0, 2.0], "recency": [0.0, 3.0], "T": [10.0, 40.0]}, **{column: values})
    with pytest.raises(InvalidDataError, match=rule):
        ModifiedBetaGeoModel().fit(data)
