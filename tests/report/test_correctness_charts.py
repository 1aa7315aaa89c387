"""Every report chart on empty, small and realistic inputs, in English and Chinese."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from cvm.errors import MissingColumnError
from cvm.labels import TERMS, label
from cvm.value import segments
from cvm.value.segments import Concentration
from cvm.report import charts

NO_DATA = {label("report.no_data", "en"), label("report.no_data", "zh")}


def _empty_concentration() -> Concentration:
    return segments.concentration(np.zeros(0))


EMPTY_CALLS = {
    "pyramid": lambda lang: charts.pyramid_chart(pd.DataFrame(), lang),
    "value_matrix": lambda lang: charts.value_matrix_chart(pd.DataFrame(), lang),
    "concentration": lambda lang: charts.concentration_chart(_empty_concentration(), lang),
    "rfm": lambda lang: charts.rfm_chart(pd.DataFrame(), lang),
    "loyalty_profit": lambda lang: charts.loyalty_profit_chart(pd.DataFrame(), lang),
    "lifecycle": lambda lang: charts.lifecycle_distribution_chart(pd.DataFrame(), lang),
    "flows": lambda lang: charts.lifecycle_flow_chart(pd.DataFrame(), lang),
    "warnings": lambda lang: charts.early_warning_chart(pd.DataFrame(), None, lang),
    "forecast": lambda lang: charts.forecast_chart(pd.DataFrame(), lang),
    "clv": lambda lang: charts.clv_distribution_chart(pd.Series([], dtype=float), lang),
    "channels": lambda lang: charts.channel_chart(pd.DataFrame(), lang),
    "cohorts": lambda lang: charts.cohort_retention_chart(pd.DataFrame(), lang),
    "satisfaction": lambda lang: charts.satisfaction_chart(pd.DataFrame(), lang),
    "tracking": lambda lang: charts.tracking_chart(pd.DataFrame(), lang),
    "calibration": lambda lang: charts.calibration_chart(pd.DataFrame(), lang),
    "parameters": lambda lang: charts.parameters_chart(pd.DataFrame(), lang),
    "campaigns": lambda lang: charts.campaign_chart({}, lang),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", sorted(EMPTY_CALLS))
def test_an_empty_input_gives_a_no_data_figure(name, lang):
    fig = EMPTY_CALLS[name](lang)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 0
    notes = [a.text for a in fig.layout.annotations]
    assert notes == [label("report.no_data", lang)]
    assert fig.layout.title.text  # still titled, in the report's language


def test_empty_tables_with_their_columns_also_give_no_data():
    assert [a.text for a in charts.value_matrix_chart(
        pd.DataFrame({"realized_value": [], "potential_value": []})).layout.annotations] == [label("report.no_data")]
    moves = pd.DataFrame({"period_start": pd.to_datetime([]), "from_stage": [], "to_stage": [], "customers": []})
    assert charts.lifecycle_flow_chart(moves).layout.annotations[0].text in NO_DATA
    # a concentration whose customers are all worth nothing has no curve to draw
    assert charts.concentration_chart(segments.concentration(np.zeros(5))).layout.annotations[0].text in NO_DATA
    # no list has customers
    lists = {"win_back": pd.DataFrame({"customer_id": [], "expected_value": []})}
    assert charts.campaign_chart(lists).layout.annotations[0].text in NO_DATA


def _texts(fig: go.Figure) -> str:
    """Every piece of text a reader sees in a figure (titles, axes, names, ticks, annotations)."""
    layout = fig.to_plotly_json()["layout"]
    parts = [str(fig.layout.title.text)]
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            parts.append(str(value.get("title", {}).get("text", "")))
            parts.extend(str(t) for t in value.get("ticktext", []) or [])
    parts += [str(a.text) for a in fig.layout.annotations]
    for trace in fig.data:
        parts.append(str(trace.name or ""))
        for attribute in ("x", "y", "text"):
            values = getattr(trace, attribute, None)
            if values is not None and not isinstance(values, str) and len(values) and isinstance(values[0], str):
                parts.extend(values)
        if isinstance(trace, go.Sankey):
            parts.extend(trace.node.label)
    return " ".join(parts)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_retail_charts_are_drawn_with_data_and_their_labels(retail):
    from tests.report.inputs import report_sections

    for lang in ("en", "zh"):
        for section in report_sections(retail, lang):
            fig = section.figure
            assert len(fig.data) > 0, section.key
            assert not (NO_DATA & {str(a.text) for a in fig.layout.annotations}), section.key
            assert fig.layout.font.family == charts.FONT_FAMILY
            if lang == "zh":
                assert _has_cjk(fig.layout.title.text), section.key


def test_chinese_charts_use_chinese_category_names(retail):
    v = retail.value
    zh = _texts(charts.value_matrix_chart(v.table, "zh", v.config.segments))
    en = _texts(charts.value_matrix_chart(v.table, "en", v.config.segments))
    for cell in segments.VALUE_MATRIX_CELLS:
        assert label(f"value_matrix.{cell}", "zh") in zh
        assert label(f"value_matrix.{cell}", "en") in en
    assert label("lifecycle.churned", "zh") in _texts(charts.lifecycle_flow_chart(retail.transitions, "zh"))
    assert label("rfm.champions", "zh") in _texts(charts.rfm_chart(v.table, "zh"))
    assert label("warning.overdue", "zh") in _texts(charts.early_warning_chart(retail.warnings, v.value_at_risk, "zh"))
    assert label("playbook.action.win_back", "zh") in _texts(charts.campaign_chart(retail.campaigns, "zh"))
    assert not _has_cjk(en)


def test_report_labels_exist_in_both_languages():
    keys = [k for k in TERMS if k.startswith("report.")]
    assert len(keys) > 40
    for key in keys:
        en, zh = label(key, "en"), label(key, "zh")
        assert en and zh and en != zh, key
        assert _has_cjk(zh) or key in {"report.pareto.top"}, key
        # a format string names the same fields in both languages
        assert sorted(set(_fields(en))) == sorted(set(_fields(zh))), key


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_value_matrix_counts_cover_every_customer_and_points_are_a_fixed_sample():
    rng = np.random.default_rng(5)
    n = 12_000
    table = pd.DataFrame({"realized_value": rng.gamma(0.5, 100.0, n), "potential_value": rng.gamma(0.5, 80.0, n)})
    cells = segments.value_matrix(table["realized_value"], table["potential_value"])
    fig = charts.value_matrix_chart(table)
    drawn = sum(len(trace.x) for trace in fig.data)
    assert drawn == 5000
    counts = {a.text.split("<br>")[0].strip("<b/>"): a.text for a in fig.layout.annotations if "<b>" in a.text}
    for cell in segments.VALUE_MATRIX_CELLS:
        assert f"{int((cells == cell).sum()):,} customers" in counts[cell]
    assert any("5,000 of 12,000" in a.text for a in fig.layout.annotations)
    again = charts.value_matrix_chart(table)
    assert all(np.array_equal(a.x, b.x) for a, b in zip(fig.data, again.data, strict=True))
    # every drawn point sits on the side of the lines its cell says
    x_cut, y_cut = fig.layout.shapes[0].x0, fig.layout.shapes[1].y0
    for cell, trace in zip(segments.VALUE_MATRIX_CELLS, fig.data, strict=True):
        high_x = cell in ("strategic", "profit")
        high_y = cell in ("strategic", "potential")
        assert np.all((np.asarray(trace.x) >= x_cut) == high_x)
        assert np.all((np.asarray(trace.y) >= y_cut) == high_y)


def test_value_matrix_lines_follow_a_threshold_split():
    table = pd.DataFrame({"realized_value": [10.0, 200, 50], "potential_value": [5.0, 90, 300]})
    fixed = segments.AxisSplit(method="threshold", threshold=100)
    settings = segments.ValueMatrixSettings(current=fixed, potential=fixed)
    fig = charts.value_matrix_chart(table, settings=settings)
    assert (fig.layout.shapes[0].x0, fig.layout.shapes[1].y0) == (100.0, 100.0)


def test_pyramid_bars_are_the_tier_shares(retail):
    pyramid = retail.value.pyramid
    fig = charts.pyramid_chart(pyramid, "en")
    np.testing.assert_allclose(-np.asarray(fig.data[0].x), pyramid["customer_share"])
    np.testing.assert_allclose(fig.data[1].x, pyramid["value_share"])
    assert list(fig.data[0].y) == ["VIP", "key", "major", "ordinary"]


def test_pareto_curve_reads_the_top_share_from_the_lorenz_curve(retail):
    conc = retail.value.concentration
    fig = charts.concentration_chart(conc)
    x, y = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    top20 = float(conc.pareto.loc[np.isclose(conc.pareto["top_share"], 0.2), "value_share"].iloc[0])
    assert np.interp(0.2, x, y) == pytest.approx(top20, abs=0.01)
    assert y[0] == 0.0 and y[-1] == pytest.approx(1.0)


def test_clv_histogram_counts_every_customer_and_says_what_the_last_bar_holds():
    values = pd.Series(np.concatenate([np.linspace(0, 100, 990), np.full(10, 1e6)]))
    fig = charts.clv_distribution_chart(values)
    assert int(sum(fig.data[0].y)) == 1000
    assert any("10 customers" in str(a.text) for a in fig.layout.annotations)


def test_flow_chart_shows_the_last_two_periods(retail):
    moves = retail.transitions
    fig = charts.lifecycle_flow_chart(moves, "en")
    last = moves[pd.to_datetime(moves["period_start"]) == pd.to_datetime(moves["period_start"]).max()]
    lost = (last["from_stage"] == "churned") & (last["to_stage"] == "churned")
    assert sum(fig.data[0].link.value) == int(last.loc[~lost, "customers"].sum())  # every move but "stayed lost"
    note = f"{int(last.loc[lost, 'customers'].sum()):,} customers stayed churned (not drawn)"
    assert lost.any() and any(a.text == note for a in fig.layout.annotations)
    assert fig.layout.title.text == "Stage moves: Nov 2024 → Dec 2024"
    assert charts.lifecycle_flow_chart(moves, "zh").layout.title.text == "阶段流转：2024年11月 → 2024年12月"


def test_warning_counts_each_sign(retail):
    fig = charts.early_warning_chart(retail.warnings, retail.value.value_at_risk)
    signs = retail.warnings["signs"].str.split(", ")
    expected = [int(signs.apply(lambda s, k=k: k in s).sum())
                for k in ("overdue", "volume_falling", "p_alive_falling", "complaints_rising")]
    assert list(fig.data[0].x) == expected
    risk = retail.value.value_at_risk.set_index("value_matrix")["value_at_risk"]
    assert float(sum(fig.data[1].y)) == pytest.approx(float(risk["total"]))


def test_campaign_chart_sizes_and_values(retail):
    fig = charts.campaign_chart(retail.campaigns, "en")
    sizes = {label(f"playbook.action.{k}"): len(v) for k, v in retail.campaigns.items() if len(v)}
    assert dict(zip(fig.data[0].y, fig.data[0].x, strict=True)) == sizes
    assert list(fig.data[0].x) == sorted(sizes.values(), reverse=True)


def test_forecast_joins_history_and_draws_a_band():
    frame = pd.DataFrame({
        "period_start": pd.date_range("2024-01-01", periods=4, freq="MS"),
        "revenue": [10.0, 12.0, 13.0, 14.0], "kind": ["history", "history", "forecast", "forecast"],
        "lower": [np.nan, np.nan, 11.0, 11.5], "upper": [np.nan, np.nan, 15.0, 16.5]})
    fig = charts.forecast_chart(frame)
    names = [t.name for t in fig.data]
    assert names == ["actual", "forecast range", "forecast"]
    assert list(fig.data[2].y) == [12.0, 13.0, 14.0]  # starts at the last actual value


def test_parameters_chart_one_row_per_parameter_with_its_interval():
    frame = pd.DataFrame({"name": ["r", "alpha"], "estimate": [0.24, 400.0], "lower": [0.2, 390.0],
                          "upper": [0.3, 420.0]})
    fig = charts.parameters_chart(frame)
    assert [t.y[0] for t in fig.data] == ["r", "alpha"]
    assert fig.data[1].error_x.array[0] == pytest.approx(20.0)
    assert fig.data[1].error_x.arrayminus[0] == pytest.approx(10.0)


def test_missing_columns_are_named():
    with pytest.raises(MissingColumnError, match="realized_value"):
        charts.value_matrix_chart(pd.DataFrame({"potential_value": [1.0]}))
    with pytest.raises(MissingColumnError, match="share_active"):
        charts.cohort_retention_chart(pd.DataFrame({"cohort_start": ["2024-01-01"], "periods_since": [0]}))
    with pytest.raises(MissingColumnError, match="kind"):
        charts.forecast_chart(pd.DataFrame({"period_start": ["2024-01-01"], "revenue": [1.0]}))


def test_a_category_keeps_its_colour_across_charts(retail):
    v = retail.value
    matrix = charts.value_matrix_chart(v.table, "en", v.config.segments)
    warn = charts.early_warning_chart(retail.warnings, v.value_at_risk, "en")
    strategic = label("value_matrix.strategic")
    assert [t.marker.color for t in matrix.data if t.name == strategic] == [charts.COLOURS["value_matrix.strategic"]]
    assert warn.data[1].marker.color[list(warn.data[1].x).index(strategic)] == charts.COLOURS["value_matrix.strategic"]
    stable = label("lifecycle.stable")
    dist = charts.lifecycle_distribution_chart(retail.distribution)
    flows = charts.lifecycle_flow_chart(retail.transitions)
    assert [t.line.color for t in dist.data if t.name == stable] == [charts.COLOURS["lifecycle.stable"]]
    node = list(flows.data[0].node.label).index(stable)
    assert flows.data[0].node.color[node] == charts.COLOURS["lifecycle.stable"]


def test_flow_chart_counts_customers_who_stayed_churned_instead_of_drawing_them():
    moves = pd.DataFrame({"period_start": pd.to_datetime(["2024-02-01"] * 3),
                          "from_stage": ["churned", "stable", "decline"],
                          "to_stage": ["churned", "decline", "churned"], "customers": [900, 5, 3]})
    fig = charts.lifecycle_flow_chart(moves)
    assert [int(v) for v in fig.data[0].link.value] == [5, 3]
    assert any(a.text == "900 customers stayed churned (not drawn)" for a in fig.layout.annotations)
    only_churned = moves.iloc[:1]  # nothing else moved: the lost customers are the chart
    assert [int(v) for v in charts.lifecycle_flow_chart(only_churned).data[0].link.value] == [900]
