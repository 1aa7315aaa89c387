"""Discounted expected purchases and CLV (cvm.models.clv) for every purchase model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.data.timeunit import TimeUnit
from cvm.errors import ConfigError, InvalidDataError
from cvm.models import MODELS
from cvm.models.clv import customer_lifetime_value, discount_edges, discounted_expected_purchases

PURCHASE_MODELS = sorted(
    name for name, cls in MODELS.items() if hasattr(cls, "expected_purchases_by_period") and cls.time_columns
)


@pytest.fixture(scope="module", params=PURCHASE_MODELS)
def model_and_customers(request):
    cls = MODELS[request.param]
    return cls.from_params(cls.example_params), cls.simulate(cls.example_params, 300, seed=8)


def test_zero_rate_gives_the_plain_expectation(model_and_customers):
    model, customers = model_and_customers
    got = discounted_expected_purchases(model, customers, horizon=26, discount_rate=0.0)
    np.testing.assert_allclose(got, model.expected_purchases(customers, 26.0), rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.0, max_value=0.5), st.floats(min_value=1e-4, max_value=0.5))
def test_clv_falls_as_the_discount_rate_rises(rate, extra):
    cls = MODELS["bgnbd"]
    model = cls.from_params(cls.example_params)
    customers = {"frequency": [0.0, 3.0, 12.0], "recency": [0.0, 20.0, 38.0], "T": [39.0, 39.0, 39.0]}
    low = customer_lifetime_value(model, customers, spend=30.0, horizon=52, discount_rate=rate)
    high = customer_lifetime_value(model, customers, spend=30.0, horizon=52, discount_rate=rate + extra)
    assert np.all(high < low)
    assert np.all(np.isfinite(high)) and np.all(high > 0)


def test_annual_rate_is_the_same_money_in_any_unit():
    """10 % a year discounted weekly or yearly gives the same factor over one year."""
    weekly = TimeUnit.WEEK.discount_rate(0.10)
    assert (1 + weekly) ** (TimeUnit.YEAR.days / TimeUnit.WEEK.days) == pytest.approx(1.10, rel=1e-12)
    with pytest.raises(ConfigError, match="greater than -1"):
        TimeUnit.MONTH.discount_rate(-1.5)


def test_bad_settings_are_clear_errors():
    cls = MODELS["bgnbd"]
    model = cls.from_params(cls.example_params)
    customers = {"frequency": [1.0], "recency": [2.0], "T": [3.0]}
    with pytest.raises(ConfigError, match="horizon"):
        discounted_expected_purchases(model, customers, horizon=0, discount_rate=0.1)
    with pytest.raises(ConfigError, match="discount rate"):
        discounted_expected_purchases(model, customers, horizon=5, discount_rate=float("nan"))
    with pytest.raises(InvalidDataError, match="spend is not finite"):
        customer_lifetime_value(model, customers, spend=float("inf"), horizon=5, discount_rate=0.1)
    assert discount_edges(2.5, steps=5).tolist() == [0.5, 1.0, 1.5, 2.0, 2.5]


class _PeriodsOnly:
    """A purchase model seen through ``read_columns`` and ``expected_purchases_by_period`` only."""

    def __init__(self, model):
        self.read_columns = model.read_columns
        self.expected_purchases_by_period = model.expected_purchases_by_period


def test_clv_in_blocks_of_customers_equals_all_at_once(monkeypatch):
    """Models without a weighted shortcut sum their slices a block of customers at a time."""
    from cvm.models import clv as clv_module
    from cvm.models.pareto_nbd import ParetoNBDModel

    model = _PeriodsOnly(ParetoNBDModel.from_params(ParetoNBDModel.example_params))
    customers = ParetoNBDModel.simulate(ParetoNBDModel.example_params, 1000, seed=4)
    whole = clv_module.discounted_expected_purchases(model, customers, horizon=52, discount_rate=0.002)
    monkeypatch.setattr(clv_module, "CLV_BLOCK", 37)
    blocks = clv_module.discounted_expected_purchases(model, customers, horizon=52, discount_rate=0.002)
    np.testing.assert_array_equal(blocks, whole)
