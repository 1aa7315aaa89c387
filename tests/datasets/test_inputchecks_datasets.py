"""Wrong names, tables, formats and options give a CVM error that says what to do."""

import pytest

from cvm.datasets import dataset_path, export, generate_retail, generate_transactions, load
from cvm.errors import ConfigError


def test_unknown_dataset_lists_the_names():
    with pytest.raises(ConfigError) as err:
        dataset_path("cdnow")
    text = str(err.value)
    for name in ("cdnow_master", "cdnow_sample", "donations", "retail"):
        assert name in text
    with pytest.raises(ValueError):  # ConfigError is a ValueError for callers
        load("nope")


def test_unknown_table_lists_the_tables():
    with pytest.raises(ConfigError, match="summary"):
        load("donations", "transactions")
    with pytest.raises(ConfigError, match="surveys"):
        load("retail", "orders", n_customers=10)


def test_generated_dataset_has_no_file():
    with pytest.raises(ConfigError, match="export"):
        dataset_path("retail")


def test_bundled_dataset_has_no_size_or_seed(tmp_path):
    with pytest.raises(ConfigError, match="retail"):
        export("cdnow_sample", tmp_path, n_customers=10)
    with pytest.raises(ConfigError):
        load("cdnow_master", seed=1)
    assert list(tmp_path.iterdir()) == []


def test_unknown_format(tmp_path):
    with pytest.raises(ConfigError, match="parquet"):
        export("cdnow_sample", tmp_path, format="json")
    assert list(tmp_path.iterdir()) == []


def test_export_into_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(OSError):
        export("cdnow_sample", target)


@pytest.mark.parametrize("kwargs", [{"n_customers": 0}, {"n_customers": 10, "start": "2024-01-01",
                                                        "end": "2024-01-10"},
                                    {"n_customers": 10, "start": "soon"}])
def test_generate_retail_rejects_bad_settings(kwargs):
    with pytest.raises(ConfigError):
        generate_retail(**kwargs)


def test_generate_transactions_rejects_bad_settings():
    with pytest.raises(ConfigError):
        generate_transactions(0)
    with pytest.raises(ConfigError):
        generate_transactions(10, periods_days=0)
