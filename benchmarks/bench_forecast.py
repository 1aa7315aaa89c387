"""Time the value layer's forecast step (``cvm.value.forecast.forecast_value``) on a large BTYD summary.

The step `cvm analyze` calls "computing customer value" spends most of its time here:
expected purchases in the next periods, P(alive) and the model-based CLV (the discounted
expected purchases over the CLV horizon, one slice a month). The summary is the BTYD summary
(weeks) of the synthetic log ``bench_analyze.py`` writes (``benchmarks/.work/transactions_<N>_seed1.parquet``),
built once with :func:`cvm.data.summaries.btyd_summary` on DuckDB and kept beside it; the purchase
model is fitted to it once and its parameters kept too. Then each model (Pareto/NBD, BG/NBD,
MBG/NBD) is timed through ``forecast_value`` with the default value settings, in this process;
peak RSS is the process's.

    .venv/bin/python benchmarks/bench_analyze.py --skip-cdnow --skip-peer --customers 1000000   # writes the log
    .venv/bin/python benchmarks/bench_forecast.py --customers 1000000 [--models pnbd,bgnbd,mbgnbd]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORK = Path(__file__).resolve().parent / ".work"


def summary_and_end(n: int) -> tuple[pd.DataFrame, dt.date]:
    """The BTYD summary of the synthetic log with ``n`` customers (weeks), cached as parquet."""
    import ibis

    from cvm.data import summaries

    log_path = WORK / f"transactions_{n}_seed1.parquet"
    cached = WORK / f"btyd_transactions_{n}_seed1.parquet"
    con = ibis.duckdb.connect()
    tx = con.read_parquet(log_path)
    end = tx.date.max().to_pyarrow().as_py()
    if not cached.exists():
        summaries.btyd_summary(tx, observation_end=end, unit="week").to_parquet(cached)
    return pd.read_parquet(cached), end


def fitted(name: str, summary: pd.DataFrame, n: int):
    from cvm.models.bgnbd import BetaGeoModel
    from cvm.models.mbgnbd import ModifiedBetaGeoModel
    from cvm.models.pareto_nbd import ParetoNBDModel

    cls = {"pnbd": ParetoNBDModel, "bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel}[name]
    path = WORK / f"params_{name}_{n}_seed1.json"
    if not path.exists():
        model = cls().fit(summary[["frequency", "recency", "T"]])
        path.write_text(json.dumps(model.params_))
    return cls.from_params(json.loads(path.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--models", default="pnbd,bgnbd,mbgnbd")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    from cvm.value.config import ValueConfig
    from cvm.value.forecast import forecast_value

    summary, end = summary_and_end(args.customers)
    aov = np.where(summary["monetary_value"] > 0, summary["monetary_value"], np.nan)
    print(f"{len(summary):,} customers, observation end {end}")
    for name in args.models.split(","):
        model = fitted(name, summary, args.customers)
        for _ in range(args.repeat):
            start = time.perf_counter()
            future = forecast_value(model, None, summary, observation_end=end, unit="week", config=ValueConfig(),
                                    margin_ratio=0.3, average_order_value=aov)
            seconds = time.perf_counter() - start
            clv = future.columns["clv"]
            print(f"{name:7s} forecast_value {seconds:7.2f} s   sum(clv) {float(np.sum(clv)):.12e}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
