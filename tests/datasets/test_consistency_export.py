"""Exported files read back as the data they came from, in every format; nothing half-written."""

import pandas as pd
import pytest

from cvm.errors import OutputExistsError

import cvm.data.export
from cvm.datasets import dataset_info, export, generate_retail, load

SMALL = {"n_customers": 40, "seed": 11}


def _same(read: pd.DataFrame, original: pd.DataFrame, date_columns) -> None:
    read = read.copy()
    for column in date_columns:
        read[column] = pd.to_datetime(read[column]).astype("datetime64[ns]")
    pd.testing.assert_frame_equal(read, original, check_dtype=False)


def test_cdnow_csv_round_trip_with_iso_dates(tmp_path):
    paths = export("cdnow_master", tmp_path)
    assert [p.name for p in paths] == ["transactions.csv"]
    lines = paths[0].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "customer_id,date,quantity,amount"
    assert lines[1] == "1,1997-01-01,1,11.77"
    _same(pd.read_csv(paths[0]), load("cdnow_master"), ["date"])


def test_cdnow_parquet_round_trip_keeps_plain_dates(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (path,) = export("cdnow_sample", tmp_path, format="parquet")
    assert pq.read_schema(path).field("date").type == pa.date32()
    _same(pd.read_parquet(path), load("cdnow_sample"), ["date"])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_retail_round_trip(tmp_path, fmt):
    paths = export("retail", tmp_path, format=fmt, **SMALL)
    assert [p.name for p in paths] == [f"{t}.{fmt}" for t in dataset_info("retail").tables]
    read = {"csv": pd.read_csv, "parquet": pd.read_parquet, "xlsx": pd.read_excel}[fmt]
    for path in paths:
        table = path.stem
        original = load("retail", table, **SMALL)
        dates = [c for c in original.columns if c == "date" or c.endswith("_date")]
        back = read(path)
        if fmt == "csv":  # CSV keeps no types: blanks come back as NaN, ids as text
            original = original.astype({c: "object" for c in original.columns if c not in dates})
            back = back.astype({c: "object" for c in back.columns if c not in dates})
            back = back.where(back.notna(), None)
            original = original.where(original.notna(), None)
        _same(back, original.reset_index(drop=True), dates)


def test_retail_write_matches_export(tmp_path):
    data = generate_retail(**SMALL)
    written = data.write(tmp_path / "a")
    exported = export("retail", tmp_path / "b", **SMALL)
    for a, b in zip(written, exported):
        assert a.read_bytes() == b.read_bytes()


def test_export_refuses_to_overwrite(tmp_path):
    (path,) = export("cdnow_sample", tmp_path)
    path.write_text("mine")
    with pytest.raises(OutputExistsError, match="overwrite") as info:
        export("cdnow_sample", tmp_path)
    assert isinstance(info.value, FileExistsError) and info.value.exit_code == 4
    assert path.read_text() == "mine"
    export("cdnow_sample", tmp_path, overwrite=True)
    assert path.read_text(encoding="utf-8").startswith("customer_id,master_customer_id,date")


def test_one_existing_file_stops_the_whole_export(tmp_path):
    (tmp_path / "surveys.csv").write_text("mine")
    with pytest.raises(OutputExistsError, match="surveys.csv"):
        export("retail", tmp_path, **SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["surveys.csv"]


def test_a_failure_leaves_nothing_behind(tmp_path, monkeypatch):
    real = cvm.data.export.write_table
    calls = []

    def failing(table, path, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(table, path, **kwargs)

    monkeypatch.setattr(cvm.data.export, "write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        export("retail", tmp_path / "out", **SMALL)
    assert list((tmp_path / "out").iterdir()) == []
