"""The customer value table on a hand-made base of five customers and one prospect
(:func:`cvm.value.table.example_inputs`): every number checked by hand or against the
model's own predictions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cvm.data.timeunit import TimeUnit
from cvm.models.clv import customer_lifetime_value
from cvm.value.table import VALUE_COLUMNS, customer_value, example_inputs


@pytest.fixture(scope="module")
def inputs():
    return example_inputs()


@pytest.fixture(scope="module")
def result(inputs):
    return customer_value(**inputs)


def row(result, customer):
    table = result.table
    return table.loc[table["customer_id"] == customer].iloc[0]


def test_one_row_per_customer_and_prospects_last(result):
    assert result.table["customer_id"].tolist() == ["c1", "c2", "c3", "c4", "c5", "p1"]
    prospect = row(result, "p1")
    assert prospect["n_purchases"] == 0 and prospect["revenue"] == 0 and prospect["clv"] == 0
    assert np.isnan(prospect["p_alive"]) and prospect["loyalty_level"] == "potential"


def test_margin_is_revenue_minus_product_and_marketing_cost(result):
    t = result.table
    np.testing.assert_allclose(t["gross_margin"], t["revenue"] - t["product_cost"] - t["marketing_cost"])
    assert row(result, "c2")["gross_margin"] == -30.0
    np.testing.assert_allclose(
        t["gross_margin_recent"], t[[f"gross_margin_hist_{k}" for k in (1, 2, 3)]].sum(axis=1))
    assert row(result, "c2")["credit_index"] == pytest.approx(1 - 60 / 210)


def test_missing_product_cost_is_estimated_and_said(inputs):
    history = inputs["history"].copy()
    history["product_cost"] = np.nan
    for k in (1, 2, 3):
        history[f"product_cost_hist_{k}"] = np.nan
    result = customer_value(**(inputs | {"history": history, "config": {"margin": {"margin_rate": 0.4}}}))
    c1 = row(result, "c1")
    assert c1["product_cost"] == pytest.approx(1200 * 0.6)
    assert c1["gross_margin"] == pytest.approx(1200 - 720 - 50)
    assert c1["product_cost_hist_1"] == pytest.approx(100 * 0.6)
    assert c1["cost_source"] == "estimated"
    assert any("no product cost" in note for note in result.notes)
    # no recorded cost at all: the forecast uses the configured rate
    assert result.margin_ratio == pytest.approx(0.4)


def test_forecast_equals_the_models_own_predictions(inputs, result):
    model, spend_model = inputs["model"], inputs["spend_model"]
    customers = inputs["summary"]
    edges = TimeUnit.MONTH.period_edges(inputs["observation_end"], 3, "week")
    expected = model.expected_purchases_by_period(customers, edges)
    purchasers = result.table.iloc[:5]
    for k in range(3):
        np.testing.assert_allclose(purchasers[f"forecast_purchases_{k + 1}"], expected[:, k], rtol=1e-12)
    spend = spend_model.expected_spend(customers)
    np.testing.assert_allclose(purchasers["forecast_revenue_2"], expected[:, 1] * spend, rtol=1e-12)
    np.testing.assert_allclose(purchasers["forecast_margin_2"], expected[:, 1] * spend * result.margin_ratio,
                               rtol=1e-12)
    clv = customer_lifetime_value(
        model, customers, spend=spend, horizon=TimeUnit.WEEK.from_days(3 * 365.2425),
        discount_rate=TimeUnit.WEEK.discount_rate(0.10), margin=result.margin_ratio, steps=36)
    np.testing.assert_allclose(purchasers["clv"], clv, rtol=1e-12)
    assert result.forecast_periods[0] == (dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    assert result.history_periods == [(dt.date(2024, 4, 1), dt.date(2024, 4, 30)),
                                      (dt.date(2024, 5, 1), dt.date(2024, 5, 31)),
                                      (dt.date(2024, 6, 1), dt.date(2024, 6, 30))]


def test_forecast_margin_ratio_is_the_bases_recorded_ratio(result):
    purchasers = result.table.iloc[:5]
    expected = purchasers["gross_margin"].sum() / purchasers["revenue"].sum()
    assert result.margin_ratio == pytest.approx(expected)


def test_clv_net_and_simple_clv(result):
    c1 = row(result, "c1")
    assert c1["clv_net"] == pytest.approx(450 + c1["clv"] - 30)
    years = 537 / 365.2425
    assert c1["simple_clv"] == pytest.approx(100 * 12 / years * 3 * result.margin_ratio - 30)
    c4 = row(result, "c4")  # tenure 10 days counts as one month; no acquisition cost known
    assert c4["simple_clv"] == pytest.approx(40 * 1 / (365.2425 / 12 / 365.2425) * 3 * result.margin_ratio)


def test_influence_value_follows_the_referral_chain(result):
    # c1 referred c2 (margin -30), who referred c3 (170): 0.5 per further step
    assert row(result, "c1")["influence_value"] == pytest.approx(-30 + 0.5 * 170)
    assert row(result, "c2")["influence_value"] == pytest.approx(170)
    assert row(result, "c3")["influence_value"] == 0
    t = result.table
    np.testing.assert_allclose(t["total_value"], t["realized_value"] + t["potential_value"] + t["influence_value"])


def test_negative_value_has_its_reason(result):
    c2 = row(result, "c2")
    assert c2["negative_value"] and c2["negative_reason"] == "returns"
    assert c2["negative_reason_en"] == "returns" and c2["negative_reason_zh"] == "退货"
    assert not row(result, "c1")["negative_value"] and pd.isna(row(result, "c1")["negative_reason"])
    # a prospect whose acquisition cost is not recovered
    assert row(result, "p1")["negative_reason"] == "acquisition_cost"


def test_value_at_risk_for_a_valuable_customer_whose_p_alive_fell(result):
    c5 = row(result, "c5")
    assert c5["value_matrix"] == "strategic"
    assert c5["p_alive_previous"] - c5["p_alive"] >= 0.05
    assert c5["at_risk"]
    assert c5["value_at_risk"] == pytest.approx(c5["clv"] / c5["p_alive"] * (1 - c5["p_alive"]))
    total = result.value_at_risk.set_index("value_matrix")
    assert total.loc["strategic", "value_at_risk"] == pytest.approx(c5["value_at_risk"])
    assert total.loc["total", "at_risk"] == 1


def test_equity_is_the_sum_of_clv_in_every_grouping(result):
    t = result.table
    assert result.customer_equity == pytest.approx(t["clv"].sum())
    for grouping, part in result.equity.groupby("grouping"):
        assert part["customer_equity"].sum() == pytest.approx(t["clv"].sum()), grouping
        assert part["customers"].sum() == len(t), grouping
    channel = result.equity.query("grouping == 'acquisition_channel' and group == 'store'").iloc[0]
    store = t[t["acquisition_channel"] == "store"]
    known = store["acquisition_cost"].notna()
    assert channel["clv_to_cac"] == pytest.approx(
        (store.loc[known, "realized_value"] + store.loc[known, "clv"]).sum() / store["acquisition_cost"].sum())


def test_every_segmentation_is_a_partition_with_both_labels(result):
    t = result.table
    for column in ("value_matrix", "pyramid", "loyalty_profit", "loyalty_level"):
        assert t[column].notna().all(), column
        assert t[f"{column}_en"].notna().all() and t[f"{column}_zh"].notna().all(), column
    assert result.pyramid["customer_share"].sum() == pytest.approx(1.0)
    assert result.pyramid["customers"].sum() == len(t)
    assert row(result, "c1")["value_matrix_zh"] == "战略客户"


def test_rfm_segments_when_scores_are_given(inputs):
    rfm = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4", "c5"], "recency_score": [5, 1, 4, 5, 3],
                        "frequency_score": [4, 2, 3, 1, 5], "monetary_score": [4, 1, 3, 1, 5]})
    result = customer_value(**(inputs | {"rfm": rfm}))
    t = result.table.set_index("customer_id")
    assert t.loc["c1", "rfm_segment"] == "champions" and t.loc["c1", "rfm_segment_zh"] == "冠军客户"
    assert t.loc["c4", "rfm_segment"] == "new"
    assert pd.isna(t.loc["p1", "rfm_segment"])


def test_every_column_is_documented(result):
    documented = set()
    for names, _, _ in VALUE_COLUMNS:
        documented |= {name.strip() for name in names.split(",")}

    def known(column: str) -> bool:
        if column in documented:
            return True
        base = column.removesuffix("_en").removesuffix("_zh")
        generic = base.rstrip("0123456789").removesuffix("_") + "_k" if base[-1:].isdigit() else base
        return generic in documented or base in documented or column.startswith("score_") or \
            (column.endswith(("_en", "_zh")) and base in result.table.columns)

    undocumented = [c for c in result.table.columns if not known(c)]
    assert not undocumented, undocumented


def test_equity_is_the_same_summed_per_combination_or_per_grouping(result):
    from cvm.value.table import equity_table

    combined = equity_table(result.table, combine=True)
    separate = equity_table(result.table, combine=False)
    pd.testing.assert_frame_equal(combined, separate, check_exact=False, rtol=1e-12)


def test_previous_state_from_the_history_columns_equals_a_previous_summary(inputs, result):
    """value_history's *_previous columns (in days) give what the BTYD summary one period
    earlier (in weeks) gives."""
    previous = inputs["previous_summary"].set_index("customer_id")
    history = inputs["history"].copy()
    by_id = previous.reindex(history["customer_id"])
    history["n_purchases_previous"] = (by_id["frequency"] + 1).fillna(0).astype(int).to_numpy()
    history["recency_days_previous"] = (by_id["recency"] * 7).to_numpy()
    history["tenure_days_previous"] = (by_id["T"] * 7).to_numpy()
    from_history = customer_value(**(inputs | {"history": history, "previous_summary": None}))
    np.testing.assert_allclose(from_history.table["p_alive_previous"], result.table["p_alive_previous"],
                               rtol=1e-12, equal_nan=True)
    assert from_history.table["at_risk"].tolist() == result.table["at_risk"].tolist()


def test_locating_ids_both_ways_gives_the_same_rows():
    """Few lookups are hashed and the ids probed; many are probed against the ids: same rows."""
    import pyarrow as pa

    from cvm.value.table import _locate

    ids = pa.array([f"c{i:03d}" for i in range(100)])
    few = pa.array(["c005", "zzz", "c099", "c005"])
    many = pa.array([f"c{i:03d}" for i in range(99, -1, -1)] + ["nope"])
    assert _locate(ids, {"few": few})["few"].tolist() == [5, -1, 99, 5]
    assert _locate(ids, {"many": many})["many"].tolist() == list(range(99, -1, -1)) + [-1]
    assert _locate(ids, {"same": ids})["same"].tolist() == list(range(100))


@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_cohort_period_starts_agree_per_distinct_day_and_per_row(period):
    from cvm.value.table import _period_starts

    rng = np.random.default_rng(3)
    days = np.datetime64("2020-01-01") + rng.integers(0, 1500, 150_000).astype("timedelta64[D]")
    days[::1000] = np.datetime64("NaT")
    fast = _period_starts(days, TimeUnit.parse(period))           # distinct days (many rows)
    slow = np.concatenate([_period_starts(days[i:i + 50_000], TimeUnit.parse(period))
                           for i in range(0, days.size, 50_000)])  # row by row (small blocks)
    np.testing.assert_array_equal(fast, slow)
    assert str(_period_starts(np.array(["2024-05-17"], dtype="datetime64[D]"), TimeUnit.QUARTER)[0]) == \
        "2024-04-01T00:00:00"


def test_arrow_tables_are_read_with_real_dates(inputs, result):
    import pyarrow as pa

    arrow = {k: pa.Table.from_pandas(v, preserve_index=False) if isinstance(v, pd.DataFrame) else v
             for k, v in inputs.items()}
    from_arrow = customer_value(**arrow)
    np.testing.assert_allclose(from_arrow.table["clv"], result.table["clv"], rtol=1e-12)
    assert from_arrow.table["cohort"].astype(str).tolist() == result.table["cohort"].astype(str).tolist()


@pytest.mark.parametrize("name", ["bgnbd", "pnbd", "mbgnbd"])
def test_every_continuous_time_model_gives_a_finite_table(inputs, name):
    from cvm.models import MODELS

    cls = MODELS[name]
    result = customer_value(**(inputs | {"model": cls.from_params(cls.example_params)}))
    purchasers = result.table.iloc[:5]
    assert np.isfinite(purchasers[["clv", "p_alive", "forecast_purchases_1", "value_at_risk"]].to_numpy()).all()
    assert (purchasers["clv"] > 0).all()
    assert result.customer_equity == pytest.approx(result.table["clv"].sum())


def test_lifecycle_stage_joins_the_table_with_a_period_panel(inputs):
    """c3 bought in April and June (a quiet May): stable; c4 is a new buyer; p1 a prospect."""
    months = pd.date_range("2024-01-01", periods=6, freq="MS")
    monthly = {"c1": [100, 90, 110, 100, 120, 90], "c2": [0, 0, 0, 0, 0, 0], "c3": [0, 95, 0, 95, 0, 190],
               "c4": [0, 0, 0, 0, 0, 40], "c5": [600, 0, 0, 0, 0, 0]}
    first = {"c1": 0, "c2": 0, "c3": 1, "c4": 5, "c5": 0}
    rows = [{"customer_id": c, "period_start": m, "orders": int(v > 0), "revenue": float(v)}
            for c, values in monthly.items() for i, (m, v) in enumerate(zip(months, values, strict=True))
            if i >= first[c]]
    panel = pd.DataFrame(rows)
    panel.loc[(panel.customer_id == "c2") & (panel.period_start == months[0]), ["orders", "revenue"]] = [1, 150.0]
    result = customer_value(**(inputs | {"panel": panel}))
    t = result.table.set_index("customer_id")
    assert t.loc["c4", "lifecycle_stage"] == "exploration"
    assert t.loc["c2", "lifecycle_stage"] == "decline"            # five quiet months
    assert t.loc["p1", "lifecycle_stage"] == "prospect" and t.loc["p1", "lifecycle_stage_zh"] == "潜在期"
    assert t["lifecycle_reason"].notna().all()
    stages = result.equity.query("grouping == 'lifecycle_stage'")
    assert stages["customers"].sum() == len(t)
    assert stages["customer_equity"].sum() == pytest.approx(t["clv"].sum())
