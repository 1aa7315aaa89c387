"""BG/BB: the beta-geometric / beta-Bernoulli model (Fader, Hardie & Shang 2010).

A discrete-time, noncontractual model: at each of ``n`` transaction opportunities
(years of a donation campaign, say) a customer who is still alive transacts with
probability ``p ~ Beta(alpha, beta)``; at the start of each opportunity after the first
(acquisition) one they become inactive, for good, with probability ``theta ~ Beta(gamma,
delta)``. So a customer is alive in opportunity ``t`` with probability ``(1 - theta)^t``.

The data per customer is ``(x, t_x, n)`` = (``frequency``, ``recency``, ``n_periods``):
the number of repeat transactions, the opportunity of the last one (0 when there is
none) and the number of opportunities observed. ``0 <= x <= t_x <= n``, with ``t_x = 0``
exactly when ``x = 0``. Many customers share a row, so the data usually comes with
``weights`` (the donations table has 22 distinct rows for 11,104 donors).

Every ratio of beta functions is written with :func:`~cvm.models.special.log_rising`
(log rising factorials), and the likelihood's sum over ``i = 0 .. n - t_x - 1`` is a
log-sum-exp, so nothing overflows for large ``n`` or large parameters.

Fitted to the 1995 cohort of donors (FHS 2010): alpha = 1.204, beta = 0.750,
gamma = 0.657, delta = 2.783 (BTYD's maximum: 1.203528, 0.7497260, 0.6567808, 2.783796).

>>> params = dict(alpha=1.203528, beta=0.7497260, gamma=0.6567808, delta=2.783796)
>>> round(float(probability_alive(**params, x=6, t_x=6, n=6)), 2)
0.93
>>> round(float(expected_purchases_new_customer(**params, n=10)), 4)
3.1798
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from scipy import integrate
from scipy.special import betaincinv, gammaln, logsumexp, polygamma

from cvm.models.base import CustomerModel, chunked, require
from cvm.models.engine import Parameter
from cvm.models.special import digamma_difference, log_rising

__all__ = [
    "BetaGeoBetaBinomModel",
    "check_frequency_recency_n",
    "discounted_expected_residual_transactions",
    "expected_purchases",
    "expected_purchases_new_customer",
    "log_likelihood",
    "log_likelihood_gradient",
    "probability_alive",
    "probability_of_purchases",
    "simulate",
]

BLOCK = 4_000_000
"""Largest number of sum terms evaluated at once in the likelihood (bounds memory)."""

NEAR_ONE = 1e-4
"""Below this ``|gamma - 1|`` the expected-alive sums use their Taylor series in ``gamma - 1``."""


def _arrays(*values):
    return np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))


def _log_transact(alpha, beta, x, k):
    """log B(alpha + x, beta + k) / B(alpha, beta): ``x`` transactions in ``x + k`` opportunities."""
    return log_rising(alpha, x) + log_rising(beta, k) - log_rising(alpha + beta, x + k)


def _log_survive(gamma, delta, t):
    """log B(gamma, delta + t) / B(gamma, delta) = log E[(1 - theta)^t]: alive in opportunity t."""
    return log_rising(delta, t) - log_rising(gamma + delta, t)


def _log_die_after(gamma, delta, t):
    """log B(gamma + 1, delta + t) / B(gamma, delta): alive in opportunity t, gone in t + 1."""
    return np.log(gamma) + log_rising(delta, t) - log_rising(gamma + delta, t + 1)


def _alive_sum(gamma, D, m):
    """``sum_{k=0}^{m-1} B(gamma, D + k) / B(gamma, D)``: expected opportunities alive out of ``m``.

    For ``theta ~ Beta(gamma, D)`` this is ``E[sum_k (1 - theta)^k]``, in closed form
    ``(gamma + D - 1) / (gamma - 1) * (1 - (D)_m / (gamma + D - 1)_m)``; close to
    ``gamma = 1`` (a removable singularity) the ratio of rising factorials is expanded in
    ``gamma - 1`` to third order.

    >>> round(float(_alive_sum(0.657, 2.783, 3)), 12) == round(1 + 2.783 / 3.44 + 2.783 * 3.783 / (3.44 * 4.44), 12)
    True
    """
    gamma, D, m = _arrays(gamma, D, m)
    eps = gamma - 1.0
    with np.errstate(all="ignore"):
        u = log_rising(D, m) - log_rising(D + eps, m)
        direct = (D + eps) / eps * -np.expm1(u)
        e = np.where(np.abs(eps) < NEAR_ONE, eps, 0.0)
        d0 = digamma_difference(D, m)
        d1 = polygamma(1, D + m) - polygamma(1, D)
        d2 = polygamma(2, D + m) - polygamma(2, D)
        series_u = -(d0 + e * d1 / 2 + e * e * d2 / 6)  # u / eps
        # -expm1(eps * s) / eps, exactly when eps == 0
        ratio = np.where(e == 0, -series_u, -np.expm1(e * series_u) / np.where(e == 0, 1.0, e))
        series = (D + e) * ratio
    value = np.where(np.abs(eps) < NEAR_ONE, series, direct)
    return np.where(m > 0, value, 0.0)


def _sum_terms(alpha, beta, gamma, delta, x, t_x, n):
    """Log of each row's sum over ``i = 0 .. n - t_x - 1`` of the dropped-out-after-t_x+i terms,
    with the terms' weights (softmax) and their per-term arguments for the gradient.

    Rows are grouped by ``m = n - t_x`` so each group is one dense (rows x m) block.
    """
    m = (n - t_x).astype(np.int64)
    out = np.full(x.shape, -np.inf)
    groups = []
    for value in np.unique(m):
        if value <= 0:
            continue
        rows = np.flatnonzero(m == value)
        step = max(1, BLOCK // int(value))
        for start in range(0, rows.size, step):
            idx = rows[start : start + step]
            i = np.arange(value, dtype=float)[None, :]
            xi, ti = x[idx, None], t_x[idx, None] + i
            terms = _log_transact(alpha, beta, xi, ti - xi) + _log_die_after(gamma, delta, ti)
            out[idx] = logsumexp(terms, axis=1)
            groups.append((idx, xi, ti, terms))
    return out, groups


def log_likelihood(alpha, beta, gamma, delta, x, t_x, n):
    """Log-likelihood of each customer (FHS 2010, eq. 5), in log-sum-exp form.

    >>> round(float(log_likelihood(1.204, 0.750, 0.657, 2.783, x=3, t_x=5, n=6)), 6)
    -5.615895
    """
    x, t_x, n = _arrays(x, t_x, n)
    alive = _log_transact(alpha, beta, x, n - x) + _log_survive(gamma, delta, n)
    dropped, _ = _sum_terms(alpha, beta, gamma, delta, *(np.ravel(v) for v in (x, t_x, n)))
    return np.logaddexp(alive, dropped.reshape(x.shape))


def log_likelihood_gradient(alpha, beta, gamma, delta, x, t_x, n) -> dict[str, np.ndarray]:
    """Per-customer derivatives of :func:`log_likelihood` with respect to alpha, beta, gamma, delta."""
    x, t_x, n = (np.atleast_1d(v).ravel() for v in _arrays(x, t_x, n))
    ll = log_likelihood(alpha, beta, gamma, delta, x, t_x, n)
    ab, gd = alpha + beta, gamma + delta

    def transact_grad(xv, kv):
        total = digamma_difference(ab, xv + kv)
        return digamma_difference(alpha, xv) - total, digamma_difference(beta, kv) - total

    # the "alive through n" term
    w0 = np.exp(_log_transact(alpha, beta, x, n - x) + _log_survive(gamma, delta, n) - ll)
    da, db = transact_grad(x, n - x)
    g = {
        "alpha": w0 * da,
        "beta": w0 * db,
        "gamma": w0 * -digamma_difference(gd, n),
        "delta": w0 * (digamma_difference(delta, n) - digamma_difference(gd, n)),
    }
    _, groups = _sum_terms(alpha, beta, gamma, delta, x, t_x, n)
    for idx, xi, ti, terms in groups:
        w = np.exp(terms - ll[idx, None])
        da, db = transact_grad(xi, ti - xi)
        dg = 1.0 / gamma - digamma_difference(gd, ti + 1)
        dd = digamma_difference(delta, ti) - digamma_difference(gd, ti + 1)
        g["alpha"][idx] += np.sum(w * da, axis=1)
        g["beta"][idx] += np.sum(w * db, axis=1)
        g["gamma"][idx] += np.sum(w * dg, axis=1)
        g["delta"][idx] += np.sum(w * dd, axis=1)
    return g


def probability_alive(alpha, beta, gamma, delta, x, t_x, n, ahead=1):
    """P(alive in opportunity ``n + ahead`` | x, t_x, n) (FHS 2010, eq. 11 for ``ahead = 1``).

    The default is the paper's quantity: the probability of being alive in the next
    opportunity (for the donors observed 1996-2001, alive in 2002).

    >>> [round(float(v), 2) for v in probability_alive(1.204, 0.750, 0.657, 2.783, [0, 2, 6], [0, 4, 6], 6)]
    [0.11, 0.59, 0.93]
    """
    x, t_x, n, ahead = _arrays(x, t_x, n, ahead)
    alive = _log_transact(alpha, beta, x, n - x) + _log_survive(gamma, delta, n + ahead)
    return np.clip(np.exp(alive - log_likelihood(alpha, beta, gamma, delta, x, t_x, n).reshape(alive.shape)), 0, 1)


def expected_purchases(alpha, beta, gamma, delta, x, t_x, n, n_star):
    """E[X(n, n + n*) | x, t_x, n]: expected transactions in the next ``n*`` opportunities (FHS 2010, eq. 13).

    Written as P(alive in n + 1) × E[p | history] × expected opportunities alive out of the
    next ``n*`` given alive in the first of them.

    >>> round(float(expected_purchases(1.203528, 0.7497260, 0.6567808, 2.783796, x=4, t_x=5, n=6, n_star=10)), 6)
    3.627858
    """
    x, t_x, n, n_star = _arrays(x, t_x, n, n_star)
    alive = probability_alive(alpha, beta, gamma, delta, x, t_x, n)
    return alive * (alpha + x) / (alpha + beta + n) * _alive_sum(gamma, delta + n + 1, n_star)


def expected_purchases_new_customer(alpha, beta, gamma, delta, n):
    """E[X(n)]: expected transactions of a new customer in their first ``n`` opportunities (FHS 2010, eq. 7).

    >>> round(float(expected_purchases_new_customer(1.203528, 0.7497260, 0.6567808, 2.783796, n=10)), 5)
    3.17981
    """
    n = np.asarray(n, dtype=float)
    return alpha / (alpha + beta) * delta / (gamma + delta) * _alive_sum(gamma, delta + 1, n)


def probability_of_purchases(alpha, beta, gamma, delta, n, x):
    """P(X(n) = x): a new customer makes ``x`` transactions in ``n`` opportunities (FHS 2010, eq. 8).

    >>> round(11104 * float(probability_of_purchases(1.203528, 0.7497260, 0.6567808, 2.783796, n=6, x=0)), 1)
    3454.8
    """
    n, x = _arrays(n, x)
    log_choose = lambda a, b: gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)  # noqa: E731
    with np.errstate(all="ignore"):
        alive = np.where(
            x <= n, log_choose(n, x) + _log_transact(alpha, beta, x, n - x) + _log_survive(gamma, delta, n), -np.inf
        )
        top = int(np.max(n)) if n.size else 0
        i = np.arange(max(top, 1), dtype=float)
        xi, ni = x[..., None], n[..., None]
        terms = log_choose(i, xi) + _log_transact(alpha, beta, xi, i - xi) + _log_die_after(gamma, delta, i)
        terms = np.where((i >= xi) & (i < ni), terms, -np.inf)
        value = np.logaddexp(alive, logsumexp(terms, axis=-1))
    return np.clip(np.exp(value), 0.0, 1.0)


def discounted_expected_residual_transactions(alpha, beta, gamma, delta, x, t_x, n, discount_rate):
    """DERT: transactions from opportunity ``n + 1`` on, the one in ``n + k`` discounted by ``(1 + d)^-k``.

    FHS 2010, eq. 14: P(alive in n + 1) × E[p | history] × ``2F1(1, delta + n + 1;
    gamma + delta + n + 1; 1/(1 + d)) / (1 + d)``. ``d`` is the discount rate per
    opportunity; at ``d = 0`` the value is finite only when ``gamma > 1``.

    >>> round(float(discounted_expected_residual_transactions(1.204, 0.750, 0.657, 2.783, 6, 6, 6, 0.1)), 4)
    5.9087
    """
    x, t_x, n, d = _arrays(x, t_x, n, discount_rate)
    alive = probability_alive(alpha, beta, gamma, delta, x, t_x, n)
    return alive * (alpha + x) / (alpha + beta + n) * _discounted_alive_sum(gamma, delta + n + 1, d)


def _discounted_alive_sum(gamma, D, d):
    """``sum_{k>=0} B(gamma, D + k)/B(gamma, D) (1 + d)^-(k+1)`` = ``2F1(1, D; gamma + D; 1/(1+d)) / (1+d)``.

    This is ``E[1 / (d + theta)]`` for ``theta ~ Beta(gamma, D)``. scipy's ``hyp2f1`` fails
    (NaN or infinity) once ``D`` or ``gamma`` reach the hundreds, so the value is computed
    once per distinct ``(D, d)`` (``D`` depends on the customer only through ``n``): by the
    series itself when it converges within :data:`SERIES_TERMS` terms (its terms fall at
    least as fast as ``(1 + d)^-k``), and otherwise (``d`` below about 2e-5) by adaptive
    quadrature of ``1 / (d + Q(u))`` over ``u`` in (0, 1), ``Q`` the Beta quantile function.
    At ``d = 0`` it is ``(gamma + D - 1) / (gamma - 1)``, infinite when ``gamma <= 1``.

    >>> round(float(_discounted_alive_sum(2.0, 3.0, 0.0)), 12)
    4.0
    """
    gamma, D, d = _arrays(gamma, D, d)
    if D.size == 0:
        return np.empty(D.shape)
    keys = np.stack([gamma.ravel(), D.ravel(), d.ravel()], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    values = np.array([_discounted_alive_sum_one(*row) for row in unique])
    return values[np.asarray(inverse).reshape(-1)].reshape(D.shape)


SERIES_TERMS = 2_000_000
"""Longest series summed directly in :func:`_discounted_alive_sum` (quadrature beyond)."""


def _discounted_alive_sum_one(gamma: float, D: float, d: float) -> float:
    if d <= 0:
        return (gamma + D - 1) / (gamma - 1) if gamma > 1 else np.inf
    log_z = -np.log1p(d)
    terms = int(np.ceil(40.0 / -log_z)) + 1
    if terms <= SERIES_TERMS:
        j = np.arange(terms - 1, dtype=float)
        log_c = np.concatenate([[0.0], np.cumsum(np.log1p(-gamma / (gamma + D + j)))])
        return float(np.exp(logsumexp(log_c + log_z * np.arange(1, terms + 1))))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.quad(
            lambda u: 1.0 / (d + betaincinv(gamma, D, u)), 0.0, 1.0, epsabs=0.0, epsrel=1e-12, limit=500
        )
    return float(value)


def simulate(alpha, beta, gamma, delta, n, seed=None) -> dict[str, np.ndarray]:
    """Draw ``(frequency, recency, n_periods)`` from BG/BB, one customer per entry of ``n``.

    Each customer draws ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``; they
    are alive in the first ``L = min(G - 1, n)`` opportunities with ``G ~ Geometric(theta)``
    and transact in each of them with probability ``p``. The last transaction and the count
    before it are drawn exactly (trailing failures are geometric, the rest binomial), so
    the cost does not depend on ``n``.

    >>> sim = simulate(1.204, 0.750, 0.657, 2.783, n=[6, 6, 6], seed=1)
    >>> sorted(sim)
    ['frequency', 'n_periods', 'recency']
    """
    rng = np.random.default_rng(seed)
    n = np.asarray(n, dtype=np.int64)
    p = np.clip(rng.beta(alpha, beta, size=n.shape), 1e-300, 1.0)
    theta = np.clip(rng.beta(gamma, delta, size=n.shape), 1e-300, 1.0)
    cap = np.iinfo(np.int64).max // 2
    lifetime = np.minimum(np.minimum(rng.geometric(theta), cap) - 1, n)
    trailing = np.minimum(rng.geometric(p), cap) - 1  # failures after the last transaction
    any_purchase = trailing < lifetime
    t_x = np.where(any_purchase, lifetime - trailing, 0)
    x = np.where(any_purchase, 1 + rng.binomial(np.maximum(t_x - 1, 0), p), 0)
    return {"frequency": x.astype(float), "recency": t_x.astype(float), "n_periods": n.astype(float)}


def check_frequency_recency_n(data, model: str) -> None:
    """The BG/BB rules: whole numbers with ``0 <= frequency <= recency <= n_periods``, recency 0 iff frequency 0.

    >>> check_frequency_recency_n({"frequency": np.array([2.0]), "recency": np.array([1.0]),
    ...                            "n_periods": np.array([6.0])}, "BG/BB")
    Traceback (most recent call last):
    ...
    cvm.errors.InvalidDataError: BG/BB: column 'recency' must lie between frequency and n_periods: 1 row(s) break it, for example row 0 (value 1.0)
    What to do: ...
    """
    x, t_x, n = data["frequency"], data["recency"], data["n_periods"]
    for name, col in data.items():
        require(np.isfinite(col), model=model, column=name, rule="must be a finite number", values=col)
        require(
            (col >= 0) & (col == np.floor(col)), model=model, column=name, rule="must be a whole number >= 0", values=col
        )
    require(
        (t_x >= x) & (t_x <= n),
        model=model,
        column="recency",
        rule="must lie between frequency and n_periods",
        values=t_x,
        hint="recency is the opportunity (1..n_periods) of the last transaction; it cannot be below the count",
    )
    require((x > 0) | (t_x == 0), model=model, column="recency", rule="must be 0 when frequency is 0", values=t_x)


class BetaGeoBetaBinomModel(CustomerModel):
    """BG/BB with parameters ``alpha, beta, gamma, delta`` (Fader, Hardie & Shang 2010).

    >>> customers = simulate(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8, n=[6] * 20000, seed=3)
    >>> model = BetaGeoBetaBinomModel().fit(customers)
    >>> model.converged_
    True
    >>> {k: round(v, 1) for k, v in model.params_.items()}
    {'alpha': 1.3, 'beta': 0.8, 'gamma': 0.6, 'delta': 2.6}
    """

    name: ClassVar[str] = "bgbb"
    title: ClassVar[str] = "BG/BB"
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("alpha"),
        Parameter("beta"),
        Parameter("gamma"),
        Parameter("delta"),
    )
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "n_periods")
    time_columns: ClassVar[tuple[str, ...]] = ()
    example_params: ClassVar[dict[str, float]] = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}

    @classmethod
    def simulate(cls, params, n, seed=None):
        """``n`` customers observed for 6 to 12 opportunities (uniform), drawn from BG/BB."""
        rng = np.random.default_rng(seed)
        periods = rng.integers(6, 13, n)
        return simulate(**params, n=periods, seed=rng.integers(2**32))

    @staticmethod
    def log_likelihood(params, data):
        return log_likelihood(
            params["alpha"], params["beta"], params["gamma"], params["delta"],
            data["frequency"], data["recency"], data["n_periods"],
        )

    @staticmethod
    def gradient(params, data):
        return log_likelihood_gradient(
            params["alpha"], params["beta"], params["gamma"], params["delta"],
            data["frequency"], data["recency"], data["n_periods"],
        )

    def check_data(self, data):
        check_frequency_recency_n(data, self.title)

    # -- predictions -----------------------------------------------------------------------
    def _p(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        return self.params_["alpha"], self.params_["beta"], self.params_["gamma"], self.params_["delta"]

    def _history(self, customers: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = self.read_columns(customers)
        check_frequency_recency_n(data, self.title)
        return data["frequency"], data["recency"], data["n_periods"]

    def expected_purchases(self, customers: Any, n_star) -> np.ndarray:
        """Expected transactions of each customer in the next ``n_star`` opportunities."""
        x, t_x, n = self._history(customers)
        n_star = np.broadcast_to(np.asarray(n_star, dtype=float), x.shape)
        return chunked(lambda *cols: expected_purchases(*self._p(), *cols), x, t_x, n, n_star)

    def expected_purchases_by_period(self, customers: Any, periods: int) -> np.ndarray:
        """Expected transactions in each of the next ``periods`` opportunities (customers × periods)."""
        x, t_x, n = self._history(customers)
        ahead = np.arange(1, int(periods) + 1, dtype=float)

        def block(x, t_x, n):
            cumulative = expected_purchases(*self._p(), x[:, None], t_x[:, None], n[:, None], ahead[None, :])
            return np.diff(cumulative, axis=1, prepend=0.0)

        return chunked(block, x, t_x, n)

    def probability_alive(self, customers: Any, ahead=1) -> np.ndarray:
        """P(alive in opportunity ``n + ahead``); the default is the next opportunity."""
        x, t_x, n = self._history(customers)
        ahead = np.broadcast_to(np.asarray(ahead, dtype=float), x.shape)
        return chunked(lambda *cols: probability_alive(*self._p(), *cols), x, t_x, n, ahead)

    def discounted_expected_residual_transactions(self, customers: Any, discount_rate: float) -> np.ndarray:
        """DERT of each customer at ``discount_rate`` per opportunity."""
        x, t_x, n = self._history(customers)
        d = np.broadcast_to(np.asarray(discount_rate, dtype=float), x.shape)
        return chunked(lambda *cols: discounted_expected_residual_transactions(*self._p(), *cols), x, t_x, n, d)

    def expected_purchases_new_customer(self, n) -> np.ndarray:
        """E[X(n)] for a customer just acquired."""
        return expected_purchases_new_customer(*self._p(), n)

    def probability_of_purchases(self, n, x) -> np.ndarray:
        """P(X(n) = x) for a customer just acquired."""
        return probability_of_purchases(*self._p(), n, x)
