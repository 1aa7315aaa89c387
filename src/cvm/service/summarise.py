"""Use cases: validate an input file, summarise a transaction log, run the sample job.

The CLI, and later the API and web front ends, call these functions; they hold no
presentation logic. Long work reports its steps through a ``progress`` callback.

>>> from cvm.service.summarise import SUMMARY_KINDS
>>> sorted(SUMMARY_KINDS)
['btyd', 'cohort', 'holdout', 'panel', 'rfm']
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cvm.data import summaries
from cvm.data.export import write_table
from cvm.data.ingest import IngestResult, ingest
from cvm.data.timeunit import TimeUnit
from cvm.errors import ConfigError, OutputExistsError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

SUMMARY_KINDS: dict[str, str] = {
    "btyd": "BTYD summary per customer: frequency, recency, T, monetary_value",
    "holdout": "calibration summary plus holdout purchases and value (needs --holdout-end)",
    "panel": "per customer per period: orders, revenue, costs, gross margin",
    "rfm": "RFM inputs and 1-5 scores per customer",
    "cohort": "acquisition cohort x period: active customers, orders, revenue, margin",
}


def _silent(_: str) -> None:
    return None


@dataclass
class IngestOptions:
    """How to read and validate an input; see :func:`cvm.data.ingest.ingest`."""

    table: str = "transactions"
    mapping: str | Path | None = None
    columns: dict[str, str] = field(default_factory=dict)
    sheet: str | int | None = None
    source_table: str | None = None
    query: str | None = None
    dayfirst: bool | None = None
    policy: str = "strict"
    returns: str = "auto"
    duplicates: str = "keep"
    currency: str | None = None
    as_of: dt.date | None = None
    quarantine_path: Path | None = None

    def kwargs(self) -> dict[str, Any]:
        values = asdict(self)
        values["columns"] = dict(self.columns) or None
        return values


def validate_file(
    source: str | Path,
    options: IngestOptions | None = None,
    *,
    report_path: Path | None = None,
    progress: Progress = _silent,
    con: Any = None,
) -> IngestResult:
    """Read and validate ``source``; write the JSON report; raise on errors under ``strict``.

    The report is written even when validation fails, so the user can read every problem.
    File sources are loaded into ``con`` (a DuckDB backend) when given, so that several
    inputs can be joined; otherwise each gets its own in-memory DuckDB.
    """
    options = options or IngestOptions()
    progress(f"reading and validating {Path(str(source)).name}")
    try:
        result = ingest(source, **options.kwargs(), con=con)
    except Exception as exc:
        report = getattr(exc, "report", None)
        if report is not None and report_path is not None:
            report.write_json(report_path)
        raise
    if report_path is not None:
        result.report.write_json(report_path)
    return result


def summary_table(
    transactions: Any,
    kind: str,
    *,
    end: dt.date,
    unit: TimeUnit | str = "week",
    holdout_end: dt.date | None = None,
    period: TimeUnit | str = "month",
    count_by: str = "day",
) -> Any:
    """The Ibis expression of one summary ``kind`` over a canonical transactions table."""
    if kind not in SUMMARY_KINDS:
        raise ConfigError(
            f"unknown summary {kind!r}", hint=f"use one of: {', '.join(SUMMARY_KINDS)}"
        )
    if kind == "btyd":
        if holdout_end is not None:
            return summaries.calibration_holdout(
                transactions, calibration_end=end, holdout_end=holdout_end, unit=unit,
                count_by=count_by,
            )
        return summaries.btyd_summary(transactions, observation_end=end, unit=unit, count_by=count_by)
    if kind == "holdout":
        if holdout_end is None:
            raise ConfigError("the holdout summary needs a holdout end",
                              hint="pass --holdout-end DATE (after --end)")
        return summaries.calibration_holdout(
            transactions, calibration_end=end, holdout_end=holdout_end, unit=unit, count_by=count_by
        )
    if kind == "panel":
        return summaries.period_panel(transactions, period=period, observation_end=end)
    if kind == "rfm":
        return summaries.rfm_scores(transactions, observation_end=end)
    return summaries.cohort_table(transactions, period=period, observation_end=end)


def summarise_file(
    source: str | Path,
    output: Path,
    *,
    kind: str = "btyd",
    end: dt.date,
    unit: TimeUnit | str = "week",
    holdout_end: dt.date | None = None,
    period: TimeUnit | str = "month",
    count_by: str = "day",
    options: IngestOptions | None = None,
    report_path: Path | None = None,
    progress: Progress = _silent,
) -> tuple[IngestResult, Path]:
    """Validate ``source``, compute one summary and write it to ``output`` (atomically)."""
    result = validate_file(source, options, report_path=report_path, progress=progress)
    progress(f"computing the {kind} summary")
    table = summary_table(
        result.table, kind, end=end, unit=unit, holdout_end=holdout_end, period=period,
        count_by=count_by,
    )
    progress(f"writing {output.name}")
    write_table(table, output)
    return result, output


# --- the sample job --------------------------------------------------------------------------

DEMO_CALIBRATION_END = dt.date(1997, 9, 30)
DEMO_HOLDOUT_END = dt.date(1998, 6, 30)


@dataclass
class DemoResult:
    """What the sample job wrote and the headline numbers it found."""

    output_dir: Path
    files: list[str]
    headline: dict[str, Any]
    report: Any


def run_demo(
    output_dir: Path, *, overwrite: bool = False, progress: Progress = _silent
) -> DemoResult:
    """Validate and summarise the bundled CDNOW 1/10 sample into ``output_dir``.

    Calibration to 1997-09-30 and holdout to 1998-06-30, in weeks: the split of Fader,
    Hardie & Lee (2005). Everything is written to a temporary folder first and moved into
    place only when complete.
    """
    from cvm.datasets import dataset_path

    output_dir = Path(output_dir)
    if output_dir.exists() and any(output_dir.iterdir()) and not overwrite:
        raise OutputExistsError(
            f"{output_dir} already exists and is not empty",
            hint="choose another folder with -o, or pass --overwrite to replace it",
        )
    source = dataset_path("cdnow_sample")
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        result = validate_file(
            source, IngestOptions(), report_path=staging / "validation_report.json",
            progress=progress,
        )
        tx = result.table
        outputs = {
            "calibration_holdout": summary_table(
                tx, "holdout", end=DEMO_CALIBRATION_END, holdout_end=DEMO_HOLDOUT_END, unit="week"
            ),
            "btyd_summary": summary_table(tx, "btyd", end=DEMO_HOLDOUT_END, unit="week"),
            "rfm": summary_table(tx, "rfm", end=DEMO_HOLDOUT_END),
            "period_panel": summary_table(tx, "panel", end=DEMO_HOLDOUT_END, period="month"),
            "cohorts": summary_table(tx, "cohort", end=DEMO_HOLDOUT_END, period="quarter"),
        }
        files = ["validation_report.json"]
        computed = {}
        for name, table in outputs.items():
            progress(f"computing and writing {name}")
            # the sample's tables are small: run each query once, write both formats from it
            computed[name] = table.to_pyarrow()
            for suffix in ("parquet", "csv"):
                write_table(computed[name], staging / f"{name}.{suffix}")
                files.append(f"{name}.{suffix}")
        split = computed["calibration_holdout"].to_pydict()
        freq = split["frequency"]
        headline = {
            "transactions_rows": result.report.n_rows,
            "customers": len(freq),
            "calibration_repeat_purchases": int(sum(freq)),
            "customers_without_repeat": int(sum(1 for f in freq if f == 0)),
            "holdout_repeat_purchases": int(sum(split["frequency_holdout"])),
            "holdout_revenue": round(float(sum(split["revenue_holdout"])), 2),
            "calibration_end": DEMO_CALIBRATION_END.isoformat(),
            "holdout_end": DEMO_HOLDOUT_END.isoformat(),
            "unit": "week",
        }
        (staging / "headline.json").write_text(json.dumps(headline, indent=2) + "\n")
        files.append("headline.json")
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staging.rename(output_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return DemoResult(output_dir=output_dir, files=sorted(files), headline=headline, report=result.report)
