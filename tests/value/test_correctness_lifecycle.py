"""Lifecycle stages on constructed histories: a grower, a steady customer, a decliner, a
churner and a returner each land in the right stage at the right period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvm.errors import ConfigError, MissingColumnError
from cvm.value.config import load_config
from cvm.value.lifecycle import STAGES, LifecycleSettings, lifecycle_stages, stage_distribution, transitions

MONTHS = pd.date_range("2023-01-01", periods=18, freq="MS")
REVENUE = {
    "grower":   [10, 10, 10, 10, 10, 10, 10, 10, 10, 30, 40, 50, 60, 70, 80, 90, 100, 110],
    "steady":   [50] * 18,
    "decliner": [80, 80, 80, 80, 80, 80, 80, 80, 80, 80, 80, 80, 80, 30, 20, 10, 10, 10],
    "churner":  [40, 40, 40, 40, 40, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "returner": [40, 40, 40, 40, 40, 0, 0, 0, 0, 0, 40, 40, 40, 40, 40, 40, 40, 40],
}


def panel() -> pd.DataFrame:
    rows = []
    for customer, revenue in REVENUE.items():
        for month, amount in zip(MONTHS, revenue, strict=True):
            rows.append({"customer_id": customer, "period_start": month, "orders": int(amount > 0),
                         "revenue": float(amount)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def result():
    return lifecycle_stages(panel())


def stages_of(result, customer):
    h = result.history
    return h.loc[h["customer_id"] == customer, "stage"].astype(str).tolist()


def test_every_customer_starts_exploring(result):
    for customer in REVENUE:
        assert stages_of(result, customer)[:3] == ["exploration"] * 3


def test_the_steady_customer_is_stable(result):
    assert stages_of(result, "steady")[3:] == ["stable"] * 15


def test_the_grower_forms(result):
    stages = stages_of(result, "grower")
    assert stages[8] == "stable" and stages[9] == "formation"
    assert stages[-1] == "formation"


def test_the_decliner_declines(result):
    stages = stages_of(result, "decliner")
    assert stages[12] == "stable"
    # the three-month mean falls below half the baseline two months into the fall: 43.3 of 80
    # is not yet, 20 of 80 is
    assert stages[14] == "stable" and stages[15] == "decline" and stages[-1] == "decline"


def test_the_churner_declines_then_churns(result):
    stages = stages_of(result, "churner")
    assert stages[6] == "stable"          # one quiet month
    assert stages[7] == "decline"         # two quiet months
    assert stages[11] == "churned"        # six quiet months
    assert stages[-1] == "churned"
    current = result.current.set_index("customer_id")
    assert current.loc["churner", "lifecycle_stage"] == "churned"
    assert current.loc["churner", "lifecycle_stage_zh"] == "终止期"
    assert current.loc["churner", "lifecycle_reason"] == "no_purchase_for_churn_gap"


def test_the_returner_recovers_for_two_periods(result):
    stages = stages_of(result, "returner")
    assert stages[9] == "decline"          # five quiet months: declining, not yet churned
    assert stages[10:12] == ["recovered", "recovered"]
    assert stages[12] in ("stable", "formation")


def test_p_alive_refines_the_current_stage():
    p_alive = pd.Series({"steady": 0.95, "grower": 0.05, "decliner": 0.5, "churner": 0.01, "returner": 0.9})
    before = pd.Series({"steady": 0.99, "grower": 0.5, "decliner": 0.6, "churner": 0.02, "returner": 0.97})
    current = lifecycle_stages(panel(), p_alive=p_alive, p_alive_previous=before).current.set_index("customer_id")
    assert current.loc["grower", "lifecycle_stage"] == "churned"
    assert current.loc["grower", "lifecycle_reason"] == "p_alive_low"
    assert current.loc["steady", "lifecycle_stage"] == "stable"   # fell 0.04 < 0.05
    assert current.loc["returner", "lifecycle_stage"] == "decline"    # formation by volume, but P(alive) fell 0.07
    assert current.loc["returner", "lifecycle_reason"] == "p_alive_falling"


def test_prospects_are_listed():
    current = lifecycle_stages(panel(), prospects=["newbie", "steady"]).current.set_index("customer_id")
    assert current.loc["newbie", "lifecycle_stage"] == "prospect"
    assert current.loc["newbie", "lifecycle_stage_en"] == "prospect"
    assert current.loc["steady", "lifecycle_stage"] == "stable"


def test_stages_partition_the_base_and_transitions_add_up(result):
    distribution = stage_distribution(result.history)
    assert (distribution.sum(axis=1) == len(REVENUE)).all()
    moves = transitions(result.history)
    into = moves.groupby("period_start")["customers"].sum()
    np.testing.assert_array_equal(into.to_numpy(), distribution.sum(axis=1).to_numpy())
    # what leaves a period's stages is what was there
    periods = sorted(moves["period_start"].unique())
    for earlier, later in zip(periods, periods[1:]):
        out = moves[(moves["period_start"] == later) & (moves["from_stage"] != "(new)")]
        leaving = out.groupby("from_stage")["customers"].sum()
        for stage, count in leaving.items():
            assert distribution.loc[earlier, stage] == count


def test_settings_and_input_checks():
    with pytest.raises(ConfigError, match="decline_gap_periods must be smaller than churn_gap_periods"):
        load_config({"lifecycle": {"decline_gap_periods": 6, "churn_gap_periods": 6}})
    with pytest.raises(MissingColumnError, match="orders"):
        lifecycle_stages(panel().drop(columns="orders"))
    assert set(STAGES) == {"prospect", "exploration", "formation", "stable", "decline", "churned", "recovered"}
    assert LifecycleSettings().churn_gap_periods == 6


def warning_table() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["overdue", "falling", "quiet_churned", "fine", "complainer"],
        "n_purchases": [6, 6, 6, 6, 6], "tenure_days": [500, 500, 500, 500, 500],
        "days_since_last_purchase": [160, 10, 400, 20, 20],     # usual gap 100 days
        "p_alive": [0.5, 0.8, 0.05, 0.9, 0.9], "p_alive_previous": [0.52, 0.8, 0.3, 0.9, 0.9],
        "clv": [100.0, 200.0, 5.0, 300.0, 50.0],
        "revenue_hist_1": [40.0, 100.0, 0.0, 50.0, 50.0], "revenue_hist_2": [40.0, 100.0, 0.0, 50.0, 50.0],
        "revenue_hist_3": [40.0, 40.0, 0.0, 50.0, 50.0],
        "lifecycle_stage": ["stable", "stable", "churned", "stable", "stable"],
    })


def test_early_warning_signs_and_ranking():
    from cvm.value.lifecycle import early_warning

    surveys = pd.DataFrame({
        "customer_id": ["complainer", "complainer", "complainer", "fine"],
        "date": pd.to_datetime(["2024-01-10", "2024-06-05", "2024-06-20", "2024-01-15"]),
        "complaint": [True, True, True, True],
    })
    warned = early_warning(warning_table(), surveys=surveys, recent_since="2024-06-01")
    # by margin at stake: 100 / 0.5 x 0.5 = 100, 200 / 0.8 x 0.2 = 50, 50 / 0.9 x 0.1 = 5.6
    assert warned["customer_id"].tolist() == ["overdue", "falling", "complainer"]
    signs = warned.set_index("customer_id")["signs"]
    assert signs["overdue"] == "overdue"            # 160 > 1.5 x 100; P(alive) fell only 0.02
    assert signs["falling"] == "volume_falling"     # 40 < 0.5 x 100
    assert signs["complainer"] == "complaints_rising"
    assert warned.set_index("customer_id").loc["falling", "margin_at_stake"] == pytest.approx(200 / 0.8 * 0.2)
    assert "超期未购" in warned.set_index("customer_id").loc["overdue", "signs_zh"]
    # the churned customer is past warning; the fine one shows no sign
    assert "quiet_churned" not in set(warned["customer_id"]) and "fine" not in set(warned["customer_id"])


def test_early_warning_needs_the_value_table_columns():
    from cvm.value.lifecycle import early_warning

    with pytest.raises(MissingColumnError, match="days_since_last_purchase"):
        early_warning(warning_table().drop(columns="days_since_last_purchase"))
    with pytest.raises(MissingColumnError, match="complaint"):
        early_warning(warning_table(), surveys=pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"]}),
                      recent_since="2024-01-01")
