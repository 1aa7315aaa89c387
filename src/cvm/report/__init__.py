"""The HTML customer value report: charts (:mod:`cvm.report.charts`) and the page (:mod:`cvm.report.page`).

>>> from cvm.report import Section, render_report
>>> "<h2>Notes</h2>" in render_report([Section("notes", title="Notes", text="Nothing to chart.")])
True
"""

from cvm.report.page import KPI, Section, headline_kpis, render_report

__all__ = ["KPI", "Section", "headline_kpis", "render_report"]
