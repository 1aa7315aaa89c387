"""The HTML customer value report: charts (:mod:`cvm.web.charts`) and the page (:mod:`cvm.web.report`).

>>> from cvm.web import Section, render_report
>>> "<h2>Notes</h2>" in render_report([Section("notes", title="Notes", text="Nothing to chart.")])
True
"""

from cvm.web.report import KPI, Section, headline_kpis, render_report

__all__ = ["KPI", "Section", "headline_kpis", "render_report"]
