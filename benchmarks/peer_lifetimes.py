"""The peer side of ``bench_summary.py``: lifetimes' summaries on a Parquet transaction log.

Runs inside the peer's own virtual environment (lifetimes 0.11.3 needs pandas < 2), started
by ``bench_summary.py`` as a subprocess, so that its peak memory is measured on its own.
It does not import CVM.

    python peer_lifetimes.py summary LOG.parquet OUT.parquet --observation-end 2021-12-30
    python peer_lifetimes.py split LOG.parquet OUT.parquet --calibration-end 2021-06-30 \\
        --holdout-end 2021-12-30

Three phases are timed separately: loading the Parquet file into pandas (dates are read
straight into datetime64[ns], so lifetimes does not have to parse them), the lifetimes call,
and writing the result to Parquet. ``bench_summary.py`` compares CVM's file-to-file time with
the sum of the three (the same work on both sides) and also shows the call alone.
Durations are in weeks of 7 days with purchases counted per day, as in CVM:
``freq="D", freq_multiplier=7``. Prints one JSON line: the step, seconds of the lifetimes
call, seconds spent loading and writing, and the result's row count.
"""

from __future__ import annotations

import argparse
import json
import time

import pyarrow.parquet as pq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["summary", "split"])
    parser.add_argument("log")
    parser.add_argument("out")
    parser.add_argument("--observation-end")
    parser.add_argument("--calibration-end")
    parser.add_argument("--holdout-end")
    args = parser.parse_args()

    from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

    t0 = time.perf_counter()
    transactions = pq.read_table(args.log).to_pandas(date_as_object=False)
    load_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    if args.step == "summary":
        result = summary_data_from_transaction_data(
            transactions, "customer_id", "date", monetary_value_col="amount",
            observation_period_end=args.observation_end, freq="D", freq_multiplier=7,
        )
    else:
        result = calibration_and_holdout_data(
            transactions, "customer_id", "date", calibration_period_end=args.calibration_end,
            observation_period_end=args.holdout_end, freq="D", freq_multiplier=7,
            monetary_value_col="amount",
        )
    seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    result.reset_index().to_parquet(args.out, index=False)
    write_seconds = time.perf_counter() - t0
    print(json.dumps({"step": args.step, "seconds": seconds, "load_seconds": load_seconds,
                      "write_seconds": write_seconds, "rows": int(len(result))}))


if __name__ == "__main__":
    main()
