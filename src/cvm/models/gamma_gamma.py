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
so :meth:`GammaGammaModel.fit` divides the amounts by the power of two nearest their mean
(an exact division) before fitting and maps
``gamma``, its covariance and the log-likelihood back to the caller's currency: the
optimiser sees well-conditioned numbers, and the boundary test (``|log gamma| >= 15``)
is not set off by a currency with large amounts (yen, rupiah).

The fit's fast path (:func:`prepare`, :func:`prepared_totals`): terms in the frequency alone
are summed once per distinct frequency with the summed weights, the parameter-free sums
(``sum w log m_x``, ``sum w x log m_x``, ``sum w x log x``) once per fit, and the two per-row
log terms combine, ``q log1p(x m_x/gamma) + p x log(gamma + x m_x) = (p x + q) L + p x log gamma``
with ``L = log1p(x m_x / gamma)``, so one ``log1p`` and one reciprocal per row give the
value and the three derivatives.

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
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy.special import gammaln, polygamma, psi

from cvm.errors import ConfigError, InvalidDataError, ModelAssumptionError
from cvm.labels import Note
from cvm.models.base import CustomerModel, check_weights, require
from cvm.models.engine import Parameter, levels
from cvm.models.special import digamma_difference, log_rising, trigamma_difference

logger = logging.getLogger(__name__)

__all__ = [
    "GammaGammaModel",
    "MeanSpendUndefinedWarning",
    "log_likelihood",
    "log_likelihood_gradient",
    "prepare",
    "prepared_log_likelihood",
    "prepared_gradient",
    "prepared_totals",
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


def prepare(data: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Parameter-free pieces of the spend summary (rows with ``x >= 1``), computed once per fit.

    The frequency takes few distinct values, so the terms that depend on it alone are
    evaluated per distinct value; the only per-row work left is ``log1p(x m_x / gamma)``
    and ``1 / (gamma + x m_x)``, written into two scratch arrays kept here.

    >>> prep = prepare({"frequency": np.array([1.0, 3.0, 1.0]), "monetary_value": np.array([2.0, 5.0, 4.0])})
    >>> prep["x_levels"].tolist(), prep["x_index"].tolist(), prep["total"].tolist()
    ([1.0, 3.0], [0, 1, 0], [2.0, 15.0, 4.0])
    """
    x = np.ascontiguousarray(data["frequency"], dtype=float)
    m_x = np.ascontiguousarray(data["monetary_value"], dtype=float)
    x_levels, x_index = levels(x)
    return {
        "x": x,
        "m_x": m_x,
        "total": x * m_x,
        "x_levels": x_levels,
        "x_index": x_index,
        "_scratch": (np.empty_like(x), np.empty_like(x)),
    }


def prepared_log_likelihood(params: Mapping[str, float], prep: Mapping[str, np.ndarray]) -> np.ndarray:
    """:func:`log_likelihood` on data from :func:`prepare` (the same values, faster)."""
    p, q, gamma = params["p"], params["q"], params["gamma"]
    xl, xi, x, m_x, total = prep["x_levels"], prep["x_index"], prep["x"], prep["m_x"], prep["total"]
    pxl = p * xl
    px = p * x
    # the same terms in the same order as log_likelihood, so the values are the same to the bit
    return (
        (log_rising(q, pxl) - gammaln(pxl))[xi]
        - q * np.log1p(total / gamma)
        - px * np.log(gamma + total)
        + (px - 1) * np.log(m_x)
        + (pxl * np.log(xl))[xi]
    )


def prepared_gradient(params: Mapping[str, float], prep: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`log_likelihood_gradient` on data from :func:`prepare`."""
    p, q, gamma = params["p"], params["q"], params["gamma"]
    xl, xi, x, total = prep["x_levels"], prep["x_index"], prep["x"], prep["total"]
    pxl = p * xl
    return {
        "p": x * ((psi(pxl + q) - psi(pxl))[xi] - np.log1p(gamma / total)),
        "q": digamma_difference(q, pxl)[xi] - np.log1p(total / gamma),
        "gamma": q / gamma - (p * x + q) / (gamma + total),
    }


def _weighted_sums(prep: dict, w: np.ndarray) -> dict[str, Any]:
    """Parameter-free weighted sums for :func:`prepared_totals` (cached on ``prep`` per ``w``)."""
    cached = prep.get("_weighted_sums")
    if cached is not None and cached[0] is w:
        return cached[1]
    xl, x = prep["x_levels"], prep["x"]
    w_x = np.bincount(prep["x_index"], weights=w, minlength=xl.size)
    wx = w * x
    log_m = np.log(prep["m_x"], out=prep["_scratch"][0])
    sums = {
        "w_x": w_x,                                   # total weight per distinct frequency
        "w": float(w_x.sum()),                        # sum w
        "wx": wx,                                     # w x per row
        "s_x": float(w_x @ xl),                       # sum w x
        "s_x_log_x": float(w_x @ (xl * np.log(xl))),  # sum w x log x
        "s_log_m": float(np.einsum("i,i->", w, log_m)),     # sum w log m_x
        "s_x_log_m": float(np.einsum("i,i->", wx, log_m)),  # sum w x log m_x
    }
    prep["_weighted_sums"] = (w, sums)
    return sums


def prepared_totals(
    params: Mapping[str, float], prep: dict, w: np.ndarray
) -> tuple[float, dict[str, float]]:
    """Weighted total log-likelihood and its gradient, from data made by :func:`prepare`.

    With ``L = log1p(x m_x / gamma)`` the two per-row log terms combine,
    ``q L + p x log(gamma + x m_x) = (p x + q) L + p x log(gamma)``, so one ``log1p`` and one
    reciprocal per row serve the value and all three derivatives
    (``log1p(gamma / (x m_x)) = L + log(gamma) - log(x) - log(m_x)``); terms in the frequency
    alone are summed per distinct value, and ``sum w log(m_x)``, ``sum w x log(m_x)`` once
    per fit. This is what the fit evaluates; it equals ``sum(w * log_likelihood(...))`` and
    the weighted sums of :func:`log_likelihood_gradient`.
    """
    p, q, gamma = params["p"], params["q"], params["gamma"]
    s = _weighted_sums(prep, w)
    xl, total = prep["x_levels"], prep["total"]
    log_ratio, inverse = prep["_scratch"]
    np.log1p(np.divide(total, gamma, out=log_ratio), out=log_ratio)  # L
    np.reciprocal(np.add(total, gamma, out=inverse), out=inverse)  # 1 / (gamma + x m_x)
    s_log_ratio = float(np.einsum("i,i->", w, log_ratio))
    s_x_log_ratio = float(np.einsum("i,i->", s["wx"], log_ratio))
    s_inverse = float(np.einsum("i,i->", w, inverse))
    s_x_inverse = float(np.einsum("i,i->", s["wx"], inverse))
    pxl = p * xl
    w_x = s["w_x"]
    log_gamma = math.log(gamma)
    value = (
        float(w_x @ (log_rising(q, pxl) - gammaln(pxl)))
        - p * s_x_log_ratio
        - q * s_log_ratio
        - p * log_gamma * s["s_x"]
        + p * (s["s_x_log_m"] + s["s_x_log_x"])
        - s["s_log_m"]
    )
    grad = {
        "p": float(w_x @ (xl * (psi(pxl + q) - psi(pxl))))
        - s_x_log_ratio
        - log_gamma * s["s_x"]
        + s["s_x_log_x"]
        + s["s_x_log_m"],
        "q": float(w_x @ digamma_difference(q, pxl)) - s_log_ratio,
        "gamma": q / gamma * s["w"] - p * s_x_inverse - q * s_inverse,
    }
    return value, grad


def prepared_hessian(params: Mapping[str, float], prep: dict, w: np.ndarray) -> np.ndarray:
    """Second derivatives of the weighted total log-likelihood in ``(p, q, gamma)``.

    From the gradient of :func:`prepared_totals`: the frequency terms give trigamma
    differences per distinct frequency, and the spend terms need ``sum w / (gamma + x m_x)``
    and ``sum w / (gamma + x m_x)^2`` (each also weighted by ``x``): one pass over the rows.

    >>> prep = prepare({"frequency": np.array([1.0, 3.0]), "monetary_value": np.array([2.0, 5.0])})
    >>> h = prepared_hessian({"p": 2.0, "q": 3.0, "gamma": 4.0}, prep, np.ones(2))
    >>> bool(np.allclose(h, h.T)), h.shape
    (True, (3, 3))
    """
    p, q, gamma = params["p"], params["q"], params["gamma"]
    s = _weighted_sums(prep, w)
    xl, w_x = prep["x_levels"], s["w_x"]
    inverse = 1.0 / (gamma + prep["total"])
    inverse_sq = inverse * inverse
    s_inverse, s_x_inverse = float(np.einsum("i,i->", w, inverse)), float(np.einsum("i,i->", s["wx"], inverse))
    s_inverse_sq = float(np.einsum("i,i->", w, inverse_sq))
    s_x_inverse_sq = float(np.einsum("i,i->", s["wx"], inverse_sq))
    pxl = p * xl
    d_pp = float(w_x @ (xl * xl * trigamma_difference(pxl, q)))   # psi'(px + q) - psi'(px)
    d_pq = float(w_x @ (xl * polygamma(1, pxl + q)))
    d_qq = float(w_x @ trigamma_difference(q, pxl))               # psi'(q + px) - psi'(q)
    d_pg = -s_x_inverse
    d_qg = s["w"] / gamma - s_inverse
    d_gg = -q * s["w"] / gamma**2 + p * s_x_inverse_sq + q * s_inverse_sq
    return np.array([[d_pp, d_pq, d_pg], [d_pq, d_qq, d_qg], [d_pg, d_qg, d_gg]])


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
    if undefined.any():
        raise ModelAssumptionError(
            f"Gamma-Gamma: the expected spend does not exist for {int(np.sum(undefined))} customer(s) "
            f"because p x + q <= 1 (p = {p:.6g}, q = {q:.6g})",
            hint="spend is too heavy-tailed for an average: check the monetary values for outliers "
            "or wrong units, or fit with a penalizer",
        )
    spend = np.multiply(x, m_x, out=np.empty(np.broadcast(x, m_x).shape))
    spend[x <= 0] = 0.0  # m_x is not read without repeat purchases (it may be 0 or NaN there)
    spend += gamma
    spend *= p
    spend /= denominator
    return spend


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
    prepare = staticmethod(prepare)
    prepared_log_likelihood = staticmethod(prepared_log_likelihood)
    prepared_gradient = staticmethod(prepared_gradient)
    prepared_totals = staticmethod(prepared_totals)
    prepared_hessian = staticmethod(prepared_hessian)

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
        w = check_weights(weights, len(keep))
        logger.info("Gamma-Gamma: %d of %d rows have frequency > 0 and enter the fit", int(keep.sum()), keep.size)
        x, m_x = data["frequency"][keep], data["monetary_value"][keep]
        w = None if w is None else w[keep]
        scale = _money_scale(m_x, w)
        self._fit_checked({"frequency": x, "monetary_value": m_x / scale}, w)
        self._to_currency(scale)
        if not self.params_["q"] > 1:
            message = Note("note.fit.mean_spend_undefined", q=self.params_["q"])
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
        """Moment start: ``q = 4``, ``p = 1 / cv^2`` of the per-customer means, ``gamma`` from the mean.

        Rounded to 6 significant digits: the last bits of a sum depend on the order of the
        rows, and a start that did not would make the fit of shuffled rows differ in its last bits.
        """
        m = data["monetary_value"]
        mean = float(np.mean(m))
        cv2 = float(np.var(m)) / mean**2 if mean > 0 else 1.0
        p = float(np.clip(1.0 / cv2 if cv2 > 0 else 1.0, 0.1, 100.0))
        q = 4.0
        return {"p": float(f"{p:.6g}"), "q": q, "gamma": float(f"{mean * (q - 1) / p:.6g}")}

    # -- predictions -----------------------------------------------------------------------
    def expected_spend(self, customers: Any, undefined: str = "raise",
                       nonpositive: str = "raise") -> np.ndarray:
        """E[M | x, m_x] for each customer; the population mean for customers with ``x = 0``.

        ``undefined`` says what to do where the mean does not exist (``p x + q <= 1``, see the
        module docstring): ``"raise"`` (default) raises :class:`ModelAssumptionError`;
        ``"observed"`` returns the customer's observed ``m_x`` when ``x > 0`` (customers with
        ``x = 0`` still raise). ``nonpositive`` says what to do with repeat customers whose mean
        repeat spend is 0 or less (outside the model): ``"raise"`` (default) raises
        :class:`InvalidDataError`; ``"population"`` scores them like customers with no repeat
        purchase, at the population mean.

        >>> model = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
        >>> model.expected_spend({"frequency": [2, 0], "monetary_value": [0.0, 0.0]},
        ...                      nonpositive="population").round(2).tolist()
        [35.22, 35.22]
        """
        self._check_fitted()
        if undefined not in ("raise", "observed"):
            raise ConfigError(f"undefined must be 'raise' or 'observed', got {undefined!r}")
        if nonpositive not in ("raise", "population"):
            raise ConfigError(f"nonpositive must be 'raise' or 'population', got {nonpositive!r}")
        data = self.read_columns(customers)
        if nonpositive == "population":
            outside = (data["frequency"] > 0) & ~(data["monetary_value"] > 0)
            if outside.any():
                data = {**data, "frequency": np.where(outside, 0.0, data["frequency"]),
                        "monetary_value": np.where(outside, 0.0, data["monetary_value"])}
        check_frequency_monetary(data, self.title)
        x, m_x = data["frequency"], data["monetary_value"]
        p, q, gamma = self.params_["p"], self.params_["q"], self.params_["gamma"]
        if undefined == "observed":
            defined = p * x + q - 1 > 0
            fallback = ~defined & (x > 0)
            if not fallback.any():
                return expected_spend(p, q, gamma, x, m_x)
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


def _money_scale(m_x: np.ndarray, w: np.ndarray | None) -> float:
    """The power of two nearest the (weighted) mean amount, the unit :meth:`GammaGammaModel.fit` fits in.

    A power of two divides the amounts exactly, and rounding ``log2`` of the mean makes the
    scale (and so the fit) independent of the order of the rows, whatever the rounding of
    the sum (short of a mean within a few ulps of ``2**(k + 1/2)``).

    >>> _money_scale(np.array([30.0, 40.0]), None)
    32.0
    """
    if w is None:
        mean = float(np.einsum("i->", m_x)) / m_x.size
    else:
        total_weight = float(np.einsum("i->", w))
        mean = float(np.einsum("i,i->", w, m_x)) / total_weight if total_weight > 0 else 1.0
    if not (mean > 0 and math.isfinite(mean)):
        return 1.0
    return math.ldexp(1.0, round(math.log2(mean)))


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
