"""Strategy-playbook invariants over many tables and playbooks (Hypothesis).

The rules partition the grid of keys (every combination of tier, stage, RFM segment and
negative-value flag, each possibly missing, gets exactly the first rule that matches it);
assign_actions keeps one row per customer in the table's order, whatever that order is;
the campaign lists partition the customers and rank each list by expected value, missing
last; a CSV export reads back to the same lists; a random playbook is either accepted and
then assigns every cell by first match, or rejected with the rules that can never fire named.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvm.errors import ConfigError
from cvm.value.playbook import (
    STAGES, Condition, Playbook, Rule, assign_actions, campaign_lists, export_campaigns, load_playbook,
)
from cvm.value.segments import RFM_SEGMENTS, VALUE_MATRIX_CELLS

# condition, table column, keys (the order of Condition's fields)
DIMENSIONS = (
    ("tier", "value_matrix", VALUE_MATRIX_CELLS),
    ("stage", "lifecycle_stage", STAGES),
    ("rfm_segment", "rfm_segment", RFM_SEGMENTS),
    ("negative_value", "negative_value", (False, True)),
)
DEFAULT = load_playbook()


def matches(condition: Condition, cell: tuple) -> bool:
    """Plain-Python rule matching: a set condition needs a present key among its keys."""
    for (name, _, _), value in zip(DIMENSIONS, cell, strict=True):
        wanted = getattr(condition, name)
        if wanted is None:
            continue
        if value is None:
            return False
        if isinstance(wanted, bool):
            if bool(value) != wanted:
                return False
        elif value not in wanted:
            return False
    return True


def first_match(rules, cell: tuple) -> int | None:
    return next((i for i, rule in enumerate(rules) if matches(rule.when, cell)), None)


ALL_CELLS = list(itertools.product(*[[*keys, None] for _, _, keys in DIMENSIONS]))


def cells_table(cells) -> pd.DataFrame:
    columns = {column: [cell[i] for cell in cells] for i, (_, column, _) in enumerate(DIMENSIONS)}
    columns["negative_value"] = pd.array(columns["negative_value"], dtype="boolean")
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(cells))], **columns})


# --------------------------------------------------------------------------------------------
# the default playbook partitions the grid


def test_default_playbook_gives_every_cell_exactly_its_first_matching_rule():
    """Every one of the 5 × 8 × 12 × 3 cells (missing keys included) gets one rule: the first that matches."""
    table = cells_table(ALL_CELLS)
    out = assign_actions(table, DEFAULT)
    assert len(out) == len(ALL_CELLS)
    expected = [first_match(DEFAULT.rules, cell) for cell in ALL_CELLS]
    assert None not in expected  # the default rule catches the rest
    assert out["rule"].astype(str).tolist() == [DEFAULT.rules[i].name for i in expected]
    assert out["action"].astype(str).tolist() == [DEFAULT.rules[i].action for i in expected]
    # the decision table says the same, cell by cell
    table_index = DEFAULT.decision_table()
    for cell, rule in zip(ALL_CELLS, expected, strict=True):
        position = tuple(len(keys) if v is None else keys.index(v)
                         for v, (_, _, keys) in zip(cell, DIMENSIONS, strict=True))
        assert table_index[position] == rule


# --------------------------------------------------------------------------------------------
# random customer tables

tier = st.sampled_from([*VALUE_MATRIX_CELLS, None])
stage = st.sampled_from([*STAGES, None])
rfm = st.sampled_from([*RFM_SEGMENTS, None])
flag = st.sampled_from([False, True, None])
money = st.one_of(st.sampled_from([0.0, 1.0, 10.0, np.nan, -np.inf, np.inf]), st.floats(min_value=-1e6, max_value=1e6))
probability = st.one_of(st.sampled_from([0.0, 0.5, 1.0, np.nan]), st.floats(min_value=0.0, max_value=1.0))


@st.composite
def customer_tables(draw, max_size: int = 40):
    n = draw(st.integers(min_value=0, max_value=max_size))
    column = lambda s: draw(st.lists(s, min_size=n, max_size=n))  # noqa: E731
    table = pd.DataFrame({
        "customer_id": [f"id{i}" for i in draw(st.permutations(range(n)))],
        "value_matrix": column(tier),
        "lifecycle_stage": column(stage),
        "rfm_segment": column(rfm),
        "negative_value": pd.array(column(flag), dtype="boolean"),
        "clv": column(money),
        "clv_net": column(money),
        "p_alive": column(probability),
        "expected_spend": column(money),
    })
    table.index = draw(st.permutations(range(100, 100 + n)))
    return table


@settings(max_examples=100, deadline=None)
@given(customer_tables())
def test_assign_actions_is_one_row_per_customer_by_first_match(table):
    out = assign_actions(table, DEFAULT)
    assert out.index.tolist() == table.index.tolist()
    assert out["customer_id"].tolist() == table["customer_id"].tolist()
    assert out["action"].notna().all() and out["rule"].notna().all()
    cells = [tuple(None if pd.isna(v) else v for v in row)
             for row in table[[c for _, c, _ in DIMENSIONS]].astype(object).itertuples(index=False)]
    assert out["rule"].astype(str).tolist() == [DEFAULT.rules[first_match(DEFAULT.rules, c)].name for c in cells]


@settings(max_examples=100, deadline=None)
@given(customer_tables(), st.data())
def test_permuting_the_table_permutes_the_actions(table, data):
    order = data.draw(st.permutations(range(len(table))))
    out = assign_actions(table, DEFAULT)
    shuffled = assign_actions(table.iloc[list(order)], DEFAULT)
    pd.testing.assert_frame_equal(shuffled, out.iloc[list(order)])


def _is_ranked(values: np.ndarray) -> bool:
    """Descending, missing values last."""
    present = ~np.isnan(values)
    if present.any() and not present[: int(present.sum())].all():
        return False
    kept = values[present]
    return bool(np.all(kept[:-1] >= kept[1:]))


@settings(max_examples=100, deadline=None)
@given(customer_tables())
def test_campaign_lists_partition_the_customers_and_rank_them(table):
    actions = assign_actions(table, DEFAULT)
    lists = campaign_lists(table, actions)
    assert list(lists) == list(DEFAULT.actions)
    assert sum(len(part) for part in lists.values()) == len(table)
    listed = [cid for part in lists.values() for cid in part["customer_id"]]
    assert sorted(listed) == sorted(table["customer_id"])  # nobody lost, nobody twice
    by_id = actions.set_index("customer_id")["action"].astype(str)
    position = {cid: i for i, cid in enumerate(table["customer_id"])}
    for key, part in lists.items():
        assert all(by_id[c] == key for c in part["customer_id"])
        assert part["rank"].tolist() == list(range(1, len(part) + 1))
        value = part["expected_value"].to_numpy(float)
        assert _is_ranked(value), (key, value)
        # ties keep the order of the table
        rows = [position[c] for c in part["customer_id"]]
        for a in range(len(part) - 1):
            same = value[a] == value[a + 1] or (np.isnan(value[a]) and np.isnan(value[a + 1]))
            if same:
                assert rows[a] < rows[a + 1]


def expected_value(row: pd.Series, basis: str) -> float:
    """The module documentation's formulas, one customer at a time."""
    clv, p = row["clv"], row["p_alive"]
    if basis == "clv":
        return clv
    if basis == "value_at_risk":
        if np.isnan(p) or np.isnan(clv):
            return np.nan
        with np.errstate(over="ignore", invalid="ignore"):  # a huge clv / p is inf, and inf * 0 is nan
            return clv / p * (1 - p) if p > 0 else 0.0
    if basis == "expected_spend":
        return row["expected_spend"] * p
    net = row["clv_net"]
    return np.nan if np.isnan(net) else max(-net, 0.0)


@settings(max_examples=60, deadline=None)
@given(customer_tables())
def test_expected_value_follows_the_documented_formula(table):
    actions = assign_actions(table, DEFAULT)
    lists = campaign_lists(table, actions)
    rows = table.set_index("customer_id")
    for key, part in lists.items():
        basis = DEFAULT.actions[key].rank_by
        want = [expected_value(rows.loc[c], basis) for c in part["customer_id"]]
        np.testing.assert_allclose(part["expected_value"].to_numpy(float), np.array(want, float), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(customer_tables(), st.data())
def test_campaign_lists_do_not_depend_on_row_order_except_for_ties(table, data):
    order = list(data.draw(st.permutations(range(len(table)))))
    shuffled = table.iloc[order]
    one = campaign_lists(table, assign_actions(table, DEFAULT))
    two = campaign_lists(shuffled, assign_actions(shuffled, DEFAULT))
    for key in one:
        assert sorted(one[key]["customer_id"]) == sorted(two[key]["customer_id"])
        np.testing.assert_array_equal(one[key]["expected_value"].to_numpy(float),
                                      two[key]["expected_value"].to_numpy(float))


def test_infinite_expected_values_rank_before_missing_ones():
    """Regression: −inf (a CLV of −inf ranked by CLV) tied with missing values and could precede them."""
    table = pd.DataFrame({"customer_id": ["nan", "minus_inf", "one"], "lifecycle_stage": ["stable"] * 3,
                          "value_matrix": ["profit"] * 3, "negative_value": [False] * 3,
                          "clv": [np.nan, -np.inf, 1.0]})
    part = campaign_lists(table, assign_actions(table, DEFAULT))["loyalty_programme"]
    assert part["customer_id"].tolist() == ["one", "minus_inf", "nan"]


# --------------------------------------------------------------------------------------------
# export

ids = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customer_tables(max_size=25), st.data())
def test_csv_export_round_trips_ids_and_counts(tmp_path_factory, table, data):
    names = data.draw(st.lists(ids, min_size=len(table), max_size=len(table), unique=True))
    table = table.assign(customer_id=names)
    lists = campaign_lists(table, assign_actions(table, DEFAULT))
    folder = tmp_path_factory.mktemp("export")
    written = export_campaigns(lists, folder / "lists", "csv")
    assert [p.stem for p in written] == list(lists)
    for key, file in zip(lists, written, strict=True):
        back = pd.read_csv(file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert back.columns.tolist() == lists[key].columns.tolist()
        assert len(back) == len(lists[key])
        assert back["customer_id"].tolist() == lists[key]["customer_id"].tolist()
        assert back["rank"].astype(int).tolist() == lists[key]["rank"].tolist()
        assert back["action_zh"].tolist() == lists[key]["action_zh"].astype(str).tolist()


# --------------------------------------------------------------------------------------------
# random playbooks

ACTIONS = {
    key: {"en": key.title(), "zh": zh, "description_en": "x", "description_zh": "x",
          "relationship": "passive", "style": "adapt", "priority": 1 + i}
    for i, (key, zh) in enumerate([("call", "致电"), ("mail", "邮件"), ("wait", "等待")])
}
# small key pools make overlaps and unreachable rules common
condition_values = {
    "tier": st.none() | st.lists(st.sampled_from(VALUE_MATRIX_CELLS), min_size=1, max_size=3, unique=True),
    "stage": st.none() | st.lists(st.sampled_from(STAGES[:4]), min_size=1, max_size=3, unique=True),
    "rfm_segment": st.none() | st.lists(st.sampled_from(RFM_SEGMENTS[:3]), min_size=1, max_size=2, unique=True),
    "negative_value": st.sampled_from([None, True, False]),
}
conditions = st.fixed_dictionaries({}, optional=condition_values).map(
    lambda d: {k: v for k, v in d.items() if v is not None})


@st.composite
def playbook_specs(draw):
    whens = draw(st.lists(conditions.filter(bool), min_size=0, max_size=6))
    if whens and draw(st.integers(0, 3)) == 0:
        whens = [*whens, whens[draw(st.integers(0, len(whens) - 1))]]  # an exact repeat
    if not whens or draw(st.integers(0, 9)) > 0:
        whens = [*whens, draw(conditions) if draw(st.integers(0, 19)) == 0 else {}]  # usually a default rule at the end
    rules = [{"name": f"r{i}", "when": when, "action": draw(st.sampled_from(list(ACTIONS)))}
             for i, when in enumerate(whens)]
    return {"actions": ACTIONS, "rules": rules}


@settings(max_examples=150, deadline=None)
@given(playbook_specs())
def test_random_playbook_is_accepted_and_partitions_or_rejected_naming_the_rules(spec):
    rules = [Rule.model_validate(r) for r in spec["rules"]]
    winners = [first_match(rules, cell) for cell in ALL_CELLS]
    fires = set(winners)
    dead = [i for i in range(len(rules)) if i not in fires]
    no_default = bool(rules[-1].when.used())
    if not dead and not no_default:
        book = load_playbook(spec)
        assert isinstance(book, Playbook)
        out = assign_actions(cells_table(ALL_CELLS), book)
        assert out["rule"].astype(str).tolist() == [f"r{i}" for i in winners]
        assert set(out["rule"].astype(str)) == {r.name for r in rules}  # every rule fires somewhere
        return
    with pytest.raises(ConfigError) as info:
        load_playbook(spec)
    text = str(info.value)
    for i in dead:
        rule = rules[i]
        line = next((ln for ln in text.splitlines() if ln.strip().startswith(f"- rules.{i} (r{i})")), None)
        assert line is not None, (i, text)
        same = next((j for j in range(i) if rules[j].when == rule.when), None)
        if same is not None:
            assert f"overlap: exactly the same conditions as rules.{same} (r{same})" in line
        else:
            assert "unreachable" in line
            # the rules named are exactly those that take the cells this rule matches
            takers = sorted({winners[c] for c, cell in enumerate(ALL_CELLS) if matches(rule.when, cell)})
            named = [int(m) for m in re.findall(r"rules\.(\d+) \(", line.split("unreachable", 1)[1])]
            assert named == takers, (line, takers)
    if no_default:
        assert "the last rule must be a default rule" in text
    # no rule that fires is reported as dead
    for i in fires - {None}:
        assert not re.search(rf"- rules\.{i} \(r{i}\)(\.when)?: (unreachable|overlap)", text)
