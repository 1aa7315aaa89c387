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
