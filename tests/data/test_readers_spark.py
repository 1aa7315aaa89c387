"""Ingesting a Spark table (local mode). Runs only with CVM_TEST_SPARK=1 (needs Java 17+)."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from cvm.data.ingest import ingest

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark():
    if os.environ.get("CVM_TEST_SPARK") != "1":
        pytest.skip("set CVM_TEST_SPARK=1 to run the Spark checks")
    from cvm.data.connect import spark_connection

    return spark_connection()


def test_spark_table_ingests_like_duckdb(spark, tmp_path):
    import pandas as pd

    data = {"客户编号": ["a", "a", "b", "b"], "日期": ["2024-01-01", "2024-01-03", "2024年1月2日", "x"],
            "金额": ["¥10", "-4", "5", "1"], "订单号": ["O1", "O1", "O2", "O3"]}
    spark._session.createDataFrame(pd.DataFrame(data)).createOrReplaceTempView("cvm_test_tx")
    result = ingest(spark.table("cvm_test_tx"), as_of="2024-12-31", policy="quarantine",
                    quarantine_path=tmp_path / "q.csv")
    got = result.table.order_by("source_row").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["date"], r["amount"]) for r in got] == [
        ("a", dt.date(2024, 1, 1), 6.0), ("b", dt.date(2024, 1, 2), 5.0)]
    assert result.report.issue("unparseable_date").examples == ["x"]
    assert (tmp_path / "q.csv").read_text(encoding="utf-8").count("\n") == 2
