"""Holdout validation and model choice.

Fit on a calibration period, predict the holdout, compare with what customers did:

* :func:`holdout_errors` – per-customer MAE and RMSE and the aggregate error;
* :func:`conditional_expectations` – the calibration-vs-holdout table by calibration
  frequency (0, 1, …, ``k``+), the check of the BTYD papers;
* :func:`tracking` – incremental and cumulative expected vs actual repeat purchases per
  period across the whole base;
* :func:`compare` – every candidate's holdout errors, log-likelihood, AIC and BIC, and the
  choice of the one with the lowest holdout RMSE, explained in one sentence.

The customer table is the output of :func:`cvm.data.summaries.calibration_holdout`
(``frequency``, ``recency``, ``T``, ``monetary_value``, ``frequency_holdout``,
``revenue_holdout``, ``duration_holdout``).

>>> import numpy as np
>>> errors = holdout_errors(expected=np.array([1.0, 2.0]), actual=np.array([0.0, 2.0]))
>>> errors.mae, errors.rmse, errors.aggregate_error
(0.5, 0.7071067811865476, 1.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cvm.errors import ConfigError, InvalidDataError
from cvm.labels import Note
from cvm.models.base import MODELS, CustomerModel, read_columns

TRANSACTION_MODELS = ("bgnbd", "pnbd", "mbgnbd")
"""Models of continuous-time repeat purchases compared by default (those registered)."""


@dataclass(frozen=True)
class HoldoutErrors:
    """Per-customer and aggregate errors of a holdout prediction."""

    mae: float
    rmse: float
    aggregate_error: float
    """Sum of expected minus sum of actual."""
    aggregate_relative_error: float
    """``aggregate_error`` as a share of the actual sum (NaN when the actual sum is 0)."""
    expected_total: float
    actual_total: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def holdout_errors(*, expected: np.ndarray, actual: np.ndarray) -> HoldoutErrors:
    """MAE, RMSE and aggregate error of ``expected`` against ``actual`` (one value per customer).

    >>> holdout_errors(expected=np.array([2.0]), actual=np.array([1.0])).aggregate_relative_error
    1.0
    """
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if expected.shape != actual.shape:
        raise InvalidDataError(f"expected has {expected.size} values but actual has {actual.size}")
    if expected.size == 0:
        raise InvalidDataError("no customers to validate on")
    diff = expected - actual
    total_expected = float(expected.sum())
    total_actual = float(actual.sum())
    return HoldoutErrors(
        mae=float(np.mean(np.abs(diff))),
        rmse=float(math.sqrt(np.mean(diff**2))),
        aggregate_error=total_expected - total_actual,
        aggregate_relative_error=(total_expected - total_actual) / total_actual if total_actual else math.nan,
        expected_total=total_expected,
        actual_total=total_actual,
    )


@dataclass(frozen=True)
class ConditionalRow:
    """One calibration-frequency group of the calibration-vs-holdout table."""

    frequency: str
    customers: int
    actual_mean: float
    expected_mean: float


def conditional_expectations(
    frequency: np.ndarray, *, actual: np.ndarray, expected: np.ndarray, max_frequency: int = 7
) -> list[ConditionalRow]:
    """Mean actual and expected holdout purchases by calibration frequency ``0 … max_frequency+``.

    >>> rows = conditional_expectations(np.array([0, 0, 3]), actual=np.array([0, 1, 2]),
    ...                                 expected=np.array([0.5, 0.5, 2.5]), max_frequency=2)
    >>> [(r.frequency, r.customers, r.actual_mean) for r in rows]
    [('0', 2, 0.5), ('1', 0, nan), ('2+', 1, 2.0)]
    """
    frequency = np.asarray(frequency, dtype=float)
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    group = np.minimum(frequency, max_frequency).astype(int)
    rows = []
    for k in range(max_frequency + 1):
        mask = group == k
        n = int(mask.sum())
        label = f"{k}+" if k == max_frequency else str(k)
        rows.append(
            ConditionalRow(
                label,
                n,
                float(actual[mask].mean()) if n else math.nan,
                float(expected[mask].mean()) if n else math.nan,
            )
        )
    return rows


@dataclass(frozen=True)
class Tracking:
    """Expected and actual repeat purchases per period across the base."""

    period_end: np.ndarray
    """End of each period, in time units since the earliest first purchase."""
    expected: np.ndarray
    actual: np.ndarray | None
    cumulative_expected: np.ndarray
    cumulative_actual: np.ndarray | None


def tracking(
    model: CustomerModel,
    birth: np.ndarray,
    period_ends: Sequence[float],
    *,
    actual: Sequence[float] | None = None,
    weights: np.ndarray | None = None,
) -> Tracking:
    """Incremental and cumulative expected repeat purchases of the whole base per period.

    ``birth`` is each customer's first purchase in time units since the start of the
    tracking window (BTYD's convention: ``max(T) - T`` when every calibration ends on the
    same date); ``period_ends`` are the ends of the periods on the same clock. A customer
    contributes ``E[X(end - birth)]`` of a new customer (0 before their birth). ``actual``
    are the observed repeat purchases per period, when known.

    >>> from cvm.models.bgnbd import BetaGeoModel
    >>> model = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> tr = tracking(model, np.array([0.0, 1.0]), [1, 2, 3])
    >>> bool(np.all(np.diff(tr.cumulative_expected) >= 0))
    True
    """
    birth = np.asarray(birth, dtype=float)
    ends = np.asarray(period_ends, dtype=float)
    w = np.ones_like(birth) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != birth.shape:
        raise InvalidDataError(f"weights has {w.size} values but birth has {birth.size}")
    # customers born at the same time expect the same: evaluate each birth time once, weighted
    # by how many were born then (a base of millions has a few thousand distinct first days)
    births, position = np.unique(birth, return_inverse=True)
    w = np.bincount(position.ravel(), weights=w.ravel(), minlength=births.size)
    cumulative = np.empty(ends.size)
    for k, end in enumerate(ends):  # one vectorised call per period, not per customer
        age = np.clip(end - births, 0.0, None)
        cumulative[k] = float(np.einsum("i,i->", w, model.expected_purchases_new_customer(age)))
    expected = np.diff(cumulative, prepend=0.0)
    actual_arr = None if actual is None else np.asarray(actual, dtype=float)
    if actual_arr is not None and actual_arr.shape != ends.shape:
        raise InvalidDataError(f"actual has {actual_arr.size} periods but period_ends has {ends.size}")
    return Tracking(
        period_end=ends,
        expected=expected,
        actual=actual_arr,
        cumulative_expected=cumulative,
        cumulative_actual=None if actual_arr is None else np.cumsum(actual_arr),
    )


@dataclass
class CandidateResult:
    """One candidate model's fit on the calibration period and its holdout errors."""

    name: str
    title: str
    model: CustomerModel | None
    purchases: HoldoutErrors | None
    log_likelihood: float
    aic: float
    bic: float
    converged: bool
    error: str | None = None
    revenue: HoldoutErrors | None = None
    """Errors of expected holdout revenue (purchases × expected spend), when a spend model is given."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "purchases": None if self.purchases is None else self.purchases.to_dict(),
            "revenue": None if self.revenue is None else self.revenue.to_dict(),
            "log_likelihood": self.log_likelihood,
            "aic": self.aic,
            "bic": self.bic,
            "converged": self.converged,
            "error": self.error,
        }


@dataclass
class Comparison:
    """Every candidate's holdout performance and the chosen model."""

    candidates: list[CandidateResult]
    chosen: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidates": [c.to_dict() for c in self.candidates],
            "chosen": self.chosen,
            "explanation": self.explanation,
        }


def compare(
    customers: Any,
    candidates: Iterable[str] | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    spend: Any | None = None,
) -> Comparison:
    """Fit each candidate on the calibration columns, predict the holdout, pick the lowest RMSE.

    ``customers`` is a calibration/holdout table; each customer's holdout length is its
    ``duration_holdout``. Ties go to the candidate listed first. A candidate that fails to
    fit is reported with its error and not chosen; if all fail, :class:`ConfigError`.
    With ``spend`` (a spend model fitted on the calibration period, such as
    :class:`~cvm.models.gamma_gamma.GammaGammaModel`), each candidate's expected holdout
    revenue (expected purchases × expected spend) is also scored against ``revenue_holdout``.
    """
    names = [n for n in (candidates or TRANSACTION_MODELS) if n in MODELS or candidates is not None]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ConfigError(f"unknown model(s) {unknown}; choose from {sorted(MODELS)}")
    if not names:
        raise ConfigError("no candidate models to compare")
    holdout = read_columns(customers, ["frequency_holdout", "duration_holdout"], model="model comparison")
    spend_per_purchase = None
    if spend is not None:
        holdout |= read_columns(customers, ["revenue_holdout"], model="model comparison")
        spend_per_purchase = spend.expected_spend(customers, undefined="observed", nonpositive="population")
    results: list[CandidateResult] = []
    for name in names:
        cls = MODELS[name]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = cls(**dict(settings or {})).fit(customers)
            expected = model.expected_purchases(customers, holdout["duration_holdout"])
            errors = holdout_errors(expected=expected, actual=holdout["frequency_holdout"])
            revenue = None
            if spend_per_purchase is not None:
                revenue = holdout_errors(expected=expected * spend_per_purchase, actual=holdout["revenue_holdout"])
            results.append(
                CandidateResult(
                    name, cls.title, model, errors, model.log_likelihood_, model.aic_, model.bic_, model.converged_,
                    revenue=revenue,
                )
            )
        except (ValueError, ArithmeticError) as exc:
            results.append(CandidateResult(name, cls.title, None, None, math.nan, math.nan, math.nan, False, str(exc)))
    usable = [r for r in results if r.purchases is not None and math.isfinite(r.purchases.rmse)]
    if not usable:
        raise ConfigError(
            "no candidate model could be fitted: " + "; ".join(f"{r.title}: {r.error}" for r in results)
        )
    best = min(usable, key=lambda r: (not r.converged, r.purchases.rmse))  # min keeps the first of ties
    others = ", ".join(f"{r.title} {r.purchases.rmse:.4g}" for r in usable if r is not best)
    explanation = Note("note.fit.chosen", model=best.title, rmse=best.purchases.rmse, n=len(usable),
                       others=Note("note.fit.others", others=others) if others else Note("note.fit.no_others"))
    return Comparison(results, best.name, explanation)
