"""Pareto/NBD: two routes to the same answer agree.

The fast path (per distinct ``(x, T)`` and ``(x, t_x)``) against the per-customer functions;
the analytic gradient against central differences; the tail integral and its derivatives
(``2F1`` closed form, or the trapezoid on a log grid near ``z = 1``) against adaptive
quadrature of the integral itself (scipy.integrate.quad, no closed form involved); a fit by
the fast path against a fit by the plain per-row functions.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate

from cvm.models import bgnbd, pareto_nbd
from cvm.models.engine import estimate
from cvm.models.pareto_nbd import ParetoNBDModel

PARAMS = {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}
BOUNDARY = {"r": 0.5, "alpha": 8.0, "s": 0.3, "beta": 1e5}  # z > 0.95 on every row: the trapezoid


def _daily_log(n: int, seed: int, boundary: bool = False) -> dict[str, np.ndarray]:
    """Weekly summaries of a two-year daily log: T and recency in whole days / 7."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 731, n) / 7.0
    if boundary:  # nobody drops out: BG/NBD with a tiny a and a huge b
        sim = bgnbd.simulate(0.55, 10.6, 1e-4, 1e4, T=T, seed=seed + 1)
    else:
        sim = pareto_nbd.simulate(**PARAMS, T=T, seed=seed + 1)
    t_x = np.minimum(np.floor(sim["recency"] * 7.0) / 7.0, T)
    return {"frequency": sim["frequency"], "recency": t_x, "T": T}


def _plain(params, data):
    return dict(params, x=data["frequency"], t_x=data["recency"], T=data["T"])


@pytest.mark.parametrize(("params", "boundary"), [(PARAMS, False), (BOUNDARY, True)])
def test_prepared_path_equals_the_plain_functions(params, boundary):
    """Same per-pair arithmetic gathered: equal to 1e-13 (closed form and trapezoid rows alike)."""
    data = _daily_log(3000, seed=5, boundary=boundary)
    prep = pareto_nbd.prepare(data)
    assert prep["alive_x"].size < 3000 and prep["died_x"].size < 3000
    ll = pareto_nbd.log_likelihood(**_plain(params, data))
    np.testing.assert_allclose(pareto_nbd.prepared_log_likelihood(params, prep), ll, rtol=1e-13)
    grad = pareto_nbd.log_likelihood_gradient(**_plain(params, data))
    prepared = pareto_nbd.prepared_gradient(params, prep)
    for name in params:
        np.testing.assert_allclose(prepared[name], grad[name], rtol=1e-12, atol=1e-300)
    w = np.random.default_rng(1).uniform(0.5, 3.0, ll.size)
    total, totals = pareto_nbd.prepared_totals(params, prep, w)
    assert total == pytest.approx(float(w @ ll), rel=1e-12)
    for name in params:
        assert totals[name] == pytest.approx(float(w @ grad[name]), rel=1e-10, abs=1e-9)


@pytest.mark.parametrize(
    "params",
    [
        PARAMS,
        BOUNDARY,
        {"r": 3.0, "alpha": 0.05, "s": 2.0, "beta": 0.02},
        {"r": 20.0, "alpha": 1e4, "s": 2.0, "beta": 0.3},
    ],
)
def test_analytic_gradient_matches_central_differences(params):
    """Per customer, relative 1e-6 (the closed form's r, s derivatives are themselves differences of
    log 2F1 in its parameters, measured to about 1e-7; the trapezoid's are sums on its nodes)."""
    data = _daily_log(400, seed=11, boundary=params is BOUNDARY)
    grad = pareto_nbd.log_likelihood_gradient(**_plain(params, data))
    h = 1e-5
    for name, value in params.items():
        up = pareto_nbd.log_likelihood(**_plain(dict(params, **{name: value * math.exp(h)}), data))
        down = pareto_nbd.log_likelihood(**_plain(dict(params, **{name: value * math.exp(-h)}), data))
        numeric = (up - down) / (2 * h * value)
        scale = np.maximum(np.abs(numeric), 1e-2 / value)
        assert np.max(np.abs(grad[name] - numeric) / scale) < 1e-6, name


def _log_u(u: float, scale: float) -> float:
    """log1p(e^u / scale) without overflow."""
    shift = math.log(scale)
    return u - shift + math.log1p(math.exp(shift - u)) if u > shift else math.log1p(math.exp(u - shift))


def _tail_by_quad(p, q, A, B):
    """log R, d log R/dp, d log R/dq, -p E[1/(A+v)], -q E[1/(B+v)] by adaptive quadrature in u = log v.

    Up to ``max(A, B) e^5`` directly; beyond, with ``s = exp(-(p+q-1)(u - u_c))`` on (0, 1]."""
    a = p + q - 1
    lo, hi = math.log(min(A, B)) - math.log(p + q), math.log(max(A, B))

    def phi(u):
        return u - p * _log_u(u, A) - q * _log_u(u, B)

    peak = max(phi(float(u)) for u in np.linspace(lo - 45, hi + 10, 2000))
    points = sorted({lo, hi, math.log(A), math.log(B)})
    cut = hi + 5

    def integral(g):
        def f(u):
            return math.exp(phi(u) - peak) * g(u)

        body = integrate.quad(f, lo - 45, cut, points=points, epsabs=0, epsrel=1e-13, limit=2000)[0]
        tail = integrate.quad(lambda s: f(cut - math.log(s) / a) / (a * s), 0.0, 1.0, epsabs=0, epsrel=1e-13,
                              limit=2000)[0]
        return body + tail

    total = integral(lambda u: 1.0)
    return np.array([
        peak + math.log(total),
        -integral(lambda u: _log_u(u, A)) / total,
        -integral(lambda u: _log_u(u, B)) / total,
        -p * integral(lambda u: 1.0 / (A + math.exp(min(u, 700.0)))) / total,
        -q * integral(lambda u: 1.0 / (B + math.exp(min(u, 700.0)))) / total,
    ])


EXTREME = [
    # (p, q, alpha, beta, y): z = |alpha - beta| / (max + y) from 0 to 1 - 1e-9
    (1.55, 0.61, 10.6, 11.7, 30.0),
    (0.6, 1.61, 10.6, 11.7, 0.0),
    (27.0, 0.61, 10.6, 11.7, 104.0),
    (1.5, 1e-3, 10.0, 1e6, 0.0),  # the no-dropout boundary: beta >> alpha
    (0.55, 1.0001, 8.0, 1e9, 3.0),
    (101.5, 1e-4, 8.0, 1e7, 50.0),
    (0.51, 0.5, 1e-2, 1e6, 0.0),  # p + q - 1 = 0.01: a long algebraic tail
    (2000.0, 1e-3, 1e-2, 1e6, 0.0),
    (2000.0, 1e-3, 1e6, 1e-2, 0.0),
    (1.0001, 2.0, 1e5, 0.5, 1.0),  # c - 1 - b near an integer
    (3.0, 2.0, 1e4, 2.0, 0.0),
    (0.3, 40.0, 1.0, 1e8, 0.5),
    (1e4, 0.6, 5.0, 6.0, 1e3),
]


@pytest.mark.parametrize("case", EXTREME)
def test_tail_integral_and_derivatives_match_quadrature(case):
    """Value within 1e-11 (log scale); derivatives within relative 1e-6 (closed form) or 1e-9 (trapezoid)."""
    p, q, alpha, beta, y = case
    got = pareto_nbd._tail(p, q, alpha, beta, y, gradient=True)
    expected = _tail_by_quad(p, q, alpha + y, beta + y)
    assert abs(got[0] - expected[0]) < 1e-11 * max(1.0, abs(expected[0]))
    z = abs(alpha - beta) / (max(alpha, beta) + y)
    rel = 1e-9 if z > pareto_nbd.CLOSED_FORM_MAX_Z else 1e-6
    np.testing.assert_allclose(got[1:], expected[1:], rtol=rel, atol=1e-300)


def test_trapezoid_agrees_with_the_closed_form_where_both_apply():
    """Where hyp2f1 is trusted (z <= 0.95) the trapezoid gives the same value to 1e-13."""
    rng = np.random.default_rng(3)
    p, q = 10 ** rng.uniform(-1, 3, 200), 10 ** rng.uniform(-2, 1.5, 200)
    p = np.where(p + q < 1.05, p + 1.0, p)
    alpha, beta, y = 10 ** rng.uniform(-1, 3, 200), 10 ** rng.uniform(-1, 3, 200), rng.uniform(0, 100, 200)
    z = np.abs(alpha - beta) / (np.maximum(alpha, beta) + y)
    closed = pareto_nbd._tail(p, q, alpha, beta, y, gradient=True)
    summed = pareto_nbd._tail_trapezoid(p, q, alpha + y, beta + y, gradient=True)
    keep = z <= pareto_nbd.CLOSED_FORM_MAX_Z
    assert keep.sum() > 100
    scale = np.abs(closed[0, keep]).max()
    np.testing.assert_allclose(summed[0, keep], closed[0, keep], rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(summed[1:, keep], closed[1:, keep], rtol=1e-6, atol=1e-12)


def test_fast_path_fit_equals_the_plain_per_row_fit():
    """The model's fit (fast path) and the engine on the plain functions find the same optimum."""
    data = _daily_log(4000, seed=2)
    model = ParetoNBDModel().fit(data)
    plain = estimate(
        ParetoNBDModel.log_likelihood,
        ParetoNBDModel.parameters,
        data,
        gradient=ParetoNBDModel.gradient,
        time_columns=ParetoNBDModel.time_columns,
        start=model.default_start(data),
    )
    assert model.log_likelihood_ == pytest.approx(plain.log_likelihood, rel=1e-12)
    for name, value in plain.params.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-5)


def test_no_dropout_log_fits_near_the_boundary():
    """A log where nobody drops out (BG/NBD with a tiny a, a huge b): the fit converges with the
    purchase process recovered and a mean dropout rate far below the purchase rate. (On this
    sample the optimum is interior, s = 0.0016, beta = 21: its log-likelihood beats the
    boundary's, so it is not flagged.)"""
    data = _daily_log(5000, seed=9, boundary=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ParetoNBDModel().fit(data)
    p = model.params_
    assert model.converged_ and np.isfinite(model.log_likelihood_)
    assert p["r"] == pytest.approx(0.55, rel=0.1) and p["alpha"] == pytest.approx(10.6, rel=0.1)
    assert p["s"] / p["beta"] < 1e-2 * p["r"] / p["alpha"]
    boundary = dict(p, s=1e-7, beta=3e4)
    assert model.log_likelihood_ >= float(np.sum(pareto_nbd.log_likelihood(**_plain(boundary, data))))
