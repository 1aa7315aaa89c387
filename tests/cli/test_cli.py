"""The `cvm` command end to end: the sample job, validation, summaries, datasets, errors."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cvm.cli.main import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bad_csv(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,date,amount\n"
        "c1,2024-01-05,10.00\n"
        ",2024-01-06,12.00\n"            # row 3: blank id
        "c2,2024-13-40,5.00\n"           # row 4: impossible date
        "c3,2024-01-07,abc\n"            # row 5: not a number
        "c1,2024-02-01,\"1,200.50\"\n",  # row 6: fine
        encoding="utf-8",
    )
    return path


def test_demo_writes_every_result_and_prints_the_published_counts(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    code, out, _ = run(capsys, "demo", "-o", str(out_dir))
    assert code == 0
    headline = json.loads((out_dir / "headline.json").read_text())
    assert headline["customers"] == 2357
    assert headline["calibration_repeat_purchases"] == 2457
    assert headline["customers_without_repeat"] == 1411
    assert headline["holdout_repeat_purchases"] == 1882
    for name in ("calibration_holdout", "btyd_summary", "rfm", "period_panel", "cohorts"):
        assert (out_dir / f"{name}.parquet").exists() and (out_dir / f"{name}.csv").exists()
    split = pq.read_table(out_dir / "calibration_holdout.parquet")
    assert split.num_rows == 2357
    assert "2,457" in out and "1,882" in out
    # a second run refuses to clobber, and --overwrite replaces
    code, _, err = run(capsys, "demo", "-o", str(out_dir))
    assert code == 4 and "already exists" in err
    assert run(capsys, "demo", "-o", str(out_dir), "--overwrite")[0] == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo")]  # no staging left


def test_validate_strict_reports_file_rows_columns_rules_and_exits_3(tmp_path, capsys, bad_csv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report_path = tmp_path / "report.json"
    code, out, err = run(capsys, "validate", str(bad_csv), "--report", str(report_path))
    assert code == 3
    report = json.loads(report_path.read_text())
    by_rule = {i["rule"]: i for i in report["issues"]}
    assert by_rule["missing_id"]["rows"] == [3]
    assert by_rule["unparseable_date"]["rows"] == [4]
    assert by_rule["invalid_number"]["rows"] == [5]
    assert by_rule["invalid_number"]["examples"] == ["abc"]
    assert all(i["file"] == "orders.csv" for i in report["issues"])
    assert "orders.csv" in out
    assert not (tmp_path / "orders.quarantine.csv").exists()  # strict writes no data


def test_validate_quarantine_loads_good_rows_and_writes_bad_ones(tmp_path, capsys, bad_csv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quarantine = tmp_path / "bad_rows.csv"
    code, out, _ = run(capsys, "validate", str(bad_csv), "--policy", "quarantine",
                       "--quarantine", str(quarantine), "--report", str(tmp_path / "r.json"))
    assert code == 0
    bad = pd.read_csv(quarantine)
    assert sorted(bad["source_row"]) == [3, 4, 5]
    assert "bad_rows.csv" in out


def test_summary_writes_parquet_csv_and_excel(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "datasets", "export", "cdnow_sample", str(tmp_path / "cdnow"))[0] == 0
    source = str(tmp_path / "cdnow" / "transactions.csv")
    code, out, _ = run(capsys, "summary", source, "--unit", "week", "--end", "1997-09-30",
                       "--holdout-end", "1998-06-30", "-o", str(tmp_path / "split.parquet"))
    assert code == 0, out
    split = pq.read_table(tmp_path / "split.parquet").to_pandas()
    assert len(split) == 2357
    assert split.frequency.sum() == 2457 and split.frequency_holdout.sum() == 1882
    code, _, _ = run(capsys, "summary", source, "--kind", "rfm", "--end", "1998-06-30",
                     "-o", str(tmp_path / "rfm.xlsx"))
    assert code == 0
    rfm = pd.read_excel(tmp_path / "rfm.xlsx")
    assert set(rfm.recency_score) == {1, 2, 3, 4, 5}
    code, _, _ = run(capsys, "summary", source, "--kind", "panel", "--period", "quarter",
                     "--end", "1998-06-30", "-o", str(tmp_path / "panel.csv"))
    assert code == 0
    panel = pd.read_csv(tmp_path / "panel.csv")
    assert panel.revenue.sum() == pytest.approx(
        pd.read_csv(source).amount.sum(), rel=1e-9)


def test_chinese_headers_are_detected_and_labels_switch_language(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "订单.csv"
    path.write_text("客户编号,交易日期,金额\nA01,2024年5月3日,\"¥1,200\"\nA01,2024年6月1日,300元\n",
                    encoding="gb18030")
    code, out, _ = run(capsys, "--lang", "zh", "summary", str(path), "--end", "2024-06-30",
                       "-o", str(tmp_path / "s.csv"))
    assert code == 0, out
    s = pd.read_csv(tmp_path / "s.csv", dtype={"customer_id": str})
    assert s.customer_id.tolist() == ["A01"] and s.frequency.tolist() == [1]
    assert s.monetary_value.tolist() == [300.0]
    assert "BTYD 汇总" in out


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["validate", "no-such-file.csv"], 4, "no-such-file.csv"),
        (["summary", "x.csv", "--end", "30/09/1997", "-o", "out.csv"], 2, "--end '30/09/1997' is not a date"),
        (["summary", "x.csv", "--end", "1997-09-30", "-o", "out.json"], 2, "unknown output format"),
        (["validate", "x.csv", "--column", "customer_id"], 2, "CVM_COLUMN=YOUR_HEADER"),
        (["datasets", "export", "nope", "dir"], 2, "nope"),
        (["summary", "x.csv"], 2, "Missing option"),
    ],
)
def test_errors_map_to_exit_codes_with_a_message(tmp_path, capsys, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("customer_id,date,amount\nc1,2024-01-01,1\n")
    got, out, err = run(capsys, *args)
    assert got == code
    assert message in out + err
    assert "Traceback" not in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.json").exists()


def test_mapping_that_names_a_missing_header_lists_what_is_there(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("cust,day,amt\nc1,2024-01-01,1\n")
    code, _, err = run(capsys, "validate", "x.csv", "-c", "customer_id=client", "-c", "date=day",
                       "-c", "amount=amt")
    assert code == 2
    assert "client" in err and "cust" in err


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "--debug", "validate", "missing.csv")
    assert code == 4 and "Traceback" in err


def test_datasets_list_and_export(tmp_path, capsys):
    code, out, _ = run(capsys, "datasets", "list")
    assert code == 0
    for name in ("cdnow_master", "cdnow_sample", "donations", "retail"):
        assert name in out
    code, _, _ = run(capsys, "datasets", "export", "retail", str(tmp_path / "r"), "--customers", "50",
                     "--seed", "3")
    assert code == 0
    assert (tmp_path / "r" / "transactions.csv").exists()
    code, _, err = run(capsys, "datasets", "export", "retail", str(tmp_path / "r"), "--customers", "50")
    assert code == 4 and "exist" in err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("cvm ")
