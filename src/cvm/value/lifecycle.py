"""Lifecycle stages: where each customer is in the relationship, at every period end.

Stages (labels ``lifecycle.*`` in English and Chinese):

* **prospect** (潜在期): known (in the customers table) but no purchase yet;
* **exploration** (考察期): the first periods after the first purchase, while the customer
  has made few purchases (``lifecycle.exploration_periods`` periods, or at most
  ``lifecycle.exploration_purchases`` purchase days);
* **formation** (形成期): volume rising: the mean revenue of the last
  ``lifecycle.trend_periods`` periods is at least ``lifecycle.growth_ratio`` times the
  customer's own baseline (the mean over the ``lifecycle.baseline_periods`` periods before);
* **stable** (稳定期): active, with volume neither rising nor falling against the baseline;
* **decline** (衰退期): volume falling: recent mean revenue below ``lifecycle.decline_ratio``
  times the baseline, or no purchase for ``lifecycle.decline_gap_periods`` periods or more,
  or (at the observation end, when the model's probability of being alive is given) P(alive)
  fell by ``risk.min_drop`` or more since one period earlier;
* **churned** (终止期): no purchase for ``lifecycle.churn_gap_periods`` periods or more, or
  (at the observation end) P(alive) below ``lifecycle.churn_p_alive``: beyond what the model
  still considers alive;
* **recovered** (恢复期): buying again after a churned spell or a quiet spell of
  ``lifecycle.quiet_periods`` periods or more; the stage lasts
  ``lifecycle.recovered_periods`` periods (including the one of the return).

The rules are tried in the order churned, recovered, decline by a purchase gap, exploration,
decline by falling volume, formation, stable (an explorer who stops buying is declining; volume
trends are not read during exploration); the first that holds gives the stage, and its key is kept as the **reason** (with the numbers
it used) so every assignment can be explained. Periods are calendar periods of
``forecast.period`` (months by default) and the input is the dense period panel
(:func:`cvm.data.summaries.period_panel` with ``dense=True``): every customer has a row for
every period from their first one to the period of the observation end.

>>> import pandas as pd
>>> panel = pd.DataFrame({"customer_id": ["a"] * 6,
...     "period_start": pd.date_range("2024-01-01", periods=6, freq="MS"),
...     "orders": [1, 1, 1, 1, 0, 0], "revenue": [50.0, 60.0, 55.0, 50.0, 0.0, 0.0]})
>>> stages = lifecycle_stages(panel)
>>> stages.history["stage"].tolist()
['exploration', 'exploration', 'exploration', 'stable', 'stable', 'decline']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cvm.errors import InvalidDataError, MissingColumnError
from cvm.labels import label
from cvm.value.settings import Settings

__all__ = ["LifecycleSettings", "Lifecycle", "lifecycle_stages", "STAGES", "transitions", "stage_distribution",
           "early_warning", "WARNING_SIGNS"]

STAGES = ("prospect", "exploration", "formation", "stable", "decline", "churned", "recovered")
"""The stage keys, in lifecycle order (labels ``lifecycle.<key>``)."""


class LifecycleSettings(Settings):
    """Thresholds of the lifecycle rules (see the module docstring)."""

    exploration_periods: int = Field(3, ge=1, le=120, description="Periods after the first purchase that count as exploration.")
    exploration_purchases: int = Field(
        2, ge=1, le=1000, description="A customer with at most this many purchase days is still exploring.")
    baseline_periods: int = Field(
        6, ge=1, le=120, description="Periods before the recent ones whose mean revenue is the customer's own baseline.")
    trend_periods: int = Field(3, ge=1, le=120, description="Recent periods whose mean revenue is compared with the baseline.")
    growth_ratio: float = Field(1.2, gt=1, le=100, description="Recent / baseline revenue at or above which volume is rising (formation).")
    decline_ratio: float = Field(0.5, gt=0, lt=1, description="Recent / baseline revenue below which volume is falling (decline).")
    decline_gap_periods: int = Field(2, ge=1, le=120, description="Periods without a purchase from which a customer is declining.")
    churn_gap_periods: int = Field(6, ge=2, le=240, description="Periods without a purchase from which a customer has churned.")
    churn_p_alive: float = Field(
        0.1, ge=0, le=1, description="At the observation end, P(alive) below this means churned (when P(alive) is given).")
    quiet_periods: int = Field(3, ge=1, le=240, description="A quiet spell of this many periods or more makes a return a recovery.")
    recovered_periods: int = Field(2, ge=1, le=120, description="Periods a returning customer stays in the recovered stage.")

    overdue_factor: float = Field(
        1.5, gt=1, le=100,
        description="Early warning: a repeat customer is overdue when the days since their last purchase exceed this "
        "many times their own mean days between purchases (tenure / (purchases - 1)).")
    falling_ratio: float = Field(
        0.5, gt=0, lt=1,
        description="Early warning: spending is falling when the last history period's revenue is below this share "
        "of the mean of the earlier history periods (which must be above 0).")

    @model_validator(mode="after")
    def _gaps_in_order(self) -> LifecycleSettings:
        if self.decline_gap_periods >= self.churn_gap_periods:
            raise ValueError("decline_gap_periods must be smaller than churn_gap_periods")
        return self


@dataclass
class Lifecycle:
    """Stage of every customer in every period, and the current stage with its reason."""

    history: pd.DataFrame
    """One row per customer and period: ``customer_id, period_start, stage, reason`` (+ labels)."""
    current: pd.DataFrame
    """One row per customer: the stage at the observation end, its reason and labels."""
    periods: list[pd.Timestamp] = field(default_factory=list)


def _matrix(panel: pd.DataFrame, column: str, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape)
    out[rows, cols] = pd.to_numeric(panel[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return out


def lifecycle_stages(
    panel: pd.DataFrame,
    settings: LifecycleSettings | None = None,
    *,
    p_alive: Any = None,
    p_alive_previous: Any = None,
    min_drop: float = 0.05,
    prospects: Any = None,
) -> Lifecycle:
    """Stage of each customer at the end of every period of the dense ``panel``.

    ``p_alive`` and ``p_alive_previous`` (optional) are Series indexed by customer id with the
    model's probability of being alive at the observation end and one period earlier; they
    refine the current stage (churned, decline). ``prospects`` lists customer ids known
    without purchases.
    """
    settings = settings or LifecycleSettings()
    for column in ("customer_id", "period_start", "orders", "revenue"):
        if column not in panel.columns:
            raise MissingColumnError(
                f"lifecycle: the period panel has no column {column!r}",
                hint="pass cvm.data.summaries.period_panel(..., dense=True)",
            )
    customers, rows = np.unique(panel["customer_id"].astype(str).to_numpy(), return_inverse=True)
    starts = pd.to_datetime(panel["period_start"]).to_numpy()
    periods, cols = np.unique(starts, return_inverse=True)
    shape = (customers.size, periods.size)
    orders = _matrix(panel, "orders", rows, cols, shape)
    revenue = _matrix(panel, "revenue", rows, cols, shape)
    if np.any(orders < 0):
        raise InvalidDataError("lifecycle: column 'orders' must be >= 0")
    present = np.zeros(shape, dtype=bool)
    present[rows, cols] = True

    active = orders > 0
    # the first period of each customer, and their age in periods at every period
    any_active = active.any(axis=1)
    first = np.where(any_active, active.argmax(axis=1), shape[1])
    t = np.arange(shape[1])
    age = t[None, :] - first[:, None]  # 0 in the first period, negative before it
    purchases = np.cumsum(orders, axis=1)
    # periods since the last purchase (0 in a period with one)
    last_active = np.where(active, t[None, :], -1)
    last_active = np.maximum.accumulate(last_active, axis=1)
    gap = np.where(last_active >= 0, t[None, :] - last_active, 10**9)
    # length of the quiet spell that ended with this period's purchase
    previous_last = np.concatenate([np.full((shape[0], 1), -1), last_active[:, :-1]], axis=1)
    spell = np.where(active & (previous_last >= 0), t[None, :] - previous_last - 1, 0)

    # recent and baseline mean revenue from cumulative sums
    cumulative = np.concatenate([np.zeros((shape[0], 1)), np.cumsum(revenue, axis=1)], axis=1)
    k, b = settings.trend_periods, settings.baseline_periods
    end = t + 1
    recent = (cumulative[:, end] - cumulative[:, np.maximum(end - k, 0)]) / np.minimum(end, k)[None, :]
    base_end = np.maximum(end - k, 0)
    base_len = np.minimum(base_end, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        baseline = np.where(base_len > 0, (cumulative[:, base_end] - cumulative[:, base_end - base_len])
                            / np.maximum(base_len, 1)[None, :], np.nan)
        ratio = np.where(baseline > 0, recent / baseline, np.nan)

    churned = gap >= settings.churn_gap_periods
    # a return after churn or a quiet spell, and the periods that follow it
    returned = active & (spell >= settings.quiet_periods)
    return_period = np.where(returned, t[None, :], -1)
    return_period = np.maximum.accumulate(return_period, axis=1)
    recovered = (return_period >= 0) & (t[None, :] - return_period < settings.recovered_periods) & ~churned
    exploration = (age < settings.exploration_periods) | (purchases <= settings.exploration_purchases)
    quiet = gap >= settings.decline_gap_periods
    falling = ratio < settings.decline_ratio
    formation = ratio >= settings.growth_ratio

    conditions = [churned, recovered, quiet, exploration, falling, formation]
    keys = ["churned", "recovered", "decline", "exploration", "decline", "formation"]
    stage_codes = np.select(conditions, [STAGES.index(k) for k in keys], default=STAGES.index("stable"))
    reason_codes = np.select(conditions, list(range(len(keys))), default=len(keys))
    valid = present & (age >= 0)

    # the current stage (last period) refined by the model's P(alive)
    current_code = stage_codes[:, -1].copy()
    current_reason = np.array(REASONS, dtype=object)[reason_codes[:, -1]]
    if p_alive is not None:
        alive = pd.Series(p_alive).reindex(customers.astype(object)).to_numpy(dtype=float)
        dead = alive < settings.churn_p_alive
        current_reason = np.where(dead & (current_code != STAGES.index("churned")), "p_alive_low", current_reason)
        current_code = np.where(dead, STAGES.index("churned"), current_code)
        if p_alive_previous is not None:
            before = pd.Series(p_alive_previous).reindex(customers.astype(object)).to_numpy(dtype=float)
            falling = (before - alive >= min_drop) & np.isin(
                current_code, [STAGES.index("stable"), STAGES.index("formation")])
            current_reason = np.where(falling, "p_alive_falling", current_reason)
            current_code = np.where(falling, STAGES.index("decline"), current_code)

    history = pd.DataFrame({
        "customer_id": np.repeat(customers, shape[1])[valid.reshape(-1)],
        "period_start": np.tile(periods, shape[0])[valid.reshape(-1)],
        "stage": pd.Categorical.from_codes(stage_codes[valid], categories=list(STAGES)),
        "reason": pd.Categorical.from_codes(reason_codes[valid], categories=list(REASONS)),
        "recent_revenue": recent[valid],
        "baseline_revenue": baseline[valid],
        "periods_since_purchase": np.where(gap[valid] >= 10**9, -1, gap[valid]),
    })
    current = pd.DataFrame({
        "customer_id": customers,
        "lifecycle_stage": pd.Categorical.from_codes(current_code, categories=list(STAGES)),
        "lifecycle_reason": current_reason,
    })
    if prospects is not None:
        known = pd.Index(pd.Series(prospects, dtype=str)).difference(pd.Index(customers))
        if len(known):
            current = pd.concat([current, pd.DataFrame({
                "customer_id": known.to_numpy(),
                "lifecycle_stage": pd.Categorical(["prospect"] * len(known), categories=list(STAGES)),
                "lifecycle_reason": "no_purchase_yet",
            })], ignore_index=True)
    for frame, column in ((history, "stage"), (current, "lifecycle_stage")):
        for lang in ("en", "zh"):
            names = [label(f"lifecycle.{key}", lang) for key in STAGES]
            frame[f"{column}_{lang}"] = pd.Categorical.from_codes(frame[column].cat.codes, categories=names)
    return Lifecycle(history=history, current=current, periods=[pd.Timestamp(p) for p in periods])


REASONS = ("no_purchase_for_churn_gap", "returned_after_quiet_spell", "no_purchase_for_decline_gap",
           "first_periods_or_few_purchases", "volume_falling", "volume_rising", "steady_volume")
"""Why a stage was given, in the order of the rules (plus ``p_alive_low``, ``p_alive_falling``
and ``no_purchase_yet`` for the current stage)."""


def transitions(history: pd.DataFrame) -> pd.DataFrame:
    """Counts of customers moving from one stage to another between consecutive periods.

    One row per (period_start, from_stage, to_stage); a customer's first period counts as a
    move from ``None`` (new). The counts into each period sum to that period's customers.

    >>> h = pd.DataFrame({"customer_id": ["a", "a", "b"], "period_start": pd.to_datetime(
    ...     ["2024-01-01", "2024-02-01", "2024-02-01"]), "stage": ["exploration", "stable", "exploration"]})
    >>> transitions(h)[["period_start", "from_stage", "to_stage", "customers"]].values.tolist()[-1][1:]
    ['exploration', 'stable', 1]
    """
    h = history.sort_values(["customer_id", "period_start"])
    previous = h.groupby("customer_id", sort=False)["stage"].shift(1)
    frame = pd.DataFrame({
        "period_start": h["period_start"].to_numpy(),
        "from_stage": previous.astype(object).where(previous.notna(), "(new)").to_numpy(),
        "to_stage": h["stage"].astype(object).to_numpy(),
    })
    return (frame.groupby(["period_start", "from_stage", "to_stage"], sort=True).size()
            .rename("customers").reset_index())


def stage_distribution(history: pd.DataFrame) -> pd.DataFrame:
    """Customers per stage in every period (a period × stage table; rows sum to the period's customers).

    >>> h = pd.DataFrame({"customer_id": ["a", "b"], "period_start": pd.to_datetime(["2024-01-01"] * 2),
    ...                   "stage": pd.Categorical(["stable", "decline"], categories=list(STAGES))})
    >>> stage_distribution(h).loc[pd.Timestamp("2024-01-01"), ["stable", "decline"]].tolist()
    [1, 1]
    """
    stage = history["stage"] if isinstance(history["stage"].dtype, pd.CategoricalDtype) \
        else pd.Categorical(history["stage"], categories=list(STAGES))
    return pd.crosstab(history["period_start"], stage).reindex(columns=list(STAGES), fill_value=0)


WARNING_SIGNS = ("overdue", "volume_falling", "p_alive_falling", "complaints_rising")
"""Early-warning signs, in the order they are listed (labels ``warning.<key>``)."""


def early_warning(
    table: pd.DataFrame,
    settings: LifecycleSettings | None = None,
    *,
    min_drop: float = 0.05,
    periods: int | None = None,
    surveys: pd.DataFrame | None = None,
    recent_since: Any = None,
) -> pd.DataFrame:
    """Customers showing warning signs of decline, ranked by the margin at stake.

    ``table`` is the customer value table (:func:`cvm.value.table.customer_value`). The signs:

    * ``overdue``: a repeat customer whose days since the last purchase exceed
      ``overdue_factor`` times their own mean days between purchases;
    * ``volume_falling``: the last history period's revenue below ``falling_ratio`` times the
      mean of the earlier history periods;
    * ``p_alive_falling``: P(alive) fell by ``min_drop`` or more since one period earlier;
    * ``complaints_rising`` (with ``surveys`` and ``recent_since``): more complaints since
      ``recent_since`` than in any equally long stretch before, on average.

    Churned customers and prospects are left out (they are past warning). The margin at
    stake is what the customer would bring if still alive times the chance they are gone
    (CLV / P(alive) × (1 − P(alive))); the list is sorted by it, largest first, with the
    signs that fired in English and Chinese.

    >>> t = pd.DataFrame({"customer_id": ["a", "b"], "n_purchases": [5, 5], "tenure_days": [400, 400],
    ...     "days_since_last_purchase": [300, 10], "p_alive": [0.4, 0.9], "p_alive_previous": [0.7, 0.9],
    ...     "clv": [40.0, 90.0], "revenue_hist_1": [50.0, 50.0], "revenue_hist_2": [0.0, 60.0]})
    >>> warned = early_warning(t)
    >>> warned[["customer_id", "signs", "n_signs"]].values.tolist()
    [['a', 'overdue, volume_falling, p_alive_falling', 3]]
    """
    settings = settings or LifecycleSettings()
    for column in ("customer_id", "n_purchases", "tenure_days", "days_since_last_purchase", "p_alive", "clv"):
        if column not in table.columns:
            raise MissingColumnError(f"early warning: the customer value table has no column {column!r}")
    n = len(table)
    purchases = table["n_purchases"].to_numpy(dtype=float)
    tenure = table["tenure_days"].to_numpy(dtype=float, na_value=np.nan)
    since = table["days_since_last_purchase"].to_numpy(dtype=float, na_value=np.nan)
    p = table["p_alive"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        usual = np.where(purchases >= 2, tenure / (purchases - 1), np.nan)
        signs = {"overdue": since > settings.overdue_factor * usual}
    history = sorted((int(c.rsplit("_", 1)[1]) for c in table.columns if c.startswith("revenue_hist_")))
    if periods is not None:
        history = [k for k in history if k <= periods]
    if len(history) >= 2:
        last = table[f"revenue_hist_{history[-1]}"].to_numpy(dtype=float)
        earlier = np.mean([table[f"revenue_hist_{k}"].to_numpy(dtype=float) for k in history[:-1]], axis=0)
        signs["volume_falling"] = (earlier > 0) & (last < settings.falling_ratio * earlier)
    else:
        signs["volume_falling"] = np.zeros(n, dtype=bool)
    if "p_alive_previous" in table.columns:
        before = table["p_alive_previous"].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            signs["p_alive_falling"] = before - p >= min_drop
    else:
        signs["p_alive_falling"] = np.zeros(n, dtype=bool)
    signs["complaints_rising"] = _complaints_rising(table["customer_id"], surveys, recent_since)
    fired = np.stack([np.asarray(signs[k], dtype=bool) for k in WARNING_SIGNS], axis=1)
    eligible = purchases > 0
    if "lifecycle_stage" in table.columns:
        eligible &= ~table["lifecycle_stage"].astype(str).isin(["churned", "prospect"]).to_numpy()
    warned = eligible & fired.any(axis=1)
    rows = np.flatnonzero(warned)
    clv = table["clv"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_stake = np.where(p > 0, clv / p * (1 - p), 0.0)
    names = np.array(WARNING_SIGNS, dtype=object)
    listed = [", ".join(names[fired[i]]) for i in rows]  # only the warned customers
    out = pd.DataFrame({
        "customer_id": table["customer_id"].to_numpy()[rows],
        "margin_at_stake": at_stake[rows],
        "n_signs": fired[rows].sum(axis=1),
        "signs": listed,
        "signs_en": ["; ".join(label(f"warning.{k}", "en") for k in s.split(", ")) for s in listed],
        "signs_zh": ["；".join(label(f"warning.{k}", "zh") for k in s.split(", ")) for s in listed],
    })
    for column in ("value_matrix", "lifecycle_stage", "p_alive", "clv", "value_at_risk"):
        if column in table.columns:
            out[column] = table[column].to_numpy()[rows]
    return out.sort_values(["margin_at_stake", "n_signs"], ascending=False, kind="stable").reset_index(drop=True)


def _complaints_rising(customer_id: pd.Series, surveys: pd.DataFrame | None, recent_since: Any) -> np.ndarray:
    """More complaints since ``recent_since`` than before it, per day of each stretch."""
    n = len(customer_id)
    if surveys is None or recent_since is None or surveys.empty:
        return np.zeros(n, dtype=bool)
    for column in ("customer_id", "date", "complaint"):
        if column not in surveys.columns:
            raise MissingColumnError(f"early warning: the surveys table has no column {column!r}")
    complaints = surveys[surveys["complaint"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    dates = pd.to_datetime(complaints["date"])
    start = pd.Timestamp(recent_since)
    first = pd.to_datetime(surveys["date"]).min()
    recent_days = max((pd.to_datetime(surveys["date"]).max() - start).days + 1, 1)
    earlier_days = max((start - first).days, 1)
    ids = customer_id.astype(str)
    recent = complaints.loc[(dates >= start).to_numpy(), "customer_id"].astype(str).value_counts()
    earlier = complaints.loc[(dates < start).to_numpy(), "customer_id"].astype(str).value_counts()
    recent_rate = ids.map(recent).fillna(0).to_numpy(dtype=float) / recent_days
    earlier_rate = ids.map(earlier).fillna(0).to_numpy(dtype=float) / earlier_days
    return recent_rate > earlier_rate

