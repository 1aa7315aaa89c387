"""Gamma-Gamma: two routes to the same answer agree.

The fast path (terms in the frequency alone summed per distinct value, one ``log1p`` and
one reciprocal per row) against the per-customer functions; a fit by the fast path
against a fit by the plain per-row functions; the money scale does not depend on the
order of the rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from cvm.models import gamma_gamma
from cvm.models.gamma_gamma import GammaGammaModel

PARAMS = [
    {"p": 6.25, "q": 3.74, "gamma": 15.44},  # CDNOW
    {"p": 0.05, "q": 0.8, "gamma": 1e-3},  # tiny shapes, heavy tail (q < 1)
    {"p": 300.0, "q": 2e5, "gamma": 4e6},  # q and gamma large together (log_rising's Stirling branch)
]


def _spend(n: int, seed: int, huge_x: bool = False) -> dict[str, np.ndarray]:
    """Repeat customers only (``x >= 1``), spend drawn from the CDNOW fit."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(2.0, n).astype(float) + 1.0
    if huge_x:
        x[: n // 10] = rng.integers(1_000, 10**7, n // 10)
    sim = gamma_gamma.simulate(6.25, 3.74, 15.44, frequency=x, seed=seed + 1)
    return {"frequency": x, "monetary_value": sim["monetary_value"]}


def _plain(params, data):
    return dict(params, x=data["frequency"], m_x=data["monetary_value"])


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("huge_x", [False, True])
def test_prepared_functions_equal_the_per_row_ones(params, huge_x):
    """prepared_log_likelihood / prepared_gradient equal log_likelihood / log_likelihood_gradient (rtol 1e-12)."""
    data = _spend(3000, seed=5, huge_x=huge_x)
    prep = gamma_gamma.prepare(data)
    np.testing.assert_allclose(
        gamma_gamma.prepared_log_likelihood(params, prep), gamma_gamma.log_likelihood(**_plain(params, data)),
        rtol=1e-12,
    )
    fast = gamma_gamma.prepared_gradient(params, prep)
    plain = gamma_gamma.log_likelihood_gradient(**_plain(params, data))
    for name in ("p", "q", "gamma"):
        np.testing.assert_allclose(fast[name], plain[name], rtol=1e-12)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("huge_x", [False, True])
def test_prepared_totals_equal_weighted_sums(params, huge_x):
    """prepared_totals equals sum(w * per-row value) and sum(w * per-row gradient).

    The value to rtol 1e-12; each gradient total to 1e-12 of ``sum(w |g_i|)`` (a total
    near 0 is a difference of large sums, known only to that precision by either route).
    With frequencies up to 1e7 both routes sum terms far larger than the result: a
    customer's log-density is a difference of terms near ``p x log(p x)`` (1e9), and the
    fast ``p`` derivative writes ``x log1p(gamma / (x m_x))`` as
    ``x (log1p(x m_x / gamma) + log(gamma) - log(x) - log(m_x))``; there the totals are
    compared to 1e-12 of the sum of those terms' magnitudes, the rounding either route carries.
    """
    data = _spend(3000, seed=7, huge_x=huge_x)
    w = np.random.default_rng(8).integers(1, 50, 3000).astype(float)
    prep = gamma_gamma.prepare(data)
    value, grad = gamma_gamma.prepared_totals(params, prep, w)
    rows = gamma_gamma.log_likelihood(**_plain(params, data))
    plain = gamma_gamma.log_likelihood_gradient(**_plain(params, data))
    x, m_x = data["frequency"], data["monetary_value"]
    terms = np.zeros_like(x)
    if huge_x:
        log_ratio = np.log1p(x * m_x / params["gamma"])
        terms = np.abs(gammaln(params["p"] * x)) + x * (
            np.abs(log_ratio) + abs(np.log(params["gamma"])) + np.log(x) + np.abs(np.log(m_x))
        )
    assert value == pytest.approx(float(np.sum(w * rows)), rel=1e-12, abs=1e-12 * float(np.sum(w * terms)))
    for name in ("p", "q", "gamma"):
        magnitude = np.abs(plain[name]) + (terms if name == "p" else 0.0)
        tolerance = 1e-12 * float(np.sum(w * magnitude))
        assert grad[name] == pytest.approx(float(np.sum(w * plain[name])), abs=tolerance)


def test_prepared_totals_follow_a_change_of_weights():
    """The parameter-free sums are cached per weight array: a new array is not served stale sums."""
    data = _spend(500, seed=9)
    prep = gamma_gamma.prepare(data)
    params = PARAMS[0]
    rows = gamma_gamma.log_likelihood(**_plain(params, data))
    for w in (np.ones(500), np.arange(1.0, 501.0), np.ones(500)):
        value, _ = gamma_gamma.prepared_totals(params, prep, w)
        assert value == pytest.approx(float(np.sum(w * rows)), rel=1e-12)


@pytest.mark.parametrize("x", [
    np.array([3.0, 1.0, 3.0, 2.0]),  # whole numbers: the table of codes present
    np.array([3.5, 1.0, 3.5, 2.0]),  # not whole: np.unique
    np.array([1e12, 1.0, 1e12, 2.0]),  # too large for a table: np.unique
])
def test_frequency_levels_gather_back_to_the_rows(x):
    """prepare's distinct frequencies are sorted, and indexing them gives the rows back."""
    prep = gamma_gamma.prepare({"frequency": x, "monetary_value": np.ones_like(x)})
    np.testing.assert_array_equal(prep["x_levels"], np.unique(x))
    np.testing.assert_array_equal(prep["x_levels"][prep["x_index"]], x)


class _PlainGammaGamma(GammaGammaModel):
    """The same model fitted through the per-row functions (no fast path)."""

    name = ""
    prepare = None
    prepared_log_likelihood = None
    prepared_gradient = None
    prepared_totals = None


def test_fast_fit_equals_plain_fit():
    """A fit by the fast path equals a fit by the per-row functions (estimates, LL, standard errors)."""
    data = GammaGammaModel.simulate(GammaGammaModel.example_params, 20_000, seed=13)
    w = np.random.default_rng(14).integers(1, 4, 20_000).astype(float)
    for weights in (None, w):
        fast = GammaGammaModel().fit(data, weights)
        plain = _PlainGammaGamma().fit(data, weights)
        assert fast.converged_ and plain.converged_
        for name in ("p", "q", "gamma"):
            assert fast.params_[name] == pytest.approx(plain.params_[name], rel=1e-7)
            assert fast.standard_errors_[name] == pytest.approx(plain.standard_errors_[name], rel=1e-4)
        assert fast.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-12)


def test_fit_does_not_depend_on_the_order_of_the_rows():
    """Shuffled rows give the same fit to the last bit: the money scale is a power of two,
    the start is rounded, and the engine fits the same compressed rows."""
    data = GammaGammaModel.simulate(GammaGammaModel.example_params, 5000, seed=15)
    order = np.random.default_rng(16).permutation(5000)
    shuffled = {k: v[order] for k, v in data.items()}
    first, second = GammaGammaModel().fit(data), GammaGammaModel().fit(shuffled)
    assert first.params_ == second.params_
    assert first.log_likelihood_ == second.log_likelihood_
