"""Time the lifecycle stages (``cvm.value.lifecycle``) on the dense monthly panel of N customers.

No peer library assigns lifecycle stages, so the script reports CVM alone: wall seconds, rows
per second, CPU seconds (the process's user + system time: on a shared machine the wall time
stretches, the CPU time much less) and peak memory (RSS) of each step, with the 1-minute load
average at its end.

1. **panel** (its own fresh process): the seeded synthetic log of ``bench_summary.py``
   (``cvm.datasets.write_transactions_parquet``, 2020-01-01 .. 2021-12-30, cached in
   ``benchmarks/.work``) read with DuckDB; the dense monthly period panel to 2021-12-31
   (``period_panel(..., dense=True)``, sorted by customer and month) and two BTYD summaries
   (at 2021-12-31 and 2021-11-30, in days) written to Parquet. Cached too; its time is shown
   only when it is built.
2. **lifecycle** (a second fresh process): the four columns the rules read are loaded as a
   pyarrow Table (``read``); P(alive) at both dates from BG/NBD with CDNOW's parameters
   (``inputs``, not a lifecycle step); then ``lifecycle_stages(panel, p_alive=...,
   p_alive_previous=...)``, ``transitions(history)``, ``stage_distribution(history)`` and
   ``early_warning`` on a customer table made from the summaries and the panel's last three
   months. Each step's peak RSS is the process's high-water mark during that step (reset before
   it through ``/proc/self/clear_refs``), so it includes what earlier steps still hold (the
   panel, the history).

    .venv/bin/python benchmarks/bench_lifecycle.py --customers 10000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_summary import ensure_log, run_measured  # noqa: E402  (the same log and child measurement)

END, PREVIOUS_END = "2021-12-31", "2021-11-30"
PANEL_COLUMNS = ["customer_id", "period_start", "orders", "revenue"]


def _files(workdir: Path, n: int, seed: int) -> dict[str, Path]:
    stem = f"{n}_seed{seed}"
    return {"panel": workdir / f"panel_{stem}.parquet", "summary": workdir / f"summary_days_{stem}.parquet",
            "previous": workdir / f"summary_days_previous_{stem}.parquet"}


def panel_child(log: str, workdir: str, n: int, seed: int, memory_limit: str) -> None:
    from cvm.data.connect import duckdb_connection
    from cvm.data.summaries import btyd_summary, period_panel

    files = _files(Path(workdir), n, seed)
    con = duckdb_connection(memory_limit=memory_limit)
    con.raw_sql("SET enable_progress_bar = false")
    con.raw_sql(f"SET temp_directory = '{Path(workdir) / 'duckdb_tmp'}'")
    con.raw_sql("SET preserve_insertion_order = false")  # the panel is sorted explicitly
    transactions = con.read_parquet(log)
    t0 = time.perf_counter()
    panel = period_panel(transactions, observation_end=END, dense=True).select(*PANEL_COLUMNS)
    con.to_parquet(panel, files["panel"])
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    for key, end in (("summary", END), ("previous", PREVIOUS_END)):
        con.to_parquet(btyd_summary(transactions, observation_end=end, unit="day"), files[key])
    rows = con.read_parquet(files["panel"]).count().execute()
    print(json.dumps({"step": "panel", "seconds": seconds, "summaries_seconds": time.perf_counter() - t0,
                      "rows": int(rows)}))


def _peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # "5" resets the peak RSS (VmHWM) to the current RSS
        f.write("5")


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _p_alive(summary) -> tuple[np.ndarray, np.ndarray]:
    from cvm.models.bgnbd import BetaGeoModel, expected_purchases, probability_alive

    p = BetaGeoModel.example_params  # CDNOW, in weeks
    x = summary["frequency"].to_numpy(dtype=float)
    t_x, T = summary["recency"].to_numpy(dtype=float) / 7, summary["T"].to_numpy(dtype=float) / 7
    return (probability_alive(p["r"], p["alpha"], p["a"], p["b"], x, t_x, T),
            expected_purchases(p["r"], p["alpha"], p["a"], p["b"], x, t_x, T, 52.0))


def lifecycle_child(workdir: str, n: int, seed: int) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from cvm.value.lifecycle import early_warning, lifecycle_stages, stage_distribution, transitions

    files = _files(Path(workdir), n, seed)
    steps: list[dict] = []

    def step(name: str, rows: int | None, fn):
        with open(Path(workdir) / "lifecycle_progress.log", "a") as log:  # to follow a long run
            print(f"{time.strftime('%H:%M:%S')} {n:,} customers: {name} ...", file=log)
        _peak_reset()
        t0, c0 = time.perf_counter(), time.process_time()
        value = fn()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        steps.append({"step": name, "seconds": seconds, "cpu_s": cpu, "peak_mb": _peak_mb(), "rows": rows,
                      "load": os.getloadavg()[0]})
        return value

    panel = step("read panel (pyarrow, 4 columns)", None, lambda: pq.read_table(files["panel"], columns=PANEL_COLUMNS))
    steps[-1]["rows"] = panel.num_rows

    def inputs():
        now = pq.read_table(files["summary"]).to_pandas()
        before = pq.read_table(files["previous"]).to_pandas()
        alive, purchases = _p_alive(now)
        previous = pd.Series(_p_alive(before)[0], index=before["customer_id"].to_numpy())
        previous = previous.reindex(now["customer_id"].to_numpy()).to_numpy()
        # the lifecycle compares customer ids as text
        ids = pa.array(now["customer_id"].to_numpy()).cast(pa.large_string()).to_numpy(zero_copy_only=False)
        return now, pd.Series(alive, index=ids), pd.Series(previous, index=ids), purchases

    summary, p_alive, p_previous, purchases = step("P(alive) inputs (not lifecycle)", None, inputs)
    stages = step("lifecycle_stages", panel.num_rows, lambda: lifecycle_stages(
        panel, p_alive=p_alive, p_alive_previous=p_previous))
    history = stages.history
    moves = step("transitions", len(history), lambda: transitions(history))
    table = step("stage_distribution", len(history), lambda: stage_distribution(history))

    def warning_table():
        # the last three months' revenue per customer, from the panel (ids are whole numbers here)
        months = pc.unique(panel.column("period_start")).sort()
        ids = pd.Index(summary["customer_id"].to_numpy())
        frame = {"customer_id": p_alive.index.to_numpy()}
        for k, month in enumerate(months[-3:], start=1):
            rows = panel.filter(pc.equal(panel.column("period_start"), month))
            got = pd.Series(rows.column("revenue").to_numpy(), index=rows.column("customer_id").to_numpy())
            frame[f"revenue_hist_{k}"] = got.reindex(ids).fillna(0.0).to_numpy()
        position = pd.Index(stages.current["customer_id"]).get_indexer(frame["customer_id"])
        frame |= {
            "n_purchases": summary["frequency"].to_numpy() + 1, "tenure_days": summary["T"].to_numpy(),
            "days_since_last_purchase": (summary["T"] - summary["recency"]).to_numpy(),
            "p_alive": p_alive.to_numpy(), "p_alive_previous": p_previous.to_numpy(),
            "clv": purchases * summary["monetary_value"].to_numpy(),
            "lifecycle_stage": stages.current["lifecycle_stage"].to_numpy()[position],
        }
        return pd.DataFrame(frame)

    customers = step("early-warning inputs (not lifecycle)", None, warning_table)
    warned = step("early_warning", len(customers), lambda: early_warning(customers))
    current = stages.current["lifecycle_stage"].astype(str).value_counts().to_dict()
    print(json.dumps({
        "customers": len(stages.current), "periods": len(stages.periods), "history_rows": len(history),
        "transitions_rows": len(moves), "distribution_shape": list(table.shape), "warned": len(warned),
        "current": current, "steps": steps,
    }))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=str(Path(__file__).resolve().parent / ".work"))
    parser.add_argument("--memory-limit", default="12GB", help="DuckDB's memory limit for the panel (default 12GB)")
    parser.add_argument("--child", choices=["panel", "lifecycle"], help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    if args.child == "panel":
        panel_child(args.log, str(workdir), args.customers, args.seed, args.memory_limit)
        return 0
    if args.child == "lifecycle":
        lifecycle_child(str(workdir), args.customers, args.seed)
        return 0
    workdir.mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.platform()}; "
          f"{os.cpu_count()} cores; load {load}", flush=True)
    me = [sys.executable, __file__, "--customers", str(args.customers), "--seed", str(args.seed),
          "--workdir", str(workdir)]
    files = _files(workdir, args.customers, args.seed)
    if not all(path.exists() for path in files.values()):
        log = ensure_log(workdir, args.customers, args.seed)
        row = run_measured([*me, "--child", "panel", "--log", str(log), "--memory-limit", args.memory_limit], workdir)
        print(f"dense monthly panel: {row['rows']:,} rows in {row['seconds']:.1f} s "
              f"({row['rows'] / row['seconds']:,.0f} rows/s; DuckDB, memory limit {args.memory_limit}), "
              f"two BTYD summaries {row['summaries_seconds']:.1f} s; process peak {row['peak_mb']:,.0f} MB", flush=True)
    else:
        print(f"dense monthly panel: cached ({files['panel'].name})", flush=True)
    row = run_measured([*me, "--child", "lifecycle"], workdir)
    print(f"{row['customers']:,} customers × {row['periods']} months: {row['history_rows']:,} history rows, "
          f"{row['transitions_rows']:,} transition rows, distribution {row['distribution_shape']}, "
          f"{row['warned']:,} warned; current stages {row['current']}")
    print(f"{'step':<38} {'seconds':>8} {'CPU s':>7} {'rows/s':>12} {'peak MB':>9} {'load':>5}")
    for s in row["steps"]:
        rate = f"{s['rows'] / s['seconds']:,.0f}" if s["rows"] else ""
        print(f"{s['step']:<38} {s['seconds']:>8.2f} {s['cpu_s']:>7.2f} {rate:>12} {s['peak_mb']:>9,.0f} "
              f"{s['load']:>5.1f}")
    lifecycle = ("lifecycle_stages", "transitions", "stage_distribution", "early_warning")
    total = sum(s["seconds"] for s in row["steps"] if s["step"] in lifecycle)
    print(f"the four lifecycle steps: {total:.1f} s; process peak {max(s['peak_mb'] for s in row['steps']):,.0f} MB "
          f"(the largest step peak: resetting the high-water mark also resets ru_maxrss); "
          f"process CPU {row['cpu_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
