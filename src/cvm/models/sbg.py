"""Shifted-BG: the shifted-beta-geometric retention model (Fader & Hardie 2007).

A contractual (subscription) setting with discrete renewal opportunities: at the end of
each period a customer renews with probability ``1 - theta`` and cancels, for good, with
probability ``theta``, where ``theta ~ Beta(alpha, beta)`` varies across customers. The
lifetime ``T`` (the period in which the customer cancels) is then shifted-beta-geometric:

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``, ``t = 1, 2, ...``;
* ``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)``;
* retention rate ``r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``,
  which rises with ``t`` although every customer's own rate is constant.

**The data convention.** Per customer (or per row, with weights):

* ``duration`` – the number of renewals the customer has made (whole number ``>= 0``);
* ``churned`` – 1 if they cancelled at their next renewal opportunity, 0 if they are
  still active (censored).

A churned customer with duration ``t`` has lifetime ``T = t + 1`` and contributes
``P(T = t + 1)``; an active customer with duration ``t`` has survived ``t`` renewal
decisions and contributes ``S(t)``. In a cohort whose survivors at the start of periods
1, 2, ... are ``n_0, n_1, ...`` (FH 2007's tables), ``n_{t-1} - n_t`` customers have
``duration = t - 1, churned = 1`` and the ``n_last`` still active have ``duration = last,
churned = 0``: :func:`from_survivors` builds exactly these rows.

FH 2007's fit to the first 7 years of the "regular" cohort:

>>> rows = from_survivors([1000, 631, 468, 382, 326, 289, 262, 241])
>>> model = ShiftedBetaGeoModel().fit(rows, weights=rows["weights"])
>>> {k: round(v, 3) for k, v in model.params_.items()}
{'alpha': 0.704, 'beta': 1.182}
>>> [round(float(r), 3) for r in retention_rate(0.704, 1.182, [1, 2, 12])]
[0.627, 0.756, 0.945]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from cvm.errors import InvalidDataError
from cvm.models.base import CustomerModel, chunked, require
from cvm.models.bgbb import _discounted_alive_sum
from cvm.models.engine import Parameter
from cvm.models.special import digamma_difference, log_rising

__all__ = [
    "ShiftedBetaGeoModel",
    "churn_probability",
    "discounted_expected_residual_lifetime",
    "expected_remaining_lifetime",
    "from_survivors",
    "log_likelihood",
    "log_likelihood_gradient",
    "retention_rate",
    "simulate",
    "survival",
]


def _arrays(*values):
    return np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))


def _log_churn(alpha, beta, t):
    """log P(T = t) = log B(alpha + 1, beta + t - 1) / B(alpha, beta), t >= 1."""
    return np.log(alpha) + log_rising(beta, t - 1) - log_rising(alpha + beta, t)


def _log_survival(alpha, beta, t):
    """log S(t) = log B(alpha, beta + t) / B(alpha, beta), t >= 0."""
    return log_rising(beta, t) - log_rising(alpha + beta, t)


def log_likelihood(alpha, beta, duration, churned):
    """Log-likelihood of each customer: ``log P(T = duration + 1)`` if churned, else ``log S(duration)``.

    >>> [round(float(v), 6) for v in log_likelihood(0.704, 1.182, [0, 7], [1, 0])]
    [-0.985435, -1.43108]
    """
    duration, churned = _arrays(duration, churned)
    return np.where(
        churned > 0, _log_churn(alpha, beta, duration + 1), _log_survival(alpha, beta, duration)
    )


def log_likelihood_gradient(alpha, beta, duration, churned) -> dict[str, np.ndarray]:
    """Per-customer derivatives of :func:`log_likelihood` with respect to alpha and beta."""
    duration, churned = _arrays(duration, churned)
    lost = churned > 0
    total = digamma_difference(alpha + beta, np.where(lost, duration + 1, duration))
    return {
        "alpha": np.where(lost, 1.0 / alpha, 0.0) - total,
        "beta": digamma_difference(beta, duration) - total,
    }


def churn_probability(alpha, beta, t):
    """P(T = t): a new customer's lifetime ends in period ``t`` (t = 1, 2, ...; FH 2007, eq. 5).

    >>> round(float(churn_probability(0.704, 1.182, 1)), 4)
    0.3733
    """
    t = np.asarray(t, dtype=float)
    return np.exp(_log_churn(alpha, beta, t))


def survival(alpha, beta, t):
    """S(t) = P(T > t): a new customer is still active after ``t`` renewal decisions (FH 2007, eq. 6).

    >>> [round(float(s), 3) for s in survival(0.704, 1.182, [0, 1, 7, 12])]
    [1.0, 0.627, 0.239, 0.17]
    """
    t = np.asarray(t, dtype=float)
    return np.exp(_log_survival(alpha, beta, t))


def retention_rate(alpha, beta, t):
    """r(t) = (beta + t - 1) / (alpha + beta + t - 1): the share of period-``t - 1`` survivors who renew in ``t``.

    >>> round(float(retention_rate(0.668, 3.806, 1)), 4)
    0.8507
    """
    t = np.asarray(t, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def expected_remaining_lifetime(alpha, beta, duration):
    """Expected number of further renewals of an active customer who has made ``duration`` renewals.

    Given ``duration`` renewals, ``theta ~ Beta(alpha, beta + duration)`` and the count of
    further renewals is ``E[(1 - theta) / theta] = (beta + duration) / (alpha - 1)``;
    infinite when ``alpha <= 1`` (the heavy tail of loyal customers).

    >>> float(expected_remaining_lifetime(3.0, 2.0, 4))
    3.0
    """
    duration = np.asarray(duration, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(alpha > 1, (beta + duration) / (alpha - 1 if alpha > 1 else 1.0), np.inf)


def discounted_expected_residual_lifetime(alpha, beta, duration, discount_rate):
    """DERL: the discounted number of future payments of an active customer (Fader & Hardie 2010).

    For a customer who has made ``n - 1 = duration`` renewals and is at their next renewal
    decision, FH 2010 give ``DERL(d) = B(alpha, beta + n) / B(alpha, beta + n - 1) *
    2F1(1, beta + n; alpha + beta + n; 1/(1 + d))``: the payment of the coming renewal
    counts 1 (if it happens), the one after it ``1/(1 + d)``, and so on. Multiply by the
    margin per period for the expected residual value. At ``d = 0`` this is
    :func:`expected_remaining_lifetime`.

    >>> round(float(discounted_expected_residual_lifetime(0.704, 1.182, 0, 0.1)), 4)
    2.9647
    >>> float(discounted_expected_residual_lifetime(3.0, 2.0, 4, 0.0))
    3.0
    """
    duration, d = _arrays(duration, discount_rate)
    renew = (beta + duration) / (alpha + beta + duration)
    # _discounted_alive_sum(g, D, d) = 2F1(1, D; g + D; 1/(1+d)) / (1 + d)
    return renew * (1 + d) * _discounted_alive_sum(alpha, beta + duration + 1, d)


def from_survivors(counts: Sequence[float]) -> dict[str, np.ndarray]:
    """Rows ``(duration, churned, weights)`` from a cohort's survivors at the start of each period.

    ``counts[0]`` customers start period 1, ``counts[t]`` are still active at the start of
    period ``t + 1``. The ``counts[t-1] - counts[t]`` who left have ``duration = t - 1,
    churned = 1``; the ``counts[-1]`` still active have ``duration = len(counts) - 1,
    churned = 0``.

    >>> rows = from_survivors([1000, 631, 468])
    >>> {k: v.tolist() for k, v in rows.items()}
    {'duration': [0.0, 1.0, 2.0], 'churned': [1.0, 1.0, 0.0], 'weights': [369.0, 163.0, 468.0]}
    """
    c = np.asarray(counts, dtype=float).reshape(-1)
    if c.size == 0:
        raise InvalidDataError("shifted-BG: the survivor counts are empty", hint="give at least the cohort size")
    require(np.isfinite(c) & (c >= 0), model="shifted-BG", column="counts", rule="must be finite and >= 0", values=c)
    require(c[:1] > 0, model="shifted-BG", column="counts", rule="must start with a cohort size > 0", values=c)
    require(
        np.concatenate([[True], c[1:] <= c[:-1]]),
        model="shifted-BG",
        column="counts",
        rule="must not increase from one period to the next",
        values=c,
    )
    k = c.size - 1
    return {
        "duration": np.arange(k + 1, dtype=float),
        "churned": np.concatenate([np.ones(k), [0.0]]),
        "weights": np.concatenate([c[:-1] - c[1:], c[-1:]]),
    }


def simulate(alpha, beta, horizon, seed=None) -> dict[str, np.ndarray]:
    """Draw ``(duration, churned)`` for customers observed for ``horizon`` renewal decisions each.

    Each customer draws ``theta ~ Beta(alpha, beta)`` and a lifetime ``T ~ Geometric(theta)``
    on 1, 2, ...; those with ``T <= horizon`` churned after ``T - 1`` renewals, the others are
    active with ``duration = horizon``.

    >>> sim = simulate(0.704, 1.182, horizon=[7, 7, 7], seed=1)
    >>> sorted(sim)
    ['churned', 'duration']
    """
    rng = np.random.default_rng(seed)
    horizon = np.asarray(horizon, dtype=np.int64)
    theta = np.clip(rng.beta(alpha, beta, size=horizon.shape), 1e-300, 1.0)
    lifetime = np.minimum(rng.geometric(theta), np.iinfo(np.int64).max // 2)
    churned = lifetime <= horizon
    return {
        "duration": np.where(churned, lifetime - 1, horizon).astype(float),
        "churned": churned.astype(float),
    }


def check_duration_churned(data, model: str) -> None:
    """The shifted-BG rules: ``duration`` a whole number >= 0, ``churned`` 0 or 1.

    >>> check_duration_churned({"duration": np.array([1.0]), "churned": np.array([2.0])}, "shifted-BG")
    Traceback (most recent call last):
    ...
    cvm.errors.InvalidDataError: shifted-BG: column 'churned' must be 0 (active) or 1 (cancelled): 1 row(s) break it, for example row 0 (value 2.0)
    """
    duration, churned = data["duration"], data["churned"]
    for name, col in data.items():
        require(np.isfinite(col), model=model, column=name, rule="must be a finite number", values=col)
    require(
        (duration >= 0) & (duration == np.floor(duration)),
        model=model,
        column="duration",
        rule="must be a whole number >= 0 (renewals made)",
        values=duration,
    )
    require(
        (churned == 0) | (churned == 1), model=model, column="churned", rule="must be 0 (active) or 1 (cancelled)",
        values=churned,
    )


class ShiftedBetaGeoModel(CustomerModel):
    """Shifted-BG with parameters ``alpha, beta`` (Fader & Hardie 2007).

    >>> customers = simulate(alpha=0.7, beta=1.2, horizon=[8] * 20000, seed=5)
    >>> model = ShiftedBetaGeoModel().fit(customers)
    >>> {k: round(v, 1) for k, v in model.params_.items()}
    {'alpha': 0.7, 'beta': 1.2}
    """

    name: ClassVar[str] = "sbg"
    title: ClassVar[str] = "shifted-BG"
    parameters: ClassVar[tuple[Parameter, ...]] = (Parameter("alpha"), Parameter("beta"))
    data_columns: ClassVar[tuple[str, ...]] = ("duration", "churned")
    time_columns: ClassVar[tuple[str, ...]] = ()
    example_params: ClassVar[dict[str, float]] = {"alpha": 0.704, "beta": 1.182}
    """FH 2007's "regular" cohort."""

    @classmethod
    def simulate(cls, params, n, seed=None):
        """``n`` customers observed for 6 to 12 renewal decisions (uniform), drawn from shifted-BG."""
        rng = np.random.default_rng(seed)
        return simulate(**params, horizon=rng.integers(6, 13, n), seed=rng.integers(2**32))

    @staticmethod
    def log_likelihood(params, data):
        return log_likelihood(params["alpha"], params["beta"], data["duration"], data["churned"])

    @staticmethod
    def gradient(params, data):
        return log_likelihood_gradient(params["alpha"], params["beta"], data["duration"], data["churned"])

    def check_data(self, data):
        check_duration_churned(data, self.title)

    # -- predictions -----------------------------------------------------------------------
    def _p(self) -> tuple[float, float]:
        self._check_fitted()
        return self.params_["alpha"], self.params_["beta"]

    def _history(self, customers: Any) -> tuple[np.ndarray, np.ndarray]:
        data = self.read_columns(customers)
        check_duration_churned(data, self.title)
        return data["duration"], data["churned"]

    def churn_probability(self, t) -> np.ndarray:
        """P(T = t) for a new customer."""
        return churn_probability(*self._p(), t)

    def survival(self, t) -> np.ndarray:
        """S(t) for a new customer: the projected share of a cohort still active after ``t`` renewals."""
        return survival(*self._p(), t)

    def retention_rate(self, t) -> np.ndarray:
        """r(t), the cohort's retention rate in period ``t``."""
        return retention_rate(*self._p(), t)

    def probability_alive(self, customers: Any, ahead=1) -> np.ndarray:
        """P(still active after ``ahead`` more renewal decisions); 0 for customers who cancelled."""
        duration, churned = self._history(customers)
        ahead = np.broadcast_to(np.asarray(ahead, dtype=float), duration.shape)

        def block(duration, churned, ahead):
            a, b = self._p()
            keep = np.exp(_log_survival(a, b + duration, ahead))
            return np.where(churned > 0, 0.0, keep)

        return chunked(block, duration, churned, ahead)

    def expected_remaining_lifetime(self, customers: Any) -> np.ndarray:
        """Expected further renewals of each customer (0 for those who cancelled)."""
        duration, churned = self._history(customers)
        return np.where(churned > 0, 0.0, expected_remaining_lifetime(*self._p(), duration))

    def discounted_expected_residual_lifetime(self, customers: Any, discount_rate: float) -> np.ndarray:
        """DERL of each customer at ``discount_rate`` per period (0 for those who cancelled)."""
        duration, churned = self._history(customers)
        d = np.broadcast_to(np.asarray(discount_rate, dtype=float), duration.shape)
        value = chunked(lambda *cols: discounted_expected_residual_lifetime(*self._p(), *cols), duration, d)
        return np.where(churned > 0, 0.0, value)
