"""The lifecycle rules recover the behaviour planted in the bundled synthetic business.

`cvm.datasets.generator.generate_retail` draws each customer's purchases from a latent
pattern (grow, stable, decline, churn, return) and keeps it in `customers.behaviour_pattern`.
The stages at the end of 2024, computed from the monthly period panel alone, must line up
with those patterns: churners churned, returners recovered, growers forming, decliners gone
or going, more often than any other pattern."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

import cvm.data.summaries as summaries
from cvm.datasets.generator import generate_retail
from cvm.value.lifecycle import lifecycle_stages, stage_distribution, transitions


@pytest.fixture(scope="module")
def stages():
    data = generate_retail(4000, seed=3)
    log = data.transactions[["customer_id", "date", "amount"]].assign(
        date=pd.to_datetime(data.transactions["date"]).dt.date)
    table = ibis.memtable(log).mutate(date=ibis._.date.cast("date"))
    panel = summaries.period_panel(table, observation_end="2024-12-31", dense=True).to_pyarrow().to_pandas()
    result = lifecycle_stages(panel)
    shares = pd.crosstab(
        result.current.merge(data.customers[["customer_id", "behaviour_pattern"]], on="customer_id")
        ["behaviour_pattern"],
        result.current.merge(data.customers[["customer_id", "behaviour_pattern"]], on="customer_id")
        ["lifecycle_stage"].astype(str),
        normalize="index",
    )
    return result, shares


def test_churners_churned(stages):
    _, shares = stages
    assert shares.loc["churn", "churned"] >= 0.6
    assert shares["churned"].idxmax() == "churn"


def test_returners_recovered_and_growers_form(stages):
    _, shares = stages
    assert shares["recovered"].idxmax() == "return"
    assert shares["formation"].idxmax() == "grow"


def test_decliners_are_gone_or_going_more_than_steady_customers(stages):
    _, shares = stages
    gone = shares["decline"] + shares["churned"]
    assert gone["decline"] > gone["stable"] + 0.2
    assert gone["decline"] > gone["grow"] + 0.2


def test_every_month_partitions_the_base_and_flows_add_up(stages):
    result, _ = stages
    distribution = stage_distribution(result.history)
    per_month = result.history.groupby("period_start").size()
    pd.testing.assert_series_equal(distribution.sum(axis=1), per_month, check_names=False)
    moves = transitions(result.history)
    assert moves.groupby("period_start")["customers"].sum().tolist() == per_month.tolist()
