"""`cvm fit`: models fitted to a transaction log, scored on a holdout, saved as JSON."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from cvm.cli.main import main
from cvm.datasets import dataset_path
from cvm.models import BetaGeoModel
from cvm.service.fit import load_models


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cdnow():
    return str(dataset_path("cdnow_sample"))


def test_fit_with_holdout_compares_chooses_and_saves(cdnow, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "models.json"
    code, stdout, _ = run(capsys, "fit", cdnow, "--end", "1997-09-30", "--holdout-end", "1998-06-30", "-o", str(out))
    assert code == 0, stdout
    document = json.loads(out.read_text())
    comparison = document["comparison"]
    rmse = {c["name"]: c["purchases"]["rmse"] for c in comparison["candidates"]}
    assert comparison["chosen"] == min(rmse, key=rmse.get)
    assert {c["purchases"]["actual_total"] for c in comparison["candidates"]} == {1882}
    assert document["purchase_model"]["model"] == comparison["chosen"]
    purchase, spend = load_models(out)
    assert purchase.converged_ and spend is not None
    assert "Models on the holdout period" in stdout and "was chosen" in stdout


def test_fit_a_named_model_without_holdout_reproduces_the_paper(cdnow, tmp_path, capsys, monkeypatch):
    """Fader, Hardie & Lee (2005): BG/NBD on the CDNOW calibration period, 0.243, 4.414, 0.793, 2.426."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "bgnbd.json"
    code, stdout, _ = run(capsys, "--lang", "zh", "fit", cdnow, "--end", "1997-09-30", "--model", "bgnbd",
                          "--no-spend", "-o", str(out))
    assert code == 0
    purchase, spend = load_models(out)
    assert isinstance(purchase, BetaGeoModel) and spend is None
    assert purchase.params_["r"] == pytest.approx(0.243, abs=0.01)
    assert "参数" in stdout


def test_fit_refuses_to_overwrite_and_checks_dates(cdnow, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "models.json"
    out.write_text("keep me")
    code, _, err = run(capsys, "fit", cdnow, "--end", "1997-09-30", "-o", str(out))
    assert code == 4 and out.read_text() == "keep me"
    code, _, err = run(capsys, "fit", cdnow, "--end", "1997-09-30", "--holdout-end", "1997-01-01",
                       "-o", str(tmp_path / "new.json"))
    assert code == 2 and "must be after" in err
    assert not (tmp_path / "new.json").exists()


def test_fit_on_bad_data_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "orders.csv"
    bad.write_text("customer_id,date,amount\nc1,2024-01-05,10\n,2024-01-06,12\n", encoding="utf-8")
    out = tmp_path / "models.json"
    code, _, _ = run(capsys, "fit", str(bad), "--end", "2024-06-30", "-o", str(out))
    assert code == 3
    assert not out.exists()


def test_fit_with_an_end_before_every_purchase_is_a_clear_error(cdnow, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "fit", cdnow, "--end", "1990-01-01", "-o", str(tmp_path / "m.json"))
    assert code == 3 and "no customer made a purchase" in err


def test_zero_value_repeat_customers_are_left_out_of_the_spend_model(tmp_path, capsys, monkeypatch):
    """A customer whose repeat purchases are all worth 0 (CDNOW master has one) must not cost
    the whole base its spend model: they are left out of Gamma-Gamma and the user is told."""
    monkeypatch.chdir(tmp_path)
    rows = ["customer_id,date,amount"]
    rng = random.Random(3)
    for c in range(60):
        for day in sorted(rng.sample(range(200), rng.randint(1, 6))):
            rows.append(f"c{c},{dt.date(2024, 1, 1) + dt.timedelta(days=day)},{rng.uniform(5, 50):.2f}")
    rows += ["z1,2024-01-03,10.00", "z1,2024-02-03,0.00", "z1,2024-03-03,0.00"]
    log = tmp_path / "orders.csv"
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "m.json"
    code, stdout, _ = run(capsys, "fit", str(log), "--end", "2024-07-31", "--model", "bgnbd", "-o", str(out))
    assert code == 0, stdout
    purchase, spend = load_models(out)
    assert spend is not None
    assert "1 customer(s) whose repeat purchases are all worth 0" in stdout
