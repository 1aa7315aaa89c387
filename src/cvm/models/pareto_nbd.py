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
:func:`scipy.special.hyp2f1` is not finite or breaks those bounds, or where ``z > 0.95`` (near
the no-dropout boundary), are summed by a trapezoidal rule in ``log v`` on about 150 nodes.

The 'alive' term depends on a customer only through ``(x, T)`` and the 'died' term only through
``(x, t_x)``, so a fit (:func:`prepare`, :func:`prepared_totals`) evaluates them, with their
analytic derivatives, once per distinct pair.

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
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy import integrate
from scipy.special import expit, gammaln, hyp2f1, hyperu, roots_laguerre

from cvm.errors import ConfigError
from cvm.models.base import CustomerModel, PreparedCustomers, check_frequency_recency_T, chunked, require
from cvm.models.betageo import NO_DROPOUT
from cvm.models.engine import Parameter, factorize, levels
from cvm.models.special import digamma_difference, log_rising

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

TRAPEZOID_STEP = 0.35
"""Step (in ``log v``) of the trapezoidal rule used where the ``2F1`` closed form is not trusted,
for exponents ``p, q`` up to 1,000 (0.25 up to 1e6, 0.18 beyond: a large exponent narrows the
strip where the integrand is analytic); checked against adaptive quadrature to about 1e-13
(``tests/models/test_consistency_pnbd.py``)."""

WEIGHTED_BLOCK = 1 << 22
"""Elements of the (distinct customers × periods) blocks of :meth:`ParetoNBDModel.weighted_expected_purchases`."""

CLOSED_FORM_MAX_Z = 0.95
"""Above this argument, ``scipy.special.hyp2f1`` is not trusted and the integral is summed."""


# -- the tail integral ------------------------------------------------------------------------
def _log_expm1(x):
    """log(e^x - 1) for x > 0, without overflow."""
    with np.errstate(all="ignore"):
        return np.where(x > 1.0, x + np.log1p(-np.exp(-x)), np.log(np.expm1(np.minimum(x, 1.0))))


def _tail(p, q, alpha, beta, y, gradient: bool = False) -> np.ndarray:
    """``log R``, ``R = int_0^inf (1 + v/A)^-p (1 + v/B)^-q dv`` (``A = alpha+y``, ``B = beta+y``, p + q > 1).

    Returns an array with first axis ``[log R]``, or with ``gradient``
    ``[log R, d log R/dp, d log R/dq, d log(A^-p R)/dA, d log(B^-q R)/dB]``.

    Closed form ``R = (m + y) / (p+q-1) * 2F1(1, b; p+q; z)`` with ``m = min(alpha, beta)``,
    ``z = |alpha - beta| / (max(alpha, beta) + y)`` and ``b = p`` when ``alpha >= beta``,
    ``b = q`` otherwise. The ``A`` and ``B`` derivatives are ratios of the same form with
    ``p`` or ``q`` raised by one (``dR/dA = p/A (R(p, q) - R(p+1, q))``); the ``p`` and ``q``
    derivatives are central differences of ``log 2F1`` in its parameters. Rows with
    ``z > 0.95`` or where ``hyp2f1`` is not finite or breaks its bounds (``1 <= 2F1 <=
    (c-1)/(c-1-b)``) are summed by :func:`_tail_trapezoid`, derivatives on the same nodes.

    >>> float(np.exp(_tail(2.0, 1.0, 3.0, 3.0, 1.0)[0]))   # (3+1)/2
    2.0
    """
    p, q, alpha, beta, y = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (p, q, alpha, beta, y)))
    shape = p.shape
    p, q, alpha, beta, y = (v.reshape(-1) for v in (p, q, alpha, beta, y))
    out = np.empty((5 if gradient else 1, p.size))
    alpha_ge = alpha >= beta
    c = p + q
    b = np.where(alpha_ge, p, q)
    big = np.maximum(alpha, beta) + y
    small = np.minimum(alpha, beta) + y
    z = np.abs(alpha - beta) / big
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(small) | ~np.isfinite(big) | (z > CLOSED_FORM_MAX_Z)
        zz = np.where(bad, 0.0, z)

        def log_g(bb, cc):
            g = hyp2f1(1.0, bb, cc, zz)
            upper = np.where(cc - 1 - bb > 0, (cc - 1) / (cc - 1 - bb), np.inf)
            ok = np.isfinite(g) & (g >= 1 - 1e-12) & (g <= upper * (1 + 1e-10))
            return np.log(g), ok

        lg, ok = log_g(b, c)
        bad |= ~ok
        out[0] = np.log(small) - np.log(c - 1) + lg
        if gradient:
            # central differences of log 2F1 along c and along (b, c), on the scale where it varies
            h = 1e-5 * np.clip(np.minimum(c - 1, np.abs(c - 1 - b)), 1e-3, 1.0)
            up_c, ok1 = log_g(b, c + h)
            down_c, ok2 = log_g(b, c - h)
            up_bc, ok3 = log_g(b + h, c + h)
            down_bc, ok4 = log_g(b - h, c - h)
            d_c = (up_c - down_c) / (2 * h)
            d_bc = (up_bc - down_bc) / (2 * h)
            inv = 1.0 / (c - 1)
            out[1] = np.where(alpha_ge, d_bc, d_c) - inv
            out[2] = np.where(alpha_ge, d_c, d_bc) - inv
            # R(p+1, q) / R(p, q) = (c-1)/c * 2F1(1, b'; c+1; z) / 2F1(1, b; c; z)
            lg_p, ok5 = log_g(b + alpha_ge, c + 1)
            lg_q, ok6 = log_g(b + ~alpha_ge, c + 1)
            shrink = (c - 1) / c
            out[3] = -p / (alpha + y) * shrink * np.exp(lg_p - lg)
            out[4] = -q / (beta + y) * shrink * np.exp(lg_q - lg)
            bad |= ~(ok1 & ok2 & ok3 & ok4 & ok5 & ok6) | ~np.all(np.isfinite(out), axis=0)
    if np.any(bad):
        out[:, bad] = _tail_trapezoid(p[bad], q[bad], alpha[bad] + y[bad], beta[bad] + y[bad], gradient)
    return out.reshape((out.shape[0], *shape))


def _log_tail_ratio(p, q, alpha, beta, y):
    """log of ``int_0^inf (1 + v/(alpha+y))^-p (1 + v/(beta+y))^-q dv`` for ``p + q > 1`` (see :func:`_tail`).

    >>> float(np.exp(_log_tail_ratio(2.0, 1.0, 3.0, 3.0, 1.0)))   # (3+1)/2
    2.0
    """
    return _tail(p, q, alpha, beta, y)[0]


def _tail_trapezoid(p, q, A, B, gradient: bool = False, step: float | None = None, block: int = 1 << 20):
    """:func:`_tail` by the trapezoidal rule in ``u = log v`` on an infinite grid (vectorised).

    The integrand ``exp(u - p log1p(e^u/A) - q log1p(e^u/B))`` is analytic in a strip around
    the real axis, so the trapezoidal rule on the whole line converges geometrically in
    ``1/step`` (no endpoint error). Nodes run from ``u0 = log(min(A,B)/(p+q)) - 19``, below
    which the integrand is ``e^u`` to ~1e-8 (a geometric series), to ``uN`` past
    ``max(A, B)``, above which it is ``A^p B^q e^-(p+q-1)u (1 - (pA+qB) e^-u)`` to second
    order (two geometric series); ``uN`` is chosen so that what is neglected is below 1e-16
    of the total. The derivatives are weighted sums on the same nodes (leading order in the
    upper series). Rows are grouped by the length of their range so a block shares a node count.
    """
    p, q, A, B = (np.asarray(v, dtype=float).reshape(-1) for v in (p, q, A, B))
    n = p.size
    out = np.empty((5 if gradient else 1, n))
    pq = p + q
    u0 = np.log(np.minimum(A, B)) - np.log(pq) - 19.0
    uN = np.log(np.maximum(A, B)) + np.maximum((40.0 + 2 * np.log(pq)) / pq, np.log(pq) + 3.0)
    if step is None:
        largest = np.maximum(p, q)
        step = np.where(largest <= 1e3, TRAPEZOID_STEP, np.where(largest <= 1e6, 0.25, 0.18))
    needed = np.ceil((uN - u0) / step)
    order = np.argsort(needed, kind="stable")
    start = 0
    while start < n:
        rows = max(1, block // (int(needed[order[start]]) + 1))
        idx = order[start:start + rows]
        nodes = int(needed[idx[-1]])
        out[:, idx] = _trapezoid_block(p[idx], q[idx], A[idx], B[idx], u0[idx], uN[idx], nodes, gradient)
        start += idx.size
    return out


def _trapezoid_block(p, q, A, B, u0, uN, nodes, gradient):
    h = (uN - u0) / nodes
    u = u0[:, None] + h[:, None] * np.arange(nodes + 1.0)
    v = np.exp(u)
    l1 = np.log1p(v / A[:, None])
    l2 = np.log1p(v / B[:, None])
    phi = u - p[:, None] * l1 - q[:, None] * l2
    peak = phi.max(axis=1)
    f = np.exp(phi - peak[:, None])
    s0 = f.sum(axis=1)
    log_h = np.log(h)
    a = p + q - 1
    log_body = peak + log_h + np.log(s0)
    log_low = u0 + log_h - _log_expm1(h)  # sum of h e^u below u0
    log_lead = log_h - p * (uN - np.log(A)) - q * (uN - np.log(B)) + uN - _log_expm1(a * h)
    # second-order term: (pA + qB) e^-u, summed the same way, relative to the first
    log_second = np.log(p * A + q * B) - uN + _log_expm1(a * h) - _log_expm1((a + 1) * h)
    log_high = log_lead + np.log1p(-np.minimum(np.exp(log_second), 0.5))
    log_r = np.logaddexp(np.logaddexp(log_body, log_low), log_high)
    if not gradient:
        return log_r[None, :]
    out = np.empty((5, p.size))
    out[0] = log_r
    body = np.exp(log_body - log_r) / s0
    low = np.exp(log_low - log_r)
    lead = np.exp(log_lead - log_r)
    # sum over the upper grid of u e^-a u, relative to the sum of e^-a u: uN + h / (1 - e^-ah)
    mean_u = uN + h * np.exp(-_log_expm1(a * h) + a * h)
    inv_high = np.exp(log_lead - uN + _log_expm1(a * h) - _log_expm1((a + 1) * h) - log_r)
    out[1] = -(body * np.einsum("ij,ij->i", f, l1) + lead * (mean_u - np.log(A)))
    out[2] = -(body * np.einsum("ij,ij->i", f, l2) + lead * (mean_u - np.log(B)))
    out[3] = -p * (body * np.einsum("ij,ij->i", f, 1.0 / (A[:, None] + v)) + low / A + inv_high)
    out[4] = -q * (body * np.einsum("ij,ij->i", f, 1.0 / (B[:, None] + v)) + low / B + inv_high)
    return out


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


def _alive_part(r, alpha, s, beta, x, T, gradient: bool = False) -> np.ndarray:
    """log of ``(r+x) alpha^r beta^s J(T)`` ('alive at T'), and its derivatives in r, s, alpha, beta.

    Depends on the history only through ``(x, T)``. First axis: value, then d/dr, d/ds,
    d/dalpha, d/dbeta when ``gradient``.
    """
    tail = _tail(r + x + 1, s, alpha, beta, T, gradient)
    with np.errstate(divide="ignore", invalid="ignore"):
        log1p_a, log1p_b = np.log1p(T / alpha), np.log1p(T / beta)
        value = np.log(r + x) - r * log1p_a - (x + 1) * np.log(alpha + T) - s * log1p_b + tail[0]
        if not gradient:
            return value[None]
        return np.stack([
            value,
            1.0 / (r + x) - log1p_a + tail[1],
            -log1p_b + tail[2],
            r / alpha + tail[3],
            s / beta + tail[4],
        ])


def _died_part(r, alpha, s, beta, x, t_x, gradient: bool = False) -> np.ndarray:
    """log of ``s alpha^r beta^s F(t_x)`` ('died in (t_x, T]'), and its derivatives, as :func:`_alive_part`.

    Depends on the history only through ``(x, t_x)``.
    """
    tail = _tail(r + x, s + 1, alpha, beta, t_x, gradient)
    with np.errstate(divide="ignore", invalid="ignore"):
        log1p_a, log1p_b = np.log1p(t_x / alpha), np.log1p(t_x / beta)
        value = np.log(s) - r * log1p_a - x * np.log(alpha + t_x) - s * log1p_b - np.log(beta + t_x) + tail[0]
        if not gradient:
            return value[None]
        return np.stack([
            value,
            -log1p_a + tail[1],
            1.0 / s - log1p_b + tail[2],
            r / alpha + tail[3],
            s / beta + tail[4],
        ])


PARAMETER_ORDER = ("r", "s", "alpha", "beta")
"""Order of the derivatives on the first axis of :func:`_alive_part` and :func:`_died_part`
(after the value)."""


def log_likelihood(r, alpha, s, beta, x, t_x, T):
    """Log-likelihood of each customer (SMC 1987; FHL 2005), as a log-sum-exp of positive terms.

    >>> ll = log_likelihood(0.55315, 10.57633, 0.60625, 11.6715, x=[0, 2, 26], t_x=[0, 30.43, 30.86], T=[38.86] * 3)
    >>> [round(v, 6) for v in ll.tolist()]
    [-0.521162, -9.554361, -42.550978]
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    alive = _alive_part(r, alpha, s, beta, x, T)[0]
    died = _died_part(r, alpha, s, beta, x, t_x)[0]
    return log_rising(r, x) + np.logaddexp(alive, died)


def log_likelihood_gradient(r, alpha, s, beta, x, t_x, T) -> dict[str, np.ndarray]:
    """Per-customer derivatives of :func:`log_likelihood` with respect to r, alpha, s, beta.

    Analytic: with ``L ~ e^a + e^d``, ``d log L = w da + (1-w) dd`` with ``w = e^a / (e^a + e^d)``;
    the derivatives of the tail integrals are ratios of ``2F1`` closed forms (alpha, beta),
    central differences of ``log 2F1`` in its parameters (r, s), or sums on the quadrature
    nodes where the closed form is not used (see :func:`_tail`).

    >>> g = log_likelihood_gradient(0.5, 10.0, 0.6, 11.0, x=[0], t_x=[0], T=[39])
    >>> sorted(g)
    ['alpha', 'beta', 'r', 's']
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    alive = _alive_part(r, alpha, s, beta, x, T, gradient=True)
    died = _died_part(r, alpha, s, beta, x, t_x, gradient=True)
    share = np.exp(alive[0] - np.logaddexp(alive[0], died[0]))
    out = {name: share * alive[k + 1] + (1 - share) * died[k + 1] for k, name in enumerate(PARAMETER_ORDER)}
    out["r"] = out["r"] + digamma_difference(r, x)
    return {name: out[name] for name in ("r", "alpha", "s", "beta")}


# -- the fast path: per distinct (x, T) and (x, t_x) ------------------------------------------
def prepare(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Parameter-free pieces of the BTYD summary, computed once per fit.

    The 'alive' term depends on a row only through ``(x, T)`` and the 'died' term only
    through ``(x, t_x)``; both pairs take far fewer distinct values than the rows (about
    15,000 each for a million customers with two years of daily data), so the tail
    integrals and their derivatives are evaluated once per distinct pair and gathered.

    >>> prep = prepare({"frequency": np.array([0.0, 2, 2]), "recency": np.array([0.0, 5, 5]),
    ...                 "T": np.array([9.0, 9, 8])})
    >>> prep["alive_x"].tolist(), prep["died_x"].tolist()
    ([0.0, 2.0, 2.0], [0.0, 2.0])
    """
    x, t_x, T = (np.asarray(data[k], dtype=float).reshape(-1) for k in ("frequency", "recency", "T"))
    x_levels, x_index = levels(x)
    out = {"x": x, "x_levels": x_levels, "x_index": x_index}
    for part, y in (("alive", T), ("died", t_x)):
        # distinct (x, y) pairs through one integer code per row: (rank of x) * (levels of y) + rank of y
        y_levels, y_index = levels(y)
        codes, index = _dense_rank(x_index * y_levels.size + y_index, x_levels.size * y_levels.size)
        out[f"{part}_x"] = x_levels[codes // y_levels.size]
        out[f"{part}_{'T' if part == 'alive' else 't_x'}"] = y_levels[codes % y_levels.size]
        out[f"{part}_index"] = index.reshape(-1)
    return out


def _dense_rank(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_inverse=True)`` for integer codes in ``[0, size)``: by a table
    of the codes present when it is small (no sort), else by ``np.unique``.

    >>> [v.tolist() for v in _dense_rank(np.array([5, 2, 5, 0]), 6)]
    [[0, 2, 5], [2, 1, 2, 0]]
    """
    if size > max(4 * codes.size, 1 << 16):
        distinct, index = np.unique(codes, return_inverse=True)
        return distinct, index.reshape(-1)
    present = np.zeros(size, dtype=bool)
    present[codes] = True
    distinct = np.flatnonzero(present)
    rank = np.cumsum(present) - 1
    return distinct, rank[codes]


def _prepared_parts(params: Mapping[str, float], prep: Mapping[str, np.ndarray], gradient: bool):
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]
    alive = _alive_part(r, alpha, s, beta, prep["alive_x"], prep["alive_T"], gradient)
    died = _died_part(r, alpha, s, beta, prep["died_x"], prep["died_t_x"], gradient)
    log_a, log_d = alive[0][prep["alive_index"]], died[0][prep["died_index"]]
    both = np.logaddexp(log_a, log_d)
    return alive, died, log_a, both


def prepared_log_likelihood(params: Mapping[str, float], prep: Mapping[str, np.ndarray]) -> np.ndarray:
    """:func:`log_likelihood` on data from :func:`prepare` (the same values, faster).

    >>> data = simulate(0.55, 10.6, 0.61, 11.7, T=[39.0] * 5, seed=1)
    >>> p = dict(r=0.55, alpha=10.6, s=0.61, beta=11.7)
    >>> bool(np.allclose(prepared_log_likelihood(p, prepare(data)),
    ...      log_likelihood(**p, x=data["frequency"], t_x=data["recency"], T=data["T"]), rtol=1e-13))
    True
    """
    *_, both = _prepared_parts(params, prep, False)
    return log_rising(params["r"], prep["x_levels"])[prep["x_index"]] + both


def prepared_gradient(params: Mapping[str, float], prep: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`log_likelihood_gradient` on data from :func:`prepare`."""
    alive, died, log_a, both = _prepared_parts(params, prep, True)
    share = np.exp(log_a - both)
    ai, di = prep["alive_index"], prep["died_index"]
    out = {
        name: share * alive[k + 1][ai] + (1 - share) * died[k + 1][di]
        for k, name in enumerate(PARAMETER_ORDER)
    }
    out["r"] = out["r"] + digamma_difference(params["r"], prep["x_levels"])[prep["x_index"]]
    return {name: out[name] for name in ("r", "alpha", "s", "beta")}


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` without BLAS (a 1-D BLAS dot is many times slower when the cores are busy)."""
    return float(np.einsum("i,i->", a, b))


def prepared_totals(params: Mapping[str, float], prep: dict, w: np.ndarray) -> tuple[float, dict[str, float]]:
    """Weighted total log-likelihood and its gradient, from data made by :func:`prepare`.

    Per row only the log-sum-exp of the two gathered terms and the share of the first are
    computed; the shares, weighted, are summed per distinct pair (``bincount``) and meet the
    per-pair derivatives in two dot products. Equals ``sum(w * log_likelihood(...))`` and the
    weighted sums of :func:`log_likelihood_gradient`.
    """
    r = params["r"]
    cached = prep.get("_x_weights")
    if cached is None or cached[0] is not w:
        cached = (w, np.bincount(prep["x_index"], weights=w, minlength=prep["x_levels"].size))
        prep["_x_weights"] = cached
    w_x = cached[1]
    alive, died, log_a, both = _prepared_parts(params, prep, True)
    total = _dot(w, both) + _dot(w_x, log_rising(r, prep["x_levels"]))
    w_alive = w * np.exp(log_a - both)
    to_alive = np.bincount(prep["alive_index"], weights=w_alive, minlength=alive.shape[1])
    to_died = np.bincount(prep["died_index"], weights=w - w_alive, minlength=died.shape[1])
    grad = {
        name: _dot(alive[k + 1], to_alive) + _dot(died[k + 1], to_died)
        for k, name in enumerate(PARAMETER_ORDER)
    }
    grad["r"] += _dot(w_x, digamma_difference(r, prep["x_levels"]))
    return total, grad


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

    prepare = staticmethod(prepare)
    prepared_log_likelihood = staticmethod(prepared_log_likelihood)
    prepared_gradient = staticmethod(prepared_gradient)
    prepared_totals = staticmethod(prepared_totals)

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

    def _alive(self, batch: PreparedCustomers) -> np.ndarray:
        """P(alive) now of every prepared customer, computed once per batch (the costly part)."""
        return batch.cached("alive", lambda: self._predict(probability_alive, batch))

    def _horizon_terms(self, customers: Any) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """What :func:`expected_purchases` needs beyond the horizon, once per prepared batch.

        ``E[X(t)] = scale * _lifetime_integral(s, beta + T, t)`` with the customer-only
        ``scale = P(alive) (r+x)/(alpha+T)`` (the same operations as :func:`expected_purchases`, so
        the same numbers); the lifetime integral depends on the customer only through
        ``(s, beta + T)``, returned as its distinct rows and each customer's index into them.
        """
        batch = self._prepared(customers)

        def compute():
            data = batch.data
            shape = data["frequency"].shape
            params = self.customer_params(self.params_, data)
            r, alpha, s, beta = (np.broadcast_to(np.asarray(params[k], dtype=float), shape)
                                 for k in ("r", "alpha", "s", "beta"))
            scale = self._alive(batch) * (r + data["frequency"]) / (alpha + data["T"])
            distinct, index = factorize({"s": s, "B": beta + data["T"]})
            return scale, distinct, index

        return batch.cached("horizon_terms", compute)

    def expected_purchases(self, customers: Any, t) -> np.ndarray:
        """Expected purchases of each customer in the next ``t`` time units (scalar or per customer)."""
        return self._predict(expected_purchases, customers, _non_negative(t, "t"))

    def expected_purchases_by_period(self, customers: Any, edges) -> np.ndarray:
        """Expected purchases in each future period: ``edges`` are period ends after T.

        Returns an array (customers × periods) whose column k is the expectation in
        ``(T + edges[k-1], T + edges[k]]`` (with ``edges[-1] = 0``). P(alive) is computed once
        (and kept with prepared customers), not once per period.
        """
        edges = _non_negative(edges, "edges").reshape(-1)
        scale, distinct, index = self._horizon_terms(customers)
        out = np.empty((edges.size, scale.size))  # period by period, so each column is contiguous
        previous = np.zeros(scale.size)
        for k, edge in enumerate(edges):
            cumulative = scale * _lifetime_integral(distinct["s"], distinct["B"], edge)[index]
            np.subtract(cumulative, previous, out=out[k])
            previous = cumulative
        return out.T

    def weighted_expected_purchases(self, customers: Any, edges, period_weights) -> np.ndarray:
        """``sum_k period_weights[k] * expected purchases in period k`` per customer.

        The same as ``expected_purchases_by_period(customers, edges) @ period_weights``
        (discount factors, say), to rounding, without the customers × periods table: the
        customer-only factor is taken out of the sum, which is formed once per distinct
        ``(s, beta + T)``.

        >>> model = ParetoNBDModel.from_params(ParetoNBDModel.example_params)
        >>> customers = {"frequency": [0.0, 4.0], "recency": [0.0, 30.0], "T": [39.0, 39.0]}
        >>> edges, weights = np.array([4.0, 8.0, 12.0]), np.array([0.99, 0.98, 0.97])
        >>> by_period = model.expected_purchases_by_period(customers, edges) @ weights
        >>> bool(np.allclose(model.weighted_expected_purchases(customers, edges, weights), by_period, rtol=1e-14))
        True
        """
        edges = _non_negative(edges, "edges").reshape(-1)
        period_weights = np.asarray(period_weights, dtype=float).reshape(-1)
        if edges.size != period_weights.size:
            raise ConfigError(f"{period_weights.size} period weights for {edges.size} periods")
        scale, distinct, index = self._horizon_terms(customers)
        s, B = distinct["s"], distinct["B"]
        per_distinct = np.empty(B.size)
        rows = max(1, WEIGHTED_BLOCK // max(edges.size, 1))  # bounded (distinct rows × periods) blocks
        for start in range(0, B.size, rows):
            part = slice(start, start + rows)
            cumulative = _lifetime_integral(s[part, None], B[part, None], edges[None, :])
            per_distinct[part] = np.einsum("ij,j->i", np.diff(cumulative, axis=1, prepend=0.0), period_weights)
        return scale * per_distinct[index]

    def probability_alive(self, customers: Any, t=0.0) -> np.ndarray:
        """P(alive) now, or ``t`` time units after the end of observation."""
        t = _non_negative(t, "t")
        if isinstance(customers, PreparedCustomers) and customers.model is self and not np.any(t > 0):
            # at t = 0 the survival factor of probability_alive_at is exactly 1
            alive = self._alive(self._prepared(customers))
            return np.broadcast_to(alive, np.broadcast_shapes(alive.shape, t.shape)).copy()
        return self._predict(probability_alive_at, customers, t)

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


