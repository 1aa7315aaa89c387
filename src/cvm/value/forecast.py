"""Future value: the next K periods, the model-based CLV and the simple CLV formula.

For each customer, from a fitted purchase model (BG/NBD, MBG/NBD or Pareto/NBD) and a spend
model (Gamma-Gamma):

* **expected purchases per period** in each of the next K calendar periods (months,
  quarters or years; the first one starts the day after the observation end, so it is
  partial when the end is not a period end): ``expected_purchases_by_period``;
* **expected revenue** per period = expected purchases × expected spend per purchase
  (Gamma-Gamma's conditional mean; without a spend model, the customer's own average order
  value, or the base's for customers without one);
* **expected margin** per period = expected revenue × the margin ratio: the base's own CRM
  gross margin / revenue where product cost is recorded (``margin.margin_rate_of_forecast:
  history``), else ``margin.margin_rate − margin.marketing_cost_rate``;
* **CLV** = the discounted expected margin over ``clv.horizon_years`` at
  ``clv.annual_discount_rate`` (converted exactly to the model's time unit), each month of
  the horizon discounted at its midpoint (:func:`cvm.models.clv.customer_lifetime_value`);
* **simple CLV** = average order value × purchases a year × ``clv.simple_lifespan_years`` ×
  margin ratio − acquisition cost, the textbook formula shown beside the model's. Purchases a
  year are the customer's purchase days divided by their tenure in years, the tenure counted
  as at least one forecast period.

>>> import datetime as dt, pandas as pd
>>> from cvm.models.bgnbd import BetaGeoModel
>>> from cvm.value.config import ValueConfig
>>> model = BetaGeoModel.from_params(BetaGeoModel.example_params)
>>> summary = pd.DataFrame({"frequency": [0.0, 4.0], "recency": [0.0, 30.0], "T": [39.0, 39.0],
...                         "monetary_value": [0.0, 20.0]})
>>> future = forecast_value(model, None, summary, observation_end=dt.date(1997, 9, 30), unit="week",
...                         config=ValueConfig(), margin_ratio=0.3, average_order_value=[25.0, 20.0])
>>> future.columns["forecast_purchases_1"].round(3).tolist()   # October 1997
[0.024, 0.302]
>>> bool(future.columns["clv"][1] > future.columns["clv"][0] > 0)
True
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cvm.data.timeunit import GREGORIAN_YEAR_DAYS, TimeUnit
from cvm.errors import ConfigError, ModelAssumptionError
from cvm.labels import Note
from cvm.models.clv import customer_lifetime_value
from cvm.value._arrays import filled
from cvm.value.config import ValueConfig

logger = logging.getLogger(__name__)

__all__ = ["FutureValue", "forecast_value", "simple_clv", "forecast_margin_ratio"]

MONTHS_A_YEAR = 12


@dataclass
class FutureValue:
    """Per-customer forecast columns, the forecast periods and notes on fallbacks."""

    columns: dict[str, np.ndarray]
    periods: list[tuple[dt.date, dt.date]]
    margin_ratio: float
    notes: list[str] = field(default_factory=list)


def forecast_margin_ratio(config: ValueConfig, history_ratio: float) -> tuple[float, str]:
    """The margin ratio applied to forecast revenue, and a sentence saying where it came from.

    >>> forecast_margin_ratio(ValueConfig(), 0.25)[0], forecast_margin_ratio(ValueConfig(), float("nan"))[0]
    (0.25, 0.3)
    """
    settings = config.margin
    if settings.margin_rate_of_forecast == "history" and np.isfinite(history_ratio):
        return float(history_ratio), Note("note.margin.ratio_history", ratio=history_ratio)
    ratio = settings.margin_rate - settings.marketing_cost_rate
    return ratio, Note("note.margin.ratio_configured", rate=settings.margin_rate,
                       marketing=settings.marketing_cost_rate, ratio=ratio)


def forecast_value(
    model: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    *,
    observation_end: dt.date,
    unit: TimeUnit | str,
    config: ValueConfig,
    margin_ratio: float,
    average_order_value: Any,
    previous_summary: pd.DataFrame | None = None,
) -> FutureValue:
    """Forecast per period, P(alive), expected spend and CLV for every row of ``summary``.

    ``summary`` is the BTYD summary (``frequency, recency, T``, and ``monetary_value`` for the
    spend model) in the model's time ``unit``; ``average_order_value`` one value per row, used
    when there is no spend model or the spend model has no mean. ``previous_summary``, the
    same customers' summary one forecast period earlier (NaN rows for customers not yet
    acquired), gives ``p_alive_previous``.
    """
    unit = TimeUnit.parse(unit)
    for method in ("expected_purchases_by_period", "probability_alive", "prepare_customers"):
        if not hasattr(model, method) or "T" not in getattr(model, "data_columns", ()):
            raise ConfigError(
                f"the value layer needs a continuous-time purchase model; {type(model).__name__} has no {method}",
                hint="fit BG/NBD, MBG/NBD or Pareto/NBD for customer value",
            )
    period = TimeUnit.parse(config.forecast.period)
    count = config.forecast.periods
    periods = period.future_periods(observation_end, count)
    edges = period.period_edges(observation_end, count, unit)
    notes: list[str] = []
    customers = model.prepare_customers(summary)
    purchases = model.expected_purchases_by_period(customers, edges)
    p_alive = model.probability_alive(customers)
    spend = _expected_spend(spend_model, summary, np.asarray(average_order_value, dtype=float), notes)
    columns: dict[str, np.ndarray] = {"p_alive": p_alive, "expected_spend": spend}
    for k in range(count):
        columns[f"forecast_purchases_{k + 1}"] = purchases[:, k]
        columns[f"forecast_revenue_{k + 1}"] = purchases[:, k] * spend
        columns[f"forecast_margin_{k + 1}"] = purchases[:, k] * spend * margin_ratio
    columns["forecast_margin_total"] = purchases.sum(axis=1) * spend * margin_ratio
    settings = config.clv
    horizon = unit.from_days(settings.horizon_years * GREGORIAN_YEAR_DAYS)
    steps = max(1, int(round(settings.horizon_years * MONTHS_A_YEAR)))
    columns["clv"] = customer_lifetime_value(
        model, customers, spend=spend, horizon=horizon,
        discount_rate=unit.discount_rate(settings.annual_discount_rate), margin=margin_ratio, steps=steps,
    )
    if previous_summary is not None:
        columns["p_alive_previous"] = _previous_alive(model, previous_summary)
    return FutureValue(columns=columns, periods=periods, margin_ratio=margin_ratio, notes=notes)


def _expected_spend(spend_model: Any, summary: pd.DataFrame, fallback: np.ndarray, notes: list[str]) -> np.ndarray:
    fallback = np.where(np.isfinite(fallback) & (fallback > 0), fallback, np.nan)
    base = float(np.nanmean(fallback)) if np.isfinite(fallback).any() else 0.0
    own = np.where(np.isnan(fallback), base, fallback)
    if spend_model is None:
        notes.append(Note("note.spend.no_model"))
        return own
    try:
        spend = spend_model.expected_spend(summary, undefined="observed", nonpositive="population")
    except ModelAssumptionError as exc:
        notes.append(Note("note.spend.no_mean", reason=exc.message))
        return own
    return np.asarray(spend, dtype=float)


def _previous_alive(model: Any, previous: pd.DataFrame) -> np.ndarray:
    """P(alive) one period earlier; NaN for customers who had not bought by then."""
    columns = ("frequency", "recency", "T")
    x, t_x, T = (previous[c].to_numpy(dtype=float) for c in columns)
    present = np.isfinite(x) & np.isfinite(t_x) & (T > 0)
    if present.all():
        return model.probability_alive({"frequency": x, "recency": t_x, "T": T})
    # placeholders (a customer just acquired) where there is no earlier state, then blanked
    alive = model.probability_alive({"frequency": np.where(present, x, 0.0), "recency": np.where(present, t_x, 0.0),
                                     "T": np.where(present, T, 1.0)})
    alive[~present] = np.nan
    return alive


def simple_clv(
    average_order_value: Any,
    n_purchases: Any,
    tenure_days: Any,
    *,
    config: ValueConfig,
    margin_ratio: float,
    acquisition_cost: Any = 0.0,
) -> np.ndarray:
    """Average order value × purchases a year × lifespan × margin ratio − acquisition cost.

    >>> simple_clv([50.0], [6], [365.2425 * 2], config=ValueConfig(), margin_ratio=0.3,
    ...            acquisition_cost=[20.0]).round(2).tolist()   # 50 × 3 a year × 3 years × 0.3 − 20
    [115.0]
    """
    aov = np.asarray(average_order_value, dtype=float)
    n = np.asarray(n_purchases, dtype=float)
    period_days = TimeUnit.parse(config.forecast.period).days
    years = np.maximum(np.asarray(tenure_days, dtype=float), period_days) / GREGORIAN_YEAR_DAYS
    per_year = n / years
    cac = filled(np.asarray(acquisition_cost, dtype=float))
    return filled(aov) * per_year * config.clv.simple_lifespan_years * margin_ratio - cac
