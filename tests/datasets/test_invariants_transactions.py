"""The lean benchmark log: its shape, its size per customer, and its reproducibility."""

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cvm.datasets import generate_transactions, write_transactions_parquet
from cvm.datasets import generator


def test_schema_and_values():
    log = generate_transactions(20_000, seed=4, start="2021-01-01", periods_days=100)
    assert log.schema == pa.schema(
        [("customer_id", pa.int64()), ("date", pa.date32()), ("amount", pa.float64())])
    assert pc.min(log["customer_id"]).as_py() == 1 and pc.max(log["customer_id"]).as_py() == 20_000
    assert pc.count_distinct(log["customer_id"]).as_py() == 20_000
    assert pc.min(log["date"]).as_py() >= dt.date(2021, 1, 1)
    assert pc.max(log["date"]).as_py() < dt.date(2021, 1, 1) + dt.timedelta(days=100)
    assert pc.min(log["amount"]).as_py() > 0


def test_about_two_and_three_quarter_transactions_per_customer():
    log = generate_transactions(50_000, seed=1)
    assert 2.6 < log.num_rows / 50_000 < 2.9
    assert 25 < pc.mean(log["amount"]).as_py() < 35


def test_reproducible_and_seed_dependent():
    assert generate_transactions(5_000, seed=9).equals(generate_transactions(5_000, seed=9))
    assert not generate_transactions(5_000, seed=9).equals(generate_transactions(5_000, seed=10))


def test_chunks_number_customers_on_and_parquet_matches(tmp_path, monkeypatch):
    monkeypatch.setattr(generator, "_CHUNK", 1_000)
    log = generate_transactions(2_500, seed=2)
    ids = log["customer_id"].to_numpy()
    assert ids.min() == 1 and ids.max() == 2_500 and len(set(ids.tolist())) == 2_500
    path = write_transactions_parquet(tmp_path / "log.parquet", 2_500, seed=2)
    assert pq.read_table(path).equals(log)
    assert pq.ParquetFile(path).num_row_groups == 3
    assert [p.name for p in tmp_path.iterdir()] == ["log.parquet"]
