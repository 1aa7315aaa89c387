"""Segmentations on bases small enough to check by hand: exact cuts, ties, zeros, negatives.

Every expected value below follows from the rules in the ``cvm.value.segments`` module
documentation (k = ceil(share × n), ties at a cut included, values <= 0 never high, …).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cvm.errors import InvalidDataError
from cvm.labels import TERMS
from cvm.value import segments as seg
from cvm.value.config import load_config


def _matrix(current_values, potential_values, **sections):
    return seg.value_matrix(np.asarray(current_values, float), np.asarray(potential_values, float),
                            load_config({"segments": {"value_matrix": sections}}))


def _high_current(values, **split):
    """Which customers the value matrix calls high on the current axis (potential all low)."""
    cells = _matrix(values, np.zeros(len(values)), current=split)
    return [cell == "profit" for cell in cells.tolist()]


# --------------------------------------------------------------------------------------------
# value matrix


def test_value_matrix_cells_and_category_order():
    cells = _matrix([100, 80, 5, 0, 1], [50, 0, 90, 1, 2],
                    current={"share": 0.4}, potential={"share": 0.4})
    assert cells.tolist() == ["strategic", "profit", "potential", "ordinary", "ordinary"]
    assert list(cells.categories) == ["strategic", "profit", "potential", "ordinary"]


def test_top_share_takes_ceil_of_share_times_n():
    values = [10.0, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert sum(_high_current(values)) == 2                       # 0.2 × 10 = 2
    assert sum(_high_current(values, share=0.25)) == 3           # ceil(2.5) = 3
    assert sum(_high_current(values[:3], share=0.34)) == 2       # ceil(1.02) = 2
    assert sum(_high_current(values[:3])) == 1                   # ceil(0.6) = 1


def test_top_share_ignores_float_noise():
    # 0.07 × 100 = 7.000000000000001 in floating point: still the top 7
    assert sum(_high_current(np.arange(100.0, 0, -1), share=0.07)) == 7


def test_ties_at_the_cut_are_all_high():
    assert _high_current([5, 5, 5, 1, 1]) == [True, True, True, False, False]
    assert _high_current([1, 9, 9, 2, 3], share=0.4) == [False, True, True, False, False]
    assert _high_current([4, 4, 4, 4]) == [True] * 4          # all equal and positive


def test_zero_and_negative_values_are_never_high_under_top_share():
    assert _high_current([0, 0, 0, 0]) == [False] * 4
    assert _high_current([-1, -2, -3], share=1.0) == [False] * 3
    assert _high_current([3, 0, -1, 0, 0], share=1.0) == [True, False, False, False, False]


def test_tiny_bases():
    assert _high_current([7]) == [True]
    assert _high_current([0]) == [False]
    assert _high_current([2, 1]) == [True, False]
    empty = seg.value_matrix(np.array([]), np.array([]))
    assert len(empty) == 0 and list(empty.categories) == list(seg.VALUE_MATRIX_CELLS)


def test_threshold_split_includes_the_threshold():
    split = {"method": "threshold", "threshold": 10}
    assert _high_current([9.99, 10, 10.01, 0], **split) == [False, True, True, False]
    negative = {"method": "threshold", "threshold": -5}
    assert _high_current([-5, -6, 0], **negative) == [True, False, True]


def test_median_split_includes_the_median():
    assert _high_current([1, 2, 3, 4], method="median") == [False, False, True, True]   # median 2.5
    assert _high_current([3, 1, 2], method="median") == [True, False, True]           # median 2
    assert _high_current([5, 5, 5], method="median") == [True, True, True]


def test_rows_are_matched_by_position_not_index():
    current = pd.Series([1.0, 10.0], index=[7, 3])
    potential = pd.Series([10.0, 1.0], index=[3, 7])
    assert seg.value_matrix(current, potential).tolist() == ["potential", "profit"]


# --------------------------------------------------------------------------------------------
# pyramid


def test_default_pyramid_on_100_distinct_values():
    tiers = seg.pyramid(np.arange(1.0, 101.0))
    assert tiers.value_counts().to_dict() == {"vip": 1, "key": 4, "major": 15, "ordinary": 80}
    assert tiers[99] == "vip" and tiers[95] == "key" and tiers[94] == "major" and tiers[79] == "ordinary"
    assert tiers[80] == "major"


def test_pyramid_on_five_customers():
    # k = ceil(0.01 × 5) = 1 for vip; key and major have cumulative 0.05 and 0.20: k = 1 too
    tiers = seg.pyramid(np.array([3.0, 50, 1, 2, 4]))
    assert tiers.tolist() == ["ordinary", "vip", "ordinary", "ordinary", "ordinary"]


def test_pyramid_ties_take_the_upper_tier():
    settings = load_config({"segments": {"pyramid": {"tiers": [
        {"key": "vip", "share": 0.25}, {"key": "major", "share": 0.25}, {"key": "ordinary", "share": 0.5}]}}})
    # k = 1 for vip, 2 for vip + major: the two 9s are both vip, so major is empty
    assert seg.pyramid([9.0, 9, 5, 1], settings).tolist() == ["vip", "vip", "ordinary", "ordinary"]
    assert seg.pyramid([9.0, 5, 5, 1], settings).tolist() == ["vip", "major", "major", "ordinary"]


def test_pyramid_puts_zero_and_negative_values_in_the_last_tier():
    assert seg.pyramid([0.0, 0, 0]).tolist() == ["ordinary"] * 3
    assert seg.pyramid([-1.0, 3, -2]).tolist() == ["ordinary", "vip", "ordinary"]
    assert seg.pyramid([2.0, 2, 2]).tolist() == ["vip"] * 3


def test_custom_tiers_and_their_labels():
    settings = load_config({"segments": {"pyramid": {"tiers": [
        {"key": "gold", "share": 0.5, "en": "Gold", "zh": "金卡"},
        {"key": "ordinary", "share": 0.5}]}}})
    tiers = seg.pyramid([1.0, 2, 3], settings)          # k = ceil(1.5) = 2
    assert tiers.tolist() == ["ordinary", "gold", "gold"]
    assert list(tiers.categories) == ["gold", "ordinary"]
    names = seg.tier_labels(settings)
    assert names == {"gold": ("Gold", "金卡"), "ordinary": ("ordinary", "普通客户")}
    for en, zh in (seg.labelled(tiers, "pyramid", settings), seg.labelled(tiers, "pyramid", names=names)):
        assert en.tolist() == ["ordinary", "Gold", "Gold"]
        assert zh.tolist() == ["普通客户", "金卡", "金卡"]
    with pytest.raises(InvalidDataError, match="no 'pyramid' label for 'gold'"):
        seg.labelled(tiers, "pyramid")            # the default tiers have no gold


def test_single_tier_holds_everyone():
    settings = load_config({"segments": {"pyramid": {"tiers": [{"key": "ordinary", "share": 1}]}}})
    assert seg.pyramid([5.0, -1, 0], settings).tolist() == ["ordinary"] * 3


def test_pyramid_table_by_hand():
    settings = load_config({"segments": {"pyramid": {"tiers": [
        {"key": "vip", "share": 0.25}, {"key": "key", "share": 0.25}, {"key": "ordinary", "share": 0.5}]}}})
    realized = np.array([60.0, 10, 5, 5])
    potential = np.array([30.0, 10, 0, 5])
    influence = np.array([10.0, 0, 0, 0])
    value = realized + potential + influence                    # 100, 20, 5, 10
    tiers = seg.pyramid(value, settings)
    assert tiers.tolist() == ["vip", "key", "ordinary", "ordinary"]
    table = seg.pyramid_table(value, tiers, realized, potential, influence)
    assert table["tier"].tolist() == ["vip", "key", "ordinary"]
    assert table["customers"].tolist() == [1, 1, 2]
    assert table["customer_share"].tolist() == [0.25, 0.25, 0.5]
    assert table["value"].tolist() == [100.0, 20.0, 15.0]
    np.testing.assert_allclose(table["value_share"], [100 / 135, 20 / 135, 15 / 135])
    assert table["average_value"].tolist() == [100.0, 20.0, 7.5]
    assert table["realized"].tolist() == [60.0, 10.0, 10.0]
    np.testing.assert_allclose(table["realized_share"], [0.6, 0.5, 10 / 15])
    np.testing.assert_allclose(table["potential_share"], [0.3, 0.5, 5 / 15])
    np.testing.assert_allclose(table["influence_share"], [0.1, 0.0, 0.0])


def test_pyramid_table_keeps_empty_tiers_and_reads_plain_keys():
    value = np.array([5.0, 1.0])
    table = seg.pyramid_table(value, ["vip", "ordinary"])        # default tiers from the settings
    assert table["tier"].tolist() == ["vip", "key", "major", "ordinary"]
    assert table["customers"].tolist() == [1, 0, 0, 1]
    assert math.isnan(table.loc[1, "average_value"])
    assert list(table.columns) == ["tier", "customers", "customer_share", "value", "value_share", "average_value"]


def test_pyramid_table_with_no_value_has_nan_shares():
    table = seg.pyramid_table(np.zeros(2), seg.pyramid(np.zeros(2)))
    assert table["customers"].tolist() == [0, 0, 0, 2]
    assert table["value_share"].isna().all()


# --------------------------------------------------------------------------------------------
# concentration


def test_concentration_of_one_to_four():
    result = seg.concentration(np.array([3.0, 1, 4, 2]), load_config(
        {"segments": {"concentration": {"top_shares": [0.01, 0.2, 0.5, 1.0], "lorenz_points": 5}}}))
    # Gini = 2 (1·1 + 2·2 + 3·3 + 4·4) / (4 · 10) − 5/4 = 0.25
    assert result.gini == pytest.approx(0.25)
    assert result.pareto["customers"].tolist() == [1, 1, 2, 4]
    np.testing.assert_allclose(result.pareto["customer_share"], [0.25, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(result.pareto["value"], [4, 4, 7, 10])
    np.testing.assert_allclose(result.pareto["value_share"], [0.4, 0.4, 0.7, 1.0])
    np.testing.assert_allclose(result.lorenz["customer_share"], [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(result.lorenz["value_share"], [0, 0.1, 0.3, 0.6, 1])
    assert (result.customers, result.total_value, result.negative_customers) == (4, 10.0, 0)


def test_gini_extremes():
    assert seg.concentration([0.0, 0, 0, 10]).gini == pytest.approx(0.75)       # (n − 1) / n
    assert seg.concentration([2.0, 2, 2, 2]).gini == 0.0
    assert seg.concentration([7.0]).gini == 0.0


def test_lorenz_interpolates_between_customers():
    result = seg.concentration([10.0, 0], load_config({"segments": {"concentration": {"lorenz_points": 5}}}))
    np.testing.assert_allclose(result.lorenz["value_share"], [0, 0, 0, 0.5, 1])


def test_negative_values_count_as_zero_and_are_reported():
    result = seg.concentration([-5.0, 0, 10])
    assert result.gini == pytest.approx(2 / 3)                   # as for 0, 0, 10
    assert result.total_value == 10.0
    assert (result.negative_customers, result.negative_value) == (1, -5.0)
    assert result.pareto["value_share"].tolist() == [1.0] * 5


def test_concentration_without_positive_value_is_nan():
    for values in ([0.0, 0.0], [-1.0, -2.0], []):
        result = seg.concentration(np.array(values))
        assert math.isnan(result.gini)
        assert result.pareto["value_share"].isna().all()
        assert result.lorenz["value_share"].isna().all()
    assert seg.concentration([]).pareto["customers"].tolist() == [0] * 5


def test_default_pareto_shares():
    result = seg.concentration(np.arange(1.0, 101.0))
    assert result.pareto["top_share"].tolist() == [0.01, 0.05, 0.10, 0.20, 0.50]
    assert result.pareto["customers"].tolist() == [1, 5, 10, 20, 50]
    assert result.pareto["value"].tolist() == [100.0, 490.0, 955.0, 1810.0, 3775.0]
    assert len(result.lorenz) == 101


# --------------------------------------------------------------------------------------------
# RFM

DEFAULT_GRID = {  # R: segment for FM 1 … 5, the table of the module documentation
    5: ["new", "potential_loyalist", "potential_loyalist", "champions", "champions"],
    4: ["promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"],
    3: ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"],
    1: ["lost", "lost", "at_risk", "at_risk", "cant_lose_them"],
}


def test_default_rfm_grid_cell_by_cell():
    r, fm = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    r, fm = r.ravel(), fm.ravel()
    segments = seg.rfm_segments(r, fm, fm)
    expected = [DEFAULT_GRID[ri][fi - 1] for ri, fi in zip(r.tolist(), fm.tolist(), strict=True)]
    assert segments.tolist() == expected
    assert list(segments.categories) == list(seg.RFM_SEGMENTS)
    assert set(expected) == set(seg.RFM_SEGMENTS)               # every segment has a cell


def test_fm_rounding():
    # R 3, F 3, M 4: FM = 3.5 → 4 (loyal) half up, 3 (need attention) rounded down
    assert seg.rfm_segments([3], [3], [4]).tolist() == ["loyal"]
    down = load_config({"segments": {"rfm": {"fm_rounding": "down"}}})
    assert seg.rfm_segments([3], [3], [4], down).tolist() == ["need_attention"]
    assert seg.rfm_segments([1], [1], [2]).tolist() == ["lost"]           # 1.5 → 2
    assert seg.rfm_segments([2], [5], [4], down).tolist() == ["at_risk"]  # 4.5 → 4


def test_rfm_accepts_float_scores_that_are_whole_numbers():
    assert seg.rfm_segments(np.array([5.0]), pd.Series([5.0]), [5]).tolist() == ["champions"]


def test_custom_rfm_rules():
    rules = [
        {"segment": "champions", "recency": [4, 5], "fm": [1, 5]},
        {"segment": "lost", "recency": [1, 3], "fm": [1, 2]},
        {"segment": "at_risk", "recency": [1, 3], "fm": [3, 5]},
    ]
    settings = load_config({"segments": {"rfm": {"rules": rules}}})
    assert seg.rfm_segments([4, 3, 3], [1, 2, 3], [1, 2, 3], settings).tolist() == ["champions", "lost", "at_risk"]
    assert seg.rfm_segments([4], [1], [1], settings).categories.tolist() == list(seg.RFM_SEGMENTS)


def test_rfm_on_rfm_scores_output():
    import ibis

    from cvm.data.summaries import rfm_scores

    log = ibis.memtable({
        "customer_id": ["a", "b", "b", "c"],
        "date": ["2024-01-01", "2024-01-02", "2024-01-09", "2024-01-10"],
        "amount": [10.0, 5.0, 5.0, 30.0],
    }).mutate(date=ibis._.date.cast("date"))
    scores = rfm_scores(log, observation_end="2024-01-10").execute()
    # scores 111, 232, 323 → FM 1, 3 (2.5 half up), 3 (2.5 half up)
    segments = seg.rfm_segments(scores.recency_score, scores.frequency_score, scores.monetary_score)
    assert segments.tolist() == ["lost", "at_risk", "need_attention"]


# --------------------------------------------------------------------------------------------
# loyalty × profitability and loyalty level


def test_loyalty_profitability_cells_by_median():
    cells = seg.loyalty_profitability([2.0, 0.1, 1.5, 0.2], [300.0, 500, -20, 10])
    assert cells.tolist() == ["true_friend", "butterfly", "barnacle", "stranger"]
    assert list(cells.categories) == ["true_friend", "butterfly", "barnacle", "stranger"]


def test_loyalty_profitability_median_ties_are_long_and_high():
    # loyalty median 1.0: the customer at 1.0 is long; profitability all equal: all high
    cells = seg.loyalty_profitability([0.5, 1.0, 2.0], [7.0, 7.0, 7.0])
    assert cells.tolist() == ["butterfly", "true_friend", "true_friend"]


def test_loyalty_profitability_fixed_thresholds():
    settings = load_config({"segments": {"loyalty_profit": {
        "loyalty": {"method": "threshold", "threshold": 1.0},
        "profitability": {"method": "threshold", "threshold": 0.0}}}})
    cells = seg.loyalty_profitability([1.0, 0.99, 3.0, 0.2], [0.0, 5.0, -0.01, -3.0], settings)
    assert cells.tolist() == ["true_friend", "butterfly", "barnacle", "stranger"]


def test_loyalty_level_default_boundaries():
    nan = float("nan")
    cases = [  # n_purchases, tenure_days, days_since_last_purchase, expected
        (0, nan, nan, "potential"),
        (0, 1000, nan, "potential"),
        (1, 2000, 10, "new"),          # one purchase
        (5, 89, 1, "new"),             # tenure under 90 days
        (2, 90, 1, "regular"),         # tenure 90 is no longer new
        (9, 364, 1, "regular"),
        (2, 365, 1, "old"),
        (6, 730, 365, "loyal"),        # every loyal threshold met exactly
        (6, 730, 366, "old"),          # last purchase too long ago
        (5, 730, 1, "old"),            # too few purchases
        (6, 729, 1, "old"),            # tenure too short for loyal
    ]
    n, tenure, since, expected = zip(*cases, strict=True)
    levels = seg.loyalty_level(np.array(n), np.array(tenure), np.array(since))
    assert levels.tolist() == list(expected)
    assert list(levels.categories) == ["potential", "new", "regular", "old", "loyal"]


def test_loyalty_level_configured_thresholds():
    settings = load_config({"segments": {"loyalty_level": {
        "new_max_purchases": 2, "new_max_tenure_days": 30, "old_min_tenure_days": 180,
        "loyal_min_tenure_days": 180, "loyal_min_purchases": 4, "loyal_max_days_since_last_purchase": 60}}})
    levels = seg.loyalty_level([2, 3, 4, 4, 3], [500, 100, 200, 200, 200], [1, 1, 60, 61, 1], settings)
    assert levels.tolist() == ["new", "regular", "loyal", "old", "old"]


# --------------------------------------------------------------------------------------------
# labels and breakdown


@pytest.mark.parametrize(("prefix", "keys"), [
    ("value_matrix", seg.VALUE_MATRIX_CELLS),
    ("pyramid", tuple(t.key for t in seg.DEFAULT_TIERS)),
    ("rfm", seg.RFM_SEGMENTS),
    ("loyalty_profit", seg.LOYALTY_PROFIT_CELLS),
    ("loyalty_level", seg.LOYALTY_LEVELS),
])
def test_every_category_has_both_labels(prefix, keys):
    for key in keys:
        term = TERMS[f"{prefix}.{key}"]
        assert term.en and term.zh
    en, zh = seg.labelled(pd.Categorical(list(keys), categories=list(keys)), prefix)
    assert en.tolist() == [TERMS[f"{prefix}.{k}"].en for k in keys]
    assert zh.tolist() == [TERMS[f"{prefix}.{k}"].zh for k in keys]


def test_labelled_maps_categories_and_keeps_order_and_empty_categories():
    cells = pd.Categorical(["ordinary", "strategic"], categories=list(seg.VALUE_MATRIX_CELLS))
    en, zh = seg.labelled(cells, "value_matrix")
    assert list(en.categories) == ["strategic", "profit", "potential", "ordinary"]
    assert list(zh.categories) == ["战略客户", "利润客户", "潜力客户", "普通客户"]
    assert zh.tolist() == ["普通客户", "战略客户"]
    assert np.array_equal(zh.codes, cells.codes)


def test_labelled_merges_keys_with_the_same_label():
    tiers = pd.Categorical(["a", "b", "c", "a"], categories=["a", "b", "c"])
    names = {"a": ("Top", "顶级"), "b": ("Top", "高级"), "c": ("Rest", "其他")}
    en, zh = seg.labelled(tiers, "pyramid", names=names)
    assert list(en.categories) == ["Top", "Rest"] and en.tolist() == ["Top", "Top", "Rest", "Top"]
    assert zh.tolist() == ["顶级", "高级", "其他", "顶级"]


def test_labelled_accepts_plain_keys_and_series():
    en, zh = seg.labelled(pd.Series(["lost", "new"]), "rfm")
    assert en.tolist() == ["Lost", "New"] and zh.tolist() == ["已流失", "新客户"]


def test_breakdown_counts_shares_and_missing_group():
    cells = pd.Categorical(["strategic", "ordinary", "ordinary", "ordinary", "ordinary"],
                           categories=list(seg.VALUE_MATRIX_CELLS))
    by = pd.DataFrame({
        "gender": ["f", "m", None, "f", "f"],
        "age_band": pd.Categorical(["18-29", "30-49", "18-29", "50+", None],
                                   categories=["18-29", "30-49", "50+"], ordered=True),
    }, index=[10, 11, 12, 13, 14])
    value = np.array([9.0, 1, 2, 3, 4])
    table = seg.breakdown(cells, by, value)
    assert len(table) == 4 * 3 + 4 * 4                  # every segment × observed value (+ missing)
    gender = table[(table.profile == "gender") & (table.segment == "ordinary")]
    assert gender.profile_value.tolist() == ["f", "m", "(missing)"]
    assert gender.customers.tolist() == [2, 1, 1]
    assert gender.share_of_segment.tolist() == [0.5, 0.25, 0.25]
    assert gender.value.tolist() == [7.0, 1.0, 2.0]
    np.testing.assert_allclose(gender.value_share, [0.7, 0.1, 0.2])
    age = table[(table.profile == "age_band") & (table.segment == "ordinary")]
    assert age.profile_value.tolist() == ["18-29", "30-49", "50+", "(missing)"]   # category order
    assert age.customers.tolist() == [1, 1, 1, 1]
    empty = table[table.segment == "profit"]
    assert (empty.customers == 0).all() and empty.share_of_segment.isna().all()
    assert table.groupby("profile").customers.sum().to_dict() == {"age_band": 5, "gender": 5}


def test_breakdown_of_one_profile_series_without_value():
    segments = seg.rfm_segments([5, 1, 5], [5, 1, 5], [5, 1, 5])
    table = seg.breakdown(segments, pd.Series([1, 2, np.nan], name="channel"))
    assert list(table.columns) == ["segment", "profile", "profile_value", "customers", "share_of_segment"]
    champions = table[table.segment == "champions"]
    assert champions.profile_value.tolist() == ["1.0", "2.0", "(missing)"]
    assert champions.customers.tolist() == [1, 0, 1]
    assert table.customers.sum() == 3


def test_breakdown_with_a_column_that_is_all_missing():
    segments = seg.loyalty_level([0, 0], [np.nan, np.nan], [np.nan, np.nan])
    table = seg.breakdown(segments, pd.DataFrame({"region": [None, None]}))
    assert table[table.customers > 0][["segment", "profile_value", "customers"]].values.tolist() == [
        ["potential", "(missing)", 2]]


def test_labelled_keeps_missing_keys_missing():
    segments = pd.Categorical(["lost", None, "new"], categories=list(seg.RFM_SEGMENTS))
    en, zh = seg.labelled(pd.Series(segments), "rfm", load_config({}))
    assert en.tolist()[0] == "Lost" and pd.isna(en[1]) and zh.tolist()[2] == "新客户"
    assert len(en.categories) == len(seg.RFM_SEGMENTS)
