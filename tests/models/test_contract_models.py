"""Every registered model goes through the same checks (the estimator contract).

A model is registered by subclassing :class:`cvm.models.base.CustomerModel` with a ``name``;
importing :mod:`cvm.models` imports them all.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError
from cvm.models import MODELS
from cvm.models.base import CustomerModel
from cvm.models.engine import compress

N_CUSTOMERS = 3000


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request):
    cls = MODELS[request.param]
    data = cls.simulate(cls.example_params, N_CUSTOMERS, seed=2024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls().fit(data)
    return cls, data, model


def test_registry_has_the_issue_models():
    assert {"bgnbd"} <= set(MODELS)


def test_constructor_stores_settings_only():
    for cls in MODELS.values():
        model = cls()
        assert not model.is_fitted
        assert not [k for k in vars(model) if k.endswith("_")]


def test_fit_returns_self_and_recovers_the_parameters(case):
    cls, data, model = case
    assert isinstance(model, cls)
    assert model.converged_, model.report_
    se = model.standard_errors_
    for name, truth in cls.example_params.items():
        # within half the true value, or four standard errors for weakly identified
        # parameters (Pareto/NBD's beta lies on a flat ridge)
        assert abs(model.params_[name] - truth) <= max(0.5 * truth, 4 * se[name]), name


def test_fitted_model_keeps_no_training_table(case):
    _, _, model = case
    for value in vars(model).values():
        assert not (isinstance(value, np.ndarray) and value.shape[0] == N_CUSTOMERS)


def test_summary_has_every_parameter_with_an_interval(case):
    _, _, model = case
    summary = model.summary()
    assert [row.name for row in summary.rows] == list(model.params_)
    for row in summary.rows:
        assert row.lower_95 <= row.estimate <= row.upper_95
        assert np.isfinite(row.standard_error)
    assert summary.aic == pytest.approx(2 * len(model.params_) - 2 * model.log_likelihood_)
    assert model.title in str(summary)


def test_json_round_trip_is_bit_exact(case):
    cls, _, model = case
    text = json.dumps(model.to_dict())
    restored = CustomerModel.from_dict(json.loads(text))
    assert type(restored) is cls
    assert restored.params_ == model.params_
    assert np.array_equal(restored.covariance_, model.covariance_)
    assert restored.log_likelihood_ == model.log_likelihood_
    assert restored.to_dict() == model.to_dict()


def test_weighted_rows_equal_exploded_rows(case):
    cls, data, model = case
    rows, weights = compress(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = cls().fit(rows, weights=weights)
    for name, value in model.params_.items():
        assert weighted.params_[name] == pytest.approx(value, rel=1e-6)


def test_shuffled_input_gives_the_same_fit(case):
    cls, data, model = case
    order = np.random.default_rng(0).permutation(N_CUSTOMERS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shuffled = cls().fit({k: v[order] for k, v in data.items()})
    assert shuffled.params_ == model.params_


def test_missing_column_is_named(case):
    cls, data, _ = case
    column = cls.data_columns[0]
    partial = {k: v for k, v in data.items() if k != column}
    with pytest.raises(MissingColumnError, match=column):
        cls().fit(partial)


def test_non_finite_values_are_rejected_with_the_row(case):
    cls, data, _ = case
    column = cls.data_columns[-1]
    broken = {k: v.copy() for k, v in data.items()}
    broken[column][5] = np.nan
    with pytest.raises(InvalidDataError, match="row 5"):
        cls().fit(broken)


def test_negative_weights_are_rejected(case):
    cls, data, _ = case
    weights = np.ones(N_CUSTOMERS)
    weights[3] = -1
    with pytest.raises(InvalidDataError, match="weights"):
        cls().fit(data, weights=weights)


def test_predicting_before_fitting_is_a_clear_error():
    for cls in MODELS.values():
        with pytest.raises(ConfigError, match="not fitted"):
            cls().summary()


PREDICTIONS = {  # method: the arguments after the customers, for every model that has it
    "expected_purchases": (4,),
    "expected_purchases_by_period": ([1.0, 2.0, 4.0],),  # period ends; BG/BB takes a count
    "probability_alive": (),
    "discounted_expected_residual_transactions": (0.01,),
    "expected_remaining_lifetime": (),
    "expected_spend": (),
}


def test_prepared_customers_give_the_same_predictions(case):
    """Predicting from prepare_customers() equals predicting from the table, bit for bit."""
    cls, data, model = case
    batch = model.prepare_customers(data)
    assert len(batch) == N_CUSTOMERS
    tried = 0
    for method, args in PREDICTIONS.items():
        if not hasattr(model, method):
            continue
        if method == "expected_purchases_by_period" and "T" not in cls.data_columns:
            args = (3,)  # discrete opportunities: the number of periods ahead
        direct = getattr(model, method)(data, *args)
        again = getattr(model, method)(batch, *args)
        assert np.array_equal(direct, again), method
        tried += 1
    assert tried >= 1
    # a second prepared call reuses what the first one kept
    assert np.array_equal(getattr(model, "probability_alive", model.prepare_customers)(batch),
                          getattr(model, "probability_alive", model.prepare_customers)(batch))


def test_prepared_customers_refuse_a_refitted_model(case):
    cls, data, model = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refitted = cls().fit(data)
        batch = refitted.prepare_customers(data)
        half = {k: v[: N_CUSTOMERS // 2] for k, v in data.items()}
        refitted.fit(half)
    method = next(m for m in PREDICTIONS if hasattr(refitted, m))
    with pytest.raises(ConfigError, match="prepare_customers again"):
        getattr(refitted, method)(batch, *PREDICTIONS[method])


def test_prepared_customers_of_one_model_serve_another():
    """A batch prepared for BG/NBD goes to Gamma-Gamma, which reads its own columns from the source."""
    from cvm.models.bgnbd import BetaGeoModel
    from cvm.models.gamma_gamma import GammaGammaModel

    table = {"frequency": np.array([0.0, 2.0, 5.0]), "recency": np.array([0.0, 20.0, 30.0]),
             "T": np.array([39.0, 39.0, 39.0]), "monetary_value": np.array([0.0, 35.0, 20.0])}
    bg = BetaGeoModel.from_params(BetaGeoModel.example_params)
    gg = GammaGammaModel.from_params(GammaGammaModel.example_params)
    batch = bg.prepare_customers(table)
    assert np.array_equal(gg.expected_spend(batch), gg.expected_spend(table))
    varying = np.array([1.0, 13.0, 52.0])  # a horizon per customer is grouped with (x, T)
    assert np.array_equal(bg.expected_purchases(batch, varying), bg.expected_purchases(table, varying))
    assert np.array_equal(bg.probability_alive(batch, varying), bg.probability_alive(table, varying))
