"""Use case: the whole analysis, from a transaction log to the customer value table.

:func:`analyze` validates the inputs, builds the summaries in the data layer, fits the
candidate purchase models on a calibration period and chooses one by holdout error (or takes
the user's choice), refits it on all the data with the Gamma-Gamma spend model, and computes
the value layer: the customer value table, lifecycle stages and their flows, decline
warnings, base health, cross-sell suggestions and the strategy playbook with its campaign
lists. :meth:`Analysis.write` puts it all in one folder, atomically: the results are written
to a temporary folder beside it and moved into place only when complete, so a failed run
leaves nothing behind.

Files written (the command: ``cvm analyze`` in ``docs/cli.md``): ``customers.parquet`` and ``customers.csv`` (the
customer value table with each customer's action and first cross-sell suggestion),
``customers.xlsx`` (customers, tiers, pyramid, segments, lifecycle, cohorts, campaigns,
model), ``report.html`` (the bilingual report with charts, :mod:`cvm.service.report`),
``model.json`` (fitted models with parameters, intervals and diagnostics) and ``run.json``
(inputs with checksums, settings, versions, timings and notes).

>>> from cvm.datasets import dataset_path
>>> analysis = analyze(dataset_path("cdnow_sample"), holdout="1997-09-30")
>>> analysis.purchase_model.name, len(analysis.table)
('pnbd', 2357)
>>> analysis.observation_end, analysis.calibration_end
(datetime.date(1998, 6, 30), datetime.date(1997, 9, 30))
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import platform
import shutil
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from cvm import __version__
from cvm.data import summaries
from cvm.data.densify import densify_panel
from cvm.data.export import EXCEL_MAX_ROWS, _umask, write_excel_sheets, write_table
from cvm.data.timeunit import TimeUnit
from cvm.errors import ConfigError, InvalidDataError, OutputExistsError
from cvm.labels import TERMS, Note
from cvm.models.validation import conditional_expectations, tracking
from cvm.service.fit import PURCHASE_MODELS, fit_summary
from cvm.service.summarise import IngestOptions, Progress, _silent, validate_file
from cvm.value import crosssell, health, lifecycle, playbook
from cvm.value.config import ValueConfig, load_config
from cvm.value.table import CustomerValue, customer_value

log = logging.getLogger(__name__)

__all__ = ["Analysis", "INPUT_TABLES", "analyze"]

INPUT_TABLES = ("transactions", "customers", "marketing_costs", "referrals", "surveys")
"""The tables :func:`analyze` reads; only ``transactions`` is required."""
PERIODS = ("month", "quarter", "year")
UNIT = TimeUnit.WEEK  # the clock of the purchase models
MIN_CALIBRATION_SHARE = 2.0  # auto holdout: the calibration period must be twice the holdout
EXCEL_CUSTOMER_COLUMNS = (
    "customer_id", "first_purchase", "last_purchase", "n_purchases", "revenue", "gross_margin",
    "acquisition_channel", "acquisition_cost", "p_alive", "expected_spend", "forecast_margin_total",
    "clv", "clv_net", "realized_value", "potential_value", "total_value", "value_matrix", "pyramid",
    "rfm_segment", "loyalty_profit", "lifecycle_stage", "score_five_factor", "at_risk",
    "value_at_risk", "negative_reason", "action", "relationship", "priority", "cross_sell_item",
)
"""The columns of the ``customers`` sheet of ``customers.xlsx`` (category columns as labels in
the report language); ``customers.parquet`` and ``customers.csv`` hold every column."""


@dataclass
class Analysis:
    """Everything :func:`analyze` computed; :meth:`write` saves it to a folder."""

    table: pd.DataFrame
    """The customer value table, one row per customer, with ``action`` and ``cross_sell_*``."""
    value: CustomerValue
    lifecycle: lifecycle.Lifecycle | None
    transitions: pd.DataFrame
    stage_distribution: pd.DataFrame
    early_warning: pd.DataFrame
    retention: health.RetentionTables | None
    inter_purchase: health.InterPurchaseTime
    referrals: health.ReferralStats | None
    satisfaction: health.SatisfactionTables | None
    cross_sell: crosssell.CrossSell | None
    cross_sell_check: crosssell.CrossSellEvaluation | None
    actions: pd.DataFrame
    campaigns: dict[str, pd.DataFrame]
    revenue_by_period: pd.DataFrame
    """Revenue of the whole base per forecast period (``period_start``, ``revenue``), oldest first."""
    purchase_model: Any
    spend_model: Any
    comparison: Any
    diagnostics: dict[str, pd.DataFrame]
    observation_end: dt.date
    calibration_end: dt.date | None
    config: ValueConfig
    run: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    # -- headline -----------------------------------------------------------------------------

    def headline(self) -> dict[str, Any]:
        """The numbers the terminal summary shows."""
        table = self.table
        chosen = None
        if self.comparison is not None:
            chosen = _chosen(self.comparison)
        return {
            "customers": int(len(table)),
            "customer_equity": float(self.value.customer_equity),
            "top20_share": _top_share(self.value.concentration.pareto, 0.2),
            "tiers": table["value_matrix"].value_counts(sort=False).to_dict(),
            "stages": table["lifecycle_stage"].value_counts(sort=False).to_dict()
            if "lifecycle_stage" in table else {},
            "model": self.purchase_model.name,
            "model_title": getattr(self.purchase_model, "title", self.purchase_model.name),
            "holdout_rmse": None if chosen is None or chosen.purchases is None else float(chosen.purchases.rmse),
            "holdout_aggregate_error": None if chosen is None or chosen.purchases is None
            else float(chosen.purchases.aggregate_error),
        }

    def report(self, lang: str = "en") -> str:
        """The HTML report (``report.html``) in ``lang`` (en or zh): one self-contained page."""
        from cvm.service.report import analysis_report

        return analysis_report(self, lang)

    # -- writing ------------------------------------------------------------------------------

    def write(self, output_dir: str | Path, *, overwrite: bool = False, lang: str = "en",
              progress: Progress = _silent) -> list[str]:
        """Write every result file into ``output_dir`` atomically; return the file names.

        ``lang`` (en or zh) is the language of ``report.html`` and of the labels in ``customers.xlsx``."""
        output_dir = Path(output_dir)
        if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())) and not overwrite:
            raise OutputExistsError(Note("error.output_exists", path=output_dir), hint=Note("hint.output_exists"))
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
        try:
            files = self._write_files(staging, lang, progress)
            if output_dir.exists():
                shutil.rmtree(output_dir) if output_dir.is_dir() else output_dir.unlink()
            staging.chmod(0o777 & ~_umask())  # mkdtemp makes the folder private
            staging.rename(output_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return files

    def _write_files(self, folder: Path, lang: str, progress: Progress) -> list[str]:
        files = ["customers.parquet", "customers.csv", "customers.xlsx", "report.html"]
        sheets = self.excel_sheets(lang)
        progress(Note("step.write_tables"))
        # the tables are written by Arrow and zlib, which release the GIL, while the report is
        # drawn here; the workbook's creation time is the observation end, so reruns give
        # identical bytes
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="cvm-write") as pool:
            workbook = pool.submit(write_excel_sheets, sheets, folder / "customers.xlsx",
                                   created=dt.datetime.combine(self.observation_end, dt.time()))
            tables = pool.submit(self._write_tables, folder, files[:2])
            (folder / "report.html").write_text(self.report(lang), encoding="utf-8")
            tables.result()
            workbook.result()
        progress(Note("step.write_model"))
        (folder / "model.json").write_text(
            json.dumps(self.model_document(), ensure_ascii=False, indent=2, default=_json_default) + "\n",
            encoding="utf-8")
        files.append("model.json")
        for name, report in self.run.get("_validation", {}).items():
            (folder / f"validation_{name}.json").write_text(report, encoding="utf-8")
            files.append(f"validation_{name}.json")
        run = {k: v for k, v in self.run.items() if not k.startswith("_")}
        run["files"] = sorted(files + ["run.json"])
        (folder / "run.json").write_text(
            json.dumps(run, ensure_ascii=False, indent=2, default=_json_default) + "\n", encoding="utf-8")
        files.append("run.json")
        return sorted(files)

    def _write_tables(self, folder: Path, names: list[str]) -> None:
        arrow = _export_table(self.table)
        for name in names:
            write_table(arrow, folder / name)

    def excel_sheets(self, lang: str = "en") -> dict[str, pd.DataFrame]:
        """The sheets of ``customers.xlsx``, in order (see :data:`EXCEL_CUSTOMER_COLUMNS`)."""
        suffix = "_zh" if lang == "zh" else "_en"
        columns = {}
        for column in EXCEL_CUSTOMER_COLUMNS:
            if f"{column}{suffix}" in self.table.columns:
                columns[column] = self.table[f"{column}{suffix}"]
            elif column in self.table.columns:
                columns[column] = self.table[column]
        table = pd.DataFrame(columns)  # decoded with every other sheet below
        sheets: dict[str, pd.DataFrame] = {}
        sheets["customers"] = _within_excel(table, "customers")
        sheets["tiers"] = _equity(self.value.equity, "value_matrix")
        sheets["pyramid"] = self.value.pyramid
        sheets["segments"] = self.value.equity
        sheets["lifecycle"] = self.stage_distribution.reset_index()
        if self.retention is not None:
            sheets["cohorts"] = self.retention.cohorts
        sheets["campaigns"] = _within_excel(self.campaign_sheet(lang), "campaign lists")
        sheets["model"] = _parameters(self.purchase_model, self.spend_model)
        return {name: _for_export(frame) for name, frame in sheets.items()}

    def campaign_sheet(self, lang: str = "en") -> pd.DataFrame:
        """Every campaign list, one after the other, best first within each: the action (key
        and name in ``lang``), rank, customer, expected value of acting, style and the rule
        that chose the action. The customer's other columns are on the customers sheet."""
        name = f"action_{'zh' if lang == 'zh' else 'en'}"
        columns = ["action", name, "rank", "customer_id", "expected_value", "style", "rule"]
        lists = [members.assign(action=action)[[c for c in columns if c in members.columns or c == "action"]]
                 for action, members in self.campaigns.items() if len(members)]
        if not lists:
            return pd.DataFrame({c: pd.Series(dtype="string") for c in ("action", "customer_id")})
        return pd.concat(lists, ignore_index=True).rename(columns={name: "action_name"})

    def model_document(self) -> dict[str, Any]:
        """``model.json``: fitted models, the holdout comparison and the diagnostics."""
        return {
            "cvm_version": __version__,
            "unit": UNIT.value,
            "calibration_end": None if self.calibration_end is None else self.calibration_end.isoformat(),
            "observation_end": self.observation_end.isoformat(),
            "purchase_model": self.purchase_model.to_dict(),
            "spend_model": None if self.spend_model is None else self.spend_model.to_dict(),
            "parameters": _parameters(self.purchase_model, self.spend_model).to_dict("records"),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "diagnostics": {name: frame.to_dict("records") for name, frame in self.diagnostics.items()},
        }


# --------------------------------------------------------------------------------------------
# helpers


def _top_share(pareto: pd.DataFrame, share: float) -> float | None:
    """The value share of the top ``share`` of customers from the Pareto table (None when the
    configuration leaves that share out)."""
    row = pareto[np.isclose(pareto["top_share"], share)]
    return None if row.empty else float(row["value_share"].iloc[0])


def _within_excel(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """``frame``, or a one-line note pointing to the Parquet and CSV files when it has more
    rows than an Excel sheet holds."""
    if len(frame) <= EXCEL_MAX_ROWS:
        return frame
    return pd.DataFrame({"note": [f"the {len(frame):,} rows of {what} do not fit in one Excel sheet "
                                  f"({EXCEL_MAX_ROWS:,} rows): see customers.parquet or customers.csv"]})


def _equity(equity: pd.DataFrame, grouping: str) -> pd.DataFrame:
    if "grouping" in equity.columns:
        return equity[equity["grouping"] == grouping].reset_index(drop=True)
    return equity


def _parameters(purchase: Any, spend: Any) -> pd.DataFrame:
    rows = []
    for model in (purchase, spend):
        if model is None:
            continue
        intervals = getattr(model, "confidence_intervals_", {}) or {}
        errors = getattr(model, "standard_errors_", {}) or {}
        for name, value in model.params_.items():
            low, high = intervals.get(name, (np.nan, np.nan))
            rows.append({"model": model.name, "parameter": name, "estimate": float(value),
                         "standard_error": float(errors.get(name, np.nan)),
                         "lower_95": float(low), "upper_95": float(high)})
    return pd.DataFrame(rows)


def _for_export(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as text, so every format writes them alike (decoded by Arrow: ten times
    faster than pandas' ``astype`` on a million rows). The other columns are shared, not copied."""
    out = frame.copy(deep=False)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            decoded = pa.array(out[column]).dictionary_decode().cast(pa.large_string())
            out[column] = pd.Series(pd.arrays.ArrowStringArray(decoded), index=out.index)
    return out


def _export_table(frame: pd.DataFrame) -> pa.Table:
    """``pa.Table.from_pandas(_for_export(frame))`` in a third of the time: the categoricals
    cross to Arrow as dictionaries and are decoded there, and the pandas metadata is that of
    the decoded frame (read off its empty head)."""
    raw = pa.Table.from_pandas(frame, preserve_index=False)
    columns = [c.cast(pa.large_string()) if pa.types.is_dictionary(c.type) else c for c in raw.columns]
    metadata = pa.Table.from_pandas(_for_export(frame.iloc[:0]), preserve_index=False).schema.metadata
    return pa.table(columns, names=raw.column_names).replace_schema_metadata(metadata)


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return str(value)


def _checksum(path: Any) -> str | None:
    """SHA-256 of an input file; of a ``spark:`` folder, of each file's relative path and
    checksum in path order (one file: that file's checksum); None for a URL or a table."""
    from cvm.data.readers import is_spark_address, spark_address_path, spark_files

    if is_spark_address(path):
        files = spark_files(path)
        if len(files) == 1:
            return _checksum(files[0])
        root = spark_address_path(path)
        digest = hashlib.sha256()
        for file in files:
            digest.update(f"{file.relative_to(root).as_posix()}\0{_checksum(file)}\n".encode())
        return digest.hexdigest()
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except (OSError, TypeError):
        return None  # a URL or a database table: nothing to checksum


class _Clock:
    """Per-step timings and progress messages."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._step: str | None = None
        self._start = 0.0

    def __call__(self, step: str) -> None:
        self.stop()
        self.progress(step)
        self._step, self._start = step, time.perf_counter()

    def stop(self) -> None:
        if self._step is not None:
            self.timings[str(self._step)] = round(time.perf_counter() - self._start, 3)
            self._step = None


def _settings(config: Any, period: str | None, horizon: int | None,
              discount_rate: float | None) -> ValueConfig:
    """The value configuration with the command-line overrides applied (and validated)."""
    base = load_config(config)
    data = base.model_dump()
    if period is not None:
        if period not in PERIODS:
            raise ConfigError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
        data["forecast"]["period"] = period
    if horizon is not None:
        data["forecast"]["periods"] = horizon
    if discount_rate is not None:
        data["clv"]["annual_discount_rate"] = discount_rate
    return load_config(data)


def _holdout_start(end: dt.date, first: dt.date, holdout: Any, config: ValueConfig,
                   notes: list[str]) -> dt.date | None:
    """The calibration end: the user's date, none, or (auto) the start of the last
    ``forecast.periods`` periods when the calibration period is at least twice as long."""
    if holdout is None or holdout == "none":
        return None
    if holdout != "auto":
        cal_end = summaries._as_date(holdout, "--holdout")
        if cal_end >= end:
            raise ConfigError(Note("error.holdout_after_end", date=cal_end, end=end),
                              hint=Note("hint.holdout_after_end"))
        if cal_end < first:
            raise ConfigError(Note("error.holdout_before_first", date=cal_end, first=first),
                              hint=Note("hint.holdout_before_first"))
        return cal_end
    periods = summaries.value_history_periods(end, config.forecast.period, config.forecast.periods)
    cal_end = periods[0][0] - dt.timedelta(days=1)
    if (cal_end - first).days < MIN_CALIBRATION_SHARE * (end - cal_end).days:
        notes.append(Note("note.holdout.too_short", first=first, end=end, periods=config.forecast.periods,
                          period=TERMS[f"unit.{TimeUnit.parse(config.forecast.period).value}"]))
        return None
    return cal_end


def _read_inputs(paths: Mapping[str, Any], options: Mapping[str, IngestOptions],
                 clock: _Clock) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    from cvm.data.connect import duckdb_connection

    # every file input lands here, so the tables can be joined; one thread, because DuckDB adds
    # floating-point amounts in a thread-dependent order, and reruns must give identical bytes
    con = duckdb_connection(threads=1)
    tables, inputs, reports = {}, {}, {}
    for name in INPUT_TABLES:
        source = paths.get(name)
        if source is None:
            continue
        clock(Note("step.reading", table=TERMS[f"step.table.{name}"]))
        result = validate_file(source, options[name], con=con)
        if name != "transactions" and "transactions" in tables:
            result = _on_backend_of(result, tables["transactions"].table)
        tables[name] = result
        inputs[name] = {"source": _source_label(source), "sha256": _checksum(source),
                        "rows": result.report.n_rows}
        reports[name] = json.dumps(result.report.to_dict(), ensure_ascii=False, indent=2,
                                   default=_json_default) + "\n"
    return tables, inputs, reports


def _source_label(source: Any) -> str:
    """How run.json names an input: a file path, a URL without its password, or a database
    table as ``backend:name``."""
    from cvm.data.connect import _redact

    if isinstance(source, ibis.expr.types.Table):
        backend = source._find_backend(use_default=True).name
        return f"{backend}:{getattr(source.op(), 'name', None) or 'expression'}"
    return _redact(str(source))


def _on_backend_of(result: Any, transactions: Any) -> Any:
    """``result`` with its table on the transactions' backend: a table from another source
    (a profile file beside a PostgreSQL log) travels as an in-memory table."""
    import dataclasses

    if result.table._find_backend(use_default=True) is transactions._find_backend(use_default=True):
        return result
    return dataclasses.replace(result, table=ibis.memtable(result.table.to_pyarrow()))


def _pandas(table: Any) -> pd.DataFrame:
    frame = table.to_pyarrow().to_pandas(types_mapper={pa.string(): pd.StringDtype(),
                                                       pa.large_string(): pd.StringDtype()}.get)
    return frame


def _executed_summaries(history: Any, rfm: Any, sparse_panel: Any, *, period: str,
                        observation_end: dt.date) -> tuple[pa.Table, pa.Table, pd.DataFrame]:
    """The value history, the RFM scores and the dense period panel, executed (the panel as a
    DataFrame: ids as categories, dates as datetime64). The engine gives the sparse panel; the
    zero rows of the dense one are written in memory, several times faster."""
    panel = densify_panel(sparse_panel.to_pyarrow(), period=period, observation_end=observation_end)
    return history.to_pyarrow(), rfm.to_pyarrow(), panel.to_pandas(date_as_object=False)


def _tracking_table(transactions: Any, model: Any, summary: pa.Table, end: dt.date) -> pd.DataFrame:
    """Weekly repeat purchases across the base: actual against the model, and cumulative."""
    days = transactions.filter(transactions.date <= end).select("customer_id", "date").distinct()
    first = days.group_by("customer_id").aggregate(first=days.date.min())
    start = first.first.min().to_pyarrow().as_py()
    if start is None:
        return pd.DataFrame(columns=["week", "week_start", "actual", "expected",
                                     "cumulative_actual", "cumulative_expected"])
    joined = days.join(first, "customer_id")
    repeat = joined.filter(joined.date > joined.first)
    week = (repeat.date.delta(ibis.date(start), unit="day") // 7).name("week")
    counts = repeat.group_by(week).aggregate(actual=repeat.count()).to_pandas()
    n_weeks = (end - start).days // 7 + 1
    actual = np.zeros(n_weeks)
    actual[counts["week"].to_numpy(dtype=int)] = counts["actual"].to_numpy(dtype=float)
    birth = (summary["T"].to_numpy().max() - summary["T"].to_numpy())
    # the summary's T is measured from each first purchase to the end; shift so that week 0 is `start`
    offset = ((end - start).days / 7.0) - summary["T"].to_numpy().max()
    track = tracking(model, birth + offset, np.arange(1, n_weeks + 1, dtype=float), actual=actual)
    return pd.DataFrame({
        "week": np.arange(1, n_weeks + 1),
        "week_start": [start + dt.timedelta(days=7 * k) for k in range(n_weeks)],
        "actual": actual, "expected": track.expected,
        "cumulative_actual": track.cumulative_actual, "cumulative_expected": track.cumulative_expected,
    })


def _chosen(comparison: Any) -> Any:
    """The chosen candidate of a model comparison (None if it is not listed)."""
    return next((c for c in comparison.candidates if c.name == comparison.chosen), None)


def _calibration_table(comparison: Any, calibration: pa.Table) -> pd.DataFrame:
    """Calibration vs holdout by calibration frequency, for the chosen model (fitted on calibration)."""
    chosen = _chosen(comparison)
    if chosen is None or chosen.model is None:
        return pd.DataFrame()
    expected = chosen.model.expected_purchases(calibration, calibration["duration_holdout"].to_numpy())
    rows = conditional_expectations(calibration["frequency"].to_numpy(),
                                    actual=calibration["frequency_holdout"].to_numpy(), expected=expected)
    return pd.DataFrame([{"frequency": r.frequency, "customers": r.customers, "actual_mean": r.actual_mean,
                          "expected_mean": r.expected_mean} for r in rows])


# --------------------------------------------------------------------------------------------
# the use case


def analyze(
    transactions: Any,
    *,
    customers: Any = None,
    marketing_costs: Any = None,
    referrals: Any = None,
    surveys: Any = None,
    mapping: str | Path | None = None,
    period: str | None = None,
    horizon: int | None = None,
    end: dt.date | str | None = None,
    holdout: dt.date | str | None = "auto",
    model: str = "auto",
    discount_rate: float | None = None,
    config: str | Path | Mapping[str, Any] | ValueConfig | None = None,
    playbook_file: str | Path | None = None,
    ingest_options: Mapping[str, Any] | None = None,
    progress: Progress = _silent,
) -> Analysis:
    """Run the whole analysis on a transaction log (and optional profile, cost, referral and
    survey files); see the module docstring. Nothing is written: call :meth:`Analysis.write`.

    ``period`` (month, quarter or year), ``horizon`` (periods to forecast) and
    ``discount_rate`` override the configuration's ``forecast`` and ``clv`` settings.
    ``end`` defaults to the last transaction date. ``holdout`` is ``"auto"`` (the last
    ``horizon`` periods, when the data is long enough), a date (the calibration end) or
    ``None``. ``model`` is ``auto`` (lowest holdout error) or one of ``bgnbd``, ``pnbd``,
    ``mbgnbd``. ``ingest_options`` are passed to every :class:`IngestOptions` (policy,
    returns, duplicates, currency, as_of …).
    """
    started = time.perf_counter()
    clock = _Clock(progress)
    notes: list[str] = []
    settings = _settings(config, period, horizon, discount_rate)
    if model != "auto" and model not in PURCHASE_MODELS:
        raise ConfigError(f"unknown purchase model {model!r}",
                          hint=f"use auto or one of: {', '.join(PURCHASE_MODELS)}")
    rules = playbook.load_playbook(playbook_file)
    paths = {"transactions": transactions, "customers": customers, "marketing_costs": marketing_costs,
             "referrals": referrals, "surveys": surveys}
    extra = dict(ingest_options or {})
    options = {name: IngestOptions(table=name, mapping=mapping, **extra) for name in INPUT_TABLES}
    tables, inputs, reports = _read_inputs(paths, options, clock)
    tx = tables["transactions"].table
    prof = tables["customers"].table if "customers" in tables else None
    costs = tables["marketing_costs"].table if "marketing_costs" in tables else None

    clock(Note("step.observation_period"))
    bounds = tx.aggregate(first=tx.date.min(), last=tx.date.max()).to_pyarrow().to_pylist()[0]
    if bounds["first"] is None:
        raise InvalidDataError(Note("error.no_transactions", name=Path(str(transactions)).name),
                               hint=Note("hint.check_mapping"))
    first_day = summaries._as_date(bounds["first"], "first date")
    last_day = summaries._as_date(bounds["last"], "last date")
    observation_end = last_day if end is None else summaries._as_date(end, "--end")
    if observation_end < first_day:
        raise ConfigError(Note("error.end_before_first", date=observation_end, first=first_day),
                          hint=Note("hint.end_before_first"))
    cal_end = _holdout_start(observation_end, first_day, holdout, settings, notes)

    clock(Note("step.summaries"))
    summary = summaries.btyd_summary(tx, observation_end=observation_end, unit=UNIT).to_pyarrow()
    calibration = None
    if cal_end is not None:
        calibration = summaries.calibration_holdout(
            tx, calibration_end=cal_end, holdout_end=observation_end, unit=UNIT).to_pyarrow()
        if calibration.num_rows == 0:
            raise InvalidDataError(Note("error.no_calibration_buyers", date=cal_end),
                                   hint=Note("hint.no_calibration_buyers"))
    # the other summaries run on the engine (one query at a time, as always) while the models
    # are fitted here; the expressions are built here, so any warning is raised in this thread
    history = summaries.value_history(
        tx, observation_end=observation_end, period=settings.forecast.period,
        periods=settings.forecast.periods, marketing_costs=costs, customers=prof)
    rfm = summaries.rfm_scores(tx, observation_end=observation_end)
    sparse_panel = summaries.period_panel(tx, period=settings.forecast.period, observation_end=observation_end,
                                          marketing_costs=costs, customers=prof)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cvm-summaries") as engine:
        executed = engine.submit(_executed_summaries, history, rfm, sparse_panel,
                                 period=settings.forecast.period, observation_end=observation_end)

        clock(Note("step.fitting"))
        purchase, spend, comparison, fit_notes = fit_summary(
            calibration if calibration is not None else summary, model=model,
            holdout=calibration is not None, refit_on=summary if calibration is not None else None)
        notes += fit_notes
        history, rfm, panel_frame = executed.result()

    clock(Note("step.value"))
    profile_frame = _pandas(prof) if prof is not None else None
    referral_frame = _pandas(tables["referrals"].table) if "referrals" in tables else None
    value = customer_value(
        history, summary, model=purchase, observation_end=observation_end, unit=UNIT,
        spend_model=spend, config=settings, customers=profile_frame, referrals=referral_frame,
        rfm=rfm, panel=panel_frame, has_marketing_costs=costs is not None)
    notes += value.notes
    table = value.table

    clock(Note("step.lifecycle"))
    revenue_by_period = (panel_frame.groupby("period_start", as_index=False, sort=True)["revenue"].sum()
                         if len(panel_frame) else pd.DataFrame({"period_start": [], "revenue": []}))
    revenue_by_period["period_start"] = [start.date() for start in pd.to_datetime(revenue_by_period["period_start"])]
    stages = value.lifecycle  # customer_value staged every period from the same panel
    flows = lifecycle.transitions(stages.history)
    distribution = lifecycle.stage_distribution(stages.history)
    survey_frame = _pandas(tables["surveys"].table) if "surveys" in tables else None
    recent_since = value.history_periods[-1][0] if value.history_periods else None
    warned = lifecycle.early_warning(table, settings.lifecycle, min_drop=settings.risk.min_drop,
                                     surveys=survey_frame, recent_since=recent_since)

    clock(Note("step.health"))
    retention = health.retention(panel_frame, settings.forecast.period) if len(panel_frame) else None
    inter_purchase = health.inter_purchase_time(summary.to_pandas(), UNIT)
    referral_stats = (health.referral_stats(referral_frame, table[["customer_id"]])
                      if referral_frame is not None else None)
    satisfaction = None
    if survey_frame is not None:
        segments = table[["customer_id", "value_matrix"] + (["lifecycle_stage"] if "lifecycle_stage" in table else [])]
        satisfaction = health.satisfaction(survey_frame, segments, settings.forecast.period)

    cross, cross_check = None, None
    if settings.cross_sell.item in tx.columns:
        clock(Note("step.cross_sell"))
        cross = crosssell.cross_sell(tx, observation_end=observation_end, settings=settings.cross_sell)
        notes += cross.notes
        if cal_end is not None:
            cross_check = crosssell.evaluate_cross_sell(
                tx, calibration_end=cal_end, observation_end=observation_end, settings=settings.cross_sell)
            notes += cross_check.notes
    else:
        notes.append(Note("note.cross_sell.no_item_column", item=settings.cross_sell.item))

    clock(Note("step.playbook"))
    actions = playbook.assign_actions(table, rules)
    campaigns = playbook.campaign_lists(table, actions)
    table = _with_actions_and_suggestions(table, actions, cross)

    clock(Note("step.diagnostics"))
    diagnostics: dict[str, pd.DataFrame] = {
        "parameters": _parameters(purchase, spend),
        "tracking": _tracking_table(tx, purchase, summary, observation_end),
    }
    if comparison is not None and calibration is not None:
        diagnostics["calibration_vs_holdout"] = _calibration_table(comparison, calibration)
    clock.stop()

    run = {
        "cvm_version": __version__,
        "inputs": inputs,
        "settings": {
            "observation_end": observation_end.isoformat(),
            "calibration_end": None if cal_end is None else cal_end.isoformat(),
            "holdout": str(holdout), "model": model, "model_chosen": purchase.name,
            "unit": UNIT.value, "mapping": None if mapping is None else str(mapping),
            "playbook": None if playbook_file is None else str(playbook_file),
            "ingest": {k: str(v) for k, v in extra.items()},
        },
        "config": settings.model_dump(mode="json"),
        "versions": _versions(),
        "timings": {**clock.timings, "total": round(time.perf_counter() - started, 3)},
        "notes": list(dict.fromkeys(notes)),
        "_validation": reports,
    }
    return Analysis(
        table=table, value=value, lifecycle=stages, transitions=flows, stage_distribution=distribution,
        early_warning=warned, retention=retention, inter_purchase=inter_purchase,
        referrals=referral_stats, satisfaction=satisfaction, cross_sell=cross, cross_sell_check=cross_check,
        actions=actions, campaigns=campaigns, revenue_by_period=revenue_by_period, purchase_model=purchase, spend_model=spend,
        comparison=comparison, diagnostics=diagnostics, observation_end=observation_end,
        calibration_end=cal_end, config=settings, run=run, notes=list(dict.fromkeys(notes)),
    )


def _with_actions_and_suggestions(table: pd.DataFrame, actions: pd.DataFrame,
                                  cross: crosssell.CrossSell | None) -> pd.DataFrame:
    """The value table with the playbook's action columns and the first cross-sell suggestion."""
    out = table.copy(deep=False)  # new columns only: the table's own are shared, not copied
    for column in actions.columns:
        if column != "customer_id" and column not in out.columns:
            out[column] = actions[column].array  # by position, keeping categories (no object array)
    if cross is not None:
        first = cross.suggestions[cross.suggestions["rank"] == 1].set_index("customer_id")
        ids = out["customer_id"].astype(str)
        out["cross_sell_item"] = pd.array(ids.map(first["item"]).to_numpy(), dtype="string")
        out["cross_sell_source"] = pd.array(ids.map(first["source"]).to_numpy(), dtype="string")
    return out


def _versions() -> dict[str, str]:
    import duckdb
    import scipy

    return {"cvm": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "pyarrow": pa.__version__, "scipy": scipy.__version__,
            "ibis": ibis.__version__, "duckdb": duckdb.__version__}

