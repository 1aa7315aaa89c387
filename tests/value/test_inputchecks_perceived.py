"""Bad surveys and settings give a CVMError naming the file, the row, the column and the rule."""

from __future__ import annotations

import pandas as pd
import pytest

from cvm.errors import ConfigError, InputFileError, InvalidDataError, MissingColumnError
from cvm.value.perceived import perceived_value, read_perceived_value

HEADER = "attribute,kind,weight,rating_us,rating_beta\n"
GOOD = ["Speed,quality,3,8,4\n", "Care,quality,1,4,8\n", "Price,price,2,6,3\n"]


def survey(tmp_path, *lines: str, header: str = HEADER, name: str = "survey.csv"):
    path = tmp_path / name
    path.write_text(header + "".join(lines), encoding="utf-8")
    return read_perceived_value(path)


def message(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value)


@pytest.mark.parametrize(("lines", "fragments"), [
    ([GOOD[0], "Care,quality,high,4,8\n"],
     ["survey.csv", "column 'weight'", "weight is not a number", "in 1 row", "row 3: 'high'", "plain number"]),
    ([GOOD[0], "Care,quality,-1,4,8\n", "Looks,quality,-2,4,8\n"],
     ["survey.csv", "column 'weight'", "weight is negative", "in 2 rows", "row 3: '-1'"]),
    ([GOOD[0], "Care,quality,,4,8\n"], ["column 'weight'", "weight is blank", "row 3"]),
    ([GOOD[0], "Care,quality,1,4,11\n"],
     ["column 'rating_beta'", "rating outside the declared scale 1 to 10", "row 3: 11)", "scale_min"]),
    ([GOOD[0], "Care,quality,1,0.5,8\n"], ["column 'rating_us'", "outside the declared scale", "row 3: 0.5)"]),
    ([GOOD[0], "Care,quality,1,4,abc\n"], ["column 'rating_beta'", "rating is not a number", "row 3: 'abc'"]),
    ([GOOD[0], "Care,service,1,4,8\n"], ["column 'kind'", "not 'quality' or 'price'", "row 3: 'service'"]),
    ([GOOD[0], GOOD[0]], ["column 'attribute'", "attribute listed twice", "row 3: 'Speed'"]),
    ([GOOD[0], ",quality,1,4,8\n"], ["column 'attribute'", "attribute name is blank", "row 3"]),
    (["Price,price,2,6,3\n"], ["column 'kind'", "no quality attribute"]),
    (["Speed,quality,0,8,4\n", GOOD[2]], ["column 'weight'", "every quality attribute has weight 0"]),
    ([GOOD[0], "Price,price,0,6,3\n"], ["column 'weight'", "every price attribute has weight 0"]),
    ([], ["survey.csv", "no rows"]),
])
def test_bad_wide_surveys(tmp_path, lines, fragments):
    table = survey(tmp_path, *lines)
    with pytest.raises(InvalidDataError) as exc:
        perceived_value(table)
    for fragment in fragments:
        assert fragment in message(exc)


@pytest.mark.parametrize(("header", "missing"), [
    ("attribute,kind,rating_us,rating_beta\n", "'weight'"),
    ("attribute,kind,weight,rating_beta\n", "'rating_us'"),
    ("name,kind,weight,rating_us\n", "'attribute'"),
    ("attribute,kind,weight,competitor\n", "'rating'"),
])
def test_missing_columns_name_the_column_and_the_layout(tmp_path, header, missing):
    table = survey(tmp_path, "Speed,quality,3,8\n", header=header)
    with pytest.raises(MissingColumnError) as exc:
        perceived_value(table)
    assert missing in message(exc) and "survey.csv" in message(exc) and "layout" in message(exc)
    assert isinstance(exc.value, ConfigError)


def test_repeated_columns_differing_only_in_case(tmp_path):
    table = survey(tmp_path, "Speed,3,8,4\n", header="attribute,weight,rating_us,Rating_US\n")
    with pytest.raises(ConfigError, match="columns repeated.*rating_us"):
        perceived_value(table)


LONG = "attribute,kind,weight,competitor,rating\n"


@pytest.mark.parametrize(("lines", "fragments"), [
    (["Speed,quality,3,us,8\n", "Speed,quality,2,beta,4\n"],
     ["column 'weight'", "different weights", "in 2 rows", "row 2: 'Speed'"]),
    (["Speed,quality,3,us,8\n", "Speed,price,3,beta,4\n"], ["column 'kind'", "different kinds"]),
    (["Speed,quality,3,us,8\n", "Speed,quality,3,us,7\n"],
     ["column 'competitor'", "rated twice for the same firm", "row 3: 'Speed / us'"]),
    (["Speed,quality,3,us,8\n", "Speed,quality,3,beta,4\n", "Care,quality,1,us,4\n"],
     ["column 'rating'", "1 attribute not rated for every firm", "'Care' has no rating of 'beta'"]),
    (["Speed,quality,3,alpha,8\n", "Speed,quality,3,beta,4\n"], ["no ratings of us ('us')", "competitor = us"]),
    (["Speed,quality,3,us,8\n", "Speed,quality,3,,4\n"], ["column 'competitor'", "competitor is blank", "row 3"]),
    (["Speed,quality,3,us,8\n", "Speed,quality,3,market,4\n"], ["called 'market'", "rename"]),
    (["Speed,quality,3,us,8\n", "Speed,quality,3,beta,12\n"],
     ["column 'rating'", "outside the declared scale", "row 3: 12)"]),
])
def test_bad_long_surveys(tmp_path, lines, fragments):
    table = survey(tmp_path, *lines, header=LONG)
    with pytest.raises(InvalidDataError) as exc:
        perceived_value(table)
    for fragment in fragments:
        assert fragment in message(exc)


def test_a_zero_rating_cannot_be_a_ratio_but_can_be_a_difference(tmp_path):
    table = survey(tmp_path, "Speed,quality,3,8,0\n", "Care,quality,1,4,8\n")
    with pytest.raises(InvalidDataError) as exc:
        perceived_value(table, {"scale_min": 0})
    assert "column 'rating_beta'" in message(exc) and "cannot be compared as a ratio" in message(exc)
    assert "row 2: 0)" in message(exc) and "comparison='difference'" in message(exc)
    result = perceived_value(table, {"scale_min": 0, "comparison": "difference"})
    assert result.competitors.loc["beta", "relative_quality"] == pytest.approx(0.75 * 8 + 0.25 * -4)
    assert result.attributes["ratio"].isna().tolist() == [True, True, False, False]  # Speed: beta and market rate 0


def test_dataframe_rows_are_named_by_their_index():
    table = pd.DataFrame({"attribute": ["a", "b"], "weight": [1, "x"], "rating_us": [5, 5], "rating_b": [5, 5]},
                         index=[10, 11])
    with pytest.raises(InvalidDataError, match=r"^survey: column 'weight': weight is not a number in 1 row "
                                               r"\(e\.g\. row 11: 'x'\)"):
        perceived_value(table)


def test_a_table_that_is_not_a_dataframe():
    with pytest.raises(InvalidDataError, match="must be a pandas DataFrame, got list"):
        perceived_value([1, 2, 3])


@pytest.mark.parametrize(("settings", "fragments"), [
    ({"scale_min": 10, "scale_max": 5},
     ["perceived value settings", "scale_min (10.0) must be a number below scale_max (5.0)"]),
    ({"fair_value_band": -1}, ["fair_value_band", "greater than or equal to 0", "got -1"]),
    ({"fair_value_slope": 0}, ["fair_value_slope", "greater than 0"]),
    ({"comparison": "percent"}, ["comparison", "'ratio' or 'difference'"]),
    ({"price_ratings": "cheapness"}, ["price_ratings"]),
    ({"top_n": 0}, ["top_n"]),
    ({"colour": "red"}, ["colour: unknown setting"]),
])
def test_bad_settings(settings, fragments):
    table = pd.DataFrame({"attribute": ["a"], "weight": [1], "rating_us": [5], "rating_b": [5]})
    with pytest.raises(ConfigError) as exc:
        perceived_value(table, settings)
    for fragment in fragments:
        assert fragment in message(exc)


def test_settings_of_the_wrong_type():
    table = pd.DataFrame({"attribute": ["a"], "weight": [1], "rating_us": [5], "rating_b": [5]})
    with pytest.raises(ConfigError, match="must be a mapping, got str"):
        perceived_value(table, "ratio")


def test_unreadable_files(tmp_path):
    with pytest.raises(InputFileError, match="missing.csv: file not found"):
        read_perceived_value(tmp_path / "missing.csv")
    with pytest.raises(InputFileError, match="is a folder"):
        read_perceived_value(tmp_path)
    (tmp_path / "survey.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown file type '.json'") as exc:
        read_perceived_value(tmp_path / "survey.json")
    assert ".xlsx" in message(exc)
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(InputFileError, match="broken.xlsx: cannot read the file"):
        read_perceived_value(tmp_path / "broken.xlsx")
