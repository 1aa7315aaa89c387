"""The peer side of ``bench_crosssell.py``: co-purchase rules with mlxtend's FP-growth.

Run inside the peer's own virtual environment (made by ``bench_crosssell.py``); it does not
import CVM. From the Parquet log to a Parquet file of 1-item → 1-item rules:

1. **load**: read ``customer_id, date, amount`` and the item column; keep the rows CVM counts
   in a basket (dated up to ``--observation-end``, positive amount, non-blank item);
2. **encode**: the one-hot customer × item boolean DataFrame mlxtend takes (one row per
   customer with a basket, one column per item), built with numpy;
3. **rules**: ``fpgrowth(max_len=2)`` with ``min_support`` set so that a pair is frequent
   exactly when at least ``--min-customers`` customers bought both, then
   ``association_rules(metric="lift")`` and a strict ``lift > --min-lift`` filter (CVM's rule);
4. **write**: ``antecedent, consequent, customers_both, support, confidence, lift`` to Parquet.

Each phase is timed; the last stdout line is JSON. By hand:

    benchmarks/.work/crosssell-peer-venv/bin/python benchmarks/peer_crosssell.py \\
        benchmarks/.work/crosssell_log_1000000_seed1.parquet category /tmp/rules.parquet \\
        --observation-end 2021-12-30 --min-customers 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("item", help="item column: category or product_id")
    parser.add_argument("out")
    parser.add_argument("--observation-end", required=True)
    parser.add_argument("--min-customers", type=int, default=5)
    parser.add_argument("--min-lift", type=float, default=1.0)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    # 1. load: the rows that make up the baskets, as pandas
    t0 = time.perf_counter()
    table = pq.read_table(args.log, columns=["customer_id", "date", "amount", args.item])
    item = pc.utf8_trim_whitespace(table[args.item].cast(pa.string()))
    end = pa.scalar(dt.date.fromisoformat(args.observation_end), pa.date32())
    keep = pc.and_(pc.and_(pc.less_equal(table["date"], end), pc.greater(table["amount"], 0)),
                   pc.and_(pc.is_valid(item), pc.not_equal(item, "")))
    frame = pa.table({"customer_id": table["customer_id"], "item": item}).filter(keep).to_pandas()
    del table, item, keep
    load_seconds = time.perf_counter() - t0

    # 2. encode: one-hot customers x items (booleans)
    t0 = time.perf_counter()
    customer_code, _ = pd.factorize(frame["customer_id"])
    item_code, items = pd.factorize(frame["item"])
    n_customers = int(customer_code.max()) + 1 if len(customer_code) else 0
    onehot = np.zeros((n_customers, len(items)), dtype=bool)
    onehot[customer_code, item_code] = True
    del frame, customer_code, item_code
    basket = pd.DataFrame(onehot, columns=[str(i) for i in items], copy=False)
    encode_seconds = time.perf_counter() - t0

    # 3. rules: pairs bought by >= min_customers customers (fpgrowth keeps count >=
    # ceil(min_support * N), so (m - 0.5) / N gives exactly m), lift strictly above min_lift
    t0 = time.perf_counter()
    min_support = (args.min_customers - 0.5) / n_customers
    frequent = fpgrowth(basket, min_support=min_support, use_colnames=True, max_len=2)
    rules = pd.DataFrame(columns=["antecedents", "consequents", "support", "confidence", "lift"])
    if (frequent["itemsets"].map(len) == 2).any():
        rules = association_rules(frequent, num_itemsets=n_customers, metric="lift",
                                  min_threshold=args.min_lift)
    one_to_one = (rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)
    rules = rules[one_to_one & (rules["lift"] > args.min_lift)]
    seconds = time.perf_counter() - t0

    # 4. write
    t0 = time.perf_counter()
    out = pd.DataFrame({
        "antecedent": [next(iter(a)) for a in rules["antecedents"]],
        "consequent": [next(iter(c)) for c in rules["consequents"]],
        "customers_both": np.rint(rules["support"].to_numpy(float) * n_customers).astype("int64"),
        "support": rules["support"].to_numpy(float),
        "confidence": rules["confidence"].to_numpy(float),
        "lift": rules["lift"].to_numpy(float),
    })
    out.to_parquet(args.out, index=False)
    write_seconds = time.perf_counter() - t0
    print(json.dumps({"load_seconds": load_seconds, "encode_seconds": encode_seconds,
                      "seconds": seconds, "write_seconds": write_seconds,
                      "customers": n_customers, "items": len(items), "rules": len(out),
                      "frequent_itemsets": len(frequent)}))


if __name__ == "__main__":
    main()
