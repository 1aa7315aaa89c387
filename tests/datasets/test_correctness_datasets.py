"""Bundled datasets hold exactly the published data.

Sources of the numbers: ``src/cvm/datasets/data/ATTRIBUTION.md`` and shared/data/README.md
(CDNOW master: 69,659 rows of 23,570 customers, Fader, Hardie & Lee 2005; the 1/10 sample:
6,919 rows of 2,357 customers; donations: 11,104 donors in 22 recency/frequency groups,
Fader, Hardie & Shang 2010).
"""

import pandas as pd
import pytest

from cvm.datasets import dataset_info, dataset_path, list_datasets, load


def test_catalog_lists_the_four_datasets():
    infos = list_datasets()
    assert [i.name for i in infos] == ["cdnow_master", "cdnow_sample", "donations", "retail"]
    for info in infos:
        assert info.title and info.title_zh and info.description and info.description_zh
        assert info.source and info.tables
        assert set(info.rows) == set(info.tables)
    assert [i.name for i in infos if i.generated] == ["retail"]


@pytest.mark.parametrize(
    ("name", "rows", "customers"),
    [("cdnow_master", 69_659, 23_570), ("cdnow_sample", 6_919, 2_357)],
)
def test_cdnow_row_and_customer_counts(name, rows, customers):
    frame = load(name)
    assert len(frame) == rows == dataset_info(name).rows["transactions"]
    assert frame["customer_id"].nunique() == customers == dataset_info(name).customers
    assert pd.api.types.is_datetime64_dtype(frame["date"])
    assert frame["date"].min() == pd.Timestamp("1997-01-01")
    assert frame["date"].max() == pd.Timestamp("1998-06-30")


def test_cdnow_master_totals():
    frame = load("cdnow_master")
    assert frame["quantity"].sum() == 167_881
    assert frame["amount"].sum() == pytest.approx(2_500_315.63, abs=0.01)


def test_cdnow_sample_is_the_masters_rows_for_its_customers():
    sample = load("cdnow_sample")
    master = load("cdnow_master")
    mine = master[master["customer_id"].isin(sample["master_customer_id"])]
    key = ["customer_id", "date", "quantity", "amount"]
    left = sample.assign(customer_id=sample["master_customer_id"])[key]
    assert left.sort_values(key).reset_index(drop=True).equals(
        mine[key].sort_values(key).reset_index(drop=True))


def test_donations_weights_sum_to_the_cohort():
    frame = load("donations")
    assert len(frame) == 22
    assert frame["weights"].sum() == 11_104 == dataset_info("donations").customers
    assert (frame["periods"] == 6).all()
    assert ((frame["recency"] == 0) == (frame["frequency"] == 0)).all()


def test_bundled_files_are_found_through_the_package():
    for info in list_datasets():
        if not info.generated:
            for table in info.tables:
                path = dataset_path(info.name, table)
                assert path.is_file() and path.name.endswith(".csv.gz")
                assert path.parent.name == "data" and path.parent.parent.name == "datasets"
