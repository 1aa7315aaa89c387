"""Fit every CVM model to the real transaction logs in ``../shared/data`` and check the results.

Real logs are not textbook logs: a fit can run to a boundary of the parameter space (BG/NBD
or MBG/NBD with a dropout probability near zero), and a library that does not expect it
reports non-convergence or returns infinite predictions. This script fits, on each log's
standard calibration/holdout split,

* the purchase models BG/NBD, MBG/NBD and Pareto/NBD (``cvm.models.MODELS``) and the
  Gamma-Gamma spend model, on CDNOW (master and sample), the BTYDplus grocery log and the
  CLVTools apparel log (also Pareto/NBD and BG/NBD with its static covariates);
* BG/BB on the donations table;
* the same purchase models on logs drawn from the generators at the boundary (nobody drops
  out; a plain Poisson process),

and reports for each fit: converged, the parameters on a boundary, the log-likelihood, the
estimates, the fit time, the holdout MAE/RMSE, and whether every prediction is finite
(expected purchases over 39 periods, P(alive) now and 13 periods on, expected purchases
in each of the next 3 periods, expected spend). It exits with status 1 when any fit fails
to converge, any prediction is not finite, or ``summary()`` does not flag a boundary the
fit reported.

The data folder is not part of the repository (the grocery and apparel files are GPL and
must not be copied into it), so this is a script and not a test. Run from anywhere::

    .venv/bin/python benchmarks/check_real_logs.py              # ../shared/data by default
    .venv/bin/python benchmarks/check_real_logs.py --markdown out.md --skip-master
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from cvm.data import summaries
from cvm.data.ingest import ingest
from cvm.data.timeunit import TimeUnit
from cvm.errors import InvalidDataError
from cvm.models import MODELS
from cvm.models import bgnbd as bgnbd_module
from cvm.models.base import CustomerModel
from cvm.models.gamma_gamma import GammaGammaModel
from cvm.models.validation import holdout_errors

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
PURCHASE = ("bgnbd", "mbgnbd", "pnbd")
HORIZON = 39.0
"""Expected purchases are checked over this many periods (weeks)."""
AHEAD = 13.0
"""P(alive) is checked now and this many periods after the end of calibration."""
N_PERIODS = 3
"""Expected purchases by period: the next 3 calendar months (3 x 4 weeks on generated logs)."""

CLVTOOLS_APPAREL = {
    # CLVTools vignette "CLVTools_advanced_techniques.pdf" (REFERENCES.md section 8)
    "pnbd": {"r": 1.4489768, "alpha": 48.6360845, "s": 0.5612598, "beta": 46.8843633},
    "pnbd+cov": {
        "r": 1.8378, "alpha": 92.9123, "s": 0.5920, "beta": 49.6227,
        "dropout.gender": -0.6430, "dropout.channel": 0.7907,
        "purchase.gender": 0.2859, "purchase.channel": 0.6241,
        "log_likelihood": -5821.0627,
    },
}


@dataclass
class Log:
    """One transaction log and its standard split (weeks)."""

    key: str
    file: str
    calibration_end: str
    holdout_end: str | None  # None: the last date in the log
    note: str
    columns: dict[str, str] | None = None
    has_money: bool = True


LOGS = (
    Log("cdnow_master", "cdnow_master.csv.gz", "1997-09-30", "1998-06-30",
        "CDNOW, all 23,570 customers; FHL 2005 split"),
    Log("cdnow_sample", "cdnow_sample.csv.gz", "1997-09-30", "1998-06-30",
        "CDNOW 1/10 sample, 2,357 customers; FHL 2005 split"),
    Log("grocery", "grocery_elog.csv.gz", "2006-12-31", "2007-12-30",
        "BTYDplus grocery log, 1,525 customers; BTYDplus split (T.cal 2006-12-31)", has_money=False),
    Log("apparel", "apparel_trans.csv.gz", "2006-12-31", None,
        "CLVTools apparel (simulated), 600 customers; estimation.split = 104 weeks, holdout to the end"),
)


@dataclass
class Row:
    """One fit and its checks."""

    data: str
    model: str
    customers: int = 0
    converged: bool | None = None
    boundary: list[str] = field(default_factory=list)
    log_likelihood: float = math.nan
    params: dict[str, float] = field(default_factory=dict)
    seconds: float = math.nan
    mae: float = math.nan
    rmse: float = math.nan
    expected_total: float = math.nan
    actual_total: float = math.nan
    finite: bool | None = None
    summary_ok: bool | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.problems) or self.converged is False or self.finite is False or self.summary_ok is False


# ---------------------------------------------------------------------------------------------
# data


def ingest_log(data_dir: Path, log: Log) -> tuple[Any, list[str]]:
    """The canonical CVM transactions table of ``log`` and notes on how it was read."""
    path = data_dir / log.file
    notes: list[str] = []
    if log.has_money:
        result = ingest(path, columns=log.columns)
        notes.append("columns detected: " + ", ".join(
            f"{m.column}={m.header}" for m in result.mapping.columns.values()))
    else:
        # the grocery log has customer_id and date only; CVM requires an amount, so the log is
        # read here and given a placeholder amount of 1 (no spend model is fitted on it)
        frame = pd.read_csv(path, dtype={"customer_id": str, "date": str})
        frame["amount"] = 1.0
        result = ingest(ibis.memtable(frame), columns={"customer_id": "customer_id", "date": "date",
                                                       "amount": "amount"})
        notes.append("no amount column: ingested with a placeholder amount of 1; no Gamma-Gamma fit")
    if not result.report.ok:
        raise SystemExit(f"{log.file}: validation failed: {result.report.summary()}")
    return result.table, notes


def split(table: Any, log: Log) -> tuple[Any, str]:
    """Calibration/holdout summary (pyarrow) in weeks and the holdout end used."""
    holdout_end = log.holdout_end
    if holdout_end is None:
        last = table.date.max().execute()
        holdout_end = (last.date() if hasattr(last, "date") else last).isoformat()
    cal = summaries.calibration_holdout(
        table, calibration_end=log.calibration_end, holdout_end=holdout_end, unit="week"
    ).to_pyarrow()
    return cal, holdout_end


def boundary_logs(seed: int = 20240601) -> dict[str, tuple[dict[str, np.ndarray], str]]:
    """Logs drawn from the generators at the boundaries, with a description of each."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(30.0, 78.0, 5000)
    out = {}
    out["no-dropout: tiny a"] = (
        bgnbd_module.simulate(r=0.5, alpha=5.0, a=1e-8, b=2.5, T=T, seed=1),
        "BG/NBD simulate, r 0.5, alpha 5, a 1e-8, b 2.5 (Beta(1e-8, 2.5): p is 0 for everyone), "
        "5,000 customers, T ~ U(30, 78) weeks",
    )
    out["no-dropout: huge b"] = (
        bgnbd_module.simulate(r=0.5, alpha=5.0, a=1.0, b=1e8, T=T, seed=2),
        "BG/NBD simulate, r 0.5, alpha 5, a 1, b 1e8 (p about 1e-8), 5,000 customers, T ~ U(30, 78) weeks",
    )
    out["Poisson only"] = (
        bgnbd_module.simulate(r=1e8, alpha=1e8 / 0.3, a=1e-8, b=1e8, T=T, seed=3),
        "BG/NBD simulate, r 1e8, alpha 1e8/0.3 (every rate 0.3 per week), a 1e-8, b 1e8 "
        "(nobody drops out): a plain Poisson process, 5,000 customers, T ~ U(30, 78) weeks",
    )
    return out


# ---------------------------------------------------------------------------------------------
# checks


def _finite(name: str, values: Any, row: Row, *, probability: bool = False) -> bool:
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        row.problems.append(f"{name}: {int(bad.sum())} non-finite value(s) of {arr.size}")
        return False
    if probability and (arr.min() < 0 or arr.max() > 1):
        row.problems.append(f"{name}: values outside [0, 1] ({arr.min():.3g} .. {arr.max():.3g})")
        return False
    return True


def _record_fit(row, model, start: float) -> None:
    """Copy a fitted model's time, size, convergence, boundary, likelihood and parameters into ``row``."""
    row.seconds = time.perf_counter() - start
    row.customers = int(round(model.n_customers_))
    row.converged = bool(model.converged_)
    row.boundary = list(model.report_.boundary)
    row.log_likelihood = float(model.log_likelihood_)
    row.params = dict(model.params_)
    if not model.converged_:
        row.problems.append(f"not converged: {model.report_.message} (gradient {model.report_.gradient_norm:.3g})")
    row.summary_ok = _check_summary(model, row)


def _check_summary(model: CustomerModel, row: Row) -> bool:
    summary = model.summary()
    flagged = [r.name for r in summary.rows if r.at_boundary]
    ok = sorted(flagged) == sorted(model.report_.boundary)
    if not ok:
        row.problems.append(f"summary() flags {flagged} but the fit reported {model.report_.boundary}")
    if not all(math.isfinite(r.estimate) for r in summary.rows) or not math.isfinite(summary.log_likelihood):
        row.problems.append("summary(): an estimate or the log-likelihood is not finite")
        ok = False
    if model.report_.boundary and "(boundary)" not in str(summary):
        row.problems.append("str(summary()) does not mark the boundary")
        ok = False
    if model.report_.boundary and not any("boundary" in w for w in summary.warnings):
        row.problems.append("summary() carries no boundary warning")
        ok = False
    ses = [r.standard_error for r in summary.rows]
    if not all(math.isfinite(v) for v in ses):
        row.notes.append("standard errors not all finite: "
                         + ", ".join(f"{r.name} {r.standard_error:.3g}" for r in summary.rows))
    return ok


def fit_purchase(name: str, data: Any, dataset: str, edges: list[float], *,
                 covariates: tuple[str, ...] = (), holdout: bool = True) -> tuple[Row, CustomerModel | None]:
    """Fit one purchase model and run every check."""
    cls = MODELS[name]
    label = cls.title + (" + " + ", ".join(covariates) if covariates else "")
    row = Row(dataset, label)
    settings = {"purchase_covariates": covariates, "dropout_covariates": covariates} if covariates else {}
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = cls(**settings).fit(data)
    except Exception as exc:  # noqa: BLE001 - a failed fit is a result to report
        row.seconds = time.perf_counter() - start
        row.problems.append(f"fit raised {type(exc).__name__}: {exc}")
        return row, None
    _record_fit(row, model, start)
    try:
        checks = [
            _finite(f"expected_purchases(t={HORIZON:g})", model.expected_purchases(data, HORIZON), row),
            _finite("probability_alive()", model.probability_alive(data), row, probability=True),
            _finite(f"probability_alive(t={AHEAD:g})", model.probability_alive(data, AHEAD), row, probability=True),
            _finite(f"expected_purchases_by_period({N_PERIODS})",
                    model.expected_purchases_by_period(data, edges), row),
        ]
        if holdout:
            expected = model.expected_purchases(data, np.asarray(data["duration_holdout"]))
            checks.append(_finite("expected_purchases(holdout)", expected, row))
            errors = holdout_errors(expected=expected, actual=np.asarray(data["frequency_holdout"], dtype=float))
            row.mae, row.rmse = errors.mae, errors.rmse
            row.expected_total, row.actual_total = errors.expected_total, errors.actual_total
        if not covariates:
            checks.append(_finite("expected_purchases_new_customer(39)",
                                  model.expected_purchases_new_customer(HORIZON), row))
        row.finite = all(checks)
    except Exception as exc:  # noqa: BLE001
        row.finite = False
        row.problems.append(f"prediction raised {type(exc).__name__}: {exc}")
    return row, model


def fit_spend(data: Any, dataset: str) -> Row:
    """Fit Gamma-Gamma and check expected spend is finite for every customer."""
    row = Row(dataset, "Gamma-Gamma")
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = GammaGammaModel().fit(data)
            except InvalidDataError as exc:
                # Gamma-Gamma is undefined for a repeat customer whose repeat purchases are all
                # worth 0 (CDNOW master has some): the model refuses them by design. Say so, and
                # fit the others, as the error's hint says.
                frequency = np.asarray(data["frequency"], dtype=float)
                money = np.asarray(data["monetary_value"], dtype=float)
                keep = ~((frequency > 0) & ~(money > 0))
                row.notes.append(f"the fit on every customer raised InvalidDataError ({exc.message}); "
                                 f"{int((~keep).sum())} repeat customer(s) with monetary_value 0 were "
                                 "dropped and the rest fitted")
                row.model = f"Gamma-Gamma ({int((~keep).sum())} zero-spend repeat customer(s) dropped)"
                data = data.filter(pa.array(keep))
                model = GammaGammaModel().fit(data)
    except Exception as exc:  # noqa: BLE001
        row.seconds = time.perf_counter() - start
        row.problems.append(f"fit raised {type(exc).__name__}: {exc}")
        return row
    _record_fit(row, model, start)
    try:
        spend = model.expected_spend(data)
        row.finite = _finite("expected_spend", spend, row)
        holdout = np.asarray(data["monetary_value_holdout"], dtype=float) if "monetary_value_holdout" in data.column_names else None
        if holdout is not None:
            buyers = holdout > 0
            if buyers.any():
                errors = holdout_errors(expected=spend[buyers], actual=holdout[buyers])
                row.mae, row.rmse = errors.mae, errors.rmse
                row.notes.append(f"MAE/RMSE of expected spend vs the mean holdout spend of the "
                                 f"{int(buyers.sum())} customers who bought in the holdout")
    except Exception as exc:  # noqa: BLE001
        row.finite = False
        row.problems.append(f"expected_spend raised {type(exc).__name__}: {exc}")
    return row


def fit_donations(data_dir: Path) -> Row:
    """BG/BB on the donations table, with the 2002-2006 holdout totals per group."""
    row = Row("donations", "BG/BB")
    table = pd.read_csv(data_dir / "donations_bgbb.csv.gz").rename(columns={"periods": "n_periods"})
    hold = pd.read_csv(data_dir / "donations_bgbb_cal_with_holdout.csv.gz")
    table = table.merge(hold.rename(columns={"x": "frequency", "t_x": "recency"})[
        ["frequency", "recency", "custs", "x_star_total"]], on=["frequency", "recency"], how="left")
    if table["custs"].isna().any() or not (table["custs"] == table["weights"]).all():
        row.problems.append("the holdout table does not match the calibration groups")
    model_cls = MODELS["bgbb"]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = model_cls().fit(table, weights=table["weights"].to_numpy(dtype=float))
    _record_fit(row, model, start)
    w = table["weights"].to_numpy(dtype=float)
    expected = model.expected_purchases(table, 5)
    checks = [
        _finite("expected_purchases(n*=5)", expected, row),
        _finite("expected_purchases(n*=39)", model.expected_purchases(table, HORIZON), row),
        _finite("probability_alive(1)", model.probability_alive(table), row, probability=True),
        _finite("probability_alive(13)", model.probability_alive(table, AHEAD), row, probability=True),
        _finite(f"expected_purchases_by_period({N_PERIODS})", model.expected_purchases_by_period(table, N_PERIODS), row),
    ]
    row.finite = all(checks)
    actual_mean = table["x_star_total"].to_numpy(dtype=float) / w
    row.mae = float(np.sum(w * np.abs(expected - actual_mean)) / w.sum())
    row.rmse = float(math.sqrt(np.sum(w * (expected - actual_mean) ** 2) / w.sum()))
    row.expected_total = float(np.sum(w * expected))
    row.actual_total = float(table["x_star_total"].sum())
    row.notes.append("holdout 2002-2006 (5 opportunities); only group totals are published, so MAE/RMSE "
                     "are of each recency/frequency group's mean per donor, weighted by donors")
    return row


# ---------------------------------------------------------------------------------------------
# apparel with covariates


def apparel_covariates(cal: Any, data_dir: Path) -> tuple[Any, list[str]]:
    """The calibration summary joined with gender and channel (0/1) by customer id."""
    cov = pd.read_csv(data_dir / "apparel_static_cov.csv.gz", dtype={"customer_id": str})
    frame = cal.to_pandas().merge(cov, on="customer_id", how="left", validate="one_to_one")
    missing = int(frame[["gender", "channel"]].isna().any(axis=1).sum())
    notes = [f"covariates joined on customer_id; {missing} customer(s) without covariates"]
    frame[["gender", "channel"]] = frame[["gender", "channel"]].astype(float)
    return frame, notes


def compare_clvtools(row: Row, reference: dict[str, float]) -> None:
    parts = []
    for name, ref in reference.items():
        value = row.log_likelihood if name == "log_likelihood" else row.params.get(name, math.nan)
        parts.append(f"{name} {value:.4f} vs {ref:.4f} (diff {value - ref:+.4f})")
    row.notes.append("CLVTools vignette: " + "; ".join(parts))


# ---------------------------------------------------------------------------------------------
# output


def fmt(value: float, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:.4e}"


def params_text(params: dict[str, float]) -> str:
    return ", ".join(f"{k} {fmt(v)}" for k, v in params.items())


HEADER = ("data", "model", "n", "converged", "boundary", "LL", "parameters", "seconds",
          "holdout MAE", "holdout RMSE", "E total / actual", "finite", "summary")


def cells(row: Row) -> list[str]:
    yes = {True: "yes", False: "NO", None: "-"}
    totals = ("-" if math.isnan(row.expected_total)
              else f"{row.expected_total:.1f} / {row.actual_total:.0f}")
    return [row.data, row.model, str(row.customers), yes[row.converged], ", ".join(row.boundary) or "-",
            fmt(row.log_likelihood, 9), params_text(row.params), f"{row.seconds:.2f}",
            fmt(row.mae), fmt(row.rmse), totals, yes[row.finite], yes[row.summary_ok]]


def print_table(rows: list[Row]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover
        print("\t".join(HEADER))
        for row in rows:
            print("\t".join(cells(row)))
        return
    table = Table(title="CVM on real and boundary logs", show_lines=False)
    for h in HEADER:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*cells(row), style="red" if row.failed else None)
    Console(width=250).print(table)


def markdown(rows: list[Row], sources: list[str], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"Date: {dt.date.today().isoformat()}",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in cells(row)) + " |" for row in rows]
    lines += ["", "Data and splits:", ""] + [f"- {s}" for s in sources]
    notes = [(row, n) for row in rows for n in row.notes]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {row.data}, {row.model}: {n}" for row, n in notes]
    problems = [(row, p) for row in rows for p in row.problems]
    lines += ["", "Problems:", ""]
    lines += [f"- {row.data}, {row.model}: {p}" for row, p in problems] or ["- none"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fit CVM's models to the real logs in the shared data folder (and to generated "
        "boundary logs) and check convergence, boundaries and finite predictions. "
        "Exit status 1 when a fit does not converge or a prediction is not finite.",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA,
                        help="folder with the CSV files (default: ../shared/data next to the repository)")
    parser.add_argument("--skip-master", action="store_true", help="leave out CDNOW master (23,570 customers)")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the results as Markdown here")
    args = parser.parse_args(argv)
    # every warning a fit raises is kept on its report_ and summary(); the log would repeat them
    logging.getLogger("cvm").setLevel(logging.ERROR)
    data_dir = args.data_dir.resolve()
    if not data_dir.is_dir():
        parser.error(f"data folder {data_dir} does not exist; pass --data-dir (see the shared data README)")
    missing = [log.file for log in LOGS if not (data_dir / log.file).exists()]
    missing += [f for f in ("donations_bgbb.csv.gz", "donations_bgbb_cal_with_holdout.csv.gz",
                            "apparel_static_cov.csv.gz") if not (data_dir / f).exists()]
    if missing:
        parser.error(f"{data_dir} lacks {', '.join(missing)}")

    rows: list[Row] = []
    sources: list[str] = []
    for log in LOGS:
        if args.skip_master and log.key == "cdnow_master":
            continue
        print(f"{log.key}: ingesting {log.file}", file=sys.stderr)
        table, notes = ingest_log(data_dir, log)
        cal, holdout_end = split(table, log)
        sources.append(f"{log.key} (`{log.file}`): {log.note}; calibration to {log.calibration_end}, holdout "
                       f"to {holdout_end}, weeks; {cal.num_rows} customers; " + "; ".join(notes))
        edges = TimeUnit.MONTH.period_edges(dt.date.fromisoformat(log.calibration_end), N_PERIODS, "week")
        for name in PURCHASE:
            print(f"{log.key}: {name}", file=sys.stderr)
            row, _ = fit_purchase(name, cal, log.key, edges)
            if log.key == "apparel" and name == "pnbd":
                compare_clvtools(row, CLVTOOLS_APPAREL["pnbd"])
            rows.append(row)
        if log.has_money:
            rows.append(fit_spend(cal, log.key))
        if log.key == "apparel":
            frame, cov_notes = apparel_covariates(cal, data_dir)
            sources[-1] += "; " + "; ".join(cov_notes)
            for name in ("pnbd", "bgnbd"):
                print(f"{log.key}: {name} with covariates", file=sys.stderr)
                row, _ = fit_purchase(name, frame, log.key, edges, covariates=("gender", "channel"))
                if name == "pnbd":
                    compare_clvtools(row, CLVTOOLS_APPAREL["pnbd+cov"])
                rows.append(row)
    print("donations: bgbb", file=sys.stderr)
    rows.append(fit_donations(data_dir))
    sources.append("donations (`donations_bgbb.csv.gz`, `donations_bgbb_cal_with_holdout.csv.gz`): 11,104 "
                   "donors in 22 groups, 6 calibration opportunities (1996-2001), holdout 2002-2006")
    for key, (data, description) in boundary_logs().items():
        sources.append(f"{key}: {description}")
        for name in PURCHASE:
            print(f"{key}: {name}", file=sys.stderr)
            row, _ = fit_purchase(name, data, key, [4.0, 8.0, 12.0], holdout=False)
            rows.append(row)

    print_table(rows)
    failures = [(row, p) for row in rows for p in (row.problems or (["failed"] if row.failed else []))]
    for row, problem in failures:
        print(f"FAIL {row.data} {row.model}: {problem}")
    if args.markdown:
        command = "python benchmarks/check_real_logs.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                                            if (argv or sys.argv[1:]) else "")
        args.markdown.write_text(markdown(rows, sources, command), encoding="utf-8")
    print(f"{len(rows)} fits, {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
