"""One maximum-likelihood engine for every customer-base model.

A model hands the engine three things: its :class:`Parameter` list, a function giving
the log-likelihood of each data row, and (optionally) the gradient of that function
with respect to the natural parameters. The engine does everything else, the same way
for every model:

* **compression** – identical data rows are fitted once with a weight
  (:func:`compress`), so ten million customers cost what their distinct rows cost;
* **time rescaling** – time columns are multiplied by ``scale = 10 / max(time)``
  during optimisation and parameters measured in time units are mapped back, so the
  optimiser sees well-conditioned numbers whatever the unit (days or years);
* **unconstrained optimisation** – positive parameters are optimised on the log scale,
  coefficients as they are; L-BFGS-B with the analytic gradient when the model has one
  (finite differences otherwise), Nelder–Mead as a fallback, and restarts from spread
  starting points whenever the likelihood is not finite or the optimiser fails;
* **optional L2 penalty** ``penalizer * sum(theta**2)`` on the unconstrained parameters
  in the caller's time unit (log-parameters and coefficients);
* **inference** – the Hessian of the log-likelihood at the optimum (central differences of
  the gradient) gives the covariance of the unconstrained parameters; a Hessian that is
  not negative definite is repaired (pseudo-inverse of its eigen-clipped negative) and
  the report says so. Standard errors on the natural scale follow by the delta method;
  95 % intervals of positive parameters are computed on the log scale, so they stay
  positive;
* a :class:`FitReport` kept on the fitted model: convergence, method, iterations,
  restarts, gradient norm, parameters on a boundary and every warning raised.

>>> import numpy as np
>>> from scipy.special import gammaln
>>> def poisson_loglik(params, data):
...     lam = params["lam"]
...     return data["x"] * np.log(lam) - lam - gammaln(data["x"] + 1)
>>> est = estimate(poisson_loglik, [Parameter("lam")], {"x": np.array([1.0, 2.0, 3.0])})
>>> round(est.params["lam"], 6), est.report.converged
(2.0, True)
>>> round(est.standard_errors["lam"], 4)   # sqrt(lam / n)
0.8165
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import optimize

from cvm.labels import Note

logger = logging.getLogger(__name__)

LOG_BOUND = 30.0
"""Positive parameters are searched within ``exp(±LOG_BOUND)`` (on time-rescaled data)."""

BOUNDARY_LOG = 15.0
"""A positive parameter beyond ``exp(±BOUNDARY_LOG)`` on time-rescaled data is reported as
on a boundary: there, the likelihood is flat and the value is not identified (for example
BG/NBD's ``a, b -> inf`` when every customer has the same dropout probability)."""

GRADIENT_TOL = 1e-5
"""A fit counts as converged only where the gradient of the mean log-likelihood (per customer,
with respect to the optimised parameters) is below this in every direction not at a bound."""

Z_95 = 1.959963984540054
"""Standard-normal quantile for two-sided 95 % intervals."""

Params = dict[str, "np.ndarray | float"]
LogLikelihood = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], np.ndarray]
Gradient = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


class ConvergenceWarning(UserWarning):
    """The optimiser stopped without meeting its convergence test; see the model's ``report_``."""


class BoundaryWarning(UserWarning):
    """A parameter went to the edge of its range: the optimum is on a boundary."""


class HessianWarning(UserWarning):
    """The Hessian at the optimum was not negative definite and was repaired."""


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    ``positive`` parameters are optimised as ``log(value)``; others (regression
    coefficients) as they are. ``time_power`` says how the value changes when time is
    measured in a unit ``k`` times smaller: the value is multiplied by ``k**time_power``
    (a gamma *rate* of purchase rates such as BG/NBD's ``alpha`` has power 1; a rate per
    unit of time has power -1; shape parameters have 0). ``start`` is the default
    starting value.

    >>> Parameter("alpha", time_power=1).start
    1.0
    """

    name: str
    positive: bool = True
    time_power: int = 0
    start: float = 1.0


@dataclass
class FitReport:
    """What happened during a fit, kept on the fitted model.

    >>> FitReport(converged=True, method="L-BFGS-B").converged
    True
    """

    converged: bool
    method: str
    message: str = ""
    iterations: int = 0
    function_evaluations: int = 0
    restarts: int = 0
    gradient_norm: float = float("nan")
    boundary: list[str] = field(default_factory=list)
    hessian_repaired: bool = False
    n_rows: int = 0
    n_distinct_rows: int = 0
    time_scale: float = 1.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dictionary."""
        return {
            "converged": self.converged,
            "method": self.method,
            "message": self.message,
            "iterations": self.iterations,
            "function_evaluations": self.function_evaluations,
            "restarts": self.restarts,
            "gradient_norm": _json_float(self.gradient_norm),
            "boundary": list(self.boundary),
            "hessian_repaired": self.hessian_repaired,
            "n_rows": self.n_rows,
            "n_distinct_rows": self.n_distinct_rows,
            "time_scale": self.time_scale,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> FitReport:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["gradient_norm"] = _from_json_float(values.get("gradient_norm"))
        return cls(**values)


@dataclass
class Estimate:
    """The result of :func:`estimate`: natural-scale parameters and their uncertainty."""

    params: dict[str, float]
    log_likelihood: float
    covariance: np.ndarray
    """Covariance of the natural-scale parameters (delta method), in parameter order."""
    unconstrained_covariance: np.ndarray
    """Covariance of the optimised parameters (log scale for positive ones)."""
    report: FitReport

    @property
    def standard_errors(self) -> dict[str, float]:
        """Standard error of each parameter on its natural scale."""
        diag = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        return {name: float(se) for name, se in zip(self.params, diag, strict=True)}


def compress(
    data: Mapping[str, np.ndarray], weights: np.ndarray | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Collapse identical rows into one row with the summed weight.

    The order of the distinct rows depends only on their values (not on the input order),
    so a shuffled table compresses to exactly the same rows.

    >>> rows, w = compress({"x": np.array([1.0, 1.0, 2.0]), "t": np.array([3.0, 3.0, 3.0])})
    >>> sorted(zip(rows["x"].tolist(), w.tolist()))
    [(1.0, 2.0), (2.0, 1.0)]
    """
    names = list(data)
    columns = [np.ascontiguousarray(np.asarray(data[name], dtype=float)) for name in names]
    n = len(columns[0]) if columns else 0
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if n == 0:
        return {name: col for name, col in zip(names, columns, strict=True)}, w
    distinct, inverse = factorize(dict(zip(names, columns, strict=True)))
    n_distinct = len(next(iter(distinct.values())))
    if n_distinct == n:  # nothing merged: the weights only follow the rows' new order
        order = np.empty(n, dtype=np.intp)
        order[inverse] = np.arange(n)
        return distinct, w[order]
    return distinct, np.bincount(inverse, weights=w, minlength=n_distinct)


def factorize(data: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct rows of ``data`` and, for each input row, the index of its distinct row.

    One 64-bit hash per row, grouped with Arrow's hash table (``dictionary_encode``, linear
    in the rows) and one sort of the distinct hashes, so that the order of the distinct
    rows depends only on their values; when a sample shows (nearly) every row distinct, one
    sort of all the hashes instead. Rows that share a hash are checked to be equal (a
    collision, astronomically unlikely, falls back to sorting every column).

    >>> rows, index = factorize({"x": np.array([2.0, 1.0, 2.0])})
    >>> rows["x"][index].tolist()
    [2.0, 1.0, 2.0]
    """
    names = list(data)
    columns = [np.ascontiguousarray(np.asarray(data[name], dtype=float)) for name in names]
    n = len(columns[0]) if columns else 0
    if n == 0:
        return {name: col for name, col in zip(names, columns, strict=True)}, np.zeros(0, dtype=np.intp)
    key = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in columns:
            bits = (col + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
            key = _mix64(key ^ bits)  # a bijection of the previous key, mixed with the next column
    inverse, first = _group_keys(key)
    if first.size == n:  # every hash distinct, so every row distinct: nothing to check
        return {name: col[first] for name, col in zip(names, columns, strict=True)}, inverse
    if all(np.array_equal(col[first][inverse], col) for col in columns):
        return {name: col[first] for name, col in zip(names, columns, strict=True)}, inverse
    order = np.lexsort(columns[::-1])
    sorted_cols = [col[order] for col in columns]
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for col in sorted_cols:
        change[1:] |= col[1:] != col[:-1]
    group = np.cumsum(change) - 1
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = group
    starts = np.flatnonzero(change)
    return {name: col[starts] for name, col in zip(names, sorted_cols, strict=True)}, inverse


def levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of one column, sorted, and each row's index into them.

    The same as ``np.unique(values, return_inverse=True)``, without sorting every row: a
    table of the whole numbers present when the column holds modest whole numbers (a
    frequency), otherwise :func:`factorize`'s hash grouping.

    >>> distinct, index = levels(np.array([3.0, 1.0, 3.0, 0.5]))
    >>> distinct.tolist(), index.tolist()
    ([0.5, 1.0, 3.0], [2, 1, 2, 0])
    """
    values = np.ascontiguousarray(values, dtype=float).reshape(-1)
    if values.size == 0:
        return values.copy(), np.zeros(0, dtype=np.intp)
    low, top = float(values.min()), float(values.max())
    if low >= 0 and top <= 4 * values.size + 1024:
        codes = values.astype(np.intp)
        if np.array_equal(codes, values):
            present = np.bincount(codes, minlength=int(top) + 1) > 0
            position = np.cumsum(present) - 1
            return np.flatnonzero(present).astype(float), position[codes]
    if np.isnan(low) or np.isnan(top):
        distinct, index = np.unique(values, return_inverse=True)
        return distinct, index.reshape(-1)
    distinct, index = factorize({"v": values})
    order = np.argsort(distinct["v"])  # hash order -> value order
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return distinct["v"][order], rank[index]


def _group_keys(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each key the rank of its value among the distinct keys, and a row of each key."""
    n = key.size
    sample = key[:: max(n // 10_000, 1)]
    if np.unique(sample).size >= 0.995 * sample.size or n >= 2**31 - 1:
        # (nearly) every row distinct, as with spend: one sort beats a hash table that big
        order = _radix_argsort(key)
        ordered = key[order]
        change = np.empty(n, dtype=bool)
        change[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=change[1:])
        inverse = np.empty(n, dtype=np.intp)
        inverse[order] = np.cumsum(change) - 1
        return inverse, order[change]
    # built from the buffer directly: pa.array() would import pandas on its first call
    keys = pa.Array.from_buffers(pa.uint64(), n, [None, pa.py_buffer(key)])
    encoded = keys.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=True)
    distinct = encoded.dictionary.to_numpy(zero_copy_only=True)
    order = np.argsort(distinct)
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    inverse = rank[codes]
    first = np.empty(int(inverse.max()) + 1, dtype=np.intp)
    first[inverse] = np.arange(n)  # a row of each group (the last one)
    return inverse, first


def _radix_argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort`` of 64-bit keys by four stable passes over 16-bit digits (numpy sorts
    16-bit integers by radix sort, in linear time), about a third faster than a comparison sort.

    >>> _radix_argsort(np.array([2**40, 3, 2**20, 0], dtype=np.uint64)).tolist()
    [3, 1, 2, 0]
    """
    mask = np.uint64(0xFFFF)
    order = np.argsort((key & mask).astype(np.uint16), kind="stable")
    for shift in (16, 32, 48):
        digit = ((key[order] >> np.uint64(shift)) & mask).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
    return order


def _mix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a fast, well-spread 64-bit hash of 64-bit integers."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def estimate(
    log_likelihood: LogLikelihood,
    parameters: Sequence[Parameter],
    data: Mapping[str, np.ndarray],
    weights: np.ndarray | None = None,
    *,
    gradient: Gradient | None = None,
    time_columns: Sequence[str] = (),
    start: Mapping[str, float] | None = None,
    penalizer: float = 0.0,
    tol: float = 1e-10,
    max_iterations: int = 5000,
    max_restarts: int = 6,
    compress_rows: bool = True,
    prepare: Callable[[Mapping[str, np.ndarray]], Any] | None = None,
    totals: Callable[[Mapping[str, float], Any, np.ndarray], tuple[float, Mapping[str, float]]] | None = None,
    hessian: Callable[[Mapping[str, float], Any, np.ndarray], np.ndarray] | None = None,
) -> Estimate:
    """Maximise ``sum(weights * log_likelihood(params, data))`` over the parameters.

    ``log_likelihood(params, data)`` returns one value per row, with ``params`` a dict of
    natural-scale values; ``gradient(params, data)`` (optional) returns, per parameter,
    the per-row derivative of the log-likelihood with respect to that natural parameter.
    ``time_columns`` name the data columns measured in time units (rescaled internally).
    ``prepare(data)``, when given, is called once on the (compressed, rescaled) data and its
    result is what ``log_likelihood`` and ``gradient`` receive: a model can precompute
    what does not depend on the parameters (distinct values of a column, say).
    ``totals(params, data, weights)``, when given (it needs ``gradient`` too, for the
    flags), returns the weighted total log-likelihood and its gradient in one call; the
    engine then uses it instead of summing the per-row functions. ``hessian(params, data,
    weights)``, when given, returns the matrix of second derivatives of the weighted total in
    the natural parameters (in parameter order); the standard errors then come from it
    instead of from differences of the gradient.
    """
    parameters = list(parameters)
    names = [p.name for p in parameters]
    columns = {k: np.asarray(v, dtype=float) for k, v in data.items()}
    n_rows = len(next(iter(columns.values()))) if columns else 0
    w = np.ones(n_rows) if weights is None else np.asarray(weights, dtype=float)
    if compress_rows and columns:
        columns, w = compress(columns, w)
    total_weight = float(w.sum())
    if total_weight <= 0:
        raise ValueError("no data to fit: the total weight of the rows is zero")

    scale = _time_scale(columns, time_columns)
    scaled = {k: (v * scale if k in time_columns else v) for k, v in columns.items()}
    fit_data = prepare(scaled) if prepare else scaled
    if scale == 1.0 or not time_columns:  # the fit's own data is already on the caller's scale
        user_data = fit_data
    else:
        user_data = prepare(columns) if prepare else columns
    positive = np.array([p.positive for p in parameters])
    # theta_scaled = theta_user + time_power * log(scale) for positive parameters
    shift = np.array([p.time_power * math.log(scale) if p.positive else 0.0 for p in parameters])

    def to_params(theta: np.ndarray) -> dict[str, float]:
        values = np.where(positive, np.exp(np.clip(theta, -700, 700)), theta)
        return dict(zip(names, values.tolist(), strict=True))

    memo: dict[str, Any] = {}

    def sums(params: dict[str, float], data: Any, with_gradient: bool) -> tuple[float, np.ndarray | None]:
        """Weighted total log-likelihood and (optionally) its gradient in the natural parameters.

        With ``totals`` both come from one call, remembered for the next call at the same
        point (the optimiser asks for the value and then the gradient)."""
        key = (id(data), tuple(params.values()))
        if memo.get("key") == key:
            return memo["value"]
        with np.errstate(all="ignore"):
            if totals is not None:
                ll, g = totals(params, data, w)
                result = (float(ll), np.array([float(g[name]) for name in names]))
            else:
                ll = _weighted_sum(w, log_likelihood(params, data))
                g = None
                if with_gradient:
                    per_row = gradient(params, data)  # type: ignore[misc]
                    g = np.array([_weighted_sum(w, per_row[name]) for name in names])
                result = (ll, g)
        if totals is not None or with_gradient:
            memo["key"], memo["value"] = key, result
        return result

    def objective(theta: np.ndarray) -> float:
        ll, _ = sums(to_params(theta), fit_data, gradient is not None)
        value = -ll / total_weight
        if penalizer:
            value += penalizer * float(np.sum((theta - shift) ** 2)) / total_weight
        return value if math.isfinite(value) else math.inf

    def objective_gradient(theta: np.ndarray) -> np.ndarray:
        params = to_params(theta)
        _, g = sums(params, fit_data, True)
        g = -np.where(positive, g * np.array(list(params.values())), g) / total_weight
        if penalizer:
            g += 2 * penalizer * (theta - shift) / total_weight
        return g

    user_start = {p.name: p.start for p in parameters} | dict(start or {})
    theta0 = np.array(
        [math.log(user_start[p.name]) if p.positive else float(user_start[p.name]) for p in parameters]
    ) + shift
    bounds = [(-LOG_BOUND, LOG_BOUND) if p.positive else (None, None) for p in parameters]

    def stationary(result: optimize.OptimizeResult) -> bool:
        theta = np.asarray(result.x, dtype=float)
        if not (math.isfinite(result.fun) and np.all(np.isfinite(theta))):
            return False
        if gradient is not None:
            g = objective_gradient(theta)
        else:
            g = optimize.approx_fprime(theta, objective, 1e-7 * np.maximum(1.0, np.abs(theta)))
        lower = np.array([p.positive and t <= -LOG_BOUND + 1e-6 for p, t in zip(parameters, theta, strict=True)])
        upper = np.array([p.positive and t >= LOG_BOUND - 1e-6 for p, t in zip(parameters, theta, strict=True)])
        # projected gradient: a bound only excuses the component that points out of the box
        free = np.where(lower, np.minimum(g, 0.0), np.where(upper, np.maximum(g, 0.0), g))
        return bool(np.all(np.isfinite(free)) and (free.size == 0 or np.max(np.abs(free)) < GRADIENT_TOL))

    best: optimize.OptimizeResult | None = None
    restarts = 0
    rng = np.random.default_rng(20050201)
    starts = [theta0] + [theta0 + rng.normal(0.0, 1.0 + k / 2, size=theta0.size) for k in range(max_restarts)]
    for attempt, theta_start in enumerate(starts):
        restarts = attempt
        if not math.isfinite(objective(theta_start)):
            continue
        result = _minimize(
            objective, objective_gradient if gradient else None, theta_start, bounds, tol, max_iterations, stationary
        )
        if best is None or result.fun < best.fun:
            best = result
        if result.success and math.isfinite(result.fun):
            break
    if best is None:
        raise ValueError(
            "the log-likelihood is not finite at any starting point; check that the data "
            "meets the model's conventions (frequency >= 0, 0 <= recency <= T)"
        )

    theta_hat = np.asarray(best.x, dtype=float)
    report = FitReport(
        converged=bool(best.success),
        method=best.method,
        message=str(best.message),
        iterations=int(getattr(best, "nit", 0) or 0),
        function_evaluations=int(getattr(best, "nfev", 0) or 0),
        restarts=restarts,
        n_rows=n_rows,
        n_distinct_rows=len(w),
        time_scale=scale,
    )
    theta_user = theta_hat - shift
    report.boundary = [
        p.name for p, t in zip(parameters, theta_hat, strict=True) if p.positive and abs(t) >= BOUNDARY_LOG
    ]

    # Inference on the caller's time unit, from the unscaled data.
    def user_params(theta_u: np.ndarray) -> dict[str, float]:
        values = np.where(positive, np.exp(np.clip(theta_u, -700, 700)), theta_u)
        return dict(zip(names, values.tolist(), strict=True))

    def user_loglik_total(theta_u: np.ndarray) -> float:
        return sums(user_params(theta_u), user_data, False)[0]

    def user_score(theta_u: np.ndarray) -> np.ndarray:
        if gradient is None:
            return optimize.approx_fprime(theta_u, user_loglik_total, 1e-6)
        params = user_params(theta_u)
        _, g = sums(params, user_data, True)
        return np.where(positive, g * np.array(list(params.values())), g)

    log_lik = user_loglik_total(theta_user)
    score = user_score(theta_user) - (2 * penalizer * theta_user if penalizer else 0.0)
    report.gradient_norm = float(np.max(np.abs(score))) if score.size else 0.0
    if hessian is not None:
        at = user_params(theta_user)
        natural_values = np.array(list(at.values()))
        with np.errstate(all="ignore"):
            second = np.asarray(hessian(at, user_data, w), dtype=float)
            _, first = sums(at, user_data, True)
        # chain rule to log-parameters: d2/dlog(a)dlog(b) = a b d2/da db (+ a d/da on the diagonal)
        jac_u = np.where(positive, natural_values, 1.0)
        curvature = second * np.outer(jac_u, jac_u) + np.diag(np.where(positive, first * natural_values, 0.0))
    else:
        curvature = _hessian(user_loglik_total, user_score if gradient else None, theta_user)
    if penalizer:
        curvature = curvature - 2 * penalizer * np.eye(len(theta_user))
    cov_u, repaired = _covariance(curvature)
    report.hessian_repaired = repaired
    natural = np.where(positive, np.exp(theta_user), theta_user)
    jac = np.where(positive, natural, 1.0)
    cov = cov_u * np.outer(jac, jac)

    if not report.converged:
        _warn(report, ConvergenceWarning, Note("note.fit.not_converged", reason=report.message))
    if report.boundary:
        _warn(report, BoundaryWarning, _boundary_message(report.boundary))
    if repaired:
        _warn(report, HessianWarning, Note("note.fit.hessian_repaired"))
    return Estimate(
        params=dict(zip(names, natural.tolist(), strict=True)),
        log_likelihood=log_lik,
        covariance=cov,
        unconstrained_covariance=cov_u,
        report=report,
    )


def confidence_intervals(
    parameters: Sequence[Parameter], params: Mapping[str, float], unconstrained_covariance: np.ndarray
) -> dict[str, tuple[float, float]]:
    """95 % intervals: on the log scale for positive parameters, linear otherwise.

    >>> confidence_intervals([Parameter("a")], {"a": 1.0}, np.array([[0.0]]))
    {'a': (1.0, 1.0)}
    """
    out = {}
    for i, p in enumerate(parameters):
        se = math.sqrt(max(float(unconstrained_covariance[i, i]), 0.0))
        value = params[p.name]
        if p.positive:
            spread = min(Z_95 * se, 700.0)  # a boundary parameter can have a huge log-scale SE
            out[p.name] = (value * math.exp(-spread), value * math.exp(spread))
        else:
            out[p.name] = (value - Z_95 * se, value + Z_95 * se)
    return out


def _minimize(objective, jac, theta0, bounds, tol, max_iterations, accept) -> optimize.OptimizeResult:
    """L-BFGS-B; when it fails or stops off a stationary point, Nelder–Mead then L-BFGS-B again.

    ``success`` on the returned result means ``accept(result)``: a finite optimum where the
    gradient vanishes in every direction not blocked by a bound.
    """
    lbfgs_options = {"maxiter": max_iterations, "ftol": tol * 1e-2, "gtol": 1e-10, "maxcor": 30}
    result = optimize.minimize(
        objective, theta0, jac=jac or "3-point", method="L-BFGS-B", bounds=bounds, options=lbfgs_options
    )
    result.method = "L-BFGS-B"
    result.success = accept(result)
    if result.success:
        return result
    start = result.x if np.all(np.isfinite(result.x)) and math.isfinite(result.fun) else theta0
    fallback = optimize.minimize(
        objective,
        start,
        method="Nelder-Mead",
        bounds=bounds,
        options={"maxiter": max_iterations * 4, "xatol": 1e-10, "fatol": tol * 1e-2, "adaptive": True},
    )
    fallback.method = "Nelder-Mead"
    if math.isfinite(fallback.fun):
        polished = optimize.minimize(
            objective, fallback.x, jac=jac or "3-point", method="L-BFGS-B", bounds=bounds, options=lbfgs_options
        )
        polished.method = "Nelder-Mead + L-BFGS-B"
        fallback.success = accept(fallback)
        polished.success = accept(polished)
        candidates = [r for r in (polished, fallback, result) if math.isfinite(r.fun)]
        candidates.sort(key=lambda r: (not r.success, r.fun))
        return candidates[0]
    return result


def _hessian(total: Callable[[np.ndarray], float], score: Callable | None, theta: np.ndarray) -> np.ndarray:
    """Central-difference Hessian: of the analytic score when there is one, else of the function."""
    k = theta.size
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.zeros((k, k))
    if score is not None:
        for i in range(k):
            step = np.zeros(k)
            step[i] = h[i]
            hess[i] = (score(theta + step) - score(theta - step)) / (2 * h[i])
        return (hess + hess.T) / 2
    f0 = total(theta)
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h[i]
            ej[j] = h[j]
            if i == j:
                value = (total(theta + ei) - 2 * f0 + total(theta - ei)) / h[i] ** 2
            else:
                value = (
                    total(theta + ei + ej) - total(theta + ei - ej) - total(theta - ei + ej) + total(theta - ei - ej)
                ) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = value
    return hess


def _covariance(hessian: np.ndarray) -> tuple[np.ndarray, bool]:
    """Inverse of the observed information ``-H``; eigen-repaired when not positive definite."""
    info = -hessian
    if not np.all(np.isfinite(info)):
        k = info.shape[0]
        return np.full((k, k), np.nan), True
    values, vectors = np.linalg.eigh((info + info.T) / 2)
    floor = max(float(np.max(np.abs(values))) * 1e-12, 1e-300) if values.size else 0.0
    repaired = bool(np.any(values <= floor))
    if repaired:
        kept = values > floor
        inv = np.where(kept, 1.0 / np.where(kept, values, 1.0), 0.0)
        return (vectors * inv) @ vectors.T, True
    return (vectors / values) @ vectors.T, False


def _weighted_sum(weights: np.ndarray, values: np.ndarray) -> float:
    """``sum(weights * values)`` without BLAS: a 1-D BLAS dot is many times slower when the
    machine's cores are busy (threaded BLAS oversubscribes them)."""
    return float(np.einsum("i,i->", weights, np.broadcast_to(values, weights.shape)))


def _time_scale(columns: Mapping[str, np.ndarray], time_columns: Sequence[str]) -> float:
    largest = max((float(np.max(columns[c])) for c in time_columns if columns[c].size), default=0.0)
    return 10.0 / largest if largest > 0 and math.isfinite(largest) else 1.0


def flag_boundary(report: FitReport, names: Sequence[str]) -> None:
    """Add ``names`` to ``report.boundary`` and warn as :func:`estimate` does for its own.

    For boundaries a model recognises itself (see ``CustomerModel.boundary_parameters``);
    names already flagged are skipped, and nothing happens when none is new.

    >>> report = FitReport(converged=True, method="L-BFGS-B")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flag_boundary(report, ["a", "b"])
    >>> report.boundary
    ['a', 'b']
    """
    new = [name for name in dict.fromkeys(names) if name not in report.boundary]
    if new:
        report.boundary.extend(new)
        _warn(report, BoundaryWarning, _boundary_message(new))


def _boundary_message(names: Sequence[str]) -> str:
    return Note("note.fit.boundary", names=", ".join(names))


def _warn(report: FitReport, category: type[Warning], message: str) -> None:
    report.warnings.append(message)
    logger.warning(message)
    warnings.warn(message, category, stacklevel=4)


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _from_json_float(value) -> float:
    return float("nan") if value is None else float(value)
