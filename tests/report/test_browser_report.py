"""The report in a real browser: headless Chromium draws every chart without a console error.

Uses the system's Chromium (``CVM_CHROMIUM``, default ``/usr/bin/chromium``; Debian's
``chromium`` package) through Playwright; a browser is never downloaded. Without Chromium or
Playwright the test skips and says why, unless ``CVM_REQUIRE_BROWSER=1`` (set by CI), when it
fails instead. The page is opened offline: any request that leaves the file fails the test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cvm.labels import label
from cvm.report import headline_kpis, render_report
from tests.report.inputs import report_sections

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CVM_CHROMIUM", "/usr/bin/chromium")


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CVM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CVM_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Playwright is not installed: pip install 'cvm[dev]'")
    executable = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if executable is None:
        _skip_or_fail(f"no Chromium at {CHROMIUM}: apt-get install chromium, or set CVM_CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


def _open(browser, path: Path, charts: int) -> tuple[list[str], list[dict], str, str]:
    """Open ``path`` offline; return the problems seen, each chart's drawing, the title and the h1."""
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("request", lambda r: problems.append(f"network request: {r.url}")
            if not r.url.startswith(("file:", "data:", "blob:")) else None)
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function(
            f"document.querySelectorAll('.chart .main-svg').length >= {charts}", timeout=30_000)
        drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.chart')).map(div => ({
            id: div.id,
            plotted: div.classList.contains('js-plotly-plot'),
            svgs: div.querySelectorAll('.main-svg').length,
            traces: (div.data || []).length,
            marks: div.querySelectorAll(
                '.point, .bars path, .scatterlayer .trace path, .hm image, .heatmaplayer image, '
                + '.sankey-link, .sankey-node').length,
            no_data: div.innerText.includes(NO_DATA_EN) || div.innerText.includes(NO_DATA_ZH),
            width: div.getBoundingClientRect().width,
            height: div.getBoundingClientRect().height,
        }))""".replace("NO_DATA_EN", repr(label("report.no_data", "en"))).replace(
            "NO_DATA_ZH", repr(label("report.no_data", "zh"))))
        return problems, drawn, page.title(), page.inner_text("h1")
    finally:
        page.close()


def _check_charts(drawn: list[dict], sections) -> None:
    charted = [s for s in sections if s.figure is not None]
    assert [d["id"] for d in drawn] == [f"chart-{s.key}" for s in charted]
    for chart, section in zip(drawn, charted, strict=True):
        assert chart["plotted"] and chart["svgs"] > 0, chart
        assert chart["traces"] == len(section.figure.data) > 0, chart
        assert chart["marks"] > 0, chart  # something was drawn, not only axes
        assert not chart["no_data"], chart
        assert chart["width"] > 600 and chart["height"] >= 250, chart


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_chart_renders_without_errors(browser, retail, tmp_path: Path, lang):
    sections = report_sections(retail, lang)
    html = render_report(sections, lang, kpis=headline_kpis(retail.value, lang),
                         subtitle=label("report.generated_for", lang).format(end="2024-12-31"))
    path = tmp_path / f"report_{lang}.html"
    path.write_text(html, encoding="utf-8")
    problems, drawn, title, heading = _open(browser, path, len(sections))
    assert problems == []
    assert title == heading == label("report.title", lang)
    _check_charts(drawn, sections)


@pytest.mark.parametrize(("which", "lang"), [("sample", "en"), ("sample", "zh"), ("retail", "zh")])
def test_analysis_report_renders_every_chart(browser, tmp_path: Path, which, lang, request):
    """The report ``cvm analyze`` writes, on the bundled CDNOW sample and on a retailer with every
    table: every chart drawn with marks, none empty, no console error, nothing fetched."""
    from cvm.service.report import report_sections as analysis_sections

    analysis = request.getfixturevalue(f"{which}_analysis")
    analysis.write(tmp_path / "out", lang=lang)
    sections = analysis_sections(analysis, lang)
    problems, drawn, title, heading = _open(browser, tmp_path / "out" / "report.html",
                                            sum(s.figure is not None for s in sections))
    assert problems == []
    assert title == heading == label("report.title", lang)
    _check_charts(drawn, sections)
