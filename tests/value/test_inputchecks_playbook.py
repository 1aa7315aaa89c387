"""Bad playbooks, tables and export targets give a CVMError naming the problem and the fix."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError, OutputExistsError
from cvm.value.playbook import assign_actions, campaign_lists, export_campaigns, load_playbook

ACTION = {"en": "Call", "zh": "致电", "description_en": "Call.", "description_zh": "致电。",
          "relationship": "proactive", "style": "care", "priority": 1}


def book(*rules, actions=None):
    return {"actions": actions or {"call": ACTION, "wait": {**ACTION, "en": "Wait", "zh": "等待"}},
            "rules": list(rules)}


DEFAULT = {"name": "default", "action": "wait"}


def problems(source) -> str:
    with pytest.raises(ConfigError) as info:
        load_playbook(source)
    return str(info.value)


def test_unknown_keys_list_the_valid_ones():
    text = problems(book(
        {"name": "a", "when": {"tier": ["strategic", "gold"]}, "action": "call"},
        {"name": "b", "when": {"stage": "dormant"}, "action": "call"},
        {"name": "c", "when": {"rfm_segment": "whales"}, "action": "call"},
        DEFAULT,
    ))
    assert "3 problems" in text
    assert "rules.0 (a).when.tier: unknown tier 'gold' (valid: strategic, profit, potential, ordinary)" in text
    assert "rules.1 (b).when.stage: unknown lifecycle stage 'dormant' (valid: prospect, exploration, formation, " \
           "stable, decline, churned, recovered)" in text
    assert "rules.2 (c).when.rfm_segment: unknown RFM segment 'whales' (valid: champions," in text


def test_unreachable_rule_names_the_rules_that_cover_it():
    text = problems(book(
        {"name": "stable", "when": {"stage": "stable"}, "action": "call"},
        {"name": "valuable", "when": {"tier": ["strategic", "profit"]}, "action": "call"},
        {"name": "stable_strategic", "when": {"stage": "stable", "tier": "strategic"}, "action": "wait"},
        DEFAULT,
    ))
    assert "1 problem:" in text
    assert "rules.2 (stable_strategic): unreachable: every customer it matches is taken by earlier rules " \
           "(rules.0 (stable)); move it up or remove it" in text


def test_rule_after_a_catch_all_is_unreachable_and_default_missing():
    text = problems(book(
        {"name": "all", "action": "call"},
        {"name": "late", "when": {"stage": "decline"}, "action": "wait"},
    ))
    assert "rules.1 (late): unreachable" in text
    assert "the last rule must be a default rule with no conditions" in text


def test_exact_duplicate_conditions_are_an_overlap():
    text = problems(book(
        {"name": "a", "when": {"stage": ["decline", "churned"], "negative_value": True}, "action": "call"},
        {"name": "b", "when": {"stage": ["decline", "churned"], "negative_value": True}, "action": "wait"},
        DEFAULT,
    ))
    assert "rules.1 (b).when: overlap: exactly the same conditions as rules.0 (a)" in text
    assert "unreachable" not in text


def test_missing_default_rule():
    text = problems(book({"name": "only", "when": {"negative_value": False}, "action": "call"}))
    assert "rules.0 (only): the last rule must be a default rule with no conditions" in text
    assert "it sets negative_value" in text


def test_bad_levels_styles_priorities_are_all_reported():
    bad = {**ACTION, "relationship": "friendly", "style": "cold", "priority": 0}
    text = problems(book(DEFAULT, actions={"wait": bad}))
    assert "actions.wait.relationship: Input should be 'basic', 'passive', 'responsible', 'proactive' or 'partner'" in text
    assert "actions.wait.style: Input should be 'care', 'adapt' or 'indifferent'" in text
    assert "actions.wait.priority: Input should be greater than or equal to 1 (got 0)" in text


def test_unknown_action_duplicate_names_and_missing_labels():
    text = problems(book(
        {"name": "a", "when": {"stage": "stable"}, "action": "phone"},
        {"name": "a", "when": {"stage": "decline"}, "action": "call"},
        DEFAULT,
        actions={"call": ACTION, "wait": {**ACTION, "en": None, "zh": None}, "Bad-Key": {**ACTION, "en": "x", "zh": "y"}},
    ))
    assert "rules.0 (a).action: unknown action 'phone' (defined: call, wait, Bad-Key)" in text
    assert "rules.1 (a).name: the name is also used by rules.0" in text
    assert "actions.wait.en: no en name" in text and "actions.wait.zh: no zh name" in text
    assert "actions.Bad-Key: an action key is" in text


def test_duplicate_action_names_and_empty_condition_lists():
    text = problems(book(
        {"name": "a", "when": {"tier": []}, "action": "call"}, DEFAULT,
        actions={"call": ACTION, "wait": ACTION},
    ))
    assert "rules.0.when.tier: an empty list matches no customer" in text
    text = problems(book(DEFAULT, actions={"call": ACTION, "wait": ACTION}))
    assert "actions.wait.en: name 'Call' is also the name of action 'call'" in text


def test_structure_errors(tmp_path):
    assert "unknown setting" in problems({"actions": {"call": ACTION}, "rules": [DEFAULT], "extra": 1})
    assert "a playbook is a mapping" in problems(["not", "a", "mapping"])
    assert "version 2 is not supported" in problems({"version": 2})
    assert "playbook file not found" in problems(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n", encoding="utf-8")
    assert "not valid YAML" in problems(broken)


def test_assign_actions_checks_the_table():
    with pytest.raises(MissingColumnError, match="need the columns lifecycle_stage, negative_value"):
        assign_actions(pd.DataFrame({"value_matrix": ["strategic"]}))
    table = pd.DataFrame({"customer_id": ["x", "y"], "value_matrix": ["strategic", "gold"],
                          "lifecycle_stage": ["stable", "stable"], "negative_value": [False, False]})
    with pytest.raises(InvalidDataError, match=r"column 'value_matrix': 1 rows .* not a tier key \(customer 'y' has 'gold'\)"):
        assign_actions(table)
    table["value_matrix"] = ["strategic", "profit"]
    table["negative_value"] = ["no", False]
    with pytest.raises(InvalidDataError, match="column 'negative_value': 1 rows are not true/false"):
        assign_actions(table)
    with pytest.raises(InvalidDataError, match="must be a pandas DataFrame"):
        assign_actions([1, 2, 3])


def test_campaign_lists_checks_its_inputs():
    table = pd.DataFrame({"customer_id": ["x", "y"], "value_matrix": ["strategic", "profit"],
                          "lifecycle_stage": ["decline", "stable"], "negative_value": [False, False]})
    actions = assign_actions(table)
    with pytest.raises(MissingColumnError, match="ranked by 'clv' needs the columns clv"):
        campaign_lists(table, actions)
    with pytest.raises(InvalidDataError, match="actions has 1 rows but the table has 2"):
        campaign_lists(table, actions.head(1))
    with pytest.raises(InvalidDataError, match="must be the DataFrame returned by assign_actions"):
        campaign_lists(table, actions[["action"]])
    with pytest.raises(MissingColumnError, match="no customer_id column"):
        campaign_lists(table.drop(columns="customer_id"), actions)
    bad = table.assign(clv=["a", "b"], p_alive=[0.5, 0.5])
    with pytest.raises(InvalidDataError, match="column 'clv' must be numeric"):
        campaign_lists(bad, actions)


def test_export_refuses_bad_targets(tmp_path):
    lists = {"win_back": pd.DataFrame({"customer_id": ["a"]})}
    with pytest.raises(ConfigError, match="format 'pdf' is not supported"):
        export_campaigns(lists, tmp_path, "pdf")
    export_campaigns(lists, tmp_path / "out")
    with pytest.raises(OutputExistsError, match="win_back.csv already exists") as info:
        export_campaigns(lists, tmp_path / "out")
    assert "overwrite=True" in str(info.value)
    (tmp_path / "file.csv").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="is a file; CSV export writes one file per action into a folder"):
        export_campaigns(lists, tmp_path / "file.csv")
    with pytest.raises(ConfigError, match="must end in .xlsx"):
        export_campaigns(lists, tmp_path / "book.xls", "xlsx")
    export_campaigns(lists, tmp_path / "book.xlsx", "xlsx")
    with pytest.raises(OutputExistsError, match="book.xlsx already exists"):
        export_campaigns(lists, tmp_path / "book.xlsx", "xlsx")
    with pytest.raises(ConfigError, match="cannot name a file or sheet"):
        export_campaigns({"../evil": lists["win_back"]}, tmp_path / "x")
    with pytest.raises(InvalidDataError, match="must map each action key to a DataFrame"):
        export_campaigns({"a": [1]}, tmp_path / "y")
