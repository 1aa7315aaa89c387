"""The peer side of ``bench_models.py``: fit and predict with lifetimes or pymc-marketing.

Runs inside the peer's own virtual environment (made by ``bench_models.py``), one step per
process, so that the step's peak memory is measured on its own. It does not import CVM.

    python peer_models.py lifetimes bgnbd SUMMARY.parquet
    python peer_models.py pymc predict SUMMARY.parquet

``SUMMARY.parquet`` holds BTYD summaries: ``customer_id, frequency, recency, T,
monetary_value`` (durations in weeks; ``monetary_value`` 0 where ``frequency`` is 0). Steps:

* ``bgnbd``, ``pnbd``: fit BG/NBD or Pareto/NBD by maximum likelihood (lifetimes) or
  maximum a posteriori with flat priors, which is the same point (pymc-marketing,
  ``fit(method="map")``);
* ``gamma_gamma``: fit Gamma-Gamma on the customers with ``frequency > 0``;
* ``predict``: fit BG/NBD and Gamma-Gamma first (not timed), then time 13-week expected
  purchases, P(alive) and the 12-month CLV (Gamma-Gamma spend, 1 % discount a month).

Only the fit or the prediction is timed: reading the Parquet file and importing the library
are not. Prints one JSON line: seconds, the fitted parameters (papers' symbols) and, for
``predict``, sums of the predictions as a check.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pyarrow.parquet as pq

PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pnbd": ("r", "alpha", "s", "beta"),
          "gamma_gamma": ("p", "q", "gamma")}
HORIZON_WEEKS = 13  # expected purchases
CLV_MONTHS, MONTHLY_DISCOUNT = 12, 0.01


# -- lifetimes 0.11.3 --------------------------------------------------------------------------

def lifetimes_fit(step: str, df):
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    if step == "gamma_gamma":
        repeat = df[df["frequency"] > 0]
        model = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        params = model.params_
        return model, {"p": params["p"], "q": params["q"], "gamma": params["v"]}
    fitter = BetaGeoFitter() if step == "bgnbd" else ParetoNBDFitter()
    model = fitter.fit(df["frequency"], df["recency"], df["T"])
    return model, {k: model.params_[k] for k in PARAMS[step]}


def lifetimes_predict(df) -> tuple[float, dict]:
    bgf, _ = lifetimes_fit("bgnbd", df)
    ggf, _ = lifetimes_fit("gamma_gamma", df)
    f, r, T, m = df["frequency"], df["recency"], df["T"], df["monetary_value"]
    t0 = time.perf_counter()
    purchases = bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, f, r, T)
    alive = bgf.conditional_probability_alive(f, r, T)
    clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=CLV_MONTHS,
                                      discount_rate=MONTHLY_DISCOUNT, freq="W")
    seconds = time.perf_counter() - t0
    return seconds, {"purchases_13w": float(np.sum(purchases)), "p_alive": float(np.sum(alive)),
                     "clv_12m": float(np.sum(clv))}


# -- pymc-marketing ----------------------------------------------------------------------------

def pymc_flat(names):
    from pymc_extras.prior import Prior

    return {k: Prior("HalfFlat") for k in names}


def pymc_fit(step: str, df):
    from pymc_marketing import clv

    if step == "gamma_gamma":
        repeat = df.loc[df["frequency"] > 0, ["customer_id", "frequency", "monetary_value"]]
        model, data = clv.GammaGammaModel(model_config=pymc_flat(("p", "q", "v"))), repeat
        names = {"p": "p", "q": "q", "gamma": "v"}
    elif step == "bgnbd":
        model = clv.BetaGeoModel(model_config=pymc_flat(("r", "alpha", "a", "b")))
        data = df[["customer_id", "frequency", "recency", "T"]]
        names = {k: k for k in PARAMS[step]}
    else:
        model = clv.ParetoNBDModel(model_config=pymc_flat(("r", "alpha", "s", "beta")))
        data = df[["customer_id", "frequency", "recency", "T"]]
        names = {k: k for k in PARAMS[step]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data=data, method="map", progressbar=False)
    posterior = model.fit_result
    return model, {k: float(posterior[v].values.reshape(-1)[0]) for k, v in names.items()}


def pymc_predict(df) -> tuple[float, dict]:
    from pymc_marketing import clv

    bgm, _ = pymc_fit("bgnbd", df)
    ggm, _ = pymc_fit("gamma_gamma", df)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        purchases = bgm.expected_purchases(future_t=HORIZON_WEEKS)
        alive = bgm.expected_probability_alive()
        spend = ggm.expected_customer_spend(data=df)
        data = df[["customer_id", "frequency", "recency", "T"]].assign(
            future_spend=spend.mean(("chain", "draw")).values)
        value = clv.customer_lifetime_value(transaction_model=bgm, data=data, future_t=CLV_MONTHS,
                                            discount_rate=MONTHLY_DISCOUNT, time_unit="W")
    seconds = time.perf_counter() - t0
    return seconds, {"purchases_13w": float(purchases.sum()), "p_alive": float(alive.sum()),
                     "clv_12m": float(value.mean(("chain", "draw")).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=["lifetimes", "pymc"])
    parser.add_argument("step", choices=["bgnbd", "pnbd", "gamma_gamma", "predict"])
    parser.add_argument("summary", help="Parquet file of BTYD summaries")
    args = parser.parse_args()

    df = pq.read_table(args.summary).to_pandas()
    df["frequency"] = df["frequency"].astype(float)
    if args.step == "predict":
        seconds, checks = (lifetimes_predict if args.peer == "lifetimes" else pymc_predict)(df)
        params = {}
    else:
        fit = lifetimes_fit if args.peer == "lifetimes" else pymc_fit
        t0 = time.perf_counter()
        _, params = fit(args.step, df)
        seconds = time.perf_counter() - t0
        checks = {}
    print(json.dumps({"step": args.step, "seconds": seconds,
                      "params": {k: float(v) for k, v in params.items()}, "checks": checks}))


if __name__ == "__main__":
    main()
