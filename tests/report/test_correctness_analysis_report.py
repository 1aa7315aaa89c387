"""The report of a whole analysis (``report.html`` of ``cvm analyze``): which sections it holds,
that every chart has its reading and data, that missing inputs are named instead of drawn
empty, and that the same analysis always gives the same page."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cvm.labels import Note, label
from cvm.service.report import (
    analysis_report, calibration_frame, forecast_frame, parameters_frame, report_sections, tracking_frame,
)

EVERY_CHART = ["pyramid", "value-matrix", "pareto", "rfm", "loyalty-profit", "lifecycle", "flows", "warnings",
               "forecast", "clv", "channels", "cohorts", "satisfaction", "tracking", "calibration", "parameters",
               "campaigns"]


def _no_data(section) -> bool:
    return any(a.text == label("report.no_data", "en") or a.text == label("report.no_data", "zh")
               for a in section.figure.layout.annotations)


def test_correctness_every_chart_with_every_table(retail_analysis):
    for lang in ("en", "zh"):
        sections = report_sections(retail_analysis, lang)
        assert [s.key for s in sections if s.figure is not None] == EVERY_CHART
        for section in sections:
            if section.figure is not None:
                assert section.text, section.key          # a reading above every chart
                assert len(section.figure.data) > 0 and not _no_data(section), section.key
        notes = sections[-1]
        assert notes.key == "notes" and not any("Not shown" in n or "未展示" in n for n in notes.items)


def test_correctness_the_notes_read_in_the_report_language(retail_analysis, sample_analysis):
    """Every note of an analysis is a bilingual Note: a Chinese report lists them in Chinese,
    with no "English only" line."""
    for analysis in (retail_analysis, sample_analysis):
        assert analysis.notes and all(isinstance(note, Note) for note in analysis.notes), analysis.notes
        for lang in ("en", "zh"):
            items = report_sections(analysis, lang)[-1].items
            shown = [n for n in analysis.notes if n != analysis.comparison.explanation]
            assert all(note.in_language(lang) in items for note in shown)
            assert label("report.notes.english", lang) not in items
    zh = report_sections(sample_analysis, "zh")[-1].items
    assert not any(note in zh for note in sample_analysis.notes)  # none left in English


def test_correctness_missing_inputs_are_named_not_drawn(sample_analysis):
    """The sample has no profiles (channels) and no surveys: both charts are left out, and the
    notes say which option adds them."""
    sections = report_sections(sample_analysis, "en")
    keys = [s.key for s in sections]
    assert "channels" not in keys and "satisfaction" not in keys
    assert all(not _no_data(s) for s in sections if s.figure is not None)
    notes = sections[-1].items
    assert any("--customers" in n for n in notes) and any("--surveys" in n for n in notes)
    # the model choice is told in the tracking section, not repeated in the notes
    assert sample_analysis.comparison.explanation not in notes
    assert "Pareto/NBD was chosen" in next(s.text for s in sections if s.key == "tracking")


def test_correctness_chart_inputs_match_the_analysis(sample_analysis):
    a = sample_analysis
    forecast = forecast_frame(a)
    history = forecast[forecast["kind"] == "history"]
    ahead = forecast[forecast["kind"] == "forecast"]
    # the last history period is the last month of the data, and its revenue is the log's
    assert history["period_start"].max() == pd.Timestamp("1998-06-01")
    assert np.isclose(history["revenue"].iloc[-1], a.revenue_by_period["revenue"].iloc[-1])
    assert len(history) == 12 and len(ahead) == a.config.forecast.periods
    assert np.isclose(ahead["revenue"].sum(), sum(a.table[f"forecast_revenue_{k}"].sum() for k in (1, 2, 3)))
    # whole-base revenue per month adds up to the customers' revenue
    assert np.isclose(a.revenue_by_period["revenue"].sum(), a.table["revenue"].sum())

    tracking = tracking_frame(a)
    assert tracking["actual"].is_monotonic_increasing and tracking["expected"].is_monotonic_increasing
    assert tracking["actual"].iloc[-1] == a.diagnostics["tracking"]["actual"].sum()

    calibration = calibration_frame(a)
    assert calibration["customers"].sum() == 2357 and calibration["frequency"].iloc[-1] == "7+"

    parameters = parameters_frame(a)
    assert list(parameters["name"]) == ["r (Pareto/NBD)", "alpha (Pareto/NBD)", "s (Pareto/NBD)",
                                        "beta (Pareto/NBD)", "p (Gamma-Gamma)", "q (Gamma-Gamma)",
                                        "gamma (Gamma-Gamma)"]
    assert (parameters["lower"] < parameters["estimate"]).all() and (parameters["estimate"] < parameters["upper"]).all()


def test_correctness_readings_quote_the_numbers(sample_analysis):
    """The readings are computed from the tables, not canned: check two against the data."""
    a = sample_analysis
    sections = {s.key: s for s in report_sections(a, "en")}
    strategic = int((a.table["value_matrix"].astype(str) == "strategic").sum())
    assert sections["value-matrix"].text.startswith(f"{strategic:,} customers")
    top = a.headline()["top20_share"]
    assert f"{top:.0%}".replace("%", " %") in sections["pareto"].text


def test_consistency_same_analysis_same_page(sample_analysis):
    first, second = analysis_report(sample_analysis, "zh"), analysis_report(sample_analysis, "zh")
    assert first == second
    assert '<html lang="zh-CN">' in first and "客户价值报告" in first
    assert not re.search(r"https?://(?!www\.w3\.org)", first.split("<script>")[0])  # no links out in the page


def test_correctness_a_library_note_is_listed_last_in_english_under_a_line_saying_so():
    from cvm.service.report import _notes_in

    notes = ["scipy: the integral is probably divergent", Note("note.value.no_rfm")]
    assert _notes_in(notes, "en") == notes
    assert _notes_in(notes, "zh") == ["未提供 RFM 评分：不划分 RFM 细分。", label("report.notes.english", "zh"),
                                      "scipy: the integral is probably divergent"]
