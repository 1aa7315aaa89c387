"""Invariants of the whole customer value table (Hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.value.table import customer_value, example_inputs

INPUTS = example_inputs()
BASE = customer_value(**INPUTS)
PYRAMID_ORDER = list(BASE.table["pyramid"].cat.categories)  # top tier first
HIGH_CURRENT = {"strategic", "profit"}


@settings(max_examples=25, deadline=None)
@given(customer=st.integers(0, 4), extra=st.floats(0.0, 1e5, allow_nan=False))
def test_raising_a_customers_margin_never_lowers_their_tier(customer, extra):
    history = INPUTS["history"].copy()
    history.loc[customer, "revenue"] += extra
    history.loc[customer, "gross_sales"] += extra
    raised = customer_value(**(INPUTS | {"history": history})).table
    before, after = BASE.table.iloc[customer], raised.iloc[customer]
    assert after["gross_margin"] >= before["gross_margin"]
    if before["value_matrix"] in HIGH_CURRENT:
        assert after["value_matrix"] in HIGH_CURRENT
    assert PYRAMID_ORDER.index(after["pyramid"]) <= PYRAMID_ORDER.index(before["pyramid"])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_row_order_of_the_inputs_does_not_change_any_customers_value(seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(5)
    shuffled = INPUTS | {"history": INPUTS["history"].iloc[order].reset_index(drop=True),
                         "summary": INPUTS["summary"].iloc[rng.permutation(5)].reset_index(drop=True)}
    table = customer_value(**shuffled).table.set_index("customer_id").sort_index()
    base = BASE.table.set_index("customer_id").sort_index()
    for column in ("gross_margin", "clv", "p_alive", "influence_value", "value_at_risk", "score_five_factor"):
        np.testing.assert_allclose(table[column], base[column], rtol=1e-12, err_msg=column)
    for column in ("value_matrix", "pyramid", "loyalty_level", "negative_reason"):
        assert table[column].astype(str).tolist() == base[column].astype(str).tolist(), column


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(0.0, 0.5))
def test_clv_falls_when_the_discount_rate_rises(rate):
    low = customer_value(**(INPUTS | {"config": {"clv": {"annual_discount_rate": rate}}})).table["clv"]
    high = customer_value(**(INPUTS | {"config": {"clv": {"annual_discount_rate": rate + 0.05}}})).table["clv"]
    assert (high <= low + 1e-12).all()
    assert (high[:5] < low[:5]).all()
