"""Cross-sell input checks: settings, dates and the item column give clear errors."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from cvm.errors import ConfigError, MissingColumnError
from cvm.value import crosssell, load_config

LOG = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-01-02"] * 2).date,
                    "amount": [5.0, 6.0], "category": ["tea", "cups"]})


@pytest.mark.parametrize("settings, message", [
    ({"suggestions": 0}, "cross_sell settings: suggestions: Input should be greater than or equal to 1"),
    ({"min_lift": float("nan")}, "min_lift"),
    ({"item": ""}, "item: String should have at least 1 character"),
    ({"fill_with_popular": "maybe"}, "fill_with_popular"),
    ({"top": 3}, "top: unknown setting"),
])
def test_inputchecks_settings(settings, message):
    with pytest.raises(ConfigError, match=message):
        crosssell.cross_sell(ibis.memtable(LOG), observation_end="2024-01-31", settings=settings)


def test_inputchecks_settings_must_be_a_mapping():
    with pytest.raises(ConfigError, match="must be a mapping or CrossSellSettings, got list"):
        crosssell.cross_sell(ibis.memtable(LOG), observation_end="2024-01-31", settings=[1])


def test_inputchecks_value_configuration_section():
    config = load_config({"cross_sell": {"item": "product_id", "suggestions": 5}})
    assert config.cross_sell.item == "product_id"
    with pytest.raises(ConfigError, match=r"cross_sell\.suggestions.*; cross_sell\.bogus: unknown"):
        load_config({"cross_sell": {"suggestions": 0, "bogus": 1}})


def test_inputchecks_missing_item_column():
    with pytest.raises(MissingColumnError, match="no column 'product_id'"):
        crosssell.cross_sell(ibis.memtable(LOG), observation_end="2024-01-31",
                             settings={"item": "product_id"})


@pytest.mark.parametrize("calibration_end, end", [("2024-02-01", "2024-01-31"),
                                                  ("2024-01-31", "2024-01-31")])
def test_inputchecks_calibration_must_end_before_the_holdout(calibration_end, end):
    with pytest.raises(ConfigError, match="calibration_end .* must be before observation_end"):
        crosssell.evaluate_cross_sell(ibis.memtable(LOG), calibration_end=calibration_end,
                                      observation_end=end)


def test_inputchecks_not_an_ibis_table():
    with pytest.raises(ConfigError, match="transactions must be an Ibis table"):
        crosssell.cross_sell(LOG, observation_end="2024-01-31")
