"""Base-health invariants over many random bases (Hypothesis).

Each metric is checked against a plain-Python reference computed customer by customer from
the module documentation, and against invariants that hold whatever the data: retained
customers never outnumber the active ones, rates lie in [0, 1], churn is 1 − retention,
cohorts start at 100 % and add up to the customer base; inter-purchase time ignores row
order, scales with the days and reads the same from a BTYD summary in any unit; referral
trees are the trees of a random forest (depth = longest chain) whatever the duplicates and
loops; NPS lies in [−100, 100] and segments partition the answers.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.data.timeunit import TimeUnit
from cvm.value.health import inter_purchase_time, referral_stats, retention, satisfaction

PERIODS = ("day", "week", "month", "quarter", "year")


def period_start(period: str, number: int) -> pd.Timestamp:
    """The first day of the period ``number`` periods after the one starting 2024-01-01 (a Monday)."""
    return _advance(pd.Timestamp("2024-01-01"), period, number)


def _advance(day: pd.Timestamp, period: str, number: int) -> pd.Timestamp:
    return day + {"day": pd.DateOffset(days=number), "week": pd.DateOffset(days=7 * number),
                  "month": pd.DateOffset(months=number), "quarter": pd.DateOffset(months=3 * number),
                  "year": pd.DateOffset(years=number)}[period]


# --------------------------------------------------------------------------------------------
# retention


@st.composite
def panels(draw):
    period = draw(st.sampled_from(PERIODS))
    shift = draw(st.integers(min_value=-30, max_value=30))
    rows = draw(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 7), st.integers(0, 3)), max_size=40))
    ids = draw(st.sampled_from(["text", "int"]))
    panel = pd.DataFrame({
        "customer_id": [f"k{c}" if ids == "text" else c for c, _, _ in rows],
        "period_start": pd.to_datetime([period_start(period, shift + p) for _, p, _ in rows]),
        "orders": [o for _, _, o in rows],
    })
    return period, panel


def retention_reference(panel: pd.DataFrame, period: str):
    """Per period and per cohort, from sets of active customers."""
    starts = sorted(set(panel["period_start"]))
    if not starts:
        return [], []
    first, last = starts[0], starts[-1]
    timeline = []
    number = 0
    while True:
        day = _advance(first, period, number)
        if day > last:
            break
        timeline.append(day)
        number += 1
    orders = defaultdict(float)
    for cid, start, n in panel.itertuples(index=False):
        orders[(cid, start)] += n
    active = [{c for (c, s), n in orders.items() if s == day and n > 0} for day in timeline]
    first_active = {}
    for t, members in enumerate(active):
        for c in members:
            first_active.setdefault(c, t)
    by_period = []
    for t, members in enumerate(active):
        previous = active[t - 1] if t else set()
        retained = len(members & previous)
        rate = retained / len(previous) if t and previous else math.nan
        by_period.append({
            "period_start": timeline[t], "active_customers": len(members),
            "new_customers": sum(first_active[c] == t for c in members),
            "repeat_customers": sum(first_active[c] < t or orders[(c, timeline[t])] >= 2 for c in members),
            "previous_active_customers": len(previous), "retained_customers": retained,
            "retention_rate": rate,
        })
    cohorts = []
    for t0 in range(len(timeline)):
        members = {c for c, t in first_active.items() if t == t0}
        if not members:
            continue
        for k in range(len(timeline) - t0):
            cohorts.append({"cohort_start": timeline[t0], "periods_since": k, "period_start": timeline[t0 + k],
                            "cohort_customers": len(members), "active_customers": len(members & active[t0 + k])})
    return by_period, cohorts


@settings(max_examples=100, deadline=None)
@given(panels())
def test_retention_matches_the_set_reference(case):
    period, panel = case
    tables = retention(panel, period)
    by_period, cohorts = retention_reference(panel, period)
    got = tables.by_period
    assert len(got) == len(by_period)
    if by_period:
        want = pd.DataFrame(by_period)
        assert got["period_start"].tolist() == want["period_start"].tolist()
        for column in ("active_customers", "new_customers", "repeat_customers", "previous_active_customers",
                       "retained_customers"):
            assert got[column].tolist() == want[column].tolist(), column
        np.testing.assert_allclose(got["retention_rate"].to_numpy(float), want["retention_rate"].to_numpy(float))
    got = tables.cohorts
    assert len(got) == len(cohorts)
    if cohorts:
        want = pd.DataFrame(cohorts)
        for column in want.columns:
            assert got[column].tolist() == want[column].tolist(), column


@settings(max_examples=100, deadline=None)
@given(panels())
def test_retention_invariants(case):
    period, panel = case
    tables = retention(panel, period)
    table, cohorts = tables.by_period, tables.cohorts
    active = table["active_customers"].to_numpy()
    assert (table["retained_customers"] <= table["previous_active_customers"]).all()
    assert (table["retained_customers"] <= table["active_customers"]).all()
    assert (table["new_customers"] <= table["active_customers"]).all()
    # everyone active is new or bought before, so a repurchase: new + repeat >= active
    assert (table["repeat_customers"] <= active).all()
    assert (table["new_customers"] + table["repeat_customers"] >= active).all()
    assert table["previous_active_customers"].tolist() == ([0, *active[:-1].tolist()] if len(table) else [])
    for column in ("repurchase_rate", "retention_rate", "churn_rate"):
        values = table[column].to_numpy(float)
        assert ((values[~np.isnan(values)] >= 0) & (values[~np.isnan(values)] <= 1)).all(), column
    np.testing.assert_allclose(table["churn_rate"].to_numpy(float), 1 - table["retention_rate"].to_numpy(float))
    if len(table):
        assert np.isnan(table["retention_rate"].iloc[0])
    buyers = panel.loc[panel["orders"] > 0, "customer_id"].nunique()
    assert table["new_customers"].sum() == buyers
    # cohorts: first column 100 %, sizes add up to the buyers, and per period they add up to the active
    start = cohorts[cohorts["periods_since"] == 0]
    assert (start["share_active"] == 1.0).all()
    assert (start["active_customers"] == start["cohort_customers"]).all()
    assert start["cohort_customers"].sum() == buyers
    assert start["cohort_customers"].tolist() == table.loc[table["new_customers"] > 0, "new_customers"].tolist()
    per_period = cohorts.groupby("period_start")["active_customers"].sum()
    assert per_period.reindex(table["period_start"], fill_value=0).tolist() == active.tolist()
    assert ((cohorts["share_active"] >= 0) & (cohorts["share_active"] <= 1)).all()


@settings(max_examples=60, deadline=None)
@given(panels(), st.randoms(use_true_random=False))
def test_retention_ignores_row_order(case, random):
    period, panel = case
    order = list(range(len(panel)))
    random.shuffle(order)
    one, two = retention(panel, period), retention(panel.iloc[order], period)
    pd.testing.assert_frame_equal(one.by_period, two.by_period)
    pd.testing.assert_frame_equal(one.cohorts, two.cohorts)


# --------------------------------------------------------------------------------------------
# inter-purchase time


@st.composite
def purchase_summaries(draw):
    n = draw(st.integers(min_value=0, max_value=30))
    purchases = draw(st.lists(st.integers(1, 20), min_size=n, max_size=n))
    extra = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
    # n purchase days span at least n - 1 days; one purchase day spans none
    tenure = [0 if p == 1 else p - 1 + e for p, e in zip(purchases, extra, strict=True)]
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "tenure_days": tenure,
                         "purchase_days": purchases})


def _close(a, b, rtol=1e-9):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol)


@settings(max_examples=80, deadline=None)
@given(purchase_summaries(), st.randoms(use_true_random=False))
def test_inter_purchase_time_ignores_row_order(customers, random):
    order = list(range(len(customers)))
    random.shuffle(order)
    one, two = inter_purchase_time(customers), inter_purchase_time(customers.iloc[order])
    _close(one.base.to_numpy(float), two.base.to_numpy(float), rtol=1e-12)
    pd.testing.assert_frame_equal(one.customers.iloc[order].reset_index(drop=True), two.customers)


@settings(max_examples=100, deadline=None)
@given(purchase_summaries(), st.integers(min_value=2, max_value=9))
def test_inter_purchase_time_scales_with_the_days_and_stays_between_the_customers(customers, factor):
    result = inter_purchase_time(customers)
    scaled = inter_purchase_time(customers.assign(tenure_days=customers["tenure_days"] * factor))
    for column in ("mean_days", "median_days", "pooled_days"):
        _close(scaled.base[column], result.base[column] * factor)
    means = result.customers["mean_days_between_purchases"].to_numpy(float)
    gaps = customers["purchase_days"].to_numpy() - 1
    assert result.base["customers"].iloc[0] == len(customers)
    assert result.base["repeat_customers"].iloc[0] == int((gaps > 0).sum())
    assert np.isnan(means[gaps == 0]).all()
    _close(means[gaps > 0], customers["tenure_days"].to_numpy()[gaps > 0] / gaps[gaps > 0])
    if (gaps > 0).any():
        low, high = means[gaps > 0].min(), means[gaps > 0].max()
        for column in ("mean_days", "median_days", "pooled_days"):
            assert low - 1e-9 <= result.base[column].iloc[0] <= high + 1e-9, column


@settings(max_examples=100, deadline=None)
@given(purchase_summaries(), st.sampled_from(PERIODS))
def test_btyd_summary_in_any_unit_gives_the_same_days(customers, unit):
    """frequency = purchase days - 1 and recency = tenure in units: the same days come back."""
    btyd = pd.DataFrame({"customer_id": customers["customer_id"],
                         "frequency": customers["purchase_days"] - 1,
                         "recency": customers["tenure_days"] / TimeUnit(unit).days})
    direct, via = inter_purchase_time(customers), inter_purchase_time(btyd, unit)
    _close(via.customers["tenure_days"], customers["tenure_days"], rtol=1e-12)
    _close(via.customers["mean_days_between_purchases"], direct.customers["mean_days_between_purchases"], rtol=1e-12)
    _close(via.base.to_numpy(float), direct.base.to_numpy(float), rtol=1e-12)


# --------------------------------------------------------------------------------------------
# referrals

NODE = st.integers(min_value=0, max_value=14).map(lambda i: f"n{i:02d}")  # text order = number order


@st.composite
def forests(draw):
    """A random forest: each customer is referred by one earlier customer or by nobody."""
    n = draw(st.integers(min_value=1, max_value=25))
    labels = draw(st.permutations([f"n{i:02d}" for i in range(n)]))
    parent = {}
    for i in range(1, n):
        j = draw(st.integers(min_value=-1, max_value=i - 1))
        if j >= 0:
            parent[labels[i]] = labels[j]
    return labels, parent


def depth_of(node: str, parent: dict) -> int:
    steps = 0
    while node in parent:
        node, steps = parent[node], steps + 1
    return steps


@settings(max_examples=100, deadline=None)
@given(forests(), st.data())
def test_referral_trees_of_a_random_forest(forest, data):
    labels, parent = forest
    rows = list(parent.items())
    referrals = pd.DataFrame({"referrer_id": [p for _, p in rows], "referred_id": [c for c, _ in rows]})
    referrals = referrals.sample(frac=1.0, random_state=data.draw(st.integers(0, 2**16)))
    base = pd.DataFrame({"customer_id": data.draw(st.lists(st.sampled_from(labels), unique=True))})
    stats = referral_stats(referrals, base)
    summary = stats.summary.iloc[0]

    roots = sorted({p for p in parent.values() if p not in parent})
    root_of = {}
    for node in {*parent, *parent.values()}:
        top = node
        while top in parent:
            top = parent[top]
        root_of[node] = top
    sizes = {r: sum(1 for v in root_of.values() if v == r) for r in roots}
    depths = {r: max(depth_of(v, parent) for v, top in root_of.items() if top == r) for r in roots}
    assert stats.trees["root_id"].tolist() == roots
    assert stats.trees["tree_customers"].tolist() == [sizes[r] for r in roots]
    assert stats.trees["depth"].tolist() == [depths[r] for r in roots]
    assert summary["max_depth"] == max((depth_of(v, parent) for v in parent), default=0)
    assert summary["trees"] == len(roots)
    # every referred customer is in exactly one tree, beside its root
    assert stats.trees["tree_customers"].sum() == len(parent) + len(roots)
    assert summary["referrals"] == len(rows) and summary["duplicate_referrals"] == 0
    assert summary["cycles"] == 0 and len(stats.cycles) == 0
    members = set(base["customer_id"])
    assert summary["customers"] == len(members)
    assert summary["referrers"] == len(members & set(parent.values()))
    assert summary["referred_customers"] == len(members & set(parent))
    if members:
        assert summary["referral_rate"] == len(members & set(parent.values())) / len(members)


@st.composite
def referral_tables(draw):
    """Any referral rows among 15 customers: repeats, same-day ties, undated rows, loops.

    Ids are text, or whole numbers from 5 to 19, whose text order (10 < 5) is not their order.
    """
    node = NODE if draw(st.booleans()) else st.integers(min_value=5, max_value=19)
    rows = draw(st.lists(st.tuples(node, node, st.one_of(st.none(), st.integers(0, 3))), max_size=30))
    return pd.DataFrame({
        "referrer_id": [a for a, _, _ in rows], "referred_id": [b for _, b, _ in rows],
        "date": pd.to_datetime([None if d is None else pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)
                                for _, _, d in rows]),
    })


def referral_reference(referrals: pd.DataFrame):
    """Keep each customer's earliest referral (undated last, then smallest referrer), walk up the pointers."""
    best = {}
    for referrer, referred, date in referrals.itertuples(index=False):
        key = (pd.isna(date), date if not pd.isna(date) else pd.Timestamp(0), referrer)
        if referred not in best or key < best[referred][0]:
            best[referred] = (key, referrer)
    parent = {child: referrer for child, (_, referrer) in best.items()}
    nodes = sorted({*referrals["referrer_id"], *referrals["referred_id"]})
    trees, looped = defaultdict(list), {}
    for node in nodes:
        path, current = [], node
        while current in parent and current not in path:
            path.append(current)
            current = parent[current]
        if current in parent:  # came back to a node of the path: a loop
            loop = path[path.index(current):]
            looped[node] = (min(loop), node in loop)
        else:
            trees[current].append(len(path))
    roots = sorted(r for r in trees if r in parent.values())
    return parent, roots, {r: (len(trees[r]), max(trees[r])) for r in roots}, looped


@settings(max_examples=120, deadline=None)
@given(referral_tables())
def test_referral_stats_match_the_pointer_walk_reference(referrals):
    base = pd.DataFrame({"customer_id": [f"n{i:02d}" for i in range(15)] + list(range(5, 20))})
    stats = referral_stats(referrals, base)
    parent, roots, trees, looped = referral_reference(referrals)
    summary = stats.summary.iloc[0]
    assert summary["referrers"] == referrals["referrer_id"].nunique()
    assert summary["referred_customers"] == referrals["referred_id"].nunique()
    assert stats.trees["root_id"].tolist() == roots
    assert stats.trees["tree_customers"].tolist() == [trees[r][0] for r in roots]
    assert stats.trees["depth"].tolist() == [trees[r][1] for r in roots]
    assert stats.cycles["customer_id"].tolist() == sorted(looped)
    assert stats.cycles["cycle"].tolist() == [looped[c][0] for c in sorted(looped)]
    assert stats.cycles["on_cycle"].tolist() == [looped[c][1] for c in sorted(looped)]
    assert summary["referrals"] == len(referrals)
    assert summary["duplicate_referrals"] == len(referrals) - len(parent)
    assert summary["cycles"] == len({name for name, _ in looped.values()})
    assert summary["cycle_customers"] == len(looped)
    # the kept referrals are split between the trees and the loops
    assert stats.trees["tree_customers"].sum() - len(roots) + len(looped) == len(parent)


# --------------------------------------------------------------------------------------------
# satisfaction

MEASURES = ("complaint", "satisfaction", "nps")


@st.composite
def surveys(draw, unique_days: bool = False):
    n = draw(st.integers(min_value=0, max_value=30))
    pairs = st.tuples(st.integers(0, 7), st.integers(0, 70))
    keys = draw(st.lists(pairs, min_size=n, max_size=n, unique=unique_days))
    answer = lambda s: st.one_of(st.none(), s)  # noqa: E731
    sat = draw(st.lists(answer(st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0])), min_size=n, max_size=n))
    nps = draw(st.lists(answer(st.integers(0, 10)), min_size=n, max_size=n))
    complaint = draw(st.lists(answer(st.booleans()), min_size=n, max_size=n))
    return pd.DataFrame({
        "customer_id": [f"s{c}" for c, _ in keys],
        "date": pd.to_datetime([pd.Timestamp("2024-01-20") + pd.Timedelta(days=d) for _, d in keys]),
        "satisfaction": pd.array(sat, dtype="Float64"),
        "nps": pd.array(nps, dtype="Int64"),
        "complaint": pd.array(complaint, dtype="boolean"),
    })


def latest(rows: pd.DataFrame) -> dict:
    """customer -> measure -> latest answer (latest date; the later row on the same day)."""
    out = defaultdict(dict)
    records = rows.astype(object).to_dict("records")
    for _, row in sorted(enumerate(records), key=lambda pair: (pair[1]["date"], pair[0])):
        for measure in MEASURES:
            if not pd.isna(row[measure]):
                out[row["customer_id"]][measure] = row[measure]
    return out


def expected_measures(answers: dict) -> dict:
    nps = [a["nps"] for a in answers.values() if "nps" in a]
    complaints = [a["complaint"] for a in answers.values() if "complaint" in a]
    sat = [a["satisfaction"] for a in answers.values() if "satisfaction" in a]
    promoters, detractors = sum(s >= 9 for s in nps), sum(s <= 6 for s in nps)
    return {
        "respondents": sum(1 for a in answers.values() if a),
        "complaint_answers": len(complaints), "complaints": sum(bool(c) for c in complaints),
        "satisfaction_answers": len(sat), "mean_satisfaction": np.mean(sat) if sat else math.nan,
        "nps_answers": len(nps), "promoters": promoters, "passives": sum(7 <= s <= 8 for s in nps),
        "detractors": detractors,
        "nps": 100.0 * (promoters - detractors) / len(nps) if nps else math.nan,
    }


def assert_measures(got: pd.Series, want: dict) -> None:
    for column, value in want.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got[column]), column
        else:
            assert got[column] == (value if isinstance(value, int) else np.float64(value)) or \
                math.isclose(got[column], value, rel_tol=1e-12), (column, got[column], value)


@settings(max_examples=50, deadline=None)
@given(surveys())
def test_satisfaction_base_and_periods_match_the_latest_answers(table):
    tables = satisfaction(table, period="month")
    base = tables.base.iloc[0]
    assert_measures(base, expected_measures(latest(table)))
    assert -100.0 <= base["nps"] <= 100.0 or math.isnan(base["nps"])
    months = table["date"].dt.to_period("M").dt.start_time
    want_periods = []
    for month in sorted(set(months)):
        answers = latest(table[months == month])
        if any(answers.values()):
            want_periods.append((month, expected_measures(answers)))
    got = tables.by_period
    assert got["period_start"].tolist() == [m for m, _ in want_periods]
    for (_, want), (_, row) in zip(want_periods, got.iterrows(), strict=True):
        assert_measures(row, want)


@settings(max_examples=40, deadline=None)
@given(surveys())
def test_satisfaction_shares_and_nps_are_consistent(table):
    tables = satisfaction(table)
    for frame in (tables.base, tables.by_period):
        answers = frame["nps_answers"]
        assert (frame["promoters"] + frame["passives"] + frame["detractors"] == answers).all()
        nps = frame["nps"].to_numpy(float)
        assert (np.isnan(nps) == (answers == 0).to_numpy()).all()
        kept = ~np.isnan(nps)
        assert ((nps[kept] >= -100) & (nps[kept] <= 100)).all()
        np.testing.assert_allclose(nps, 100 * (frame["promoter_share"] - frame["detractor_share"]).to_numpy(float))
        for share in ("promoter_share", "detractor_share", "complaint_rate"):
            values = frame[share].to_numpy(float)
            assert ((values[~np.isnan(values)] >= 0) & (values[~np.isnan(values)] <= 1)).all()
        assert (frame["complaints"] <= frame["complaint_answers"]).all()
        for column in ("complaint_answers", "satisfaction_answers", "nps_answers"):
            assert (frame[column] <= frame["respondents"]).all()


@settings(max_examples=40, deadline=None)
@given(surveys(), st.data())
def test_segments_partition_the_answers(table, data):
    customers = [f"s{i}" for i in range(8)]
    tiers = data.draw(st.lists(st.sampled_from(["gold", "silver", "bronze", None]), min_size=8, max_size=8))
    segments = pd.DataFrame({"customer_id": customers, "tier": tiers, "all": "x"})
    tables = satisfaction(table, segments)
    by = tables.by_segment
    counts = ["respondents", "complaint_answers", "complaints", "satisfaction_answers", "nps_answers",
              "promoters", "passives", "detractors"]
    # a segment every customer has sums to the base
    whole = by[by["segment"] == "all"]
    if tables.base["respondents"].iloc[0]:
        assert len(whole) == 1
        assert whole[counts].iloc[0].tolist() == tables.base[counts].iloc[0].tolist()
    # the tiers split the customers who have a tier
    answers = latest(table)
    tier_of = dict(zip(customers, tiers, strict=True))
    split = by[by["segment"] == "tier"].set_index("segment_value")
    for value in ["bronze", "gold", "silver"]:
        group = {c: a for c, a in answers.items() if tier_of[c] == value}
        if any(group.values()):
            assert_measures(split.loc[value], expected_measures(group))
        else:
            assert value not in split.index  # a value is listed only when someone answered
    with_tier = {c: a for c, a in answers.items() if tier_of[c] is not None}
    assert split["respondents"].sum() == expected_measures(with_tier)["respondents"]
    assert split.index.tolist() == sorted(split.index)


@settings(max_examples=30, deadline=None)
@given(surveys(unique_days=True), st.randoms(use_true_random=False))
def test_satisfaction_ignores_row_order_when_days_do_not_tie(table, random):
    order = list(range(len(table)))
    random.shuffle(order)
    one, two = satisfaction(table), satisfaction(table.iloc[order])
    pd.testing.assert_frame_equal(one.base, two.base)
    pd.testing.assert_frame_equal(one.by_period, two.by_period)


# --------------------------------------------------------------------------------------------
# regressions found by the properties above


def test_retention_of_a_panel_without_any_purchase():
    """Regression: a panel whose rows all have 0 orders crashed (IndexError in add.reduceat)."""
    panel = pd.DataFrame({"customer_id": ["a", "b"], "period_start": pd.to_datetime(["2024-01-01", "2024-03-01"]),
                          "orders": [0, 0]})
    tables = retention(panel, "month")
    assert tables.by_period["active_customers"].tolist() == [0, 0, 0]
    assert tables.by_period["retention_rate"].isna().all()
    assert len(tables.cohorts) == 0


def test_periods_and_segments_with_only_empty_answers_are_not_listed():
    """Regression: a period (or segment value) whose survey rows answer nothing was listed with 0 respondents."""
    surveys = pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2024-01-10", "2024-02-10"]),
                            "nps": pd.array([9, None], dtype="Int64")})
    tables = satisfaction(surveys, pd.DataFrame({"customer_id": ["a", "b"], "tier": ["gold", "silver"]}))
    assert tables.by_period["period_start"].dt.strftime("%Y-%m").tolist() == ["2024-01"]
    assert tables.by_segment["segment_value"].tolist() == ["gold"]


def test_whole_number_referral_ids_keep_their_order_and_type():
    """Regression: ids were compared and returned as text, so 10 beat 9 on a same-day tie and came back as '10'."""
    referrals = pd.DataFrame({"referrer_id": [10, 9, 2], "referred_id": [1, 1, 3],
                              "date": pd.to_datetime(["2024-01-01"] * 3)})
    stats = referral_stats(referrals, pd.DataFrame({"customer_id": [1, 2, 3, 9, 10]}))
    assert stats.trees["root_id"].tolist() == [2, 9]
    assert [type(v) for v in stats.trees["root_id"]] == [int, int]
    assert stats.summary["duplicate_referrals"].iloc[0] == 1
