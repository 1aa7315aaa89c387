"""The ``cvm`` command line: a thin layer over :mod:`cvm.service`.

Exit codes: 0 success; 1 internal error; 2 wrong option, mapping or setting; 3 the data
broke validation rules; 4 a file is missing, unreadable or in the way; 5 a database or
engine is unavailable. ``--debug`` shows the traceback of any error.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cvm import __version__
from cvm.errors import CVMError, ConfigError, OutputExistsError
from cvm.data.mapping import parse_column_options
from cvm.labels import Note, in_language, label

app = typer.Typer(
    name="cvm",
    help="CVM: customer value management. Validate and summarise customer transaction data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
datasets_app = typer.Typer(help="List and export the bundled and generated sample datasets.",
                           no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class _State:
    debug: bool = False
    lang: str = "en"


STATE = _State()


class Lang(str, Enum):
    en = "en"
    zh = "zh"


class Policy(str, Enum):
    strict = "strict"
    quarantine = "quarantine"


class Returns(str, Enum):
    auto = "auto"
    net_order = "net-order"
    net_day = "net-day"
    keep = "keep"
    reject = "reject"


class Duplicates(str, Enum):
    keep = "keep"
    reject = "reject"


class Kind(str, Enum):
    btyd = "btyd"
    holdout = "holdout"
    panel = "panel"
    rfm = "rfm"
    cohort = "cohort"


class PurchaseModelName(str, Enum):
    auto = "auto"
    bgnbd = "bgnbd"
    pnbd = "pnbd"
    mbgnbd = "mbgnbd"


class Unit(str, Enum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class ValuePeriod(str, Enum):
    month = "month"
    quarter = "quarter"
    year = "year"


class CountBy(str, Enum):
    day = "day"
    order = "order"


class ExportFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"


def _version(value: bool) -> None:
    if value:
        console.print(f"cvm {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of labels: en or zh.")] = Lang.en,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """CVM: customer value management. Validate and summarise customer transaction data."""
    STATE.debug = debug
    STATE.lang = lang.value
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


# --- shared options --------------------------------------------------------------------------

TableOpt = Annotated[str, typer.Option("--table", help="Which CVM table the file holds: transactions, customers, marketing_costs, referrals or surveys.")]
MappingOpt = Annotated[Path | None, typer.Option("--mapping", help="YAML file mapping your headers to CVM columns.", exists=False)]
ColumnOpt = Annotated[list[str] | None, typer.Option("--column", "-c", help="Map one column: CVM_COLUMN=YOUR_HEADER (repeatable), e.g. -c customer_id=客户编号.")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="Excel sheet to read: name or 1-based number (default: the first).")]
SourceTableOpt = Annotated[str | None, typer.Option("--source-table", help="Table to read when the input is a DuckDB file or a postgresql:// URL.")]
QueryOpt = Annotated[str | None, typer.Option("--query", help="SQL query to read when the input is a postgresql:// URL.")]
DayFirstOpt = Annotated[bool | None, typer.Option("--dayfirst/--monthfirst", help="Read 03/05/2024 as 3 May (--dayfirst) or 5 March (--monthfirst). Default: inferred from the data; ambiguous data is an error.", show_default=False)]
PolicyOpt = Annotated[Policy, typer.Option("--policy", help="strict: reject the file on any error and write nothing. quarantine: load the valid rows and write the bad ones, with reasons, to a quarantine file.")]
ReturnsOpt = Annotated[Returns, typer.Option("--returns", help="Negative amounts (returns): net against their order (net-order) or day (net-day), keep as rows, or reject. auto = net-order when orders have ids, else net-day.")]
DuplicatesOpt = Annotated[Duplicates, typer.Option("--duplicates", help="Exact duplicate rows: keep them (reported as a warning) or reject them as errors.")]
CurrencyOpt = Annotated[str | None, typer.Option("--currency", help="The one currency to accept (e.g. CNY); rows in others are errors. Default: the file's dominant currency.")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", metavar="DATE", help="Dates after this day are errors (future dates). Default: today.")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Where to write the validation report as JSON (default: <input>.validation.json in the current folder).")]
QuarantineOpt = Annotated[Path | None, typer.Option("--quarantine", help="Where quarantined rows go under --policy quarantine (default: <input>.quarantine.csv in the current folder).")]


def _parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(Note("error.not_a_date", option=option, value=value), hint=Note("hint.date_format")) from None


def _sheet(value: str | None) -> str | int | None:
    if value is not None and value.isdigit():
        return int(value) - 1
    return value


def _source_stem(source: str) -> str:
    from cvm.data.readers import SPARK_PREFIX, is_spark_address

    if is_spark_address(source) and "://" not in source[len(SPARK_PREFIX):]:
        source = source[len(SPARK_PREFIX):]
    if "://" in source:
        return "input"
    name = Path(source).name
    for suffix in (".gz", ".csv", ".xlsx", ".parquet", ".duckdb", ".txt", ".tsv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or "input"


def _ingest_options(**kw: Any) -> Any:
    from cvm.service.summarise import IngestOptions

    source = kw.pop("source")
    report = kw.pop("report")
    quarantine = kw.pop("quarantine")
    stem = _source_stem(source)
    report_path = report or Path(f"{stem}.validation.json")
    quarantine_path = quarantine or Path(f"{stem}.quarantine.csv")
    options = IngestOptions(
        table=kw["table"],
        mapping=kw["mapping"],
        columns=parse_column_options(kw["column"] or []),
        sheet=_sheet(kw["sheet"]),
        source_table=kw["source_table"],
        query=kw["query"],
        dayfirst=kw["dayfirst"],
        policy=kw["policy"].value,
        returns=kw["returns"].value,
        duplicates=kw["duplicates"].value,
        currency=kw["currency"],
        as_of=_parse_date(kw["as_of"], "--as-of"),
        quarantine_path=quarantine_path,
    )
    return options, report_path


class _reporting_failures:
    """On a validation failure, stop the progress display and print the report before exiting."""

    def __init__(self, steps: "_Steps", report_path: Path) -> None:
        self.steps, self.report_path = steps, report_path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        report = getattr(exc, "report", None)
        if isinstance(exc, CVMError) and report is not None:
            self.steps.stop()
            render_report(report)
            if self.report_path is not None:
                console.print(_say("cli.report_written", path=self.report_path), soft_wrap=True)
        return False


class _Steps:
    """A Rich progress display of named steps, used as the services' ``progress`` callback."""

    def __init__(self) -> None:
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=err_console, transient=True,
        )
        self._task: Any = None

    def __enter__(self) -> "_Steps":
        self._progress.__enter__()
        self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def stop(self) -> None:
        self._progress.stop()

    def __call__(self, step: str) -> None:
        self._progress.update(self._task, description=escape(in_language(step, STATE.lang)))
        if STATE.debug:
            err_console.log(step)


# --- rendering ---------------------------------------------------------------------------------

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _say(key: str, **values: Any) -> str:
    """``label(key)`` in the session's language, filled with ``values`` and escaped for Rich."""
    return escape(label(key, STATE.lang).format(**values))


def _short(value: Any, width: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"


def render_report(report: Any) -> None:
    """Print a validation report as a Rich table."""
    lang = STATE.lang
    data = report.to_dict()
    title = _say("cli.rows_in_file", file=data.get("file", ""), n=data.get("n_rows", 0))
    issues = data.get("issues", [])
    if not issues:
        console.print(f"[green]✔[/green] {_say('cli.no_problems', title=title)}")
        return
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("#", overflow="fold", justify="right")
    for name in ("severity", "rule", "column", "rows", "first_rows"):
        table.add_column(label(f"cli.issue.{name}", lang), overflow="fold",
                         justify="right" if name == "rows" else "left")
    for n, issue in enumerate(issues, start=1):
        sev = issue.get("severity", "")
        rows = issue.get("rows") or []
        row_text = ", ".join(str(r) for r in rows[:5]) + (" …" if len(rows) > 5 else "")
        column = issue.get("column") or ""
        cvm_column = issue.get("cvm_column")
        if cvm_column and cvm_column != column:
            column = f"{column} → {cvm_column}" if column else cvm_column
        table.add_row(
            str(n),
            f"[{_SEVERITY_STYLE.get(sev, '')}]{label('severity.' + sev, lang)}[/]",
            label("rule." + issue.get("rule", ""), lang),
            column,
            f"{issue.get('count', 0):,}",
            row_text,
        )
    console.print(table)
    for n, issue in enumerate(issues, start=1):
        message = issue.get("message_zh") if lang == "zh" and issue.get("message_zh") else issue.get("message", "")
        console.print(f"[bold]{n}.[/bold] {message}")
        examples = [_short(e) for e in (issue.get("examples") or [])[:3] if e not in (None, "")]
        example = label("cli.example", lang)
        if examples and example not in message:
            console.print(f"   {example} " + "; ".join(examples), soft_wrap=False)
    n_err = sum(1 for i in issues if i.get("severity") == "error")
    n_warn = sum(1 for i in issues if i.get("severity") == "warning")
    console.print(_say("cli.counts", errors=n_err, warnings=n_warn, valid=data.get("n_valid", 0),
                       rejected=data.get("n_rejected", 0)))


def render_mapping(result: Any) -> None:
    mapping = getattr(result, "mapping", None)
    describe = getattr(mapping, "describe", None)
    if describe is None:
        return
    table = Table(title=_say("cli.mapping.title"))
    for name in ("cvm_column", "your_header", "found_by"):
        table.add_column(label(f"cli.mapping.{name}", STATE.lang))
    for row in describe():
        table.add_row(*(str(x) for x in row))
    console.print(table)


def render_preview(path: Path, title: str, limit: int = 8) -> None:
    """Print the first rows of a result file that was just written."""
    from cvm.data.export import format_of

    if format_of(path) == "xlsx":
        import pandas as pd

        rows = pd.read_excel(path, nrows=limit).to_dict("records")
    else:
        import duckdb

        reader = "read_parquet" if format_of(path) == "parquet" else "read_csv"
        con = duckdb.connect()
        try:
            result = con.execute(f"SELECT * FROM {reader}(?) LIMIT {limit}", [str(path)])
            names = [d[0] for d in result.description]
            rows = [dict(zip(names, values)) for values in result.fetchall()]
        finally:
            con.close()
    if not rows:
        console.print(_say("cli.no_rows", title=title))
        return
    table = Table(title=title)
    for name in rows[0]:
        table.add_column(str(name), justify="right")
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


# --- commands ----------------------------------------------------------------------------------


@app.command()
def validate(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="Input: a .csv, .xlsx, .parquet or .duckdb file, a postgresql:// URL, or spark:PATH (a Parquet or CSV file or folder, run on Spark).", show_default=False)],
    table: TableOpt = "transactions",
    mapping: MappingOpt = None,
    column: ColumnOpt = None,
    sheet: SheetOpt = None,
    source_table: SourceTableOpt = None,
    query: QueryOpt = None,
    dayfirst: DayFirstOpt = None,
    policy: PolicyOpt = Policy.strict,
    returns: ReturnsOpt = Returns.auto,
    duplicates: DuplicatesOpt = Duplicates.keep,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    report: ReportOpt = None,
    quarantine: QuarantineOpt = None,
) -> None:
    """Check an input file against the CVM data model and print what is wrong.

    Writes the report as JSON. Exits with 3 when the file breaks a rule under --policy strict.
    """
    from cvm.service.summarise import validate_file

    options, report_path = _ingest_options(**locals())
    with _Steps() as steps, _reporting_failures(steps, report_path):
        result = validate_file(source, options, report_path=report_path, progress=steps)
    render_mapping(result)
    render_report(result.report)
    quarantined = getattr(result.report, "quarantine_path", None)
    if quarantined:
        console.print(_say("cli.quarantine_written", path=quarantined), soft_wrap=True)
    console.print(_say("cli.report_written", path=report_path), soft_wrap=True)


@app.command()
def summary(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="Transactions: a .csv, .xlsx, .parquet or .duckdb file, a postgresql:// URL, or spark:PATH (a Parquet or CSV file or folder, run on Spark).", show_default=False)],
    end: Annotated[str, typer.Option("--end", metavar="DATE", help="Observation end (YYYY-MM-DD); with --holdout-end, the end of calibration.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file: .parquet, .csv or .xlsx.", show_default=False)],
    kind: Annotated[Kind, typer.Option("--kind", help="btyd, holdout, panel, rfm or cohort.")] = Kind.btyd,
    unit: Annotated[Unit, typer.Option("--unit", help="Time unit of recency and T.")] = Unit.week,
    holdout_end: Annotated[str | None, typer.Option("--holdout-end", metavar="DATE", help="End of the holdout period: adds holdout purchases and value (calibration/holdout split).")] = None,
    period: Annotated[Unit, typer.Option("--period", help="Calendar period of the panel and cohort tables.")] = Unit.month,
    count_by: Annotated[CountBy, typer.Option("--count-by", help="Count purchases per day (the BTYD convention) or per order id.")] = CountBy.day,
    mapping: MappingOpt = None,
    column: ColumnOpt = None,
    sheet: SheetOpt = None,
    source_table: SourceTableOpt = None,
    query: QueryOpt = None,
    dayfirst: DayFirstOpt = None,
    policy: PolicyOpt = Policy.strict,
    returns: ReturnsOpt = Returns.auto,
    duplicates: DuplicatesOpt = Duplicates.keep,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    report: ReportOpt = None,
    quarantine: QuarantineOpt = None,
) -> None:
    """Validate a transaction log and write a per-customer summary.

    Example: cvm summary orders.csv --unit week --end 1997-09-30 --holdout-end 1998-06-30 -o split.parquet
    """
    from cvm.service.summarise import summarise_file

    params = dict(locals())
    params["table"] = "transactions"
    for key in ("end", "output", "kind", "unit", "holdout_end", "period", "count_by"):
        params.pop(key)
    options, report_path = _ingest_options(**params)
    end_date = _parse_date(end, "--end")
    holdout_date = _parse_date(holdout_end, "--holdout-end")
    with _Steps() as steps, _reporting_failures(steps, report_path):
        result, written = summarise_file(
            source, output, kind=kind.value, end=end_date, unit=unit.value,
            holdout_end=holdout_date, period=period.value, count_by=count_by.value,
            options=options, report_path=report_path, progress=steps,
        )
    n_warn = len(result.report.warnings)
    if n_warn:
        warned = f"[yellow]{_say('cli.warning_rules', n=n_warn)}[/yellow]"
        console.print(label("cli.see", STATE.lang).format(what=warned, path=escape(str(report_path))), soft_wrap=True)
    console.print(f"[green]✔[/green] {_say('cli.wrote', what=written)}", soft_wrap=True)
    render_preview(written, f"{label('summary.' + kind.value, STATE.lang)} (first rows)")


def render_model(model: Any) -> None:
    """Print a fitted model's parameters with standard errors and 95 % intervals."""
    lang = STATE.lang
    summary = model.summary()
    title = f"{summary.model}: {summary.n_customers:,} {label('column.customers', lang)}"
    table = Table(title=title)
    for key in ("model.parameter", "model.estimate", "model.standard_error", "model.interval"):
        table.add_column(label(key, lang), justify="left" if key == "model.parameter" else "right")
    for row in summary.rows:
        flag = f" ({label('model.boundary', lang)})" if row.at_boundary else ""
        table.add_row(
            row.name + flag, f"{row.estimate:.6g}", f"{row.standard_error:.4g}",
            f"{row.lower_95:.4g} – {row.upper_95:.4g}",
        )
    console.print(table)
    status = label("model.converged" if summary.converged else "model.not_converged", lang)
    console.print(
        f"{label('model.log_likelihood', lang)} {summary.log_likelihood:,.4f} · AIC {summary.aic:,.2f} · "
        f"BIC {summary.bic:,.2f} · {status}",
        soft_wrap=True,
    )


def render_comparison(comparison: Any) -> None:
    """Print every candidate's holdout errors and fit statistics, one column per model."""
    lang = STATE.lang
    table = Table(title=label("model.comparison", lang))
    table.add_column(label("model.measure", lang))
    for c in comparison.candidates:
        title = c.title + (" ✔" if c.name == comparison.chosen else "")
        table.add_column(title, justify="right")
    rows: list[tuple[str, Any]] = [
        (label("model.log_likelihood", lang), lambda c: f"{c.log_likelihood:,.2f}"),
        ("AIC", lambda c: f"{c.aic:,.1f}"),
        ("BIC", lambda c: f"{c.bic:,.1f}"),
        (label("model.holdout_mae", lang), lambda c: f"{c.purchases.mae:.4f}"),
        (label("model.holdout_rmse", lang), lambda c: f"{c.purchases.rmse:.4f}"),
        (label("model.holdout_total_error", lang),
         lambda c: f"{c.purchases.aggregate_error:+,.1f} ({c.purchases.aggregate_relative_error:+.1%})"),
    ]
    if any(c.revenue is not None for c in comparison.candidates):
        rows.append((label("model.holdout_revenue_rmse", lang),
                     lambda c: f"{c.revenue.rmse:,.2f}" if c.revenue is not None else "—"))
    for heading, cell in rows:
        table.add_row(heading, *(cell(c) if c.purchases is not None else "—" for c in comparison.candidates))
    console.print(table)
    for c in comparison.candidates:
        if c.purchases is None:
            console.print(f"[red]{escape(c.title)} could not be fitted:[/red] {escape(str(c.error))}", soft_wrap=True)


@app.command()
def fit(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="Transactions: a .csv, .xlsx, .parquet or .duckdb file, a postgresql:// URL, or spark:PATH (a Parquet or CSV file or folder, run on Spark).", show_default=False)],
    end: Annotated[str, typer.Option("--end", metavar="DATE", help="End of the calibration period (YYYY-MM-DD).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the fitted models (JSON).")] = Path("models.json"),
    holdout_end: Annotated[str | None, typer.Option("--holdout-end", metavar="DATE", help="End of the holdout period: every candidate is scored on it, the best is refitted on all data to this date.")] = None,
    model: Annotated[PurchaseModelName, typer.Option("--model", help="Purchase model; auto chooses by holdout error (BG/NBD without a holdout).")] = PurchaseModelName.auto,
    unit: Annotated[Unit, typer.Option("--unit", help="Time unit of the models.")] = Unit.week,
    spend: Annotated[bool, typer.Option("--spend/--no-spend", help="Also fit the Gamma-Gamma spend model.")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the output file if it exists.")] = False,
    mapping: MappingOpt = None,
    column: ColumnOpt = None,
    sheet: SheetOpt = None,
    source_table: SourceTableOpt = None,
    query: QueryOpt = None,
    dayfirst: DayFirstOpt = None,
    policy: PolicyOpt = Policy.strict,
    returns: ReturnsOpt = Returns.auto,
    duplicates: DuplicatesOpt = Duplicates.keep,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    report: ReportOpt = None,
    quarantine: QuarantineOpt = None,
) -> None:
    """Fit customer-base models to a transaction log and save them.

    With --holdout-end, each candidate (BG/NBD, Pareto/NBD, MBG/NBD) is fitted on the calibration
    period and scored on the holdout; the best is refitted on all data and saved with the
    Gamma-Gamma spend model. Example: cvm fit orders.csv --end 1997-09-30 --holdout-end 1998-06-30
    """
    from cvm.service.fit import fit_file

    params = dict(locals())
    params["table"] = "transactions"
    for key in ("end", "output", "holdout_end", "model", "unit", "spend", "overwrite"):
        params.pop(key)
    options, report_path = _ingest_options(**params)
    end_date = _parse_date(end, "--end")
    holdout_date = _parse_date(holdout_end, "--holdout-end")
    with _Steps() as steps, _reporting_failures(steps, report_path):
        result = fit_file(
            source, output, end=end_date, unit=unit.value, holdout_end=holdout_date, model=model.value,
            spend=spend, overwrite=overwrite, options=options, report_path=report_path, progress=steps,
        )
    if result.comparison is not None:
        render_comparison(result.comparison)
    render_model(result.purchase_model)
    if result.spend_model is not None:
        render_model(result.spend_model)
    for note in result.warnings:
        console.print(f"[yellow]•[/yellow] {escape(in_language(note, STATE.lang))}", soft_wrap=True)
    console.print(f"[green]✔[/green] {_say('cli.wrote', what=output)}", soft_wrap=True)


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(metavar="TRANSACTIONS", help="Transactions: a .csv, .xlsx, .parquet or .duckdb file, a PostgreSQL table as postgresql://USER@HOST/DB?table=NAME, or spark:PATH (a Parquet or CSV file or folder, run on Spark).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the results (written whole or not at all).", show_default=False)],
    customers: Annotated[str | None, typer.Option("--customers", metavar="FILE", help="Customer profiles: acquisition date, channel and cost, demographics.", show_default=False)] = None,
    costs: Annotated[str | None, typer.Option("--costs", metavar="FILE", help="Relationship-marketing costs per customer or segment.", show_default=False)] = None,
    referrals: Annotated[str | None, typer.Option("--referrals", metavar="FILE", help="Who referred whom.", show_default=False)] = None,
    surveys: Annotated[str | None, typer.Option("--surveys", metavar="FILE", help="Satisfaction surveys (CSAT, NPS, complaints).", show_default=False)] = None,
    mapping: MappingOpt = None,
    period: Annotated[ValuePeriod, typer.Option("--period", help="Calendar period of the history, forecast and lifecycle.")] = ValuePeriod.month,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=120, help="How many coming periods to forecast.")] = 3,
    end: Annotated[str | None, typer.Option("--end", metavar="DATE", help="Observation end (default: the last transaction date).", show_default=False)] = None,
    holdout: Annotated[str, typer.Option("--holdout", metavar="auto|DATE|none", help="Calibration end for choosing the model: auto keeps the last --horizon periods aside when the data is long enough; DATE; or none.")] = "auto",
    model: Annotated[PurchaseModelName, typer.Option("--model", help="Purchase model; auto chooses by holdout error.")] = PurchaseModelName.auto,
    discount_rate: Annotated[float | None, typer.Option("--discount-rate", metavar="R", help="Yearly discount rate of CLV, e.g. 0.1 (default: the configuration's, 0.1).", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Value configuration YAML (see docs/value-config.md).", show_default=False)] = None,
    playbook: Annotated[Path | None, typer.Option("--playbook", help="Strategy playbook YAML replacing the default (see docs/value.md).", show_default=False)] = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="Language of the summary and report: en or zh (default: the global --lang).", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the output folder if it exists.")] = False,
    policy: PolicyOpt = Policy.strict,
    returns: ReturnsOpt = Returns.auto,
    duplicates: DuplicatesOpt = Duplicates.keep,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Analyse a transaction log: customer value, tiers, lifecycle, playbook; tables, models, report.

    Validates the inputs, fits BG/NBD, Pareto/NBD and MBG/NBD on a calibration period and keeps
    the one with the lowest holdout error, refits it on all data with the Gamma-Gamma spend
    model, and writes customers.parquet / .csv / .xlsx, report.html (charts with a reading of
    each, in --lang), model.json and run.json to the output folder. Example: cvm analyze
    orders.csv --customers customers.csv -o results
    """
    from cvm.service.analyze import analyze as run_analysis

    if lang is not None:
        STATE.lang = lang.value
    holdout_value: str | None = holdout.strip().lower()
    if holdout_value == "none":
        holdout_value = None
    elif holdout_value != "auto":
        holdout_value = _parse_date(holdout, "--holdout").isoformat()
    if output.exists() and (not output.is_dir() or any(output.iterdir())) and not overwrite:
        raise OutputExistsError(Note("error.output_exists", path=output), hint=Note("hint.output_exists"))
    ingest = {"policy": policy.value, "returns": returns.value, "duplicates": duplicates.value,
              "currency": currency, "as_of": _parse_date(as_of, "--as-of")}
    with _Steps() as steps, _reporting_failures(steps, None):
        result = run_analysis(
            source, customers=customers, marketing_costs=costs, referrals=referrals, surveys=surveys,
            mapping=mapping, period=period.value, horizon=horizon, end=_parse_date(end, "--end"),
            holdout=holdout_value, model=model.value, discount_rate=discount_rate, config=config,
            playbook_file=playbook, ingest_options=ingest, progress=steps,
        )
        files = result.write(output, overwrite=overwrite, lang=STATE.lang, progress=steps)
    render_analysis(result)
    wrote = label("analyze.wrote", STATE.lang).format(n=len(files), folder=output, report=output / "report.html")
    console.print(f"[green]✔[/green] {escape(wrote)}", soft_wrap=True)


def render_analysis(result: Any) -> None:
    """The short summary of an analysis: size, equity, concentration, tiers, stages, model."""
    lang = STATE.lang
    h = result.headline()
    table = Table(title=label("analyze.summary", lang))
    table.add_column(label("analyze.measure", lang))
    table.add_column(label("analyze.value", lang), justify="right")
    table.add_row(label("column.customers", lang), f"{h['customers']:,}")
    table.add_row(label("analyze.customer_equity", lang), f"{h['customer_equity']:,.0f}")
    if h["top20_share"] is not None:
        table.add_row(label("analyze.top20_share", lang), f"{h['top20_share']:.0%}")
    for key, count in h["tiers"].items():
        table.add_row(f"  {label(f'value_matrix.{key}', lang)}", f"{count:,}")
    for key, count in h["stages"].items():
        if count:
            table.add_row(f"  {label(f'lifecycle.{key}', lang)}", f"{count:,}")
    table.add_row(label("analyze.model", lang), h["model_title"])
    if h["holdout_rmse"] is not None:
        table.add_row(label("analyze.holdout_rmse", lang), f"{h['holdout_rmse']:.3f}")
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]•[/yellow] {escape(in_language(note, lang))}", soft_wrap=True)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the results.")] = Path("cvm-demo"),
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the folder if it exists.")] = False,
) -> None:
    """Run the sample job: validate and summarise the bundled CDNOW log.

    Uses the 1/10 CDNOW sample (2,357 customers) with calibration to 1997-09-30 and holdout
    to 1998-06-30 in weeks, and writes the report and every summary to the output folder.
    """
    from cvm.service.summarise import run_demo

    with _Steps() as steps:
        result = run_demo(output, overwrite=overwrite, progress=steps)
    render_report(result.report)
    lang = STATE.lang
    table = Table(title=_say("cli.demo.title"))
    table.add_column(label("analyze.measure", lang))
    table.add_column(label("analyze.value", lang), justify="right")
    h = result.headline
    rows = [
        (label("column.customers", lang), f"{h['customers']:,}"),
        (label("cli.demo.calibration_repeats", lang), f"{h['calibration_repeat_purchases']:,}"),
        (label("cli.demo.no_repeat", lang), f"{h['customers_without_repeat']:,}"),
        (label("cli.demo.holdout_repeats", lang), f"{h['holdout_repeat_purchases']:,}"),
        (label("cli.demo.holdout_revenue", lang), f"{h['holdout_revenue']:,.2f}"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"[green]✔[/green] {_say('cli.wrote_files', n=len(result.files), folder=result.output_dir)}",
                  soft_wrap=True)


@datasets_app.command("list")
def datasets_list() -> None:
    """List the sample datasets."""
    from cvm.datasets import list_datasets

    lang = STATE.lang
    table = Table(title=label("cli.datasets.title", lang))
    for name in ("name", "title_column", "tables", "customers", "rows"):
        table.add_column(label(f"cli.datasets.{name}", lang), overflow="fold",
                         justify="right" if name in ("customers", "rows") else "left")
    for info in list_datasets():
        title = info.title_zh if lang == "zh" else info.title
        rows = sum(info.rows.values())
        table.add_row(info.name, title, ", ".join(info.tables), f"{info.customers:,}",
                      f"{rows:,}" + (label("cli.datasets.default_size", lang) if info.generated else ""))
    console.print(table)
    for info in list_datasets():
        console.print(f"[bold]{info.name}[/bold]: {info.source}")


@datasets_app.command("export")
def datasets_export(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Dataset name (see `cvm datasets list`).", show_default=False)],
    directory: Annotated[Path, typer.Argument(metavar="DIRECTORY", help="Folder to write the tables into.", show_default=False)],
    format: Annotated[ExportFormat, typer.Option("--format", help="File format of the tables.")] = ExportFormat.csv,
    customers: Annotated[int | None, typer.Option("--customers", help="Customers to generate (generated datasets only).", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (generated datasets only).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing files.")] = False,
) -> None:
    """Write a dataset's tables as files, ready for `cvm validate` and `cvm summary`."""
    from cvm.datasets import export

    with _Steps() as steps:
        steps(f"exporting {name}")
        paths = export(name, directory, format=format.value, n_customers=customers, seed=seed,
                       overwrite=overwrite)
    for path in paths:
        console.print(f"[green]✔[/green] {path}", soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cvm`` command; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="cvm", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except CVMError as exc:
        if debug:
            traceback.print_exc()
        # soft_wrap: a long path must not be broken across lines; escape: messages quote
        # user data, which may hold [brackets] that Rich would read as markup
        lang = STATE.lang
        err_console.print(f"[bold red]{label('cli.error', lang)}[/bold red]{escape(in_language(exc.message, lang))}",
                          soft_wrap=True)
        if exc.hint:
            err_console.print(f"[bold]{label('cli.what_to_do', lang)}[/bold]{escape(in_language(exc.hint, lang))}",
                              soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print(label("cli.interrupted", STATE.lang))
        return 130
    except typer.Abort:
        return 130
    except typer.TyperException as exc:  # wrong usage: unknown option, bad value …
        show = getattr(exc, "show", None)
        if show is not None:
            show(file=sys.stderr)
        else:
            err_console.print(f"error: {exc}")
        return int(getattr(exc, "exit_code", 2) or 2)
    except Exception as exc:  # anything unexpected
        if debug:
            traceback.print_exc()
        err_console.print(f"[bold red]{label('cli.internal_error', STATE.lang)}[/bold red]{type(exc).__name__}: "
                          f"{escape(str(exc))}", soft_wrap=True)
        err_console.print(label("cli.report_bug", STATE.lang))
        return 1
    return 0


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
