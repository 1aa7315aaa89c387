"""Static covariates on the purchase and dropout processes (BG/NBD; Pareto/NBD joins when registered)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from cvm.errors import ConfigError, MissingColumnError
from cvm.models import MODELS
from cvm.models.base import CustomerModel
from cvm.models.bgnbd import BetaGeoModel, simulate

COVARIATE_MODELS = sorted(name for name, cls in MODELS.items() if cls.covariate_links)


def two_groups(cls, effect: float, n: int = 4000, seed: int = 1) -> dict[str, np.ndarray]:
    """Half the customers have z = 1 and a purchase-rate scale parameter divided by exp(effect)."""
    rng = np.random.default_rng(seed)
    base = cls.simulate(cls.example_params, n // 2, seed=int(rng.integers(1 << 31)))
    shifted = dict(cls.example_params)
    shifted["alpha"] = shifted["alpha"] * np.exp(-effect)
    other = cls.simulate(shifted, n // 2, seed=int(rng.integers(1 << 31)))
    data = {k: np.concatenate([base[k], other[k]]) for k in base}
    data["z"] = np.concatenate([np.zeros(n // 2), np.ones(n // 2)])
    return data


@pytest.mark.parametrize("name", COVARIATE_MODELS)
def test_zero_coefficients_equal_the_plain_model_exactly(name):
    cls = MODELS[name]
    data = cls.simulate(cls.example_params, 500, seed=3)
    data["z"] = np.random.default_rng(4).normal(size=500)
    plain = cls.from_params(cls.example_params)
    with_covariates = cls.from_params(
        {**cls.example_params, "purchase.z": 0.0, "dropout.z": 0.0},
        purchase_covariates=["z"],
        dropout_covariates=["z"],
    )
    loglik, _ = with_covariates._likelihood_functions()
    assert np.array_equal(loglik(with_covariates.params_, data), cls.log_likelihood(plain.params_, data))
    assert np.array_equal(with_covariates.expected_purchases(data, 10.0), plain.expected_purchases(data, 10.0))
    assert np.array_equal(with_covariates.probability_alive(data), plain.probability_alive(data))


@pytest.mark.parametrize("name", COVARIATE_MODELS)
def test_a_purchase_effect_is_recovered(name):
    cls = MODELS[name]
    data = two_groups(cls, effect=0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(purchase_covariates=["z"]).fit(data)
    assert model.converged_
    low, high = model.confidence_intervals_["purchase.z"]
    assert low < 0.7 < high
    assert model.params_["purchase.z"] == pytest.approx(0.7, abs=0.25)
    # new customers (no history yet) with z = 1 buy more
    zeros = 0 * data["z"]
    expected = model.expected_purchases({**data, "frequency": zeros, "recency": zeros, "T": zeros + 1e-6}, 10.0)
    assert expected[data["z"] == 1].mean() > expected[data["z"] == 0].mean()


def test_covariate_gradient_matches_finite_differences():
    data = two_groups(BetaGeoModel, effect=0.5, n=400)
    model = BetaGeoModel(purchase_covariates=["z"], dropout_covariates=["z"])
    loglik, grad = model._likelihood_functions()
    params = {"r": 0.3, "alpha": 4.0, "a": 0.8, "b": 2.4, "purchase.z": 0.2, "dropout.z": -0.3}
    analytic = {k: float(np.sum(v)) for k, v in grad(params, data).items()}
    for name in params:
        h = 1e-6 * max(1.0, abs(params[name]))
        up = float(np.sum(loglik({**params, name: params[name] + h}, data)))
        down = float(np.sum(loglik({**params, name: params[name] - h}, data)))
        assert analytic[name] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-6), name


def test_covariate_model_round_trips_through_json():
    data = two_groups(BetaGeoModel, effect=0.5, n=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BetaGeoModel(purchase_covariates=["z"]).fit(data)
    restored = CustomerModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored.purchase_covariates == ("z",)
    assert np.array_equal(restored.expected_purchases(data, 5.0), model.expected_purchases(data, 5.0))


def test_missing_covariate_column_is_named():
    data = simulate(0.243, 4.414, 0.793, 2.426, T=[39.0] * 10, seed=1)
    with pytest.raises(MissingColumnError, match="channel"):
        BetaGeoModel(purchase_covariates=["channel"]).fit(data)


def test_models_without_covariates_refuse_them():
    class Plain(CustomerModel):
        title = "plain"

    with pytest.raises(ConfigError, match="takes no purchase covariates"):
        Plain(purchase_covariates=["z"])


def test_new_customer_expectation_needs_the_covariates():
    model = BetaGeoModel.from_params({**BetaGeoModel.example_params, "purchase.z": 0.1}, purchase_covariates=["z"])
    with pytest.raises(ConfigError, match="depends on their covariates"):
        model.expected_purchases_new_customer(10.0)


def test_a_coefficient_running_off_to_infinity_is_flagged():
    """One group has no heterogeneity in dropout (a, b -> infinity for z = 1 only), so the
    dropout coefficient diverges, as on the apparel log: it is reported as a boundary."""
    rng = np.random.default_rng(5)
    n = 3000
    T = rng.uniform(30.0, 52.0, n)
    varied = simulate(0.5, 5.0, 0.8, 2.5, T[: n // 2], seed=6)
    uniform = simulate(0.5, 5.0, 8e7, 2.5e8, T[n // 2 :], seed=7)  # every z = 1 customer drops with p = 0.24
    data = {k: np.concatenate([varied[k], uniform[k]]) for k in varied}
    data["z"] = np.concatenate([np.zeros(n // 2), np.ones(n - n // 2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BetaGeoModel(dropout_covariates=["z"]).fit(data)
    assert model.converged_
    assert model.params_["dropout.z"] > 15  # a_i, b_i of the z = 1 group run off together
    assert "dropout.z" in model.report_.boundary
    assert any(row.name == "dropout.z" and row.at_boundary for row in model.summary().rows)
    assert np.all(np.isfinite(model.expected_purchases(data, 26.0)))


def test_an_ordinary_coefficient_is_not_flagged():
    data = two_groups(BetaGeoModel, effect=0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BetaGeoModel(purchase_covariates=["z"]).fit(data)
    assert model.report_.boundary == []
