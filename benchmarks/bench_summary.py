"""Time CVM's BTYD summary and calibration/holdout split against lifetimes on the same logs.

    .venv/bin/python benchmarks/bench_summary.py --customers 1000000 10000000

For each size the script

1. generates a seeded synthetic log with ``cvm.datasets.write_transactions_parquet``
   (cached in the work folder by size and seed);
2. runs each CVM step in a fresh subprocess: from the Parquet file to the summary written as
   Parquet (``con.to_parquet(expr, path)`` on ``duckdb_connection(memory_limit=...)``);
3. runs lifetimes' ``summary_data_from_transaction_data`` and ``calibration_and_holdout_data``
   on the same file in a subprocess of the peer's own virtual environment (made here on first
   use: lifetimes 0.11.3 needs pandas < 2), timing loading the Parquet file into pandas, the
   lifetimes call and writing the result to Parquet separately;
4. prints seconds and peak memory (the child's ``ru_maxrss``, whole process) of each and two
   speed ratios: file to file (the same work on both sides: read the Parquet log, summarise,
   write the Parquet result) and, against lifetimes' call alone (loading and writing not
   counted for lifetimes but counted for CVM), the stricter one; for sizes up to
   ``--check-max`` customers, whether both agree.

Purchases are counted per day and durations are in weeks of 7 days on both sides
(lifetimes: ``freq="D", freq_multiplier=7``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
START, DAYS = "2020-01-01", 730  # the generated log spans 2020-01-01 .. 2021-12-30
OBSERVATION_END = "2021-09-30"  # BTYD summary
CALIBRATION_END, HOLDOUT_END = "2021-06-30", "2021-12-30"  # split
UNIT = "week"
# The peer's environment: versions that install and run together on Python 3.11. lifetimes
# 0.11.3 runs these two functions unchanged on pandas 2.2 (with numpy < 2), which is a little
# faster than pandas 1.5.3 and gives identical results, so the peer gets the faster one.
PEER_REQUIREMENTS = [
    "lifetimes==0.11.3", "pandas==2.2.3", "numpy==1.26.4", "scipy==1.17.1",
    "pyarrow==17.0.0", "autograd==1.9.1", "dill==0.4.1",
]
STEPS = {"summary": "btyd_summary", "split": "calibration_holdout"}


# -- the CVM child: one step, one fresh process ------------------------------------------------

def cvm_child(step: str, log: str, out: str, memory_limit: str) -> None:
    from cvm.data.connect import duckdb_connection
    from cvm.data.summaries import btyd_summary, calibration_holdout

    con = duckdb_connection(memory_limit=memory_limit)
    con.raw_sql("SET enable_progress_bar = false")  # the child's stderr is a file, not a terminal
    t0 = time.perf_counter()
    transactions = con.read_parquet(log)
    if step == "summary":
        expr = btyd_summary(transactions, observation_end=OBSERVATION_END, unit=UNIT)
    else:
        expr = calibration_holdout(transactions, calibration_end=CALIBRATION_END,
                                   holdout_end=HOLDOUT_END, unit=UNIT)
    con.to_parquet(expr, out)
    seconds = time.perf_counter() - t0
    print(json.dumps({"step": step, "seconds": seconds}))


# -- the parent ----------------------------------------------------------------------------------

def run_measured(cmd: list[str], workdir: Path) -> dict:
    """Run ``cmd``; its last stdout line is JSON. Adds ``peak_mb`` (the child's ru_maxrss),
    ``cpu_s`` (its user + system CPU time) and ``load`` (the machine's 1-minute load average
    just before: other work on the machine stretches wall-clock times, not CPU times)."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+", dir=workdir) as out, \
            tempfile.TemporaryFile("w+", dir=workdir) as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read()[-3000:]}")
        result = json.loads(out.read().strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # whole process, start-up included
    result["load"] = load
    return result


def ensure_log(workdir: Path, n: int, seed: int) -> Path:
    from cvm.datasets import write_transactions_parquet

    path = workdir / f"transactions_{n}_seed{seed}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        write_transactions_parquet(path, n, seed, start=START, periods_days=DAYS)
        print(f"generated {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def ensure_venv(workdir: Path, name: str, requirements: list[str], imports: str,
                base_python: str = sys.executable) -> Path:
    """The Python of the virtual environment ``workdir/<name>-venv`` with the pinned
    ``requirements``, created on first use (pip's output in ``workdir/<name>-install.log``).
    ``imports`` (e.g. ``"lifetimes, pandas"``) must import for the environment to count."""
    venv = workdir / f"{name}-venv"
    python = venv / "bin" / "python"
    pins = dict(r.split("==") for r in requirements)
    probe = [str(python), "-c", f"import importlib.metadata as m, {imports}; "
             f"assert all(m.version(k) == v for k, v in {pins!r}.items())"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating the environment {venv} ({', '.join(requirements)}) with {base_python} …",
          flush=True)
    subprocess.run([base_python, "-m", "venv", "--clear", str(venv)], check=True)
    with open(workdir / f"{name}-install.log", "w") as log:
        subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                        *requirements], check=True, stdout=log, stderr=subprocess.STDOUT)
    subprocess.run(probe, check=True)
    return python


def ensure_peer(workdir: Path) -> Path:
    return ensure_venv(workdir, "peer", PEER_REQUIREMENTS, "lifetimes, pandas, pyarrow")


def package_versions(python: Path, package: str) -> str:
    """``package`` and the data stack's versions in the environment of ``python``, one line."""
    code = (f"import {package}, pandas, numpy, pyarrow, platform; "
            f"print(f'{package} {{{package}.__version__}}, pandas {{pandas.__version__}}, "
            "numpy {numpy.__version__}, pyarrow {pyarrow.__version__}, "
            "Python {platform.python_version()}')")
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def peer_versions(python: Path) -> str:
    return package_versions(python, "lifetimes")


def cvm_versions() -> str:
    import duckdb
    import ibis
    import pyarrow

    import cvm

    return (f"cvm {cvm.__version__}, ibis {ibis.__version__}, duckdb {duckdb.__version__}, "
            f"pyarrow {pyarrow.__version__}, Python {platform.python_version()}")


def source_state(*paths: str) -> str:
    """The commit CVM runs from, and whether any of ``paths`` (in the repository) differ from it."""
    repo = HERE.parent
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", *paths],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {commit}" + (f" ({' or '.join(paths)} modified)" if dirty else "")


def machine() -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.platform()}"


def check_agreement(step: str, cvm_out: Path, peer_out: Path) -> tuple[bool, list[str]]:
    """Compare CVM's and lifetimes' results customer by customer."""
    import numpy as np
    import pyarrow.parquet as pq

    ours = pq.read_table(cvm_out).to_pandas()
    theirs = pq.read_table(peer_out).to_pandas()
    suffix = "_cal" if step == "split" else ""
    names = {f"{c}{suffix}": c for c in ("frequency", "recency", "T", "monetary_value")}
    if step == "split":
        names["frequency_holdout"] = "frequency_holdout"
    theirs = theirs.rename(columns=names)
    ours["customer_id"] = ours["customer_id"].astype(str)
    theirs["customer_id"] = theirs["customer_id"].astype(str)
    both = ours.merge(theirs, on="customer_id", how="outer", suffixes=("", "_peer"),
                      indicator=True)
    lines, ok = [], True
    same_rows = len(ours) == len(theirs) and bool((both["_merge"] == "both").all())
    ok &= same_rows
    lines.append(f"rows: CVM {len(ours):,}, lifetimes {len(theirs):,}, same customers: {same_rows}")
    counts = ["frequency"] + (["frequency_holdout"] if step == "split" else [])
    for c in counts:
        a, b = int(ours[c].sum()), int(theirs[c].sum())
        equal = bool((both[c] == both[f"{c}_peer"]).all())
        ok &= a == b and equal
        lines.append(f"{c}: sum CVM {a:,}, lifetimes {b:,}; equal for every customer: {equal}")
    for c in ("recency", "T", "monetary_value"):
        diff = float(np.nanmax(np.abs(both[c].astype(float) - both[f"{c}_peer"].astype(float))))
        tol = 1e-6 * (1 + float(both[c].abs().max())) if c == "monetary_value" else 1e-6
        ok &= diff <= tol
        lines.append(f"{c}: max |CVM - lifetimes| = {diff:.3g} (tolerance {tol:.3g})")
    if step == "split":
        lines.append("monetary_value_holdout not compared: lifetimes averages holdout rows, "
                     "CVM averages holdout purchase days")
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_cvm_child":  # internal: one measured CVM step
        cvm_child(*argv[1:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument("--memory-limit", default="1.5GB",
                        help="DuckDB memory_limit for CVM (1.5GB keeps the whole process under 2 GB)")
    parser.add_argument("--skip-peer", action="store_true", help="time CVM only")
    parser.add_argument("--check-max", type=int, default=1_000_000,
                        help="check agreement with lifetimes up to this many customers")
    parser.add_argument("--steps", nargs="+", choices=list(STEPS), default=list(STEPS))
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    state = source_state("src/cvm/data/summaries.py")
    print(f"CVM: {cvm_versions()}; {state}; DuckDB memory_limit {args.memory_limit}, "
          f"threads: DuckDB default ({os.cpu_count()})")
    peer = None if args.skip_peer else ensure_peer(workdir)
    if peer:
        print(f"peer: {peer_versions(peer)} (single-threaded, in {peer.parent.parent})")
        print("both sides are timed file to file (read the Parquet log, summarise, write the "
              "Parquet result); lifetimes' call alone is shown too; peak memory is the whole "
              "process's, data included")
    print(f"load average (1/5/15 min): {'/'.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores: other work on the machine skews timings")
    print(f"unit {UNIT}, purchases counted per day; summary to {OBSERVATION_END}; "
          f"split at {CALIBRATION_END}, holdout to {HOLDOUT_END}", flush=True)

    rows, checks = [], []
    for n in args.customers:
        log = ensure_log(workdir, n, args.seed)
        for step in args.steps:
            cvm_out = workdir / f"cvm_{step}_{n}_seed{args.seed}.parquet"
            cvm = run_measured([sys.executable, str(Path(__file__).resolve()), "_cvm_child", step,
                                str(log), str(cvm_out), args.memory_limit], workdir)
            row = {"customers": n, "step": step, "cvm_s": cvm["seconds"], "cvm_mb": cvm["peak_mb"],
                   "cvm_cpu_s": cvm["cpu_s"], "cvm_load": cvm["load"]}
            print(f"  {n:>11,} {step:<8} CVM       {cvm['seconds']:8.2f} s {cvm['peak_mb']:8.0f} MB"
                  f"   (process CPU {cvm['cpu_s']:.1f} s; load before: {cvm['load']:.1f})",
                  flush=True)
            if peer:
                peer_out = workdir / f"lifetimes_{step}_{n}_seed{args.seed}.parquet"
                cmd = [str(peer), str(HERE / "peer_lifetimes.py"), step, str(log), str(peer_out),
                       "--observation-end", OBSERVATION_END, "--calibration-end",
                       CALIBRATION_END, "--holdout-end", HOLDOUT_END]
                res = run_measured(cmd, workdir)
                file_s = res["load_seconds"] + res["seconds"] + res["write_seconds"]
                row.update(peer_s=res["seconds"], peer_mb=res["peak_mb"], peer_load=res["load"],
                           peer_cpu_s=res["cpu_s"], peer_load_s=res["load_seconds"],
                           peer_write_s=res["write_seconds"], peer_file_s=file_s,
                           ratio=file_s / cvm["seconds"],
                           ratio_call=res["seconds"] / cvm["seconds"])
                print(f"  {n:>11,} {step:<8} lifetimes {file_s:8.2f} s "
                      f"{res['peak_mb']:8.0f} MB   (file to file: {res['load_seconds']:.1f} s "
                      f"loading + {res['seconds']:.2f} s lifetimes call + "
                      f"{res['write_seconds']:.1f} s writing; process CPU {res['cpu_s']:.1f} s; "
                      f"load before: {res['load']:.1f})", flush=True)
                if n <= args.check_max:
                    ok, lines = check_agreement(step, cvm_out, peer_out)
                    checks.append((n, step, ok, lines))
            rows.append(row)

    print()
    print("| customers | step | CVM s | CVM CPU s | CVM peak MB | lifetimes s | lifetimes call s "
          "| lifetimes CPU s | lifetimes peak MB | speed ratio | ratio to call |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        peer_cols = (f"{r['peer_file_s']:.2f} | {r['peer_s']:.2f} | {r['peer_cpu_s']:.1f} | "
                     f"{r['peer_mb']:,.0f} | {r['ratio']:.1f}× | {r['ratio_call']:.1f}×"
                     if "peer_s" in r else "– | – | – | – | – | –")
        print(f"| {r['customers']:,} | {STEPS[r['step']]} | {r['cvm_s']:.2f} | {r['cvm_cpu_s']:.1f} | "
              f"{r['cvm_mb']:,.0f} | {peer_cols} |")
    print("(s: wall-clock seconds of the step, file to file on both sides: read the Parquet log, "
          "summarise, write the Parquet result; lifetimes call s: the lifetimes call alone; "
          "CPU s: user + system seconds of the whole child process, start-up included; "
          "speed ratio: lifetimes s / CVM s; ratio to call: lifetimes call s / CVM s)")
    for n, step, ok, lines in checks:
        print(f"\nagreement check, {n:,} customers, {STEPS[step]}: {'PASS' if ok else 'FAIL'}")
        for line in lines:
            print(f"  {line}")
    with open(workdir / "results.jsonl", "a") as f:
        f.write(json.dumps({"date": dt.datetime.now(dt.timezone.utc).isoformat(), "seed": args.seed,
                            "memory_limit": args.memory_limit, "rows": rows,
                            "checks": [(n, s, ok) for n, s, ok, _ in checks]}) + "\n")
    return 0 if all(ok for *_, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
