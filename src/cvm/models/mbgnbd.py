"""MBG/NBD: the modified beta-geometric / NBD model (Batislam, Denizel & Filiztekin 2007).

MBG/NBD is BG/NBD with one more chance to drop out: at time 0, right after the first
purchase, as well as after every repeat purchase. While alive a customer buys as a Poisson
process with rate ``lambda ~ Gamma(r, alpha)`` and drops out with probability
``p ~ Beta(a, b)`` at each of those ``x + 1`` occasions. So, unlike BG/NBD, a customer
with no repeat purchase (``x = 0``) may already be dead. The data per customer is the
BTYD summary ``(x, t_x, T)`` = (``frequency``, ``recency``, ``T``).

The closed forms share BG/NBD's (:mod:`cvm.models.bgnbd`) with the dropout posterior
``Beta(a, b + x + 1)`` in place of ``Beta(a, b + x)``:

* the likelihood is a log-sum-exp and P(alive) a logistic, so neither overflows;
* expectations use BG/NBD's Euler-transformed hypergeometric function; where it cannot be
  trusted (non-finite, or ``a + b + x`` so large that its leading terms cancel, as when the
  fit runs to the boundary "nobody drops out") they are integrated numerically over the
  dropout probability, after subtracting the ``p = 0`` limit (:func:`_expected_while_alive`).

Fitted to the CDNOW sample (BTYDplus, via the lifetimes tests): r = 0.525, alpha = 6.183,
a = 0.891, b = 1.614.

>>> params = dict(r=0.525, alpha=6.183, a=0.891, b=1.614)
>>> round(float(expected_purchases(**params, x=2, t_x=30.43, T=38.86, t=39)), 3)
1.263
>>> round(float(probability_alive(**params, x=0, t_x=0.0, T=38.86)), 4)
0.3897
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1, logsumexp, roots_legendre

from cvm.models import bgnbd
from cvm.models.base import CustomerModel, check_frequency_recency_T, chunked
from cvm.models.engine import Parameter
from cvm.models.special import digamma_difference, log_rising

__all__ = [
    "ModifiedBetaGeoModel",
    "log_likelihood",
    "log_likelihood_gradient",
    "probability_alive",
    "probability_alive_at",
    "expected_purchases",
    "expected_purchases_new_customer",
    "probability_of_purchases",
    "simulate",
]

CLOSED_FORM_MAX_C = 1e3
"""Above this ``a + b'`` the hypergeometric closed forms lose digits to cancellation
(their value is ``O(1/c)`` of their terms); the quadrature is used instead."""

_NODES, _WEIGHTS = roots_legendre(96)
_QUAD_BLOCK = 20_000  # rows per quadrature block: keeps (rows x nodes) arrays small


def _log_dropout_odds(r, alpha, a, b, x, t_x, T):
    """log of a/(b+x) * ((alpha+T)/(alpha+t_x))^(r+x): the odds of 'dropped out after t_x'."""
    return np.log(a) - np.log(b + x) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))


def log_likelihood(r, alpha, a, b, x, t_x, T):
    """Log-likelihood of each customer (Batislam et al. 2007), in log-sum-exp form.

    ``L = B(a, b+x+1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
    * [1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)]``; the gamma-function ratios are taken
    with :func:`~cvm.models.special.log_rising`.

    >>> round(float(log_likelihood(0.525, 6.183, 0.891, 1.614, x=2, t_x=30.43, T=38.86)), 6)
    -9.485551
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    base = (
        log_rising(r, x)
        - r * np.log1p(T / alpha)
        - x * np.log(alpha + T)
        + log_rising(b, x + 1)
        - log_rising(a + b, x + 1)
    )
    return base + np.logaddexp(0.0, _log_dropout_odds(r, alpha, a, b, x, t_x, T))


def log_likelihood_gradient(r, alpha, a, b, x, t_x, T) -> dict[str, np.ndarray]:
    """Per-customer derivatives of :func:`log_likelihood` with respect to r, alpha, a, b.

    >>> g = log_likelihood_gradient(0.525, 6.183, 0.891, 1.614, x=2, t_x=30.43, T=38.86)
    >>> sorted(g)
    ['a', 'alpha', 'b', 'r']
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    share = expit(_log_dropout_odds(r, alpha, a, b, x, t_x, T))  # D / (1 + D)
    log_ratio = np.log1p((T - t_x) / (alpha + t_x))
    ab_diff = digamma_difference(a + b, x + 1)
    return {
        "r": digamma_difference(r, x) - np.log1p(T / alpha) + share * log_ratio,
        "alpha": (r * T - x * alpha) / (alpha * (alpha + T))
        - share * (r + x) * (T - t_x) / ((alpha + T) * (alpha + t_x)),
        "a": -ab_diff + share / a,
        "b": digamma_difference(b, x + 1) - ab_diff - share / (b + x),
    }


def probability_alive(r, alpha, a, b, x, t_x, T):
    """P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)).

    Unlike BG/NBD this is below 1 for customers without repeat purchases too.

    >>> round(float(probability_alive(0.525, 6.183, 0.891, 1.614, x=26, t_x=30.85714, T=31)), 4)
    0.9655
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return expit(-_log_dropout_odds(r, alpha, a, b, x, t_x, T))


def _logit_beta_average(function, a1: float, b_values: np.ndarray) -> np.ndarray:
    """E[function(p, rows)] for p ~ Beta(a1, b_i), row by row, for ``a1 >= 1``.

    Gauss–Legendre quadrature in ``u = logit(p)``, on two panels either side of the mode
    wide enough for the log-density to fall by 40 (whether its tails are Gaussian or
    exponential); the weights are normalised numerically, so no beta function is needed
    and huge ``a1, b`` (where Gauss–Jacobi nodes fail) are fine.
    """
    b_values = np.asarray(b_values, dtype=float)
    out = np.empty(b_values.shape)
    drop = 40.0
    for b in np.unique(b_values):
        rows_all = np.flatnonzero(b_values == b)
        mode = np.log(a1) - np.log(b)
        sd = np.sqrt((a1 + b) / (a1 * b))
        left = np.sqrt(2 * drop) * sd + drop / a1
        right = np.sqrt(2 * drop) * sd + drop / b
        d = np.concatenate([-left * (1 - _NODES) / 2, right * (1 + _NODES) / 2])  # u - mode
        width = np.concatenate([np.full(_NODES.size, left / 2), np.full(_NODES.size, right / 2)])
        p = expit(mode + d)
        # a1 log(p/p*) + b log((1-p)/(1-p*)), written in d so it keeps its digits for huge a1, b
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_density = a1 * np.log1p((1 - p) * np.expm1(d)) + b * np.log1p(p * np.expm1(-d))
        log_density = np.where(np.isnan(log_density), -np.inf, log_density)
        log_w = log_density + np.log(np.tile(_WEIGHTS, 2) * width)
        w = np.exp(log_w - logsumexp(log_w))
        for start in range(0, rows_all.size, _QUAD_BLOCK):
            rows = rows_all[start : start + _QUAD_BLOCK]
            out[rows] = function(p[None, :], rows) @ w
    return out


def _dropout_free_terms(r_post, y, q):
    """``f(p) = (1 - (1+q)^-r') / p`` and ``g(p) = (f(p) - r' y) / p`` with ``q = p y``."""
    with np.errstate(all="ignore"):
        phi = -np.expm1(-r_post * np.log1p(q))
        small = (r_post + 3) * q < 1e-3
        f_over_y = np.where(q > 0, phi / np.where(q > 0, q, 1.0), r_post)
        series = -r_post * (r_post + 1) / 2 + r_post * (r_post + 1) * (r_post + 2) / 6 * q - (
            r_post * (r_post + 1) * (r_post + 2) * (r_post + 3) / 24 * q**2
        )
        direct = (phi - r_post * q) / np.where(small, 1.0, q) ** 2
    return y * f_over_y, y**2 * np.where(small, series, direct)


def _quadrature_while_alive(r_post, A, a, b_post, t):
    """``E[(1 - exp(-lambda p t)) / p]`` by quadrature: ``r' y + E[p] E_{Beta(a+1, b')}[g(p)]``.

    Writing ``f(p) = f(0) + p g(p)`` and ``E_{Beta(a,b')}[p k(p)] = a/(a+b') E_{Beta(a+1,b')}[k(p)]``
    keeps the integrand smooth as ``a -> 0`` and exact in the limit ``p -> 0`` (the NBD).
    """
    y = t / A
    mean_p = expit(np.log(a) - np.log(b_post))

    def g(p, rows):
        return _dropout_free_terms(r_post[rows, None], y[rows, None], p * y[rows, None])[1]

    return r_post * y + mean_p * _logit_beta_average(g, a + 1.0, b_post)


def _quadrature_survival(r_post, A, a, b_post, t):
    """``E[exp(-lambda p t)] = 1 - E[p] E_{Beta(a+1, b')}[f(p)]`` by quadrature."""
    y = t / A
    mean_p = expit(np.log(a) - np.log(b_post))

    def f(p, rows):
        return _dropout_free_terms(r_post[rows, None], y[rows, None], p * y[rows, None])[0]

    return np.clip(1.0 - mean_p * _logit_beta_average(f, a + 1.0, b_post), 0.0, 1.0)


def _expected_while_alive(r_post, A, a, b_post, t):
    """E[(1 - exp(-lambda p t)) / p] for lambda ~ Gamma(r', A), p ~ Beta(a, b').

    The expected purchases in the next ``t`` of a customer alive now: BG/NBD's closed
    form where ``a + b'`` is moderate, quadrature otherwise or where it fails.
    """
    r_post, A, b_post, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r_post, A, b_post, t)))
    easy = (a + b_post <= CLOSED_FORM_MAX_C) & (t > 0)
    value = np.zeros(r_post.shape)
    if np.any(easy):
        value[easy] = bgnbd._expected_while_alive(r_post[easy], A[easy], a, b_post[easy], t[easy])
    hard = (t > 0) & (~easy | ~np.isfinite(value) | (value < 0))
    if np.any(hard):
        value[hard] = _quadrature_while_alive(r_post[hard], A[hard], a, b_post[hard], t[hard])
    return value


def _survival_while_alive(r_post, A, a, b_post, t):
    """E[exp(-lambda p t)]: the chance that a customer alive now is still alive after ``t``.

    ``= (A/(A+t))^a 2F1(a+b'-r', a; a+b'; t/(A+t))`` (Euler transform of ``2F1(r', a; a+b'; -t/A)``).
    """
    r_post, A, b_post, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r_post, A, b_post, t)))
    easy = a + b_post <= CLOSED_FORM_MAX_C
    value = np.ones(r_post.shape)
    with np.errstate(all="ignore"):
        z = t[easy] / (A[easy] + t[easy])
        value[easy] = np.exp(a * (np.log(A[easy]) - np.log(A[easy] + t[easy]))) * hyp2f1(
            a + b_post[easy] - r_post[easy], a, a + b_post[easy], z
        )
    hard = (t > 0) & (~easy | ~np.isfinite(value) | (value < 0) | (value > 1))
    if np.any(hard):
        value[hard] = _quadrature_survival(r_post[hard], A[hard], a, b_post[hard], t[hard])
    return np.clip(np.where(t > 0, value, 1.0), 0.0, 1.0)


def probability_alive_at(r, alpha, a, b, x, t_x, T, t):
    """P(alive at T + t | x, t_x, T): alive at T and no dropout in the next ``t``.

    Given alive at T the posterior is ``lambda ~ Gamma(r + x, alpha + T)``,
    ``p ~ Beta(a, b + x + 1)``, and dropout arrives at rate ``lambda p``.

    >>> round(float(probability_alive_at(0.525, 6.183, 0.891, 1.614, x=2, t_x=30.43, T=38.86, t=0)), 4)
    0.7062
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    survive = _survival_while_alive(r + x, alpha + T, a, b + x + 1, t)
    return probability_alive(r, alpha, a, b, x, t_x, T) * survive


def expected_purchases(r, alpha, a, b, x, t_x, T, t):
    """Expected purchases in (T, T + t] given the history (Batislam et al. 2007).

    ``P(alive) * (a+b+x)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))]``,
    evaluated as described in the module docstring.

    >>> round(float(expected_purchases(0.525, 6.183, 0.891, 1.614, x=0, t_x=0, T=38.86, t=39)), 4)
    0.154
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    alive = probability_alive(r, alpha, a, b, x, t_x, T)
    return alive * _expected_while_alive(r + x, alpha + T, a, b + x + 1, t)


def expected_purchases_new_customer(r, alpha, a, b, t):
    """E[X(t)]: expected repeat purchases in the first ``t`` of a new customer.

    ``= b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``: the customer
    survives time 0 with probability ``b/(a+b)``, after which ``p ~ Beta(a, b+1)``.

    >>> round(float(expected_purchases_new_customer(0.525, 6.183, 0.891, 1.614, t=39)), 4)
    1.183
    """
    t = np.asarray(t, dtype=float)
    survive_start = expit(np.log(b) - np.log(a))
    return survive_start * _expected_while_alive(r, alpha, a, b + 1.0, t)


def probability_of_purchases(r, alpha, a, b, t, n):
    """P(X(t) = n) for a new customer.

    ``B(a, b+n+1)/B(a, b) NB(n; r, alpha, t) + B(a+1, b+n)/B(a, b) [1 - sum_{j<n} NB(j; r, alpha, t)]``;
    the second term is the chance of dropping out right after the n-th repeat purchase
    (at time 0 for ``n = 0``) having made it by ``t``.

    >>> bool(abs(float(np.sum(probability_of_purchases(0.525, 6.183, 0.891, 1.614, 39, np.arange(200)))) - 1) < 1e-9)
    True
    """
    t, n = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(n, dtype=float))
    log_q = np.log(alpha) - np.log(alpha + t)  # log alpha/(alpha+t)
    log_s = np.log(t) - np.log(alpha + t)  # log t/(alpha+t)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = (
            betaln(a, b + n + 1)
            - betaln(a, b)
            + log_rising(r, n)
            - gammaln(n + 1)
            + r * log_q
            + np.where(n > 0, n * log_s, 0.0)
        )
        max_n = int(np.max(n)) if n.size else 0
        j = np.arange(max(max_n, 1))
        log_terms = log_rising(r, j) - gammaln(j + 1) + r * log_q[..., None] + j * log_s[..., None]
        log_terms = np.where(j < n[..., None], log_terms, -np.inf)
        tail = -np.expm1(np.clip(logsumexp(log_terms, axis=-1), None, 0.0))
        second = np.exp(betaln(a + 1, b + n) - betaln(a, b)) * np.clip(tail, 0.0, 1.0)
    return np.exp(first) + second


def simulate(r, alpha, a, b, T, seed=None) -> dict[str, np.ndarray]:
    """Draw BTYD summaries ``(frequency, recency, T)`` from MBG/NBD, one per entry of ``T``.

    Each customer draws ``lambda ~ Gamma(r, alpha)`` and ``p ~ Beta(a, b)``; they drop out
    at time 0 with probability ``p``, and after each repeat purchase with probability ``p``.

    >>> sim = simulate(0.525, 6.183, 0.891, 1.614, T=[39.0] * 1000, seed=1)
    >>> bool((sim["frequency"] == 0).mean() > 0.5)
    True
    """
    rng = np.random.default_rng(seed)
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(r, 1.0 / alpha, size=T.shape)
    p = rng.beta(a, b, size=T.shape)
    arrivals = rng.poisson(lam * T)
    # trials up to the first dropout, counting the one at time 0: K - 1 repeat purchases
    purchases_before_dropout = rng.geometric(np.clip(p, 1e-300, 1.0)) - 1
    x = np.minimum(arrivals, purchases_before_dropout)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    return {"frequency": x.astype(float), "recency": t_x, "T": T}


class ModifiedBetaGeoModel(CustomerModel):
    """MBG/NBD with parameters ``r, alpha, a, b`` (Batislam, Denizel & Filiztekin 2007).

    >>> customers = simulate(r=0.5, alpha=6.0, a=0.9, b=1.6, T=[39.0] * 5000, seed=7)
    >>> model = ModifiedBetaGeoModel().fit(customers)
    >>> model.converged_
    True
    >>> {k: round(v, 1) for k, v in model.params_.items()}
    {'r': 0.5, 'alpha': 5.9, 'a': 0.9, 'b': 1.4}
    """

    name: ClassVar[str] = "mbgnbd"
    title: ClassVar[str] = "MBG/NBD"
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("r"),
        Parameter("alpha", time_power=1),
        Parameter("a"),
        Parameter("b"),
    )
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    time_columns: ClassVar[tuple[str, ...]] = ("recency", "T")
    example_params: ClassVar[dict[str, float]] = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}

    @classmethod
    def simulate(cls, params, n, seed=None):
        """``n`` customers observed for 30 to 52 time units (uniform), drawn from MBG/NBD."""
        rng = np.random.default_rng(seed)
        T = rng.uniform(30.0, 52.0, n)
        return simulate(**params, T=T, seed=rng.integers(2**32))

    @staticmethod
    def log_likelihood(params, data):
        return log_likelihood(
            params["r"], params["alpha"], params["a"], params["b"], data["frequency"], data["recency"], data["T"]
        )

    @staticmethod
    def gradient(params, data):
        return log_likelihood_gradient(
            params["r"], params["alpha"], params["a"], params["b"], data["frequency"], data["recency"], data["T"]
        )

    def check_data(self, data):
        check_frequency_recency_T(data, self.title)

    def default_start(self, data):
        return {"r": 1.0, "alpha": float(np.max(data["T"])) / 10 or 1.0, "a": 1.0, "b": 1.0}

    # -- predictions -----------------------------------------------------------------------
    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        return self.params_["r"], self.params_["alpha"], self.params_["a"], self.params_["b"]

    def _history(self, customers: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = self.read_columns(customers)
        check_frequency_recency_T(data, self.title)
        return data["frequency"], data["recency"], data["T"]

    def expected_purchases(self, customers: Any, t) -> np.ndarray:
        """Expected purchases of each customer in the next ``t`` time units (scalar or per customer)."""
        x, t_x, T = self._history(customers)
        t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
        return chunked(lambda *cols: expected_purchases(*self._p(), *cols), x, t_x, T, t)

    def expected_purchases_by_period(self, customers: Any, edges) -> np.ndarray:
        """Expected purchases in each future period: ``edges`` are period ends after T.

        Returns an array (customers × periods) whose column k is the expectation in
        ``(T + edges[k-1], T + edges[k]]`` (with ``edges[-1] = 0``).
        """
        edges = np.asarray(edges, dtype=float).reshape(-1)
        x, t_x, T = self._history(customers)

        def block(x, t_x, T):
            cumulative = np.stack([expected_purchases(*self._p(), x, t_x, T, e) for e in edges], axis=1)
            return np.diff(cumulative, axis=1, prepend=0.0)

        return chunked(block, x, t_x, T)

    def probability_alive(self, customers: Any, t=0.0) -> np.ndarray:
        """P(alive) now, or ``t`` time units after the end of observation."""
        x, t_x, T = self._history(customers)
        t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
        return chunked(lambda *cols: probability_alive_at(*self._p(), *cols), x, t_x, T, t)

    def expected_purchases_new_customer(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        return expected_purchases_new_customer(*self._p(), t)

    def probability_of_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n) for a customer just acquired."""
        return probability_of_purchases(*self._p(), t, n)
