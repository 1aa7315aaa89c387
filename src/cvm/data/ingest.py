"""Ingest a source into a canonical CVM table: read, map, parse, validate, apply a policy.

``ingest`` is the one entry point every front end calls. It reads the source
(:mod:`cvm.data.readers`), maps headers (:mod:`cvm.data.mapping`), parses and checks every
value (:mod:`cvm.data.parsing`, :mod:`cvm.data.validation`), then applies the policy:

* ``strict``: any error-severity issue raises :class:`~cvm.errors.InvalidDataError` with the
  full report on ``.report``; nothing is written.
* ``quarantine``: rows that broke an error rule are written, with their ``source_row`` and a
  ``reasons`` column (rule ids joined by ``;``), to a CSV file (default
  ``<input stem>.quarantine.csv`` beside the input); the valid rows form the table and the
  report says where the bad rows went and how many.

The canonical table has the CVM column names and types of the table spec, in spec order
(optional columns only when mapped); transactions also get ``timestamp`` right after
``date``; every table ends with ``source_row``. Customers keep unmapped headers as custom
text attributes after the spec columns. The table is materialised once on its backend, so
later summaries do not re-parse the source.

>>> from importlib.resources import files
>>> res = ingest(files("cvm.datasets") / "data" / "cdnow_sample.csv.gz", as_of="2000-01-01")
>>> res.report.ok, res.report.n_rows
(True, 6919)
>>> res.table.columns
('customer_id', 'date', 'timestamp', 'amount', 'quantity', 'source_row')
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir

from cvm.data import parsing as P
from cvm.data.mapping import ColumnMapping, resolve_mapping
from cvm.data.readers import SOURCE_ROW, drop_materialized, materialize, read_source
from cvm.data.schema import table_spec
from cvm.data.validation import (
    REASONS,
    REJECT,
    Checked,
    DuplicatesPolicy,
    ReturnsPolicy,
    ValidationReport,
    check,
    net_returns,
)
from cvm.errors import ConfigError, InputFileError, InvalidDataError
from cvm.labels import Note

log = logging.getLogger(__name__)

Policy = Literal["strict", "quarantine"]
POLICIES = ("strict", "quarantine")


@dataclass
class IngestResult:
    """A canonical table, the validation report, and the column mapping used."""

    table: ir.Table
    report: ValidationReport
    mapping: ColumnMapping


def ingest(
    source: Any,
    table: str = "transactions",
    *,
    mapping: str | Path | dict | None = None,
    columns: dict[str, str] | list[str] | None = None,
    sheet: str | int | None = None,
    dayfirst: bool | None = None,
    policy: Policy = "strict",
    returns: ReturnsPolicy = "auto",
    duplicates: DuplicatesPolicy = "keep",
    currency: str | None = None,
    as_of: dt.date | str | None = None,
    quarantine_path: str | Path | None = None,
    con: Any = None,
    source_table: str | None = None,
    query: str | None = None,
) -> IngestResult:
    """Read, map, validate and load ``source`` as CVM table ``table``.

    ``source``: a file path (CSV, .xlsx, Parquet, DuckDB), a ``postgresql://`` URL (with
    ``source_table`` or ``query``, or ``?table=NAME`` in the URL), a table name on backend
    ``con``, or an Ibis table (its
    backend is used). ``mapping``: a YAML file or dict; ``columns``: overrides
    (``{"date": "下单时间"}`` or ``["date=下单时间"]``); ``dayfirst``: the order of
    ``03/05/2024`` dates (None: inferred from the values). See :mod:`cvm.data.validation` for
    ``returns``, ``duplicates`` and ``currency``; ``as_of`` (default today) bounds dates.
    """
    if policy not in POLICIES:
        raise ConfigError(f"unknown policy {policy!r}", hint="use strict or quarantine")
    spec = table_spec(table)
    raw = read_source(source, sheet=sheet, table_name=source_table, query=query, con=con)
    try:
        cmap = resolve_mapping(raw.columns, spec, mapping=mapping, columns=columns,
                               source_name=raw.name)
        checked = check(raw, cmap, dayfirst=dayfirst, returns=returns, duplicates=duplicates,
                        currency=currency, as_of=as_of)
        report = checked.report
        report.policy = policy
        if policy == "strict" and not report.ok:
            raise InvalidDataError(
                Note("error.validation_failed", name=raw.name, n_errors=len(report.errors),
                     n_rejected=report.n_rejected, n_rows=report.n_rows, summary=report.summary()),
                report=report, hint=Note("hint.validation_failed"))
        if report.n_rejected:
            path = Path(quarantine_path) if quarantine_path else _default_quarantine(raw)
            write_quarantine(checked, path)
            report.quarantine_path = str(path)
            log.warning("%s: %d rows written to %s", raw.name, report.n_rejected, path)
        canonical = _canonical(checked)
        if spec.name == "transactions" and _has_negatives(report):
            canonical, issues = net_returns(canonical, checked.returns, file=raw.name,
                                            has_order_id="order_id" in cmap.columns)
            report.issues.extend(issues)
        canonical = materialize(canonical, "canonical")
        drop_materialized(checked.table)
    finally:
        raw.close()
    return IngestResult(canonical, report, cmap)


def validate(source: Any, table: str = "transactions", **options: Any) -> ValidationReport:
    """The validation report of ``source`` without loading it or writing anything.

    Takes the options of :func:`ingest` (``policy`` and ``quarantine_path`` are ignored).

    >>> from importlib.resources import files
    >>> r = validate(files("cvm.datasets") / "data" / "cdnow_sample.csv.gz", as_of="2000-01-01")
    >>> r.ok, r.issue("duplicate_row").severity
    (True, 'warning')
    """
    options.pop("policy", None)
    options.pop("quarantine_path", None)
    keys = ("sheet", "con", "source_table", "query")
    read_opts = {k: options.pop(k) for k in keys if k in options}
    map_opts = {k: options.pop(k) for k in ("mapping", "columns") if k in options}
    spec = table_spec(table)
    raw = read_source(source, sheet=read_opts.get("sheet"), table_name=read_opts.get(
        "source_table"), query=read_opts.get("query"), con=read_opts.get("con"))
    try:
        cmap = resolve_mapping(raw.columns, spec, source_name=raw.name, **map_opts)
        checked = check(raw, cmap, **options)
        if spec.name == "transactions" and _has_negatives(checked.report):
            valid = _canonical(checked)
            _, issues = net_returns(valid, checked.returns, file=raw.name,
                                    has_order_id="order_id" in cmap.columns)
            checked.report.issues.extend(issues)
        return checked.report
    finally:
        raw.close()


def _has_negatives(report: ValidationReport) -> bool:
    issue = report.issue("negative_amount")
    return issue is not None and issue.severity != "error"


def _default_quarantine(raw: Any) -> Path:
    if raw.path is None:
        raise ConfigError(
            f"{raw.name}: rows were rejected but there is no file to put the quarantine file "
            f"beside", hint="pass quarantine_path")
    stem = raw.path.name
    for suffix in (".gz", ".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".duckdb"):
        stem = stem.removesuffix(suffix)
    return raw.path.with_name(f"{stem}.quarantine.csv")


def write_quarantine(checked: Checked, path: str | Path) -> Path:
    """Write the rejected rows (``source_row``, ``reasons``, then the raw columns) as CSV."""
    t = checked.table
    raw_cols = [c for c in checked.mapping.headers]
    bad = t.filter(t[REJECT]).order_by(SOURCE_ROW)
    reasons = bad[REASONS].re_replace(";$", "")
    out = bad.select(SOURCE_ROW, reasons.name("reasons"),
                     *[bad[c] for c in raw_cols if c not in (SOURCE_ROW, "reasons")])
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        import pyarrow.csv as pacsv

        writer = None
        for batch in out.to_pyarrow_batches():
            if writer is None:
                writer = pacsv.CSVWriter(tmp, batch.schema)
            writer.write_batch(batch)
        if writer is None:  # pragma: no cover - only called with rejected rows
            pacsv.write_csv(out.to_pyarrow(), tmp)
        else:
            writer.close()
        tmp.replace(path)
    except OSError as exc:
        raise InputFileError(f"cannot write the quarantine file {path}: {exc}") from exc
    return path


def _canonical(checked: Checked) -> ir.Table:
    """Valid rows with CVM names and types, in spec order, then ``source_row``."""
    t = checked.table
    t = t.filter(~t[REJECT])
    spec, cmap = checked.spec, checked.mapping
    cols: dict[str, ir.Value] = {}
    for cs in spec.columns:
        if cs.name not in cmap.columns:
            continue
        v = t[f"__v_{cs.name}"]
        cols[cs.name] = v.cast(cs.dtype)
        if spec.name == "transactions" and cs.name == "date":
            cols["timestamp"] = t[f"__v_date{P.TS}"].cast("timestamp")
    for header in cmap.custom:
        name = header if header not in cols and header != SOURCE_ROW else f"custom_{header}"
        cols[name] = P.as_text(t[header])
    cols[SOURCE_ROW] = t[SOURCE_ROW].cast("int64")
    return t.select(**cols)
