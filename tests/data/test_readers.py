"""Readers: CSV encodings and row numbers, Excel sheets, Parquet, DuckDB files, PostgreSQL,
and clear errors for missing or unreadable files."""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid

import ibis
import pytest

from cvm.data.ingest import ingest
from cvm.data.readers import detect_encoding, read_source, split_table_parameter
from cvm.errors import ConfigError, InputFileError

CHINESE = "客户编号,交易日期,金额\n张三,2024年5月3日,￥12.50\n李四,2024/05/04,\"1,000\"\n"


def rows(raw):
    return raw.table.order_by("source_row").to_pyarrow().to_pylist()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    path = tmp_path / "orders.csv"
    path.write_bytes(CHINESE.encode(encoding))
    raw = read_source(path)
    assert raw.name == "orders.csv"
    assert raw.columns == ("客户编号", "交易日期", "金额")
    assert rows(raw) == [
        {"客户编号": "张三", "交易日期": "2024年5月3日", "金额": "￥12.50", "source_row": 2},
        {"客户编号": "李四", "交易日期": "2024/05/04", "金额": "1,000", "source_row": 3},
    ]
    raw.close()


def test_gbk_detection_and_ingest(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    result = ingest(path, as_of="2024-12-31")
    got = result.table.order_by("source_row").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["date"], r["amount"]) for r in got] == [
        ("张三", dt.date(2024, 5, 3), 12.5), ("李四", dt.date(2024, 5, 4), 1000.0)]


def test_csv_every_column_is_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,amount\n007,1.50\n", encoding="utf-8")
    raw = read_source(path)
    assert rows(raw) == [{"id": "007", "amount": "1.50", "source_row": 2}]


def test_csv_short_rows_are_padded_not_dropped(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02\n", encoding="utf-8")
    assert rows(read_source(path))[1] == {"customer_id": "B", "date": "2024-01-02",
                                          "amount": None, "source_row": 3}


def test_csv_source_row_follows_file_order_on_a_multi_megabyte_file(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "big.csv"
    n = 200_000
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("i,pad\n")
        for i in range(n):
            fh.write(f"{i},{'x' * rng.randrange(0, 30)}\n")
    assert path.stat().st_size > 3_000_000
    t = read_source(path).table
    agg = t.aggregate(
        n=t.count(),
        misplaced=(t.i.cast("int64") + 2 != t.source_row).cast("int64").sum(),
    ).to_pyarrow().to_pylist()[0]
    assert agg == {"n": n, "misplaced": 0}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path_factory.mktemp("xlsx") / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "orders"
    ws.append(["客户编号", "交易日期", "金额"])
    ws.append(["A", dt.datetime(2024, 5, 3), 12.5])
    ws.append([None, None, None])  # an empty row keeps the sheet's numbering
    ws.append([7, dt.datetime(2024, 5, 3, 14, 30), 3])
    ws.append(["C", 45415, "¥8"])
    other = wb.create_sheet("customers")
    other.append(["会员号", "性别"])
    other.append(["A", "女"])
    wb.save(path)
    return path


def test_excel_first_sheet_with_sheet_row_numbers(workbook):
    raw = read_source(workbook)
    assert raw.name == "book.xlsx[orders]"
    assert rows(raw) == [
        {"客户编号": "A", "交易日期": "2024-05-03", "金额": "12.5", "source_row": 2},
        {"客户编号": "7", "交易日期": "2024-05-03 14:30:00", "金额": "3", "source_row": 4},
        {"客户编号": "C", "交易日期": "45415", "金额": "¥8", "source_row": 5},
    ]


@pytest.mark.parametrize("sheet", ["customers", 1])
def test_excel_sheet_by_name_or_index(workbook, sheet):
    raw = read_source(workbook, sheet=sheet)
    assert raw.columns == ("会员号", "性别")
    assert rows(raw) == [{"会员号": "A", "性别": "女", "source_row": 2}]


def test_excel_unknown_sheet(workbook):
    with pytest.raises(InputFileError, match="no sheet 'nope'"):
        read_source(workbook, sheet="nope")


def test_excel_ingest(workbook):
    result = ingest(workbook, as_of="2024-12-31")
    got = result.table.order_by("source_row").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["timestamp"], r["amount"], r["source_row"]) for r in got] == [
        ("A", dt.datetime(2024, 5, 3), 12.5, 2),
        ("7", dt.datetime(2024, 5, 3, 14, 30), 3.0, 4),
        ("C", dt.datetime(2024, 5, 3), 8.0, 5),
    ]


def test_parquet_keeps_types_and_order(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({
        "customer_id": ["b", "a", "c"],
        "date": [dt.date(2024, 1, 3), dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
        "amount": [3.0, 1.0, 2.0],
    }), path)
    raw = read_source(path)
    assert [r["customer_id"] for r in rows(raw)] == ["b", "a", "c"]
    assert raw.table.schema()["date"].is_date()
    result = ingest(path, as_of="2024-12-31")
    got = result.table.order_by("source_row").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["date"], r["source_row"]) for r in got] == [
        ("b", dt.date(2024, 1, 3), 1), ("a", dt.date(2024, 1, 1), 2), ("c", dt.date(2024, 1, 2), 3)]


def test_duckdb_file(tmp_path):
    import duckdb

    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales AS SELECT * FROM (VALUES ('a', DATE '2024-01-01', 5.0), "
                "('b', DATE '2024-01-02', 6.0)) v(customer_id, date, amount)")
    con.execute("CREATE TABLE other AS SELECT 1 AS x")
    con.close()
    with pytest.raises(ConfigError, match="2 tables"):
        read_source(path)
    raw = read_source(path, table_name="sales")
    assert raw.name == "shop.duckdb:sales"
    assert [(r["customer_id"], r["source_row"]) for r in rows(raw)] == [("a", 1), ("b", 2)]
    with pytest.raises(InputFileError, match="no table 'nope'"):
        read_source(path, table_name="nope")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.csv", None, "missing.csv: file not found"),
        ("empty.csv", b"", "empty.csv: the file is empty"),
        ("data.foo", b"a,b\n", "data.foo: unknown file type"),
        ("broken.xlsx", b"not a zip", "broken.xlsx: cannot open the workbook"),
        ("broken.parquet", b"not parquet", "broken.parquet: cannot read the file as Parquet"),
    ],
)
def test_unreadable_inputs_name_the_file(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=match):
        read_source(path)


@pytest.fixture(scope="module")
def pg_url():
    url = os.environ.get("CVM_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set CVM_TEST_POSTGRES_URL to run the PostgreSQL checks")
    return url


@pytest.mark.postgres
def test_postgres_table_and_query(pg_url):
    from cvm.data.connect import postgres_connection

    con = postgres_connection(pg_url)
    name = f"cvm_test_sales_{uuid.uuid4().hex[:8]}"
    con.raw_sql(
        f"CREATE TABLE {name} AS SELECT * FROM (VALUES ('b', DATE '2024-01-02', '¥6'), "
        f"('a', DATE '2024-01-01', '5'), ('a', DATE '2024-01-03', '-5')) v(客户编号, 交易日期, 金额)"
    )
    try:
        # by URL and table name; rows numbered after sorting by every column
        raw = read_source(pg_url, table_name=name)
        assert [(r["客户编号"], r["source_row"]) for r in rows(raw)] == [
            ("a", 1), ("a", 2), ("b", 3)]
        # an Ibis table on the PostgreSQL backend, ingested there
        result = ingest(con.table(name), as_of="2024-12-31", returns="net-day",
                        policy="quarantine", quarantine_path=os.devnull)
        got = result.table.order_by("source_row").to_pyarrow().to_pylist()
        assert [(r["customer_id"], r["date"], r["amount"]) for r in got] == [
            ("a", dt.date(2024, 1, 1), 5.0), ("b", dt.date(2024, 1, 2), 6.0)]
        assert result.report.issue("unmatched_return").count == 1
        # the URL names the table itself, beside its own parameters
        sep = "&" if "?" in pg_url else "?"
        raw = read_source(f"{pg_url}{sep}application_name=cvm-test&table={name}")
        assert raw.name == name
        assert [(r["客户编号"], r["source_row"]) for r in rows(raw)] == [
            ("a", 1), ("a", 2), ("b", 3)]
        with pytest.raises(ConfigError, match="names table"):
            read_source(f"{pg_url}{sep}table={name}", table_name="other")
        with pytest.raises(InputFileError, match="has no table") as missing:
            read_source(f"{pg_url}{sep}table={name}_missing")
        assert missing.value.hint.startswith("use one of: ")
        with pytest.raises(ConfigError, match="either a table name or a query") as neither:
            read_source(pg_url)
        assert "?table=NAME" in neither.value.hint
        # a query
        raw = read_source(pg_url, query=f"SELECT 客户编号 FROM {name} WHERE 金额 = '5'")
        assert [r["客户编号"] for r in rows(raw)] == ["a"]
    finally:
        con.raw_sql(f"DROP TABLE IF EXISTS {name} CASCADE")


@pytest.mark.parametrize("url, expected", [
    ("postgresql://me@db/shop?table=orders", ("postgresql://me@db/shop", "orders")),
    ("postgres://me@db/shop?table=%E8%AE%A2%E5%8D%95&sslmode=require",
     ("postgres://me@db/shop?sslmode=require", "订单")),
    ("postgresql://me@db/shop?options=-c%20work_mem%3D64MB",
     ("postgresql://me@db/shop?options=-c%20work_mem%3D64MB", None)),
])
def test_table_parameter_of_a_postgres_url(url, expected):
    assert split_table_parameter(url) == expected


@pytest.mark.parametrize("url", ["postgresql://me@db/shop?table=", "postgresql://me@db/shop?table=a&table=b"])
def test_inputchecks_table_parameter(url):
    with pytest.raises(ConfigError, match="one table"):
        read_source(url)


def test_ibis_table_source():
    t = ibis.memtable({"customer_id": ["x"], "date": ["2024-01-01"], "amount": ["1"]})
    result = ingest(t, as_of="2024-12-31")
    assert result.table.to_pyarrow().to_pylist()[0]["source_row"] == 1


def test_table_name_on_a_duckdb_connection():
    from cvm.data.connect import duckdb_connection

    con = duckdb_connection()
    con.create_table("sales", ibis.memtable({"customer_id": ["a", "b"], "amount": [1.0, 2.0]}))
    raw = read_source("sales", con=con)
    assert [(r["customer_id"], r["source_row"]) for r in rows(raw)] == [("a", 1), ("b", 2)]
    raw = read_source(None, con=con, query="SELECT customer_id FROM sales WHERE amount > 1")
    assert [r["customer_id"] for r in rows(raw)] == ["b"]
