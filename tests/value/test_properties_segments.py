"""Segmentation invariants over many bases (Hypothesis).

Every segmentation is a partition (each customer in exactly one category); raising one
customer's value never lowers their value-matrix side or their pyramid tier; the order of the
rows does not matter; the Gini coefficient lies in [0, 1] and the Lorenz curve never falls.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.value import segments as seg

# values from a small set tie often; the floats cover everything else
value = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 5.0, -1.0]), st.floats(min_value=-1e6, max_value=1e6))
values = st.lists(value, min_size=1, max_size=60).map(np.array)
non_negative = st.lists(
    st.one_of(st.sampled_from([0.0, 1.0, 3.0]), st.floats(min_value=0, max_value=1e9)), min_size=1, max_size=80
).map(np.array)
split_settings = st.one_of(
    st.builds(lambda s: {"method": "top_share", "share": s}, st.floats(min_value=0.001, max_value=1.0)),
    st.just({"method": "median"}),
    st.builds(lambda t: {"method": "threshold", "threshold": t}, st.floats(min_value=-10, max_value=10)),
)
splits = split_settings.map(seg.AxisSplit.model_validate)


@st.composite
def pyramids(draw):
    weights = draw(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=6))
    total = sum(weights)
    tiers = [{"key": f"t{i}", "share": w / total, "en": f"T{i}", "zh": f"层{i}"} for i, w in enumerate(weights)]
    return seg.PyramidSettings(tiers=tiers)


pyramid_settings = st.one_of(st.just(seg.PyramidSettings()), pyramids())


@st.composite
def raised(draw, base):
    """A base, a customer and the same base with that customer's value raised."""
    before = draw(base)
    i = draw(st.integers(min_value=0, max_value=before.size - 1))
    after = before.copy()
    after[i] = before[i] + draw(st.floats(min_value=1e-6, max_value=1e6))
    return before, after, i


def _is_partition(categorical: pd.Categorical, n: int, keys) -> None:
    assert len(categorical) == n
    assert list(categorical.categories) == list(keys)
    assert not pd.isna(categorical).any()
    assert int(categorical.value_counts().sum()) == n


# --------------------------------------------------------------------------------------------
# value matrix


@settings(max_examples=200, deadline=None)
@given(values, st.data(), splits, splits)
def test_value_matrix_is_a_partition(current, data, split_current, split_potential):
    potential = data.draw(st.lists(value, min_size=current.size, max_size=current.size).map(np.array))
    config = seg.ValueMatrixSettings(current=split_current, potential=split_potential)
    _is_partition(seg.value_matrix(current, potential, config), current.size, seg.VALUE_MATRIX_CELLS)


HIGH_CURRENT = {"strategic", "profit"}
HIGH_POTENTIAL = {"strategic", "potential"}


@settings(max_examples=300, deadline=None)
@given(raised(values), splits)
def test_raising_current_value_never_moves_a_customer_to_low(case, split):
    before, after, i = case
    other = np.zeros(before.size)
    config = seg.ValueMatrixSettings(current=split)
    was = seg.value_matrix(before, other, config)[i] in HIGH_CURRENT
    now = seg.value_matrix(after, other, config)[i] in HIGH_CURRENT
    assert now or not was


@settings(max_examples=300, deadline=None)
@given(raised(values), splits)
def test_raising_potential_value_never_moves_a_customer_to_low(case, split):
    before, after, i = case
    other = np.ones(before.size)
    config = seg.ValueMatrixSettings(potential=split)
    was = seg.value_matrix(other, before, config)[i] in HIGH_POTENTIAL
    now = seg.value_matrix(other, after, config)[i] in HIGH_POTENTIAL
    assert now or not was


@settings(max_examples=200, deadline=None)
@given(values, st.floats(min_value=0.001, max_value=1.0))
def test_top_share_holds_at_least_k_customers_unless_values_run_out(current, share):
    high = seg.value_matrix(current, np.zeros(current.size),
                            seg.ValueMatrixSettings(current=seg.AxisSplit(share=share))) == "profit"
    k = math.ceil(round(share * current.size, 6))
    assert high.sum() >= min(k, int((current > 0).sum()))
    if np.unique(current).size == current.size:  # no ties: exactly the top k positive values
        assert high.sum() == min(k, int((current > 0).sum()))


# --------------------------------------------------------------------------------------------
# pyramid


@settings(max_examples=300, deadline=None)
@given(values, pyramid_settings)
def test_pyramid_is_a_partition_and_its_table_adds_up(base, config):
    tiers = seg.pyramid(base, config)
    keys = [t.key for t in config.tiers]
    _is_partition(tiers, base.size, keys)
    table = seg.pyramid_table(base, tiers, realized=base / 2, potential=base / 4, influence=base / 4)
    assert table["customers"].sum() == base.size
    assert math.isclose(table["customer_share"].sum(), 1.0)
    assert math.isclose(table["value"].sum(), base.sum(), rel_tol=1e-9, abs_tol=1e-6)
    composition = table[["realized", "potential", "influence"]].sum(axis=1)
    np.testing.assert_allclose(composition, table["value"], rtol=1e-9, atol=1e-6)


@settings(max_examples=300, deadline=None)
@given(raised(values), pyramid_settings)
def test_raising_a_value_never_lowers_the_pyramid_tier(case, config):
    before, after, i = case
    tier_before = seg.pyramid(before, config).codes[i]
    tier_after = seg.pyramid(after, config).codes[i]
    assert tier_after <= tier_before            # code 0 is the top tier


@settings(max_examples=200, deadline=None)
@given(values, pyramid_settings, st.randoms(use_true_random=False))
def test_pyramid_ignores_row_order_and_equal_values_share_a_tier(base, config, random):
    order = list(range(base.size))
    random.shuffle(order)
    tiers = seg.pyramid(base, config)
    shuffled = seg.pyramid(base[order], config)
    assert shuffled.tolist() == [tiers[j] for j in order]
    frame = pd.DataFrame({"value": base, "tier": tiers.codes})
    assert (frame.groupby("value").tier.nunique() == 1).all()


@settings(max_examples=200, deadline=None)
@given(st.sets(st.floats(min_value=0.001, max_value=1e6), min_size=1, max_size=80).map(lambda s: np.array(sorted(s))),
       pyramid_settings)
def test_pyramid_sizes_follow_the_shares_when_values_are_distinct_and_positive(base, config):
    codes = seg.pyramid(base, config).codes
    cumulative = np.cumsum([t.share for t in config.tiers])
    for t, c in enumerate(cumulative[:-1]):
        assert (codes <= t).sum() == math.ceil(round(c * base.size, 6))


# --------------------------------------------------------------------------------------------
# concentration


@settings(max_examples=300, deadline=None)
@given(non_negative)
def test_gini_and_lorenz_are_well_formed(base):
    result = seg.concentration(base)
    if base.sum() == 0:
        assert math.isnan(result.gini)
        return
    assert 0.0 <= result.gini <= 1.0
    assert result.gini <= (base.size - 1) / base.size + 1e-9
    curve = result.lorenz["value_share"].to_numpy()
    grid = result.lorenz["customer_share"].to_numpy()
    assert curve[0] == 0.0 and curve[-1] == 1.0
    assert (np.diff(curve) >= -1e-12).all()
    assert (curve <= grid + 1e-9).all()           # the bottom p % never hold more than p %
    pareto = result.pareto
    assert (pareto["value_share"] >= pareto["customer_share"] - 1e-9).all()
    assert (pareto["value_share"] <= 1 + 1e-12).all()


@settings(max_examples=200, deadline=None)
@given(non_negative)
def test_gini_is_one_minus_twice_the_area_under_the_lorenz_curve(base):
    if base.sum() == 0:
        return
    n = base.size
    points = seg.concentration(base, seg.ConcentrationSettings(lorenz_points=n + 1)).lorenz["value_share"]
    area = float(np.sum((points.to_numpy()[1:] + points.to_numpy()[:-1]) / 2) / n)
    assert math.isclose(seg.concentration(base).gini, max(0.0, 1 - 2 * area), abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(values, st.randoms(use_true_random=False))
def test_concentration_ignores_row_order_and_negative_values_count_as_zero(base, random):
    order = list(range(base.size))
    random.shuffle(order)
    result, shuffled = seg.concentration(base), seg.concentration(base[order])
    clipped = seg.concentration(np.clip(base, 0, None))
    for other in (shuffled, clipped):
        assert (math.isnan(result.gini) and math.isnan(other.gini)) or math.isclose(
            result.gini, other.gini, abs_tol=1e-12)
    assert result.negative_customers == int((base < 0).sum())


# --------------------------------------------------------------------------------------------
# RFM, loyalty and breakdown

scores = st.integers(min_value=1, max_value=5)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(seg.RFM_SEGMENTS), min_size=25, max_size=25),
       st.lists(st.tuples(scores, scores, scores), min_size=1, max_size=40),
       st.sampled_from(["half_up", "down"]))
def test_any_partition_of_the_grid_is_applied_cell_by_cell(assignment, customers, rounding):
    rules = [{"segment": assignment[(r - 1) * 5 + (f - 1)], "recency": [r, r], "fm": [f, f]}
             for r in range(1, 6) for f in range(1, 6)]
    config = seg.RFMSettings(rules=rules, fm_rounding=rounding)
    r, f, m = (np.array(column) for column in zip(*customers, strict=True))
    result = seg.rfm_segments(r, f, m, config)
    _is_partition(result, len(customers), seg.RFM_SEGMENTS)
    half = 1 if rounding == "half_up" else 0
    expected = [assignment[(ri - 1) * 5 + (fi + mi + half) // 2 - 1] for ri, fi, mi in customers]
    assert result.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(raised(values), split_settings, split_settings)
def test_loyalty_profitability_is_a_monotone_partition(case, loyalty_split, profit_split):
    before, after, i = case
    config = seg.LoyaltyProfitSettings.model_validate({"loyalty": loyalty_split, "profitability": profit_split})
    other = np.linspace(-1, 1, before.size)
    cells = seg.loyalty_profitability(before, other, config)
    _is_partition(cells, before.size, seg.LOYALTY_PROFIT_CELLS)
    long_before = cells[i] in {"true_friend", "barnacle"}
    long_after = seg.loyalty_profitability(after, other, config)[i] in {"true_friend", "barnacle"}
    assert long_after or not long_before
    high_before = seg.loyalty_profitability(other, before, config)[i] in {"true_friend", "butterfly"}
    high_after = seg.loyalty_profitability(other, after, config)[i] in {"true_friend", "butterfly"}
    assert high_after or not high_before


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=20), st.floats(min_value=0, max_value=5000),
                          st.floats(min_value=0, max_value=5000)), min_size=1, max_size=50))
def test_loyalty_level_is_a_partition_and_potential_means_no_purchase(rows):
    n, tenure, since = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    levels = seg.loyalty_level(n, tenure, since)
    _is_partition(levels, len(rows), seg.LOYALTY_LEVELS)
    assert ((levels == "potential") == (n == 0)).all()
    assert ((levels == "loyal") <= (n >= 6)).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(seg.VALUE_MATRIX_CELLS), st.sampled_from(["a", "b", None]),
                          st.sampled_from([1, 2, 3]), value), min_size=1, max_size=40))
def test_breakdown_counts_every_customer_once_per_profile(rows):
    cells, region, channel, amount = zip(*rows, strict=True)
    segment = pd.Categorical(cells, categories=list(seg.VALUE_MATRIX_CELLS))
    by = pd.DataFrame({"region": region, "channel": channel})
    table = seg.breakdown(segment, by, np.array(amount))
    for _, part in table.groupby("profile"):
        assert part["customers"].sum() == len(rows)
        per_segment = part.groupby("segment", observed=False)
        np.testing.assert_array_equal(per_segment["customers"].sum().to_numpy(),
                                      segment.value_counts().to_numpy())
        shares = per_segment["share_of_segment"].sum()
        filled = segment.value_counts().to_numpy() > 0
        np.testing.assert_allclose(shares.to_numpy()[filled], 1.0)
        np.testing.assert_allclose(per_segment["value"].sum().to_numpy(),
                                   pd.Series(amount).groupby(segment, observed=False).sum().to_numpy(),
                                   rtol=1e-9, atol=1e-6)
