"""``spark:PATH`` sources: a Parquet or CSV file or folder read by a local Spark session.

The input checks (a missing path, an empty folder, an unknown format, a remote address, no
PySpark) run everywhere and never start Spark. The reading checks compare Spark with DuckDB
on the same files: the same rows, types and ``source_row`` numbers. They and the end-to-end
analysis need ``CVM_TEST_SPARK=1`` (the session-wide Spark fixture of ``tests/conftest.py``).
"""

from __future__ import annotations

import gzip
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cvm.data.ingest import validate
from cvm.data.readers import SOURCE_ROW, read_source, spark_address_path
from cvm.datasets import dataset_path
from cvm.errors import BackendError, ConfigError, InputFileError

ORDERS = pa.table({
    "customer_id": ["a", "b", "a", "c", "b"],
    "date": pa.array(["2024-01-02", "2024-01-03", "2024-02-01", "2024-02-03", "2024-03-09"]
                     ).cast(pa.date32()),
    "amount": [10.5, 3.0, 7.25, 1.0, 2.5],
})


def _rows(raw) -> pa.Table:
    return raw.table.order_by(SOURCE_ROW).to_pyarrow()


# -- input checks: no Spark needed -------------------------------------------------------------


def test_missing_path_names_the_address(tmp_path):
    missing = r"spark:.*nope\.parquet: no such file or folder"
    with pytest.raises(InputFileError, match=missing) as err:
        read_source(f"spark:{tmp_path / 'nope.parquet'}")
    assert err.value.hint and "spark:" in err.value.hint


def test_folder_with_only_hidden_files_is_empty(tmp_path):
    lake = tmp_path / "orders"
    lake.mkdir()
    (lake / "_SUCCESS").write_text("")
    (lake / ".part-0.parquet.crc").write_bytes(b"x")
    with pytest.raises(InputFileError, match="the folder has no data files") as err:
        read_source(f"spark:{lake}")
    assert ".parquet" in err.value.hint


@pytest.mark.parametrize("name", ["orders.json", "orders"])
def test_unknown_format_is_refused(tmp_path, name):
    (tmp_path / name).write_text("{}")
    with pytest.raises(InputFileError, match="Spark reads Parquet and CSV files, not"):
        read_source(f"spark:{tmp_path / name}")


def test_unknown_file_in_a_folder_is_named(tmp_path):
    lake = tmp_path / "orders"
    (lake / "day=1").mkdir(parents=True)
    pq.write_table(ORDERS, lake / "day=1" / "part-0.parquet")
    (lake / "day=1" / "notes.json").write_text("{}")
    with pytest.raises(InputFileError, match=r"not '\.json' \(day=1/notes\.json in the folder\)"):
        read_source(f"spark:{lake}")


def test_excel_file_points_to_the_plain_path(tmp_path):
    (tmp_path / "orders.xlsx").write_bytes(b"PK")
    with pytest.raises(InputFileError, match="without spark: CVM reads it with DuckDB"):
        read_source(f"spark:{tmp_path / 'orders.xlsx'}")


def test_mixed_folder_is_refused(tmp_path):
    pq.write_table(ORDERS, tmp_path / "a.parquet")
    pacsv.write_csv(ORDERS, tmp_path / "b.csv")
    with pytest.raises(InputFileError, match="mixes Parquet and CSV files"):
        read_source(f"spark:{tmp_path}")


def test_delta_table_is_refused(tmp_path):
    (tmp_path / "_delta_log").mkdir()
    pq.write_table(ORDERS, tmp_path / "part-0.parquet")
    with pytest.raises(InputFileError, match="Delta Lake table"):
        read_source(f"spark:{tmp_path}")


def test_empty_csv_file_is_refused(tmp_path):
    (tmp_path / "orders.csv").write_bytes(b"")
    with pytest.raises(InputFileError, match="orders.csv: the file is empty"):
        read_source(f"spark:{tmp_path / 'orders.csv'}")


def test_remote_address_is_refused_without_its_password():
    with pytest.raises(ConfigError, match="names a local file or folder") as err:
        read_source("spark:s3a://reader:s3cret@bucket/orders")
    assert "s3cret" not in str(err.value) and "reader:***@bucket" in str(err.value)
    with pytest.raises(ConfigError, match="names a local file or folder"):
        read_source("spark://local?table=orders")


def test_empty_address_is_refused():
    with pytest.raises(ConfigError, match="names no file or folder"):
        read_source("spark:")


def test_table_name_with_a_spark_address_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="table 'orders' is given too"):
        read_source(f"spark:{tmp_path}", table_name="orders")


def test_address_paths():
    assert str(spark_address_path("SPARK:data/o.parquet")) == "data/o.parquet"
    assert str(spark_address_path("spark:file:///lake/%E8%AE%A2%E5%8D%95")) == "/lake/订单"
    assert not str(spark_address_path("spark:~/o.parquet")).startswith("~")


def test_missing_pyspark_names_the_address_and_the_extra(tmp_path, monkeypatch):
    pq.write_table(ORDERS, tmp_path / "orders.parquet")
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    not_installed = r"spark:.*orders\.parquet: Spark support is not installed"
    with pytest.raises(BackendError, match=not_installed) as err:
        read_source(f"spark:{tmp_path / 'orders.parquet'}")
    assert "cvm[spark]" in err.value.hint


def test_cli_reports_a_missing_spark_input_with_exit_code_4(tmp_path, capsys, monkeypatch):
    from cvm.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["validate", "spark:nope.parquet"]) == 4
    err = capsys.readouterr().err
    assert "spark:nope.parquet: no such file or folder" in err and "Traceback" not in err


# -- reading on Spark ---------------------------------------------------------------------------


@pytest.fixture
def spark(spark_connection):
    """The shared test session (skips with a reason without CVM_TEST_SPARK=1)."""
    return spark_connection


@pytest.mark.spark
def test_parquet_file_reads_like_duckdb(spark, tmp_path):
    path = tmp_path / "orders.parquet"
    pq.write_table(ORDERS, path, row_group_size=2)
    raw = read_source(f"spark:{path}")
    assert raw.name == "spark:orders.parquet"
    assert raw.backend.name == "pyspark"
    assert raw.columns == ("customer_id", "date", "amount")
    expected = _rows(read_source(path))
    assert _rows(raw).equals(expected)
    assert expected[SOURCE_ROW].to_pylist() == [1, 2, 3, 4, 5]


@pytest.mark.spark
def test_parquet_folder_numbers_rows_across_files(spark, tmp_path):
    whole = tmp_path / "whole.parquet"
    pq.write_table(ORDERS, whole)
    lake = tmp_path / "订单 [2024]"  # Hadoop would read the brackets as a pattern
    lake.mkdir()
    # path order, not write order or size, decides the numbering
    pq.write_table(ORDERS.slice(3), lake / "part-1.parquet")
    pq.write_table(ORDERS.slice(0, 3), lake / "part-0.parquet")
    (lake / "_SUCCESS").write_text("")
    raw = read_source(f"spark:{lake}")
    assert raw.name == "spark:订单 [2024]"
    assert _rows(raw).equals(_rows(read_source(whole)))


@pytest.mark.spark
def test_partitioned_folder_adds_the_partition_column(spark, tmp_path):
    lake = tmp_path / "orders"
    for month, part in (("1", ORDERS.slice(0, 2)), ("2", ORDERS.slice(2))):
        (lake / f"month={month}").mkdir(parents=True)
        pq.write_table(part, lake / f"month={month}" / "part-0.parquet")
    got = _rows(read_source(f"spark:{lake}"))
    assert got.column_names == ["customer_id", "date", "amount", "month", SOURCE_ROW]
    assert got["month"].to_pylist() == [1, 1, 2, 2, 2]
    whole = tmp_path / "whole.parquet"
    pq.write_table(ORDERS, whole)
    assert got.drop_columns(["month"]).equals(_rows(read_source(whole)))


CSV_TEXT = ('客户编号;日期;金额;备注\n'
            'a;2024-01-02;￥10;"两行\n备注"\n'
            'b;2024-01-03;3;"说 ""好"""\n'
            '\n'
            'a;2024/13/01;7,25;\n'
            '  c ;2024-02-03\n')
"""Semicolons, a quoted line break, doubled quotes, an empty line, a bad date, a short row."""


@pytest.mark.spark
@pytest.mark.parametrize("encoding,name", [("utf-8", "orders.csv"), ("utf-8-sig", "orders.txt"),
                                           ("gbk", "orders.csv"), ("utf-8", "orders.csv.gz")])
def test_csv_file_reads_like_duckdb(spark, tmp_path, encoding, name):
    path = tmp_path / name
    data = CSV_TEXT.encode(encoding)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    raw = read_source(f"spark:{path}")
    expected = _rows(read_source(path))
    got = _rows(raw)
    assert raw.columns == ("客户编号", "日期", "金额", "备注")
    assert got.schema == expected.schema  # every column as text
    assert got.equals(expected), (got.to_pylist(), expected.to_pylist())
    assert got[SOURCE_ROW].to_pylist() == [2, 3, 4, 5]  # records, header 1, empty line skipped


@pytest.mark.spark
def test_tab_separated_file(spark, tmp_path):
    path = tmp_path / "orders.tsv"
    path.write_text("id\tamount\n1\t2,5\n", encoding="utf-8")
    assert _rows(read_source(f"spark:{path}")).to_pylist() == [
        {"id": "1", "amount": "2,5", SOURCE_ROW: 2}]


@pytest.mark.spark
def test_csv_folder_numbers_records_as_one_file(spark, tmp_path):
    lake = tmp_path / "orders"
    lake.mkdir()
    (lake / "b.csv").write_text("id,amount\nz,9\n", encoding="utf-8")
    (lake / "a.csv").write_text("id,amount\nx,1\ny,2\n", encoding="utf-8")
    assert _rows(read_source(f"spark:{lake}")).to_pylist() == [
        {"id": "x", "amount": "1", SOURCE_ROW: 2}, {"id": "y", "amount": "2", SOURCE_ROW: 3},
        {"id": "z", "amount": "9", SOURCE_ROW: 4}]


@pytest.mark.spark
def test_csv_validates_like_the_plain_file(spark, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    on_spark = validate(f"spark:{path}", as_of="2024-12-31")
    on_duckdb = validate(path, as_of="2024-12-31")
    assert on_spark.n_rows == on_duckdb.n_rows == 4
    issues = [{**i, "file": None} for i in on_spark.to_dict()["issues"]]
    assert issues == [{**i, "file": None} for i in on_duckdb.to_dict()["issues"]]
    assert {i["file"] for i in on_spark.to_dict()["issues"]} == {"spark:orders.csv"}
    bad_date = on_spark.issue("unparseable_date")
    assert bad_date.rows == [4] and bad_date.examples == ["2024/13/01"]


@pytest.mark.spark
def test_spark_backend_given_as_con_is_used(spark, tmp_path):
    path = tmp_path / "orders.parquet"
    pq.write_table(ORDERS, path)
    raw = read_source(f"spark:{path}", con=spark.con)
    assert raw.backend is spark.con
    assert raw.table.count().execute() == 5


@pytest.mark.spark
@pytest.mark.slow
def test_analyze_spark_parquet_matches_duckdb(spark, tmp_path):
    from cvm.service.analyze import analyze
    from tests.service.test_consistency_analyze_backends import HOLDOUT, assert_same_analysis

    path = tmp_path / "cdnow.parquet"
    pq.write_table(pacsv.read_csv(dataset_path("cdnow_sample")), path)
    on_duckdb = analyze(path, holdout=HOLDOUT)
    on_spark = analyze(f"spark:{path}", holdout=HOLDOUT)
    assert on_spark.headline()["customers"] == 2357
    assert_same_analysis(on_spark, on_duckdb)
    inputs = on_spark.run["inputs"]["transactions"]
    assert inputs["source"] == f"spark:{path}"
    assert inputs["rows"] == on_duckdb.run["inputs"]["transactions"]["rows"]
