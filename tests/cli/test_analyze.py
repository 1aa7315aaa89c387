"""`cvm analyze` and `cvm.service.analyze`: the whole job on the bundled sample and on the
synthetic retailer with every table; byte-identical reruns; bad input leaves nothing behind."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from cvm.cli.main import main
from cvm.datasets import dataset_path, generate_retail
from cvm.errors import ConfigError
from cvm.service.analyze import EXCEL_CUSTOMER_COLUMNS, analyze

SAMPLE = str(dataset_path("cdnow_sample"))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory):
    """The sample analysed twice by the command, into two folders."""
    base = tmp_path_factory.mktemp("analyze")
    codes = [main(["analyze", SAMPLE, "--holdout", "1997-09-30", "-o", str(base / name)])
             for name in ("first", "second")]
    return base, codes


def test_correctness_sample_writes_every_file(sample_runs):
    base, codes = sample_runs
    assert codes == [0, 0]
    out = base / "first"
    assert sorted(p.name for p in out.iterdir()) == [
        "customers.csv", "customers.parquet", "customers.xlsx", "model.json", "report.html", "run.json",
        "validation_transactions.json"]
    table = pd.read_parquet(out / "customers.parquet")
    assert len(table) == 2357 and table["customer_id"].is_unique
    assert {"clv", "value_matrix", "lifecycle_stage", "action", "p_alive"} <= set(table.columns)
    assert table["action"].notna().all()
    csv = pd.read_csv(out / "customers.csv")
    assert len(csv) == 2357 and list(csv.columns) == list(table.columns)
    sheets = pd.read_excel(out / "customers.xlsx", sheet_name=None)
    assert list(sheets) == ["customers", "tiers", "pyramid", "segments", "lifecycle", "cohorts",
                            "campaigns", "model"]
    assert list(sheets["customers"].columns) == [c for c in EXCEL_CUSTOMER_COLUMNS if c in table.columns
                                                 or f"{c}_en" in table.columns]
    campaigns = sheets["campaigns"]
    assert len(campaigns) == 2357 and list(campaigns.columns) == [
        "action", "action_name", "rank", "customer_id", "expected_value", "style", "rule"]
    win_back = campaigns[campaigns["action"] == "win_back"]
    assert (win_back["action_name"] == "win back").all() and list(win_back["rank"]) == list(range(1, len(win_back) + 1))
    assert win_back["expected_value"].is_monotonic_decreasing
    model = json.loads((out / "model.json").read_text())
    assert model["calibration_end"] == "1997-09-30" and model["observation_end"] == "1998-06-30"
    assert model["comparison"]["chosen"] == model["purchase_model"]["model"]
    assert {"tracking", "calibration_vs_holdout", "parameters"} <= set(model["diagnostics"])
    run_doc = json.loads((out / "run.json").read_text())
    assert run_doc["inputs"]["transactions"]["sha256"] == digest(dataset_path("cdnow_sample"))
    assert run_doc["inputs"]["transactions"]["rows"] == 6919
    assert run_doc["timings"]["total"] > 0 and run_doc["versions"]["cvm"]
    assert "customers.parquet" in run_doc["files"]


def test_consistency_reruns_give_byte_identical_tables(sample_runs):
    base, _ = sample_runs
    for name in ("customers.parquet", "customers.csv", "customers.xlsx", "model.json", "report.html"):
        assert digest(base / "first" / name) == digest(base / "second" / name), name


def test_correctness_terminal_summary(tmp_path, capsys):
    code, out, _ = run(capsys, "--lang", "zh", "analyze", SAMPLE, "--holdout", "none", "-o",
                       str(tmp_path / "zh"))
    assert code == 0
    assert "客户价值分析" in out and "客户资产" in out and "选用的购买模型" in out
    assert "BG/NBD" in out and "no holdout" not in out
    # the run's notes are printed in the chosen language
    assert "使用了 BG/NBD 模型" in out and "BG/NBD was used" not in out
    assert "已将 7 个文件写入" in out and "report.html" in out


def test_inputchecks_bad_file_reports_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "orders.csv"
    bad.write_text("customer_id,date,amount\nc1,2024-01-05,10.00\nc2,2024-13-40,5.00\n",
                   encoding="utf-8")
    out_dir = tmp_path / "result"
    code, out, err = run(capsys, "analyze", str(bad), "-o", str(out_dir))
    assert code != 0
    assert "unparseable_date" in err and "2024-13-40" in out
    assert not out_dir.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]  # no staging folder left


def test_inputchecks_a_bad_file_is_reported_in_chinese_with_lang_zh(tmp_path, capsys):
    bad = tmp_path / "orders.csv"
    bad.write_text("customer_id,date,amount\nc1,2024-01-05,10.00\nc2,2024-13-40,5.00\n", encoding="utf-8")
    code, out, err = run(capsys, "--lang", "zh", "analyze", str(bad), "-o", str(tmp_path / "result"))
    assert code != 0 and not (tmp_path / "result").exists()
    assert "严重程度" in out and "日期无法解析" in out and "例如 2024-13-40" in out
    assert "1 条错误规则，0 条警告规则；有效 1 行，拒收 1 行" in out
    assert "错误：orders.csv：2 行中有 1 行违反了 1 条校验规则" in err and "处理办法：请修正文件" in err
    assert "validation rules broken" not in err and "what to do" not in err


@pytest.mark.parametrize("lang, message", [
    ("en", "error: orders.csv: file not found"), ("zh", "错误：orders.csv：文件不存在"),
])
def test_inputchecks_a_missing_file_is_named_as_a_missing_file(tmp_path, capsys, lang, message):
    """Not read as a table name of the engine the inputs land in ("has no table ...")."""
    code, _, err = run(capsys, "--lang", lang, "analyze", str(tmp_path / "orders.csv"), "-o", str(tmp_path / "x"))
    assert code == 4 and message in err and "no table" not in err


NO_KNOWN_HEADERS = "member,day,paid\nc1,2024-01-05,10.00\n"
TWO_PURCHASES = "customer_id,date,amount\nc1,2024-01-05,10.00\nc1,2024-03-05,12.00\n"


@pytest.mark.parametrize("log, args, message, hint", [
    (NO_KNOWN_HEADERS, [], "错误：orders.csv：在 transactions 中找不到客户编号列（列名 customer_id 或 客户编号）",
     "处理办法：请用 --column customer_id=member 或在映射文件中"),
    (TWO_PURCHASES, ["--holdout", "2024-12-31"], "错误：--holdout 2024-12-31 必须早于数据的结束日期（2024-03-05）",
     "处理办法：验证期是该日期之后的时间"),
    (TWO_PURCHASES, ["--end", "someday"], "错误：--end 'someday' 不是日期", "处理办法：请写成 YYYY-MM-DD"),
])
def test_inputchecks_common_errors_read_in_chinese(tmp_path, capsys, log, args, message, hint):
    orders = tmp_path / "orders.csv"
    orders.write_text(log, encoding="utf-8")
    code, _, err = run(capsys, "--lang", "zh", "analyze", str(orders), *args, "-o", str(tmp_path / "x"))
    assert code != 0 and not (tmp_path / "x").exists()
    assert message in err and hint in err, err


def test_inputchecks_existing_folder_is_not_replaced(tmp_path, capsys):
    out_dir = tmp_path / "result"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "analyze", SAMPLE, "-o", str(out_dir))
    assert code != 0 and "already exists" in err and "--overwrite" in err
    assert (out_dir / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("args, message", [
    (["--holdout", "1999-01-01"], "must be before the end of the data"),
    (["--holdout", "someday"], "is not a date"),
    (["--end", "1990-01-01"], "before the first purchase"),
])
def test_inputchecks_dates(tmp_path, capsys, args, message):
    code, _, err = run(capsys, "analyze", SAMPLE, *args, "-o", str(tmp_path / "x"))
    assert code != 0 and message in err
    assert not (tmp_path / "x").exists()


def test_correctness_retail_with_every_table(tmp_path):
    data = generate_retail(400, seed=8)
    paths = {}
    for name, frame in data.tables.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    result = analyze(paths["transactions"], customers=paths["customers"],
                     marketing_costs=paths["marketing_costs"], referrals=paths["referrals"],
                     surveys=paths["surveys"], period="quarter", horizon=2, discount_rate=0.08,
                     ingest_options={"as_of": "2030-01-01"})
    table = result.table
    assert len(table) == 400                      # every profile, buyers and prospects
    assert result.config.forecast.period == "quarter" and result.config.clv.annual_discount_rate == 0.08
    assert {"forecast_margin_1", "forecast_margin_2"} <= set(table.columns)
    assert "forecast_margin_3" not in table.columns
    assert result.cross_sell is not None and table["cross_sell_item"].notna().sum() > 300
    assert result.cross_sell_check is not None
    assert result.satisfaction is not None and result.referrals is not None
    assert len(result.actions) == len(table)
    assert sum(len(c) for c in result.campaigns.values()) == table["action"].notna().sum()
    stages = result.stage_distribution
    counts = result.lifecycle.history.groupby("period_start").size()
    assert (stages.sum(axis=1).to_numpy() == counts.to_numpy()).all()
    files = result.write(tmp_path / "out", lang="zh")
    assert "validation_surveys.json" in files
    sheet = pd.read_excel(tmp_path / "out" / "customers.xlsx", sheet_name="customers")
    assert set(sheet["value_matrix"].dropna()) <= {"战略客户", "利润客户", "潜力客户", "普通客户"}


def test_inputchecks_service_arguments():
    with pytest.raises(ConfigError, match="unknown purchase model 'bgbb'"):
        analyze(SAMPLE, model="bgbb")
    with pytest.raises(ConfigError, match="period must be one of month, quarter, year"):
        analyze(SAMPLE, period="week")
    with pytest.raises(ConfigError, match="forecast.periods"):
        analyze(SAMPLE, horizon=0)



def test_correctness_progress_steps_read_in_the_chosen_language(monkeypatch):
    from cvm.cli import main
    from cvm.labels import TERMS, Note

    monkeypatch.setattr(main.STATE, "lang", "zh")
    with main._Steps() as steps:
        steps(Note("step.reading", table=TERMS["step.table.marketing_costs"]))
        shown = steps._progress.tasks[0].description
    assert shown == "读取并校验营销成本"


def test_correctness_a_spark_address_is_checksummed_and_named_without_its_prefix(tmp_path):
    """run.json's checksum of a ``spark:`` input: one file's own checksum; a folder's, of each
    file's relative path and checksum (a file changed, added or renamed changes it). Files
    written beside the input drop the ``spark:`` prefix from their name."""
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    from cvm.cli.main import _source_stem
    from cvm.service.analyze import _checksum

    lake = tmp_path / "orders"
    (lake / "year=2024").mkdir(parents=True)
    pq.write_table(pa.table({"a": [1, 2]}), lake / "year=2024" / "part-0.parquet")
    one = lake / "year=2024" / "part-0.parquet"
    assert _checksum(f"spark:{one}") == hashlib.sha256(one.read_bytes()).hexdigest() == _checksum(one)
    before = _checksum(f"spark:{lake}")
    (lake / "_SUCCESS").write_text("")                       # not data: no change
    assert _checksum(f"spark:{lake}") == before
    pq.write_table(pa.table({"a": [3]}), lake / "year=2024" / "part-1.parquet")
    with_second = _checksum(f"spark:{lake}")
    assert with_second != before
    (lake / "year=2024" / "part-1.parquet").rename(lake / "year=2024" / "part-2.parquet")
    assert _checksum(f"spark:{lake}") not in (before, with_second)
    assert _checksum("postgresql://me@db/shop?table=orders") is None
    assert _source_stem("spark:orders.csv") == "orders" and _source_stem("SPARK:data/lake") == "lake"
