"""BG/NBD: the beta-geometric / negative binomial model (Fader, Hardie & Lee 2005).

While alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
after every purchase they drop out with probability ``p ~ Beta(a, b)``. The data per
customer is the BTYD summary ``(x, t_x, T)`` = (``frequency``, ``recency``, ``T``).

The closed forms are module-level functions of the parameters and the data, so the
model, CLV code and tests call the same formula. They are written to stay finite:
the likelihood's last term is a log-sum-exp and P(alive) a logistic; the expectations
given alive (posterior ``lambda ~ Gamma(r + x, alpha + T)``, ``p ~ Beta(a, b + x)``) come
from :mod:`cvm.models.betageo`, shared with MBG/NBD: Euler-transformed hypergeometric
closed forms where they are accurate, quadrature over the dropout probability elsewhere
(``a`` close to 1, ``a + b`` large or small, the no-dropout boundary).

Fitted to the CDNOW sample (FHL 2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426.

>>> params = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> round(float(expected_purchases_new_customer(**params, t=52)), 3)
1.446
>>> round(float(probability_alive(**params, x=26, t_x=30.85714, T=31)), 4)
0.9689
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy.special import betaln, expit, gammaln, logsumexp

from cvm.errors import ConfigError
from cvm.models.base import CustomerModel, PreparedCustomers, check_frequency_recency_T
from cvm.models.betageo import expected_while_alive, no_dropout_boundary, survival_while_alive
from cvm.models.engine import Parameter, factorize, levels
from cvm.models.special import digamma_difference, log_rising, softplus

__all__ = [
    "BetaGeoModel",
    "log_likelihood",
    "log_likelihood_gradient",
    "probability_alive",
    "probability_alive_at",
    "expected_purchases",
    "expected_purchases_new_customer",
    "probability_of_purchases",
    "simulate",
]


def _log_dropout_odds(r, alpha, a, b, x, t_x, T):
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for x > 0; -inf for x = 0."""
    if np.ndim(a) == 0 and np.ndim(b) == 0 and np.ndim(x) == 1 and x.size > 10_000:
        # one set of parameters and many customers: the odds term per distinct frequency
        x_levels, x_index = levels(x)
        with np.errstate(divide="ignore"):
            per_x = np.where(x_levels > 0, np.log(a) - np.log(np.where(x_levels > 0, b + x_levels - 1, 1.0)), -np.inf)
        ratio = T - t_x
        ratio /= alpha + t_x
        np.log1p(ratio, out=ratio)
        ratio *= r + x
        ratio += per_x[x_index]
        return ratio
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (
            np.log(a)
            - np.log(np.where(x > 0, b + x - 1, 1.0))
            + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
        )
    return np.where(x > 0, value, -np.inf)


def log_likelihood(r, alpha, a, b, x, t_x, T):
    """Log-likelihood of each customer (FHL 2005, eq. 6), in log-sum-exp form.

    Differences of log-gamma functions are taken with :func:`~cvm.models.special.log_rising`
    so the likelihood stays smooth when ``r, alpha`` or ``a, b`` run to infinity together.

    >>> round(float(log_likelihood(0.243, 4.414, 0.793, 2.426, x=2, t_x=30.43, T=38.86)), 6)
    -9.458606
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    base = (
        log_rising(r, x)
        - r * np.log1p(T / alpha)
        - x * np.log(alpha + T)
        + log_rising(b, x)
        - log_rising(a + b, x)
    )
    return base + softplus(_log_dropout_odds(r, alpha, a, b, x, t_x, T))


def log_likelihood_gradient(r, alpha, a, b, x, t_x, T) -> dict[str, np.ndarray]:
    """Per-customer derivatives of :func:`log_likelihood` with respect to r, alpha, a, b."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_odds = _log_dropout_odds(r, alpha, a, b, x, t_x, T)
    share = np.where(x > 0, expit(log_odds), 0.0)  # D / (1 + D)
    log_ratio = np.log1p((T - t_x) / (alpha + t_x))
    b_x1 = np.where(x > 0, b + x - 1, 1.0)
    ab_diff = digamma_difference(a + b, x)
    return {
        "r": digamma_difference(r, x) - np.log1p(T / alpha) + share * log_ratio,
        "alpha": (r * T - x * alpha) / (alpha * (alpha + T))
        - share * (r + x) * (T - t_x) / ((alpha + T) * (alpha + t_x)),
        "a": -ab_diff + share / a,
        "b": digamma_difference(b, x) - ab_diff - share / b_x1,
    }


def prepare(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Parameter-free pieces of the BTYD summary, computed once per fit.

    Frequency and T take few distinct values even in large logs, so the terms that depend
    on one of them are evaluated per distinct value and gathered.
    """
    x, t_x, T = (np.asarray(data[k], dtype=float) for k in ("frequency", "recency", "T"))
    x_levels, x_index = levels(x)
    T_levels, T_index = levels(T)
    return {
        "x": x,
        "t_x": t_x,
        "T": T,
        "T_minus_t_x": T - t_x,
        "x_levels": x_levels,
        "x_index": x_index.reshape(-1),
        "T_levels": T_levels,
        "T_index": T_index.reshape(-1),
    }


def prepared_log_likelihood(params: Mapping[str, float], prep: Mapping[str, np.ndarray]) -> np.ndarray:
    """:func:`log_likelihood` on data from :func:`prepare` (the same values, faster)."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    xl, xi, Ti = prep["x_levels"], prep["x_index"], prep["T_index"]
    x = prep["x"]
    per_x = log_rising(r, xl) + log_rising(b, xl) - log_rising(a + b, xl)
    with np.errstate(divide="ignore"):
        odds_x = np.where(xl > 0, np.log(a) - np.log(np.where(xl > 0, b + xl - 1, 1.0)), -np.inf)
    per_T = -r * np.log1p(prep["T_levels"] / alpha)
    log_alpha_T = np.log(alpha + prep["T_levels"])
    log_odds = odds_x[xi] + (r + x) * np.log1p(prep["T_minus_t_x"] / (alpha + prep["t_x"]))
    return per_x[xi] + per_T[Ti] - x * log_alpha_T[Ti] + softplus(log_odds)


def prepared_gradient(params: Mapping[str, float], prep: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`log_likelihood_gradient` on data from :func:`prepare`."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    xl, xi, Ti = prep["x_levels"], prep["x_index"], prep["T_index"]
    x, t_x, T, gap = prep["x"], prep["t_x"], prep["T"], prep["T_minus_t_x"]
    with np.errstate(divide="ignore"):
        odds_x = np.where(xl > 0, np.log(a) - np.log(np.where(xl > 0, b + xl - 1, 1.0)), -np.inf)
    inv_b_x = np.where(xl > 0, 1.0 / np.where(xl > 0, b + xl - 1, 1.0), 0.0)
    log_ratio = np.log1p(gap / (alpha + t_x))
    share = expit(odds_x[xi] + (r + x) * log_ratio)
    d_ab = digamma_difference(a + b, xl)
    per_T_r = np.log1p(prep["T_levels"] / alpha)
    alpha_T = alpha + T
    return {
        "r": digamma_difference(r, xl)[xi] - per_T_r[Ti] + share * log_ratio,
        "alpha": (r * T - x * alpha) / (alpha * alpha_T) - share * (r + x) * gap / (alpha_T * (alpha + t_x)),
        "a": -d_ab[xi] + share / a,
        "b": (digamma_difference(b, xl) - d_ab)[xi] - share * inv_b_x[xi],
    }


def _level_weights(prep: dict, w: np.ndarray) -> dict[str, np.ndarray]:
    """Row weights summed per distinct frequency and per distinct T (cached on ``prep``)."""
    cached = prep.get("_level_weights")
    if cached is not None and cached[0] is w:
        return cached[1]
    levels = {
        "w_x": np.bincount(prep["x_index"], weights=w, minlength=prep["x_levels"].size),
        "w_T": np.bincount(prep["T_index"], weights=w, minlength=prep["T_levels"].size),
        "wx_T": np.bincount(prep["T_index"], weights=w * prep["x"], minlength=prep["T_levels"].size),
    }
    prep["_level_weights"] = (w, levels)
    return levels


def prepared_totals(
    params: Mapping[str, float], prep: dict, w: np.ndarray
) -> tuple[float, dict[str, float]]:
    """Weighted total log-likelihood and its gradient, from data made by :func:`prepare`.

    Every term that depends on the frequency alone or on T alone is summed per distinct
    value with the summed weights; only the dropout term needs a pass over the rows.
    This is what the fit evaluates; it equals ``sum(w * log_likelihood(...))`` and the
    weighted sums of :func:`log_likelihood_gradient`.
    """
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    lv = _level_weights(prep, w)
    xl, xi, Ti, Tl = prep["x_levels"], prep["x_index"], prep["T_index"], prep["T_levels"]
    x, t_x, gap = prep["x"], prep["t_x"], prep["T_minus_t_x"]
    positive = xl > 0
    b_x1 = np.where(positive, b + xl - 1, 1.0)
    with np.errstate(divide="ignore"):
        odds_x = np.where(positive, np.log(a) - np.log(b_x1), -np.inf)
    log1p_T = np.log1p(Tl / alpha)
    log_alpha_T = np.log(alpha + Tl)
    alpha_tx = alpha + t_x
    log_ratio = np.log1p(gap / alpha_tx)
    log_odds = odds_x[xi] + (r + x) * log_ratio
    soft = softplus(log_odds)
    per_x = log_rising(r, xl) + log_rising(b, xl) - log_rising(a + b, xl)
    total = (
        float(lv["w_x"] @ per_x)
        - r * float(lv["w_T"] @ log1p_T)
        - float(lv["wx_T"] @ log_alpha_T)
        + float(np.einsum("i,i->", w, soft))
    )
    weighted_share = w * np.exp(log_odds - soft)  # w * D / (1 + D); 0 where x = 0
    share_x = np.bincount(xi, weights=weighted_share, minlength=xl.size)
    inv_alpha_T = 1.0 / (alpha + Tl)
    d_ab = digamma_difference(a + b, xl)
    grad = {
        "r": float(lv["w_x"] @ digamma_difference(r, xl)) - float(lv["w_T"] @ log1p_T)
        + float(np.einsum("i,i->", weighted_share, log_ratio)),
        "alpha": r / alpha * float(lv["w_T"] @ (Tl * inv_alpha_T))
        - float(lv["wx_T"] @ inv_alpha_T)
        - float(np.einsum("i,i->", weighted_share, (r + x) * gap * inv_alpha_T[Ti] / alpha_tx)),
        "a": -float(lv["w_x"] @ d_ab) + float(share_x.sum()) / a,
        "b": float(lv["w_x"] @ (digamma_difference(b, xl) - d_ab)) - float(share_x @ np.where(positive, 1.0 / b_x1, 0.0)),
    }
    return total, grad


def probability_alive(r, alpha, a, b, x, t_x, T):
    """P(alive at T | x, t_x, T) (FHL 2005, eq. 11, as in their note on P(alive)).

    Customers without repeat purchases are alive with probability 1 under BG/NBD.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return expit(-_log_dropout_odds(r, alpha, a, b, x, t_x, T))


def probability_alive_at(r, alpha, a, b, x, t_x, T, t):
    """P(alive at T + t | x, t_x, T): alive now and no dropout in the next ``t``.

    Given alive at T, dropout is exponential with rate ``lambda * p`` and the posterior is
    ``lambda ~ Gamma(r + x, alpha + T)``, ``p ~ Beta(a, b + x)``; the survival factor is
    :func:`cvm.models.betageo.survival_while_alive` (a hypergeometric closed form, or
    quadrature where that is not accurate). Parameters may be arrays (one value per
    customer, as with covariates).

    >>> round(float(probability_alive_at(0.243, 4.414, 0.793, 2.426, x=2, t_x=30.43, T=38.86, t=0)), 4)
    0.7266
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    survive = survival_while_alive(r + x, alpha + T, a, b + x, t)
    return probability_alive(r, alpha, a, b, x, t_x, T) * survive


def expected_purchases(r, alpha, a, b, x, t_x, T, t):
    """Expected purchases in (T, T + t] given the history (FHL 2005, eq. 10).

    >>> round(float(expected_purchases(0.243, 4.414, 0.793, 2.426, x=2, t_x=30.43, T=38.86, t=39)), 3)
    1.226
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    alive = probability_alive(r, alpha, a, b, x, t_x, T)
    return alive * expected_while_alive(r + x, alpha + T, a, b + x, t)


def expected_purchases_new_customer(r, alpha, a, b, t):
    """E[X(t)]: expected purchases in the first ``t`` of a new customer (FHL 2005, eq. 7).

    >>> round(float(expected_purchases_new_customer(0.243, 4.414, 0.793, 2.426, t=39)), 4)
    1.1967
    """
    return expected_while_alive(r, alpha, a, b, np.asarray(t, dtype=float))


def probability_of_purchases(r, alpha, a, b, t, n):
    """P(X(t) = n) for a new customer (FHL 2005, eq. 8).

    >>> round(float(probability_of_purchases(0.243, 4.414, 0.793, 2.426, t=39, n=0)), 7)
    0.5737864
    """
    t, n = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(n, dtype=float))
    log_q = np.log(alpha) - np.log(alpha + t)  # log alpha/(alpha+t)
    log_s = np.log(t) - np.log(alpha + t)  # log t/(alpha+t)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = (
            betaln(a, b + n)
            - betaln(a, b)
            + gammaln(r + n)
            - gammaln(r)
            - gammaln(n + 1)
            + r * log_q
            + np.where(n > 0, n * log_s, 0.0)
        )
        max_n = int(np.max(n)) if n.size else 0
        j = np.arange(max(max_n, 1))
        # partial sums of the NBD probabilities P(NBD(t) = j), j < n
        log_terms = (
            gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * log_q[..., None] + j * log_s[..., None]
        )
        log_terms = np.where(j < n[..., None], log_terms, -np.inf)
        tail = -np.expm1(np.clip(logsumexp(log_terms, axis=-1), None, 0.0))
        second = np.where(
            n > 0,
            np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * np.clip(tail, 0.0, 1.0),
            0.0,
        )
    return np.exp(first) + second


def simulate(r, alpha, a, b, T, seed=None) -> dict[str, np.ndarray]:
    """Draw BTYD summaries ``(frequency, recency, T)`` from BG/NBD, one per entry of ``T``.

    Each customer draws ``lambda ~ Gamma(r, alpha)`` and ``p ~ Beta(a, b)``; repeat
    purchases arrive as a Poisson process and after each one the customer drops out with
    probability ``p``. Used by the tests and to build boundary cases.

    >>> sim = simulate(0.243, 4.414, 0.793, 2.426, T=[39.0, 39.0, 39.0], seed=1)
    >>> sorted(sim)
    ['T', 'frequency', 'recency']
    """
    rng = np.random.default_rng(seed)
    T = np.asarray(T, dtype=float)
    lam = rng.gamma(r, 1.0 / alpha, size=T.shape)
    p = rng.beta(a, b, size=T.shape)
    arrivals = rng.poisson(lam * T)
    purchases_before_dropout = rng.geometric(np.clip(p, 1e-300, 1.0))
    x = np.minimum(arrivals, purchases_before_dropout)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    return {"frequency": x.astype(float), "recency": t_x, "T": T}


class BetaGeoModel(CustomerModel):
    """BG/NBD with parameters ``r, alpha, a, b`` (Fader, Hardie & Lee 2005).

    Static covariates (numeric columns, for example 0/1 dummies of the acquisition channel)
    enter as in CLVTools: ``alpha_i = alpha * exp(-g_purchase'z)`` (a positive coefficient
    means more purchases) and ``a_i = a * exp(g_dropout'z)``, ``b_i = b * exp(g_dropout'z)``.
    With every coefficient zero the model is exactly plain BG/NBD.

    >>> customers = simulate(r=0.25, alpha=4.0, a=0.8, b=2.5, T=[39.0] * 5000, seed=7)
    >>> model = BetaGeoModel().fit(customers)
    >>> model.converged_
    True
    >>> {k: round(v, 1) for k, v in model.params_.items()}
    {'r': 0.3, 'alpha': 4.0, 'a': 0.7, 'b': 2.3}
    """

    name: ClassVar[str] = "bgnbd"
    title: ClassVar[str] = "BG/NBD"
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("r"),
        Parameter("alpha", time_power=1),
        Parameter("a"),
        Parameter("b"),
    )
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    time_columns: ClassVar[tuple[str, ...]] = ("recency", "T")
    covariate_links: ClassVar[dict[str, dict[str, int]]] = {"purchase": {"alpha": -1}, "dropout": {"a": 1, "b": 1}}
    example_params: ClassVar[dict[str, float]] = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}

    @classmethod
    def simulate(cls, params, n, seed=None):
        """``n`` customers observed for 30 to 52 time units (uniform), drawn from BG/NBD."""
        rng = np.random.default_rng(seed)
        T = rng.uniform(30.0, 52.0, n)
        return simulate(**params, T=T, seed=rng.integers(2**32))

    @staticmethod
    def log_likelihood(params, data):
        return log_likelihood(
            params["r"], params["alpha"], params["a"], params["b"], data["frequency"], data["recency"], data["T"]
        )

    prepare = staticmethod(prepare)
    prepared_log_likelihood = staticmethod(prepared_log_likelihood)
    prepared_gradient = staticmethod(prepared_gradient)
    prepared_totals = staticmethod(prepared_totals)

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
    def _customers(self, customers: Any) -> PreparedCustomers:
        """The customers, checked once, with their parameters (``batch.cache["params"]``)."""
        batch = self._prepared(customers)
        batch.cached("params", lambda: self._customer_params(batch.data))
        return batch

    def _customer_params(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        params = self.customer_params(self.params_, data)
        shape = data["frequency"].shape
        return {k: np.broadcast_to(np.asarray(v, dtype=float), shape) for k, v in params.items()}

    def _alive(self, batch: PreparedCustomers) -> np.ndarray:
        """P(alive) now of every customer, computed once per prepared batch."""
        def compute():
            # one set of parameters for everybody unless there are covariates (scalars take
            # the per-frequency route of _log_dropout_odds)
            params = batch.cache["params"] if self.covariates else self.params_
            data = batch.data
            return probability_alive(params["r"], params["alpha"], params["a"], params["b"],
                                     data["frequency"], data["recency"], data["T"])
        return batch.cached("alive", compute)

    def _distinct(self, batch: PreparedCustomers, t=None) -> tuple[dict[str, Any], np.ndarray]:
        """The distinct (x, T[, t][, parameters]) of the customers and each customer's index.

        The costly part of every prediction (a hypergeometric function or a quadrature)
        depends on the frequency and T but not on the recency, so it is evaluated once
        per distinct pair: a million customers have some ten thousand. A horizon ``t`` that
        is the same for everybody is left out of the grouping (and the grouping is kept
        with the prepared customers).
        """
        params, data = batch.cache["params"], batch.data
        t = None if t is None else np.asarray(t, dtype=float)
        common_t = t is None or t.ndim == 0 or t.size == 0 or bool(np.all(t == t.flat[0]))

        def group(with_t: bool):
            columns = {"x": data["frequency"], "T": data["T"]}
            if with_t:
                columns["t"] = np.broadcast_to(t, data["frequency"].shape)
            if self.covariates:
                columns |= {k: params[k] for k in ("r", "alpha", "a", "b")}
            distinct, index = factorize(columns)
            if not self.covariates:
                distinct |= {k: self.params_[k] for k in ("r", "alpha", "a", "b")}
            return distinct, index

        if not common_t:
            return group(True)
        distinct, index = batch.cached("distinct_x_T", lambda: group(False))
        if t is not None:
            distinct = distinct | {"t": float(t.flat[0]) if t.size else 0.0}
        return distinct, index

    def expected_purchases(self, customers: Any, t) -> np.ndarray:
        """Expected purchases of each customer in the next ``t`` time units (scalar or per customer)."""
        batch = self._customers(customers)
        t = np.broadcast_to(np.asarray(t, dtype=float), (len(batch),))
        d, index = self._distinct(batch, t)
        while_alive = expected_while_alive(d["r"] + d["x"], d["alpha"] + d["T"], d["a"], d["b"] + d["x"], d["t"])
        return self._alive(batch) * np.broadcast_to(while_alive, d["x"].shape)[index]

    def expected_purchases_by_period(self, customers: Any, edges) -> np.ndarray:
        """Expected purchases in each future period: ``edges`` are period ends after T.

        Returns an array (customers × periods) whose column k is the expectation in
        ``(T + edges[k-1], T + edges[k]]`` (with ``edges[-1] = 0``).
        """
        alive, increments, index = self._period_increments(customers, edges)
        # built period by period, so each column of the (customers × periods) result is contiguous
        out = np.empty((increments.shape[1], alive.size))
        for k in range(increments.shape[1]):
            np.multiply(alive, increments[:, k][index], out=out[k])
        return out.T

    def weighted_expected_purchases(self, customers: Any, edges, period_weights) -> np.ndarray:
        """``sum_k period_weights[k] * expected purchases in period k`` per customer.

        The same as ``expected_purchases_by_period(customers, edges) @ period_weights``
        (discount factors, say) without building the customers × periods table.
        """
        period_weights = np.asarray(period_weights, dtype=float).reshape(-1)
        alive, increments, index = self._period_increments(customers, edges)
        if increments.shape[1] != period_weights.size:
            raise ConfigError(f"{period_weights.size} period weights for {increments.shape[1]} periods")
        return alive * np.einsum("ij,j->i", increments, period_weights)[index]

    def _period_increments(self, customers: Any, edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P(alive) per customer, and per distinct (x, T) the expected purchases per period if alive."""
        edges = np.asarray(edges, dtype=float).reshape(-1)
        batch = self._customers(customers)
        d, index = self._distinct(batch)
        # every (distinct customer, edge) pair in one call
        shape = (d["x"].size, edges.size)
        columns = [np.broadcast_to(np.asarray(v, dtype=float)[..., None], shape)
                   for v in (d["r"] + d["x"], d["alpha"] + d["T"], d["a"], d["b"] + d["x"])]
        cumulative = expected_while_alive(*columns, np.broadcast_to(edges, shape)).reshape(shape)
        return self._alive(batch), np.diff(cumulative, axis=1, prepend=0.0), index

    def probability_alive(self, customers: Any, t=0.0) -> np.ndarray:
        """P(alive) now, or ``t`` time units after the end of observation."""
        batch = self._customers(customers)
        alive = self._alive(batch)
        t = np.broadcast_to(np.asarray(t, dtype=float), (len(batch),))
        if not np.any(t > 0):
            return alive.copy()
        d, index = self._distinct(batch, t)
        survive = survival_while_alive(d["r"] + d["x"], d["alpha"] + d["T"], d["a"], d["b"] + d["x"], d["t"])
        return alive * np.broadcast_to(survive, d["x"].shape)[index]

    def _population(self) -> tuple[float, float, float, float]:
        self._check_fitted()
        if self.covariates:
            raise ConfigError(
                "a new customer's expectation depends on their covariates",
                hint="use expected_purchases with frequency = recency = 0 and a tiny T for that customer",
            )
        return self.params_["r"], self.params_["alpha"], self.params_["a"], self.params_["b"]

    def expected_purchases_new_customer(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        return expected_purchases_new_customer(*self._population(), t)

    def probability_of_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n) for a customer just acquired."""
        return probability_of_purchases(*self._population(), t, n)
