"""The dense panel written in memory (`densify_panel`) is the engine's dense panel, row for row.

The sparse panel runs on each engine (DuckDB, PostgreSQL, Spark); `densify_panel` adds the
zero rows locally. Hypothesis draws the logs of `test_consistency_summaries` (marketing costs
per customer and per segment, logs with and without product cost, every period): the result
must equal the slow plain-Python reference, and on DuckDB equal the engine's own dense panel
bit for bit.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings

import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cvm.data import summaries
from cvm.data.densify import densify_panel
from cvm.errors import ConfigError, InvalidDataError
from tests import reference
from tests.data.test_consistency_summaries import (
    AFTER_END, COSTS, CUSTOMER_TABLE, TRANSACTIONS, UNITS, assert_same, check, costs, customer_tables,
    day, ends, load, logs, without,
)


def _plain(panel: pa.Table) -> pa.Table:
    """``panel`` with its dictionary-encoded ids decoded, to compare with the engine's."""
    return panel.set_column(0, "customer_id", panel.column("customer_id").cast(pa.string()))


def test_densified_panel_matches_reference(backend):
    @check(backend)
    @given(log=logs, end=ends, period=st.sampled_from(UNITS), with_cost=st.booleans(),
           mc=st.one_of(st.none(), costs), customers=st.one_of(st.none(), customer_tables))
    @example(log=[], end=day(30), period="month", with_cost=True, mc=None, customers=None)
    @example(log=AFTER_END, end=day(50), period="week", with_cost=False,
             mc=[{"customer_id": None, "segment": "s1", "date": day(1), "cost": 9.0}],
             customers=[{"customer_id": "c05", "acquisition_date": None, "segment": "s1"},
                        {"customer_id": "c02", "acquisition_date": None, "segment": "s1"}])
    def run(log, end, period, with_cost, mc, customers):
        drop = () if with_cost else ("product_cost",)
        table = load(backend, log, TRANSACTIONS, drop)
        mc_table = None if mc is None else load(backend, mc, COSTS)
        cust_table = None if customers is None else load(backend, customers, CUSTOMER_TABLE)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # segment rows without customers
            options = dict(period=period, observation_end=end, marketing_costs=mc_table, customers=cust_table)
            sparse = summaries.period_panel(table, **options).to_pyarrow()
            dense = densify_panel(sparse, period=period, observation_end=end)
            assert pa.types.is_dictionary(dense.schema.field("customer_id").type)
            expected = reference.period_panel(
                without(log, *drop), period=period, observation_end=end, marketing_costs=mc,
                customers=customers, dense=True, has_cost=with_cost)
            assert_same(_plain(dense).to_pylist(), expected)
            if backend.name == "duckdb":
                engine = summaries.period_panel(table, dense=True, **options).to_pyarrow()
                assert _plain(dense).equals(engine.cast(_plain(dense).schema))

    run()


SPARSE = pa.table({
    "customer_id": ["b", "a", "a"],
    "period_start": [dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 1, 1)],
    "orders": [1, 2, 1],
    "revenue": [5.0, 20.0, 15.0],
    "product_cost": [1.0, 8.0, 6.0],
    "marketing_cost": [0.5, 0.0, 0.0],
})


def test_an_unsorted_sparse_panel_is_sorted_by_customer_then_period():
    dense = densify_panel(SPARSE, period="month", observation_end="2024-03-15")
    assert _plain(dense).select(["customer_id", "period_start", "orders", "gross_margin"]).to_pylist() == [
        {"customer_id": "a", "period_start": dt.date(2024, 1, 1), "orders": 1, "gross_margin": 9.0},
        {"customer_id": "a", "period_start": dt.date(2024, 2, 1), "orders": 0, "gross_margin": 0.0},
        {"customer_id": "a", "period_start": dt.date(2024, 3, 1), "orders": 2, "gross_margin": 12.0},
        {"customer_id": "b", "period_start": dt.date(2024, 2, 1), "orders": 1, "gross_margin": 3.5},
        {"customer_id": "b", "period_start": dt.date(2024, 3, 1), "orders": 0, "gross_margin": 0.0},
    ]


def test_a_log_without_product_cost_keeps_cost_and_margin_null():
    sparse = SPARSE.set_column(4, "product_cost", pa.nulls(3, pa.float64()))
    dense = densify_panel(sparse, period="month", observation_end=dt.date(2024, 3, 31))
    assert dense.column("product_cost").null_count == dense.num_rows == 5
    assert dense.column("gross_margin").null_count == 5
    assert dense.column("revenue").to_pylist() == [15.0, 0.0, 20.0, 5.0, 0.0]


def test_an_empty_sparse_panel_gives_an_empty_dense_one():
    dense = densify_panel(SPARSE.slice(0, 0), period="week", observation_end="2024-03-31")
    assert dense.num_rows == 0
    assert dense.column_names == ["customer_id", "period_start", "orders", "revenue", "product_cost",
                                  "marketing_cost", "gross_margin"]


@pytest.mark.parametrize(("panel", "options", "message"), [
    (SPARSE.drop_columns(["orders"]), {}, "no column 'orders'"),
    (SPARSE.to_pandas(), {}, "must be a pyarrow Table, not DataFrame"),
    (SPARSE.set_column(1, "period_start", pa.array([dt.date(2024, 2, 3)] * 3)), {},
     "period_start 2024-02-03 (row 1) is not the first day of a month"),
    (SPARSE, {"observation_end": "2024-02-20"}, "rows after the period of the observation end 2024-02-20"),
    (pa.concat_tables([SPARSE, SPARSE.slice(0, 1)]), {}, "lists customer 'b' twice in one period"),
    (SPARSE.set_column(0, "customer_id", pa.array(["a", None, "b"])), {},
     "column 'customer_id' has 1 missing value"),
    (SPARSE, {"observation_end": "March"}, "observation_end must be a date"),
])
def test_a_wrong_sparse_panel_is_named(panel, options, message):
    with pytest.raises(InvalidDataError, match=re.escape(message)):
        densify_panel(panel, **{"period": "month", "observation_end": "2024-03-31", **options})


def test_an_unknown_period_is_a_configuration_error():
    with pytest.raises(ConfigError, match="unknown time unit 'fortnight'"):
        densify_panel(SPARSE, period="fortnight", observation_end="2024-03-31")
