"""Time CVM's cross-sell statistics (co-purchase rules, suggestions, holdout hit rate) against mlxtend.

    .venv/bin/python benchmarks/bench_crosssell.py --customers 1000000

For each size the script

1. generates a seeded basket log (``customer_id, date, amount, category, product_id``) with a
   planted repertoire: each customer buys from a favourite category, its companion
   (:data:`cvm.datasets.COMPANION_CATEGORY`) and one occasional category, 40 products per
   category with a skewed popularity, 1 + Poisson(2.5) rows per customer over two years from
   2020-01-01, 2 % of them returns (negative amounts); vectorised with numpy, one million
   customers per chunk, cached as Parquet in the work folder by size and seed;
2. runs each CVM step in a fresh subprocess on ``duckdb_connection(memory_limit=...)``
   reading the Parquet file: ``rules_category`` and ``rules_product`` (``customer_items`` +
   ``item_rules`` with every rule kept, written to Parquet: the step mlxtend also does),
   ``cross_sell_category`` and ``cross_sell_product`` (``cross_sell``: rules and 3 suggestions
   per customer, both written to Parquet) and ``evaluate_category`` (``evaluate_cross_sell``
   with the calibration end one quarter before the end of the log);
3. runs mlxtend's ``fpgrowth`` + ``association_rules`` on the same file for both item columns
   in the peer's own virtual environment (made here on first use), through
   ``peer_crosssell.py``, file to file (read the Parquet log, one-hot encode, rules, write
   Parquet), under a memory cap and a time limit: a run that would not fit, or that is killed,
   is recorded as such instead of taking the machine down;
4. prints seconds and peak memory (the child's ``ru_maxrss``) of each step, the speed ratio of
   the rules steps (mlxtend file to file / CVM), the evaluation's hit rates and, for sizes up
   to ``--check-max`` customers, whether CVM's rules and mlxtend's agree: the same pairs, and
   support, confidence and lift within 1e-9. Exits 1 when they do not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_summary import (
    cvm_versions, ensure_venv, machine, package_versions, run_measured, source_state,
)

HERE = Path(__file__).resolve().parent
START, DAYS = "2020-01-01", 730  # the log spans 2020-01-01 .. 2021-12-30
OBSERVATION_END = "2021-12-30"  # the last day of the log
CALIBRATION_END = "2021-09-30"  # one quarter before: the holdout of evaluate_cross_sell
ITEMS = {"category": "category", "product": "product_id"}
STEPS = ("rules_category", "rules_product", "cross_sell_category", "cross_sell_product",
         "evaluate_category")
ALL_RULES = 10_000  # rules_per_item for the rules steps: CVM keeps every rule, as mlxtend does
PEER_REQUIREMENTS = [
    "mlxtend==0.25.0", "pandas==3.1.1", "numpy==2.4.6", "pyarrow==26.0.1", "scipy==1.17.1",
    "scikit-learn==1.9.1",
]

# -- the data --------------------------------------------------------------------------------

# categories and their companions in cvm.datasets.generate_retail's order, its shares of
# order lines and product codes (AP001 .. AP040 for apparel, ...)
CATEGORY_SHARE = np.array([0.22, 0.14, 0.12, 0.16, 0.13, 0.09, 0.06, 0.08])
CATEGORY_CODE = ("AP", "BE", "EL", "FD", "HM", "SP", "BK", "BB")
PRODUCTS_PER_CATEGORY = 40
FAVOURITE_SHARE, COMPANION_SHARE = 0.50, 0.30  # of a customer's rows; the rest: occasional
EXTRA_ROWS = 2.5  # rows per customer: 1 + Poisson(EXTRA_ROWS)
RETURN_SHARE = 0.02
CHUNK = 1_000_000  # customers per chunk; part of the definition of the log


def _categories() -> tuple[tuple[str, ...], np.ndarray]:
    from cvm.datasets import COMPANION_CATEGORY

    names = tuple(COMPANION_CATEGORY)
    return names, np.array([names.index(COMPANION_CATEGORY[c]) for c in names])


def basket_chunk(rng: np.random.Generator, first_id: int, n: int):
    """One chunk of the basket log: ``n`` customers numbered from ``first_id + 1``."""
    import pyarrow as pa

    names, companion = _categories()
    per = 1 + rng.poisson(EXTRA_ROWS, n)
    cust = np.repeat(np.arange(n, dtype=np.int64), per)
    is_first = np.zeros(cust.size, dtype=bool)
    is_first[np.cumsum(per) - per] = True
    birth = rng.random(n) * DAYS
    day = birth[cust] + np.where(is_first, 0.0, rng.random(cust.size) * (DAYS - birth[cust]))
    d0 = int(np.datetime64(START, "D").astype(np.int64))
    favourite = rng.choice(len(names), size=n, p=CATEGORY_SHARE)
    occasional = rng.choice(len(names), size=n, p=CATEGORY_SHARE)
    draw = rng.random(cust.size)
    category = np.where(draw < FAVOURITE_SHARE, favourite[cust],
                        np.where(draw < FAVOURITE_SHARE + COMPANION_SHARE,
                                 companion[favourite[cust]], occasional[cust]))
    product_no = (PRODUCTS_PER_CATEGORY * rng.random(cust.size) ** 2).astype(np.int16)
    amount = np.round(rng.gamma(2.0, 40.0, cust.size) + 0.5, 2)
    amount = np.where(rng.random(cust.size) < RETURN_SHARE, -amount, amount)
    products = [f"{code}{k:03d}" for code in CATEGORY_CODE
                for k in range(1, PRODUCTS_PER_CATEGORY + 1)]
    return pa.table({
        "customer_id": pa.array(cust + first_id + 1, pa.int64()),
        "date": pa.array((d0 + day.astype(np.int32)).astype(np.int32), pa.int32()).cast(pa.date32()),
        "amount": pa.array(amount, pa.float64()),
        "category": pa.DictionaryArray.from_arrays(
            pa.array(category.astype(np.int8)), pa.array(names)),
        "product_id": pa.DictionaryArray.from_arrays(
            pa.array((category * PRODUCTS_PER_CATEGORY + product_no).astype(np.int16)),
            pa.array(products)),
    })


def ensure_log(workdir: Path, n: int, seed: int) -> Path:
    """The cached basket log of ``n`` customers, written chunk by chunk on first use."""
    import pyarrow.parquet as pq

    from cvm.datasets import write_parquet_chunks

    path = workdir / f"crosssell_log_{n}_seed{seed}.parquet"
    if path.exists():
        return path
    t0 = time.perf_counter()
    chunks = (basket_chunk(np.random.default_rng(child), k * CHUNK, min(CHUNK, n - k * CHUNK))
              for k, child in enumerate(np.random.SeedSequence(seed).spawn(-(-n // CHUNK))))
    write_parquet_chunks(chunks, path)
    print(f"generated {path.name} ({pq.ParquetFile(path).metadata.num_rows:,} rows) in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    return path


# -- the CVM child: one step, one fresh process -----------------------------------------------

def cvm_child(step: str, log: str, out: str, memory_limit: str, min_customers: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cvm.data.baskets import customer_items, item_rules
    from cvm.data.connect import duckdb_connection
    from cvm.value.crosssell import cross_sell, evaluate_cross_sell

    kind, item = step.rsplit("_", 1)
    settings = {"item": ITEMS[item], "min_customers": int(min_customers), "suggestions": 3}
    con = duckdb_connection(memory_limit=memory_limit)  # spills to a private folder of its own
    t0 = time.perf_counter()
    transactions = con.read_parquet(log)
    extra: dict = {}
    if kind == "rules":
        baskets = customer_items(transactions, observation_end=OBSERVATION_END, item=ITEMS[item])
        rules = item_rules(baskets, min_customers=int(min_customers), rules_per_item=ALL_RULES)
        con.to_parquet(rules, out)
    elif kind == "cross_sell":
        result = cross_sell(transactions, observation_end=OBSERVATION_END, settings=settings)
        pq.write_table(pa.Table.from_pandas(result.suggestions, preserve_index=False), out)
        pq.write_table(pa.Table.from_pandas(result.rules, preserve_index=False),
                       out.replace(".parquet", "_rules.parquet"))
        extra = {"basket_customers": result.customers, "suggestions": len(result.suggestions),
                 "customers_with_suggestions": result.customers_with_suggestions,
                 "rules": len(result.rules)}
    else:
        check = evaluate_cross_sell(transactions, calibration_end=CALIBRATION_END,
                                    observation_end=OBSERVATION_END, settings=settings)
        table = check.table.set_index("method")
        extra = {"customers_evaluated": int(table.loc["rules", "customers_evaluated"]),
                 **{f"{m}_{c}": float(table.loc[m, c]) for m in ("rules", "popular")
                    for c in ("hit_rate", "hit_rate_first", "precision")}}
        check.table.drop(columns=["method_zh"]).to_parquet(out, index=False)
    seconds = time.perf_counter() - t0
    con.disconnect()
    print(json.dumps({"step": step, "seconds": seconds, **extra}))


# -- the peer, guarded ------------------------------------------------------------------------

def ensure_peer(workdir: Path) -> Path:
    return ensure_venv(workdir, "crosssell-peer", PEER_REQUIREMENTS, "mlxtend, pandas, pyarrow")


def peer_estimate_mb(log: Path, item: str, customers: int) -> tuple[float, int]:
    """The peer's memory before FP-growth builds its tree: the filtered log in pandas
    (about 60 bytes a row with the item as a Python string) and the dense one-hot matrix
    (customers × items bytes). The FP-tree (Python objects, a few per distinct basket
    prefix) comes on top; the watchdog catches that part."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(log)
    rows = meta.metadata.num_rows
    items = len(CATEGORY_CODE) * (1 if item == "category" else PRODUCTS_PER_CATEGORY)
    return (rows * 60 + customers * items) / 2**20, items


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_guarded(cmd: list[str], workdir: Path, max_mb: float, timeout_s: float) -> dict:
    """Like ``bench_summary.run_measured``, but the child is killed (by its pid) when its
    resident memory passes ``max_mb`` or it runs longer than ``timeout_s``; the result then
    has ``failed`` (why) instead of the child's JSON."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    peak_seen, why = 0.0, None
    with tempfile.TemporaryFile("w+", dir=workdir) as out, \
            tempfile.TemporaryFile("w+", dir=workdir) as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_seen = max(peak_seen, _rss_mb(proc.pid))
            elapsed = time.perf_counter() - t0
            if why is None and peak_seen > max_mb:
                why = f"killed at {peak_seen:,.0f} MB resident after {elapsed:.0f} s (cap {max_mb:,.0f} MB)"
            elif why is None and elapsed > timeout_s:
                why = f"killed after {elapsed:.0f} s (time limit {timeout_s:.0f} s)"
            if why is not None:
                proc.kill()
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if why is None and proc.returncode != 0:
            why = f"failed ({proc.returncode}): {err.read()[-1500:]}"
        result = {"failed": why} if why else json.loads(out.read().strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["load"] = load
    result["wall_s"] = time.perf_counter() - t0
    return result


# -- agreement --------------------------------------------------------------------------------

def check_agreement(cvm_out: Path, peer_out: Path, tolerance: float = 1e-9) -> tuple[bool, list[str]]:
    """CVM's rules against mlxtend's: the same (antecedent, consequent) pairs, the same
    ``customers_both``, and support, confidence and lift within ``tolerance``."""
    import pyarrow.parquet as pq

    ours = pq.read_table(cvm_out).to_pandas()
    theirs = pq.read_table(peer_out).to_pandas()
    for frame in (ours, theirs):
        frame["antecedent"] = frame["antecedent"].astype(str)
        frame["consequent"] = frame["consequent"].astype(str)
    both = ours.merge(theirs, on=["antecedent", "consequent"], how="outer",
                      suffixes=("", "_peer"), indicator=True)
    same = len(ours) == len(theirs) and bool((both["_merge"] == "both").all())
    lines = [f"rules: CVM {len(ours):,}, mlxtend {len(theirs):,}, same pairs: {same}"]
    ok = same
    if not same:
        lines.append(f"only CVM: {int((both['_merge'] == 'left_only').sum())}, only mlxtend: "
                     f"{int((both['_merge'] == 'right_only').sum())}")
        both = both[both["_merge"] == "both"]
    counts = bool((both["customers_both"] == both["customers_both_peer"]).all())
    ok &= counts
    lines.append(f"customers_both equal for every pair: {counts} "
                 f"(min {int(both['customers_both'].min()) if len(both) else 0})")
    for c in ("support", "confidence", "lift"):
        diff = float(np.max(np.abs(both[c] - both[f"{c}_peer"]))) if len(both) else 0.0
        ok &= diff <= tolerance
        lines.append(f"{c}: max |CVM - mlxtend| = {diff:.3g} (tolerance {tolerance:g})")
    return ok, lines


# -- the parent -------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_cvm_child":  # internal: one measured CVM step
        cvm_child(*argv[1:6])
        return 0
    if argv and argv[0] == "_make_log":  # internal: the log, made in a child (see main)
        ensure_log(Path(argv[1]), int(argv[2]), int(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument("--memory-limit", default="1.5GB", help="DuckDB memory_limit for CVM")
    parser.add_argument("--min-customers", type=int, default=5,
                        help="customers who must have bought both items (CVM's default 5)")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--skip-peer", action="store_true", help="time CVM only")
    parser.add_argument("--peer-max-mb", type=float, default=12_000,
                        help="kill mlxtend when its resident memory passes this (MB)")
    parser.add_argument("--peer-timeout", type=float, default=3_600,
                        help="kill mlxtend after this many seconds")
    parser.add_argument("--check-max", type=int, default=1_000_000,
                        help="check agreement with mlxtend up to this many customers")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    state = source_state("src/cvm/data/baskets.py", "src/cvm/value/crosssell.py")
    print(f"CVM: {cvm_versions()}; {state}; DuckDB memory_limit {args.memory_limit}, "
          f"threads: DuckDB default ({os.cpu_count()})")
    peer = None if args.skip_peer else ensure_peer(workdir)
    if peer:
        print(f"peer: {package_versions(peer, 'mlxtend')} (in {peer.parent.parent}); memory cap "
              f"{args.peer_max_mb:,.0f} MB, time limit {args.peer_timeout:,.0f} s")
    print(f"load average (1/5/15 min): {'/'.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores: other work on the machine skews timings")
    print(f"baskets to {OBSERVATION_END}; evaluation calibrated to {CALIBRATION_END}, holdout to "
          f"{OBSERVATION_END}; min_customers {args.min_customers}, min_lift 1, 3 suggestions",
          flush=True)

    rows, checks, evaluations = [], [], []
    for n in args.customers:
        # made in a child process, so that the parent stays small for the measured children
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "_make_log", str(workdir),
                        str(n), str(args.seed)], check=True)
        log = workdir / f"crosssell_log_{n}_seed{args.seed}.parquet"
        for step in args.steps:
            cvm_out = workdir / f"cvm_{step}_{n}_seed{args.seed}.parquet"
            try:
                res = run_measured([sys.executable, str(Path(__file__).resolve()), "_cvm_child",
                                    step, str(log), str(cvm_out), args.memory_limit,
                                    str(args.min_customers)], workdir)
            except RuntimeError as exc:  # recorded (e.g. out of memory), the run goes on
                lines = str(exc).strip().splitlines()
                errors = [line for line in lines if "Error" in line or "Exception" in line]
                why = (errors or lines)[-1].strip()[:300]
                rows.append({"customers": n, "step": step, "cvm_failed": why})
                print(f"  {n:>11,} {step:<20} CVM     failed: {why}", flush=True)
                continue
            row = {"customers": n, "step": step, "cvm_s": res["seconds"], "cvm_mb": res["peak_mb"],
                   "cvm_cpu_s": res["cpu_s"], "cvm_load": res["load"],
                   **{k: v for k, v in res.items()
                      if k not in ("step", "seconds", "peak_mb", "cpu_s", "load")}}
            print(f"  {n:>11,} {step:<20} CVM     {res['seconds']:8.2f} s {res['peak_mb']:8.0f} MB"
                  f"   (process CPU {res['cpu_s']:.1f} s; load before: {res['load']:.1f})",
                  flush=True)
            if step.startswith("evaluate"):
                evaluations.append(row)
            if peer and step.startswith("rules"):
                item = step.split("_", 1)[1]
                estimate, items = peer_estimate_mb(log, item, n)
                peer_out = workdir / f"mlxtend_{step}_{n}_seed{args.seed}.parquet"
                if estimate > args.peer_max_mb:
                    peer_res = {"failed": f"not run: log in pandas + one-hot {n:,} × "
                                f"{items} needs about {estimate:,.0f} MB before FP-growth, over "
                                f"the cap of {args.peer_max_mb:,.0f} MB"}
                else:
                    peer_res = run_guarded(
                        [str(peer), str(HERE / "peer_crosssell.py"), str(log), ITEMS[item],
                         str(peer_out), "--observation-end", OBSERVATION_END,
                         "--min-customers", str(args.min_customers)],
                        workdir, args.peer_max_mb, args.peer_timeout)
                if "failed" in peer_res:
                    row["peer_failed"] = peer_res["failed"]
                    row.update({k: peer_res[k] for k in ("peak_mb", "wall_s") if k in peer_res})
                    print(f"  {n:>11,} {step:<20} mlxtend  {peer_res['failed']}", flush=True)
                else:
                    file_s = (peer_res["load_seconds"] + peer_res["encode_seconds"]
                              + peer_res["seconds"] + peer_res["write_seconds"])
                    row.update(peer_s=peer_res["seconds"], peer_file_s=file_s,
                               peer_load_s=peer_res["load_seconds"],
                               peer_encode_s=peer_res["encode_seconds"],
                               peer_write_s=peer_res["write_seconds"],
                               peer_mb=peer_res["peak_mb"], peer_cpu_s=peer_res["cpu_s"],
                               peer_load=peer_res["load"], peer_rules=peer_res["rules"],
                               ratio=file_s / res["seconds"],
                               ratio_call=peer_res["seconds"] / res["seconds"])
                    print(f"  {n:>11,} {step:<20} mlxtend {file_s:8.2f} s "
                          f"{peer_res['peak_mb']:8.0f} MB   (file to file: "
                          f"{peer_res['load_seconds']:.1f} s loading + "
                          f"{peer_res['encode_seconds']:.1f} s one-hot + {peer_res['seconds']:.2f} s "
                          f"fpgrowth and association_rules + {peer_res['write_seconds']:.2f} s "
                          f"writing; process CPU {peer_res['cpu_s']:.1f} s; load before: "
                          f"{peer_res['load']:.1f})", flush=True)
                    if n <= args.check_max:
                        ok, lines = check_agreement(cvm_out, peer_out)
                        checks.append((n, step, ok, lines))
            rows.append(row)

    print()
    print("| customers | step | CVM s | CVM CPU s | CVM peak MB | mlxtend s | mlxtend rules s "
          "| mlxtend CPU s | mlxtend peak MB | speed ratio | ratio to rules call |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "cvm_failed" in r:
            print(f"| {r['customers']:,} | {r['step']} | failed: {r['cvm_failed']} | | | – | – | – "
                  "| – | – | – |")
            continue
        if "peer_file_s" in r:
            peer_cols = (f"{r['peer_file_s']:.2f} | {r['peer_s']:.2f} | {r['peer_cpu_s']:.1f} | "
                         f"{r['peer_mb']:,.0f} | {r['ratio']:.1f}× | {r['ratio_call']:.1f}×")
        elif "peer_failed" in r:
            peer_cols = f"{r['peer_failed']} | | | | |"
        else:
            peer_cols = "– | – | – | – | – | –"
        print(f"| {r['customers']:,} | {r['step']} | {r['cvm_s']:.2f} | {r['cvm_cpu_s']:.1f} | "
              f"{r['cvm_mb']:,.0f} | {peer_cols} |")
    print("(s: wall-clock seconds, file to file on both sides: read the Parquet log, compute, "
          "write Parquet; mlxtend rules s: fpgrowth + association_rules alone, without loading, "
          "one-hot encoding and writing; CPU s: user + system seconds of the whole child process, "
          "start-up included; speed ratio: mlxtend s / CVM s; ratio to rules call: mlxtend "
          "rules s / CVM s)")
    for r in rows:
        if "suggestions" in r:
            print(f"\n{r['customers']:,} customers, {r['step']}: {r['customers_with_suggestions']:,} "
                  f"of {r['basket_customers']:,} customers with a basket got a rule-based suggestion; "
                  f"{r['suggestions']:,} suggestions from {r['rules']:,} rules")
    for r in evaluations:
        print(f"\nevaluation, {r['customers']:,} customers ({r['customers_evaluated']:,} bought a "
              f"category new to them after {CALIBRATION_END}):")
        print("| method | hit rate | hit rate of the first suggestion | precision |")
        print("|---|---:|---:|---:|")
        for m in ("rules", "popular"):
            print(f"| {m} | {r[f'{m}_hit_rate']:.1%} | {r[f'{m}_hit_rate_first']:.1%} | "
                  f"{r[f'{m}_precision']:.1%} |")
    for n, step, ok, lines in checks:
        print(f"\nagreement check, {n:,} customers, {step}: {'PASS' if ok else 'FAIL'}")
        for line in lines:
            print(f"  {line}")
    with open(workdir / "results.jsonl", "a") as f:
        f.write(json.dumps({"bench": "crosssell",
                            "date": dt.datetime.now(dt.timezone.utc).isoformat(),
                            "seed": args.seed, "memory_limit": args.memory_limit,
                            "min_customers": args.min_customers, "rows": rows,
                            "checks": [(n, s, ok) for n, s, ok, _ in checks]}) + "\n")
    failed = any("cvm_failed" in r for r in rows)
    return 0 if all(ok for *_, ok, _ in checks) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
