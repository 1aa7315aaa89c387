"""One Plotly figure per chart of the customer value report, in English or Chinese.

Every function takes plain pandas tables (or the value layer's result objects) and a
language, and returns a :class:`plotly.graph_objects.Figure`. Titles, axes, legends and
category names come from :func:`cvm.labels.label`, so a term reads the same as in the CLI
and the exported tables; a category keeps one colour in every chart (a VIP tier, the
decline stage, a value-matrix cell …). An empty input gives a figure that says so instead
of raising. Big bases are summarised (binned, counted, or sampled to a fixed subset)
before they reach the figure, so a report stays small whatever the number of customers.

>>> import pandas as pd
>>> fig = forecast_chart(pd.DataFrame({
...     "period_start": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
...     "revenue": [100.0, 120.0, 115.0], "kind": ["history", "history", "forecast"]}), lang="zh")
>>> fig.layout.title.text
'收入：历史与预测'
>>> [trace.name for trace in fig.data]
['实际', '预测']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cvm.labels import TERMS, label

__all__ = [
    "COLOURS", "FONT_FAMILY", "format_number", "format_share",
    "pyramid_chart", "value_matrix_chart", "concentration_chart", "rfm_chart",
    "loyalty_profit_chart", "lifecycle_distribution_chart", "lifecycle_flow_chart",
    "early_warning_chart", "forecast_chart", "clv_distribution_chart", "channel_chart",
    "cohort_retention_chart", "satisfaction_chart", "tracking_chart", "calibration_chart",
    "parameters_chart", "campaign_chart", "empty_figure",
]

FONT_FAMILY = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
               '"Microsoft YaHei", "Helvetica Neue", Arial, sans-serif')
"""Fonts for every chart: a CJK face first, so Chinese labels never fall back to boxes."""

BLUE, ORANGE, GREEN, RED, PURPLE, GREY, TEAL, GOLD = (
    "#1f5f99", "#e07b24", "#2e8b57", "#c0392b", "#7b4fa0", "#8c8c8c", "#17a2a8", "#d4a017")
GRID_LINE = "#EBF0F8"

COLOURS: dict[str, str] = {
    # value matrix
    "value_matrix.strategic": "#1f5f99", "value_matrix.profit": "#2e8b57",
    "value_matrix.potential": "#e07b24", "value_matrix.ordinary": "#a6a6a6",
    # pyramid (default tiers, top first)
    "pyramid.vip": "#0b3d6b", "pyramid.key": "#1f5f99", "pyramid.major": "#5b9bd5",
    "pyramid.ordinary": "#b4cde6",
    # lifecycle
    "lifecycle.prospect": "#cfcfcf", "lifecycle.exploration": "#9ecae1",
    "lifecycle.formation": "#4292c6", "lifecycle.stable": "#2e8b57",
    "lifecycle.decline": "#e07b24", "lifecycle.churned": "#c0392b",
    "lifecycle.recovered": "#7b4fa0", "lifecycle.(new)": "#d9d9d9",
    # loyalty x profitability
    "loyalty_profit.true_friend": "#2e8b57", "loyalty_profit.butterfly": "#e07b24",
    "loyalty_profit.barnacle": "#5b9bd5", "loyalty_profit.stranger": "#a6a6a6",
    # forecast
    "report.forecast.history": BLUE, "report.forecast.forecast": ORANGE,
}
"""One colour per category key (``<grouping>.<key>``), used by every chart."""

_SEQUENCE = (BLUE, ORANGE, GREEN, PURPLE, TEAL, GOLD, RED, "#5b9bd5", "#8c564b", "#e377c2", GREY)


def colour(key: str, position: int = 0) -> str:
    """The colour of a category key, or a fixed colour by position for categories without one."""
    return COLOURS.get(key, _SEQUENCE[position % len(_SEQUENCE)])


# --------------------------------------------------------------------------------------------
# numbers and names


def format_number(value: float, lang: str = "en", digits: int = 3) -> str:
    """A number as a person reads it: 1.23M / 4,560 in English, 123万 / 4,560 in Chinese.

    >>> format_number(1234567.0), format_number(1234567.0, "zh"), format_number(-4560.4)
    ('1.23M', '123万', '-4,560')
    >>> format_number(float("nan"))
    '–'
    """
    if value is None or not np.isfinite(value):
        return "–"
    size = abs(float(value))
    steps = ((1e8, "亿"), (1e4, "万")) if lang == "zh" else ((1e9, "B"), (1e6, "M"))
    for step, suffix in steps:
        if size >= step:
            scaled = value / step
            decimals = max(digits - 1 - int(math.floor(math.log10(abs(scaled)))), 0)
            return f"{scaled:,.{decimals}f}".rstrip("0").rstrip(".") + suffix
    if size >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{2 if size < 10 else 1}f}".rstrip("0").rstrip(".") if size else "0"


def format_share(share: float, digits: int = 0) -> str:
    """A share (0.1234) as a percentage (``12 %``); small shares keep one decimal.

    >>> format_share(0.6812), format_share(0.004), format_share(float("nan"))
    ('68 %', '0.4 %', '–')
    """
    if share is None or not np.isfinite(share):
        return "–"
    pct = 100.0 * float(share)
    if digits == 0 and 0 < abs(pct) < 1:
        digits = 1
    return f"{pct:.{digits}f} %"


def category_name(grouping: str, key: Any, lang: str, names: Mapping[str, Any] | None = None) -> str:
    """Display name of a category key: ``names`` (key -> (en, zh) or text) first, then the labels."""
    if key is None or (isinstance(key, float) and math.isnan(key)) or key is pd.NA:
        return label("segmentation.missing", lang)
    key = str(key)
    if names and key in names:
        name = names[key]
        if isinstance(name, tuple | list):
            return str(name[1] if lang == "zh" else name[0])
        return str(name)
    if f"{grouping}.{key}" in TERMS:
        return label(f"{grouping}.{key}", lang)
    return key


def _period_name(value: Any, lang: str) -> str:
    stamp = pd.Timestamp(value)
    return f"{stamp.year}年{stamp.month}月" if lang == "zh" else stamp.strftime("%b %Y")


# --------------------------------------------------------------------------------------------
# shared layout


@lru_cache(maxsize=1)
def _template() -> go.layout.Template:
    """The look of every chart: Plotly's white theme, reduced to the settings the charts use.

    Building figures on this small template instead of Plotly's default saves copying the
    default's large trace styles twice per chart (most of the time a report took).
    """
    axis = {"automargin": True, "gridcolor": GRID_LINE, "linecolor": GRID_LINE, "ticks": "",
            "title": {"standoff": 15}, "zerolinecolor": GRID_LINE, "zerolinewidth": 2}
    return go.layout.Template(layout={
        "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
        "xaxis": axis, "yaxis": axis, "colorway": [BLUE, ORANGE, GREEN, RED, GREY],
    })


def _figure(*traces: Any) -> go.Figure:
    """An empty figure (or one holding ``traces``) on the report's template."""
    return go.Figure(data=list(traces), layout={"template": _template()})


def _subplots(**options: Any) -> go.Figure:
    """:func:`plotly.subplots.make_subplots` on the report's template."""
    return make_subplots(figure=_figure(), **options)


def _layout(fig: go.Figure, title: str, lang: str, *, height: int = 440, legend: bool = True) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT_FAMILY, "size": 13, "color": "#222"},
        height=height,
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        separators=".,",
        meta={"lang": lang},
    )
    return fig


def empty_figure(title: str, lang: str = "en") -> go.Figure:
    """A figure with ``title`` and a centred "no data" note (every chart's answer to an empty input).

    >>> empty_figure("x").layout.annotations[0].text
    'No data for this chart'
    """
    fig = _figure()
    fig.add_annotation(text=label("report.no_data", lang), x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font={"size": 16, "color": "#777"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, lang, height=260, legend=False)


def _empty(frame: Any) -> bool:
    return frame is None or len(frame) == 0


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    from cvm.errors import MissingColumnError

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"{what}: the table has no column(s) {missing} (columns: {list(frame.columns)})")


def _floats(values: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# --------------------------------------------------------------------------------------------
# value


def pyramid_chart(pyramid: pd.DataFrame, lang: str = "en",
                  tier_names: Mapping[str, tuple[str, str]] | None = None) -> go.Figure:
    """Customer pyramid: each tier's share of customers (left) against its share of value (right).

    ``pyramid`` is :attr:`CustomerValue.pyramid <cvm.value.table.CustomerValue.pyramid>`
    (``tier, customers, customer_share, value, value_share``), top tier first;
    ``tier_names`` (tier key -> (English, Chinese)) names configured tiers, as
    :func:`cvm.value.segments.tier_labels` gives them.

    >>> table = pd.DataFrame({"tier": ["vip", "ordinary"], "customers": [1, 9],
    ...                       "customer_share": [0.1, 0.9], "value": [60.0, 40.0], "value_share": [0.6, 0.4]})
    >>> [trace.name for trace in pyramid_chart(table).data]
    ['share of customers', 'share of value']
    """
    title = label("report.pyramid.title", lang)
    if _empty(pyramid):
        return empty_figure(title, lang)
    _require(pyramid, ["tier", "customers", "customer_share", "value", "value_share"], "pyramid chart")
    keys = [str(t) for t in pyramid["tier"]]
    names = [category_name("pyramid", k, lang, tier_names) for k in keys]
    customer_share = np.nan_to_num(_floats(pyramid["customer_share"]))
    value_share = np.nan_to_num(_floats(pyramid["value_share"]))
    customers = pyramid["customers"].to_numpy()
    values = _floats(pyramid["value"])
    tier_colours = [colour(f"pyramid.{k}", i) for i, k in enumerate(keys)]
    fig = _figure()
    fig.add_bar(
        y=names, x=-customer_share, orientation="h", name=label("report.customer_share", lang),
        marker={"color": tier_colours, "opacity": 0.55},
        text=[f"{format_share(s)} · {format_number(c, lang)}" for s, c in zip(customer_share, customers, strict=True)],
        textposition="outside", cliponaxis=False,
        customdata=np.column_stack([customer_share, customers]),
        hovertemplate="%{y}: %{customdata[1]:,} " + label("report.customers", lang) + " (%{customdata[0]:.1%})<extra></extra>",
    )
    fig.add_bar(
        y=names, x=value_share, orientation="h", name=label("report.value_share", lang),
        marker={"color": tier_colours},
        text=[f"{format_share(s)} · {format_number(v, lang)}" for s, v in zip(value_share, values, strict=True)],
        textposition="outside", cliponaxis=False,
        customdata=np.column_stack([value_share, values]),
        hovertemplate="%{y}: %{customdata[1]:,.0f} (%{customdata[0]:.1%})<extra></extra>",
    )
    top = float(max(customer_share.max(initial=0), value_share.max(initial=0), 0.05)) * 1.35
    ticks = np.linspace(-1.0, 1.0, 21)
    ticks = ticks[np.abs(ticks) <= top + 1e-9]
    fig.update_layout(barmode="relative", bargap=0.25)
    fig.update_xaxes(range=[-top, top], tickvals=ticks, ticktext=[format_share(abs(t)) for t in ticks],
                     zeroline=True, zerolinecolor="#444",
                     title=f"← {label('report.customer_share', lang)}   |   {label('report.value_share', lang)} →")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, lang, height=max(300, 90 + 70 * len(keys)), legend=False)


def _axis_cut(values: np.ndarray, split: Any) -> float:
    """Where the value matrix splits one axis (the rule of cvm.value.segments.value_matrix)."""
    if values.size == 0:
        return 0.0
    method = getattr(split, "method", "top_share")
    if method == "threshold":
        return float(split.threshold)
    if method == "median":
        return float(np.median(values))
    share = float(getattr(split, "share", 0.2))
    k = max(1, math.ceil(round(share * values.size, 6)))
    cut = float(np.partition(values, values.size - k)[values.size - k])
    return max(cut, 0.0)


def _sample(n: int, limit: int) -> np.ndarray:
    """Positions of a fixed, evenly spread sample of ``limit`` rows out of ``n`` (all when n <= limit)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(20240601).choice(n, size=limit, replace=False))


def value_matrix_chart(table: pd.DataFrame, lang: str = "en", settings: Any = None,
                       max_points: int = 5000) -> go.Figure:
    """Realized against potential value per customer, with the value-matrix cut lines and counts.

    ``table`` has ``realized_value`` and ``potential_value`` (and ``value_matrix``, else it is
    computed); ``settings`` are the segment settings the table was built with
    (``CustomerValue.config.segments``; default: top 20 % on each axis). At most
    ``max_points`` customers are drawn, a fixed sample; counts cover every customer.

    >>> t = pd.DataFrame({"realized_value": [100.0, 80, 5, 0, 1], "potential_value": [50.0, 0, 90, 1, 2]})
    >>> fig = value_matrix_chart(t)
    >>> [a.text.replace("<br>", ": ") for a in fig.layout.annotations]  # doctest: +NORMALIZE_WHITESPACE
    ['<b>strategic</b>: 0 customers (0 %)', '<b>profit</b>: 1 customers (20 %)',
     '<b>potential</b>: 1 customers (20 %)', '<b>ordinary</b>: 3 customers (60 %)']
    """
    from cvm.value import segments

    title = label("report.matrix.title", lang)
    if _empty(table):
        return empty_figure(title, lang)
    _require(table, ["realized_value", "potential_value"], "value matrix chart")
    realized = np.nan_to_num(_floats(table["realized_value"]))
    potential = np.nan_to_num(_floats(table["potential_value"]))
    section = segments.ValueMatrixSettings() if settings is None else getattr(settings, "value_matrix", settings)
    if "value_matrix" in table.columns:
        cells = pd.Series(table["value_matrix"]).astype("string").to_numpy(dtype=object, na_value=None)
    else:
        cells = np.asarray(segments.value_matrix(realized, potential, section).astype(str), dtype=object)
    x_cut, y_cut = _axis_cut(realized, section.current), _axis_cut(potential, section.potential)
    shown = _sample(len(realized), max_points)
    fig = _figure()
    for i, cell in enumerate(segments.VALUE_MATRIX_CELLS):
        rows = shown[cells[shown] == cell]
        fig.add_scatter(
            x=realized[rows], y=potential[rows], mode="markers", name=category_name("value_matrix", cell, lang),
            marker={"color": colour(f"value_matrix.{cell}", i), "size": 5, "opacity": 0.6},
            hovertemplate=label("value.realized", lang) + " %{x:,.0f}<br>" + label("value.potential", lang)
            + " %{y:,.0f}<extra>%{fullData.name}</extra>",
        )
    fig.add_vline(x=x_cut, line={"color": "#555", "dash": "dash", "width": 1})
    fig.add_hline(y=y_cut, line={"color": "#555", "dash": "dash", "width": 1})
    total = max(len(cells), 1)
    # a count in the outer corner of each quadrant: (high current?, high potential?)
    corners = {"strategic": (0.98, 0.98, "right", "top"), "profit": (0.98, 0.02, "right", "bottom"),
               "potential": (0.02, 0.98, "left", "top"), "ordinary": (0.02, 0.02, "left", "bottom")}
    for cell, (x, y, xanchor, yanchor) in corners.items():
        count = int(np.sum(cells == cell))
        fig.add_annotation(
            x=x, y=y, xref="paper", yref="paper", xanchor=xanchor, yanchor=yanchor, showarrow=False, align=xanchor,
            text=f"<b>{category_name('value_matrix', cell, lang)}</b><br>"
                 f"{label('report.n_customers', lang).format(count=f'{count:,}')} ({format_share(count / total)})",
            font={"color": colour(f"value_matrix.{cell}")}, bgcolor="rgba(255,255,255,0.85)",
        )
    if len(shown) < len(realized):
        fig.add_annotation(x=0.5, y=-0.16, xref="paper", yref="paper", showarrow=False,
                           font={"size": 11, "color": "#666"},
                           text=label("report.sampled", lang).format(shown=f"{len(shown):,}", total=f"{len(realized):,}"))
    fig.update_xaxes(title=label("value.realized", lang), zeroline=False)
    fig.update_yaxes(title=label("value.potential", lang), zeroline=False)
    return _layout(fig, title, lang, height=520)


def concentration_chart(concentration: Any, lang: str = "en") -> go.Figure:
    """Pareto curve: share of value held by the top x % of customers, with the configured points marked.

    ``concentration`` is :class:`cvm.value.segments.Concentration` (``lorenz``, ``pareto``).

    >>> from cvm.value.segments import concentration
    >>> fig = concentration_chart(concentration(np.array([0.0, 0, 0, 10])))
    >>> float(fig.data[0].y[-1])
    1.0
    """
    title = label("report.pareto.title", lang)
    lorenz = getattr(concentration, "lorenz", None)
    if _empty(lorenz) or not np.isfinite(_floats(lorenz["value_share"])).any():
        return empty_figure(title, lang)
    x = _floats(lorenz["customer_share"])
    y = _floats(lorenz["value_share"])
    # the Lorenz curve goes from the smallest customer up; the Pareto curve from the largest down
    top_x, top_y = (1.0 - x)[::-1], (1.0 - y)[::-1]
    fig = _figure()
    fig.add_scatter(x=top_x, y=top_y, mode="lines", name=label("report.pareto.their_value", lang),
                    line={"color": BLUE, "width": 3}, hovertemplate="%{x:.0%} → %{y:.0%}<extra></extra>")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name=label("report.pareto.equality", lang),
                    line={"color": GREY, "dash": "dot"}, hoverinfo="skip")
    pareto = getattr(concentration, "pareto", None)
    if not _empty(pareto):
        px, py = _floats(pareto["customer_share"]), _floats(pareto["value_share"])
        keep = np.isfinite(px) & np.isfinite(py)
        fig.add_scatter(x=px[keep], y=py[keep], mode="markers+text", showlegend=False,
                        marker={"color": ORANGE, "size": 9},
                        text=[format_share(v) for v in py[keep]], textposition="bottom right",
                        hovertemplate="%{x:.0%} → %{y:.1%}<extra></extra>")
    fig.update_xaxes(title=label("report.pareto.top_customers", lang), tickformat=".0%", range=[0, 1.02])
    fig.update_yaxes(title=label("report.pareto.their_value", lang), tickformat=".0%", range=[0, 1.05])
    return _layout(fig, title, lang, height=460)


def _segment_sums(segment: pd.Series, value: np.ndarray, order: Sequence[str]) -> pd.DataFrame:
    keys = pd.Series(segment).astype("string").fillna("(missing)")
    frame = pd.DataFrame({"key": keys.to_numpy(dtype=object), "value": value})
    grouped = frame.groupby("key", sort=False).agg(customers=("value", "size"), value=("value", "sum"))
    ordered = [k for k in order if k in grouped.index] + sorted(k for k in grouped.index if k not in order)
    return grouped.loc[ordered].reset_index()


def rfm_chart(table: pd.DataFrame, lang: str = "en", value: str = "total_value") -> go.Figure:
    """Customers (left) and value (right) per RFM segment, in the segments' order.

    ``table`` has ``rfm_segment`` and the ``value`` column (default ``total_value``).

    >>> t = pd.DataFrame({"rfm_segment": ["champions", "lost", "lost"], "total_value": [90.0, 5.0, 5.0]})
    >>> fig = rfm_chart(t)
    >>> list(fig.data[0].y), [float(v) for v in fig.data[1].x]
    (['Champions', 'Lost'], [90.0, 10.0])
    """
    from cvm.value.segments import RFM_SEGMENTS

    title = label("report.rfm.title", lang)
    if _empty(table):
        return empty_figure(title, lang)
    _require(table, ["rfm_segment", value], "RFM chart")
    sums = _segment_sums(table["rfm_segment"], np.nan_to_num(_floats(table[value])), RFM_SEGMENTS)
    if sums.empty:
        return empty_figure(title, lang)
    names = [category_name("rfm", k, lang) for k in sums["key"]]
    total_customers, total_value = sums["customers"].sum(), sums["value"].clip(lower=0).sum()
    fig = _subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=(label("report.customers", lang), label("report.value", lang)))
    fig.add_bar(y=names, x=sums["customers"].to_numpy(dtype=float), orientation="h", marker={"color": BLUE},
                name=label("report.customers", lang), row=1, col=1,
                text=[format_share(c / total_customers) for c in sums["customers"]], textposition="auto", textangle=0,
                hovertemplate="%{y}: %{x:,}<extra></extra>")
    fig.add_bar(y=names, x=sums["value"].to_numpy(dtype=float), orientation="h", marker={"color": GREEN},
                name=label("report.value", lang), row=1, col=2,
                text=[format_share(v / total_value) if total_value > 0 else "" for v in sums["value"]],
                textposition="auto", textangle=0, hovertemplate="%{y}: %{x:,.0f}<extra></extra>")
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    return _layout(fig, title, lang, height=max(320, 110 + 34 * len(names)), legend=False)


def loyalty_profit_chart(table: pd.DataFrame, lang: str = "en", value: str = "total_value") -> go.Figure:
    """Loyalty × profitability 2×2: customers and value share of each cell, laid out as the matrix.

    ``table`` has ``loyalty_profit`` (true_friend, butterfly, barnacle, stranger) and ``value``.

    >>> t = pd.DataFrame({"loyalty_profit": ["true_friend", "stranger"], "total_value": [10.0, 1.0]})
    >>> fig = loyalty_profit_chart(t)
    >>> [list(row) for row in fig.data[0].z]
    [[1, 0], [0, 1]]
    """
    from cvm.value.segments import LOYALTY_PROFIT_CELLS

    title = label("report.loyalty_profit.title", lang)
    if _empty(table):
        return empty_figure(title, lang)
    _require(table, ["loyalty_profit", value], "loyalty x profitability chart")
    sums = _segment_sums(table["loyalty_profit"], np.nan_to_num(_floats(table[value])), LOYALTY_PROFIT_CELLS)
    sums = sums.set_index("key")
    # rows: low, high profitability (bottom to top); columns: short, long relationship
    layout = [["stranger", "barnacle"], ["butterfly", "true_friend"]]
    total_customers = max(int(sums["customers"].sum()), 1)
    total_value = float(sums["value"].clip(lower=0).sum())
    customers = {k: int(sums["customers"].get(k, 0)) for k in LOYALTY_PROFIT_CELLS}
    values = {k: float(sums["value"].get(k, 0.0)) for k in LOYALTY_PROFIT_CELLS}

    def cell_text(k: str) -> str:
        count = label("report.n_customers", lang).format(count=f"{customers[k]:,}")
        value_share = format_share(values[k] / total_value) if total_value > 0 else "–"
        return (f"<b>{category_name('loyalty_profit', k, lang)}</b><br>{count} "
                f"({format_share(customers[k] / total_customers)})<br>"
                f"{label('report.value_share', lang)}: {value_share}")

    z = [[customers[k] for k in row] for row in layout]
    text = [[cell_text(k) for k in row] for row in layout]
    low, high = label("report.low", lang), label("report.high", lang)
    fig = _figure(go.Heatmap(
        z=z, x=[low, high], y=[low, high], text=text, texttemplate="%{text}", textfont={"size": 13},
        colorscale=[[0, "#eef4fa"], [1, "#5b9bd5"]], showscale=False, xgap=4, ygap=4,
        hovertemplate="%{text}<extra></extra>"))
    fig.update_xaxes(title=label("report.loyalty_profit.loyalty", lang))
    fig.update_yaxes(title=label("report.loyalty_profit.profitability", lang))
    return _layout(fig, title, lang, height=420, legend=False)


# --------------------------------------------------------------------------------------------
# lifecycle


def lifecycle_distribution_chart(distribution: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Customers per lifecycle stage in every period, stacked (periods with no customers left out).

    ``distribution`` is :func:`cvm.value.lifecycle.stage_distribution` (period × stage).

    >>> d = pd.DataFrame({"stable": [3, 4], "decline": [1, 0]},
    ...                  index=pd.to_datetime(["2024-01-01", "2024-02-01"]))
    >>> [t.name for t in lifecycle_distribution_chart(d).data]
    ['stable', 'decline']
    """
    from cvm.value.lifecycle import STAGES

    title = label("report.lifecycle.title", lang)
    if _empty(distribution) or float(np.nansum(distribution.to_numpy(dtype=float))) == 0:
        return empty_figure(title, lang)
    fig = _figure()
    stages = [s for s in STAGES if s in distribution.columns] + [s for s in distribution.columns if s not in STAGES]
    periods = pd.to_datetime(distribution.index)
    for i, stage in enumerate(stages):
        counts = distribution[stage].to_numpy(dtype=float)
        if not counts.any():
            continue
        fig.add_scatter(x=periods, y=counts, name=category_name("lifecycle", stage, lang), mode="lines",
                        stackgroup="stages", line={"width": 0.5, "color": colour(f"lifecycle.{stage}", i)},
                        hovertemplate="%{x|%Y-%m}: %{y:,}<extra>%{fullData.name}</extra>")
    fig.update_yaxes(title=label("report.customers", lang))
    fig.update_xaxes(title=label("report.period", lang))
    _layout(fig, title, lang)
    fig.update_layout(legend={"traceorder": "normal"})
    return fig


def lifecycle_flow_chart(transitions: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Sankey of customers moving between stages from the second-last period to the last.

    ``transitions`` is :func:`cvm.value.lifecycle.transitions`; customers new in the last
    period come from a "new" node. Customers churned in both periods are not drawn (they
    would dwarf every move); a note under the chart counts them.

    >>> moves = pd.DataFrame({"period_start": pd.to_datetime(["2024-02-01"] * 2),
    ...                       "from_stage": ["stable", "(new)"], "to_stage": ["decline", "exploration"],
    ...                       "customers": [3, 2]})
    >>> [int(v) for v in lifecycle_flow_chart(moves).data[0].link.value]
    [3, 2]
    """
    from cvm.value.lifecycle import STAGES

    if _empty(transitions):
        return empty_figure(label("report.flows.title", lang).format(before="", after="").strip(" :：→"), lang)
    _require(transitions, ["period_start", "from_stage", "to_stage", "customers"], "stage flow chart")
    periods = pd.to_datetime(transitions["period_start"])
    last = periods.max()
    moves = transitions[(periods == last).to_numpy()]
    moves = moves[moves["customers"].to_numpy() > 0]
    earlier = periods[periods < last]
    before = _period_name(earlier.max(), lang) if len(earlier) else label("report.new", lang)
    title = label("report.flows.title", lang).format(before=before, after=_period_name(last, lang))
    if moves.empty:
        return empty_figure(title, lang)
    # customers lost in both periods would dwarf every move: count them in a note instead
    stayed = ((moves["from_stage"].astype(str) == "churned") & (moves["to_stage"].astype(str) == "churned")).to_numpy()
    stayed_churned = int(moves["customers"].to_numpy()[stayed].sum())
    if stayed.any() and not stayed.all():
        moves = moves[~stayed]
    else:
        stayed_churned = 0
    order = [*STAGES, "(new)"]
    rank = {s: i for i, s in enumerate(order)}
    sources = sorted(set(moves["from_stage"].astype(str)), key=lambda s: rank.get(s, len(order)))
    targets = sorted(set(moves["to_stage"].astype(str)), key=lambda s: rank.get(s, len(order)))

    def name(stage: str) -> str:
        return label("report.new", lang) if stage == "(new)" else category_name("lifecycle", stage, lang)

    nodes = [name(s) for s in sources] + [name(s) for s in targets]
    node_colours = [colour(f"lifecycle.{s}", i) for i, s in enumerate(sources + targets)]
    src = [sources.index(s) for s in moves["from_stage"].astype(str)]
    dst = [len(sources) + targets.index(s) for s in moves["to_stage"].astype(str)]
    link_colours = [_fade(colour(f"lifecycle.{s}")) for s in moves["from_stage"].astype(str)]
    fig = _figure(go.Sankey(
        arrangement="fixed",
        node={"label": nodes, "color": node_colours, "pad": 14, "thickness": 16, "line": {"width": 0}},
        link={"source": src, "target": dst, "value": moves["customers"].to_numpy(dtype=np.int64),
              "color": link_colours},
        textfont={"family": FONT_FAMILY, "size": 12},
    ))
    for x, text, anchor in ((0.0, before, "left"), (1.0, _period_name(last, lang), "right")):
        fig.add_annotation(x=x, y=1.06, xref="paper", yref="paper", text=f"<b>{text}</b>", showarrow=False,
                           xanchor=anchor)
    if stayed_churned:
        fig.add_annotation(x=0.5, y=-0.06, xref="paper", yref="paper", showarrow=False, xanchor="center",
                           font={"size": 12, "color": "#666"},
                           text=label("report.flows.stayed_churned", lang).format(count=f"{stayed_churned:,}"))
    return _layout(fig, title, lang, height=480, legend=False)


def _fade(hex_colour: str, alpha: float = 0.35) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def early_warning_chart(warnings: pd.DataFrame, value_at_risk: pd.DataFrame | None = None,
                        lang: str = "en") -> go.Figure:
    """Customers per decline warning sign (left) and value at risk per value-matrix cell (right).

    ``warnings`` is :func:`cvm.value.lifecycle.early_warning` (its ``signs`` column lists
    the signs that fired, comma-separated); ``value_at_risk`` is
    :attr:`CustomerValue.value_at_risk <cvm.value.table.CustomerValue.value_at_risk>`.

    >>> w = pd.DataFrame({"signs": ["overdue, volume_falling", "overdue"]})
    >>> list(early_warning_chart(w).data[0].x)
    [2, 1, 0, 0]
    """
    from cvm.value.lifecycle import WARNING_SIGNS
    from cvm.value.segments import VALUE_MATRIX_CELLS

    title = label("report.warning.title", lang)
    has_signs = not _empty(warnings) and "signs" in warnings.columns
    risk = None
    if value_at_risk is not None and not _empty(value_at_risk):
        _require(value_at_risk, ["value_matrix", "value_at_risk"], "early warning chart (value at risk)")
        risk = value_at_risk[value_at_risk["value_matrix"].astype(str) != "total"]
        risk = risk if len(risk) else None
    if not has_signs and risk is None:
        return empty_figure(title, lang)
    fig = _subplots(rows=1, cols=2, horizontal_spacing=0.22,
                        subplot_titles=(label("report.warning.signs", lang), label("report.warning.at_risk", lang)))
    # a base has few distinct sign lists: split each once, weighted by how many customers share it
    combos = warnings["signs"].astype(str).value_counts() if has_signs else pd.Series([], dtype=int)
    counts = [int(sum(n for combo, n in combos.items() if k in combo.split(", "))) for k in WARNING_SIGNS]
    fig.add_bar(y=[_wrap(label(f"warning.{k}", lang), 22) for k in WARNING_SIGNS], x=counts, orientation="h",
                marker={"color": ORANGE}, row=1, col=1, text=[f"{c:,}" for c in counts], textposition="auto", textangle=0,
                hovertemplate="%{y}: %{x:,}<extra></extra>")
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    if risk is not None:
        keys = [str(k) for k in risk["value_matrix"]]
        ordered = sorted(range(len(keys)), key=lambda i: VALUE_MATRIX_CELLS.index(keys[i])
                         if keys[i] in VALUE_MATRIX_CELLS else len(VALUE_MATRIX_CELLS))
        amounts = _floats(risk["value_at_risk"])[ordered]
        cells = [keys[i] for i in ordered]
        fig.add_bar(x=[category_name("value_matrix", k, lang) for k in cells], y=amounts, row=1, col=2,
                    marker={"color": [colour(f"value_matrix.{k}", i) for i, k in enumerate(cells)]},
                    text=[format_number(a, lang) for a in amounts], textposition="auto", textangle=0,
                    hovertemplate="%{x}: %{y:,.0f}<extra></extra>")
        fig.update_yaxes(title=label("value.at_risk", lang), row=1, col=2)
    return _layout(fig, title, lang, height=420, legend=False)


def _wrap(text: str, width: int) -> str:
    """Break a long label on spaces with <br> so axis labels stay narrow (Chinese text left whole)."""
    if len(text) <= width or " " not in text:
        return text
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


# --------------------------------------------------------------------------------------------
# forecast and CLV


def forecast_chart(frame: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Revenue per period: history as a solid line, the forecast dashed and joined to it.

    ``frame`` has ``period_start``, ``revenue`` and ``kind`` (``history`` or ``forecast``);
    optional ``lower``/``upper`` columns draw a band around the forecast.
    """
    title = label("report.forecast.title", lang)
    if _empty(frame):
        return empty_figure(title, lang)
    _require(frame, ["period_start", "revenue", "kind"], "forecast chart")
    data = frame.assign(period_start=pd.to_datetime(frame["period_start"])).sort_values("period_start", kind="stable")
    kinds = data["kind"].astype(str)
    history, forecast = data[(kinds == "history").to_numpy()], data[(kinds == "forecast").to_numpy()]
    fig = _figure()
    if len(history):
        fig.add_scatter(x=history["period_start"], y=_floats(history["revenue"]), mode="lines+markers",
                        name=label("report.forecast.history", lang), line={"color": BLUE, "width": 2},
                        marker={"size": 5}, hovertemplate="%{x|%Y-%m}: %{y:,.0f}<extra>%{fullData.name}</extra>")
    if len(forecast):
        joined = pd.concat([history.tail(1), forecast]) if len(history) else forecast
        if {"lower", "upper"} <= set(forecast.columns):
            fig.add_scatter(x=list(forecast["period_start"]) + list(forecast["period_start"])[::-1],
                            y=list(_floats(forecast["upper"])) + list(_floats(forecast["lower"]))[::-1],
                            fill="toself", fillcolor=_fade(ORANGE, 0.18), line={"width": 0}, hoverinfo="skip",
                            name=label("report.forecast.interval", lang))
        fig.add_scatter(x=joined["period_start"], y=_floats(joined["revenue"]), mode="lines+markers",
                        name=label("report.forecast.forecast", lang), line={"color": ORANGE, "width": 2, "dash": "dash"},
                        marker={"size": 6}, hovertemplate="%{x|%Y-%m}: %{y:,.0f}<extra>%{fullData.name}</extra>")
    fig.update_yaxes(title=label("value.revenue", lang), rangemode="tozero")
    fig.update_xaxes(title=label("report.period", lang))
    return _layout(fig, title, lang)


def clv_distribution_chart(clv: Any, lang: str = "en", bins: int = 40) -> go.Figure:
    """Histogram of customer lifetime value (binned here; the top 1 % share the last bar).

    ``clv`` is a column of values (for example ``CustomerValue.table["clv"]``).

    >>> fig = clv_distribution_chart(pd.Series(np.arange(1000.0)))
    >>> int(sum(fig.data[0].y))
    1000
    """
    title = label("report.clv.title", lang)
    values = _floats(clv) if clv is not None else np.zeros(0)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return empty_figure(title, lang)
    low, cap = float(values.min()), float(np.quantile(values, 0.99))
    if cap <= low:
        cap = float(values.max()) if values.max() > low else low + 1.0
    edges = np.linspace(low, cap, bins + 1)
    counts, _ = np.histogram(np.clip(values, low, cap), bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = _figure()
    fig.add_bar(x=centres, y=counts, width=np.diff(edges) * 0.95, marker={"color": BLUE},
                customdata=np.column_stack([edges[:-1], edges[1:]]), name=label("value.clv", lang),
                hovertemplate="%{customdata[0]:,.0f} – %{customdata[1]:,.0f}: %{y:,}<extra></extra>")
    median = float(np.median(values))
    fig.add_vline(x=median, line={"color": ORANGE, "dash": "dash"})
    fig.add_annotation(x=median, y=1.0, yref="paper", yanchor="bottom", showarrow=False, xanchor="left",
                       text=label("report.clv.median", lang).format(value=format_number(median, lang)),
                       font={"color": ORANGE})
    above = int(np.sum(values > cap))
    if above:
        fig.add_annotation(x=1.0, y=1.0, xref="paper", yref="paper", xanchor="right", yanchor="bottom",
                           showarrow=False,
                           font={"size": 11, "color": "#666"},
                           text=label("report.clv.cut", lang).format(count=f"{above:,}",
                                                                     max=format_number(float(values.max()), lang)))
    fig.update_xaxes(title=label("value.clv", lang))
    fig.update_yaxes(title=label("report.customers", lang))
    return _layout(fig, title, lang, legend=False)


def channel_chart(equity: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Average CLV per customer (left) and CLV / acquisition cost (right) per acquisition channel.

    ``equity`` is :attr:`CustomerValue.equity <cvm.value.table.CustomerValue.equity>`; its
    rows with ``grouping == "acquisition_channel"`` are used (all rows when it has no
    ``grouping`` column: then ``group`` is the channel).

    >>> e = pd.DataFrame({"grouping": ["acquisition_channel"] * 2, "group": ["store", "web"],
    ...                   "customers": [2, 4], "customer_equity": [100.0, 100.0], "clv_to_cac": [3.0, 0.5]})
    >>> [float(v) for v in channel_chart(e).data[0].y]
    [50.0, 25.0]
    """
    title = label("report.channel.title", lang)
    if not _empty(equity) and "grouping" in equity.columns:
        equity = equity[(equity["grouping"].astype(str) == "acquisition_channel").to_numpy()]
    if _empty(equity):
        return empty_figure(title, lang)
    _require(equity, ["group", "customers", "customer_equity", "clv_to_cac"], "channel chart")
    names = [label("segmentation.missing", lang) if pd.isna(g) else str(g) for g in equity["group"]]
    customers = _floats(equity["customers"])
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(customers > 0, _floats(equity["customer_equity"]) / customers, np.nan)
    ratio = _floats(equity["clv_to_cac"])
    fig = _subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(label("report.channel.average_clv", lang), label("value.clv_to_cac", lang)))
    fig.add_bar(x=names, y=average, marker={"color": BLUE}, row=1, col=1,
                text=[format_number(a, lang) for a in average], textposition="auto", textangle=0,
                hovertemplate="%{x}: %{y:,.0f}<extra></extra>")
    fig.add_bar(x=names, y=ratio, row=1, col=2,
                marker={"color": [GREEN if r >= 1 else RED for r in np.nan_to_num(ratio)]},
                text=[f"{r:,.1f}×" if np.isfinite(r) else "–" for r in ratio], textposition="auto", textangle=0,
                hovertemplate="%{x}: %{y:,.2f}×<extra></extra>")
    fig.add_hline(y=1.0, line={"color": "#555", "dash": "dash"}, row=1, col=2,
                  annotation_text=label("report.channel.break_even", lang), annotation_position="top right")
    return _layout(fig, title, lang, legend=False)


# --------------------------------------------------------------------------------------------
# base health


def cohort_retention_chart(cohorts: pd.DataFrame, lang: str = "en", max_cohorts: int = 24) -> go.Figure:
    """Heat map: share of each acquisition cohort (rows) active n periods after acquisition (columns).

    ``cohorts`` is :attr:`RetentionTables.cohorts <cvm.value.health.RetentionTables>`
    (``cohort_start, periods_since, cohort_customers, share_active``); the latest
    ``max_cohorts`` cohorts are shown.

    >>> c = pd.DataFrame({"cohort_start": pd.to_datetime(["2024-01-01"] * 2), "periods_since": [0, 1],
    ...                   "cohort_customers": [4, 4], "share_active": [1.0, 0.5]})
    >>> cohort_retention_chart(c).data[0].z.tolist()
    [[1.0, 0.5]]
    """
    title = label("report.cohort.title", lang)
    if _empty(cohorts):
        return empty_figure(title, lang)
    _require(cohorts, ["cohort_start", "periods_since", "share_active"], "cohort retention chart")
    data = cohorts.assign(cohort_start=pd.to_datetime(cohorts["cohort_start"]))
    starts = sorted(data["cohort_start"].unique())[-max_cohorts:]
    data = data[data["cohort_start"].isin(starts)]
    grid = data.pivot_table(index="cohort_start", columns="periods_since", values="share_active", aggfunc="first")
    grid = grid.sort_index()
    sizes = (data.groupby("cohort_start")["cohort_customers"].first() if "cohort_customers" in data.columns
             else pd.Series(np.nan, index=grid.index))
    rows = [f"{_period_name(s, lang)} ({int(sizes.get(s, 0)):,})" if np.isfinite(sizes.get(s, np.nan))
            else _period_name(s, lang) for s in grid.index]
    z = grid.to_numpy(dtype=float)
    show_text = z.shape[1] <= 18
    fig = _figure(go.Heatmap(
        z=z, x=[int(c) for c in grid.columns], y=rows, zmin=0, zmax=1,
        colorscale=[[0, "#f7fbff"], [0.25, "#c6dbef"], [0.6, "#4292c6"], [1, "#08306b"]],
        colorbar={"title": {"text": label("health.share_active", lang), "side": "right"}, "tickformat": ".0%"},
        text=np.where(np.isfinite(z), np.char.mod("%.0f%%", np.nan_to_num(z) * 100), ""),
        texttemplate="%{text}" if show_text else None, textfont={"size": 10},
        hovertemplate="%{y}, +%{x}: %{z:.1%}<extra></extra>", xgap=1, ygap=1,
    ))
    fig.update_xaxes(title=label("report.cohort.periods_since", lang), dtick=1 if z.shape[1] <= 18 else 3)
    fig.update_yaxes(title=label("health.cohort", lang), autorange="reversed")
    return _layout(fig, title, lang, height=max(380, 120 + 22 * len(rows)), legend=False)


def satisfaction_chart(by_segment: pd.DataFrame, lang: str = "en", segment: str | None = None,
                       tier_names: Mapping[str, tuple[str, str]] | None = None) -> go.Figure:
    """Net promoter score (left) and average satisfaction (right) per tier.

    ``by_segment`` is :attr:`SatisfactionTables.by_segment <cvm.value.health.SatisfactionTables>`;
    ``segment`` picks one segment column (default: the first one present).

    >>> s = pd.DataFrame({"segment": ["pyramid"] * 2, "segment_value": ["vip", "ordinary"],
    ...                   "respondents": [5, 20], "nps": [40.0, -10.0], "mean_satisfaction": [4.5, 3.2]})
    >>> list(satisfaction_chart(s).data[0].x)
    ['VIP', 'ordinary']
    """
    title = label("report.satisfaction.title", lang)
    if _empty(by_segment):
        return empty_figure(title, lang)
    _require(by_segment, ["segment", "segment_value"], "satisfaction chart")
    segment = segment or str(by_segment["segment"].iloc[0])
    rows = by_segment[(by_segment["segment"].astype(str) == segment).to_numpy()]
    if rows.empty:
        return empty_figure(title, lang)
    keys = [str(k) for k in rows["segment_value"]]
    grouping = {"lifecycle_stage": "lifecycle", "rfm_segment": "rfm"}.get(segment, segment)
    if grouping == "pyramid":
        order = list(tier_names) if tier_names else ["vip", "key", "major", "ordinary"]
    elif grouping == "value_matrix":
        order = ["strategic", "profit", "potential", "ordinary"]
    else:
        order = []
    ranked = sorted(range(len(keys)), key=lambda i: (order.index(keys[i]) if keys[i] in order else len(order), keys[i]))
    rows = rows.iloc[ranked]
    keys = [keys[i] for i in ranked]
    names = [category_name(grouping, k, lang, tier_names) for k in keys]
    colours = [colour(f"{grouping}.{k}", i) for i, k in enumerate(keys)]
    measures = [(m, t) for m, t in (("nps", "health.nps"), ("mean_satisfaction", "health.mean_satisfaction"))
                if m in rows.columns]
    if not measures:
        return empty_figure(title, lang)
    fig = _subplots(rows=1, cols=len(measures), horizontal_spacing=0.12,
                        subplot_titles=[label(t, lang) for _, t in measures])
    respondents = rows["respondents"].to_numpy() if "respondents" in rows.columns else np.full(len(rows), np.nan)
    for col, (measure, _) in enumerate(measures, start=1):
        values = _floats(rows[measure])
        fig.add_bar(x=names, y=values, marker={"color": colours}, row=1, col=col,
                    text=[f"{v:.0f}" if measure == "nps" else f"{v:.2f}" for v in values],
                    textposition="outside", cliponaxis=False,
                    customdata=respondents,
                    hovertemplate="%{x}: %{y:.2f} (n = %{customdata:,})<extra></extra>")
        finite = values[np.isfinite(values)]
        if measure == "nps" and finite.size:
            low, high = min(float(finite.min()), 0.0), max(float(finite.max()), 0.0)
            pad = max((high - low) * 0.12, 5.0)
            fig.update_yaxes(range=[low - pad, high + pad], zeroline=True, zerolinecolor="#444", row=1, col=col)
        elif finite.size:
            fig.update_yaxes(range=[0, max(float(finite.max()), 0.0) * 1.15 or 1.0], row=1, col=col)
    _layout(fig, title, lang, height=400, legend=False)
    fig.update_layout(margin={"t": 90})
    return fig


# --------------------------------------------------------------------------------------------
# model diagnostics


def tracking_chart(frame: pd.DataFrame, lang: str = "en", holdout_start: Any = None) -> go.Figure:
    """Cumulative repeat purchases per period: actual against the model's expectation.

    ``frame`` has ``period``, ``actual`` and ``expected`` (cumulative counts);
    ``holdout_start`` (a period value) draws where the holdout begins.

    >>> f = pd.DataFrame({"period": [1, 2, 3], "actual": [5, 9, 12], "expected": [5.2, 8.7, 12.4]})
    >>> [t.name for t in tracking_chart(f).data]
    ['actual', 'model']
    """
    title = label("report.tracking.title", lang)
    if _empty(frame):
        return empty_figure(title, lang)
    _require(frame, ["period", "actual", "expected"], "tracking chart")
    fig = _figure()
    fig.add_scatter(x=frame["period"], y=_floats(frame["actual"]), mode="lines", line={"color": BLUE, "width": 3},
                    name=label("report.tracking.actual", lang))
    fig.add_scatter(x=frame["period"], y=_floats(frame["expected"]), mode="lines",
                    line={"color": ORANGE, "width": 2, "dash": "dash"}, name=label("report.tracking.expected", lang))
    if holdout_start is not None:
        fig.add_vline(x=holdout_start, line={"color": "#555", "dash": "dot"})
        fig.add_annotation(x=holdout_start, y=0.02, yref="paper", xanchor="left", showarrow=False,
                           text=label("report.tracking.holdout_start", lang), font={"color": "#555"})
    fig.update_xaxes(title=label("report.period", lang))
    fig.update_yaxes(title=label("report.tracking.purchases", lang), rangemode="tozero")
    return _layout(fig, title, lang)


def calibration_chart(frame: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Average holdout purchases per calibration frequency: actual against predicted.

    ``frame`` has ``frequency``, ``actual`` and ``predicted`` (means per frequency group).

    >>> f = pd.DataFrame({"frequency": [0, 1, 2], "actual": [0.1, 0.5, 1.1], "predicted": [0.12, 0.48, 1.0]})
    >>> [t.name for t in calibration_chart(f).data]
    ['actual', 'model']
    """
    title = label("report.calibration.title", lang)
    if _empty(frame):
        return empty_figure(title, lang)
    _require(frame, ["frequency", "actual", "predicted"], "calibration chart")
    fig = _figure()
    x = [str(v) for v in frame["frequency"]]
    fig.add_bar(x=x, y=_floats(frame["actual"]), name=label("report.tracking.actual", lang), marker={"color": BLUE})
    fig.add_bar(x=x, y=_floats(frame["predicted"]), name=label("report.tracking.expected", lang),
                marker={"color": ORANGE})
    fig.update_layout(barmode="group")
    fig.update_xaxes(title=label("report.calibration.x", lang), type="category")
    fig.update_yaxes(title=label("report.calibration.y", lang))
    return _layout(fig, title, lang)


def parameters_chart(frame: pd.DataFrame, lang: str = "en") -> go.Figure:
    """Each model parameter's estimate with its 95 % interval (one row per parameter).

    ``frame`` has ``name``, ``estimate``, ``lower`` and ``upper`` (missing bounds draw no bar).

    >>> f = pd.DataFrame({"name": ["r", "alpha"], "estimate": [0.24, 4.4], "lower": [0.2, 3.9], "upper": [0.3, 4.9]})
    >>> [trace.y[0] for trace in parameters_chart(f).data]
    ['r', 'alpha']
    """
    title = label("report.parameters.title", lang)
    if _empty(frame):
        return empty_figure(title, lang)
    _require(frame, ["name", "estimate", "lower", "upper"], "parameters chart")
    estimate, lower, upper = _floats(frame["estimate"]), _floats(frame["lower"]), _floats(frame["upper"])
    names = [str(n) for n in frame["name"]]
    # one row per parameter, each on its own scale: parameters differ by orders of magnitude
    fig = _subplots(rows=len(names), cols=1, vertical_spacing=min(0.5 / len(names), 0.12))
    for row, (name, e, lo, hi) in enumerate(zip(names, estimate, lower, upper, strict=True), start=1):
        interval = f"[{lo:.3g}, {hi:.3g}]" if np.isfinite(lo) and np.isfinite(hi) else ""
        fig.add_scatter(
            x=[e], y=[name], mode="markers+text", marker={"color": BLUE, "size": 10}, row=row, col=1,
            error_x={"type": "data", "symmetric": False, "array": [np.nan_to_num(hi - e)],
                     "arrayminus": [np.nan_to_num(e - lo)], "color": BLUE, "thickness": 2, "width": 7},
            text=[f"{e:.3g} {interval}"], textposition="top center", cliponaxis=False,
            hovertemplate=f"{name}: %{{x:.4g}} {interval}<extra></extra>")
        span = [v for v in (lo, hi, e) if np.isfinite(v)]
        width = (max(span) - min(span)) or abs(e) or 1.0
        fig.update_xaxes(range=[min(span) - 0.35 * width, max(span) + 0.35 * width], row=row, col=1)
        fig.update_yaxes(type="category", row=row, col=1)
    fig.update_xaxes(title=f"{label('model.estimate', lang)} ({label('model.interval', lang)})",
                     row=len(names), col=1)
    return _layout(fig, title, lang, height=max(260, 110 + 85 * len(names)), legend=False)


# --------------------------------------------------------------------------------------------
# playbook


def campaign_chart(lists: Mapping[str, pd.DataFrame], lang: str = "en") -> go.Figure:
    """Customers (left) and total expected value (right) of each campaign list.

    ``lists`` is :func:`cvm.value.playbook.campaign_lists` (action key -> its ranked list);
    action names come from the lists' ``action_en``/``action_zh`` columns or the
    ``playbook.action.*`` labels. Empty lists are left out.

    >>> lists = {"win_back": pd.DataFrame({"customer_id": ["a", "b"], "expected_value": [100.0, 50.0]}),
    ...          "nurture": pd.DataFrame({"customer_id": [], "expected_value": []})}
    >>> fig = campaign_chart(lists)
    >>> list(fig.data[0].y), list(fig.data[1].x)
    (['win back'], [150.0])
    """
    title = label("report.campaign.title", lang)
    rows = []
    for key, frame in (lists or {}).items():
        if frame is None or len(frame) == 0:
            continue
        column = f"action_{'zh' if lang == 'zh' else 'en'}"
        name = str(frame[column].iloc[0]) if column in frame.columns else category_name("playbook.action", key, lang)
        value = float(np.nansum(_floats(frame["expected_value"]))) if "expected_value" in frame.columns else np.nan
        rows.append((name, len(frame), value))
    if not rows:
        return empty_figure(title, lang)
    rows.sort(key=lambda r: -r[1])
    names = [r[0] for r in rows]
    fig = _subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=(label("report.customers", lang), label("report.campaign.expected_value", lang)))
    fig.add_bar(y=names, x=[r[1] for r in rows], orientation="h", marker={"color": BLUE}, row=1, col=1,
                text=[f"{r[1]:,}" for r in rows], textposition="auto", textangle=0, hovertemplate="%{y}: %{x:,}<extra></extra>")
    fig.add_bar(y=names, x=[r[2] for r in rows], orientation="h", marker={"color": GREEN}, row=1, col=2,
                text=[format_number(r[2], lang) for r in rows], textposition="auto", textangle=0,
                hovertemplate="%{y}: %{x:,.0f}<extra></extra>")
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    return _layout(fig, title, lang, height=max(320, 110 + 36 * len(rows)), legend=False)
