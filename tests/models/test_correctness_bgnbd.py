"""BG/NBD reproduces the published CDNOW numbers (REFERENCES.md section 1)."""

from __future__ import annotations

import numpy as np
import pytest

from cvm.models import bgnbd
from cvm.models.bgnbd import BetaGeoModel

BTYD = dict(r=0.2425982, alpha=4.4136842, a=0.7929899, b=2.4261667)
PAPER = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)
LIFETIMES = dict(r=0.242593, alpha=4.413532, a=0.792886, b=2.425752)


@pytest.fixture(scope="module")
def fitted(cdnow):
    return BetaGeoModel().fit(cdnow)


def test_parameters_match_the_paper(fitted):
    """Fader, Hardie & Lee (2005), via the lifetimes and CLVTools tests: 0.243, 4.414, 0.793, 2.426."""
    for name, value in PAPER.items():
        assert fitted.params_[name] == pytest.approx(value, abs=0.01)
    assert fitted.converged_
    assert fitted.report_.boundary == []


def test_full_precision_fit_and_log_likelihood(fitted):
    """CLVTools tests (test_correctness_bgnbd.R): r=0.2425945, alpha=4.4136019, a=0.7929199, b=2.4258881, LL=-9582.429."""
    expected = dict(r=0.2425945, alpha=4.4136019, a=0.7929199, b=2.4258881)
    for name, value in expected.items():
        assert fitted.params_[name] == pytest.approx(value, rel=1e-3)
    assert fitted.log_likelihood_ == pytest.approx(-9582.429, abs=0.01)


def test_standard_errors_match_lifetimes(fitted):
    """lifetimes docs (Quickstart) printed SEs: 0.012557, 0.378221, 0.185719, 0.705345."""
    expected = dict(r=0.012557, alpha=0.378221, a=0.185719, b=0.705345)
    for name, value in expected.items():
        assert fitted.standard_errors_[name] == pytest.approx(value, rel=0.01)


def test_new_customer_expectation_52_weeks():
    """BTYD vignette: bgnbd.Expectation(params, t=52) = 1.444004."""
    assert float(bgnbd.expected_purchases_new_customer(**BTYD, t=52)) == pytest.approx(1.444004, rel=1e-5)


def test_customer_1516():
    """BTYD vignette: customer 1516 (x=26, t_x=30.85714, T=31): E[X(52)] = 25.75659, P(alive) = 0.9688523."""
    history = dict(x=26, t_x=30.85714, T=31)
    assert float(bgnbd.expected_purchases(**BTYD, **history, t=52)) == pytest.approx(25.75659, rel=1e-5)
    assert float(bgnbd.probability_alive(**BTYD, **history)) == pytest.approx(0.9688523, rel=1e-6)


def test_increasing_frequency_paradox():
    """BTYD vignette: t_x=20, T=39, horizon 52, x=10/15/20/25 -> 0.3474606 / 0.04283391 / 0.004158973 / 0.0003583685."""
    got = bgnbd.expected_purchases(**BTYD, x=np.array([10, 15, 20, 25]), t_x=20, T=39, t=52)
    np.testing.assert_allclose(got, [0.3474606, 0.04283391, 0.004158973, 0.0003583685], rtol=1e-3)


def test_hardie_spreadsheet_customer():
    """lifetimes tests ("Hardie excel sheet"): (x=2, t_x=30.43, T=38.86), E[X(39)] = 1.226 ± 0.001."""
    got = float(bgnbd.expected_purchases(**PAPER, x=2, t_x=30.43, T=38.86, t=39))
    assert got == pytest.approx(1.226, abs=0.001)


def test_new_customer_expectation_curve():
    """lifetimes tests ("Hardie excel sheet", decimal=3), with lifetimes' own fit of the rounded summary."""
    t = np.array([0.1429, 1, 3, 31.8571, 32, 78])
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_array_almost_equal(bgnbd.expected_purchases_new_customer(**LIFETIMES, t=t), expected, decimal=3)


def test_probability_of_n_purchases():
    """lifetimes tests quoting the R BTYD manual: P(X(2)=10), P(X(39)=0), P(X(30)=n) for n = 11..20."""
    assert float(bgnbd.probability_of_purchases(**PAPER, t=2, n=10)) == pytest.approx(1.07869e-07, rel=1e-4)
    assert float(bgnbd.probability_of_purchases(**PAPER, t=39, n=0)) == pytest.approx(0.5737864, rel=1e-6)
    expected = [
        0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
        0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260,
    ]
    got = bgnbd.probability_of_purchases(**PAPER, t=30, n=np.arange(11, 21))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_holdout_actual_total(cdnow):
    """BTYD data: 1,882 repeat transactions in weeks 40-78."""
    assert int(cdnow["frequency_holdout"].sum()) == 1882


def test_holdout_conditional_expectation_by_frequency(cdnow):
    """BTYD vignette section 4.4: actual and BG/NBD expected mean holdout purchases by calibration x (0..7+)."""
    model = BetaGeoModel.from_params(BTYD)
    expected = model.expected_purchases(cdnow, 39)
    group = np.minimum(cdnow["frequency"].to_numpy(), 7)
    counts = [1411, 439, 214, 100, 62, 38, 29, 64]
    actual = [0.2367116, 0.6970387, 1.392523, 1.560000, 2.532258, 2.947368, 3.862069, 6.359375]
    predicted = [0.2250893, 0.5231364, 1.044126, 1.520256, 2.163824, 2.653789, 3.503957, 6.157036]
    for k in range(8):
        rows = group == k
        assert rows.sum() == counts[k]
        assert cdnow["frequency_holdout"].to_numpy()[rows].mean() == pytest.approx(actual[k], rel=1e-6)
        assert expected[rows].mean() == pytest.approx(predicted[k], rel=1e-3)


def test_tracking_weeks_20_to_25(cdnow):
    """BTYD vignette: weekly and cumulative expected repeat transactions, weeks 20-25.

    BTYD's convention: every customer's calibration ends on the same date; each birth is at
    max(T) - T weeks after 1997-01-01, and week k's cumulative expectation sums E[X(k - birth)].
    """
    T = cdnow["T"].to_numpy()
    birth = T.max() - T
    weeks = np.arange(1, 26)
    horizon = np.clip(weeks[:, None] - birth[None, :], 0.0, None)
    cumulative = bgnbd.expected_purchases_new_customer(**BTYD, t=horizon).sum(axis=1)
    weekly = np.diff(cumulative, prepend=0.0)
    np.testing.assert_allclose(
        weekly[19:25], [76.86531, 74.88843, 73.04554, 71.32166, 69.70412, 68.18213], rtol=1e-3
    )
    np.testing.assert_allclose(
        cumulative[19:25], [1312.458, 1387.346, 1460.392, 1531.713, 1601.418, 1669.6], rtol=1e-3
    )
