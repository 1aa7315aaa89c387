"""Input checks of the rules specific to the customers, marketing_costs, referrals and surveys
tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cvm.data.ingest import ingest, validate

AS_OF = "2024-12-31"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_customers_rules_and_custom_attributes(tmp_path):
    text = ("会员号,注册日期,获客成本,爱好\nM1,2024-01-01,10,跑步\nM1,2024-01-02,5,读书\n"
            "M2,2024-01-03,-1,\nM3,2024-01-04,abc,\nM4,2024-01-05,￥1 000,游泳\n")
    path = write(tmp_path, "cust.csv", text)
    result = ingest(path, "customers", policy="quarantine", as_of=AS_OF)
    report = result.report
    assert report.issue("duplicate_id").rows == [2, 3]
    assert report.issue("out_of_range", "acquisition_cost").rows == [4]
    assert report.issue("invalid_number", "acquisition_cost").rows == [5]
    assert report.issue("unmapped_column") is None  # kept as a custom attribute
    rows = result.table.to_pyarrow().to_pylist()
    assert rows == [{"customer_id": "M4", "acquisition_date": dt.date(2024, 1, 5),
                     "acquisition_cost": 1000.0, "爱好": "游泳", "source_row": 6}]


def test_marketing_costs_need_customer_or_segment(tmp_path):
    text = "customer_id,segment,date,cost\nA,,2024-01-01,5\n,gold,2024-01-01,7\n,,2024-01-01,1\n" \
           "B,,2024-01-01,x\n"
    report = validate(write(tmp_path, "mc.csv", text), "marketing_costs", as_of=AS_OF)
    assert report.issue("missing_id").rows == [4]
    assert report.issue("invalid_number", "cost").rows == [5]
    assert report.n_rejected == 2


def test_referrals_self_referral(tmp_path):
    text = "推荐人,被推荐人,推荐日期\nA,B,2024-01-01\nC,C,2024-01-02\n,D,2024-01-03\n"
    report = validate(write(tmp_path, "ref.csv", text), "referrals", as_of=AS_OF)
    assert report.issue("self_referral").rows == [3]
    assert report.issue("missing_id", "referrer_id").rows == [4]


def test_surveys_rules(tmp_path):
    text = ("customer_id,date,nps,satisfaction,complaint\nA,2024-01-01,9,4.5,是\n"
            "B,2024-01-01,11,3,否\nC,2024-01-01,7.5,x,maybe\n")
    report = validate(write(tmp_path, "s.csv", text), "surveys", as_of=AS_OF)
    assert report.issue("out_of_range", "nps").rows == [3]
    assert report.issue("invalid_number", "nps").rows == [4]
    assert report.issue("invalid_number", "satisfaction").rows == [4]
    assert report.issue("invalid_flag", "complaint").examples == ["maybe"]
