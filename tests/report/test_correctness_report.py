"""The HTML report: self-contained (no network reference), Plotly once, deterministic, bilingual."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from cvm.errors import ConfigError
from cvm.labels import label
from cvm.report import KPI, Section, headline_kpis, render_report
from cvm.report.charts import forecast_chart
from tests.report.inputs import report_sections

PLOTLY_JS = get_plotlyjs()


class _Page(HTMLParser):
    """Every tag's attributes and every script's text, outside the embedded Plotly bundle."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


@pytest.fixture(scope="module")
def pages(retail):
    return {lang: render_report(report_sections(retail, lang), lang, kpis=headline_kpis(retail.value, lang),
                                subtitle=label("report.generated_for", lang).format(end="2024-12-31"))
            for lang in ("en", "zh")}


def _without_plotly(html: str) -> str:
    assert html.count(PLOTLY_JS) == 1
    return html.replace(PLOTLY_JS, "")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_embeds_plotly_once_and_refers_to_nothing_outside(pages, lang):
    html = pages[lang]
    rest = _without_plotly(html)
    # outside Plotly's own bundle, no URL of any kind: nothing can be fetched, nothing linked
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}|\bwww\.", rest, flags=re.I), \
        re.search(r".{60}(https?:|//[a-z0-9.-]+\.[a-z]{2,}).{60}", rest, flags=re.I | re.S)
    page = _Page()
    page.feed(html)
    for tag, name, value in page.attributes:
        if name in ("src", "href", "action", "srcset", "data", "poster", "background"):
            assert value.startswith("#"), (tag, name, value)
    assert not any(tag in ("link", "iframe", "img", "object", "embed") for tag, _, _ in page.attributes)
    assert not any(name == "src" for _, name, _ in page.attributes)  # every script inline
    assert "@import" not in rest and "url(" not in rest


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_chart_has_its_fixed_div_and_a_plot_call(pages, retail, lang):
    html = pages[lang]
    sections = report_sections(retail, lang)
    for section in sections:
        assert html.count(f'id="chart-{section.key}"') == 1
        assert f'["chart-{section.key}", {{' in html
    assert html.count('class="chart"') == len(sections)
    assert html.count("Plotly.newPlot(") == 1  # one loop over the charts


def test_the_same_inputs_give_the_same_page(pages, retail):
    again = render_report(report_sections(retail, "en"), "en", kpis=headline_kpis(retail.value, "en"),
                          subtitle=label("report.generated_for", "en").format(end="2024-12-31"))
    assert again == pages["en"]
    assert not re.search(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", _without_plotly(again))  # no uuids


def test_static_text_is_in_the_page_language(pages):
    en, zh = pages["en"], pages["zh"]
    assert '<html lang="en">' in en and '<html lang="zh-CN">' in zh
    for key in ("report.title", "report.contents", "report.footer", "report.kpi.customers",
                "report.pyramid.title", "report.campaign.title"):
        assert label(key, "en") in en, key
        assert label(key, "zh") in zh, key
        assert label(key, "zh") not in en, key
    page = _Page()
    page.feed(_without_plotly(zh))
    visible = "".join(page.text)
    assert "前 20 % 的客户贡献了" in visible  # the Pareto reading, written from the data


def test_headings_readings_and_kpis_are_escaped():
    section = Section("x", title="<b>Top</b> & co", text="1 < 2 <script>alert(1)</script>")
    html = render_report([section], kpis=[KPI("a<b", "5 > 4")])
    rest = _without_plotly(html)
    assert "<h2>&lt;b&gt;Top&lt;/b&gt; &amp; co</h2>" in rest
    assert "<script>alert(1)</script>" not in rest
    assert "a&lt;b" in rest and "5 &gt; 4" in rest


def test_figure_text_cannot_close_the_script():
    fig = go.Figure(go.Bar(x=["</script><script>alert(1)</script>"], y=[1]))
    html = render_report([Section("bar", figure=fig)])
    assert "</script><script>alert(1)" not in _without_plotly(html)


def test_the_section_heading_takes_the_figure_title_and_the_chart_loses_it():
    frame = pd.DataFrame({"period_start": pd.to_datetime(["2024-01-01"]), "revenue": [1.0], "kind": ["history"]})
    html = render_report([Section("f", figure=forecast_chart(frame, "zh"))], "zh")
    assert "<h2>收入：历史与预测</h2>" in html
    assert '"title":{"text":"收入' not in _without_plotly(html)


def test_bad_sections_and_languages_are_refused():
    with pytest.raises(ConfigError, match="used twice"):
        render_report([Section("a"), Section("a")])
    with pytest.raises(ConfigError, match="must start with a letter"):
        render_report([Section("a b")])
    with pytest.raises(ConfigError, match="'en' or 'zh'"):
        render_report([Section("a")], lang="fr")
    with pytest.raises(ConfigError, match="Section objects"):
        render_report([("a", None)])


def test_a_single_section_has_no_table_of_contents():
    html = render_report([Section("only", title="Only")])
    assert "<nav>" not in html
    assert "<nav>" in render_report([Section("a", title="A"), Section("b", title="B")])
