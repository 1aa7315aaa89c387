"""Write tables to Parquet, CSV or Excel, atomically.

A result file either appears whole or not at all: CVM writes to a temporary file beside
the target and renames it into place only when writing succeeded. CSV files quote every
text value (and a column name only when it holds a comma, quote or line break).

>>> import ibis, tempfile, pathlib
>>> t = ibis.memtable({"customer_id": ["a", "b"], "frequency": [1, 0]})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "summary.csv"
>>> write_table(t, out)
PosixPath('...summary.csv')
>>> out.read_text().splitlines()
['customer_id,frequency', '"a",1', '"b",0']
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
    import pyarrow.parquet as pq

    reader = _record_batches(table)
    if fmt == "parquet":
        with pq.ParquetWriter(tmp, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        return
    # Arrow's CSV writer streams the batches (text quoted, numbers in their shortest exact
    # form); it writes a million customers' value table 2.5 times as fast as DuckDB's COPY
    import pyarrow as pa
    import pyarrow.csv as pacsv

    schema = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                        for f in reader.schema])
    plain = all(not set(name) & set(',"\r\n') for name in schema.names)  # header needs no quotes
    options = pacsv.WriteOptions(quoting_header="none" if plain else "needed")
    with pacsv.CSVWriter(tmp, schema, write_options=options) as writer:
        for batch in reader:
            if batch.schema != schema:
                batch = pa.RecordBatch.from_arrays(
                    [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in batch.columns],
                    schema=schema)
            writer.write_batch(batch)


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


def write_excel_sheets(sheets: dict[str, Any], path: Path, *, created: Any = None) -> None:
    """Write several DataFrames as sheets of one .xlsx file (no atomicity: callers wrap it).

    Numbers are numbers (NaN, infinities and NULL are empty cells), booleans TRUE/FALSE,
    dates and times are numbers with an ISO format, everything else is text (never read as a
    formula or a link). The header row is bold and frozen. ``created`` (a datetime) is the
    creation time stored in the file's properties; give a fixed one for byte-identical reruns.

    XlsxWriter writes the package (workbook, styles, each sheet with its header row); the
    cells below the header are built a whole column at a time with Arrow and spliced into
    each sheet's ``<sheetData>``, their text into the shared-strings table, as XlsxWriter
    itself writes them. Writing cell by cell through XlsxWriter costs about ten
    microseconds a cell, far too slow for a million customers.

    >>> import pandas as pd, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "book.xlsx"
    >>> write_excel_sheets({"data": pd.DataFrame({"id": ["a", "=1+1"], "x": [1.5, None]})}, out)
    >>> pd.read_excel(out).values.tolist()
    [['a', 1.5], ['=1+1', nan]]
    """
    import io
    import zipfile

    import pandas as pd
    import xlsxwriter

    frames = {}
    for name, frame in sheets.items():
        if name[:31].lower() in {f.lower() for f in frames}:
            raise ConfigError(f"cannot write {Path(path).name}: two sheets are named "
                              f"{name[:31]!r} (Excel keeps 31 characters and ignores case)")
        frames[name[:31]] = frame if isinstance(frame, pd.DataFrame) else frame.to_pandas()
    for name, frame in frames.items():
        if len(frame) > EXCEL_MAX_ROWS or len(frame.columns) > _EXCEL_MAX_COLUMNS:
            raise ConfigError(
                f"cannot write sheet {name!r} of {Path(path).name}: {len(frame):,} rows and "
                f"{len(frame.columns):,} columns exceed Excel's limit of {EXCEL_MAX_ROWS:,} rows "
                f"and {_EXCEL_MAX_COLUMNS:,} columns", hint="write .parquet or .csv instead")
    package = io.BytesIO()
    workbook = xlsxwriter.Workbook(package, {
        "in_memory": True,
        "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
    })
    if created is not None:
        workbook.set_properties({"created": created})
    bold = workbook.add_format({"bold": True})
    formats = {"date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
               "time": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
    headers = []
    for name, frame in frames.items():
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
        sheet.freeze_panes(1, 0)
        headers += [str(c) for c in frame.columns if str(c) != ""]  # "" is a blank cell
    # XlsxWriter numbers a format when a cell first uses it and writes only numbered formats
    # to styles.xml; our cells are written outside XlsxWriter, so number both formats the
    # same way (two tiny style records when no cell uses them).
    styles = {kind: fmt._get_xf_index() for kind, fmt in formats.items()}
    workbook.close()

    columns = {name: [_excel_column(frame.iloc[:, j], styles) for j in range(len(frame.columns))]
               for name, frame in frames.items()}
    strings, count = _shared_strings(headers, [c for cs in columns.values() for c in cs])
    with zipfile.ZipFile(package) as source, \
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED,
                            compresslevel=_EXCEL_COMPRESSION) as target:
        parts = {f"xl/worksheets/sheet{k}.xml": name for k, name in enumerate(frames, start=1)}
        if count and "xl/sharedStrings.xml" not in source.namelist():  # text but no named column
            raise ConfigError(f"cannot write {Path(path).name}: a column with text has no name")
        for info in source.infolist():
            data = source.read(info)
            entry = info.filename  # dated 1980-01-01 as XlsxWriter dates its parts
            if info.filename == "xl/sharedStrings.xml":
                with target.open(entry, "w", force_zip64=strings.nbytes > 2**30) as out:
                    _write_shared_strings(out, data, strings, count, len(set(headers)))
            elif info.filename in parts and frames[parts[info.filename]].size:
                frame = frames[parts[info.filename]]
                big = len(frame) * len(frame.columns) * 64 > 2**31  # may pass the 2 GiB zip limit
                with target.open(entry, "w", force_zip64=big) as out:
                    _write_sheet(out, data, len(frame), columns[parts[info.filename]])
            else:
                target.writestr(info, data)


_EXCEL_MAX_COLUMNS = 16_384
_EXCEL_ROWS_PER_BLOCK = 50_000
# zlib level of the sheets and shared strings: deflating is most of the time of a big workbook;
# level 1 deflates 2.5 times as fast as zlib's default 6 into a file about a quarter larger
_EXCEL_COMPRESSION = 1
# Excel's serial day 0 is 1899-12-30 for every day from 1900-03-01 on (its calendar keeps a
# 29 February 1900 that never was, so earlier days are one less, as XlsxWriter writes them).
_EXCEL_EPOCH = "1899-12-30"
_EXCEL_FAKE_LEAP_DAY = 61  # serial of 1900-03-01 counted from 1899-12-30


class _ExcelColumn:
    """One column's cells: ``attributes`` closes each ``<c`` tag (a string, or an Arrow array
    with one per row), ``content`` holds ``<v>`` elements of numbers, booleans and dates,
    ``text`` the text cells (Arrow arrays, null where that kind of cell is absent);
    ``string_index`` is filled in with the text's place in the shared-strings table."""

    def __init__(self, attributes: Any, content: Any = None, text: Any = None) -> None:
        self.attributes, self.content, self.text = attributes, content, text
        self.string_index: Any = None


def _column_letter(j: int) -> str:
    """Excel's letters for the zero-based column ``j`` (0 -> A, 26 -> AA)."""
    letters = ""
    j += 1
    while j:
        j, rest = divmod(j - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _shared_strings(headers: list[str], columns: list[_ExcelColumn]) -> tuple[Any, int]:
    """The distinct texts of the workbook in order of first use, headers first (the order
    XlsxWriter gave the header cells), and how many text cells there are. Sets each column's
    ``string_index``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = [c.text for c in columns if c.text is not None]
    everything = pa.concat_arrays([pa.array(headers, type=pa.large_string())]
                                  + [t.cast(pa.large_string()) for t in texts])
    encoded = pc.dictionary_encode(everything)
    ends = np.cumsum([len(headers)] + [len(t) for t in texts])
    for column, start, stop in zip((c for c in columns if c.text is not None), ends[:-1], ends[1:]):
        column.string_index = encoded.indices[int(start):int(stop)]
    return encoded.dictionary, len(everything) - everything.null_count


def _write_shared_strings(out: Any, xlsxwriter_part: bytes, strings: Any, count: int,
                          n_headers: int) -> None:
    """XlsxWriter's shared-strings table (the header texts) replaced by ``strings``, whose
    first entries are those same texts in the same order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    head = xlsxwriter_part.split(b"<si>", 1)[0] if b"<si>" in xlsxwriter_part else \
        xlsxwriter_part.rsplit(b"</sst>", 1)[0]
    unique = re.search(rb'uniqueCount="(\d+)"', head)
    if unique is None or int(unique.group(1)) != n_headers:  # our table must extend XlsxWriter's
        raise RuntimeError("XlsxWriter's shared strings are not the header texts in order")
    head = re.sub(rb'count="\d+" uniqueCount="\d+"',
                  f'count="{count}" uniqueCount="{len(strings)}"'.encode(), head, count=1)
    out.write(head.replace(b"/>", b">") if head.rstrip().endswith(b"/>") else head)
    for start in range(0, len(strings), _EXCEL_ROWS_PER_BLOCK):
        escaped, preserve = _escape_text(strings[start:start + _EXCEL_ROWS_PER_BLOCK].cast(pa.string()))
        out.write(_string_bytes(pc.binary_join_element_wise(
            pc.if_else(preserve, '<si><t xml:space="preserve">', "<si><t>"), escaped,
            "</t></si>", "")))
    out.write(b"</sst>")


def _write_sheet(out: Any, xlsxwriter_part: bytes, n_rows: int, columns: list[_ExcelColumn]) -> None:
    """XlsxWriter's sheet (header row only) with the data rows spliced in."""
    head, tail = xlsxwriter_part.split(b"</sheetData>", 1)
    last = f"{_column_letter(len(columns) - 1)}{n_rows + 1}"
    head = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>'.encode(), head,
                  count=1)
    out.write(head)
    # Arrow builds the next block of rows while zlib deflates this one (both let go of the GIL)
    blocks = _excel_rows(n_rows, columns)
    with ThreadPoolExecutor(max_workers=1) as builder:
        following = builder.submit(next, blocks, None)
        while (block := following.result()) is not None:
            following = builder.submit(next, blocks, None)
            out.write(block)
    out.write(b"</sheetData>" + tail)


def _excel_rows(n_rows: int, columns: list[_ExcelColumn]) -> Iterator[memoryview]:
    """The ``<row>`` elements of a sheet's data rows (the header is row 1), block by block."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    letters = [_column_letter(j) for j in range(len(columns))]
    for start in range(0, n_rows, _EXCEL_ROWS_PER_BLOCK):
        stop = min(start + _EXCEL_ROWS_PER_BLOCK, n_rows)
        rows = pc.cast(pa.array(np.arange(start + 2, stop + 2)), pa.string())
        cells = []
        for letter, column in zip(letters, columns):
            parts = [p[start:stop] for p in (column.content, column.string_index) if p is not None]
            if column.string_index is not None:
                parts[-1] = pc.binary_join_element_wise(
                    "<v>", pc.cast(parts[-1], pa.string()), "</v>", "")
            content = parts[0] if len(parts) == 1 else pc.coalesce(*parts)
            attributes = column.attributes
            if isinstance(attributes, pa.Array):
                attributes = attributes[start:stop]
            cells.append(pc.fill_null(pc.binary_join_element_wise(
                f'<c r="{letter}', rows, attributes, content, "</c>", ""), ""))
        joined = pc.binary_join_element_wise(*cells, "")
        block = pc.binary_join_element_wise('<row r="', rows, '">', joined, "</row>", "")
        block = block.filter(pc.greater(pc.binary_length(joined), 0))  # rows without cells
        if len(block):
            yield _string_bytes(block)


def _string_bytes(strings: Any) -> memoryview:
    """The UTF-8 bytes of all values of an Arrow string array, end to end (no copy)."""
    import numpy as np

    if hasattr(strings, "combine_chunks"):
        strings = strings.combine_chunks()
    _, offsets, data = strings.buffers()
    kind = np.int64 if str(strings.type) == "large_string" else np.int32
    ends = np.frombuffer(offsets, dtype=kind)[strings.offset:strings.offset + len(strings) + 1]
    return memoryview(data)[int(ends[0]):int(ends[-1])]


def _excel_column(values: Any, styles: dict[str, int]) -> _ExcelColumn:
    """One column of a DataFrame as Excel cells, each of the column's type."""
    import pandas as pd
    import pyarrow as pa

    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _ExcelColumn('" t="b">', _boolean_content(
            _array(pa.array(values, type=pa.bool_(), from_pandas=True))))
    if pd.api.types.is_numeric_dtype(dtype):
        return _ExcelColumn('">', _number_content(values.to_numpy(dtype=float, na_value=float("nan"))))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        serial, whole_days = _serial_days(values)
        return _ExcelColumn(f'" s="{styles["date" if whole_days else "time"]}">',
                            _number_content(serial))
    if dtype != object:  # pandas' string dtypes (and categories): text
        text = values.astype(str).where(values.notna())
        return _ExcelColumn('" t="s">', text=_array(pa.array(text, type=pa.string(), from_pandas=True)))
    return _mixed_column(values.tolist(), styles)


def _array(values: Any) -> Any:
    """One contiguous Arrow array (pandas' Arrow-backed columns convert to chunked arrays)."""
    return values.combine_chunks() if hasattr(values, "combine_chunks") else values


def _mixed_column(items: list[Any], styles: dict[str, int]) -> _ExcelColumn:
    """An object column: each value keeps its own type (numbers, booleans, dates, text)."""
    import datetime as dt

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(items)
    kinds = np.zeros(n, dtype=np.int8)  # 0 empty, 1 number, 2 boolean, 3 date, 4 time, 5 text
    numbers = np.full(n, np.nan)
    stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    flags: list[bool | None] = [None] * n
    texts: list[str | None] = [None] * n
    for i, v in enumerate(items):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            continue
        if isinstance(v, (bool, np.bool_)):
            kinds[i], flags[i] = 2, bool(v)
        elif isinstance(v, dt.datetime):
            kinds[i], stamps[i] = 4, np.datetime64(v.replace(tzinfo=None), "us")
        elif isinstance(v, dt.date):
            kinds[i], stamps[i] = 3, np.datetime64(v, "us")
        elif isinstance(v, (int, float, np.integer, np.floating)):
            kinds[i], numbers[i] = 1, float(v)
        else:
            kinds[i], texts[i] = 5, str(v)
    serial, _ = _serial_days(pd.Series(stamps))
    numbers = np.where((kinds == 3) | (kinds == 4), serial, numbers)
    attributes = pa.array(np.array(['">', '">', '" t="b">', f'" s="{styles["date"]}">',
                                    f'" s="{styles["time"]}">', '" t="s">'])[kinds])
    content = pc.coalesce(_number_content(numbers), _boolean_content(pa.array(flags, type=pa.bool_())))
    return _ExcelColumn(attributes, content, pa.array(texts, type=pa.string()))


def _number_content(numbers: Any) -> Any:
    """``<v>`` elements of float64 numbers in their shortest exact form; null if not finite."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(numbers, type=pa.float64(), mask=~np.isfinite(numbers))
    return pc.binary_join_element_wise("<v>", pc.cast(array, pa.string()), "</v>", "")


def _boolean_content(flags: Any) -> Any:
    import pyarrow.compute as pc

    return pc.if_else(flags, "<v>1</v>", "<v>0</v>")


def _escape_text(strings: Any) -> tuple[Any, Any]:
    """Text escaped as XlsxWriter escapes shared strings, and where whitespace must be kept:
    XML's ``& < >``, control characters as ``_xHHHH_`` (and a literal ``_xHHHH_`` as
    ``_x005F_xHHHH_``), no more than Excel's 32,767 characters; whitespace is kept where a
    value starts or ends with it."""
    import pyarrow.compute as pc

    strings = pc.utf8_slice_codeunits(strings, 0, 32_767)
    strings = pc.replace_substring_regex(strings, r"(_x[0-9A-Fa-f]{4}_)", r"_x005F\1")
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        strings = pc.replace_substring(strings, raw, escaped)
    controls = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))] + ["\ufffe", "\uffff"]
    pattern = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in controls) + "]"
    if len(strings) and pc.any(pc.match_substring_regex(strings, pattern)).as_py():
        for c in controls:
            strings = pc.replace_substring(strings, c, f"_x{ord(c):04X}_")
    space = r"[\s\x{b}\x{1c}-\x{1f}\x{85}\p{Z}]"  # Python's \s, which XlsxWriter tests
    return strings, pc.match_substring_regex(strings, f"^{space}|{space}$")


def _serial_days(values: Any) -> tuple[Any, bool]:
    """Dates and times as Excel serial days (float64, NaN where missing), and whether every
    one of them falls on midnight."""
    import numpy as np
    import pandas as pd

    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    micros = stamps.to_numpy(dtype="datetime64[us]")
    missing = np.isnat(micros)
    since = (micros - np.datetime64(_EXCEL_EPOCH, "us")).astype(np.int64)
    days, rest = np.divmod(since, 86_400_000_000)
    serial = days + rest / 86_400_000_000
    serial = np.where(serial < _EXCEL_FAKE_LEAP_DAY, serial - 1, serial)
    serial[missing] = np.nan
    return serial, bool((rest[~missing] == 0).all())
