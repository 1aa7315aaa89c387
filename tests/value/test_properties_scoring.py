"""Invariants of scoring models on random small tables (Hypothesis)."""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.value.scoring import Condition, Indicator, ScoringModel, score

N_MAX = 8
# whole numbers make ties likely; fractions and blanks cover the rest
VALUES = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.just(np.nan),
)
OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}


@st.composite
def tables(draw, min_size: int = 1) -> pd.DataFrame:
    n = draw(st.integers(min_size, N_MAX))
    column = st.lists(VALUES, min_size=n, max_size=n)
    return pd.DataFrame({
        "a": draw(column),
        "b": draw(column),
        "group": draw(st.lists(st.one_of(st.integers(0, 3).map(float), st.just(np.nan)), min_size=n, max_size=n)),
    }, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


@st.composite
def conditions(draw) -> Condition:
    op = draw(st.sampled_from([*OPS, "in", "not_in"]))
    if op in ("in", "not_in"):
        value = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    else:
        value = draw(st.integers(0, 3))
    return Condition(column="group", op=op, value=value)


@st.composite
def models(draw, a_direction: str | None = None) -> ScoringModel:
    def indicator(name: str, direction: str | None = None) -> Indicator:
        return Indicator(
            name=name,
            weight=draw(st.floats(0.01, 100)),
            normalisation=draw(st.sampled_from(["percentile", "minmax", "zscore"])),
            direction=direction or draw(st.sampled_from(["higher_is_better", "lower_is_better"])),
        )

    scope = draw(st.lists(conditions(), max_size=2))
    return ScoringModel(name="m", indicators=[indicator("a", a_direction), indicator("b")], scope=scope)


def expected_scope(table: pd.DataFrame, model: ScoringModel) -> list[bool]:
    """The scope worked out row by row, the slow way."""
    rows = []
    for group in table["group"]:
        holds = True
        for c in model.scope:
            holds = holds and not np.isnan(group)  # a blank never satisfies a condition
            if c.op == "in":
                holds = holds and group in c.value
            elif c.op == "not_in":
                holds = holds and group not in c.value
            else:
                holds = holds and OPS[c.op](group, c.value)
        rows.append(bool(holds))
    return rows


def tier_rank(result: pd.DataFrame, row: str) -> int:
    return int(result["tier"].cat.codes[row])


@settings(max_examples=200, deadline=None)
@given(tables(), models())
def test_scores_are_within_0_and_100_and_tiers_follow_the_cut_offs(table, model):
    result = score(table, model)
    scope = np.array(expected_scope(table, model))
    scored = result["score"][scope]
    assert scored.notna().all(), "a customer in scope got no score"
    assert ((scored >= 0) & (scored <= 100)).all()
    for indicator in model.indicators:
        part = result[f"{indicator.name}_score"][scope]
        assert part.notna().all() and ((part >= 0) & (part <= 1)).all()
    for key, value in scored.items():
        expected = next(t.key for t in model.tiers if value >= t.min_score)
        assert result.at[key, "tier"] == expected


@settings(max_examples=200, deadline=None)
@given(tables(), models())
def test_customers_out_of_scope_never_get_a_score(table, model):
    result = score(table, model)
    out = ~np.array(expected_scope(table, model))
    assert result["score"].isna().to_numpy().tolist() == out.tolist()
    assert result["tier"].isna().to_numpy().tolist() == out.tolist()
    for indicator in model.indicators:
        assert result[f"{indicator.name}_score"][out].isna().all()


@settings(max_examples=300, deadline=None)
@given(tables(), models(a_direction="higher_is_better"), st.data())
def test_raising_a_higher_is_better_value_never_lowers_score_or_tier(table, model, data):
    before = score(table, model)
    in_scope = before.index[before["score"].notna()]
    known = [row for row in in_scope if not np.isnan(table.at[row, "a"])]
    if not known:
        return
    row = data.draw(st.sampled_from(known))
    raised = table.copy()
    raised.at[row, "a"] = data.draw(st.floats(table.at[row, "a"], 2e6, allow_nan=False))
    after = score(raised, model)
    assert after.at[row, "score"] >= before.at[row, "score"]
    assert tier_rank(after, row) >= tier_rank(before, row)


@settings(max_examples=200, deadline=None)
@given(tables(min_size=2), models(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_row_order(table, model, random):
    order = list(range(len(table)))
    random.shuffle(order)
    shuffled = table.iloc[order]
    pd.testing.assert_frame_equal(score(shuffled, model).loc[table.index], score(table, model))
