"""Time CVM's BG/NBD, Pareto/NBD, Gamma-Gamma fits and predictions against two peers.

    .venv/bin/python benchmarks/bench_models.py --customers 1000000
    .venv/bin/python benchmarks/bench_models.py --dataset cdnow_master
    .venv/bin/python benchmarks/bench_models.py --customers 10000000 --steps pnbd \\
        --skip-peer lifetimes --skip-peer pymc

The peers are lifetimes and pymc-marketing. For one data set the script

1. writes BTYD summaries (``customer_id, frequency, recency, T, monetary_value``; weeks) to a
   Parquet file in the work folder, which every side reads: either CDNOW master summarised
   to 1997-09-30 (the papers' 39-week calibration period; the one repeat buyer whose repeat
   purchases are all worth 0 is left out, as Gamma-Gamma needs positive spend) or ``N``
   synthetic customers drawn with a fixed seed from BG/NBD (CDNOW's parameters,
   ``cvm.models.bgnbd.simulate``) with ``T`` a whole number of days (uniform over two years)
   / 7, recency rounded up to a whole day, and spend from Gamma-Gamma
   (``cvm.models.gamma_gamma.simulate``);
2. runs each step in a fresh process, CVM ``--repeat`` times (the best and the median are
   kept), each peer once, in the peer's own virtual environment made here on first use
   (lifetimes 0.11.3 as in ``bench_summary.py``; pymc-marketing pinned below, which needs
   Python >= 3.12: ``--pymc-python``);
3. prints a table: seconds (fit, or prediction; reading the file and imports not counted),
   the ratio of the faster peer to CVM, peak memory (the child's ``ru_maxrss``, the whole
   process) and each side's parameters, with whether they agree to 3 significant digits.

Steps: ``bgnbd`` and ``pnbd`` (fit on all customers), ``gamma_gamma`` (fit on those with
``frequency > 0``), ``predict`` (BG/NBD and Gamma-Gamma fitted first, not timed; then
13-week expected purchases, P(alive) and 12-month CLV with Gamma-Gamma spend at 1 % a month;
CVM reads and checks the customer table once with ``prepare_customers``, inside the timing).
pymc-marketing fits with ``fit(method="map")`` and flat (``HalfFlat``) priors, so its MAP is
the maximum-likelihood point the others find.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from bench_summary import ensure_peer, ensure_venv, machine, run_measured, source_state

HERE = Path(__file__).resolve().parent
STEPS = ("bgnbd", "pnbd", "gamma_gamma", "predict")
PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pnbd": ("r", "alpha", "s", "beta"),
          "gamma_gamma": ("p", "q", "gamma")}
PEERS = ("lifetimes", "pymc")
# pymc-marketing's environment: the versions pip resolved for pymc-marketing 1.3.0 on
# Python 3.12 (2026-11-22), pinned.
PYMC_REQUIREMENTS = [
    "pymc-marketing==1.3.0", "pymc==6.3.2", "pytensor==3.3.7", "pymc-extras==0.15.1",
    "numpy==2.4.6", "pandas==3.1.1", "scipy==1.18.1", "arviz==1.3.0", "xarray==2026.9.0",
    "pyarrow==26.0.1",
]
DAYS = 730  # synthetic customers are acquired over two years
CDNOW_END = "1997-09-30"
HORIZON_WEEKS = 13
CLV_MONTHS, MONTHLY_DISCOUNT = 12, 0.01


# -- the CVM child: one step, one fresh process ------------------------------------------------

def _cvm_fit(step: str, data: dict):
    from cvm.models.bgnbd import BetaGeoModel
    from cvm.models.gamma_gamma import GammaGammaModel
    from cvm.models.pareto_nbd import ParetoNBDModel

    if step == "gamma_gamma":
        return GammaGammaModel().fit({k: data[k] for k in ("frequency", "monetary_value")})
    model = BetaGeoModel() if step == "bgnbd" else ParetoNBDModel()
    return model.fit({k: data[k] for k in ("frequency", "recency", "T")})


def cvm_child(step: str, path: str) -> None:
    import time

    import numpy as np
    import pyarrow.parquet as pq

    from cvm.data.timeunit import TimeUnit
    from cvm.models.clv import customer_lifetime_value

    table = pq.read_table(path)
    columns = ("frequency", "recency", "T", "monetary_value")
    data = {c: table[c].to_numpy().astype(float) for c in columns}
    params, checks = {}, {}
    if step == "predict":
        bg = _cvm_fit("bgnbd", data)
        gg = _cvm_fit("gamma_gamma", data)
        weeks_a_month = TimeUnit.MONTH.days / TimeUnit.WEEK.days
        t0 = time.perf_counter()
        customers = bg.prepare_customers(data)  # read and checked once for the three predictions
        purchases = bg.expected_purchases(customers, HORIZON_WEEKS)
        alive = bg.probability_alive(customers)
        spend = gg.expected_spend(customers)
        clv = customer_lifetime_value(
            bg, customers, spend=spend, horizon=CLV_MONTHS * weeks_a_month,
            discount_rate=(1 + MONTHLY_DISCOUNT) ** (1 / weeks_a_month) - 1, steps=CLV_MONTHS,
        )
        seconds = time.perf_counter() - t0
        checks = {"purchases_13w": float(np.sum(purchases)), "p_alive": float(np.sum(alive)),
                  "clv_12m": float(np.sum(clv))}
    else:
        t0 = time.perf_counter()
        model = _cvm_fit(step, data)
        seconds = time.perf_counter() - t0
        params = {k: float(model.params_[k]) for k in PARAMS[step]}
        checks = {"converged": bool(model.converged_),
                  "log_likelihood": float(model.log_likelihood_)}
    print(json.dumps({"step": step, "seconds": seconds, "params": params, "checks": checks}))


# -- data --------------------------------------------------------------------------------------

def ensure_summary(workdir: Path, dataset: str, n: int, seed: int) -> Path:
    """Write (once) the BTYD summaries every side reads; returns the Parquet file."""
    import time

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if dataset == "cdnow_master":
        path = workdir / f"btyd_cdnow_master_{CDNOW_END}.parquet"
        if not path.exists():
            import ibis
            import pyarrow.compute as pc

            from cvm.data.summaries import btyd_summary
            from cvm.datasets import load

            table = btyd_summary(ibis.memtable(load("cdnow_master")), observation_end=CDNOW_END,
                                 unit="week").to_pyarrow()
            table = table.select(["customer_id", "frequency", "recency", "T", "monetary_value"])
            # Gamma-Gamma needs positive spend: drop the repeat buyers whose repeat purchases
            # are all zero-valued (one customer of 23,570)
            keep = pc.or_(pc.equal(table["frequency"], 0), pc.greater(table["monetary_value"], 0))
            pq.write_table(table.filter(keep), path)
        return path
    from cvm.models import bgnbd, gamma_gamma

    path = workdir / f"btyd_bgnbd_{n}_seed{seed}.parquet"
    if path.exists():
        return path
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    t_days = rng.integers(1, DAYS + 1, n).astype(float)
    sim = bgnbd.simulate(**bgnbd.BetaGeoModel.example_params, T=t_days / 7,
                         seed=rng.integers(2**32))
    x = sim["frequency"]
    recency_days = np.where(x > 0, np.minimum(np.ceil(sim["recency"] * 7 - 1e-9), t_days), 0.0)
    recency_days = np.where(x > 0, np.maximum(recency_days, 1.0), 0.0)
    spend = gamma_gamma.simulate(**gamma_gamma.GammaGammaModel.example_params, frequency=x,
                                 seed=rng.integers(2**32))
    table = pa.table({"customer_id": np.arange(1, n + 1, dtype=np.int64), "frequency": x,
                      "recency": recency_days / 7, "T": t_days / 7,
                      "monetary_value": spend["monetary_value"]})
    pq.write_table(table, path)
    print(f"generated {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


# -- peers -------------------------------------------------------------------------------------

def ensure_pymc(workdir: Path, base_python: str) -> Path:
    return ensure_venv(workdir, "pymc", PYMC_REQUIREMENTS, "pymc_marketing.clv, pyarrow",
                       base_python=base_python)


def versions(python: str, modules: list[str]) -> str:
    code = ("import importlib.metadata as m, platform; "
            f"print(', '.join(f'{{k}} {{m.version(k)}}' for k in {modules!r}) + "
            "', Python ' + platform.python_version())")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


# -- the table ---------------------------------------------------------------------------------

def agree3(a: float, b: float) -> bool:
    """Whether two numbers agree to 3 significant digits (equal when both are rounded so)."""
    return f"{a:.3g}" == f"{b:.3g}" or abs(a - b) <= 5e-4 * max(abs(a), abs(b))


def params_text(params: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in params.items()) if params else "–"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_cvm_child":  # internal: one measured CVM step
        cvm_child(*argv[1:3])
        return 0
    if argv and argv[0] == "_make_data":  # internal: the summaries, made outside the parent
        import pyarrow.parquet as pq

        path = ensure_summary(Path(argv[1]), argv[2], int(argv[3]), int(argv[4]))
        print(json.dumps({"path": str(path), "rows": pq.read_metadata(path).num_rows}))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="synthetic customers (default 1,000,000); "
                             "ignored with --dataset cdnow_master")
    parser.add_argument("--dataset", choices=["synthetic", "cdnow_master"], default="synthetic")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help=f"comma-separated, from {', '.join(STEPS)} (default: all)")
    parser.add_argument("--skip-peer", action="append", choices=PEERS, default=[],
                        help="leave a peer out (may be given twice)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="CVM runs per step (best and median kept)")
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument("--pymc-python", default="python3.12",
                        help="a Python >= 3.12 to make pymc-marketing's environment with")
    args = parser.parse_args(argv)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = set(steps) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; choose from {', '.join(STEPS)}")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    cvm_versions = versions(sys.executable, ["cvm", "numpy", "scipy", "pyarrow"])
    print(f"CVM: {cvm_versions}; {source_state('src/cvm/models')}")
    peers = {}
    if "lifetimes" not in args.skip_peer:
        peers["lifetimes"] = str(ensure_peer(workdir))
        modules = ["lifetimes", "numpy", "scipy", "pandas", "autograd"]
        print(f"lifetimes: {versions(peers['lifetimes'], modules)}")
    if "pymc" not in args.skip_peer:
        peers["pymc"] = str(ensure_pymc(workdir, args.pymc_python))
        modules = ["pymc-marketing", "pymc", "pytensor", "numpy", "scipy", "pandas"]
        print(f"pymc-marketing: {versions(peers['pymc'], modules)}")
    # made in a child: a child's ru_maxrss starts at its parent's resident size at fork, so
    # the parent must stay small for the children's peak memory to be their own
    script = str(Path(__file__).resolve())
    made = subprocess.run([sys.executable, script, "_make_data", str(workdir), args.dataset,
                           str(args.customers), str(args.seed)],
                          capture_output=True, text=True, check=True)
    *messages, last = made.stdout.strip().splitlines()
    for line in messages:
        print(line)
    info = json.loads(last)
    data, n = Path(info["path"]), info["rows"]
    label = "CDNOW master" if args.dataset == "cdnow_master" else f"synthetic (seed {args.seed})"
    print(f"data: {data.name}: {n:,} customers, {label}")
    print(f"load average (1/5/15 min): {'/'.join(f'{x:.1f}' for x in os.getloadavg())} on "
          f"{os.cpu_count()} cores: other work on the machine skews timings", flush=True)

    rows = []
    for step in steps:
        runs = []
        for _ in range(args.repeat):
            res = run_measured([sys.executable, script, "_cvm_child", step, str(data)], workdir)
            runs.append(res)
            print(f"  {step:<12} CVM       {res['seconds']:9.3f} s {res['peak_mb']:7.0f} MB  "
                  f"(load before {res['load']:.1f}) {params_text(res['params'])} {res['checks']}",
                  flush=True)
        best = min(runs, key=lambda r: r["seconds"])
        row = {"step": step, "customers": n, "cvm_best_s": best["seconds"],
               "cvm_median_s": statistics.median(r["seconds"] for r in runs),
               "cvm_runs_s": [r["seconds"] for r in runs],
               "cvm_mb": max(r["peak_mb"] for r in runs),
               "cvm_loads": [r["load"] for r in runs], "cvm_params": best["params"],
               "cvm_checks": best["checks"]}
        for peer, python in peers.items():
            cmd = [python, str(HERE / "peer_models.py"), peer, step, str(data)]
            try:
                res = run_measured(cmd, workdir)
            except RuntimeError as exc:
                print(f"  {step:<12} {peer:<9} FAILED: {str(exc)[-1500:]}", flush=True)
                row[peer] = {"error": str(exc)[-1500:]}
                continue
            row[peer] = {"s": res["seconds"], "mb": res["peak_mb"], "load": res["load"],
                         "params": res["params"], "checks": res["checks"]}
            print(f"  {step:<12} {peer:<9} {res['seconds']:9.3f} s {res['peak_mb']:7.0f} MB  "
                  f"(load before {res['load']:.1f}) {params_text(res['params'])} {res['checks']}",
                  flush=True)
        rows.append(row)

    print()
    names = {"lifetimes": "lifetimes", "pymc": "pymc-marketing"}
    head = (["step", "CVM best s", "CVM median s"] + [f"{names[p]} s" for p in peers]
            + ["faster peer / CVM best (median)", "CVM peak MB"]
            + [f"{names[p]} peak MB" for p in peers] + ["CVM parameters"]
            + [f"{names[p]} parameters (3 s.f. agree?)" for p in peers])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        peer_s = [r[p]["s"] for p in peers if "s" in r.get(p, {})]
        fastest = min(peer_s) if peer_s else None
        ratio = (f"{fastest / r['cvm_best_s']:.1f}× ({fastest / r['cvm_median_s']:.1f}×)"
                 if fastest else "–")
        cells = [r["step"], f"{r['cvm_best_s']:.3f}", f"{r['cvm_median_s']:.3f}"]
        cells += [f"{r[p]['s']:.2f}" if "s" in r.get(p, {}) else "failed" for p in peers]
        cells += [ratio, f"{r['cvm_mb']:,.0f}"]
        cells += [f"{r[p]['mb']:,.0f}" if "mb" in r.get(p, {}) else "–" for p in peers]
        cells.append(params_text(r["cvm_params"]) if r["cvm_params"]
                     else json.dumps(r["cvm_checks"]))
        for p in peers:
            if "params" not in r.get(p, {}):
                cells.append("–")
            elif r[p]["params"]:
                ok = all(agree3(r["cvm_params"][k], v) for k, v in r[p]["params"].items())
                cells.append(f"{params_text(r[p]['params'])} ({'yes' if ok else 'NO'})")
            else:
                cells.append(json.dumps(r[p]["checks"]))
        print("| " + " | ".join(cells) + " |")
    print("(s: wall-clock seconds of the fit or of the prediction alone, in a fresh process; "
          "reading the Parquet file and imports not counted; peak MB: the child's ru_maxrss, "
          "whole process; for predict, the parameters column shows sums over customers of "
          "13-week purchases, P(alive) and 12-month CLV)")
    with open(workdir / "models_results.jsonl", "a") as f:
        f.write(json.dumps({"date": dt.datetime.now(dt.timezone.utc).isoformat(), "data": data.name,
                            "customers": n, "seed": args.seed, "python": platform.python_version(),
                            "rows": rows}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
