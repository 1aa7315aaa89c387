"""The estimation engine: compression, rescaling, restarts, inference and its warnings."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import gammaln

from cvm.models import bgnbd
from cvm.models.bgnbd import BetaGeoModel
from cvm.models.engine import (
    BoundaryWarning,
    ConvergenceWarning,
    HessianWarning,
    Parameter,
    compress,
    estimate,
)


def poisson(params, data):
    return data["x"] * np.log(params["lam"]) - params["lam"] - gammaln(data["x"] + 1)


def test_poisson_mle_and_standard_error_are_exact():
    x = np.array([0.0, 1, 1, 2, 3, 5])
    est = estimate(poisson, [Parameter("lam")], {"x": x})
    assert est.params["lam"] == pytest.approx(x.mean(), rel=1e-7)
    assert est.standard_errors["lam"] == pytest.approx(math.sqrt(x.mean() / x.size), rel=1e-5)
    assert est.report.converged and est.report.n_rows == 6 and est.report.n_distinct_rows == 5


def test_compress_sums_weights_of_identical_rows():
    rows, w = compress({"a": np.array([2.0, 1, 2, 1]), "b": np.array([0.0, 0, 0, 1])}, np.array([1.0, 2, 3, 4]))
    assert sorted(zip(rows["a"].tolist(), rows["b"].tolist(), w.tolist())) == [(1.0, 0.0, 2.0), (1.0, 1.0, 4.0), (2.0, 0.0, 4.0)]


def test_compress_survives_hash_collisions(monkeypatch):
    """Rows that share a hash but differ are never merged (the check falls back to sorting)."""
    from cvm.models import engine

    monkeypatch.setattr(engine, "_mix64", lambda values: values * np.uint64(0))  # every row collides
    rows, w = compress({"a": np.array([2.0, 1, 2, -0.0]), "b": np.array([0.0, 0, 0, 0])})
    assert sorted(zip(rows["a"].tolist(), w.tolist())) == [(0.0, 1.0), (1.0, 1.0), (2.0, 2.0)]


def test_weighted_equals_exploded():
    sim = BetaGeoModel.simulate(BetaGeoModel.example_params, 2000, seed=3)
    rows, w = compress(sim)
    exploded = BetaGeoModel().fit(sim)
    weighted = BetaGeoModel().fit(rows, weights=w)
    for name in exploded.params_:
        assert weighted.params_[name] == pytest.approx(exploded.params_[name], rel=1e-9)
    assert weighted.log_likelihood_ == pytest.approx(exploded.log_likelihood_, rel=1e-12)


def test_time_unit_changes_only_the_time_scale_parameters():
    """Fitting in days instead of weeks multiplies alpha by 7 and leaves r, a, b unchanged."""
    sim = BetaGeoModel.simulate(BetaGeoModel.example_params, 2000, seed=4)
    weeks = BetaGeoModel().fit(sim)
    days = BetaGeoModel().fit({"frequency": sim["frequency"], "recency": sim["recency"] * 7, "T": sim["T"] * 7})
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-5)
    for name in ("r", "a", "b"):
        assert days.params_[name] == pytest.approx(weeks.params_[name], rel=1e-5)
    # the likelihood is a density in time: it changes by the Jacobian x * log 7
    shift = float(np.sum(sim["frequency"])) * math.log(7)
    assert days.log_likelihood_ == pytest.approx(weeks.log_likelihood_ - shift, rel=1e-9)


def test_penalizer_shrinks_log_parameters_towards_zero():
    sim = BetaGeoModel.simulate(BetaGeoModel.example_params, 1000, seed=5)
    plain = BetaGeoModel().fit(sim)
    penalised = BetaGeoModel(penalizer=50.0).fit(sim)
    plain_norm = sum(math.log(v) ** 2 for v in plain.params_.values())
    penalised_norm = sum(math.log(v) ** 2 for v in penalised.params_.values())
    assert penalised_norm < plain_norm


def test_non_convergence_is_a_warning_with_the_report():
    x = np.array([0.0, 1, 1, 2, 3, 5])
    with pytest.warns(ConvergenceWarning), warnings.catch_warnings():
        # one iteration from lam = 100 also leaves a boundary and a bad Hessian: expected, not shown
        warnings.simplefilter("ignore", BoundaryWarning)
        warnings.simplefilter("ignore", HessianWarning)
        est = estimate(poisson, [Parameter("lam", start=100.0)], {"x": x}, max_iterations=1, max_restarts=0)
    assert not est.report.converged
    assert est.report.warnings and "did not converge" in est.report.warnings[0]


def test_non_finite_start_triggers_restarts():
    def picky(params, data):
        # not finite for lam > 50: the default start 1e4 is refused and the engine restarts
        return np.where(params["lam"] > 50, np.nan, poisson(params, data))

    x = np.array([0.0, 1, 1, 2, 3, 5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = estimate(picky, [Parameter("lam", start=1e4)], {"x": x}, max_restarts=20)
    assert est.params["lam"] == pytest.approx(2.0, rel=1e-6)
    assert est.report.restarts >= 1


def test_nothing_finite_is_a_clear_error():
    with pytest.raises(ValueError, match="not finite at any starting point"):
        estimate(lambda p, d: np.full_like(d["x"], np.nan), [Parameter("lam")], {"x": np.ones(3)}, max_restarts=2)


def test_boundary_is_reported_and_predictions_stay_finite():
    """Everyone drops out with the same probability: a, b run to infinity together."""
    rng = np.random.default_rng(11)
    n = 3000
    T = rng.uniform(30, 52, n)
    sim = bgnbd.simulate(0.8, 10.0, 1e7, 2e7, T, seed=12)  # Beta(a, b) ~ a point mass at 1/3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BetaGeoModel().fit(sim)
    assert model.converged_
    assert set(model.report_.boundary) == {"a", "b"}
    assert any(issubclass(w.category, BoundaryWarning) for w in caught)
    assert any(row.at_boundary for row in model.summary().rows)
    assert "(boundary)" in str(model.summary())
    for values in (
        model.expected_purchases(sim, 52.0),
        model.probability_alive(sim),
        model.probability_alive(sim, 26.0),
        model.expected_purchases_by_period(sim, [13, 26, 39]),
    ):
        assert np.all(np.isfinite(values))


def test_singular_hessian_is_repaired_with_a_warning():
    def flat_in_b(params, data):  # b does not enter the likelihood
        return poisson({"lam": params["a"]}, data) + 0 * params["b"]

    with pytest.warns(HessianWarning):
        est = estimate(flat_in_b, [Parameter("a"), Parameter("b")], {"x": np.array([1.0, 2.0, 3.0])})
    assert est.report.hessian_repaired
    assert est.params["a"] == pytest.approx(2.0, rel=1e-6)


def test_prepared_fast_path_equals_the_closed_form():
    """BG/NBD's per-distinct-value likelihood gives the module-level formula's values."""
    sim = BetaGeoModel.simulate(BetaGeoModel.example_params, 3000, seed=9)
    prep = bgnbd.prepare(sim)
    for params in (
        dict(r=0.3, alpha=4.0, a=0.8, b=2.4),
        dict(r=1e6, alpha=1e7, a=1e9, b=3e9),
        dict(r=1e-3, alpha=1e-3, a=1e-3, b=1e-3),
    ):
        plain = bgnbd.log_likelihood(**params, x=sim["frequency"], t_x=sim["recency"], T=sim["T"])
        np.testing.assert_allclose(bgnbd.prepared_log_likelihood(params, prep), plain, rtol=1e-13, atol=1e-12)
        plain_grad = bgnbd.log_likelihood_gradient(**params, x=sim["frequency"], t_x=sim["recency"], T=sim["T"])
        fast_grad = bgnbd.prepared_gradient(params, prep)
        for name, values in plain_grad.items():
            np.testing.assert_allclose(fast_grad[name], values, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_distinct", [7, 50_000, 10**12])
def test_factorize_gives_back_every_row(n_distinct):
    """Both routes (a hash table; one sort when nearly every row is distinct) invert exactly,
    and the distinct rows come out in the same order whatever the order of the input."""
    from cvm.models.engine import factorize

    rng = np.random.default_rng(n_distinct % 1000)
    codes = rng.integers(0, n_distinct, 100_000)
    data = {"x": (codes % 97).astype(float), "T": codes / 7.0}
    rows, index = factorize(data)
    assert len(rows["x"]) == np.unique(codes).size
    for name, column in data.items():
        assert np.array_equal(rows[name][index], column)
    order = rng.permutation(codes.size)
    shuffled, _ = factorize({k: v[order] for k, v in data.items()})
    for name in data:
        assert np.array_equal(shuffled[name], rows[name])


@pytest.mark.parametrize(
    "values",
    [
        np.array([3.0, 0.0, 3.0, 7.0, 1.0]),          # whole numbers: a table, no sort
        np.array([2.5, -1.0, 2.5, 1e300, 0.25]),      # anything else: hashing
        np.array([1.0, np.nan, 1.0, 2.0]),            # NaN: numpy's unique
        np.repeat(np.arange(40.0) / 7, 500),
    ],
)
def test_levels_equal_numpy_unique(values):
    from cvm.models.engine import levels

    distinct, index = levels(values)
    expected, expected_index = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(distinct, expected)
    np.testing.assert_array_equal(index, expected_index.reshape(-1))


def test_analytic_hessian_equals_differences_of_the_gradient(monkeypatch):
    """Gamma-Gamma's closed-form second derivatives give the covariance that central
    differences of its analytic gradient give (to the differences' own accuracy)."""
    from cvm.models.gamma_gamma import GammaGammaModel

    data = GammaGammaModel.simulate(GammaGammaModel.example_params, 5000, seed=3)
    analytic = GammaGammaModel().fit(data)
    monkeypatch.setattr(GammaGammaModel, "prepared_hessian", None)
    differenced = GammaGammaModel().fit(data)
    assert analytic.params_ == differenced.params_
    np.testing.assert_allclose(analytic.covariance_, differenced.covariance_, rtol=1e-5)


def test_trigamma_difference_is_accurate_on_both_sides_of_the_switch():
    from scipy.special import polygamma

    from cvm.models.special import LARGE, trigamma_difference

    for y, x in ((0.3, 2.0), (5.0, 0.5), (100.0, 40.0)):
        expected = polygamma(1, y + x) - polygamma(1, y)
        assert float(trigamma_difference(y, x)) == pytest.approx(expected, rel=1e-12)
    below, above = trigamma_difference(LARGE * (1 - 1e-12), 3.0), trigamma_difference(LARGE * (1 + 1e-12), 3.0)
    assert float(above) == pytest.approx(float(below), rel=1e-9)
    assert float(trigamma_difference(1e15, 2.0)) == pytest.approx(-2e-30, rel=1e-9)
