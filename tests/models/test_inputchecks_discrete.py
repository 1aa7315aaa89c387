"""Bad input to the discrete-time models (BG/BB, shifted-BG) gives an error naming the column and the rule."""

from __future__ import annotations

import numpy as np
import pytest

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError
from cvm.models.bgbb import BetaGeoBetaBinomModel, simulate
from cvm.models.sbg import ShiftedBetaGeoModel, from_survivors


def _bgbb(**changes):
    data = {
        "frequency": np.array([0.0, 2.0, 3.0, 6.0]),
        "recency": np.array([0.0, 4.0, 3.0, 6.0]),
        "n_periods": np.array([6.0, 6.0, 6.0, 6.0]),
    }
    for column, (row, value) in changes.items():
        data[column][row] = value
    return data


def _sbg(**changes):
    data = {"duration": np.array([0.0, 1.0, 3.0, 7.0]), "churned": np.array([1.0, 1.0, 0.0, 0.0])}
    for column, (row, value) in changes.items():
        data[column][row] = value
    return data


@pytest.mark.parametrize(
    ("changes", "column", "rule"),
    [
        ({"frequency": (1, -1.0)}, "frequency", "whole number >= 0"),
        ({"frequency": (1, 1.5)}, "frequency", "whole number >= 0"),
        ({"n_periods": (2, np.inf)}, "n_periods", "finite"),
        ({"recency": (2, np.nan)}, "recency", "finite"),
        ({"recency": (1, 7.0)}, "recency", "between frequency and n_periods"),
        ({"recency": (2, 2.0)}, "recency", "between frequency and n_periods"),
        ({"recency": (0, 0.0), "frequency": (0, 0.0), "n_periods": (0, -6.0)}, "n_periods", "whole number >= 0"),
        ({"recency": (0, 3.0)}, "recency", "be 0 when frequency is 0"),
    ],
)
def test_bgbb_rejects_bad_rows(changes, column, rule):
    with pytest.raises(InvalidDataError, match=rf"BG/BB: column '{column}' must .*{rule}.*row"):
        BetaGeoBetaBinomModel().fit(_bgbb(**changes))


def test_bgbb_recency_zero_needs_frequency_zero():
    data = {"frequency": np.array([0.0]), "recency": np.array([0.0]), "n_periods": np.array([6.0])}
    BetaGeoBetaBinomModel().check_data(data)  # no repeat transaction: recency 0 is right
    with pytest.raises(InvalidDataError, match="recency"):
        BetaGeoBetaBinomModel().fit({"frequency": [1.0], "recency": [0.0], "n_periods": [6.0]})


def test_bgbb_names_the_missing_column():
    data = _bgbb()
    del data["n_periods"]
    with pytest.raises(MissingColumnError, match="n_periods"):
        BetaGeoBetaBinomModel().fit(data)


def test_bgbb_predictions_check_their_input_too():
    model = BetaGeoBetaBinomModel().fit(simulate(1.2, 0.75, 0.66, 2.8, n=[6] * 2000, seed=1))
    with pytest.raises(InvalidDataError, match="recency"):
        model.probability_alive(_bgbb(recency=(1, 9.0)))
    with pytest.raises(MissingColumnError, match="frequency"):
        model.expected_purchases({"recency": [0.0], "n_periods": [6.0]}, 5)


def test_bgbb_rejects_bad_weights():
    with pytest.raises(InvalidDataError, match="weights"):
        BetaGeoBetaBinomModel().fit(_bgbb(), weights=[1, 2, -3, 4])
    with pytest.raises(InvalidDataError, match="weights has 2 values for 4"):
        BetaGeoBetaBinomModel().fit(_bgbb(), weights=[1, 2])


@pytest.mark.parametrize(
    ("changes", "column", "rule"),
    [
        ({"duration": (1, -1.0)}, "duration", "whole number >= 0"),
        ({"duration": (1, 2.5)}, "duration", "whole number >= 0"),
        ({"duration": (3, np.nan)}, "duration", "finite"),
        ({"churned": (0, 2.0)}, "churned", "0 \\(active\\) or 1"),
        ({"churned": (2, 0.5)}, "churned", "0 \\(active\\) or 1"),
        ({"churned": (2, np.inf)}, "churned", "finite"),
    ],
)
def test_sbg_rejects_bad_rows(changes, column, rule):
    with pytest.raises(InvalidDataError, match=rf"shifted-BG: column '{column}' must .*{rule}.*row"):
        ShiftedBetaGeoModel().fit(_sbg(**changes))


def test_sbg_names_the_missing_column():
    with pytest.raises(MissingColumnError, match="churned"):
        ShiftedBetaGeoModel().fit({"duration": [1.0, 2.0]})


@pytest.mark.parametrize(
    ("counts", "rule"),
    [
        ([1000, 631, 700], "must not increase"),
        ([0, 0, 0], "cohort size > 0"),
        ([1000, -5], "finite and >= 0"),
        ([1000, np.nan], "finite and >= 0"),
    ],
)
def test_from_survivors_rejects_impossible_curves(counts, rule):
    with pytest.raises(InvalidDataError, match=rf"shifted-BG: column 'counts' .*{rule}"):
        from_survivors(counts)


def test_from_survivors_rejects_an_empty_curve():
    with pytest.raises(InvalidDataError, match="empty"):
        from_survivors([])


def test_predicting_before_fitting_is_a_clear_error():
    with pytest.raises(ConfigError, match="not fitted"):
        ShiftedBetaGeoModel().survival(3)
    with pytest.raises(ConfigError, match="not fitted"):
        BetaGeoBetaBinomModel().expected_purchases_new_customer(3)
