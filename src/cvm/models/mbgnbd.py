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
* expectations given alive come from :mod:`cvm.models.betageo` (shared with BG/NBD):
  Euler-transformed hypergeometric closed forms where they are accurate, quadrature over
  the dropout probability where they are not (``a + b + x`` so large that their leading
  terms cancel, as when the fit runs to the boundary "nobody drops out").

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
from scipy.special import betaln, expit, gammaln, logsumexp

from cvm.errors import ConfigError
from cvm.models import betageo
from cvm.models.base import CustomerModel, PreparedCustomers, check_frequency_recency_T, chunked
from cvm.models.betageo import expected_while_alive, no_dropout_boundary, survival_while_alive
from cvm.models.engine import Parameter, factorize
from cvm.models.special import digamma_difference, log_rising, softplus

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

WEIGHTED_BLOCK = 1 << 22
"""Elements of the (distinct customers × periods) blocks of the period-by-period expectations."""


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
    return base + softplus(_log_dropout_odds(r, alpha, a, b, x, t_x, T))


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


# The expectations given alive live in cvm.models.betageo (shared with BG/NBD); these
# names are kept for callers and tests that reached them here.
_expected_while_alive = expected_while_alive
_survival_while_alive = survival_while_alive
_quadrature_while_alive = betageo._quadrature_while_alive
_quadrature_survival = betageo._quadrature_survival


def probability_alive_at(r, alpha, a, b, x, t_x, T, t):
    """P(alive at T + t | x, t_x, T): alive at T and no dropout in the next ``t``.

    Given alive at T the posterior is ``lambda ~ Gamma(r + x, alpha + T)``,
    ``p ~ Beta(a, b + x + 1)``, and dropout arrives at rate ``lambda p``.

    >>> round(float(probability_alive_at(0.525, 6.183, 0.891, 1.614, x=2, t_x=30.43, T=38.86, t=0)), 4)
    0.7062
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    survive = survival_while_alive(r + x, alpha + T, a, b + x + 1, t)
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
    return alive * expected_while_alive(r + x, alpha + T, a, b + x + 1, t)


def expected_purchases_new_customer(r, alpha, a, b, t):
    """E[X(t)]: expected repeat purchases in the first ``t`` of a new customer.

    ``= b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``: the customer
    survives time 0 with probability ``b/(a+b)``, after which ``p ~ Beta(a, b+1)``.

    >>> round(float(expected_purchases_new_customer(0.525, 6.183, 0.891, 1.614, t=39)), 4)
    1.183
    """
    t = np.asarray(t, dtype=float)
    survive_start = expit(np.log(b) - np.log(a))
    return survive_start * expected_while_alive(r, alpha, a, b + 1.0, t)


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

    def boundary_parameters(self, params):
        """``a`` and ``b`` when the mean dropout probability ``a / (a + b)`` is below 1e-6.

        That is the boundary "nobody drops out" (:func:`cvm.models.betageo.no_dropout_boundary`):
        a fit can stop there with ``a`` around 1e-7, short of the engine's own threshold.
        """
        return no_dropout_boundary(params["a"], params["b"])

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

    def _alive(self, batch: PreparedCustomers) -> np.ndarray:
        """P(alive) now of every prepared customer, computed once per batch."""
        def compute():
            x, t_x, T = (batch.data[k] for k in ("frequency", "recency", "T"))
            return chunked(lambda *cols: probability_alive(*self._p(), *cols), x, t_x, T)
        return batch.cached("alive", compute)

    def _distinct(self, batch: PreparedCustomers) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The distinct ``(x, T)`` of the prepared customers and each customer's index into them.

        The expectation given alive (a hypergeometric function or a quadrature) depends on a
        customer only through ``(x, T)``: a million customers have some ten thousand pairs.
        """
        return batch.cached("distinct_x_T", lambda: factorize({"x": batch.data["frequency"], "T": batch.data["T"]}))

    def _while_alive(self, distinct: dict[str, np.ndarray], edges: np.ndarray) -> np.ndarray:
        """Expected purchases by each edge if alive, per distinct ``(x, T)`` (rows) and edge (columns)."""
        r, alpha, a, b = self._p()
        x, T = distinct["x"], distinct["T"]
        out = np.empty((x.size, edges.size))
        rows = max(1, WEIGHTED_BLOCK // max(edges.size, 1))  # bounded (distinct rows × edges) blocks
        for start in range(0, x.size, rows):
            part = slice(start, start + rows)
            shape = (x[part].size, edges.size)
            columns = [np.broadcast_to(v[:, None], shape) for v in (r + x[part], alpha + T[part], b + x[part] + 1)]
            out[part] = expected_while_alive(columns[0], columns[1], a, columns[2], np.broadcast_to(edges, shape))
        return out

    def expected_purchases_by_period(self, customers: Any, edges) -> np.ndarray:
        """Expected purchases in each future period: ``edges`` are period ends after T.

        Returns an array (customers × periods) whose column k is the expectation in
        ``(T + edges[k-1], T + edges[k]]`` (with ``edges[-1] = 0``). P(alive) is computed once
        (and kept with prepared customers), the expectation if alive once per distinct
        ``(x, T)``; the numbers are those of :func:`expected_purchases` edge by edge.
        """
        edges = np.asarray(edges, dtype=float).reshape(-1)
        batch = self._prepared(customers)
        alive = self._alive(batch)
        distinct, index = self._distinct(batch)
        while_alive = self._while_alive(distinct, edges)
        out = np.empty((edges.size, alive.size))  # period by period, so each column is contiguous
        previous = np.zeros(alive.size)
        for k in range(edges.size):
            cumulative = alive * while_alive[:, k][index]
            np.subtract(cumulative, previous, out=out[k])
            previous = cumulative
        return out.T

    def weighted_expected_purchases(self, customers: Any, edges, period_weights) -> np.ndarray:
        """``sum_k period_weights[k] * expected purchases in period k`` per customer.

        The same as ``expected_purchases_by_period(customers, edges) @ period_weights``
        (discount factors, say), to rounding, without the customers × periods table:
        P(alive) is taken out of the sum, which is formed once per distinct ``(x, T)``.

        >>> model = ModifiedBetaGeoModel.from_params(ModifiedBetaGeoModel.example_params)
        >>> customers = {"frequency": [0.0, 4.0], "recency": [0.0, 30.0], "T": [39.0, 39.0]}
        >>> edges, weights = np.array([4.0, 8.0, 12.0]), np.array([0.99, 0.98, 0.97])
        >>> by_period = model.expected_purchases_by_period(customers, edges) @ weights
        >>> bool(np.allclose(model.weighted_expected_purchases(customers, edges, weights), by_period, rtol=1e-14))
        True
        """
        edges = np.asarray(edges, dtype=float).reshape(-1)
        period_weights = np.asarray(period_weights, dtype=float).reshape(-1)
        if edges.size != period_weights.size:
            raise ConfigError(f"{period_weights.size} period weights for {edges.size} periods")
        batch = self._prepared(customers)
        distinct, index = self._distinct(batch)
        increments = np.diff(self._while_alive(distinct, edges), axis=1, prepend=0.0)
        return self._alive(batch) * np.einsum("ij,j->i", increments, period_weights)[index]

    def probability_alive(self, customers: Any, t=0.0) -> np.ndarray:
        """P(alive) now, or ``t`` time units after the end of observation."""
        t = np.asarray(t, dtype=float)
        if isinstance(customers, PreparedCustomers) and customers.model is self and not np.any(t > 0):
            # at t = 0 the survival factor of probability_alive_at is exactly 1
            alive = self._alive(self._prepared(customers))
            return np.broadcast_to(alive, np.broadcast_shapes(alive.shape, t.shape)).copy()
        x, t_x, T = self._history(customers)
        t = np.broadcast_to(t, x.shape)
        return chunked(lambda *cols: probability_alive_at(*self._p(), *cols), x, t_x, T, t)

    def expected_purchases_new_customer(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        return expected_purchases_new_customer(*self._p(), t)

    def probability_of_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n) for a customer just acquired."""
        return probability_of_purchases(*self._p(), t, n)
