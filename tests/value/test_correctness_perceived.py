"""Perceived value against competitors on tables small enough to work out by hand.

The tiny survey: quality attributes A (weight 3) and B (weight 1), one price attribute P
(weight 2, rated as satisfaction); us A=8 B=4 P=6, X A=4 B=8 P=3, Y rates exactly like us.
Shares: A 0.75, B 0.25, P 1. Against X: ratios A 2, B 0.5, so relative perceived quality
0.75×200 + 0.25×50 = 162.5; relative price 100 × 3/6 = 50; fair price 162.5, value gap 112.5.
The average competitor rates A 6, B 6, P 4.5: quality 0.75×133.33 + 0.25×66.67 = 116.67,
price 100 × 4.5/6 = 75, value gap 41.67, which is the overall score 141.67.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from cvm.labels import label
from cvm.value.perceived import PerceivedValueSettings, perceived_value, read_perceived_value


def tiny() -> pd.DataFrame:
    return pd.DataFrame({
        "attribute": ["A", "B", "P"], "kind": ["quality", "quality", "price"], "weight": [3, 1, 2],
        "rating_us": [8, 4, 6], "rating_X": [4, 8, 3], "rating_Y": [8, 4, 6],
    })


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    long = wide.melt(id_vars=["attribute", "kind", "weight"], var_name="competitor", value_name="rating")
    long["competitor"] = long["competitor"].str.slice(len("rating_"))
    return long


def test_competitor_indexes_by_hand():
    result = perceived_value(tiny())
    table = result.competitors
    assert list(table.index) == ["X", "Y", "market"]
    assert table.loc["X", "relative_quality"] == pytest.approx(162.5)
    assert table.loc["X", "relative_price"] == pytest.approx(50.0)
    assert table.loc["X", "fair_price"] == pytest.approx(162.5)
    assert table.loc["X", "value_gap"] == pytest.approx(112.5)
    assert table.loc["X", "value_index"] == pytest.approx(212.5)
    assert table.loc["X", "quality_us"] == pytest.approx(7.0)
    assert table.loc["X", "quality_them"] == pytest.approx(5.0)
    assert table.loc["X", "position"] == "better_value"
    assert table.loc["Y", ["relative_quality", "relative_price", "value_gap"]].tolist() == pytest.approx([100, 100, 0])
    assert table.loc["Y", "position"] == "fair_value"
    assert table.loc["market", "relative_quality"] == pytest.approx(116.0 + 2 / 3)
    assert table.loc["market", "relative_price"] == pytest.approx(75.0)
    assert table.loc["market", "value_gap"] == pytest.approx(41.0 + 2 / 3)
    assert result.score == pytest.approx(141.0 + 2 / 3)


def test_attribute_rows_by_hand():
    rows = perceived_value(tiny()).attributes
    x = rows[rows["competitor"] == "X"].set_index("attribute")
    assert x["weight_share"].tolist() == pytest.approx([0.75, 0.25, 1.0])
    assert x["ratio"].tolist() == pytest.approx([2.0, 0.5, 2.0])
    assert x["difference"].tolist() == pytest.approx([4.0, -4.0, 3.0])
    assert x["relative"].tolist() == pytest.approx([200.0, 50.0, 50.0])
    assert x["contribution"].tolist() == pytest.approx([150.0, 12.5, 50.0])
    assert x["advantage"].tolist() == pytest.approx([75.0, -12.5, 50.0])
    assert x["kind_label"].tolist() == ["quality attribute", "quality attribute", "price attribute"]
    # quality contributions sum to relative perceived quality; advantages to the distance from parity
    assert x.loc[["A", "B"], "contribution"].sum() == pytest.approx(162.5)
    assert x.loc[["A", "B"], "advantage"].sum() == pytest.approx(62.5)
    assert len(rows) == 3 * 3


def test_leads_and_trails_against_the_average_competitor_with_a_tie_in_file_order():
    result = perceived_value(tiny())
    # A: 0.75 × (133.33 − 100) = 25; P: 1 × (100 − 75) = 25 (a tie, kept in file order); B: −8.33
    assert result.leads["attribute"].tolist() == ["A", "P"]
    assert result.leads["advantage"].tolist() == pytest.approx([25.0, 25.0])
    assert result.leads["rating_market"].tolist() == pytest.approx([6.0, 4.5])
    assert result.trails["attribute"].tolist() == ["B"]
    assert result.trails["advantage"].tolist() == pytest.approx([-25 / 3])
    assert perceived_value(tiny(), {"top_n": 1}).leads["attribute"].tolist() == ["A"]


def test_difference_comparison_by_hand():
    table = perceived_value(tiny(), {"comparison": "difference"}).competitors
    # quality 0.75 × 4 + 0.25 × (−4) = 2; price (satisfaction) −(6 − 3) = −3; gap 2 − (−3) = 5
    assert table.loc["X", ["relative_quality", "relative_price", "value_gap", "value_index"]].tolist() == \
        pytest.approx([2.0, -3.0, 5.0, 5.0])
    assert table.loc["X", "position"] == "better_value"
    assert table.loc["Y", "value_gap"] == pytest.approx(0.0)
    assert table.loc["Y", "position"] == "fair_value"


def test_price_rated_as_level_reads_a_higher_rating_as_dearer():
    table = perceived_value(tiny(), {"price_ratings": "level"}).competitors
    # our price rated 6 against X's 3 on a dearness scale: relative price 200, gap 162.5 − 200
    assert table.loc["X", "relative_price"] == pytest.approx(200.0)
    assert table.loc["X", "value_gap"] == pytest.approx(-37.5)
    assert table.loc["X", "position"] == "worse_value"


def test_fair_value_slope_scales_the_quality_premium():
    table = perceived_value(tiny(), {"fair_value_slope": 0.5}).competitors
    assert table.loc["X", "fair_price"] == pytest.approx(100 + 0.5 * 62.5)


@pytest.mark.parametrize(("band", "position"), [(0.5, "fair_value"), (0.49, "worse_value"), (None, "worse_value")])
def test_a_gap_of_exactly_the_band_is_fair_value(band, position):
    survey = pd.DataFrame({"attribute": ["Q", "P"], "kind": ["quality", "price"], "weight": [1, 1],
                           "rating_us": [5.0, 5.5], "rating_them": [5.0, 5.0]})
    settings = {"comparison": "difference", "price_ratings": "level", "fair_value_band": band}
    table = perceived_value(survey, settings).competitors
    assert table.loc["them", "value_gap"] == -0.5
    assert table.loc["them", "position"] == position  # default band with differences is 0.2


def test_default_band_with_ratios_is_two_index_points():
    survey = pd.DataFrame({"attribute": ["Q", "P"], "kind": ["quality", "price"], "weight": [1, 1],
                           "rating_us": [5.0, 4.0], "rating_them": [5.0, 4.08]})
    table = perceived_value(survey).competitors  # price 100 × 4.08 / 4 = 102: gap −2 → fair
    assert table.loc["them", "value_gap"] == pytest.approx(-2.0)
    assert table.loc["them", "position"] == "fair_value"
    survey.loc[1, "rating_them"] = 4.2  # their price pleases more: our relative price 105, gap −5
    assert perceived_value(survey).competitors.loc["them", "position"] == "worse_value"
    survey.loc[1, "rating_them"] = 3.8  # ours pleases more: relative price 95, gap 5
    assert perceived_value(survey).competitors.loc["them", "position"] == "better_value"


def test_wide_and_long_layouts_agree():
    wide = perceived_value(tiny())
    shuffled = to_long(tiny()).sample(frac=1.0, random_state=7)
    long = perceived_value(shuffled)
    assert list(long.competitors.index)[-1] == "market"  # competitors in order of first appearance
    pd.testing.assert_frame_equal(wide.competitors.sort_index(), long.competitors.sort_index())
    key = ["attribute", "competitor"]
    a = wide.attributes.sort_values(key).reset_index(drop=True)
    b = long.attributes.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert wide.score == long.score
    assert set(wide.leads["attribute"]) == set(long.leads["attribute"])


def test_example_file_in_both_layouts_csv_and_excel_agree(tmp_path):
    path = resources.files("cvm.datasets") / "data" / "perceived_value_example.csv"
    wide = read_perceived_value(path)
    assert wide.shape[0] == 6
    long = to_long(wide.drop(columns="source_row"))
    csv = tmp_path / "long.csv"
    long.to_csv(csv, index=False)
    xlsx = tmp_path / "wide.xlsx"
    wide.drop(columns="source_row").to_excel(xlsx, index=False)
    results = [perceived_value(read_perceived_value(p)) for p in (path, csv, xlsx)]
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0].competitors, other.competitors)
        assert results[0].score == pytest.approx(other.score)
    assert results[0].competitors.loc["market", "position"] == "worse_value"


def test_no_price_attribute_is_a_note_and_the_score_is_relative_quality():
    survey = tiny().iloc[:2]
    result = perceived_value(survey)
    assert result.competitors["position"].eq("no_price").all()
    assert result.competitors["relative_price"].isna().all()
    assert result.score == pytest.approx(result.competitors.loc["market", "relative_quality"])
    assert any("no price attribute" in note for note in result.notes)
    assert "value position is unknown" in result.competitors.loc["X", "explanation"]


def test_no_competitor_is_a_note_not_a_crash():
    result = perceived_value(tiny()[["attribute", "kind", "weight", "rating_us"]])
    assert result.competitors.empty and result.attributes.empty and result.leads.empty
    assert np.isnan(result.score)
    assert any("rates no competitor" in note for note in result.notes)


def test_kind_column_is_optional_and_blank_kind_is_quality():
    survey = tiny().drop(columns="kind").iloc[:2]
    assert perceived_value(survey).competitors.loc["X", "relative_quality"] == pytest.approx(162.5)
    survey = tiny()
    survey.loc[0, "kind"] = ""
    assert perceived_value(survey).competitors.loc["X", "relative_quality"] == pytest.approx(162.5)


def test_our_name_and_column_case_are_configurable():
    survey = tiny().rename(columns={"rating_us": "Rating_Acme", "weight": " Weight "})
    table = perceived_value(survey, PerceivedValueSettings(us="acme")).competitors
    assert table.loc["X", "relative_quality"] == pytest.approx(162.5)


def test_explanations_in_both_languages():
    en = perceived_value(tiny()).competitors
    zh = perceived_value(tiny(), lang="zh").competitors
    assert en.loc["X", "explanation"].startswith("Against X, customers rate our quality 162.5 and our price 50.0")
    assert "better value" in en.loc["X", "explanation"] and "112.5 below" in en.loc["X", "explanation"]
    assert "fair-value line" in en.loc["Y", "explanation"]
    assert en.loc["market", "explanation"].startswith("Against the average competitor,")
    assert zh.loc["X", "position_label"] == label("perceived.better_value", "zh") == "价值更优"
    assert zh.loc["market", "explanation"].startswith("与竞争对手平均水平相比")
