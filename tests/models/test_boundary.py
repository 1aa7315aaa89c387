"""Fits whose optimum is on a boundary: they converge, say so, and predict finite numbers.

The issue: on a public online-retail log, lifetimes' BG/NBD and MBG/NBD fits fail to
converge and its MBG/NBD predictions come out infinite, because the optimum sits where the
dropout probability is near zero. Here that case is built with the generators: customers
who never drop out (``p ~ Beta(0.001, 1e5)``, mean 1e-8) and buy often enough that none of
them is without a repeat purchase, so neither "dropout after a purchase" nor MBG/NBD's
"dropout at time 0" has any support and the maximum-likelihood ``p`` is 0 (``a -> 0``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cvm.models.bgnbd import BetaGeoModel
from cvm.models.engine import BoundaryWarning
from cvm.models.mbgnbd import ModifiedBetaGeoModel


@pytest.fixture(scope="module")
def no_dropout_log():
    # seed chosen once; on other seeds sampling noise can put the optimum just inside (p tiny)
    return ModifiedBetaGeoModel.simulate(dict(r=5.0, alpha=5.0, a=1e-3, b=1e5), 2000, seed=2)


def _fit(model_class, data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = model_class().fit(data)
    return model, [w.category for w in caught]


@pytest.mark.parametrize("model_class", [ModifiedBetaGeoModel, BetaGeoModel], ids=["mbgnbd", "bgnbd"])
def test_no_dropout_log_converges_and_reports_the_boundary(no_dropout_log, model_class):
    """The fit converges, flags the boundary in report_, summary() and a BoundaryWarning."""
    assert (no_dropout_log["frequency"] > 0).all()
    model, categories = _fit(model_class, no_dropout_log)
    assert model.converged_
    assert model.report_.boundary, model.report_
    assert BoundaryWarning in categories
    # the estimated mean dropout probability is (numerically) zero
    assert model.params_["a"] / (model.params_["a"] + model.params_["b"]) < 1e-9
    summary = model.summary()
    flagged = {row.name for row in summary.rows if row.at_boundary}
    assert flagged == set(model.report_.boundary)
    text = str(summary)
    assert "(boundary)" in text and "boundary" in " ".join(summary.warnings)
    assert np.isfinite(model.log_likelihood_)


@pytest.mark.parametrize("model_class", [ModifiedBetaGeoModel, BetaGeoModel], ids=["mbgnbd", "bgnbd"])
def test_no_dropout_log_predictions_are_finite_and_right(no_dropout_log, model_class):
    """Every prediction is finite; with p = 0 they reduce to the NBD: E = (r+x)/(alpha+T) t, P(alive) = 1."""
    model, _ = _fit(model_class, no_dropout_log)
    data = no_dropout_log
    r, alpha = model.params_["r"], model.params_["alpha"]
    expected = model.expected_purchases(data, 39.0)
    alive = model.probability_alive(data)
    alive_later = model.probability_alive(data, 104.0)
    by_period = model.expected_purchases_by_period(data, [13.0, 26.0, 39.0])
    new = model.expected_purchases_new_customer(np.array([0.0, 1.0, 39.0, 1e4]))
    counts = model.probability_of_purchases(39.0, np.arange(400))
    for values in (expected, alive, alive_later, by_period, new, counts):
        assert np.all(np.isfinite(values))
    np.testing.assert_allclose(expected, (r + data["frequency"]) / (alpha + data["T"]) * 39.0, rtol=1e-6)
    np.testing.assert_allclose(by_period.sum(axis=1), expected, rtol=1e-9)
    assert np.all((alive > 1 - 1e-6) & (alive <= 1))
    assert np.all((alive_later > 1 - 1e-6) & (alive_later <= 1))
    np.testing.assert_allclose(new, r / alpha * np.array([0.0, 1.0, 39.0, 1e4]), rtol=1e-6)
    assert counts.sum() == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize(
    ("a", "b"),
    [(1e-13, 1.0), (1e-6, 1e12), (0.5, 1e13), (2.0, 1e13), (1e13, 1e13), (1e-13, 1e13)],
)
def test_mbgnbd_closed_forms_at_the_search_bounds(a, b):
    """At the engine's search bounds (exp(±30)) MBG/NBD predictions are finite and in range."""
    from cvm.models import mbgnbd

    x = np.array([0.0, 3.0, 30.0])
    t_x = np.array([0.0, 30.0, 38.0])
    T = np.full(3, 39.0)
    for t in (0.0, 1.0, 39.0, 1e4):
        e = mbgnbd.expected_purchases(0.5, 1.0, a, b, x, t_x, T, t)
        alive = mbgnbd.probability_alive_at(0.5, 1.0, a, b, x, t_x, T, t)
        assert np.all(np.isfinite(e)) and np.all(e >= 0)
        assert np.all((alive >= 0) & (alive <= 1))
    # p -> 0 limit (mean dropout ~ a/b tiny): NBD expectation
    if a / b < 1e-12:
        np.testing.assert_allclose(
            mbgnbd.expected_purchases(0.5, 1.0, a, b, x, t_x, T, 39.0), (0.5 + x) / 40.0 * 39.0, rtol=1e-6
        )


def test_mbgnbd_homogeneous_dropout_limit():
    """a, b -> inf with a/(a+b) = 1/2: every customer drops with p = 1/2, so E = 2 (1 - (A/(A+t/2))^r')."""
    from cvm.models import betageo

    r_post = np.array([0.5, 3.5, 30.5])
    for t in (1.0, 39.0, 1e4):
        got = betageo.expected_while_alive(r_post, np.full(3, 40.0), 1e13, 1e13 + np.array([1.0, 4.0, 31.0]), np.full(3, t))
        np.testing.assert_allclose(got, 2 * (1 - (40 / (40 + t / 2)) ** r_post), rtol=1e-6)


@pytest.mark.parametrize("model_class", [BetaGeoModel, ModifiedBetaGeoModel], ids=["bgnbd", "mbgnbd"])
def test_no_dropout_boundary_is_flagged_before_the_engine_threshold(model_class):
    """Seed 3 of a no-dropout log (r = 2, alpha = 10, p ~ Beta(0.001, 1e5)): BG/NBD stops at
    a ~ 3.4e-7, inside the engine's exp(-15), yet the mean dropout a/(a+b) is ~ 5e-11: the model's
    own rule (a/(a+b) < 1e-6) flags a and b, in report_, summary() and a BoundaryWarning."""
    data = BetaGeoModel.simulate(dict(r=2.0, alpha=10.0, a=1e-3, b=1e5), 2000, seed=3)
    model, categories = _fit(model_class, data)
    a, b = model.params_["a"], model.params_["b"]
    assert a / (a + b) < 1e-6
    assert set(model.report_.boundary) >= {"a", "b"}
    assert BoundaryWarning in categories
    assert {row.name for row in model.summary().rows if row.at_boundary} == set(model.report_.boundary)
    if model_class is BetaGeoModel:
        assert abs(np.log(a)) < 15  # a has no time power: the engine alone would not flag it


def test_no_boundary_flag_for_an_ordinary_fit():
    """The CDNOW-like fit is interior: the model's rule adds nothing."""
    data = BetaGeoModel.simulate(BetaGeoModel.example_params, 2000, seed=5)
    model, categories = _fit(BetaGeoModel, data)
    assert model.report_.boundary == []
    assert BoundaryWarning not in categories
    assert BetaGeoModel().boundary_parameters(BetaGeoModel.example_params) == []
