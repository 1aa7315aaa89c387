"""Holdout validation and model choice (cvm.models.validation) on the CDNOW sample."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cvm.datasets import load
from cvm.errors import ConfigError, InvalidDataError
from cvm.models.bgnbd import BetaGeoModel
from cvm.models.validation import compare, conditional_expectations, holdout_errors, tracking

BTYD = dict(r=0.2425982, alpha=4.4136842, a=0.7929899, b=2.4261667)


@pytest.fixture(scope="module")
def log():
    return load("cdnow_sample")


def test_conditional_expectation_table_matches_btyd(cdnow):
    """BTYD vignette section 4.4 (see REFERENCES.md section 1): the 0..7+ table."""
    model = BetaGeoModel.from_params(BTYD)
    rows = conditional_expectations(
        cdnow["frequency"], actual=cdnow["frequency_holdout"], expected=model.expected_purchases(cdnow, 39)
    )
    assert [r.frequency for r in rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [r.customers for r in rows] == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert rows[0].actual_mean == pytest.approx(0.2367116, rel=1e-6)
    assert rows[7].expected_mean == pytest.approx(6.157036, rel=1e-3)


def test_holdout_errors_on_cdnow(cdnow):
    model = BetaGeoModel().fit(cdnow)
    errors = holdout_errors(expected=model.expected_purchases(cdnow, cdnow["duration_holdout"]),
                            actual=cdnow["frequency_holdout"])
    assert errors.actual_total == 1882
    assert 0 < errors.mae < errors.rmse
    # BG/NBD under-predicts the CDNOW holdout (BTYD's table: every group's expectation is below actual)
    assert errors.aggregate_error < 0
    assert errors.aggregate_relative_error == pytest.approx(errors.aggregate_error / 1882)


def test_tracking_reproduces_btyd_weeks_20_to_25(log, cdnow):
    """BTYD vignette (REFERENCES.md section 1): weekly and cumulative actual and BG/NBD expected, weeks 20-25."""
    days = log.assign(day=log["date"].dt.normalize()).drop_duplicates(["customer_id", "day"])
    days = days.sort_values(["customer_id", "day"])
    repeat = days[days.duplicated("customer_id")]  # every purchase day but the first
    week = ((repeat["day"] - np.datetime64(dt.date(1997, 1, 1))).dt.days // 7 + 1).to_numpy()
    actual = np.bincount(week[week <= 78], minlength=79)[1:]
    T = cdnow["T"].to_numpy()
    result = tracking(BetaGeoModel.from_params(BTYD), T.max() - T, np.arange(1, 79), actual=actual)
    weeks = slice(19, 25)
    assert result.actual[weeks].tolist() == [73, 55, 70, 33, 56, 99]
    assert result.cumulative_actual[weeks].tolist() == [1359, 1414, 1484, 1517, 1573, 1672]
    np.testing.assert_allclose(
        result.expected[weeks], [76.86531, 74.88843, 73.04554, 71.32166, 69.70412, 68.18213], rtol=1e-3
    )
    np.testing.assert_allclose(
        result.cumulative_expected[weeks], [1312.458, 1387.346, 1460.392, 1531.713, 1601.418, 1669.6], rtol=1e-3
    )
    assert result.cumulative_actual[77] - result.cumulative_actual[38] == 1882


def test_compare_chooses_and_explains(cdnow):
    comparison = compare(cdnow, ["bgnbd"])
    assert comparison.chosen == "bgnbd"
    assert comparison.explanation.startswith("BG/NBD was chosen")
    assert comparison.candidates[0].purchases.actual_total == 1882
    assert comparison.to_dict()["chosen"] == "bgnbd"


def test_compare_picks_the_lowest_holdout_error(cdnow):
    """A heavily penalised fit predicts worse; the unpenalised one must win whatever the order."""
    bad = compare(cdnow, ["bgnbd"], settings={"penalizer": 5000.0}).candidates[0]
    good = compare(cdnow, ["bgnbd"]).candidates[0]
    assert good.purchases.rmse < bad.purchases.rmse


def test_compare_rejects_unknown_models(cdnow):
    with pytest.raises(ConfigError, match="unknown model"):
        compare(cdnow, ["nope"])


def test_holdout_errors_need_matching_lengths():
    with pytest.raises(InvalidDataError, match="expected has 2 values"):
        holdout_errors(expected=np.ones(2), actual=np.ones(3))


def test_compare_scores_holdout_revenue_with_a_spend_model(cdnow):
    """Expected holdout revenue = expected purchases x Gamma-Gamma expected spend, scored against revenue_holdout."""
    from cvm.models.gamma_gamma import GammaGammaModel

    spend = GammaGammaModel().fit(cdnow)
    comparison = compare(cdnow, ["bgnbd"], spend=spend)
    revenue = comparison.candidates[0].revenue
    assert revenue is not None
    assert revenue.actual_total == pytest.approx(cdnow["revenue_holdout"].sum())
    model = comparison.candidates[0].model
    expected = model.expected_purchases(cdnow, cdnow["duration_holdout"]) * spend.expected_spend(cdnow)
    assert revenue.expected_total == pytest.approx(expected.sum(), rel=1e-12)
    assert comparison.to_dict()["candidates"][0]["revenue"]["rmse"] == revenue.rmse
