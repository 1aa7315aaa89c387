"""The BG/NBD-family expectations agree with a brute-force integral over the dropout probability.

:func:`cvm.models.betageo.expected_while_alive` (``E[(1 - exp(-lambda p t))/p]``) and
:func:`~cvm.models.betageo.survival_while_alive` (``E[exp(-lambda p t)]``), with
``lambda ~ Gamma(r', A)`` integrated out exactly, are compared with a slow reference:
``scipy.integrate.quad`` over ``u = logit(p)`` of ``f(p)`` times the Beta density, the
log-density taken relative to its mode, on breakpoints spaced geometrically from the mode
out to where the log-density is below -80, normalised by the same integral of the density.
It shares no code with the implementation (no closed form, no fixed nodes, no shift to
``Beta(a + 1, b')``).

Tolerance: relative 1e-7, ten times the worst error measured over this grid (8e-9, from
the quadrature; the closed forms are used only where their cancelled bracket keeps at least
ten digits). The reference itself is good to about 1e-10 (quad asks 1e-12 of each piece;
its normaliser matches the beta function to 1e-15 where that can be evaluated). Survival
probabilities also get an absolute floor of 1e-15: below about 1e-10 (``a >= 1`` and
``r' t / A >= 1e7``) the probability lives in the far tail of the Beta density, beyond the
panels fitted to that density, and only its absolute value (measured below 1e-19) is
meaningful.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from cvm.models import betageo, bgnbd, mbgnbd

A_VALUES = [1e-3, 0.5, 1.0, 1 + 1e-8, 1 - 1e-8, 3.0, 1e6, 1e13]
B_VALUES = [1e-3, 0.7, 2.4, 1e4, 1e13]
R_VALUES = [1e-3, 0.25, 30.0, 1e5]
T_OVER_A = [1e-6, 0.5, 1.0, 100.0, 1e6]
A_RATE = 40.0  # the gamma rate A; only t/A matters
RTOL = 1e-7
SURVIVAL_ATOL = 1e-15


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


class BetaReference:
    """E[g(p)] for p ~ Beta(a, b) by adaptive quadrature in u = logit(p) (slow, plain Python)."""

    def __init__(self, a: float, b: float):
        self.a, self.b = a, b
        self.mode = math.log(a) - math.log(b)  # mode of the density p^a (1-p)^b in u
        sd = math.sqrt(1 / a + 1 / b)
        edges = [0.0]
        for side in (-1.0, 1.0):
            step, x, points = sd / 8, 0.0, []
            while True:
                x += step
                points.append(side * x)
                if self.log_density(side * x) < -80:
                    break
                step *= 1.6
            edges = points[::-1] + edges if side < 0 else edges + points
        self.edges = edges
        self.mass = self._integral(lambda p: 1.0)

    def log_density(self, d: float) -> float:
        """log of p^a (1-p)^b relative to its mode, at u = mode + d."""
        u = self.mode + d
        one_minus_p = 1 / (1 + math.exp(u)) if u < 700 else math.exp(-u)
        p = 1 / (1 + math.exp(-u)) if u > -700 else math.exp(u)
        up = one_minus_p * math.expm1(d) if d < 700 else math.inf  # p/p* - 1
        down = p * math.expm1(-d) if d > -700 else math.inf  # (1-p)/(1-p*) - 1
        log_up = math.log1p(up) if abs(up) < 0.5 else _softplus(-self.mode) - _softplus(-u)
        log_down = math.log1p(down) if abs(down) < 0.5 else _softplus(self.mode) - _softplus(u)
        return self.a * log_up + self.b * log_down

    def _integral(self, g) -> float:
        def integrand(d):
            log_w = self.log_density(d)
            if log_w < -745:
                return 0.0
            u = self.mode + d
            p = 1 / (1 + math.exp(-u)) if u > -700 else math.exp(u)
            return math.exp(log_w) * g(p)

        return sum(
            integrate.quad(integrand, lo, hi, epsabs=0.0, epsrel=1e-12, limit=200)[0]
            for lo, hi in zip(self.edges[:-1], self.edges[1:], strict=False)
        )

    def mean(self, g) -> float:
        return self._integral(g) / self.mass


def reference(a: float, b: float, r: float, y: float) -> tuple[float, float]:
    """(expected while alive, survival) for lambda ~ Gamma(r, A), p ~ Beta(a, b), t = y A."""
    beta = BetaReference(a, b)

    def f(p):
        q = p * y
        if (r + 3) * q < 1e-6:  # series: the direct form loses digits for tiny q
            return r * y * (1 - (r + 1) * q / 2 + (r + 1) * (r + 2) * q * q / 6)
        return -math.expm1(-r * math.log1p(q)) / p

    return beta.mean(f), beta.mean(lambda p: math.exp(-r * math.log1p(p * y)))


def _reference_rows(rows):
    return np.array([reference(a, b, r, y) for a, b, r, y in rows]).T


def _assert_close(rows, expected, survival, ref_expected, ref_survival):
    rows = np.asarray(rows)
    for name, got, want, atol in (
        ("expected_while_alive", expected, ref_expected, 0.0),
        ("survival_while_alive", survival, ref_survival, SURVIVAL_ATOL),
    ):
        bad = ~(np.abs(got - want) <= RTOL * np.abs(want) + atol)
        assert not bad.any(), (
            f"{name}: {bad.sum()} rows off, e.g. (a, b', r', t/A) = {rows[bad][0].tolist()}: "
            f"{got[bad][0]!r} vs reference {want[bad][0]!r}"
        )


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("a", A_VALUES, ids=[repr(a) for a in A_VALUES])
def test_grid_against_brute_force(a):
    """Every (b', r', t/A) of the grid at this a, within 1e-7 (survival: + 1e-15 absolute)."""
    rows = list(itertools.product([a], B_VALUES, R_VALUES, T_OVER_A))
    _, b, r, y = np.array(rows).T
    ref_expected, ref_survival = _reference_rows(rows)
    expected = betageo.expected_while_alive(r, A_RATE, a, b, y * A_RATE)
    survival = betageo.survival_while_alive(r, A_RATE, a, b, y * A_RATE)
    _assert_close(rows, expected, survival, ref_expected, ref_survival)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_per_row_a_against_brute_force():
    """One call with a different (a, b') on every row, as with covariates, shuffled."""
    rng = np.random.default_rng(11)
    rows = list(itertools.product(A_VALUES, B_VALUES, [0.25, 30.0], [0.5, 100.0]))
    rows = [rows[i] for i in rng.permutation(len(rows))]
    a, b, r, y = np.array(rows).T
    ref_expected, ref_survival = _reference_rows(rows)
    expected = betageo.expected_while_alive(r, A_RATE, a, b, y * A_RATE)
    survival = betageo.survival_while_alive(r, A_RATE, a, b, y * A_RATE)
    _assert_close(rows, expected, survival, ref_expected, ref_survival)


def test_per_row_a_equals_one_call_per_row():
    """Grouping rows by (a, b') across quadrature blocks gives each row its own answer."""
    rng = np.random.default_rng(5)
    n = 20_000  # more than one quadrature block
    a = rng.choice([1e-3, 0.3, 2.0, 1e6], n) * np.exp(rng.choice([0.0, 0.5], n))
    b = rng.choice([0.7, 1e4, 1e13], n)
    r = rng.choice([0.25, 3.0], n)
    t = rng.choice([1.0, 39.0], n)
    expected = betageo.expected_while_alive(r, A_RATE, a, b, t)
    survival = betageo.survival_while_alive(r, A_RATE, a, b, t)
    for i in rng.choice(n, 40, replace=False):
        assert expected[i] == pytest.approx(float(betageo.expected_while_alive(r[i], A_RATE, a[i], b[i], t[i])), rel=1e-12)
        assert survival[i] == pytest.approx(float(betageo.survival_while_alive(r[i], A_RATE, a[i], b[i], t[i])), rel=1e-12)


def test_zero_horizon_and_the_no_dropout_limit():
    """t = 0 gives 0 and 1; p -> 0 (a/b' tiny) gives the NBD: r' t / A and survival 1."""
    assert betageo.expected_while_alive(0.5, A_RATE, 0.8, 2.0, 0.0) == 0.0
    assert betageo.survival_while_alive(0.5, A_RATE, 0.8, 2.0, 0.0) == 1.0
    t = np.array([1.0, 39.0, 1e4])
    np.testing.assert_allclose(betageo.expected_while_alive(0.5, A_RATE, 0.5, 1e13, t), 0.5 * t / A_RATE, rtol=1e-9)
    np.testing.assert_allclose(betageo.survival_while_alive(0.5, A_RATE, 0.5, 1e13, t), 1.0, rtol=1e-9)


def test_colleague_cases():
    """The review's cases: a = 0.5, b' = 1e13 gives the NBD 0.4875; a = b' = 1e13 (p = 1/2)
    gives 2 (1 - (A/(A + t/2))^r'); BG/NBD P(alive later) is finite there."""
    assert float(betageo.expected_while_alive(0.5, 40.0, 0.5, 1e13, 39.0)) == pytest.approx(0.4875, rel=1e-9)
    want = 2 * (1 - (40.0 / (40.0 + 19.5)) ** 0.5)
    assert float(betageo.expected_while_alive(0.5, 40.0, 1e13, 1e13, 39.0)) == pytest.approx(want, rel=1e-9)
    alive = bgnbd.probability_alive_at(0.5, 1.0, 1e13, 1e13, 3.0, 30.0, 39.0, np.array([0.0, 10.0, 1e4]))
    assert np.all(np.isfinite(alive)) and np.all(np.diff(alive) < 0)


def test_models_use_the_posterior_beta():
    """BG/NBD conditions on Beta(a, b + x), MBG/NBD on Beta(a, b + x + 1)."""
    r, alpha, a, b, x, t_x, T, t = 0.5, 6.0, 0.9, 1.6, 3.0, 30.0, 39.0, 20.0
    np.testing.assert_allclose(
        bgnbd.expected_purchases(r, alpha, a, b, x, t_x, T, t),
        bgnbd.probability_alive(r, alpha, a, b, x, t_x, T) * betageo.expected_while_alive(r + x, alpha + T, a, b + x, t),
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        mbgnbd.probability_alive_at(r, alpha, a, b, x, t_x, T, t),
        mbgnbd.probability_alive(r, alpha, a, b, x, t_x, T)
        * betageo.survival_while_alive(r + x, alpha + T, a, b + x + 1, t),
        rtol=1e-14,
    )


def test_bgnbd_with_covariates_matches_per_customer_calls():
    """Per-customer a_i, b_i (dropout covariates) give what separate scalar calls give."""
    model = bgnbd.BetaGeoModel.from_params(
        {**bgnbd.BetaGeoModel.example_params, "dropout.z": 1.5}, dropout_covariates=["z"]
    )
    data = bgnbd.simulate(**bgnbd.BetaGeoModel.example_params, T=[39.0] * 30, seed=2)
    data["z"] = np.linspace(-8.0, 8.0, 30)  # a_i from 5e-6 to 1.3e5
    got = model.expected_purchases(data, 39.0)
    alive = model.probability_alive(data, 10.0)
    p = bgnbd.BetaGeoModel.example_params
    for i in range(30):
        scale = math.exp(1.5 * data["z"][i])
        row = (p["r"], p["alpha"], p["a"] * scale, p["b"] * scale, data["frequency"][i], data["recency"][i], 39.0)
        assert got[i] == pytest.approx(float(bgnbd.expected_purchases(*row, 39.0)), rel=1e-12)
        assert alive[i] == pytest.approx(float(bgnbd.probability_alive_at(*row, 10.0)), rel=1e-12)
