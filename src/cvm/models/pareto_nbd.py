"""Pareto/NBD: Poisson purchases with exponential lifetimes (Schmittlein, Morrison & Colombo 1987).

While alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
their lifetime is exponential with rate ``mu ~ Gamma(s, beta)``, independent of
``lambda``. The data per customer is the BTYD summary ``(x, t_x, T)`` = (``frequency``,
``recency``, ``T``).

The likelihood is written as a sum of two *positive* terms,

``L = Gamma(r+x)/Gamma(r) alpha^r beta^s [(r+x) J(T) + s F(t_x)]``, where
``J(y) = int_y^inf (alpha+u)^-(r+x+1) (beta+u)^-s du`` and
``F(y) = int_y^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du``

(integrate ``lambda^x e^-(lambda+mu)T + lambda^x mu int_{t_x}^T e^-(lambda+mu)y dy`` over the
two gamma mixing distributions, and write ``(alpha+T)^-(r+x) (beta+T)^-s`` itself as a tail
integral). This is Fader & Hardie's hypergeometric form (their note on the Pareto/NBD
likelihood) with the difference of the two 2F1 terms turned into a sum, so the log-likelihood
is a log-sum-exp of two finite numbers and never cancels, including ``t_x = T``.

Each tail integral is the integrand at ``y`` times ``(min(alpha,beta)+y)/(r+s+x) *
2F1(1, b; r+s+x+1; z)`` with ``z = |alpha-beta| / (max(alpha,beta)+y)`` in ``[0, 1)``
(the ``alpha >= beta`` and ``alpha < beta`` branches of Fader & Hardie, after an Euler
transform). So the large power ``(max(alpha,beta)+y)^(r+s+x)`` is factored out analytically,
``2F1`` has first argument 1, a series of positive terms that is 1 exactly at
``alpha = beta``, and lies between 1 and ``c-1 / (c-1-b)``. Rows where
:func:`scipy.special.hyp2f1` is not finite or breaks those bounds are integrated numerically.

Fitted to the CDNOW sample (FHL 2005): r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669. At the
maximum-likelihood point used by the BTYD vignette, its printed predictions come out (see
``tests/models/test_correctness_pnbd.py``):

>>> params = dict(r=0.5533710, alpha=10.5795191, s=0.6059069, beta=11.6580918)
>>> round(float(expected_purchases_new_customer(**params, t=52)), 4)
1.4734
>>> round(float(probability_alive(**params, x=26, t_x=30.85714, T=31)), 4)
0.9979
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from scipy import integrate
from scipy.special import expit, gammaln, hyp2f1, hyperu, logsumexp, roots_laguerre

from cvm.errors import ConfigError
from cvm.models.base import CustomerModel, check_frequency_recency_T, chunked, require
from cvm.models.betageo import NO_DROPOUT
from cvm.models.engine import Parameter
from cvm.models.special import log_rising

__all__ = [
    "ParetoNBDModel",
    "log_likelihood",
    "log_likelihood_gradient",
    "probability_alive",
    "probability_alive_at",
    "expected_purchases",
    "expected_purchases_new_customer",
    "probability_of_purchases",
    "discounted_expected_residual_transactions",
    "simulate",
]

GRADIENT_STEP = 1e-5
"""Relative step of the central differences in :func:`log_likelihood_gradient`."""


# -- the tail integral ------------------------------------------------------------------------
def _log_tail_ratio(p, q, alpha, beta, y):
    """log of ``int_0^inf (1 + v/(alpha+y))^-p (1 + v/(beta+y))^-q dv`` for ``p + q > 1``.

    Closed form ``(m + y) / (p+q-1) * 2F1(1, b; p+q; z)`` with ``m = min(alpha, beta)``,
    ``z = |alpha - beta| / (max(alpha, beta) + y)`` and ``b = p`` when ``alpha >= beta``,
    ``b = q`` otherwise. Rows where ``hyp2f1`` is not trustworthy are integrated.

    >>> float(np.exp(_log_tail_ratio(2.0, 1.0, 3.0, 3.0, 1.0)))   # (3+1)/2
    2.0
    """
    p, q, y = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (p, q, y)))
    alpha_ge = alpha >= beta
    a = p + q - 1
    b = np.where(alpha_ge, p, q)
    c = a + 1
    big = np.maximum(alpha, beta) + y
    small = np.minimum(alpha, beta) + y
    z = np.abs(alpha - beta) / big
    with np.errstate(all="ignore"):
        g = hyp2f1(1.0, b, c, z)
        upper = np.where(c - 1 - b > 0, (c - 1) / (c - 1 - b), np.inf)
        # near z = 1, scipy's hyp2f1 loses accuracy when c - 1 - b is (close to) an integer
        bad = ~np.isfinite(g) | (g < 1 - 1e-12) | (g > upper * (1 + 1e-10)) | ~np.isfinite(small) | (z > 0.95)
        value = np.log(small) - np.log(a) + np.log(g)
    if np.any(bad):
        value = np.array(value, dtype=float, copy=True)
        A = np.broadcast_to(alpha + y, p.shape)
        B = np.broadcast_to(beta + y, p.shape)
        value[bad] = _log_tail_ratio_trapezoid(p[bad], q[bad], A[bad], B[bad])
    return value


def _log_tail_ratio_trapezoid(p, q, A, B, nodes: int = 1200):
    """The integral of :func:`_log_tail_ratio` by the trapezoidal rule in ``u = log v`` (vectorised).

    The integrand is analytic in a strip of half-width pi around the real ``u`` axis, so the
    trapezoidal rule with step below 0.1 is accurate to rounding; the range and the closed-form
    tail are those of :func:`_log_tail_ratio_quad`.
    """
    p, q, A, B = (np.asarray(v, dtype=float)[:, None] for v in (p, q, A, B))
    a = p + q - 1
    lo, hi = np.log(np.minimum(A, B)), np.log(np.maximum(A, B))
    u_end = hi + 20.0
    step = (u_end - (lo - 40.0)) / nodes
    u = lo - 40.0 + step * np.arange(nodes + 1)[None, :]
    v = np.exp(u)
    log_f = u - p * np.log1p(v / A) - q * np.log1p(v / B)
    log_w = np.log(step) + np.where((np.arange(nodes + 1) == 0) | (np.arange(nodes + 1) == nodes), -np.log(2.0), 0.0)
    body = logsumexp(log_f + log_w, axis=1)
    log_tail = (
        p * np.log(A) + q * np.log(B) - a * u_end - np.log(a)
        + np.log1p(-(p * A + q * B) * np.exp(-u_end) * a / (a + 1))
    )[:, 0]
    return np.logaddexp(body, log_tail)


def _log_tail_ratio_quad(p: float, q: float, A: float, B: float) -> float:
    """The integral of :func:`_log_tail_ratio` by adaptive quadrature (one row).

    With ``v = e^u`` the integrand ``exp(u - p log1p(e^u/A) - q log1p(e^u/B))`` rises like
    ``e^u`` below ``min(A, B)`` and falls like ``e^(-(p+q-1) u)`` above ``max(A, B)``; it is
    integrated from ``min(A,B) e^-40`` to ``V = max(A,B) e^20``, and the rest in closed form
    (``A^p B^q V^-a / a`` to first order in ``(A+B)/V``).
    """
    a = p + q - 1
    lo, hi = math.log(min(A, B)), math.log(max(A, B))

    def log_f(u: float) -> float:
        v = math.exp(u)
        return u - p * math.log1p(v / A) - q * math.log1p(v / B)

    u_end = hi + 20.0
    grid = np.linspace(lo - 40.0, u_end, 400)
    peak = max(log_f(float(u)) for u in grid)
    points = sorted({lo, hi, 0.5 * (lo + hi)})
    body, _ = integrate.quad(
        lambda u: math.exp(log_f(u) - peak), lo - 40.0, u_end, points=points, epsabs=0.0, epsrel=1e-12, limit=500
    )
    log_v = u_end
    log_tail = (
        p * math.log(A) + q * math.log(B) - a * log_v - math.log(a)
        + math.log1p(-(p * A + q * B) * math.exp(-log_v) * a / (a + 1))
    )
    return float(np.logaddexp(peak + math.log(body), log_tail))


def _log_terms(r, alpha, s, beta, x, t_x, T):
    """log of the 'alive at T' and 'died in (t_x, T]' parts, and of base(T), without the common factor."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # r log alpha + s log beta - (r+x) log(alpha+y) - s log(beta+y), in log1p form
        def log_base(y):
            return -r * np.log1p(y / alpha) - x * np.log(alpha + y) - s * np.log1p(y / beta)

        base_T = log_base(T)
        log_j = base_T - np.log(alpha + T) + _log_tail_ratio(r + x + 1, s, alpha, beta, T)
        log_f_tx = log_base(t_x) - np.log(beta + t_x) + _log_tail_ratio(r + x, s + 1, alpha, beta, t_x)
    return np.log(r + x) + log_j, np.log(s) + log_f_tx, base_T


def log_likelihood(r, alpha, s, beta, x, t_x, T):
    """Log-likelihood of each customer (SMC 1987; FHL 2005), as a log-sum-exp of positive terms.

    >>> ll = log_likelihood(0.55315, 10.57633, 0.60625, 11.6715, x=[0, 2, 26], t_x=[0, 30.43, 30.86], T=[38.86] * 3)
    >>> [round(v, 6) for v in ll.tolist()]
    [-0.521162, -9.554361, -42.550978]
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_alive, log_died, _ = _log_terms(r, alpha, s, beta, x, t_x, T)
    return log_rising(r, x) + np.logaddexp(log_alive, log_died)


def log_likelihood_gradient(r, alpha, s, beta, x, t_x, T) -> dict[str, np.ndarray]:
    """Per-customer derivatives of :func:`log_likelihood` with respect to r, alpha, s, beta.

    Central differences on the log scale of each parameter (step :data:`GRADIENT_STEP`): the
    derivatives of ``2F1`` with respect to its parameters have no closed form.

    >>> g = log_likelihood_gradient(0.5, 10.0, 0.6, 11.0, x=[0], t_x=[0], T=[39])
    >>> sorted(g)
    ['alpha', 'beta', 'r', 's']
    """
    values = {"r": r, "alpha": alpha, "s": s, "beta": beta}
    h = GRADIENT_STEP
    out = {}
    for name, value in values.items():
        up = dict(values, **{name: value * math.exp(h)})
        down = dict(values, **{name: value * math.exp(-h)})
        diff = log_likelihood(**up, x=x, t_x=t_x, T=T) - log_likelihood(**down, x=x, t_x=t_x, T=T)
        out[name] = diff / (2 * h * value)
    return out


# -- P(alive) -------------------------------------------------------------------------------
def _log_death_odds(r, alpha, s, beta, x, t_x, T):
    """log of P(died in (t_x, T] and data) / P(alive at T and data)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        def log_f(y):
            return (
                -r * np.log1p(y / alpha) - x * np.log(alpha + y) - s * np.log1p(y / beta) - np.log(beta + y)
                + _log_tail_ratio(r + x, s + 1, alpha, beta, y)
            )

        f_tx, f_T = log_f(t_x), log_f(T)
        base_T = -r * np.log1p(T / alpha) - x * np.log(alpha + T) - s * np.log1p(T / beta)
        # s (F(t_x) - F(T)) / base(T); F decreases, so the difference is >= 0
        gap = np.where(t_x < T, np.minimum(f_T - f_tx, 0.0), 0.0)
        return np.log(s) + f_tx + np.log(-np.expm1(gap)) - base_T


def probability_alive(r, alpha, s, beta, x, t_x, T):
    """P(alive at T | x, t_x, T) (SMC 1987, eq. 11; FHL 2005).

    >>> round(float(probability_alive(0.5533710, 10.5795191, 0.6059069, 11.6580918, 26, 30.85714, 31)), 6)
    0.997874
    >>> float(probability_alive(0.5, 10.0, 0.6, 11.0, x=3, t_x=20, T=20))   # bought just now
    1.0
    """
    return expit(-_log_death_odds(r, alpha, s, beta, x, t_x, T))


def probability_alive_at(r, alpha, s, beta, x, t_x, T, t):
    """P(alive at T + t | x, t_x, T) = P(alive at T) * ((beta+T)/(beta+T+t))^s.

    Given alive at T, the posterior of the dropout rate is ``mu ~ Gamma(s, beta + T)``
    (the likelihood of an alive customer is ``lambda^x e^-(lambda+mu) T``), independent of
    ``lambda``; surviving ``t`` more has probability ``E[e^-mu t]``.

    >>> round(float(probability_alive_at(0.5, 10.0, 0.6, 11.0, x=3, t_x=20, T=20, t=11)), 6)
    0.833427
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    survive = np.exp(-s * np.log1p(t / (beta + T)))
    return probability_alive(r, alpha, s, beta, x, t_x, T) * survive


# -- expectations ---------------------------------------------------------------------------
def _lifetime_integral(s, B, t):
    """``E[(1 - e^-mu t) / mu]`` for ``mu ~ Gamma(s, B)``: expected alive time in the next ``t``.

    ``= B * (1 - (B/(B+t))^(s-1)) / (s-1)``, and ``B log(1 + t/B)`` at ``s = 1``.
    """
    k = np.log1p(np.asarray(t, dtype=float) / B)
    u = s - 1.0
    with np.errstate(all="ignore"):
        value = np.where(u == 0, k, -np.expm1(-u * k) / np.where(u == 0, 1.0, u))
    return B * value


def expected_purchases(r, alpha, s, beta, x, t_x, T, t):
    """Expected purchases in (T, T + t] given the history (SMC 1987; FHL 2005 eq. 22).

    ``P(alive) * (r+x)/(alpha+T) * (beta+T)/(s-1) * [1 - ((beta+T)/(beta+T+t))^(s-1)]``.

    >>> round(float(expected_purchases(0.5533710, 10.5795191, 0.6059069, 11.6580918, 26, 30.85714, 31, 52)), 4)
    25.4565
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    alive = probability_alive(r, alpha, s, beta, x, t_x, T)
    return alive * (r + x) / (alpha + T) * _lifetime_integral(s, beta + T, t)


def expected_purchases_new_customer(r, alpha, s, beta, t):
    """E[X(t)]: expected purchases in the first ``t`` of a new customer (SMC 1987, eq. 17).

    >>> [round(v, 6) for v in expected_purchases_new_customer(0.5533710, 10.5795191, 0.6059069, 11.6580918, t=np.array([0.0, 52.0])).tolist()]
    [0.0, 1.473434]
    """
    return r / alpha * _lifetime_integral(s, beta, np.asarray(t, dtype=float))


def _log_k(s, z):
    """log of ``int_0^inf e^(-z w) (1+w)^-s dw = U(1, 2-s, z)`` (Tricomi's confluent function), z > 0.

    :func:`scipy.special.hyperu` where it is accurate (moderate ``z`` and ``s``); elsewhere
    Gauss–Laguerre after scaling ``w`` by ``1/(z+s)``, the integrand's initial decay length.

    >>> round(float(np.exp(_log_k(1.0, 1.0))), 6)   # e E_1(1)
    0.596347
    """
    s_b, z = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(z, dtype=float))
    moderate = (z <= 20) & (s_b <= 20)  # hyperu is slow and inaccurate outside
    with np.errstate(all="ignore"):
        k = np.where(moderate, hyperu(1.0, 2.0 - np.where(moderate, s_b, 1.0), np.where(moderate, z, 1.0)), np.nan)
        bad = ~np.isfinite(k) | (k <= 0) | (k > 1.0 / z * (1 + 1e-12))
        value = np.log(k)
    if np.any(bad):
        nodes, weights = roots_laguerre(128)
        zb, sb = z[bad][:, None], s_b[bad][:, None]
        scale = 1.0 / (zb + sb)
        u = nodes[None, :]
        # K = scale * int_0^inf e^-u * exp(u - z scale u - s log1p(scale u)) du
        log_f = u * sb * scale - sb * np.log1p(scale * u)
        value = np.array(value, dtype=float, copy=True)
        value[bad] = np.log(scale[:, 0]) + np.log(np.exp(log_f) @ weights)
    return value


def discounted_expected_residual_transactions(r, alpha, s, beta, x, t_x, T, delta):
    """DERT: expected purchases after T, discounted continuously at rate ``delta`` per time unit.

    Fader, Hardie & Lee (2005, "RFM and CLV", eq. 2):
    ``alpha^r beta^s delta^(s-1) Gamma(r+x+1) U(s, s; delta(beta+T)) / (Gamma(r) (alpha+T)^(r+x+1) L)``,
    computed as ``P(alive) * (r+x)/(alpha+T) * (beta+T) * U(1, 2-s; delta(beta+T))`` (the same
    number: ``z^(s-1) U(s, s; z) = U(1, 2-s; z)``). Multiply by the expected margin per purchase
    for a customer's residual value. For a yearly rate of 15 % and weekly data,
    ``delta = log(1.15) / 52``.

    >>> round(float(discounted_expected_residual_transactions(0.55339714, 10.58019854, 0.6060625, 11.65622367,
    ...     x=0, t_x=0, T=39, delta=math.log(1.15) / 52)), 4)
    0.476
    """
    x, t_x, T, delta = (np.asarray(v, dtype=float) for v in (x, t_x, T, delta))
    alive = probability_alive(r, alpha, s, beta, x, t_x, T)
    B = beta + T
    return alive * (r + x) / (alpha + T) * B * np.exp(_log_k(s, delta * B))


def probability_of_purchases(r, alpha, s, beta, t, n):
    """P(X(t) = n): the probability that a new customer makes ``n`` purchases in ``(0, t]``.

    Fader & Hardie's note on P(X(t) = x) under the Pareto/NBD gives it as a finite sum of
    ``2F1`` terms whose differences cancel for large ``n``. Here the same quantity is computed
    from its integral form: alive at ``t`` (an NBD count times ``(beta/(beta+t))^s``) plus
    died at ``tau < t``,
    ``s (alpha/beta) Gamma(r+n)/(Gamma(r) n!) int_0^{rho_t} rho^n (1-rho)^(r+s-1) (1 + (alpha/beta - 1) rho)^-(s+1) d rho``
    with ``rho = tau/(alpha+tau)``, integrated by adaptive quadrature after ``rho = rho_t e^(-w/(n+1))``
    (one quadrature per distinct ``(t, n)``).

    >>> p = probability_of_purchases(0.55339714, 10.58019854, 0.6060625, 11.65622367, t=39, n=np.arange(200))
    >>> round(float(p.sum()), 6), round(float(p[0]), 4)
    (1.0, 0.5936)
    """
    t, n = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(n, dtype=float))
    out = np.empty(t.shape)
    pairs, inverse = np.unique(np.stack([t.reshape(-1), n.reshape(-1)]), axis=1, return_inverse=True)
    values = np.array([_probability_of_purchases_one(r, alpha, s, beta, tt, nn) for tt, nn in pairs.T])
    out.reshape(-1)[:] = values[np.asarray(inverse).reshape(-1)]
    return out


def _probability_of_purchases_one(r, alpha, s, beta, t, n):
    if t <= 0:
        return 1.0 if n == 0 else 0.0
    common = float(log_rising(r, n)) - gammaln(n + 1)
    log_rho_t = math.log(t) - math.log(alpha + t)
    log_1m_rho_t = math.log(alpha) - math.log(alpha + t)
    alive = common + r * log_1m_rho_t + n * log_rho_t - s * math.log1p(t / beta)
    rho_t = math.exp(log_rho_t)
    kappa = alpha / beta - 1.0

    def integrand(w: float) -> float:
        rho = rho_t * math.exp(-w / (n + 1))
        return math.exp(-w + (r + s - 1) * math.log1p(-rho) - (s + 1) * math.log1p(kappa * rho))

    # the factor (1-rho)^(r+s-1) changes on the scale (n+1)(1-rho_t) in w: give quad that point
    knee = min((n + 1) * math.exp(log_1m_rho_t), 40.0)
    head, _ = integrate.quad(integrand, 0.0, knee, epsabs=0.0, epsrel=1e-11, limit=200)
    tail, _ = integrate.quad(integrand, knee, 800.0, epsabs=0.0, epsrel=1e-11, limit=200)
    died = (
        math.log(s) + common + math.log(alpha) - math.log(beta) + (n + 1) * log_rho_t - math.log(n + 1)
        + math.log(head + tail)
    )
    return float(math.exp(alive) + math.exp(died))


def simulate(r, alpha, s, beta, T, seed=None) -> dict[str, np.ndarray]:
    """Draw BTYD summaries ``(frequency, recency, T)`` from Pareto/NBD, one per entry of ``T``.

    Each customer draws ``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)`` and a lifetime
    ``tau ~ Exp(mu)``; repeat purchases are Poisson with rate ``lambda`` until ``min(tau, T)``,
    and the last of ``x`` uniform purchase times is ``min(tau, T) * U^(1/x)``.

    >>> sim = simulate(0.55, 10.6, 0.61, 11.7, T=[39.0, 39.0, 39.0], seed=1)
    >>> sorted(sim)
    ['T', 'frequency', 'recency']
    """
    rng = np.random.default_rng(seed)
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(r, 1.0 / alpha, size=T.shape)
    mu = rng.gamma(s, 1.0 / beta, size=T.shape)
    with np.errstate(divide="ignore"):
        tau = rng.exponential(size=T.shape) / mu
    end = np.minimum(tau, T)
    x = rng.poisson(lam * end).astype(float)
    with np.errstate(divide="ignore"):
        t_x = np.where(x > 0, end * rng.uniform(size=T.shape) ** (1.0 / np.maximum(x, 1.0)), 0.0)
    return {"frequency": x, "recency": t_x, "T": T}


class ParetoNBDModel(CustomerModel):
    """Pareto/NBD with parameters ``r, alpha, s, beta`` (Schmittlein, Morrison & Colombo 1987).

    Static covariates (numeric columns) enter as in CLVTools: ``alpha_i = alpha *
    exp(-g_purchase'z)`` and ``beta_i = beta * exp(-g_dropout'z)``, so a positive purchase
    coefficient means more purchases and a positive dropout coefficient an earlier dropout.
    With every coefficient zero the model is exactly plain Pareto/NBD.

    >>> customers = simulate(r=0.55, alpha=10.6, s=0.61, beta=11.7, T=[39.0] * 4000, seed=3)
    >>> model = ParetoNBDModel().fit(customers)
    >>> model.converged_
    True
    >>> round(model.params_["r"], 1), round(model.params_["alpha"])
    (0.5, 10)
    """

    name: ClassVar[str] = "pnbd"
    title: ClassVar[str] = "Pareto/NBD"
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("r"),
        Parameter("alpha", time_power=1),
        Parameter("s"),
        Parameter("beta", time_power=1),
    )
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    time_columns: ClassVar[tuple[str, ...]] = ("recency", "T")
    covariate_links: ClassVar[dict[str, dict[str, int]]] = {"purchase": {"alpha": -1}, "dropout": {"beta": -1}}
    example_params: ClassVar[dict[str, float]] = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}

    @classmethod
    def simulate(cls, params, n, seed=None):
        """``n`` customers observed for 30 to 52 time units (uniform), drawn from Pareto/NBD."""
        rng = np.random.default_rng(seed)
        T = rng.uniform(30.0, 52.0, n)
        return simulate(**params, T=T, seed=rng.integers(2**32))

    @staticmethod
    def log_likelihood(params, data):
        return log_likelihood(
            params["r"], params["alpha"], params["s"], params["beta"], data["frequency"], data["recency"], data["T"]
        )

    @staticmethod
    def gradient(params, data):
        return log_likelihood_gradient(
            params["r"], params["alpha"], params["s"], params["beta"], data["frequency"], data["recency"], data["T"]
        )

    def check_data(self, data):
        check_frequency_recency_T(data, self.title)

    def boundary_parameters(self, params):
        """``s`` and ``beta`` when the mean dropout rate is below 1e-6 of the mean purchase rate.

        That is the boundary "nobody drops out", as BG/NBD's ``a / (a + b) < 1e-6``: the mean
        ``(s / beta) / (r / alpha)`` (unit-free) vanishes and neither ``s`` nor ``beta`` is
        identified, though a fit can stop with both short of the engine's own threshold.

        >>> ParetoNBDModel().boundary_parameters({"r": 786.0, "alpha": 2622.0, "s": 3.2e-6, "beta": 6.4e6})
        ['s', 'beta']
        >>> ParetoNBDModel().boundary_parameters(ParetoNBDModel.example_params)
        []
        """
        dropout_rate = params["s"] / params["beta"]
        return ["s", "beta"] if dropout_rate < NO_DROPOUT * params["r"] / params["alpha"] else []

    def default_start(self, data):
        scale = float(np.max(data["T"])) / 10 or 1.0
        return {"r": 1.0, "alpha": scale, "s": 1.0, "beta": scale}

    # -- predictions -----------------------------------------------------------------------
    def _predict(self, function, customers: Any, *extra) -> np.ndarray:
        """Apply a closed form to each customer, with their own parameters when there are covariates."""
        self._check_fitted()
        data = self.read_columns(customers)
        check_frequency_recency_T({k: data[k] for k in self.data_columns}, self.title)
        shape = data["frequency"].shape
        params = self.customer_params(self.params_, data)
        columns = [np.broadcast_to(np.asarray(params[k], dtype=float), shape) for k in ("r", "alpha", "s", "beta")]
        columns += [data["frequency"], data["recency"], data["T"]]
        columns += [np.broadcast_to(np.asarray(e, dtype=float), shape) for e in extra]
        return chunked(function, *columns)

    def _population(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        if self.covariates:
            raise ConfigError(
                "a new customer's expectation depends on their covariates",
                hint="use expected_purchases with frequency = recency = 0 and a tiny T for that customer",
            )
        return self.params_["r"], self.params_["alpha"], self.params_["s"], self.params_["beta"]

    def expected_purchases(self, customers: Any, t) -> np.ndarray:
        """Expected purchases of each customer in the next ``t`` time units (scalar or per customer)."""
        return self._predict(expected_purchases, customers, _non_negative(t, "t"))

    def expected_purchases_by_period(self, customers: Any, edges) -> np.ndarray:
        """Expected purchases in each future period: ``edges`` are period ends after T.

        Returns an array (customers × periods) whose column k is the expectation in
        ``(T + edges[k-1], T + edges[k]]`` (with ``edges[-1] = 0``).
        """
        edges = _non_negative(edges, "edges").reshape(-1)

        def block(*columns):
            cumulative = np.stack([expected_purchases(*columns, e) for e in edges], axis=1)
            return np.diff(cumulative, axis=1, prepend=0.0)

        return self._predict(block, customers)

    def probability_alive(self, customers: Any, t=0.0) -> np.ndarray:
        """P(alive) now, or ``t`` time units after the end of observation."""
        return self._predict(probability_alive_at, customers, _non_negative(t, "t"))

    def expected_purchases_new_customer(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        return expected_purchases_new_customer(*self._population(), _non_negative(t, "t"))

    def probability_of_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n) for a customer just acquired."""
        n = np.asarray(n, dtype=float)
        require(np.isfinite(n) & (n >= 0) & (n == np.floor(n)), model=self.title, column="n",
                rule="must be a whole number >= 0", values=n.reshape(-1))
        return probability_of_purchases(*self._population(), _non_negative(t, "t"), n)

    def discounted_expected_residual_transactions(self, customers: Any, discount_rate: float) -> np.ndarray:
        """DERT per customer at a continuously compounded ``discount_rate`` per time unit (> 0)."""
        rate = np.asarray(discount_rate, dtype=float)
        require(np.isfinite(rate) & (rate > 0), model=self.title, column="discount_rate",
                rule="must be a finite number > 0", values=rate.reshape(-1))
        return self._predict(discounted_expected_residual_transactions, customers, rate)


def _non_negative(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    flat = array.reshape(-1)
    if not np.all(np.isfinite(flat) & (flat >= 0)):
        require(np.isfinite(flat) & (flat >= 0), model="Pareto/NBD", column=name,
                rule="must be a finite number >= 0", values=flat)
    return array


