"""`analyze` gives the same analysis on PostgreSQL and Spark as on DuckDB, and identical bytes on reruns.

The bundled CDNOW 1/10 sample (2,357 customers) is loaded as it is in its CSV file (typed
columns: integer ids, dates, quantities, amounts) into a PostgreSQL table and a Spark view,
and analysed from there with the calibration end 1997-09-30: on PostgreSQL through its URL
(``postgresql://…?table=NAME``, then the URL with the ``source_table`` ingest option) and as
an Ibis table, on Spark as an Ibis table. Each result is checked against the DuckDB analysis of the CSV file:

* the same customers in the same order, the same model chosen, the same tiers, pyramid
  levels, lifecycle stages, RFM segments and playbook actions;
* sums over the transactions (revenue, margins, monetary value) to 1e-9 relative;
* fitted quantities (parameters, expected spend, forecasts, CLV) to 1e-6 relative; columns
  with both signs (margin growth, net CLV) to 1e-6 of the column's largest value.
  Each engine adds floating-point amounts in its own order, so sums differ in the last bit
  and the Gamma-Gamma fit carries that into its sixth or seventh digit.

Two runs on the same engine write byte-identical ``customers.parquet`` files.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from cvm.datasets import dataset_path
from cvm.service.analyze import analyze

HOLDOUT = "1997-09-30"
SUM_RTOL = 1e-9
FIT_RTOL = 1e-6
SUM_COLUMNS = (
    "monetary_value", "average_order_value", "revenue", "product_cost", "gross_margin",
    "gross_sales", "simple_clv", "realized_value",
)
"""Columns that are sums (or sums over counts) of the transactions' amounts."""
LABEL_COLUMNS = ("value_matrix", "pyramid", "lifecycle_stage", "rfm_segment", "loyalty_profit",
                 "negative_reason", "action", "relationship", "priority", "at_risk")


def _sample() -> pa.Table:
    """The CDNOW sample with the types a database table would have."""
    return pacsv.read_csv(dataset_path("cdnow_sample"))


def _run(source, tmp_path, tag: str, **kwargs):
    """The analysis of ``source`` and the bytes of the customers.parquet it writes."""
    analysis = analyze(source, holdout=HOLDOUT, **kwargs)
    folder = tmp_path / tag
    analysis.write(folder)
    return analysis, (folder / "customers.parquet").read_bytes()


@pytest.fixture(scope="module")
def duckdb_run(tmp_path_factory):
    return _run(dataset_path("cdnow_sample"), tmp_path_factory.mktemp("duckdb"), "duckdb")


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=float, na_value=np.nan)


def assert_same_analysis(actual, expected) -> None:
    """``actual`` (another engine) agrees with ``expected`` (DuckDB); see the module docstring."""
    got, want = actual.table, expected.table
    assert list(got.columns) == list(want.columns)
    assert got["customer_id"].astype(str).tolist() == want["customer_id"].astype(str).tolist()
    assert actual.purchase_model.name == expected.purchase_model.name
    assert actual.comparison.chosen == expected.comparison.chosen
    for model in ("purchase_model", "spend_model"):
        got_params, want_params = getattr(actual, model).params_, getattr(expected, model).params_
        assert list(got_params) == list(want_params)
        for name, value in want_params.items():
            assert got_params[name] == pytest.approx(value, rel=FIT_RTOL), (model, name)
    assert actual.observation_end == expected.observation_end
    assert actual.calibration_end == expected.calibration_end
    headline, want_headline = actual.headline(), expected.headline()
    for key in ("customers", "tiers", "stages", "model"):
        assert headline[key] == want_headline[key], key
    for column in LABEL_COLUMNS:
        assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column
    for column in want.columns:
        if str(want[column].dtype) != str(got[column].dtype):
            raise AssertionError(f"{column}: {got[column].dtype} instead of {want[column].dtype}")
        if pd.api.types.is_float_dtype(want[column]):
            a, b = _floats(got, column), _floats(want, column)
            assert np.array_equal(np.isnan(a), np.isnan(b)), column
            if column in SUM_COLUMNS:
                np.testing.assert_allclose(a, b, rtol=SUM_RTOL, atol=0, err_msg=column)
            else:
                # a column with both signs is a difference: its small values lose digits to
                # cancellation, so they are held to the column's scale
                finite = b[np.isfinite(b)]
                mixed = finite.size and finite.min() < 0 < finite.max()
                atol = FIT_RTOL * np.abs(finite).max() if mixed else 0.0
                np.testing.assert_allclose(a, b, rtol=FIT_RTOL, atol=atol, err_msg=column)
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


@pytest.mark.postgres
def test_postgres_url_matches_duckdb_and_reruns_identically(postgres_connection, duckdb_run, tmp_path):
    url = os.environ["CVM_TEST_POSTGRES_URL"]
    try:
        table = postgres_connection.load(_sample(), prefix="cdnow")
        name = table.op().name
        sep = "&" if "?" in url else "?"
        first, first_bytes = _run(f"{url}{sep}table={name}", tmp_path, "first")
        second, second_bytes = _run(url, tmp_path, "second", ingest_options={"source_table": name})
    finally:
        postgres_connection.drop_loaded()
    assert first.run["inputs"]["transactions"]["rows"] == duckdb_run[0].run["inputs"]["transactions"]["rows"]
    assert_same_analysis(first, duckdb_run[0])
    assert first_bytes == second_bytes


@pytest.mark.postgres
def test_postgres_table_matches_duckdb(postgres_connection, duckdb_run, tmp_path):
    try:
        table = postgres_connection.load(_sample(), prefix="cdnow")
        analysis, _ = _run(table, tmp_path, "table")
    finally:
        postgres_connection.drop_loaded()
    assert_same_analysis(analysis, duckdb_run[0])


@pytest.mark.spark
def test_spark_table_matches_duckdb_and_reruns_identically(spark_connection, duckdb_run, tmp_path):
    try:
        table = spark_connection.load(_sample(), prefix="cdnow")
        first, first_bytes = _run(table, tmp_path, "first")
        second, second_bytes = _run(spark_connection.con.table(table.op().name), tmp_path, "second")
    finally:
        spark_connection.drop_loaded()
    assert_same_analysis(first, duckdb_run[0])
    assert first_bytes == second_bytes


def test_duckdb_reruns_identically(duckdb_run, tmp_path):
    _, again = _run(dataset_path("cdnow_sample"), tmp_path, "again")
    assert again == duckdb_run[1]
