"""Realistic report inputs: a generated retail business run through the data, model and value layers.

:func:`build_retail` returns every table a chart of the report reads, built the way the
analysis pipeline builds them; :func:`report_sections` turns them into one section per chart,
shared by the HTML tests and the browser test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
import ibis
import numpy as np
import pandas as pd

import cvm.data.summaries as summaries
from cvm.datasets.generator import generate_retail
from cvm.models import bgnbd
from cvm.models.bgnbd import BetaGeoModel
from cvm.models.gamma_gamma import GammaGammaModel
from cvm.value import health, lifecycle, playbook
from cvm.value.segments import tier_labels
from cvm.value.table import CustomerValue, customer_value
from cvm.report import charts
from cvm.report.page import (
    Section, campaign_text, channel_text, forecast_text, lifecycle_text, pareto_text, pyramid_text,
    retention_text, value_at_risk_text,
)

END = dt.date(2024, 12, 31)
CALIBRATION_END = dt.date(2024, 6, 30)


@dataclass
class RetailInputs:
    value: CustomerValue
    distribution: pd.DataFrame
    transitions: pd.DataFrame
    warnings: pd.DataFrame
    forecast: pd.DataFrame
    cohorts: pd.DataFrame
    satisfaction: pd.DataFrame
    tracking: pd.DataFrame
    calibration: pd.DataFrame
    parameters: pd.DataFrame
    campaigns: dict[str, pd.DataFrame]


def _tracking(first_week: np.ndarray, repeat_week: np.ndarray, params: dict[str, float], weeks: int) -> pd.DataFrame:
    """Cumulative repeat purchases per week: counted, and expected by BG/NBD from each first purchase."""
    ends = np.arange(1, weeks + 1, dtype=float)
    cohort_weeks, cohort_sizes = np.unique(first_week, return_counts=True)
    age = np.clip(ends[:, None] - cohort_weeks[None, :], 0.0, None)
    expected = (bgnbd.expected_purchases_new_customer(**params, t=age) * cohort_sizes).sum(axis=1)
    actual = np.cumsum(np.bincount(repeat_week.astype(int), minlength=weeks)[:weeks])
    return pd.DataFrame({"period": ends.astype(int), "actual": actual, "expected": expected})


def build_retail(n_customers: int = 1500, seed: int = 11) -> RetailInputs:
    data = generate_retail(n_customers, seed=seed)
    log = data.transactions.assign(date=pd.to_datetime(data.transactions["date"]).dt.date)
    # a customer first seen on the last day has T = 0, which the models refuse
    log = log[(log.groupby("customer_id")["date"].transform("min") < END).to_numpy()]
    table = ibis.memtable(log).mutate(date=ibis._.date.cast("date"))
    purchases = table.filter(ibis._.amount > 0)  # the models read positive spend only

    summary = summaries.btyd_summary(purchases, observation_end=END, unit="week").to_pyarrow().to_pandas()
    history = summaries.value_history(table, observation_end=END).to_pyarrow().to_pandas()
    rfm = summaries.rfm_scores(table, observation_end=END).to_pyarrow().to_pandas()
    panel = summaries.period_panel(table, observation_end=END, dense=True).to_pyarrow().to_pandas()
    split = summaries.calibration_holdout(purchases, calibration_end=CALIBRATION_END, holdout_end=END,
                                          unit="week").to_pyarrow().to_pandas()

    model = BetaGeoModel().fit(summary)
    spend = GammaGammaModel().fit(summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)])
    value = customer_value(history, summary, model=model, spend_model=spend, observation_end=END, unit="week",
                           customers=data.customers, rfm=rfm, panel=panel, referrals=data.referrals)

    stages = lifecycle.lifecycle_stages(panel)
    retention = health.retention(panel)
    tiers = value.table[["customer_id"]].assign(pyramid=value.table["pyramid"].astype(str))
    sat = health.satisfaction(data.surveys, tiers)
    campaigns = playbook.campaign_lists(value.table, playbook.assign_actions(value.table))

    # revenue per month, and the value table's forecast for the coming months
    monthly = panel.groupby("period_start", as_index=False)["revenue"].sum().tail(12)
    ahead = [(start, float(value.table[f"forecast_revenue_{k}"].sum()))
             for k, (start, _) in enumerate(value.forecast_periods, start=1)]
    forecast = pd.concat([
        monthly.assign(period_start=pd.to_datetime(monthly["period_start"]), kind="history"),
        pd.DataFrame({"period_start": pd.to_datetime([s for s, _ in ahead]), "revenue": [r for _, r in ahead],
                      "kind": "forecast"}),
    ], ignore_index=True)

    # model checks: weekly tracking, calibration vs holdout, parameters with intervals
    days = pd.to_datetime(log.loc[log["amount"] > 0, "date"])
    customer_days = pd.DataFrame({"customer_id": log.loc[log["amount"] > 0, "customer_id"].to_numpy(),
                                  "day": days.to_numpy()}).drop_duplicates()
    start = customer_days["day"].min()
    week = ((customer_days["day"] - start).dt.days // 7).to_numpy()
    first = customer_days.groupby("customer_id")["day"].transform("min")
    repeat = (customer_days["day"] > first).to_numpy()
    first_week = ((customer_days.loc[~repeat, "day"] - start).dt.days / 7.0).to_numpy()
    params = {k: float(v) for k, v in model.params_.items()}
    tracking = _tracking(first_week, week[repeat], params, int(week.max()) + 1)

    calibrated = BetaGeoModel().fit(split[split["T"] > 0])
    split = split[split["T"] > 0].copy()
    split["predicted"] = calibrated.expected_purchases(split, t=split["duration_holdout"].to_numpy())
    split["group"] = split["frequency"].clip(upper=7)
    calibration = split.groupby("group", as_index=False).agg(
        actual=("frequency_holdout", "mean"), predicted=("predicted", "mean"))
    calibration["frequency"] = [str(int(g)) if g < 7 else "7+" for g in calibration["group"]]

    intervals = model.confidence_intervals_
    parameters = pd.DataFrame({"name": list(params), "estimate": list(params.values()),
                               "lower": [intervals[k][0] for k in params], "upper": [intervals[k][1] for k in params]})
    return RetailInputs(
        value=value, distribution=lifecycle.stage_distribution(stages.history),
        transitions=lifecycle.transitions(stages.history), warnings=lifecycle.early_warning(value.table),
        forecast=forecast, cohorts=retention.cohorts, satisfaction=sat.by_segment, tracking=tracking,
        calibration=calibration, parameters=parameters, campaigns=campaigns,
    )


def report_sections(inputs: RetailInputs, lang: str) -> list[Section]:
    """One section per chart of the report, with its reading where one is written."""
    v = inputs.value
    names = tier_labels(v.config.segments)
    return [
        Section("pyramid", figure=charts.pyramid_chart(v.pyramid, lang, names), text=pyramid_text(v.pyramid, lang, names)),
        Section("value-matrix", figure=charts.value_matrix_chart(v.table, lang, v.config.segments)),
        Section("pareto", figure=charts.concentration_chart(v.concentration, lang), text=pareto_text(v.concentration, lang)),
        Section("rfm", figure=charts.rfm_chart(v.table, lang)),
        Section("loyalty-profit", figure=charts.loyalty_profit_chart(v.table, lang)),
        Section("lifecycle", figure=charts.lifecycle_distribution_chart(inputs.distribution, lang),
                text=lifecycle_text(inputs.distribution, lang)),
        Section("flows", figure=charts.lifecycle_flow_chart(inputs.transitions, lang)),
        Section("warnings", figure=charts.early_warning_chart(inputs.warnings, v.value_at_risk, lang),
                text=value_at_risk_text(v.value_at_risk, lang)),
        Section("forecast", figure=charts.forecast_chart(inputs.forecast, lang), text=forecast_text(inputs.forecast, lang)),
        Section("clv", figure=charts.clv_distribution_chart(v.table["clv"], lang)),
        Section("channels", figure=charts.channel_chart(v.equity, lang), text=channel_text(v.equity, lang)),
        Section("cohorts", figure=charts.cohort_retention_chart(inputs.cohorts, lang),
                text=retention_text(inputs.cohorts, lang)),
        Section("satisfaction", figure=charts.satisfaction_chart(inputs.satisfaction, lang, tier_names=names)),
        Section("tracking", figure=charts.tracking_chart(inputs.tracking, lang)),
        Section("calibration", figure=charts.calibration_chart(inputs.calibration, lang)),
        Section("parameters", figure=charts.parameters_chart(inputs.parameters, lang)),
        Section("campaigns", figure=charts.campaign_chart(inputs.campaigns, lang), text=campaign_text(inputs.campaigns, lang)),
    ]

