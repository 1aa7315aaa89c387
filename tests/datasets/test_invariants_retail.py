"""The generated retail business obeys the rules real data must obey, and is reproducible."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.data.schema import TABLES
from cvm.datasets import BEHAVIOUR_PATTERNS, dataset_info, generate_retail

EXTRA_COLUMNS = {"customers": ["behaviour_pattern"]}


@pytest.fixture(scope="module")
def data():
    return generate_retail()  # the catalog's default: 2,000 customers, seed 2024


def test_columns_are_those_of_the_data_model(data):
    for name, frame in data.tables.items():
        spec = TABLES[name]
        kept = [c for c in spec.names if c in frame.columns]
        assert list(frame.columns) == kept + EXTRA_COLUMNS.get(name, [])
        assert {c.name for c in spec.required} <= set(kept), name
        for column in kept:
            if spec.column(column).kind == "date":
                assert pd.api.types.is_datetime64_dtype(frame[column]), (name, column)


def test_catalog_row_counts_are_the_default_generation(data):
    assert {t: len(f) for t, f in data.tables.items()} == dict(dataset_info("retail").rows)


def test_every_transaction_belongs_to_a_known_customer_after_acquisition(data):
    tx, customers = data.transactions, data.customers
    assert customers["customer_id"].is_unique
    acquired = tx["customer_id"].map(customers.set_index("customer_id")["acquisition_date"])
    assert acquired.notna().all()
    assert (tx["date"] >= acquired).all()
    first = tx[tx["amount"] > 0].groupby("customer_id")["date"].min()
    assert first.equals(customers.set_index("customer_id")["acquisition_date"].loc[first.index]
                        .rename("date"))
    assert len(first) == len(customers)  # everyone buys on the acquisition date


def test_orders_have_lines_categories_and_costs(data):
    tx = data.transactions
    sales = tx[tx["amount"] > 0]
    assert sales.groupby("order_id").size().mean() > 1.3
    assert (sales.groupby("order_id")["customer_id"].nunique() == 1).all()
    assert (sales.groupby("order_id")["date"].nunique() == 1).all()
    assert ((sales["product_cost"] > 0) & (sales["product_cost"] < sales["amount"])).all()
    margin = 1 - sales.groupby("category")["product_cost"].sum() / sales.groupby("category")["amount"].sum()
    assert margin["beauty"] > margin["apparel"] > margin["electronics"]
    assert (tx["quantity"] != 0).all() and (tx["currency"] == "CNY").all()
    assert tx[["date", "order_id"]].equals(tx[["date", "order_id"]].sort_values(["date", "order_id"]))


def test_returns_undo_an_earlier_order_of_the_same_customer(data):
    tx = data.transactions
    sales, returns = tx[tx["amount"] > 0], tx[tx["amount"] < 0]
    orders = sales.groupby("order_id").agg(customer_id=("customer_id", "first"), date=("date", "first"))
    matched = returns.merge(orders, how="left", left_on="order_id", right_index=True,
                            suffixes=("", "_order"))
    assert matched["customer_id_order"].notna().all()
    assert (matched["customer_id"] == matched["customer_id_order"]).all()
    assert (matched["date"] > matched["date_order"]).all()
    assert ((matched["date"] - matched["date_order"]).dt.days <= 14).all()
    assert ((returns["quantity"] < 0) & (returns["product_cost"] < 0)).all()
    assert 0.02 <= returns["order_id"].nunique() / len(orders) <= 0.04


def test_acquisition_channels_and_costs(data):
    customers = data.customers
    assert set(customers["acquisition_channel"]) == {"search", "social", "referral", "store", "partner"}
    assert (customers["acquisition_cost"] > 0).all()
    median = customers.groupby("acquisition_channel")["acquisition_cost"].median()
    assert median["store"] < median["referral"] < median["search"] < median["partner"]
    assert customers["acquisition_date"].is_monotonic_increasing


def test_profiles(data):
    customers = data.customers
    assert set(customers["customer_type"]) == {"consumer", "business", "distributor"}
    consumers = customers["customer_type"] == "consumer"
    assert customers.loc[consumers, ["gender", "birth_year", "age_band"]].notna().all().all()
    assert customers.loc[~consumers, ["gender", "birth_year", "education"]].isna().all().all()
    assert {"上海", "北京", "广州", "深圳", "成都", "杭州"} <= set(customers["region"])
    assert customers["segment"].notna().all()


def test_all_behaviour_patterns_are_present_and_shape_purchases(data):
    customers = data.customers
    assert set(customers["behaviour_pattern"]) == set(BEHAVIOUR_PATTERNS)
    tx = data.transactions[data.transactions["amount"] > 0]
    last = tx.groupby("customer_id")["date"].max()
    pattern = customers.set_index("customer_id")["behaviour_pattern"]
    end = pd.Timestamp("2024-12-31")
    silent = (end - last).dt.days.groupby(pattern).median()
    assert silent["churn"] > 3 * silent["stable"]
    # a returner has a silent spell of six months or more between two purchases
    returners = tx[tx["customer_id"].map(pattern) == "return"].sort_values(["customer_id", "date"])
    gaps = returners.groupby("customer_id")["date"].diff().dt.days
    longest = gaps.groupby(returners["customer_id"]).max()
    assert (longest > 150).mean() > 0.8


def test_referrals_point_back_in_time_never_to_self(data):
    referrals, customers = data.referrals, data.customers.set_index("customer_id")
    assert len(referrals) > 0
    assert (referrals["referrer_id"] != referrals["referred_id"]).all()
    assert referrals["referred_id"].is_unique
    referred = customers.loc[referrals["referred_id"]]
    assert (referred["acquisition_channel"] == "referral").all()
    assert (referred["acquisition_date"].to_numpy() == referrals["date"].to_numpy()).all()
    referrer = customers.loc[referrals["referrer_id"]]
    assert (referrer["acquisition_date"].to_numpy() <= referrals["date"].to_numpy()).all()
    assert len(referrals) == (customers["acquisition_channel"] == "referral").sum()


def test_marketing_costs_per_customer_or_per_segment(data):
    costs, customers = data.marketing_costs, data.customers
    per_customer = costs["customer_id"].notna()
    assert (per_customer ^ costs["segment"].notna()).all()
    assert per_customer.any() and (~per_customer).any()
    assert set(costs.loc[per_customer, "customer_id"]) <= set(customers["customer_id"])
    assert set(costs.loc[~per_customer, "segment"]) <= set(customers["segment"])
    assert (costs["date"].dt.day == 1).all() and (costs["cost"] > 0).all()
    acquired = costs["customer_id"].map(customers.set_index("customer_id")["acquisition_date"])
    assert (costs.loc[per_customer, "date"] >= acquired[per_customer].dt.to_period("M").dt.start_time).all()


def test_surveys_follow_the_latent_pattern(data):
    surveys, customers = data.surveys, data.customers.set_index("customer_id")
    assert surveys["nps"].between(0, 10).all()
    assert surveys["satisfaction"].between(1, 5).all()
    assert surveys["complaint"].dtype == bool
    assert (surveys["date"] >= customers.loc[surveys["customer_id"], "acquisition_date"].to_numpy()).all()
    pattern = surveys["customer_id"].map(customers["behaviour_pattern"])
    mean = surveys.groupby(pattern)[["satisfaction", "nps", "complaint"]].mean()
    assert mean.loc["decline", "satisfaction"] < mean.loc["stable", "satisfaction"] - 0.5
    assert mean.loc["decline", "nps"] < mean.loc["grow", "nps"]
    assert mean.loc["decline", "complaint"] > mean.loc["stable", "complaint"]
    comments = surveys["comment"].dropna()
    assert comments.str.contains(r"[\u4e00-\u9fff]").any() and comments.str.contains("[a-z]").any()


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = generate_retail(300, seed=5), generate_retail(300, seed=5), generate_retail(300, seed=6)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.transactions.equals(c.transactions)
    assert not a.customers.equals(c.customers)


def test_period_is_respected():
    data = generate_retail(200, seed=3, start="2023-03-15", end="2023-12-31")
    for frame in data.tables.values():
        for column in [c for c in frame.columns if c == "date" or c.endswith("_date")]:
            assert frame[column].min() >= pd.Timestamp("2023-03-01")
            assert frame[column].max() <= pd.Timestamp("2023-12-31")
    assert data.transactions["date"].min() >= pd.Timestamp("2023-03-15")


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_small_business(n, seed):
    data = generate_retail(n, seed=seed)
    tx, customers = data.transactions, data.customers
    assert len(customers) == n
    acquired = tx["customer_id"].map(customers.set_index("customer_id")["acquisition_date"])
    assert acquired.notna().all() and (tx["date"] >= acquired).all()
    assert (data.referrals["referrer_id"] != data.referrals["referred_id"]).all()
    assert np.isfinite(tx["amount"]).all() and (tx["amount"] != 0).all()
