"""The strategy playbook: hand-built tables get the actions the default playbook documents.

Expected actions are read off the rules of ``cvm/value/playbook_default.yaml`` (first match
wins) and the ranking formulas of ``cvm.value.playbook``'s module documentation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from cvm.labels import label
from cvm.value.playbook import (
    STAGES, Playbook, assign_actions, campaign_lists, export_campaigns, load_playbook,
)
from cvm.value.segments import RFM_SEGMENTS, VALUE_MATRIX_CELLS

# the default playbook's action for a customer who is not negative-value, by stage and tier
EXPECTED = {
    "prospect": dict.fromkeys(VALUE_MATRIX_CELLS, "nurture"),
    "exploration": dict.fromkeys(VALUE_MATRIX_CELLS, "acquire_persuade"),
    "formation": dict.fromkeys(VALUE_MATRIX_CELLS, "cross_up_sell"),
    "stable": {"strategic": "loyalty_programme", "profit": "loyalty_programme",
               "potential": "satisfaction", "ordinary": "satisfaction"},
    "decline": {"strategic": "win_back", "profit": "win_back", "potential": "win_back", "ordinary": "maintain"},
    "churned": {"strategic": "win_back", "profit": "win_back", "potential": "win_back", "ordinary": "let_go"},
    "recovered": dict.fromkeys(VALUE_MATRIX_CELLS, "consolidate_return"),
}


def grid() -> pd.DataFrame:
    rows = list(itertools.product(STAGES, VALUE_MATRIX_CELLS, [False, True]))
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(len(rows))],
        "lifecycle_stage": [r[0] for r in rows], "value_matrix": [r[1] for r in rows],
        "negative_value": [r[2] for r in rows],
    })


def test_every_stage_and_tier_gets_exactly_one_action():
    table = grid()
    actions = assign_actions(table)
    assert len(actions) == len(table) == len(STAGES) * len(VALUE_MATRIX_CELLS) * 2
    assert actions["action"].notna().all() and actions["rule"].notna().all()
    for row, (stage, tier, negative) in enumerate(table[["lifecycle_stage", "value_matrix", "negative_value"]].itertuples(index=False)):
        got = actions["action"].iloc[row]
        if negative:
            assert got == ("let_go" if stage in ("decline", "churned") else "reduce_cost_to_serve"), (stage, tier)
        else:
            assert got == EXPECTED[stage][tier], (stage, tier)


def test_every_rule_of_the_default_playbook_fires_somewhere():
    table = grid()
    fired = set(assign_actions(table)["rule"].astype(str))
    assert fired == {rule.name for rule in load_playbook().rules}


def test_hand_built_table_gets_names_levels_styles_and_priorities():
    table = pd.DataFrame({
        "customer_id": [10, 11, 12, 13, 14],
        "value_matrix": ["strategic", None, "ordinary", "potential", "profit"],
        "lifecycle_stage": ["stable", "stable", None, "prospect", "churned"],
        "negative_value": [False, False, False, False, True],
    }, index=[5, 4, 3, 2, 1])
    out = assign_actions(table)
    assert out.index.tolist() == [5, 4, 3, 2, 1]
    assert out["customer_id"].tolist() == [10, 11, 12, 13, 14]
    assert out["action"].tolist() == ["loyalty_programme", "satisfaction", "maintain", "nurture", "let_go"]
    assert out["rule"].tolist() == ["stable_valuable", "stable_other", "default", "prospect", "unprofitable_leaving"]
    assert out["action_en"].iloc[0] == label("playbook.action.loyalty_programme", "en") == "loyalty programme"
    assert out["action_zh"].iloc[4] == label("playbook.action.let_go", "zh")
    assert out["relationship"].tolist() == ["partner", "responsible", "passive", "passive", "basic"]
    assert out["style"].tolist() == ["care", "adapt", "indifferent", "adapt", "indifferent"]
    assert out["relationship_zh"].tolist()[:2] == ["伙伴型", "负责型"]
    assert out["style_en"].tolist()[:2] == ["care", "adapt"]
    assert out["priority"].tolist() == [1, 3, 5, 4, 5]


def test_categorical_and_string_columns_give_the_same_actions():
    table = grid()
    categorical = table.assign(
        lifecycle_stage=pd.Categorical(table["lifecycle_stage"], categories=list(reversed(STAGES))),
        value_matrix=table["value_matrix"].astype("category"),
        negative_value=table["negative_value"].astype("boolean"),
    )
    pd.testing.assert_frame_equal(assign_actions(table), assign_actions(categorical))


def test_missing_negative_value_matches_only_rules_without_that_condition():
    table = pd.DataFrame({"value_matrix": ["ordinary"], "lifecycle_stage": ["churned"], "negative_value": [None]})
    assert assign_actions(table)["rule"].tolist() == ["churned_other"]


def custom_playbook() -> Playbook:
    action = {"description_en": "x", "description_zh": "x", "relationship": "proactive", "style": "care", "priority": 1}
    return load_playbook({
        "actions": {
            "vip_call": {**action, "en": "VIP call", "zh": "贵宾致电"},
            "reactivate": {**action, "en": "Reactivate", "zh": "唤醒", "priority": 2, "rank_by": "value_at_risk"},
            "other": {**action, "en": "Other", "zh": "其他", "priority": 9, "rank_by": "expected_spend"},
        },
        "rules": [
            {"name": "champions", "when": {"rfm_segment": ["champions", "loyal"]}, "action": "vip_call"},
            {"name": "sleeping", "when": {"rfm_segment": ["at_risk", "cant_lose_them"], "tier": "*"}, "action": "reactivate"},
            {"name": "rest", "action": "other"},
        ],
    })


def test_custom_playbook_on_rfm_segments_needs_only_that_column():
    table = pd.DataFrame({"rfm_segment": ["loyal", "at_risk", "lost", None, "champions"]})
    out = assign_actions(table, custom_playbook())
    assert out["action"].tolist() == ["vip_call", "reactivate", "other", "other", "vip_call"]
    assert "customer_id" not in out.columns
    assert out["action_zh"].tolist() == ["贵宾致电", "唤醒", "其他", "其他", "贵宾致电"]


def reference(table: pd.DataFrame, playbook: Playbook) -> list[str]:
    """Plain-Python first-match evaluation, customer by customer."""
    columns = {"tier": "value_matrix", "stage": "lifecycle_stage", "rfm_segment": "rfm_segment",
               "negative_value": "negative_value"}
    out = []
    for _, row in table.iterrows():
        for rule in playbook.rules:
            ok = True
            for name, column in columns.items():
                wanted = getattr(rule.when, name)
                if wanted is None:
                    continue
                value = row[column]
                if value is None or (isinstance(value, float) and np.isnan(value)):
                    ok = False
                elif isinstance(wanted, bool):
                    ok &= bool(value) == wanted
                else:
                    ok &= value in wanted
            if ok:
                out.append(rule.name)
                break
    return out


def test_lookup_agrees_with_first_match_reference_on_random_tables():
    rng = np.random.default_rng(7)
    n = 400
    table = pd.DataFrame({
        "value_matrix": rng.choice([*VALUE_MATRIX_CELLS, None], n),
        "lifecycle_stage": rng.choice([*STAGES, None], n),
        "rfm_segment": rng.choice([*RFM_SEGMENTS, None], n),
        "negative_value": rng.choice([True, False, None], n),
    })
    for playbook in (load_playbook(), custom_playbook()):
        assert assign_actions(table, playbook)["rule"].astype(str).tolist() == reference(table, playbook)


def campaign_table() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
        "value_matrix": ["profit", "strategic", "potential", "ordinary", "strategic", "strategic", "profit"],
        "lifecycle_stage": ["decline", "churned", "decline", "stable", "stable", "stable", "stable"],
        "negative_value": [False, False, False, True, False, False, False],
        "clv": [100.0, 30.0, 60.0, 5.0, 200.0, 200.0, np.nan],
        "clv_net": [150.0, 40.0, 70.0, -80.0, 250.0, 260.0, 10.0],
        "p_alive": [0.5, 0.25, 0.75, 0.9, 0.8, 0.9, 0.5],
        "value_at_risk": [100.0, 0.0, 20.0, 0.0, 0.0, 0.0, 0.0],
        "expected_spend": [20.0, 30.0, 40.0, 10.0, 50.0, 60.0, 70.0],
        "acquisition_channel": ["web", "shop", "web", "web", "shop", "web", "shop"],
        "unrelated": range(7),
    })


def test_campaign_lists_rank_by_the_expected_value_of_acting():
    table = campaign_table()
    lists = campaign_lists(table, assign_actions(table))
    assert set(lists) == set(load_playbook().actions)
    assert len(lists["nurture"]) == 0 and "expected_value" in lists["nurture"].columns
    win = lists["win_back"]
    # value_at_risk basis: clv / p × (1 − p): a 100, b 90, c 20
    assert win["customer_id"].tolist() == ["a", "b", "c"]
    assert win["expected_value"].tolist() == pytest.approx([100.0, 90.0, 20.0])
    assert win["rank"].tolist() == [1, 2, 3]
    # clv basis; e and f tie at 200 and keep table order; g's missing CLV comes last
    loyal = lists["loyalty_programme"]
    assert loyal["customer_id"].tolist() == ["e", "f", "g"]
    assert np.isnan(loyal["expected_value"].iloc[2])
    # loss basis: −clv_net
    assert lists["reduce_cost_to_serve"]["expected_value"].tolist() == [80.0]
    expected_columns = ["customer_id", "value_matrix", "lifecycle_stage", "negative_value", "clv", "p_alive",
                        "value_at_risk", "expected_spend", "acquisition_channel", "action", "action_en",
                        "action_zh", "relationship", "style", "priority", "rule", "expected_value", "rank"]
    assert win.columns.tolist() == expected_columns
    assert win["value_at_risk"].tolist() == [100.0, 0.0, 20.0]


def test_expected_spend_basis_and_zero_p_alive():
    table = pd.DataFrame({"customer_id": [1, 2, 3], "rfm_segment": ["lost", "at_risk", "lost"],
                          "clv": [0.0, 50.0, 1.0], "p_alive": [0.5, 0.0, 1.0], "expected_spend": [40.0, 1.0, 30.0]})
    lists = campaign_lists(table, assign_actions(table, custom_playbook()))
    assert lists["other"]["customer_id"].tolist() == [3, 1]
    assert lists["other"]["expected_value"].tolist() == [30.0, 20.0]
    assert lists["reactivate"]["expected_value"].tolist() == [0.0]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_trip(tmp_path, fmt):
    table = campaign_table()
    lists = campaign_lists(table, assign_actions(table))
    target = tmp_path / ("lists" if fmt == "csv" else "lists.xlsx")
    written = export_campaigns(lists, target, fmt)
    if fmt == "csv":
        assert sorted(p.name for p in written) == sorted(f"{k}.csv" for k in lists)
        back = {p.stem: pd.read_csv(p, encoding="utf-8-sig") for p in written}
    else:
        assert written == [target]
        back = pd.read_excel(target, sheet_name=None)
        assert list(back) == list(lists)
    for key, frame in lists.items():
        got = back[key]
        assert got.columns.tolist() == frame.columns.tolist()
        assert len(got) == len(frame)
        if len(frame):
            assert got["customer_id"].tolist() == frame["customer_id"].tolist()
            assert got["action_zh"].tolist() == frame["action_zh"].astype(str).tolist()
            np.testing.assert_allclose(got["expected_value"].to_numpy(float), frame["expected_value"].to_numpy(float))
    # overwriting needs to be asked for
    again = export_campaigns({"win_back": lists["win_back"].head(1)}, target, fmt, overwrite=True)
    assert again


def test_default_playbook_ships_as_package_data():
    from importlib import resources

    text = resources.files("cvm.value").joinpath("playbook_default.yaml").read_text(encoding="utf-8")
    assert "win_back" in text
    for key, action in load_playbook().actions.items():
        assert action.name(key, "en") == label(f"playbook.action.{key}", "en")
        assert action.description_zh and action.description_en
