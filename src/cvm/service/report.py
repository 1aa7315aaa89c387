"""The customer value report of an analysis: one section per chart, each with its reading.

:func:`report_sections` turns an :class:`~cvm.service.analyze.Analysis` into the sections of
:func:`cvm.report.render_report`, in the order a marketing manager reads them: who the
customers are worth (pyramid, value matrix, concentration, RFM, loyalty × profitability),
where they are in the lifecycle and who is slipping, what comes next (forecast, CLV,
channels), the health of the base (cohorts, satisfaction), whether the model can be trusted
(tracking, calibration, parameters) and what to do (the playbook's campaign lists). A chart
whose input was not given (no surveys, no acquisition channels, no holdout) is left out and
named in the closing notes, with the option that would add it, so no chart is ever empty.

>>> from cvm.datasets import dataset_path
>>> from cvm.service.analyze import analyze
>>> analysis = analyze(dataset_path("cdnow_sample"), holdout="1997-09-30")
>>> [s.key for s in report_sections(analysis)][:4]
['pyramid', 'value-matrix', 'pareto', 'rfm']
>>> html = analysis_report(analysis, "zh")
>>> html.startswith("<!DOCTYPE html>"), "客户价值报告" in html
(True, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cvm.labels import Note, in_language, label
from cvm.report import charts
from cvm.report.page import (
    KPI, Section, calibration_text, campaign_text, channel_text, clv_text, flows_text, forecast_text,
    headline_kpis, lifecycle_text, loyalty_profit_text, matrix_text, model_text, pareto_text, pyramid_text,
    render_report, retention_text, rfm_text, satisfaction_text, value_at_risk_text,
)
from cvm.value.segments import tier_labels

if TYPE_CHECKING:
    from cvm.service.analyze import Analysis

__all__ = ["analysis_report", "report_sections"]

HISTORY_PERIODS = 12
"""Past periods the forecast chart shows before the forecast."""


def analysis_report(analysis: Analysis, lang: str = "en") -> str:
    """The whole report of ``analysis`` as one self-contained HTML page in ``lang`` (en or zh)."""
    subtitle = label("report.generated_for", lang).format(end=analysis.observation_end.isoformat())
    return render_report(report_sections(analysis, lang), lang, subtitle=subtitle, kpis=_kpis(analysis, lang))


def _kpis(analysis: Analysis, lang: str) -> list[KPI]:
    kpis = headline_kpis(analysis.value, lang)
    model = analysis.purchase_model
    headline = analysis.headline()
    rmse = headline["holdout_rmse"]
    note = "" if rmse is None else label("report.kpi.holdout_error", lang).format(rmse=f"{rmse:.3f}")
    kpis.append(KPI(label("report.kpi.model", lang), getattr(model, "title", model.name), note))
    return kpis


def report_sections(analysis: Analysis, lang: str = "en") -> list[Section]:
    """The report's sections for ``analysis`` (see the module docstring)."""
    value, table = analysis.value, analysis.table
    names = tier_labels(value.config.segments)
    left_out: list[str] = []
    sections = [
        Section("pyramid", figure=charts.pyramid_chart(value.pyramid, lang, names),
                text=pyramid_text(value.pyramid, lang, names)),
        Section("value-matrix", figure=charts.value_matrix_chart(table, lang, value.config.segments),
                text=matrix_text(table, lang)),
        Section("pareto", figure=charts.concentration_chart(value.concentration, lang),
                text=pareto_text(value.concentration, lang)),
        Section("rfm", figure=charts.rfm_chart(table, lang), text=rfm_text(table, lang)),
        Section("loyalty-profit", figure=charts.loyalty_profit_chart(table, lang), text=loyalty_profit_text(table, lang)),
        Section("lifecycle", figure=charts.lifecycle_distribution_chart(analysis.stage_distribution, lang),
                text=lifecycle_text(analysis.stage_distribution, lang)),
        Section("flows", figure=charts.lifecycle_flow_chart(analysis.transitions, lang),
                text=flows_text(analysis.transitions, lang)),
        Section("warnings", figure=charts.early_warning_chart(analysis.early_warning, value.value_at_risk, lang),
                text=value_at_risk_text(value.value_at_risk, lang)),
    ]
    forecast = forecast_frame(analysis)
    sections.append(Section("forecast", figure=charts.forecast_chart(forecast, lang),
                            text=forecast_text(forecast, lang) + label("report.text.forecast_scope", lang)))
    sections.append(Section("clv", figure=charts.clv_distribution_chart(table["clv"], lang),
                            text=clv_text(table["clv"], lang)))
    if _has_channels(value.equity):
        sections.append(Section("channels", figure=charts.channel_chart(value.equity, lang),
                                text=channel_text(value.equity, lang)))
    else:
        left_out.append(label("report.left_out.channels", lang))
    cohorts = None if analysis.retention is None else analysis.retention.cohorts
    if cohorts is not None and len(cohorts):
        sections.append(Section("cohorts", figure=charts.cohort_retention_chart(cohorts, lang),
                                text=retention_text(cohorts, lang)))
    else:
        left_out.append(label("report.left_out.cohorts", lang))
    satisfaction = None if analysis.satisfaction is None else analysis.satisfaction.by_segment
    if satisfaction is not None and len(satisfaction):
        sections.append(Section(
            "satisfaction", figure=charts.satisfaction_chart(satisfaction, lang, "value_matrix", tier_names=names),
            text=satisfaction_text(satisfaction, lang, "value_matrix", tier_names=names)))
    else:
        left_out.append(label("report.left_out.satisfaction", lang))
    model_title = getattr(analysis.purchase_model, "title", analysis.purchase_model.name)
    sections.append(Section("tracking", figure=charts.tracking_chart(
        tracking_frame(analysis), lang, holdout_start=_date(analysis.calibration_end)),
        text=model_text(analysis.comparison, model_title, lang)))
    calibration = calibration_frame(analysis)
    if len(calibration):
        sections.append(Section("calibration", figure=charts.calibration_chart(calibration, lang),
                                text=calibration_text(calibration, lang)))
    else:
        left_out.append(label("report.left_out.calibration", lang))
    sections.append(Section("parameters", figure=charts.parameters_chart(parameters_frame(analysis), lang),
                            text=label("report.text.parameters", lang).format(model=model_title)))
    sections.append(Section("campaigns", figure=charts.campaign_chart(analysis.campaigns, lang),
                            text=campaign_text(analysis.campaigns, lang)))
    notes = [label("report.notes.left_out", lang).format(what=what) for what in left_out]
    explained = {getattr(analysis.comparison, "explanation", None)}  # the tracking section says it
    run_notes = [note for note in analysis.notes if note not in explained]
    notes += _notes_in(run_notes, lang)
    if notes:
        sections.append(Section("notes", title=label("report.notes.title", lang), items=tuple(notes)))
    return sections


# --------------------------------------------------------------------------------------------
# chart inputs from the analysis


def forecast_frame(analysis: Analysis, history_periods: int = HISTORY_PERIODS) -> pd.DataFrame:
    """Revenue of the last ``history_periods`` periods and the forecast of the coming ones
    (``period_start``, ``revenue``, ``kind``)."""
    history = analysis.revenue_by_period.tail(history_periods)
    table = analysis.table
    ahead = [(start, float(np.nansum(table[f"forecast_revenue_{k}"].to_numpy(dtype=float))))
             for k, (start, _) in enumerate(analysis.value.forecast_periods, start=1)
             if f"forecast_revenue_{k}" in table.columns]
    return pd.concat([
        pd.DataFrame({"period_start": pd.to_datetime(history["period_start"]),
                      "revenue": history["revenue"].to_numpy(dtype=float), "kind": "history"}),
        pd.DataFrame({"period_start": pd.to_datetime([start for start, _ in ahead]),
                      "revenue": [revenue for _, revenue in ahead], "kind": "forecast"}),
    ], ignore_index=True)


def tracking_frame(analysis: Analysis) -> pd.DataFrame:
    """Cumulative weekly repeat purchases, actual and expected, by week start."""
    tracking = analysis.diagnostics.get("tracking")
    if tracking is None or len(tracking) == 0:
        return pd.DataFrame(columns=["period", "actual", "expected"])
    return pd.DataFrame({"period": pd.to_datetime(tracking["week_start"]),
                         "actual": tracking["cumulative_actual"].to_numpy(dtype=float),
                         "expected": tracking["cumulative_expected"].to_numpy(dtype=float)})


def calibration_frame(analysis: Analysis) -> pd.DataFrame:
    """Average holdout purchases per calibration frequency: actual and predicted (empty without a holdout)."""
    frame = analysis.diagnostics.get("calibration_vs_holdout")
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=["frequency", "customers", "actual", "predicted"])
    return pd.DataFrame({"frequency": frame["frequency"].astype(str).to_numpy(), "customers": frame["customers"].to_numpy(),
                         "actual": frame["actual_mean"].to_numpy(dtype=float),
                         "predicted": frame["expected_mean"].to_numpy(dtype=float)})


def parameters_frame(analysis: Analysis) -> pd.DataFrame:
    """Every fitted parameter with its 95 % interval, named ``parameter (model)``."""
    frame = analysis.diagnostics.get("parameters")
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=["name", "estimate", "lower", "upper"])
    titles = {m.name: getattr(m, "title", m.name) for m in (analysis.purchase_model, analysis.spend_model) if m is not None}
    return pd.DataFrame({"name": [f"{p} ({titles.get(m, m)})" for m, p in zip(frame["model"], frame["parameter"], strict=True)],
                         "estimate": frame["estimate"].to_numpy(dtype=float),
                         "lower": frame["lower_95"].to_numpy(dtype=float),
                         "upper": frame["upper_95"].to_numpy(dtype=float)})


def _has_channels(equity: pd.DataFrame) -> bool:
    if equity is None or len(equity) == 0 or "grouping" not in equity.columns:
        return False
    return bool((equity["grouping"].astype(str) == "acquisition_channel").any())


def _date(value: object) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def _notes_in(notes: list[str], lang: str) -> list[str]:
    """The run's notes in ``lang``. A note from outside CVM (a library's warning) exists in
    English only: a Chinese report lists those last, under a line that says so."""
    translated = [in_language(note, lang) for note in notes if lang == "en" or isinstance(note, Note)]
    english = [str(note) for note in notes if lang != "en" and not isinstance(note, Note)]
    return translated + ([label("report.notes.english", lang)] + english if english else [])
