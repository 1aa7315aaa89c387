"""The fast lifecycle code gives exactly what the first, plain implementation gave.

The reference functions below are the implementation before the speed work (dense customers ×
periods matrices built with ``np.unique`` of the ids as text, ``sort_values`` + ``groupby`` +
``shift`` for the transitions, ``pd.crosstab`` for the distribution, one string join per warned
customer), kept verbatim as the slow route. Both routes run on the synthetic retail business
(``cvm.datasets.generate_retail``), on constructed histories, on shuffled panels with integer
ids, gaps and rows before the first purchase, and on random panels (Hypothesis); stages,
reasons, the numbers behind them, transitions, distributions and warnings must be equal.
The only intended difference: ``history.customer_id`` is now a categorical of the same strings.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cvm.data.summaries as summaries
import cvm.value.lifecycle as L
from cvm.datasets.generator import generate_retail
from cvm.labels import label

from .test_correctness_lifecycle import panel as constructed_panel
from .test_correctness_lifecycle import warning_table


# -- the reference: the implementation before the speed work -----------------------------------

def _reference_matrix(panel: pd.DataFrame, column: str, rows: np.ndarray, cols: np.ndarray,
                      shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape)
    out[rows, cols] = pd.to_numeric(panel[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return out



def reference_lifecycle_stages(
    panel: pd.DataFrame,
    settings: L.LifecycleSettings | None = None,
    *,
    p_alive: Any = None,
    p_alive_previous: Any = None,
    min_drop: float = 0.05,
    prospects: Any = None,
) -> L.Lifecycle:
    """The implementation before the speed work (kept verbatim as the reference)."""
    settings = settings or L.LifecycleSettings()
    for column in ("customer_id", "period_start", "orders", "revenue"):
        if column not in panel.columns:
            raise L.MissingColumnError(
                f"lifecycle: the period panel has no column {column!r}",
                hint="pass cvm.data.summaries.period_panel(..., dense=True)",
            )
    customers, rows = np.unique(panel["customer_id"].astype(str).to_numpy(), return_inverse=True)
    starts = pd.to_datetime(panel["period_start"]).to_numpy()
    periods, cols = np.unique(starts, return_inverse=True)
    shape = (customers.size, periods.size)
    orders = _reference_matrix(panel, "orders", rows, cols, shape)
    revenue = _reference_matrix(panel, "revenue", rows, cols, shape)
    if np.any(orders < 0):
        raise L.InvalidDataError("lifecycle: column 'orders' must be >= 0")
    present = np.zeros(shape, dtype=bool)
    present[rows, cols] = True

    active = orders > 0
    # the first period of each customer, and their age in periods at every period
    any_active = active.any(axis=1)
    first = np.where(any_active, active.argmax(axis=1), shape[1])
    t = np.arange(shape[1])
    age = t[None, :] - first[:, None]  # 0 in the first period, negative before it
    purchases = np.cumsum(orders, axis=1)
    # periods since the last purchase (0 in a period with one)
    last_active = np.where(active, t[None, :], -1)
    last_active = np.maximum.accumulate(last_active, axis=1)
    gap = np.where(last_active >= 0, t[None, :] - last_active, 10**9)
    # length of the quiet spell that ended with this period's purchase
    previous_last = np.concatenate([np.full((shape[0], 1), -1), last_active[:, :-1]], axis=1)
    spell = np.where(active & (previous_last >= 0), t[None, :] - previous_last - 1, 0)

    # recent and baseline mean revenue from cumulative sums
    cumulative = np.concatenate([np.zeros((shape[0], 1)), np.cumsum(revenue, axis=1)], axis=1)
    k, b = settings.trend_periods, settings.baseline_periods
    end = t + 1
    recent = (cumulative[:, end] - cumulative[:, np.maximum(end - k, 0)]) / np.minimum(end, k)[None, :]
    base_end = np.maximum(end - k, 0)
    base_len = np.minimum(base_end, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        baseline = np.where(base_len > 0, (cumulative[:, base_end] - cumulative[:, base_end - base_len])
                            / np.maximum(base_len, 1)[None, :], np.nan)
        ratio = np.where(baseline > 0, recent / baseline, np.nan)

    churned = gap >= settings.churn_gap_periods
    # a return after churn or a quiet spell, and the periods that follow it
    returned = active & (spell >= settings.quiet_periods)
    return_period = np.where(returned, t[None, :], -1)
    return_period = np.maximum.accumulate(return_period, axis=1)
    recovered = (return_period >= 0) & (t[None, :] - return_period < settings.recovered_periods) & ~churned
    exploration = (age < settings.exploration_periods) | (purchases <= settings.exploration_purchases)
    quiet = gap >= settings.decline_gap_periods
    falling = ratio < settings.decline_ratio
    formation = ratio >= settings.growth_ratio

    conditions = [churned, recovered, quiet, exploration, falling, formation]
    keys = ["churned", "recovered", "decline", "exploration", "decline", "formation"]
    stage_codes = np.select(conditions, [L.STAGES.index(k) for k in keys], default=L.STAGES.index("stable"))
    reason_codes = np.select(conditions, list(range(len(keys))), default=len(keys))
    valid = present & (age >= 0)

    # the current stage (last period) refined by the model's P(alive)
    current_code = stage_codes[:, -1].copy()
    current_reason = np.array(L.REASONS, dtype=object)[reason_codes[:, -1]]
    if p_alive is not None:
        alive = pd.Series(p_alive).reindex(customers.astype(object)).to_numpy(dtype=float)
        dead = alive < settings.churn_p_alive
        current_reason = np.where(dead & (current_code != L.STAGES.index("churned")), "p_alive_low", current_reason)
        current_code = np.where(dead, L.STAGES.index("churned"), current_code)
        if p_alive_previous is not None:
            before = pd.Series(p_alive_previous).reindex(customers.astype(object)).to_numpy(dtype=float)
            falling = (before - alive >= min_drop) & np.isin(
                current_code, [L.STAGES.index("stable"), L.STAGES.index("formation")])
            current_reason = np.where(falling, "p_alive_falling", current_reason)
            current_code = np.where(falling, L.STAGES.index("decline"), current_code)

    history = pd.DataFrame({
        "customer_id": np.repeat(customers, shape[1])[valid.reshape(-1)],
        "period_start": np.tile(periods, shape[0])[valid.reshape(-1)],
        "stage": pd.Categorical.from_codes(stage_codes[valid], categories=list(L.STAGES)),
        "reason": pd.Categorical.from_codes(reason_codes[valid], categories=list(L.REASONS)),
        "recent_revenue": recent[valid],
        "baseline_revenue": baseline[valid],
        "periods_since_purchase": np.where(gap[valid] >= 10**9, -1, gap[valid]),
    })
    current = pd.DataFrame({
        "customer_id": customers,
        "lifecycle_stage": pd.Categorical.from_codes(current_code, categories=list(L.STAGES)),
        "lifecycle_reason": current_reason,
    })
    if prospects is not None:
        known = pd.Index(pd.Series(prospects, dtype=str)).difference(pd.Index(customers))
        if len(known):
            current = pd.concat([current, pd.DataFrame({
                "customer_id": known.to_numpy(),
                "lifecycle_stage": pd.Categorical(["prospect"] * len(known), categories=list(L.STAGES)),
                "lifecycle_reason": "no_purchase_yet",
            })], ignore_index=True)
    for frame, column in ((history, "stage"), (current, "lifecycle_stage")):
        for lang in ("en", "zh"):
            names = [L.label(f"lifecycle.{key}", lang) for key in L.STAGES]
            frame[f"{column}_{lang}"] = pd.Categorical.from_codes(frame[column].cat.codes, categories=names)
    return L.Lifecycle(history=history, current=current, periods=[pd.Timestamp(p) for p in periods])



def reference_transitions(history: pd.DataFrame) -> pd.DataFrame:
    """The implementation before the speed work (kept verbatim as the reference)."""
    h = history.sort_values(["customer_id", "period_start"])
    previous = h.groupby("customer_id", sort=False)["stage"].shift(1)
    frame = pd.DataFrame({
        "period_start": h["period_start"].to_numpy(),
        "from_stage": previous.astype(object).where(previous.notna(), "(new)").to_numpy(),
        "to_stage": h["stage"].astype(object).to_numpy(),
    })
    return (frame.groupby(["period_start", "from_stage", "to_stage"], sort=True).size()
            .rename("customers").reset_index())



def reference_stage_distribution(history: pd.DataFrame) -> pd.DataFrame:
    """The implementation before the speed work (kept verbatim as the reference)."""
    stage = history["stage"] if isinstance(history["stage"].dtype, pd.CategoricalDtype) \
        else pd.Categorical(history["stage"], categories=list(L.STAGES))
    return pd.crosstab(history["period_start"], stage).reindex(columns=list(L.STAGES), fill_value=0)



def reference_signs(table: pd.DataFrame, warned: pd.DataFrame) -> list[str]:
    """The signs of each warned customer joined one customer at a time, as before."""
    names = np.array(L.WARNING_SIGNS, dtype=object)
    fired = np.stack([warned["signs"].str.contains(k, regex=False).to_numpy() for k in L.WARNING_SIGNS], axis=1)
    return [", ".join(names[fired[i]]) for i in range(len(warned))]


# -- the comparisons -------------------------------------------------------------------------------

def assert_same(panel: Any, **kwargs: Any) -> L.Lifecycle:
    """Both routes on ``panel``; the fast result is returned."""
    expected = reference_lifecycle_stages(panel.to_pandas() if isinstance(panel, pa.Table) else panel, **kwargs)
    got = L.lifecycle_stages(panel, **kwargs)
    assert isinstance(got.history["customer_id"].dtype, pd.CategoricalDtype)
    history = got.history.assign(customer_id=got.history["customer_id"].astype(expected.history["customer_id"].dtype))
    pd.testing.assert_frame_equal(history, expected.history)
    pd.testing.assert_frame_equal(got.current, expected.current)
    assert got.periods == expected.periods
    shuffled = got.history.sample(frac=1, random_state=0)  # transitions sort it themselves
    for frame in (got.history, expected.history, shuffled):
        pd.testing.assert_frame_equal(L.transitions(frame), reference_transitions(expected.history))
        pd.testing.assert_frame_equal(L.stage_distribution(frame), reference_stage_distribution(expected.history))
    return got


@pytest.fixture(scope="module")
def retail_panel() -> pa.Table:
    data = generate_retail(1500, seed=5)
    log = data.transactions[["customer_id", "date", "amount"]].assign(
        date=pd.to_datetime(data.transactions["date"]).dt.date)
    table = ibis.memtable(log).mutate(date=ibis._.date.cast("date"))
    return summaries.period_panel(table, observation_end="2024-12-31", dense=True).to_pyarrow()


def test_retail_business_same_stages_reasons_and_numbers(retail_panel):
    ids = pd.unique(retail_panel.column("customer_id").to_pandas())
    rng = np.random.default_rng(7)
    p_alive = pd.Series(rng.random(ids.size), index=ids)
    before = pd.Series(np.clip(p_alive.to_numpy() + rng.normal(0, 0.1, ids.size), 0, 1), index=ids)
    got = assert_same(retail_panel.to_pandas(), p_alive=p_alive, p_alive_previous=before,
                      prospects=["never-bought", ids[0]])
    # every rule fires somewhere, so every branch is compared
    assert set(got.history["reason"].astype(str)) == set(L.REASONS)
    assert {"p_alive_low", "p_alive_falling", "no_purchase_yet"} <= set(got.current["lifecycle_reason"])


def test_a_pyarrow_table_gives_what_its_pandas_frame_gives(retail_panel):
    assert_same(retail_panel)
    assert_same(retail_panel.select(["customer_id", "period_start", "orders", "revenue"]))


def test_constructed_histories_shuffled_with_integer_ids():
    panel = constructed_panel()
    assert_same(panel)
    shuffled = panel.sample(frac=1, random_state=4).reset_index(drop=True)
    assert_same(shuffled)
    numbered = shuffled.assign(customer_id=shuffled["customer_id"].map(
        {"grower": 10, "steady": 9, "decliner": 100, "churner": 11, "returner": 2}))
    got = assert_same(numbered)  # ids compared as text: "10" < "100" < "11" < "2" < "9"
    assert got.current["customer_id"].tolist() == ["10", "100", "11", "2", "9"]


def test_gaps_zero_rows_before_the_first_purchase_and_non_monthly_periods():
    rng = np.random.default_rng(11)
    n, periods = 400, pd.date_range("2021-01-04", periods=15, freq="W-MON")
    rows = pd.DataFrame({
        "customer_id": np.repeat([f"c{i}" for i in range(n)], periods.size),
        "period_start": np.tile(periods.to_numpy(), n),
        "orders": rng.poisson(0.5, n * periods.size),
    })
    rows["revenue"] = np.round(rows["orders"] * rng.gamma(2.0, 15.0, len(rows)), 2)
    rows = rows[rng.random(len(rows)) < 0.85]  # holes: not every customer has every period
    assert_same(rows.sample(frac=1, random_state=1))
    # an orders column of text: anything not a number counts as 0, as before
    assert_same(rows.assign(orders=rows["orders"].astype(str).replace("0", "none")))


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_random_panels(data):
    n = data.draw(st.integers(1, 12))
    n_periods = data.draw(st.integers(1, 14))
    cells = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n_periods - 1),
                                         st.integers(0, 3), st.sampled_from([0.0, 5.0, 20.0, 50.0, 120.0])),
                               min_size=1, max_size=n * n_periods, unique_by=lambda c: (c[0], c[1])))
    customer, period, orders, revenue = map(list, zip(*cells, strict=True))
    panel = pd.DataFrame({
        "customer_id": [f"k{c}" for c in customer],
        "period_start": pd.date_range("2023-01-01", periods=n_periods, freq="MS")[period],
        "orders": orders, "revenue": revenue,
    })
    config = L.LifecycleSettings(
        trend_periods=data.draw(st.integers(1, 4)), baseline_periods=data.draw(st.integers(1, 6)),
        quiet_periods=data.draw(st.integers(1, 4)), recovered_periods=data.draw(st.integers(1, 3)))
    assert_same(panel, settings=config)


def test_early_warning_lists_the_same_signs():
    rng = np.random.default_rng(2)
    table = pd.concat([warning_table()] * 40, ignore_index=True)
    table["customer_id"] = [f"c{i}" for i in range(len(table))]
    table["days_since_last_purchase"] = rng.integers(0, 400, len(table))
    table["p_alive_previous"] = np.clip(table["p_alive"] + rng.choice([0.0, 0.1], len(table)), 0, 1)
    table["revenue_hist_3"] = rng.choice([0.0, 40.0, 100.0], len(table))
    warned = L.early_warning(table)
    assert len(set(warned["signs"])) >= 4
    assert warned["signs"].tolist() == reference_signs(table, warned)
    for lang, sep in (("en", "; "), ("zh", "；")):
        assert warned[f"signs_{lang}"].tolist() == [
            sep.join(label(f"warning.{k}", lang) for k in s.split(", ")) for s in warned["signs"]]
    assert (warned["n_signs"] == warned["signs"].str.count(", ") + 1).all()
