"""Read raw input through Ibis: CSV, Excel, Parquet, DuckDB files, PostgreSQL and Spark tables.

A source is a file path; ``postgresql://USER@HOST/DB?table=NAME`` for a PostgreSQL table;
``spark:PATH`` for a Parquet or CSV file, or a folder of them (a data-lake table, with
``key=value`` partition folders), read by a local Spark session and run on Spark
(:func:`read_spark`); or an Ibis table on any backend.

Large inputs are never loaded whole into pandas: CSV and Parquet are scanned by DuckDB, Excel
sheets are streamed row by row (openpyxl read-only mode) into a temporary Parquet file in
batches, database tables stay in their database, and ``spark:`` files stay on Spark.

Text formats (CSV, Excel) are read with every column as text, so validation can report the
raw values that break a rule. Typed sources (Parquet, databases) keep their types; parsing
passes typed dates and numbers straight through.

Every raw row gets ``source_row``, the row as a person finds it in the source:

* CSV: the record number where the header is 1 and the first data row is 2 (a record that
  spans several lines because of a quoted line break counts once);
* Excel: the sheet's own row number;
* Parquet, DuckDB, PostgreSQL, Spark: an ordinal from 1. Parquet and DuckDB tables keep their
  stored order; PostgreSQL and Spark tables have no order, so rows are numbered after sorting
  by every column, which makes the numbering deterministic;
* ``spark:`` files: as their format is numbered above (Parquet from 1, CSV records with the
  header as 1), the files of a folder taken in path order and numbered on.

CSV encodings: UTF-8 (with or without BOM) is read directly; anything else (GBK, GB18030,
Big5, Latin-1 …) is detected by charset-normalizer on a sample and transcoded to a temporary
UTF-8 file in streaming chunks. Temporary files (a transcoded CSV, an Excel sheet as
Parquet) are loaded into a DuckDB temporary table and deleted before the reader returns.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "t.csv").write_text("id,amount\\n007,1.5\\n", encoding="utf-8")
>>> src = read_source(d / "t.csv")
>>> src.name, src.columns
('t.csv', ('id', 'amount'))
>>> src.table.to_pyarrow().to_pylist()
[{'id': '007', 'amount': '1.5', 'source_row': 2}]
"""

from __future__ import annotations

import codecs
import gzip
import logging
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from cvm.errors import BackendError, ConfigError, InputFileError
from cvm.labels import Note

log = logging.getLogger(__name__)

SOURCE_ROW = "source_row"
CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
_SAMPLE_BYTES = 1 << 20
_GB_FAMILY = {"gb2312", "gbk", "gb18030"}
_CHUNK_CHARS = 1 << 22
_EXCEL_BATCH_ROWS = 50_000


@dataclass
class RawSource:
    """A source read as an Ibis table, before mapping and validation.

    ``table`` has the source's columns plus ``source_row`` (int64); ``columns`` are the
    source's own headers (without ``source_row``); ``name`` is what messages call the source
    (the file name, or ``table`` / ``query`` for databases).
    """

    table: ir.Table
    name: str
    columns: tuple[str, ...]
    path: Path | None = None
    kind: str = "table"
    _tmpdir: Any = field(default=None, repr=False)

    @property
    def backend(self) -> Any:
        return self.table._find_backend(use_default=True)

    def close(self) -> None:
        """Release temporary files, if any (readers now remove them before returning)."""
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in (*CSV_SUFFIXES, *EXCEL_SUFFIXES, *PARQUET_SUFFIXES, *DUCKDB_SUFFIXES):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def _duckdb(con: Any) -> Any:
    if con is not None and getattr(con, "name", None) == "duckdb":
        return con
    from cvm.data.connect import duckdb_connection

    return duckdb_connection()


def _sql_str(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _tmp_name(prefix: str) -> str:
    return f"__cvm_{prefix}_{uuid.uuid4().hex[:12]}"


def read_source(
    source: Any,
    *,
    sheet: str | int | None = None,
    table_name: str | None = None,
    query: str | None = None,
    con: Any = None,
) -> RawSource:
    """Read ``source`` into a :class:`RawSource`.

    ``source`` is one of: a path to a CSV (optionally gzipped), ``.xlsx``, Parquet or DuckDB
    file (``table_name`` picks the DuckDB table; default: the only one); a URL
    ``postgresql://…`` with ``table_name`` or ``query``, or naming its table itself as
    ``postgresql://user@host/db?table=orders`` (see :func:`split_table_parameter`); a table
    name with ``con`` an Ibis backend (PostgreSQL, Spark, DuckDB); an address
    ``spark:PATH`` naming a Parquet or CSV file or folder, read and run on Spark (see
    :func:`read_spark`); or an Ibis table.
    ``sheet`` picks an Excel sheet by name or 0-based index (default: the first). File
    sources land in ``con`` when it is a DuckDB backend, else in a new in-memory DuckDB.
    """
    if isinstance(source, ir.Table):
        name = table_name or getattr(source.op(), "name", None) or "table"
        return _from_table(source, str(name), ordered=_is_ordered_backend(source))
    text = str(source)
    if is_spark_address(text):
        if table_name is not None or query is not None or sheet is not None:
            given = "a query" if query is not None else (
                f"table {table_name!r}" if table_name is not None else f"sheet {sheet!r}")
            raise ConfigError(
                f"{_redact_address(text)}: a spark: address reads a whole Parquet or CSV file or "
                f"folder, and {given} is given too",
                hint="drop --source-table / --query / --sheet for a spark: input")
        return read_spark(text, con=con)
    if text.lower().startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from cvm.data.connect import _redact, postgres_connection

        text, url_table = split_table_parameter(text)
        if url_table is not None:
            if (table_name is not None and table_name != url_table) or query is not None:
                other = "a query" if query is not None else f"table {table_name!r}"
                raise ConfigError(
                    f"{_redact(text)}: the URL names table {url_table!r} and {other} is given too",
                    hint="name the table once: in the URL (?table=NAME) or as the source table")
            table_name = url_table
        pg = postgres_connection(text)
        return _read_db_table(pg, table_name, query, _redact(text))
    if con is not None and (query is not None or not (Path(text).exists() or _looks_like_a_file(text))):
        # a table (or query) on the given backend: PostgreSQL, Spark or DuckDB
        return _read_db_table(con, None if query is not None else (table_name or text), query,
                              con.name)

    path = Path(source)
    if not path.exists():
        raise InputFileError(Note("error.file_not_found", name=path.name, path=path),
                             hint=Note("hint.check_path"))
    if path.is_dir():
        raise InputFileError(Note("error.is_folder", name=path.name, path=path))
    suffix = _suffix(path)
    try:
        if suffix in CSV_SUFFIXES:
            return read_csv(path, con=con)
        if suffix in EXCEL_SUFFIXES:
            return read_excel(path, sheet=sheet, con=con)
        if suffix in PARQUET_SUFFIXES:
            return read_parquet(path, con=con)
        if suffix in DUCKDB_SUFFIXES:
            return read_duckdb_file(path, table_name, con=con)
    except (InputFileError, ConfigError, BackendError):
        raise
    except Exception as exc:
        raise InputFileError(f"{path.name}: cannot read the file: {exc}") from exc
    raise InputFileError(
        Note("error.unknown_file_type", name=path.name, suffix=repr(suffix) if suffix else Note("error.no_extension")),
        hint=Note("hint.file_types"),
    )


def _looks_like_a_file(text: str) -> bool:
    """A name with a folder or a data file's extension names a file (perhaps a missing one),
    never a table: ``orders`` and ``public.orders`` may be tables, ``data/orders.csv`` is a file.

    >>> [_looks_like_a_file(t) for t in ("data/orders.csv", "orders.parquet", "orders", "public.orders")]
    [True, True, False, False]
    """
    known = (*CSV_SUFFIXES, *EXCEL_SUFFIXES, *PARQUET_SUFFIXES, *DUCKDB_SUFFIXES)
    return "/" in text or "\\" in text or _suffix(Path(text)) in known


def split_table_parameter(url: str) -> tuple[str, str | None]:
    """Split the ``table`` parameter off a PostgreSQL URL: ``(url without it, table or None)``.

    ``table`` is not a connection parameter, so the URL that connects is the one without it;
    every other parameter (``sslmode``, ``options`` …) stays as it was written.

    >>> split_table_parameter("postgresql://me@db:5432/shop?sslmode=require&table=orders")
    ('postgresql://me@db:5432/shop?sslmode=require', 'orders')
    >>> split_table_parameter("postgresql://me@db/shop")
    ('postgresql://me@db/shop', None)
    """
    from urllib.parse import unquote

    base, sep, query = url.partition("?")
    if not sep:
        return url, None
    kept, tables = [], []
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if unquote(key) == "table":
            tables.append(unquote(value))
        elif part:
            kept.append(part)
    if not tables:
        return url, None
    if len(tables) > 1 or not tables[0]:
        raise ConfigError("a PostgreSQL URL names one table: ?table=NAME",
                          hint="for example postgresql://user@host/db?table=orders")
    return base + ("?" + "&".join(kept) if kept else ""), tables[0]


# -- CSV --------------------------------------------------------------------------------------


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def detect_encoding(path: Path) -> str:
    """The encoding of a text file: ``utf-8`` (also with BOM) or what charset-normalizer finds.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.csv"
    >>> _ = p.write_bytes("客户编号,金额\\n甲,1\\n".encode("gbk"))
    >>> detect_encoding(p) in {"gbk", "gb18030", "gb2312"}
    True
    """
    with _open_bytes(path) as fh:
        sample = fh.read(_SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the end of the sample is still UTF-8
        if exc.start >= len(sample) - 4 and len(sample) == _SAMPLE_BYTES:
            return "utf-8"
    from charset_normalizer import from_bytes

    results = list(from_bytes(sample))
    # Short Chinese samples are often also valid Korean / Japanese / Big5; CVM's users are
    # mostly in mainland China, so any candidate in the GB family wins.
    gb = [m for m in results if m.encoding.lower().replace("_", "") in _GB_FAMILY]
    best = gb[0] if gb else (results[0] if results else None)
    if best is None:
        raise InputFileError(f"{path.name}: cannot tell the text encoding of the file",
                             hint="save the file as UTF-8 and try again")
    # GB2312 and GBK are subsets of GB18030: decode with the widest
    if best.encoding.lower().replace("_", "") in _GB_FAMILY:
        return "gb18030"
    return best.encoding


def _transcode(path: Path, encoding: str, dest: Path) -> None:
    """Stream ``path`` from ``encoding`` to UTF-8 in chunks."""
    with _open_bytes(path) as raw:
        reader = codecs.getreader(encoding)(raw, errors="strict")
        with open(dest, "w", encoding="utf-8", newline="") as out:
            while True:
                chunk = reader.read(_CHUNK_CHARS)
                if not chunk:
                    break
                out.write(chunk)


def read_csv(path: str | Path, *, con: Any = None, encoding: str | None = None) -> RawSource:
    """Read a CSV file with every column as text; ``source_row`` = record number (header 1).

    DuckDB reads it single-threaded (``parallel=false``), which keeps the file order, and
    ``row_number() over ()`` numbers the records in that order. DuckDB skips empty lines, so
    after an empty line ``source_row`` is one less than the editor's line number. A row with
    too few fields is padded with blanks (which validation then reports), never dropped.
    """
    path = Path(path)
    with _open_bytes(path) as fh:
        if not fh.read(1):
            raise InputFileError(f"{path.name}: the file is empty",
                                 hint="export the data again with a header row")
    con = _duckdb(con)
    encoding = encoding or detect_encoding(path)
    tmpdir = None
    read_path = path
    if encoding.lower().replace("-", "") not in {"utf8", "utf8sig", "ascii"}:
        tmpdir = tempfile.TemporaryDirectory(prefix="cvm_")
        read_path = Path(tmpdir.name) / (path.stem.removesuffix(".csv") + ".utf8.csv")
        try:
            _transcode(path, encoding, read_path)
        except (UnicodeDecodeError, LookupError) as exc:
            tmpdir.cleanup()
            raise InputFileError(
                f"{path.name}: cannot decode the file as {encoding}: {exc}",
                hint="save the file as UTF-8 and try again",
            ) from exc
    name = _tmp_name("csv")
    scan = (
        f"read_csv({_sql_str(str(read_path))}, header=true, all_varchar=true, "
        f"parallel=false, auto_detect=true, null_padding=true)"
    )
    # loaded once into a temporary table: the single-threaded scan is the slow part, the row
    # numbers are fixed once, and a transcoded copy can be deleted at once
    try:
        con.raw_sql(
            f'CREATE OR REPLACE TEMP TABLE "{name}" AS '
            f"SELECT *, CAST(row_number() OVER () + 1 AS BIGINT) AS {SOURCE_ROW} FROM {scan}"
        )
        table = con.table(name)
        columns = tuple(c for c in table.columns if c != SOURCE_ROW)
    except Exception as exc:
        raise InputFileError(f"{path.name}: cannot read the file as CSV: {exc}") from exc
    finally:
        if tmpdir is not None:
            tmpdir.cleanup()
    if SOURCE_ROW in columns:
        raise InputFileError(f"{path.name}: has a column named {SOURCE_ROW!r}, which CVM reserves",
                             hint="rename that column")
    return RawSource(table, path.name, columns, path, "csv")


# -- Excel ------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str | None:
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def _unique_headers(raw: list[Any]) -> list[str]:
    out: list[str] = []
    for i, h in enumerate(raw, start=1):
        name = (_cell_text(h) or "").strip() or f"column_{i}"
        base, k = name, 2
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out.append(name)
    return out


def read_excel(path: str | Path, *, sheet: str | int | None = None, con: Any = None) -> RawSource:
    """Stream one sheet of an ``.xlsx`` file into a temporary Parquet file, read by DuckDB.

    Cells become text; date cells are written as ISO dates (``2024-05-03`` or
    ``2024-05-03 14:30:00``), so nothing is lost. ``source_row`` is the sheet row number.
    Entirely empty rows are skipped.

    >>> import datetime, tempfile, pathlib, openpyxl
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "book.xlsx"
    >>> wb = openpyxl.Workbook(); ws = wb.active
    >>> ws.append(["客户编号", "日期"]); ws.append(["A", datetime.datetime(2024, 5, 3)])
    >>> wb.save(path)
    >>> read_excel(path, sheet=0).table.to_pyarrow().to_pylist()
    [{'客户编号': 'A', '日期': '2024-05-03', 'source_row': 2}]
    """
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    con = _duckdb(con)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputFileError(f"{path.name}: cannot open the workbook: {exc}") from exc
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit()
                                        and sheet not in names):
            idx = int(sheet)
            if not 0 <= idx < len(names):
                raise InputFileError(
                    f"{path.name}: has no sheet number {idx} (it has {len(names)}: "
                    f"{', '.join(names)})", hint="sheets are numbered from 0")
            ws = wb[names[idx]]
        elif sheet in names:
            ws = wb[sheet]
        else:
            raise InputFileError(f"{path.name}: has no sheet {sheet!r}",
                                 hint=f"use one of: {', '.join(names)}")
        rows = ws.iter_rows(values_only=True)
        first_row = ws.min_row or 1
        headers: list[str] | None = None
        header_row = first_row
        tmpdir = tempfile.TemporaryDirectory(prefix="cvm_")
        out_path = Path(tmpdir.name) / "sheet.parquet"
        writer = None
        batch: list[tuple] = []
        schema = None

        def flush() -> None:
            nonlocal writer, schema
            cols = list(zip(*batch)) if batch else [[] for _ in range(len(headers) + 1)]
            arrays = [pa.array(list(c), type=pa.string()) for c in cols[:-1]]
            arrays.append(pa.array(list(cols[-1]), type=pa.int64()))
            tbl = pa.Table.from_arrays(arrays, schema=schema)
            if writer is None:
                writer = pq.ParquetWriter(out_path, schema)
            writer.write_table(tbl)
            batch.clear()

        for offset, row in enumerate(rows):
            rownum = first_row + offset
            if headers is None:
                if row is None or all(v is None for v in row):
                    continue
                headers = _unique_headers(list(row))
                header_row = rownum
                schema = pa.schema([(h, pa.string()) for h in headers]
                                   + [(SOURCE_ROW, pa.int64())])
                continue
            values = [_cell_text(v) for v in (row or ())][: len(headers)]
            if all(v is None or v == "" for v in values):
                continue
            values += [None] * (len(headers) - len(values))
            batch.append((*values, rownum))
            if len(batch) >= _EXCEL_BATCH_ROWS:
                flush()
        if headers is None:
            tmpdir.cleanup()
            raise InputFileError(f"{path.name}: sheet {ws.title!r} is empty")
        if batch or writer is None:
            flush()
        writer.close()
    finally:
        wb.close()
    log.debug("excel %s sheet %s header row %d", path.name, ws.title, header_row)
    if SOURCE_ROW in headers:
        tmpdir.cleanup()
        raise InputFileError(f"{path.name}: has a column named {SOURCE_ROW!r}, which CVM reserves")
    name = _tmp_name("xlsx")
    try:
        con.raw_sql(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM '
                    f"read_parquet({_sql_str(str(out_path))})")
    finally:
        tmpdir.cleanup()
    return RawSource(con.table(name), f"{path.name}[{ws.title}]", tuple(headers), path, "excel")


# -- Parquet and databases --------------------------------------------------------------------


def read_parquet(path: str | Path, *, con: Any = None) -> RawSource:
    """Read a Parquet file (types kept); ``source_row`` is the row's position from 1.

    >>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pq.write_table(pa.table({"amount": [2.5, 1.0]}), path)
    >>> read_parquet(path).table.to_pyarrow().to_pylist()
    [{'amount': 2.5, 'source_row': 1}, {'amount': 1.0, 'source_row': 2}]
    """
    path = Path(path)
    con = _duckdb(con)
    name = _tmp_name("parquet")
    try:
        con.raw_sql(
            f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * EXCLUDE (file_row_number), '
            f"CAST(file_row_number + 1 AS BIGINT) AS {SOURCE_ROW} "
            f"FROM read_parquet({_sql_str(str(path))}, file_row_number=true)"
        )
        table = con.table(name)
    except Exception as exc:
        raise InputFileError(f"{path.name}: cannot read the file as Parquet: {exc}") from exc
    columns = tuple(c for c in table.columns if c != SOURCE_ROW)
    return RawSource(table, path.name, columns, path, "parquet")


def read_duckdb_file(path: str | Path, table_name: str | None = None, *,
                     con: Any = None) -> RawSource:
    """Read ``table_name`` from a DuckDB database file (attached read-only)."""
    path = Path(path)
    con = _duckdb(con)
    alias = _tmp_name("db")
    try:
        con.raw_sql(f"ATTACH {_sql_str(str(path))} AS \"{alias}\" (READ_ONLY)")
        tables = con.list_tables(database=(alias, "main"))
    except Exception as exc:
        raise InputFileError(f"{path.name}: cannot open the DuckDB database: {exc}") from exc
    if table_name is None:
        if len(tables) != 1:
            raise ConfigError(
                f"{path.name}: has {len(tables)} tables; say which one to read",
                hint=f"pass a table name, one of: {', '.join(tables) or '(none)'}")
        table_name = tables[0]
    if table_name not in tables:
        raise InputFileError(f"{path.name}: has no table {table_name!r}",
                             hint=f"use one of: {', '.join(tables) or '(none)'}")
    t = con.table(table_name, database=(alias, "main"))
    raw = _from_table(t, f"{path.name}:{table_name}", ordered=True)
    raw.path, raw.kind = path, "duckdb"
    return raw


def _read_db_table(con: Any, table_name: str | None, query: str | None, where: str) -> RawSource:
    if (table_name is None) == (query is None):
        raise ConfigError(f"{where}: give either a table name or a query",
                          hint="for a PostgreSQL URL, name the table in it: "
                          "postgresql://user@host/db?table=NAME")
    try:
        if query is not None:
            name = "query"
            if getattr(con, "name", None) in {"postgres", "duckdb"}:
                # Ibis 12's Backend.sql() on PostgreSQL breaks with sqlglot 30 (an empty
                # DROP VIEW); a temporary view of our own avoids it.
                view = _tmp_name("query")
                con.raw_sql(f'CREATE TEMP VIEW "{view}" AS {query}')
                t = con.table(view)
            else:
                t = con.sql(query)
        else:
            t = con.table(table_name)
            name = table_name
    except Exception as exc:
        if query is None:
            _raise_if_missing(con, table_name, where)
        raise InputFileError(f"{where}: cannot read {table_name or 'the query'}: {exc}") from exc
    return _from_table(t, name, ordered=getattr(con, "name", None) == "duckdb")


def _raise_if_missing(con: Any, table_name: str, where: str) -> None:
    """Raise a clear error, naming some tables there are, when ``con`` has no ``table_name``."""
    try:
        tables = sorted(con.list_tables())
    except Exception:  # pragma: no cover - listing is only for the message
        return
    if table_name in tables:
        return
    shown = ", ".join(tables[:20]) + (f" … ({len(tables)} in all)" if len(tables) > 20 else "")
    raise InputFileError(f"{where}: has no table {table_name!r}",
                         hint=f"use one of: {shown}" if tables else "the database has no tables")


def _is_ordered_backend(t: ir.Table) -> bool:
    from cvm.data.parsing import backend_name

    return backend_name(t) in {None, "duckdb"}


def _from_table(t: ir.Table, name: str, *, ordered: bool) -> RawSource:
    """Number the rows of an Ibis table: stored order (DuckDB) or sorted by every column."""
    if SOURCE_ROW in t.columns:
        columns = tuple(c for c in t.columns if c != SOURCE_ROW)
        return RawSource(t.mutate(**{SOURCE_ROW: t[SOURCE_ROW].cast("int64")}), name, columns)
    columns = tuple(t.columns)
    if ordered:
        rn = ibis.row_number()
    else:
        rn = ibis.row_number().over(order_by=[t[c] for c in columns])
    return RawSource(t.mutate(**{SOURCE_ROW: (rn + 1).cast("int64")}), name, columns)


def materialize(expr: ir.Table, prefix: str = "table") -> ir.Table:
    """Compute ``expr`` once into a temporary table on its own backend and return that table.

    Used instead of ``Table.cache()``: with sqlglot 30, Ibis 12 renders the ``DROP TABLE`` of
    its cache finaliser as empty SQL, which raises in a garbage-collection callback. Temporary
    tables made here live as long as the connection. PostgreSQL never scans a temporary table
    with parallel workers, so sums over one add their terms in one order every time: reruns
    give identical bits (a parallel aggregate's partial sums meet in whatever order the
    workers finish).
    """
    backend = expr._find_backend(use_default=True)
    if backend.name == "pyspark":
        # Spark has no temporary tables in Ibis; its cache is a cached temporary view
        return expr.cache()
    name = _tmp_name(prefix)
    try:
        backend.create_table(name, expr, temp=True)
        return backend.table(name)
    except Exception as exc:  # pragma: no cover - engine-specific failures
        log.debug("create_table failed on %s (%s); using the expression as is", backend.name, exc)
        return expr


def drop_materialized(table: ir.Table) -> None:
    """Drop a temporary table made by :func:`materialize` (no error if it is gone)."""
    try:
        name = table.op().name
        backend = table._find_backend(use_default=True)
        if str(name).startswith("__cvm_"):
            backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
    except Exception:  # pragma: no cover
        pass


# -- Parquet and CSV on Spark -----------------------------------------------------------------

SPARK_PREFIX = "spark:"
_GLOB_CHARS = "[]*?{}\\"
_SPARK_BASE_ROW = {"parquet": 1, "csv": 2}
"""``source_row`` of the first data row: Parquet rows count from 1, CSV records from 2."""


def is_spark_address(source: Any) -> bool:
    """True when ``source`` is a ``spark:`` address (a string, any letter case of the prefix).

    >>> is_spark_address("spark:orders.parquet"), is_spark_address("orders.parquet")
    (True, False)
    """
    return isinstance(source, str) and source[: len(SPARK_PREFIX)].lower() == SPARK_PREFIX


def _redact_address(address: str) -> str:
    from cvm.data.connect import _redact

    return SPARK_PREFIX + _redact(address[len(SPARK_PREFIX):]) if is_spark_address(address) \
        else _redact(address)


def spark_address_path(address: str) -> Path:
    """The local path a ``spark:PATH`` address names (``~`` expanded, ``file:`` URLs accepted).

    >>> spark_address_path("spark:data/orders.parquet")
    PosixPath('data/orders.parquet')
    >>> spark_address_path("spark:file:///lake/orders")
    PosixPath('/lake/orders')
    >>> spark_address_path("spark://cluster/orders")
    Traceback (most recent call last):
    ...
    cvm.errors.ConfigError: spark://cluster/orders: a spark: address names a local file ...
    """
    import re

    rest = address[len(SPARK_PREFIX):] if is_spark_address(address) else address
    shown = _redact_address(address)
    if rest.lower().startswith("file:"):
        rest = rest[len("file:"):]
        if rest.startswith("//"):
            rest = rest[2:]
            if not rest.startswith("/"):  # file://host/path: only the local host is readable
                raise ConfigError(f"{shown}: a file: URL names a path on this machine",
                                  hint="write spark:file:///PATH or spark:PATH")
        from urllib.parse import unquote

        rest = unquote(rest)
    elif rest.startswith("//") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", rest):
        raise ConfigError(
            f"{shown}: a spark: address names a local file or folder that a local Spark "
            "session reads; remote stores and Spark warehouse tables are not read by address",
            hint="write spark:/data/orders.parquet or spark:/data/orders/ (a folder of "
            "Parquet or CSV files); for a table on a Spark cluster, call cvm.analyze with an "
            "Ibis table from cvm.data.connect.spark_connection(session)")
    if not rest:
        raise ConfigError(f"{shown}: the address names no file or folder",
                          hint="write spark:PATH, for example spark:orders.parquet")
    return Path(rest).expanduser()


def _hidden(relative: Path) -> bool:
    """Spark skips files and folders whose names start with ``.`` or ``_`` (``_SUCCESS``,
    ``.crc`` files), except ``_key=value`` partition folders."""
    return any(part.startswith(".") or (part.startswith("_") and "=" not in part)
               for part in relative.parts)


def _spark_format(path: Path, shown: str) -> tuple[str, list[Path]]:
    """``("parquet" | "csv", data files)`` of a file or folder, or a clear error."""
    if not path.exists():
        raise InputFileError(f"{shown}: no such file or folder ({path})",
                             hint="check the path after spark:")
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            raise InputFileError(
                f"{shown}: is a Delta Lake table; its folder also holds files that are no "
                "longer part of the table, so it cannot be read as plain Parquet",
                hint="export the table's current version to Parquet (or read it with Spark "
                "and pass the Ibis table to cvm.analyze)")
        files = sorted(p for p in path.rglob("*")
                       if p.is_file() and not _hidden(p.relative_to(path)))
        if not files:
            raise InputFileError(f"{shown}: the folder has no data files ({path})",
                                 hint="point spark: at a folder of .parquet or .csv files")
    else:
        files = [path]
    formats: dict[str, list[Path]] = {}
    for f in files:
        suffix = _suffix(f)
        fmt = ("parquet" if suffix in PARQUET_SUFFIXES else
               "csv" if suffix in CSV_SUFFIXES else suffix or "(no extension)")
        formats.setdefault(fmt, []).append(f)
    known = [fmt for fmt in formats if fmt in _SPARK_BASE_ROW]
    unknown = [fmt for fmt in formats if fmt not in _SPARK_BASE_ROW]
    if unknown:
        example = formats[unknown[0]][0]
        where = "" if example == path else f" ({example.relative_to(path)} in the folder)"
        also = ("; without spark: CVM reads it with DuckDB"
                if unknown[0] in (*EXCEL_SUFFIXES, *DUCKDB_SUFFIXES) and example == path else "")
        raise InputFileError(
            f"{shown}: Spark reads Parquet and CSV files, not {unknown[0]!r}{where}{also}",
            hint="use .parquet / .pq or .csv / .tsv / .txt (optionally .gz) files")
    if len(known) > 1:
        raise InputFileError(f"{shown}: the folder mixes Parquet and CSV files",
                             hint="keep one format in the folder")
    fmt = known[0]
    if fmt == "csv" and all(f.stat().st_size == 0 for f in files):
        raise InputFileError(f"{shown}: the file is empty" if files == [path] else
                             f"{shown}: every CSV file in the folder is empty",
                             hint="export the data again with a header row")
    return fmt, files


def spark_files(address: str) -> list[Path]:
    """The data files a ``spark:PATH`` address reads, in path order (checked as
    :func:`read_spark` checks them, without starting Spark); for checksums of the input.

    >>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
    >>> lake = pathlib.Path(tempfile.mkdtemp())
    >>> pq.write_table(pa.table({"a": [1]}), lake / "part-0.parquet")
    >>> _ = (lake / "_SUCCESS").write_text("")
    >>> [p.name for p in spark_files(f"spark:{lake}")]
    ['part-0.parquet']
    """
    return _spark_format(spark_address_path(address), _redact_address(address))[1]


def _spark_glob_escaped(path: Path) -> str:
    """The path as Spark reads it literally: Hadoop treats ``[ ] * ? { }`` as a pattern."""
    return "".join("\\" + c if c in _GLOB_CHARS else c for c in str(path))


def _csv_dialect(first: Path) -> tuple[str, dict[str, str]]:
    """``(encoding, Spark CSV options)`` for CSV files like ``first``, found the way
    :func:`read_csv` finds them: the encoding by :func:`detect_encoding`, the delimiter by
    DuckDB's CSV sniffer on a UTF-8 sample."""
    import duckdb

    encoding = codecs.lookup(detect_encoding(first)).name
    options = {"sep": "\t" if _suffix(first) in (".tsv", ".tsv.gz") else ",",
               "quote": '"', "escape": '"'}
    with _open_bytes(first) as fh:
        sample = fh.read(_SAMPLE_BYTES).decode(encoding, errors="ignore")
    sample = sample.lstrip("\ufeff")
    if "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    with tempfile.TemporaryDirectory(prefix="cvm_") as tmp:
        probe = Path(tmp) / "sample.csv"
        probe.write_text(sample, encoding="utf-8")
        try:
            with duckdb.connect() as db:
                delim, escape = db.execute(
                    "SELECT Delimiter, Escape FROM sniff_csv(?, header=true, all_varchar=true, "
                    "null_padding=true)", [str(probe)]).fetchone()
        except Exception as exc:  # too little to sniff: keep the default delimiter
            log.debug("sniff_csv failed on %s: %s", first.name, exc)
            delim, escape = None, None
    if delim and len(delim) == 1:
        options["sep"] = delim
    if escape == "\\":
        options["escape"] = "\\"
    return encoding, options


def read_spark(address: str, *, con: Any = None) -> RawSource:
    """Read ``spark:PATH`` (a Parquet or CSV file, or a folder of them) as a table on Spark.

    The format follows the file extensions (``.parquet``/``.pq``; ``.csv``/``.tsv``/``.txt``,
    optionally gzipped); a folder is read whole, ``key=value`` partition folders included,
    skipping the files Spark skips (names starting with ``_`` or ``.``). The session is
    ``con``'s when ``con`` is a Spark backend, else CVM's local one
    (:func:`cvm.data.connect.local_spark_session`); the rows stay on Spark.

    Parquet columns keep their types. CSV files are read as :func:`read_csv` reads them: a
    header row, every column as text, the encoding and the delimiter detected on the first
    file, quoted fields may span lines (``""`` is a quote inside a quoted field).

    ``source_row`` follows the files in path order and the rows in each file: for Parquet the
    position from 1 (a single file: its row position, as :func:`read_parquet` numbers it);
    for CSV the record number where the header is 1 (in a folder, the files' records are
    numbered on as though the files were one, with one header). The name is ``spark:`` and
    the file or folder name, for example ``spark:orders.parquet``.
    """
    from cvm.data.connect import local_spark_session

    shown = _redact_address(address)
    path = spark_address_path(address)
    fmt, files = _spark_format(path, shown)
    if getattr(con, "name", None) == "pyspark":
        session = con._session
    else:
        try:
            session = local_spark_session()
        except BackendError as exc:
            raise BackendError(f"{shown}: {exc.message}", hint=exc.hint) from exc
        con = None
    target = _spark_glob_escaped(path.resolve())
    try:
        if fmt == "parquet":
            df = session.read.parquet(target)
        else:
            encoding, options = _csv_dialect(files[0])
            if encoding not in {"utf-8", "ascii"}:
                # Spark 4 reads only a few charsets unless this legacy switch is on
                session.conf.set("spark.sql.legacy.javaCharsets", "true")
            df = session.read.options(header=True, multiLine=True, mode="PERMISSIVE",
                                      encoding=encoding, **options).csv(target)
    except (InputFileError, ConfigError):
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{shown}: Spark cannot read it as {fmt.upper()}: {first}",
                             hint="check that the files are valid " + fmt.upper()) from exc
    columns = tuple(df.columns)
    if SOURCE_ROW in columns:
        raise InputFileError(f"{shown}: has a column named {SOURCE_ROW!r}, which CVM reserves",
                             hint="rename that column")
    numbered = _number_spark_rows(df, fmt, session)
    name = _tmp_name("spark")
    numbered.createOrReplaceTempView(name)
    table = _spark_backend(session, con).table(name)
    return RawSource(table, f"{SPARK_PREFIX}{path.resolve().name}", columns, path, "spark")


def _number_spark_rows(df: Any, fmt: str, session: Any) -> Any:
    """``df`` with ``source_row`` (see :func:`read_spark`), computed without moving every row
    to one partition: each row's position in its file, plus the rows of the files before it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    file_col, pos_col = "__cvm_file", "__cvm_pos"
    meta = df.select("_metadata").schema["_metadata"].dataType.names
    if "row_index" in meta:  # Parquet on Spark 3.5+: the row's position in its file
        t = df.select("*", F.col("_metadata.file_path").alias(file_col),
                      F.col("_metadata.row_index").alias(pos_col))
    else:
        # rows of one file are read in order by one task (CSV with multiLine is never split)
        t = df.select("*", F.col("_metadata.file_path").alias(file_col),
                      F.monotonically_increasing_id().alias("__cvm_seq"))
        order = Window.partitionBy(file_col).orderBy("__cvm_seq")
        t = t.withColumn(pos_col, F.row_number().over(order) - 1).drop("__cvm_seq")
    first = F.lit(_SPARK_BASE_ROW[fmt]).cast("long")
    if len(df.inputFiles()) <= 1:
        row = F.col(pos_col).cast("long") + first
    else:
        counts = sorted((r[0], r[1]) for r in t.groupBy(file_col).count().collect())
        offsets, total = [], 0
        for path, count in counts:
            offsets.append((path, total))
            total += count
        table = session.createDataFrame(offsets, f"{file_col} string, __cvm_offset long")
        t = t.join(F.broadcast(table), on=file_col)
        row = F.col("__cvm_offset") + F.col(pos_col).cast("long") + first
    return t.select(*[F.col(f"`{c}`") for c in df.columns], row.alias(SOURCE_ROW))


_SPARK_BACKEND: list[tuple[Any, Any]] = []


def _spark_backend(session: Any, con: Any = None) -> Any:
    """One Ibis backend per Spark session, so tables read from one session share a backend."""
    if con is not None:
        return con
    for known, backend in _SPARK_BACKEND:
        if known is session:
            return backend
    from cvm.data.connect import spark_connection

    backend = spark_connection(session)
    _SPARK_BACKEND[:] = [(session, backend)]
    return backend
