"""Time the whole value layer (``cvm.value.customer_value``) on a synthetic base of N customers.

Issue 4's target: 10 million customers through the whole value layer in under 20 seconds on
this machine (2 cores). No peer library has this layer, so the script reports CVM alone:
seconds and peak memory of one ``customer_value`` call (history, next-periods forecast,
CLV, composition with referrals, every segmentation, the five-factor score, equity,
pyramid, concentration and value-at-risk tables), in a fresh process, after the inputs are
built (not timed).

The inputs are drawn, not read: BTYD summaries from BG/NBD (r 0.243, alpha 4.414, a 0.793,
b 2.426) with customers acquired over two years, spend from Gamma-Gamma, product cost 55–65 %
of revenue, per-period history for the last three months, a profile table (channel,
acquisition cost, gender, region), each customer's state one month earlier (the history's
``*_previous`` columns), RFM quintiles and referrals for 5 % of the customers. The models are
``from_params`` (fitting is timed by ``bench_models.py``).

    .venv/bin/python benchmarks/bench_value.py --customers 10000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

END = dt.date(2024, 12, 31)
DAYS = 730


def build_inputs(n: int, seed: int) -> dict:
    from cvm.models.bgnbd import BetaGeoModel, simulate
    from cvm.models.gamma_gamma import GammaGammaModel

    rng = np.random.default_rng(seed)
    age_days = rng.integers(1, DAYS + 1, n)
    sim = simulate(0.243, 4.414, 0.793, 2.426, T=age_days / 7.0, seed=seed)
    x = sim["frequency"]
    recency_days = np.ceil(sim["recency"] * 7.0)
    recency_days = np.minimum(recency_days, age_days)
    nu = rng.gamma(3.74, 1 / 15.44, n)
    spend = rng.gamma(6.25, 1.0, n) / nu
    n_purchases = x + 1
    revenue = np.round(spend * n_purchases, 2)
    end = np.datetime64(END)
    first = end - age_days.astype("timedelta64[D]")
    last = first + recency_days.astype("timedelta64[D]")
    cost_share = rng.uniform(0.55, 0.65, n)
    returns = np.where(rng.random(n) < 0.03, np.round(revenue * 0.2, 2), 0.0)
    history = {
        # zero-padded, so sorted like the data layer's tables
        "customer_id": pd.array(np.char.add("c", np.char.zfill(np.arange(n).astype(str), 9)), dtype="string"),
        "first_purchase": first, "last_purchase": last,
        "n_purchases": n_purchases.astype(np.int64),
        "tenure_days": age_days.astype(np.int64),
        "days_since_last_purchase": (age_days - recency_days).astype(np.int64),
        "revenue": revenue, "returns": returns, "gross_sales": revenue + returns,
        "product_cost": np.round(revenue * cost_share, 2), "marketing_cost": np.round(rng.uniform(0, 5, n), 2),
    }
    history["gross_margin"] = history["revenue"] - history["product_cost"] - history["marketing_cost"]
    recent = age_days - recency_days < 92
    for k in range(1, 4):
        rev_k = np.where(recent & (rng.random(n) < 0.4), np.round(spend, 2), 0.0)
        history |= {f"revenue_hist_{k}": rev_k, f"product_cost_hist_{k}": np.round(rev_k * cost_share, 2),
                    f"marketing_cost_hist_{k}": np.zeros(n), f"orders_hist_{k}": (rev_k > 0).astype(np.int64)}
        history[f"gross_margin_hist_{k}"] = rev_k - history[f"product_cost_hist_{k}"]
    history = pd.DataFrame(history)
    summary = pd.DataFrame({
        "customer_id": history["customer_id"], "frequency": x, "recency": recency_days / 7.0,
        "T": age_days / 7.0, "monetary_value": np.where(x > 0, spend, 0.0),
    })
    # the state one period (a month) earlier, as value_history gives it
    previous_age = age_days - 31
    known = previous_age > 0
    previous_recency = np.minimum(recency_days, np.maximum(previous_age, 0))
    history["n_purchases_previous"] = np.where(known, np.where(previous_recency < recency_days, 1, n_purchases), 0)
    history["recency_days_previous"] = np.where(known, np.where(previous_recency < recency_days, 0, recency_days), np.nan)
    history["tenure_days_previous"] = np.where(known, previous_age, np.nan)
    channels = np.array(["search", "social", "store", "referral", "email"])
    customers = pd.DataFrame({
        "customer_id": history["customer_id"],
        "acquisition_channel": pd.Categorical.from_codes(rng.integers(0, 5, n), channels),
        "acquisition_cost": np.round(rng.uniform(5, 60, n), 2),
        "gender": pd.Categorical.from_codes(rng.integers(0, 2, n), ["F", "M"]),
        "region": pd.Categorical.from_codes(rng.integers(0, 8, n), [f"r{i}" for i in range(8)]),
    })
    referred = rng.choice(n, size=n // 20, replace=False)
    referrals = pd.DataFrame({"referrer_id": history["customer_id"].to_numpy()[rng.integers(0, n, referred.size)],
                              "referred_id": history["customer_id"].to_numpy()[referred]})
    scores = {}
    for name, values in (("recency_score", -history["days_since_last_purchase"].to_numpy()),
                         ("frequency_score", n_purchases), ("monetary_score", revenue)):
        order = np.lexsort((np.arange(n), values))
        quintile = np.empty(n, dtype=np.int64)
        quintile[order] = np.arange(n) * 5 // n + 1
        scores[name] = quintile
    rfm = pd.DataFrame({"customer_id": history["customer_id"], **scores})
    return {
        "history": history, "summary": summary, "customers": customers,
        "referrals": referrals, "rfm": rfm,
        "model": BetaGeoModel.from_params(BetaGeoModel.example_params),
        "spend_model": GammaGammaModel.from_params(GammaGammaModel.example_params),
        "observation_end": END, "unit": "week",
    }


def child(n: int, seed: int) -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    from cvm.value.table import customer_value

    t0 = time.perf_counter()
    inputs = build_inputs(n, seed)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = customer_value(**inputs)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "customers": n, "seconds": seconds, "inputs_seconds": built, "peak_mb": peak_mb,
        "rows": len(result.table), "columns": result.table.shape[1],
        "customer_equity": result.customer_equity, "at_risk": int(result.table["at_risk"].sum()),
    }))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.customers, args.seed)
        return 0
    load = ", ".join(f"{v:.1f}" for v in __import__("os").getloadavg())
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.platform()}; load {load}")
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, __file__, "--child", "--customers", str(args.customers),
                              "--seed", str(args.seed)], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"customer_value: {row['customers']:,} customers in {row['seconds']:.2f} s "
              f"(target < 20 s at 10M), peak {row['peak_mb']:,.0f} MB (whole process, inputs included); "
              f"{row['rows']:,} rows × {row['columns']} columns; customer equity {row['customer_equity']:,.0f}; "
              f"{row['at_risk']:,} at risk; inputs built in {row['inputs_seconds']:.1f} s (not timed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
