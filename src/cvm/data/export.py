"""Write tables to Parquet, CSV or Excel, atomically.

A result file either appears whole or not at all: CVM writes to a temporary file beside
the target and renames it into place only when writing succeeded.

>>> import ibis, tempfile, pathlib
>>> t = ibis.memtable({"customer_id": ["a", "b"], "frequency": [1, 0]})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "summary.csv"
>>> write_table(t, out)
PosixPath('...summary.csv')
>>> out.read_text().splitlines()[0]
'customer_id,frequency'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cvm.errors import ConfigError, InputFileError

FORMATS = ("parquet", "csv", "xlsx")
EXCEL_MAX_ROWS = 1_048_575  # one row of the sheet's 1,048,576 holds the header


def format_of(path: str | Path) -> str:
    """The output format named by a file's extension.

    >>> format_of("out/summary.PARQUET")
    'parquet'
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    aliases = {"pq": "parquet", "xls": "xlsx"}
    fmt = aliases.get(suffix, suffix)
    if fmt not in FORMATS:
        raise ConfigError(
            f"cannot write {Path(path).name!r}: unknown output format {suffix or '(none)'!r}",
            hint="end the output file name in .parquet, .csv or .xlsx",
        )
    if suffix == "xls":
        raise ConfigError("CVM writes .xlsx, not the old .xls format", hint="name the file .xlsx")
    return fmt


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` only on success."""
    target = Path(target)
    if target.exists() and target.is_dir():
        raise InputFileError(f"{target} is a folder, not a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(table: Any, path: str | Path, *, sheet_name: str = "data") -> Path:
    """Write an Ibis table (or pandas DataFrame / pyarrow Table) to ``path``.

    The format follows the extension. Parquet and CSV stream from the engine in batches, so
    a large result is never held whole in memory; Excel needs the table in memory and is
    refused above Excel's row limit.
    """
    path = Path(path)
    fmt = format_of(path)
    with atomic_path(path) as tmp:
        if fmt == "xlsx":
            _write_xlsx(table, tmp, sheet_name=sheet_name, target=path)
        else:
            _write_stream(table, tmp, fmt)
    return path


def _record_batches(table: Any):
    """A pyarrow RecordBatchReader for an Ibis table, DataFrame or Arrow table.

    Every batch is held to the reader's declared schema. Ibis declares its own types (an
    integer sum as int64) while DuckDB's batches keep the engine's (decimal128(38, 0));
    a consumer that trusts the declared schema would misread such a batch's bytes.
    """
    import pyarrow as pa

    if isinstance(table, pa.Table):
        return table.to_reader()
    if hasattr(table, "to_pyarrow_batches"):
        reader = table.to_pyarrow_batches()
        schema = reader.schema
        return pa.RecordBatchReader.from_batches(
            schema, (b if b.schema.equals(schema) else b.cast(schema) for b in reader)
        )
    return pa.Table.from_pandas(table, preserve_index=False).to_reader()


def _write_stream(table: Any, tmp: Path, fmt: str) -> None:
    import duckdb
    import pyarrow.parquet as pq

    reader = _record_batches(table)
    if fmt == "parquet":
        with pq.ParquetWriter(tmp, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        return
    # DuckDB streams the Arrow batches into a plainly quoted CSV (quotes only where needed).
    con = duckdb.connect()
    try:
        con.register("cvm_export_batches", reader)
        con.execute(
            "COPY (SELECT * FROM cvm_export_batches) TO ? (FORMAT csv, HEADER true)", [str(tmp)]
        )
    finally:
        con.close()


def _write_xlsx(table: Any, tmp: Path, *, sheet_name: str, target: Path) -> None:
    import pandas as pd

    if hasattr(table, "count") and hasattr(table, "to_pandas"):
        n = int(table.count().execute())
        if n > EXCEL_MAX_ROWS:
            raise ConfigError(
                f"cannot write {target.name}: {n:,} rows exceed Excel's limit of {EXCEL_MAX_ROWS:,}",
                hint="write .parquet or .csv instead",
            )
        frame = table.to_pandas()
    elif isinstance(table, pd.DataFrame):
        frame = table
    else:
        frame = table.to_pandas()
    if len(frame) > EXCEL_MAX_ROWS:
        raise ConfigError(
            f"cannot write {target.name}: {len(frame):,} rows exceed Excel's limit of {EXCEL_MAX_ROWS:,}",
            hint="write .parquet or .csv instead",
        )
    write_excel_sheets({sheet_name: frame}, tmp)


def write_excel_sheets(sheets: dict[str, Any], path: Path) -> None:
    """Write several DataFrames as sheets of one .xlsx file (no atomicity: callers wrap it).

    Cells are written column by column with XlsxWriter (several times faster than going
    through pandas and openpyxl): numbers as numbers (NaN and NULL as empty cells), booleans
    as TRUE/FALSE, dates and times with an ISO format, everything else as text (never read
    as a formula or a link). The header row is bold and frozen.

    >>> import pandas as pd, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "book.xlsx"
    >>> write_excel_sheets({"data": pd.DataFrame({"id": ["a", "=1+1"], "x": [1.5, None]})}, out)
    >>> pd.read_excel(out).values.tolist()
    [['a', 1.5], ['=1+1', nan]]
    """
    import pandas as pd
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {
        "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
        "nan_inf_to_errors": True,
    })
    try:
        bold = workbook.add_format({"bold": True})
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for name, frame in sheets.items():
            if not isinstance(frame, pd.DataFrame):
                frame = frame.to_pandas()
            sheet = workbook.add_worksheet(name[:31])
            sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
            sheet.freeze_panes(1, 0)
            for j, column in enumerate(frame.columns):
                _write_excel_column(sheet, j, frame[column], date_format, time_format)
    finally:
        workbook.close()


def _write_excel_column(sheet: Any, j: int, values: Any, date_format: Any, time_format: Any) -> None:
    """One column of cells below the header, each written with its own type."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        for i, v in enumerate(values.tolist(), start=1):
            if v is not None and v is not pd.NA:
                sheet.write_boolean(i, j, bool(v))
    elif pd.api.types.is_numeric_dtype(dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(np.isfinite(numbers)):
            sheet.write_number(int(i) + 1, j, float(numbers[i]))
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.to_datetime(values)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_localize(None)
        whole_days = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
        for i, v in enumerate(stamps.tolist(), start=1):
            if v is not pd.NaT and v is not None:
                sheet.write_datetime(i, j, v.to_pydatetime(), date_format if whole_days else time_format)
    else:
        for i, v in enumerate(values.tolist(), start=1):
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                continue
            if isinstance(v, dt.datetime):
                sheet.write_datetime(i, j, v.replace(tzinfo=None), time_format)
            elif isinstance(v, dt.date):
                sheet.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date_format)
            elif isinstance(v, bool):
                sheet.write_boolean(i, j, v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                sheet.write_number(i, j, float(v))
            else:
                sheet.write_string(i, j, str(v))
