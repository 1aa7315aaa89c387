"""The customer value report: one self-contained HTML page of sections, each a heading, a
short reading of the numbers and an interactive chart.

The page embeds Plotly's JavaScript once and loads nothing from the network, so it opens
offline and can be mailed as one file. All fixed text (title, contents, footer, "no data")
comes from :mod:`cvm.labels` in the report's language (``en`` or ``zh``); the same inputs
give byte-for-byte the same page (no timestamps, fixed element ids).

The ``*_text`` functions turn the value layer's tables into the one-sentence readings shown
above the charts, and :func:`headline_kpis` the figures of the strip at the top.

>>> import pandas as pd
>>> from cvm.report.charts import forecast_chart
>>> frame = pd.DataFrame({"period_start": pd.to_datetime(["2024-01-01", "2024-02-01"]),
...                       "revenue": [100.0, 110.0], "kind": ["history", "forecast"]})
>>> html = render_report([Section("forecast", figure=forecast_chart(frame), text="Revenue keeps growing.")])
>>> html.startswith("<!DOCTYPE html>"), 'id="chart-forecast"' in html, html.count("<section")
(True, True, 1)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cvm.errors import ConfigError
from cvm.labels import label
from cvm.report.charts import _period_name, category_name, format_number, format_share

__all__ = [
    "Section", "KPI", "render_report", "headline_kpis", "pareto_text", "pyramid_text",
    "value_at_risk_text", "lifecycle_text", "forecast_text", "retention_text", "campaign_text",
    "channel_text", "matrix_text", "rfm_text", "loyalty_profit_text", "flows_text", "clv_text",
    "satisfaction_text", "model_text", "calibration_text",
]

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "toggleSpikelines"],
}
"""Plotly's options for every chart: no Plotly logo link, resize with the page."""

_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, a short reading of the numbers, a chart.

    ``key`` names the section in the page (the chart's element id is ``chart-<key>``), so it
    must be unique, start with a letter and hold only letters, digits, ``-`` and ``_``.
    ``title`` defaults to the figure's own title; ``figure`` may be ``None`` for a text-only
    section, which may list ``items``.
    """

    key: str
    title: str = ""
    figure: go.Figure | None = None
    text: str = ""
    items: tuple[str, ...] = ()
    """A bulleted list below the text (for example the notes of a run)."""


@dataclass(frozen=True)
class KPI:
    """One headline figure of the strip at the top: a label, the value as text, a short note."""

    label: str
    value: str
    note: str = ""


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cvm.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")


def _script_json(value: Any) -> str:
    """JSON safe to put inside a <script> element (no "</" that could close it)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _figure_json(figure: go.Figure) -> tuple[str, str]:
    """The figure as JSON for Plotly.newPlot (its title moved to the section heading)."""
    import plotly.io as pio

    spec = figure.to_plotly_json()  # plain dicts: editing them leaves ``figure`` alone
    layout = dict(spec.get("layout", {}))
    title = layout.pop("title", None) or {}
    title = title.get("text", "") if isinstance(title, dict) else str(title)
    top = 50 if layout.get("showlegend") is not False or layout.get("annotations") else 30
    layout["margin"] = {**layout.get("margin", {}), "t": top}
    layout["autosize"] = True
    layout.pop("width", None)
    spec = {"data": spec.get("data", []), "layout": layout}
    return title or "", _script_json(pio.to_json(spec, validate=False, pretty=False, remove_uids=True))


def render_report(
    sections: Sequence[Section],
    lang: str = "en",
    title: str | None = None,
    *,
    subtitle: str = "",
    kpis: Sequence[KPI] = (),
) -> str:
    """The report as one self-contained HTML page (Plotly embedded once, no network references).

    ``sections`` are shown in order, with a table of contents when there are several;
    ``kpis`` form the strip at the top; ``title`` defaults to "Customer value report" in
    ``lang``. The same arguments always give the same page.
    """
    if lang not in ("en", "zh"):
        raise ConfigError(f"report language must be 'en' or 'zh', not {lang!r}")
    seen: set[str] = set()
    rows = []
    for section in sections:
        if not isinstance(section, Section):
            raise ConfigError(f"report sections must be Section objects, not {type(section).__name__}")
        if not _KEY.match(section.key):
            raise ConfigError(f"section key {section.key!r} must start with a letter and hold only letters, "
                              "digits, '-' and '_'")
        if section.key in seen:
            raise ConfigError(f"section key {section.key!r} is used twice; each section needs its own key")
        seen.add(section.key)
        figure_title, figure_json = _figure_json(section.figure) if section.figure is not None else ("", "")
        rows.append({
            "anchor": f"section-{section.key}",
            "div_id": f"chart-{section.key}",
            "title": section.title or figure_title or section.key,
            "text": section.text,
            "bullets": [str(item) for item in section.items],
            "figure_json": figure_json,
        })
    return _template().render(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=title or label("report.title", lang),
        subtitle=subtitle,
        kpis=list(kpis),
        sections=rows,
        contents=label("report.contents", lang),
        footer=label("report.footer", lang),
        plotly_js=_plotly_js(),
        config_json=_script_json(PLOTLY_CONFIG),
    )


# --------------------------------------------------------------------------------------------
# readings: one sentence per chart, in the report's language


def _column(frame: Any, name: str) -> np.ndarray:
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def pareto_text(concentration: Any, lang: str = "en", top: float = 0.2) -> str:
    """"The top 20 % of customers bring 68 % of the value." from a Concentration ('' when no value).

    >>> from cvm.value.segments import concentration
    >>> pareto_text(concentration(np.array([1.0] * 8 + [46.0, 46.0])))
    'The top 20 % of customers bring 92 % of the value (Gini coefficient 0.72).'
    """
    pareto = getattr(concentration, "pareto", None)
    if pareto is None or len(pareto) == 0:
        return ""
    shares = _column(pareto, "top_share")
    row = int(np.argmin(np.abs(shares - top)))
    value_share = float(_column(pareto, "value_share")[row])
    if not np.isfinite(value_share):
        return ""
    gini = float(getattr(concentration, "gini", float("nan")))
    return label("report.text.pareto", lang).format(
        top=format_share(float(_column(pareto, "customer_share")[row])), share=format_share(value_share),
        gini=f"{gini:.2f}" if np.isfinite(gini) else "–")


def pyramid_text(pyramid: pd.DataFrame, lang: str = "en",
                 tier_names: Mapping[str, tuple[str, str]] | None = None) -> str:
    """What the top tier holds: its share of customers and of value ('' for an empty pyramid).

    >>> t = pd.DataFrame({"tier": ["vip", "ordinary"], "customer_share": [0.01, 0.99], "value_share": [0.25, 0.75]})
    >>> pyramid_text(t, "zh")
    'VIP 客户层级占客户总数的 1 %，贡献了 25 % 的价值。'
    """
    if pyramid is None or len(pyramid) == 0:
        return ""
    top = pyramid.iloc[0]
    return label("report.text.pyramid", lang).format(
        tier=category_name("pyramid", top["tier"], lang, tier_names),
        customers=format_share(float(top["customer_share"])), value=format_share(float(top["value_share"])))


def value_at_risk_text(value_at_risk: pd.DataFrame, lang: str = "en") -> str:
    """How many valuable customers are slipping and the margin at stake (the ``total`` row).

    >>> risk = pd.DataFrame({"value_matrix": ["strategic", "total"], "at_risk": [3, 3],
    ...                      "value_at_risk": [1500.0, 1500.0]})
    >>> value_at_risk_text(risk)  # doctest: +NORMALIZE_WHITESPACE
    '3 valuable customers are slipping (their chance of still being active is falling); together
     they put 1,500 of expected margin at risk.'
    """
    if value_at_risk is None or len(value_at_risk) == 0:
        return ""
    cells = value_at_risk["value_matrix"].astype(str)
    rows = value_at_risk[(cells == "total").to_numpy()] if (cells == "total").any() else value_at_risk
    count = int(np.nansum(_column(rows, "at_risk")))
    amount = float(np.nansum(_column(rows, "value_at_risk")))
    if count == 0:
        return label("report.text.no_risk", lang)
    return label("report.text.value_at_risk", lang).format(count=f"{count:,}", value=format_number(amount, lang))


def lifecycle_text(distribution: pd.DataFrame, lang: str = "en") -> str:
    """Shares of the base stable, in decline and churned in the latest period.

    >>> d = pd.DataFrame({"stable": [6], "decline": [2], "churned": [2]}, index=pd.to_datetime(["2024-01-01"]))
    >>> lifecycle_text(d)
    'In the latest period 60 % of customers are stable and 20 % are in decline; 20 % have churned.'
    """
    if distribution is None or len(distribution) == 0:
        return ""
    last = distribution.iloc[-1].astype(float)
    total = float(last.sum())
    if total <= 0:
        return ""

    def share(stage: str) -> str:
        return format_share(float(last.get(stage, 0.0)) / total)

    return label("report.text.lifecycle", lang).format(
        stable=share("stable"), declining=share("decline"), churned=share("churned"))


def forecast_text(frame: pd.DataFrame, lang: str = "en") -> str:
    """Forecast revenue of the coming periods against the same number of past periods.

    >>> f = pd.DataFrame({"period_start": pd.date_range("2024-01-01", periods=4, freq="MS"),
    ...                   "revenue": [100.0, 100.0, 110.0, 120.0], "kind": ["history"] * 2 + ["forecast"] * 2})
    >>> forecast_text(f)
    'Revenue over the next 2 periods is forecast at 230, against 200 in the last 2 (+15 %).'
    """
    if frame is None or len(frame) == 0:
        return ""
    data = frame.assign(period_start=pd.to_datetime(frame["period_start"])).sort_values("period_start", kind="stable")
    kind = data["kind"].astype(str).to_numpy()
    forecast = _column(data, "revenue")[kind == "forecast"]
    history = _column(data, "revenue")[kind == "history"]
    k = min(len(forecast), len(history))
    if k == 0:
        return ""
    ahead, before = float(np.nansum(forecast[:k])), float(np.nansum(history[-k:]))
    change = "–" if before == 0 else f"{ahead / before - 1:+.0%}".replace("%", " %")
    return label("report.text.forecast", lang).format(
        periods=k, forecast=format_number(ahead, lang), history=format_number(before, lang), change=change)


def retention_text(cohorts: pd.DataFrame, lang: str = "en", periods: int = 3) -> str:
    """Average share of a cohort still buying ``periods`` periods after acquisition (customer-weighted).

    >>> c = pd.DataFrame({"periods_since": [0, 3, 0, 3], "cohort_customers": [10, 10, 30, 30],
    ...                   "share_active": [1.0, 0.2, 1.0, 0.4]})
    >>> retention_text(c)
    'On average 35 % of a cohort is still buying 3 periods after acquisition.'
    """
    if cohorts is None or len(cohorts) == 0:
        return ""
    rows = cohorts[_column(cohorts, "periods_since") == periods]
    if rows.empty:
        return ""
    weights = _column(rows, "cohort_customers") if "cohort_customers" in rows.columns else np.ones(len(rows))
    shares = _column(rows, "share_active")
    keep = np.isfinite(shares) & (weights > 0)
    if not keep.any():
        return ""
    share = float(np.average(shares[keep], weights=weights[keep]))
    return label("report.text.retention", lang).format(share=format_share(share), periods=periods)


def campaign_text(lists: Mapping[str, pd.DataFrame], lang: str = "en") -> str:
    """The largest campaign list and the one with the most expected value.

    >>> lists = {"win_back": pd.DataFrame({"expected_value": [100.0, 50.0]}),
    ...          "maintain": pd.DataFrame({"expected_value": [1.0, 1.0, 1.0]})}
    >>> campaign_text(lists)
    'The largest list is "maintain at low cost" with 3 customers; "win back" carries the most expected value (150).'
    """
    rows = [(key, len(frame), float(np.nansum(_column(frame, "expected_value")))
             if "expected_value" in frame.columns else 0.0)
            for key, frame in (lists or {}).items() if frame is not None and len(frame)]
    if not rows:
        return ""
    largest = max(rows, key=lambda r: r[1])
    best = max(rows, key=lambda r: r[2])
    return label("report.text.campaign", lang).format(
        action=category_name("playbook.action", largest[0], lang), customers=f"{largest[1]:,}",
        best=category_name("playbook.action", best[0], lang), value=format_number(best[2], lang))


def _highest_and_lowest(values: np.ndarray) -> tuple[int, int] | None:
    """Positions of the highest and the lowest known value (None with fewer than two known)."""
    known = np.flatnonzero(np.isfinite(values))
    if known.size < 2:
        return None
    return int(known[np.argmax(values[known])]), int(known[np.argmin(values[known])])


def channel_text(equity: pd.DataFrame, lang: str = "en") -> str:
    """The acquisition channels with the highest and the lowest CLV / acquisition cost.

    >>> e = pd.DataFrame({"grouping": ["acquisition_channel"] * 3, "group": ["store", "search", "social"],
    ...                   "clv_to_cac": [4.2, 1.5, 0.8]})
    >>> channel_text(e)
    'store brings the most value per unit of acquisition cost (4.2×); social the least (0.8×).'
    """
    if equity is None or len(equity) == 0:
        return ""
    rows = equity
    if "grouping" in equity.columns:
        rows = equity[(equity["grouping"].astype(str) == "acquisition_channel").to_numpy()]
    ratio = _column(rows, "clv_to_cac") if len(rows) else np.zeros(0)
    extremes = _highest_and_lowest(ratio)
    if extremes is None:
        return ""
    best, worst = extremes
    groups = rows["group"].astype(str).to_numpy()
    return label("report.text.channel", lang).format(
        best=groups[best], ratio=f"{ratio[best]:,.1f}", worst=groups[worst], worst_ratio=f"{ratio[worst]:,.1f}")


def headline_kpis(value: Any, lang: str = "en") -> list[KPI]:
    """The strip at the top from a :class:`~cvm.value.table.CustomerValue`: customers, customer
    equity, the top 20 %'s share of value, and value at risk.

    >>> from cvm.value.table import customer_value, example_inputs
    >>> [k.label for k in headline_kpis(customer_value(**example_inputs()))]
    ['customers', 'customer equity', 'value from the top 20 %', 'value at risk']
    """
    table = value.table
    kpis = [KPI(label("report.kpi.customers", lang), f"{len(table):,}"),
            KPI(label("report.kpi.equity", lang), format_number(float(value.customer_equity), lang))]
    pareto = getattr(value.concentration, "pareto", None)
    if pareto is not None and len(pareto):
        shares = _column(pareto, "top_share")
        row = int(np.argmin(np.abs(shares - 0.2)))
        kpis.append(KPI(label("report.kpi.top20", lang), format_share(float(_column(pareto, "value_share")[row]))))
    risk = value.value_at_risk
    if risk is not None and len(risk):
        total = risk[(risk["value_matrix"].astype(str) == "total").to_numpy()]
        total = total if len(total) else risk
        kpis.append(KPI(label("report.kpi.at_risk", lang),
                        format_number(float(np.nansum(_column(total, "value_at_risk"))), lang),
                        label("report.kpi.at_risk_customers", lang).format(
                            count=f"{int(np.nansum(_column(total, 'at_risk'))):,}")))
    return kpis


def matrix_text(table: pd.DataFrame, lang: str = "en", value: str = "total_value") -> str:
    """How many customers are strategic and their share of the value ('' without a value matrix).

    >>> t = pd.DataFrame({"value_matrix": ["strategic", "ordinary", "ordinary", "ordinary"],
    ...                   "total_value": [70.0, 10.0, 10.0, 10.0]})
    >>> matrix_text(t)
    '1 customers (25 %) are strategic, high in both realized and potential value; they hold 70 % of the total value.'
    """
    if table is None or len(table) == 0 or "value_matrix" not in table.columns:
        return ""
    strategic = (table["value_matrix"].astype(str) == "strategic").to_numpy()
    values = np.nan_to_num(_column(table, value)).clip(min=0) if value in table.columns else np.zeros(len(table))
    total = float(values.sum())
    return label("report.text.matrix", lang).format(
        count=f"{int(strategic.sum()):,}", share=format_share(float(strategic.mean())),
        value=format_share(float(values[strategic].sum()) / total) if total > 0 else "–")


def _largest_groups(keys: pd.Series, values: np.ndarray) -> tuple[str, float, str, float]:
    """The group with the most rows (and its share of rows), the one with the most value (and its share)."""
    frame = pd.DataFrame({"key": keys.astype("string").fillna("(missing)").to_numpy(dtype=object),
                          "value": np.nan_to_num(values).clip(min=0)})
    grouped = frame.groupby("key", sort=True).agg(customers=("value", "size"), value=("value", "sum"))
    largest, best = grouped["customers"].idxmax(), grouped["value"].idxmax()
    total = float(grouped["value"].sum())
    return (str(largest), float(grouped.loc[largest, "customers"]) / len(frame), str(best),
            float(grouped.loc[best, "value"]) / total if total > 0 else float("nan"))


def rfm_text(table: pd.DataFrame, lang: str = "en", value: str = "total_value") -> str:
    """The largest RFM segment and the one holding the most value.

    >>> t = pd.DataFrame({"rfm_segment": ["lost", "lost", "champions"], "total_value": [1.0, 1.0, 8.0]})
    >>> rfm_text(t)
    'The largest RFM segment is Lost (67 % of customers); Champions hold the most value (80 %).'
    """
    if table is None or len(table) == 0 or "rfm_segment" not in table.columns or value not in table.columns:
        return ""
    largest, share, best, value_share = _largest_groups(table["rfm_segment"], _column(table, value))
    return label("report.text.rfm", lang).format(
        largest=category_name("rfm", largest, lang), share=format_share(share),
        best=category_name("rfm", best, lang), value=format_share(value_share) if np.isfinite(value_share) else "–")


def loyalty_profit_text(table: pd.DataFrame, lang: str = "en", value: str = "total_value") -> str:
    """The true friends' share of customers and value, and the barnacles' share of customers.

    >>> t = pd.DataFrame({"loyalty_profit": ["true_friend", "barnacle", "stranger", "stranger"],
    ...                   "total_value": [6.0, 1.0, 1.0, 2.0]})
    >>> loyalty_profit_text(t)
    'True friends are 25 % of customers and bring 60 % of the value; barnacles (25 % of customers) are loyal but not profitable.'
    """
    if table is None or len(table) == 0 or "loyalty_profit" not in table.columns or value not in table.columns:
        return ""
    cells = table["loyalty_profit"].astype(str).to_numpy()
    values = np.nan_to_num(_column(table, value)).clip(min=0)
    total = float(values.sum())
    friends = cells == "true_friend"
    return label("report.text.loyalty_profit", lang).format(
        friend=_plural(category_name("loyalty_profit", "true_friend", lang), lang).capitalize(),
        customers=format_share(float(friends.mean())),
        value=format_share(float(values[friends].sum()) / total) if total > 0 else "–",
        barnacle=_plural(category_name("loyalty_profit", "barnacle", lang), lang),
        barnacle_customers=format_share(float((cells == "barnacle").mean())))


def _plural(name: str, lang: str) -> str:
    """An English category name as a group ("True friend" -> "True friends"); Chinese unchanged."""
    return name if lang == "zh" or name.endswith("s") else f"{name}s"


def flows_text(transitions: pd.DataFrame, lang: str = "en") -> str:
    """How many customers changed stage in the last period, and how many declined, churned, came back.

    >>> moves = pd.DataFrame({"period_start": pd.to_datetime(["2024-02-01"] * 3),
    ...                       "from_stage": ["stable", "stable", "churned"],
    ...                       "to_stage": ["decline", "stable", "recovered"], "customers": [4, 10, 1]})
    >>> flows_text(moves)
    'In Feb 2024, 5 customers changed stage: 4 moved into decline, 0 churned and 1 came back.'
    """
    if transitions is None or len(transitions) == 0:
        return ""
    periods = pd.to_datetime(transitions["period_start"])
    last = transitions[(periods == periods.max()).to_numpy()]
    before, after = last["from_stage"].astype(str), last["to_stage"].astype(str)
    count = _column(last, "customers")
    known = (before != "(new)").to_numpy()
    moved = known & (before != after).to_numpy()

    def into(stage: str) -> str:
        return f"{int(count[moved & (after == stage).to_numpy()].sum()):,}"

    return label("report.text.flows", lang).format(
        period=_period_name(periods.max(), lang), moved=f"{int(count[moved].sum()):,}",
        declined=into("decline"), churned=into("churned"), recovered=into("recovered"))


def clv_text(clv: Any, lang: str = "en") -> str:
    """Median, mean and top-decile threshold of customer lifetime value.

    >>> clv_text(pd.Series(np.arange(1.0, 101.0)))
    'The median customer is worth 50.5 over the coming lifetime and the average 50.5; one customer in ten is worth more than 90.1.'
    """
    values = pd.to_numeric(pd.Series(clv), errors="coerce").to_numpy(dtype=float, na_value=np.nan) if clv is not None else np.zeros(0)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return ""
    return label("report.text.clv", lang).format(
        median=format_number(float(np.median(values)), lang), mean=format_number(float(values.mean()), lang),
        top=format_number(float(np.quantile(values, 0.9)), lang))


def satisfaction_text(by_segment: pd.DataFrame, lang: str = "en", segment: str = "value_matrix",
                      tier_names: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The tiers with the highest and the lowest net promoter score.

    >>> s = pd.DataFrame({"segment": ["value_matrix"] * 2, "segment_value": ["strategic", "ordinary"],
    ...                   "nps": [45.0, -12.0]})
    >>> satisfaction_text(s)
    'Net promoter score is highest among strategic customers (45) and lowest among ordinary customers (-12).'
    """
    if by_segment is None or len(by_segment) == 0 or "nps" not in by_segment.columns:
        return ""
    rows = by_segment[(by_segment["segment"].astype(str) == segment).to_numpy()]
    nps = _column(rows, "nps") if len(rows) else np.zeros(0)
    extremes = _highest_and_lowest(nps)
    if extremes is None:
        return ""
    best, worst = extremes
    keys = rows["segment_value"].astype(str).to_numpy()
    grouping = {"lifecycle_stage": "lifecycle", "rfm_segment": "rfm"}.get(segment, segment)
    return label("report.text.satisfaction", lang).format(
        best=category_name(grouping, keys[best], lang, tier_names), best_nps=f"{nps[best]:.0f}",
        worst=category_name(grouping, keys[worst], lang, tier_names), worst_nps=f"{nps[worst]:.0f}")


def model_text(comparison: Any, model_title: str, lang: str = "en") -> str:
    """Why the purchase model was chosen and how it did in the holdout.

    ``comparison`` is the holdout :class:`~cvm.models.selection.Comparison` (None without a
    holdout); ``model_title`` names the model used.

    >>> model_text(None, "BG/NBD")
    'BG/NBD was used as requested. No holdout was kept, so the model was not checked out of sample.'
    """
    chosen = None if comparison is None else next(
        (c for c in comparison.candidates if c.name == comparison.chosen), None)
    others = [] if comparison is None else [c for c in comparison.candidates
                                            if c is not chosen and c.purchases is not None]
    if chosen is not None and chosen.purchases is not None and others:
        text = label("report.text.model_chosen", lang).format(
            model=model_title, rmse=f"{chosen.purchases.rmse:.3f}",
            others=", ".join(f"{c.title} {c.purchases.rmse:.3f}" for c in others))
    else:
        text = label("report.text.model_given", lang).format(model=model_title)
    if chosen is None or chosen.purchases is None:
        return text + label("report.text.no_holdout", lang)
    errors = chosen.purchases
    relative = errors.aggregate_relative_error
    return text + label("report.text.model_holdout", lang).format(
        expected=format_number(float(errors.expected_total), lang), actual=format_number(float(errors.actual_total), lang),
        error=f"{relative:+.1%}".replace("%", " %") if np.isfinite(relative) else "–")


def calibration_text(frame: pd.DataFrame, lang: str = "en") -> str:
    """The customer-weighted average gap between the model's and the actual holdout purchases.

    >>> f = pd.DataFrame({"frequency": ["0", "1"], "customers": [3, 1], "actual": [0.2, 1.0], "predicted": [0.1, 1.2]})
    >>> calibration_text(f)  # doctest: +ELLIPSIS
    "Customers are grouped by ...; across groups the model's average is off by 0.12 purchases per customer (weighted by customers)."
    """
    if frame is None or len(frame) == 0:
        return ""
    gap = np.abs(_column(frame, "predicted") - _column(frame, "actual"))
    weights = _column(frame, "customers") if "customers" in frame.columns else np.ones(len(frame))
    keep = np.isfinite(gap) & (weights > 0)
    if not keep.any():
        return ""
    return label("report.text.calibration", lang).format(error=f"{np.average(gap[keep], weights=weights[keep]):.2f}")
