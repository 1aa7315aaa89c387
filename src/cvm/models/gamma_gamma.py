"""Gamma-Gamma: the spend-per-transaction model (Colombo & Jiang 1999; Fader, Hardie & Lee 2005).

Each transaction of a customer has value ``z ~ Gamma(shape p, rate nu)``, so the customer's
mean spend is ``p / nu``; across customers ``nu ~ Gamma(shape q, rate gamma)``. The data
per customer is ``x`` (``frequency``, the number of repeat transactions) and ``m_x``
(``monetary_value``, the mean value of those ``x`` transactions); the model assumes spend
is independent of the purchase process, so it pairs with any of the purchase models.

Which customers enter the fit: only those with ``frequency > 0``. A customer without a
repeat transaction has no observed ``m_x`` (``monetary_value`` is conventionally 0 there
and is ignored); such rows are dropped from the fit, and their expected spend is the
population mean ``p gamma / (q - 1)``.

When the mean does not exist: the population mean needs ``q > 1`` and a customer's
conditional mean needs ``p x + q > 1`` (the posterior of ``nu`` must have a finite
``E[1/nu]``). A fit with ``q <= 1`` says spend is so heavy-tailed that the average is
not defined; the fitted model then warns, ``report_.warnings`` and ``summary()`` say so,
and :meth:`GammaGammaModel.expected_spend` raises :class:`~cvm.errors.ModelAssumptionError`
for the customers concerned rather than returning ``inf`` or ``NaN``. Customers with repeat
purchases can still be scored with ``undefined="observed"``, which returns their own
observed ``m_x`` (stated in the warning), but customers with ``x = 0`` have no fallback.

Money scale: ``gamma`` is measured in money (``p`` and ``q`` are shapes), so multiplying
every amount by ``k`` multiplies ``gamma`` by ``k``. The engine rescales only time columns,
so :meth:`GammaGammaModel.fit` divides the amounts by their mean before fitting and maps
``gamma``, its covariance and the log-likelihood back to the caller's currency: the
optimiser sees well-conditioned numbers, and the boundary test (``|log gamma| >= 15``)
is not set off by a currency with large amounts (yen, rupiah).

Fitted to the 946 CDNOW repeat customers (Fader & Hardie 2013): p = 6.25, q = 3.74,
gamma = 15.44.

>>> params = dict(p=6.25, q=3.74, gamma=15.44)
>>> round(float(expected_spend(**params, x=2, m_x=22.35)), 4)
24.6637
>>> round(float(expected_spend(**params, x=0, m_x=0.0)), 4)   # the population mean
35.219
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any, ClassVar

import numpy as np
from scipy.special import gammaln, psi

from cvm.errors import ConfigError, InvalidDataError, ModelAssumptionError
from cvm.models.base import CustomerModel, require
from cvm.models.engine import Parameter
from cvm.models.special import digamma_difference, log_rising

logger = logging.getLogger(__name__)

__all__ = [
    "GammaGammaModel",
    "MeanSpendUndefinedWarning",
    "log_likelihood",
    "log_likelihood_gradient",
    "expected_spend",
    "population_mean_spend",
    "simulate",
]


class MeanSpendUndefinedWarning(UserWarning):
    """The fitted Gamma-Gamma model has no finite mean spend (q <= 1)."""


def log_likelihood(p, q, gamma, x, m_x):
    """Log-density of the mean ``m_x`` of ``x >= 1`` transaction values, per customer.

    ``lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(m_x) + px ln(x) - (px+q) ln(gamma + m_x x)``,
    written as ``log_rising(q, px) - lnG(px) - q log1p(x m_x/gamma) - px log(gamma + x m_x) + ...``
    so it stays smooth when ``q`` and ``gamma`` run to infinity together.

    >>> round(float(log_likelihood(6.25, 3.74, 15.44, x=2, m_x=22.35)), 6)
    -3.551317
    """
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    px = p * x
    total = x * m_x
    return (
        log_rising(q, px)
        - gammaln(px)
        - q * np.log1p(total / gamma)
        - px * np.log(gamma + total)
        + (px - 1) * np.log(m_x)
        + px * np.log(x)
    )


def log_likelihood_gradient(p, q, gamma, x, m_x) -> dict[str, np.ndarray]:
    """Per-customer derivatives of :func:`log_likelihood` with respect to p, q, gamma.

    >>> g = log_likelihood_gradient(6.25, 3.74, 15.44, x=2, m_x=22.35)
    >>> sorted(g)
    ['gamma', 'p', 'q']
    """
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    px = p * x
    total = x * m_x
    return {
        "p": x * (psi(px + q) - psi(px) - np.log1p(gamma / total)),
        "q": digamma_difference(q, px) - np.log1p(total / gamma),
        "gamma": q / gamma - (px + q) / (gamma + total),
    }


def population_mean_spend(p, q, gamma):
    """Mean spend per transaction across customers, ``p gamma / (q - 1)`` (needs ``q > 1``).

    >>> round(float(population_mean_spend(6.25, 3.74, 15.44)), 4)
    35.219
    >>> population_mean_spend(6.25, 0.9, 15.44)
    Traceback (most recent call last):
    ...
    cvm.errors.ModelAssumptionError: Gamma-Gamma: the population mean spend does not exist because q = 0.9 <= 1 ...
    """
    if not q > 1:
        raise ModelAssumptionError(
            f"Gamma-Gamma: the population mean spend does not exist because q = {q:.6g} <= 1 "
            "(spend is too heavy-tailed for an average)",
            hint="check the monetary values for outliers or wrong units, or fit with a penalizer",
        )
    return p * gamma / (q - 1)


def expected_spend(p, q, gamma, x, m_x):
    """E[M | x, m_x] = p (gamma + x m_x) / (p x + q - 1): the expected spend per transaction.

    The posterior mean is a weighted average of the population mean and the observed
    ``m_x``; for ``x = 0`` it is the population mean. Rows where the mean does not exist
    (``p x + q <= 1``) raise :class:`ModelAssumptionError`.

    >>> round(float(expected_spend(6.25, 3.74, 15.44, x=6, m_x=73.74)), 4)
    71.117
    """
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    denominator = p * x + q - 1
    undefined = ~(denominator > 0)
    if np.any(undefined):
        raise ModelAssumptionError(
            f"Gamma-Gamma: the expected spend does not exist for {int(np.sum(undefined))} customer(s) "
            f"because p x + q <= 1 (p = {p:.6g}, q = {q:.6g})",
            hint="spend is too heavy-tailed for an average: check the monetary values for outliers "
            "or wrong units, or fit with a penalizer",
        )
    return p * (gamma + np.where(x > 0, x * m_x, 0.0)) / denominator


def simulate(p, q, gamma, frequency, seed=None) -> dict[str, np.ndarray]:
    """Draw each customer's mean repeat spend ``m_x`` given ``frequency`` (0 where ``x = 0``).

    >>> sim = simulate(6.25, 3.74, 15.44, frequency=[0, 1, 5], seed=1)
    >>> float(sim["monetary_value"][0])
    0.0
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / gamma, size=x.shape)
    total = rng.gamma(np.where(x > 0, p * x, 1.0), 1.0 / nu)  # sum of x Gamma(p, nu) values
    m_x = np.where(x > 0, total / np.maximum(x, 1.0), 0.0)
    return {"frequency": x, "monetary_value": m_x}


class GammaGammaModel(CustomerModel):
    """Gamma-Gamma spend model with parameters ``p, q, gamma`` (see the module docstring).

    Only customers with ``frequency > 0`` enter the fit; ``n_customers_`` counts them.

    >>> customers = GammaGammaModel.simulate(dict(p=6.0, q=4.0, gamma=15.0), 4000, seed=3)
    >>> model = GammaGammaModel().fit(customers)
    >>> model.converged_, model.n_customers_ < 4000
    (True, True)
    >>> round(model.population_mean_spend())   # p gamma / (q - 1) (30 in the simulation)
    29
    """

    name: ClassVar[str] = "gamma_gamma"
    title: ClassVar[str] = "Gamma-Gamma"
    parameters: ClassVar[tuple[Parameter, ...]] = (Parameter("p"), Parameter("q"), Parameter("gamma"))
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")
    time_columns: ClassVar[tuple[str, ...]] = ()
    example_params: ClassVar[dict[str, float]] = {"p": 6.25, "q": 3.74, "gamma": 15.44}

    @classmethod
    def simulate(cls, params, n, seed=None):
        """``n`` customers with frequency ``Poisson(2)`` (about 14 % zeros) and spend from the model."""
        rng = np.random.default_rng(seed)
        frequency = rng.poisson(2.0, n).astype(float)
        return simulate(**params, frequency=frequency, seed=rng.integers(2**32))

    @staticmethod
    def log_likelihood(params, data):
        return log_likelihood(params["p"], params["q"], params["gamma"], data["frequency"], data["monetary_value"])

    @staticmethod
    def gradient(params, data):
        return log_likelihood_gradient(
            params["p"], params["q"], params["gamma"], data["frequency"], data["monetary_value"]
        )

    def check_data(self, data):
        check_frequency_monetary(data, self.title)

    def fit(self, customers: Any, weights=None) -> GammaGammaModel:
        """Fit on the customers with ``frequency > 0`` (others are dropped); returns ``self``."""
        data = self.read_columns(customers)
        self.check_data(data)
        keep = data["frequency"] > 0
        if not np.any(keep):
            raise InvalidDataError(
                "Gamma-Gamma: no customer has frequency > 0, so there is no spend to fit",
                hint="the model needs customers with at least one repeat transaction",
            )
        w = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
        if w is not None and len(w) != len(keep):
            raise InvalidDataError(f"weights has {len(w)} values for {len(keep)} customers")
        logger.info("Gamma-Gamma: %d of %d rows have frequency > 0 and enter the fit", int(keep.sum()), keep.size)
        x, m_x = data["frequency"][keep], data["monetary_value"][keep]
        w = None if w is None else w[keep]
        # the weighted mean amount, summed exactly so the scale (and the fit) does not depend
        # on the order of the rows
        weight = np.ones_like(m_x) if w is None else w
        total_weight = math.fsum(weight)
        scale = math.fsum(weight * m_x) / total_weight if total_weight > 0 else 1.0
        scale = scale if scale > 0 and math.isfinite(scale) else 1.0
        super().fit({"frequency": x, "monetary_value": m_x / scale}, w)
        self._to_currency(scale)
        if not self.params_["q"] > 1:
            message = (
                f"q = {self.params_['q']:.6g} <= 1: the population mean spend does not exist, so "
                "expected_spend raises for customers without repeat purchases (and for any with p x + q <= 1)"
            )
            self.report_.warnings.append(message)
            logger.warning(message)
            warnings.warn(message, MeanSpendUndefinedWarning, stacklevel=2)
        return self

    def _to_currency(self, scale: float) -> None:
        """Map a fit on ``m_x / scale`` back to the caller's currency (``gamma`` scales by ``scale``).

        The log-density of ``m_x`` gains ``-log(scale)`` per customer; the covariance of the
        log-parameters does not change.
        """
        index = list(self.params_).index("gamma")
        self.params_["gamma"] *= scale
        factor = np.ones(len(self.params_))
        factor[index] = scale
        self.covariance_ = self.covariance_ * np.outer(factor, factor)
        self.log_likelihood_ -= self.n_customers_ * np.log(scale)

    def default_start(self, data):
        """Moment start: ``q = 4``, ``p = 1 / cv^2`` of the per-customer means, ``gamma`` from the mean."""
        m = data["monetary_value"]
        mean = float(np.mean(m))
        cv2 = float(np.var(m)) / mean**2 if mean > 0 else 1.0
        p = float(np.clip(1.0 / cv2 if cv2 > 0 else 1.0, 0.1, 100.0))
        q = 4.0
        return {"p": p, "q": q, "gamma": mean * (q - 1) / p}

    # -- predictions -----------------------------------------------------------------------
    def expected_spend(self, customers: Any, undefined: str = "raise") -> np.ndarray:
        """E[M | x, m_x] for each customer; the population mean for customers with ``x = 0``.

        ``undefined`` says what to do where the mean does not exist (``p x + q <= 1``, see the
        module docstring): ``"raise"`` (default) raises :class:`ModelAssumptionError`;
        ``"observed"`` returns the customer's observed ``m_x`` when ``x > 0`` (customers with
        ``x = 0`` still raise).
        """
        self._check_fitted()
        if undefined not in ("raise", "observed"):
            raise ConfigError(f"undefined must be 'raise' or 'observed', got {undefined!r}")
        data = self.read_columns(customers)
        check_frequency_monetary(data, self.title)
        x, m_x = data["frequency"], data["monetary_value"]
        p, q, gamma = self.params_["p"], self.params_["q"], self.params_["gamma"]
        if undefined == "observed":
            defined = p * x + q - 1 > 0
            fallback = ~defined & (x > 0)
            if np.any(fallback):
                logger.warning("Gamma-Gamma: %d customer(s) scored with their observed m_x", int(fallback.sum()))
            out = np.array(m_x, dtype=float, copy=True)
            keep = ~fallback
            out[keep] = expected_spend(p, q, gamma, x[keep], m_x[keep])
            return out
        return expected_spend(p, q, gamma, x, m_x)

    def population_mean_spend(self) -> float:
        """``p gamma / (q - 1)``; raises :class:`ModelAssumptionError` when ``q <= 1``."""
        self._check_fitted()
        return float(population_mean_spend(self.params_["p"], self.params_["q"], self.params_["gamma"]))


def check_frequency_monetary(data, model: str) -> None:
    """The spend-summary rules: whole ``frequency >= 0``; ``monetary_value`` finite and > 0 where ``frequency > 0``.

    ``monetary_value`` is not read where ``frequency`` is 0 (it may be 0 or missing there).

    >>> check_frequency_monetary({"frequency": np.array([1.0]), "monetary_value": np.array([0.0])}, "Gamma-Gamma")
    Traceback (most recent call last):
    ...
    cvm.errors.InvalidDataError: Gamma-Gamma: column 'monetary_value' must be > 0 when frequency > 0: 1 row(s) break it, for example row 0 (value 0.0)
    What to do: ...
    """
    x, m = data["frequency"], data["monetary_value"]
    require(np.isfinite(x), model=model, column="frequency", rule="must be a finite number", values=x)
    require(
        (x == 0) | np.isfinite(m), model=model, column="monetary_value",
        rule="must be a finite number when frequency > 0", values=m,
    )
    require((x >= 0) & (x == np.floor(x)), model=model, column="frequency", rule="must be a whole number >= 0", values=x)
    require(
        (x == 0) | (m > 0),
        model=model,
        column="monetary_value",
        rule="must be > 0 when frequency > 0",
        values=m,
        hint="the Gamma-Gamma model needs positive spend; drop returns and zero-value transactions first",
    )
