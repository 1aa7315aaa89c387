"""Writing results: every format, atomically."""

import ibis
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cvm.data.export import EXCEL_MAX_ROWS, format_of, write_table
from cvm.errors import ConfigError


@pytest.fixture
def table():
    return ibis.memtable({"customer_id": ["a", "b, inc", "c"], "frequency": [2, 0, 5],
                          "recency": [1.5, 0.0, 3.25]})


@pytest.mark.parametrize("name", ["out.parquet", "out.csv", "out.xlsx"])
def test_each_format_round_trips(tmp_path, table, name):
    path = write_table(table, tmp_path / "nested" / name)
    if name.endswith(".parquet"):
        back = pq.read_table(path).to_pandas()
    elif name.endswith(".csv"):
        back = pd.read_csv(path, dtype={"customer_id": str})
    else:
        back = pd.read_excel(path)
    assert back.customer_id.tolist() == ["a", "b, inc", "c"]
    assert back.frequency.tolist() == [2, 0, 5]
    assert back.recency.tolist() == [1.5, 0.0, 3.25]
    assert [p.name for p in path.parent.iterdir()] == [name]  # no temporary file left behind


def test_unknown_extension_is_a_config_error(tmp_path, table):
    with pytest.raises(ConfigError, match="unknown output format 'json'"):
        write_table(table, tmp_path / "out.json")
    assert format_of("x.PQ") == "parquet"


def test_failed_write_leaves_the_old_file_untouched(tmp_path, table, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("previous\n")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("cvm.data.export._write_stream", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_table(table, target)
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_excel_refuses_more_rows_than_a_sheet_holds(tmp_path):
    big = ibis.memtable(pd.DataFrame({"n": range(EXCEL_MAX_ROWS + 1)}))
    with pytest.raises(ConfigError, match="exceed Excel's limit"):
        write_table(big, tmp_path / "big.xlsx")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["agg.parquet", "agg.csv"])
def test_streamed_aggregates_keep_their_values(tmp_path, name):
    """DuckDB hands Ibis batches typed as the engine's (an integer sum as decimal128) while
    the stream declares Ibis's types (int64); the file must hold the true values either way."""
    import datetime as dt

    log = ibis.memtable({"day": [dt.date(1997, 1, 1), dt.date(1997, 1, 1), dt.date(1997, 4, 1)],
                         "n": [5, 2, 7]})
    agg = log.group_by("day").aggregate(n=log.n.sum(), rows=log.count()).order_by("day")
    path = write_table(agg, tmp_path / name)
    back = pq.read_table(path).to_pandas() if name.endswith(".parquet") else pd.read_csv(path)
    assert [str(d)[:10] for d in back.day] == ["1997-01-01", "1997-04-01"]
    assert back.n.tolist() == [7, 7]
    assert back.rows.tolist() == [2, 1]


# -- Excel workbooks ---------------------------------------------------------------------------

def _every_cell_type() -> pd.DataFrame:
    """One column per kind of cell the writer knows, with gaps, and text that a careless writer
    would turn into a formula, a link, a number, or broken XML."""
    import datetime as dt

    import numpy as np

    return pd.DataFrame({
        "text": pd.array(["=1+1", "http://example.com", "0012", None, " lead", "<a & b>",
                          "_x0041_", "tab\tand\x01ctrl"], dtype="string"),
        "category": pd.Categorical(["stable", "decline", None, "stable", "stable", "x", "y", "z"]),
        "number": [1.5, np.nan, np.inf, -0.25, 1e-7, 221.99999999999997, 3.0, -np.inf],
        "integer": np.array([0, -3, 2**40, 7, 8, 9, 10, 11], dtype="int64"),
        "nullable_integer": pd.array([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),
        "flag": [True, False, True, True, False, False, True, False],
        "nullable_flag": pd.array([True, None, False, True, None, False, True, True], dtype="boolean"),
        "day": pd.to_datetime(["1997-01-01", None, "1900-02-28", "1900-03-01", "2024-02-29",
                               "1999-12-31", "2000-01-01", "2038-01-19"]),
        "moment": pd.to_datetime(["1997-01-01 12:30:00", "1997-01-02 00:00:00", None, "2020-06-30 23:59:59",
                                  "2020-07-01 00:00:01", "2001-01-01 06:00:00", "2001-01-01 18:00:00",
                                  "2001-01-02 00:00:00"]),
        "zoned": pd.to_datetime(["2024-01-01 10:00"] * 8).tz_localize("Asia/Shanghai"),
        "mixed": pd.Series([dt.date(1997, 3, 1), dt.datetime(1997, 3, 1, 6, 0), 4, "four", True,
                            None, 2.5, float("nan")], dtype=object),
    })


def _cells(path) -> dict:
    """Every cell of every sheet as (value, openpyxl data type, number format, bold)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    return {name: {c.coordinate: (c.value, c.data_type, c.number_format, bool(c.font.b))
                   for row in book[name].iter_rows() for c in row if c.value is not None}
            for name in book.sheetnames} | {
        "_frozen": [book[name].freeze_panes for name in book.sheetnames]}


def _reference_workbook(sheets: dict, path) -> None:
    """The slow, plain route: XlsxWriter cell by cell (what CVM wrote before)."""
    import datetime as dt
    import math

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    day, moment = book.add_format({"num_format": "yyyy-mm-dd"}), book.add_format(
        {"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, frame in sheets.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
        sheet.freeze_panes(1, 0)
        for j, column in enumerate(frame.columns):
            values = frame[column]
            if str(values.dtype).startswith("datetime64"):
                stamps = values.dt.tz_localize(None) if values.dt.tz is not None else values
                whole = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
                items = [None if pd.isna(v) else v.to_pydatetime() for v in stamps]
                formats = [day if whole else moment] * len(items)
            else:
                items = [None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                         else v for v in values.astype(object)]
                formats = [moment if isinstance(v, dt.datetime) else day for v in items]
            for i, (v, f) in enumerate(zip(items, formats), start=1):
                if v is None:
                    continue
                if isinstance(v, dt.datetime):
                    sheet.write_datetime(i, j, v, f)
                elif isinstance(v, dt.date):
                    sheet.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), f)
                elif isinstance(v, bool) or type(v).__name__ == "bool_":
                    sheet.write_boolean(i, j, bool(v))
                elif isinstance(v, (int, float)) or hasattr(v, "dtype"):
                    if math.isfinite(float(v)):
                        sheet.write_number(i, j, float(v))
                else:
                    sheet.write_string(i, j, str(v))
    book.close()


def test_consistency_excel_cells_match_writing_cell_by_cell(tmp_path):
    """The column-at-a-time writer and XlsxWriter's own cell-by-cell route give the same
    cells: value, type, number format, bold header, frozen first row, sheet by sheet."""
    from cvm.data.export import write_excel_sheets

    # XlsxWriter writes numbers with 16 significant digits, so 221.99999999999997 becomes 222
    # there; CVM writes the shortest text that reads back as the same float (checked below).
    every = _every_cell_type().replace({"number": {221.99999999999997: 221.5}})
    sheets = {"every type": every,
              "second": pd.DataFrame({"n": range(5), "s": list("abcde")}),
              "no rows": pd.DataFrame({"a": pd.Series(dtype=float), "b": pd.Series(dtype="string")})}
    write_excel_sheets(sheets, tmp_path / "fast.xlsx")
    _reference_workbook(sheets, tmp_path / "reference.xlsx")
    fast, reference = _cells(tmp_path / "fast.xlsx"), _cells(tmp_path / "reference.xlsx")
    assert list(fast) == list(reference)
    for name in reference:
        assert fast[name] == reference[name], name


def test_correctness_excel_round_trips_every_cell_type(tmp_path):
    """pandas (openpyxl) reads back what was written: numbers as numbers, gaps and
    non-finite numbers as empty cells, booleans, dates and times, text as it was."""
    import datetime as dt

    import numpy as np

    from cvm.data.export import write_excel_sheets

    frame = _every_cell_type()
    write_excel_sheets({"data": frame}, tmp_path / "book.xlsx")
    back = pd.read_excel(tmp_path / "book.xlsx", engine="openpyxl")
    assert back.columns.tolist() == frame.columns.tolist()
    # a control character is stored as Excel's escape _x0001_, which Excel decodes and
    # openpyxl leaves as it is (as for XlsxWriter's own files)
    assert back["text"].tolist()[:3] + back["text"].tolist()[4:] == [
        "=1+1", "http://example.com", "0012", " lead", "<a & b>", "_x0041_", "tab\tand_x0001_ctrl"]
    assert pd.isna(back["text"][3])
    assert back["category"].tolist()[:2] == ["stable", "decline"] and pd.isna(back["category"][2])
    number = back["number"].tolist()
    assert [number[i] for i in (0, 3, 4, 5, 6)] == [1.5, -0.25, 1e-7, 221.99999999999997, 3.0]
    assert all(np.isnan(number[i]) for i in (1, 2, 7))
    assert back["integer"].tolist() == [0, -3, 2**40, 7, 8, 9, 10, 11]
    assert back["integer"].dtype == np.int64
    assert back["nullable_integer"].isna().tolist() == [False, True] + [False] * 6
    assert back["flag"].tolist() == frame["flag"].tolist()
    # booleans with gaps come back as 1.0 / 0.0 / NaN (pandas' reading; the cells are TRUE/FALSE)
    assert back["nullable_flag"].isna().tolist() == frame["nullable_flag"].isna().tolist()
    assert back["nullable_flag"].dropna().tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    assert back["day"].tolist()[2:] == frame["day"].tolist()[2:] and pd.isna(back["day"][1])
    assert back["moment"].tolist()[:2] == frame["moment"].tolist()[:2]
    assert back["moment"].tolist()[3:] == frame["moment"].tolist()[3:]
    assert back["zoned"].tolist() == [pd.Timestamp("2024-01-01 10:00")] * 8
    assert back["mixed"].tolist()[:5] == [dt.datetime(1997, 3, 1), dt.datetime(1997, 3, 1, 6),
                                          4, "four", True]
    assert back["mixed"].tolist()[6] == 2.5 and pd.isna(back["mixed"][5]) and pd.isna(back["mixed"][7])


def test_excel_header_is_bold_and_frozen_and_dates_have_formats(tmp_path):
    from cvm.data.export import write_excel_sheets

    write_excel_sheets({"data": _every_cell_type()}, tmp_path / "book.xlsx")
    cells = _cells(tmp_path / "book.xlsx")
    assert cells["_frozen"] == ["A2"]
    assert cells["data"]["A1"] == ("text", "s", "General", True)
    assert cells["data"]["A2"] == ("=1+1", "s", "General", False)  # text, not a formula
    assert cells["data"]["H2"][2] == "yyyy-mm-dd"
    assert cells["data"]["I2"][2] == "yyyy-mm-dd hh:mm:ss"
    assert cells["data"]["K2"][2] == "yyyy-mm-dd" and cells["data"]["K3"][2] == "yyyy-mm-dd hh:mm:ss"
    assert cells["data"]["F2"] == (True, "b", "General", False)


def test_excel_writes_many_rows_in_blocks(tmp_path, monkeypatch):
    """Rows go out block by block; the blocks join up with nothing lost or repeated, and rows
    whose cells are all empty are left out as a cell-by-cell writer leaves them."""
    from cvm.data import export

    monkeypatch.setattr(export, "_EXCEL_ROWS_PER_BLOCK", 7)
    n = 50
    frame = pd.DataFrame({"i": [float(i) if i % 10 else None for i in range(n)],
                          "s": [f"row {i}" if i % 10 else None for i in range(n)]})
    export.write_excel_sheets({"data": frame}, tmp_path / "book.xlsx")
    back = pd.read_excel(tmp_path / "book.xlsx")
    assert len(back) == n  # the empty rows keep their places
    assert back["s"].tolist()[1:9] == [f"row {i}" for i in range(1, 9)]
    assert back["s"].isna().tolist() == [i % 10 == 0 for i in range(n)]
    assert back["i"].tolist()[11] == 11.0


def test_excel_refuses_a_sheet_larger_than_excel_allows(tmp_path):
    from cvm.data.export import write_excel_sheets

    wide = pd.DataFrame({f"c{j}": [1] for j in range(16_385)})
    with pytest.raises(ConfigError, match="exceed Excel's limit"):
        write_excel_sheets({"wide": wide}, tmp_path / "wide.xlsx")


def test_excel_columns_past_z_keep_their_places(tmp_path):
    from cvm.data.export import write_excel_sheets

    frame = pd.DataFrame({f"c{j}": [j, None if j % 7 == 3 else -j] for j in range(60)})
    write_excel_sheets({"wide": frame}, tmp_path / "wide.xlsx")
    back = pd.read_excel(tmp_path / "wide.xlsx")
    assert back.columns.tolist() == frame.columns.tolist()
    assert back.iloc[0].tolist() == list(range(60))
    assert back.iloc[1].isna().tolist() == [j % 7 == 3 for j in range(60)]
    assert back["c58"].tolist() == [58, -58] and back["c26"].tolist() == [26, -26]


def test_excel_refuses_sheet_names_excel_would_merge(tmp_path):
    from cvm.data.export import write_excel_sheets

    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(ConfigError, match="two sheets are named"):
        write_excel_sheets({"x" * 31 + "1": frame, "X" * 31 + "2": frame}, tmp_path / "b.xlsx")


def test_excel_sheets_without_rows_or_columns(tmp_path):
    from cvm.data.export import write_excel_sheets

    write_excel_sheets({"empty": pd.DataFrame(), "no columns": pd.DataFrame(index=range(3)),
                        "rows": pd.DataFrame({"a": ["x"]})}, tmp_path / "b.xlsx")
    back = pd.read_excel(tmp_path / "b.xlsx", sheet_name=None)
    assert list(back) == ["empty", "no columns", "rows"]
    assert back["empty"].empty and back["no columns"].empty
    assert back["rows"]["a"].tolist() == ["x"]


def test_excel_creation_time_makes_reruns_identical(tmp_path):
    import datetime as dt

    from cvm.data.export import write_excel_sheets

    when = dt.datetime(2024, 1, 1)
    for name in ("a.xlsx", "b.xlsx"):
        write_excel_sheets({"data": _every_cell_type()}, tmp_path / name, created=when)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_csv_round_trips_awkward_text_categories_and_names(tmp_path):
    """Text with commas, quotes and line breaks, categories, missing values, dates and a column
    name that needs quoting come back from pandas as they went in."""
    frame = pd.DataFrame({
        "customer_id": ["007", 'say "hi"', "a,b", "line\nbreak"],
        "tier": pd.Categorical(["vip", None, "vip", "ordinary"]),
        "value, net": [1.5, None, -0.1, 1e-12],
        "day": pd.to_datetime(["2024-01-01", "2024-02-29", None, "1999-12-31"]).date,
    })
    out = tmp_path / "t.csv"
    write_table(frame, out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith('"customer_id","tier","value, net","day"\n')  # one name needs quotes: all get them
    back = pd.read_csv(out, dtype={"customer_id": str, "tier": str}, keep_default_na=False, na_values=[""])
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    assert back["tier"].fillna("<NA>").tolist() == ["vip", "<NA>", "vip", "ordinary"]
    assert back["value, net"].fillna(-999.0).tolist() == [1.5, -999.0, -0.1, 1e-12]  # exact
    assert back["day"].fillna("").tolist() == ["2024-01-01", "2024-02-29", "", "1999-12-31"]
