"""BG/BB reproduces the published donations numbers (REFERENCES.md section 4).

Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
Setting", Marketing Science 29(6). 11,104 donors first gave in 1995; calibration has 6
annual opportunities (1996-2001), the holdout 5 (2002-2006).

The bundled ``donations`` table holds only the calibration recency/frequency groups with
their weights; the holdout counts per donor (BTYD's ``x.star``) are not bundled, so the
holdout tables are checked on their *expected* rows only, not on the actual means.

BTYD printouts are checked at the BTYD maximum (its printed parameters), lifetimes'
numbers at our own fit (lifetimes computes them from its fit), as REFERENCES.md suggests.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaln

from cvm.datasets import load
from cvm.models import bgbb
from cvm.models.bgbb import BetaGeoBetaBinomModel

PAPER = dict(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
BTYD = dict(alpha=1.203528, beta=0.7497260, gamma=0.6567808, delta=2.783796)
DONORS = 11104


@pytest.fixture(scope="module")
def donations():
    table = load("donations").rename(columns={"periods": "n_periods"})
    return {name: table[name].to_numpy(dtype=float) for name in ("frequency", "recency", "n_periods", "weights")}


@pytest.fixture(scope="module")
def fitted(donations):
    return BetaGeoBetaBinomModel().fit(donations, weights=donations["weights"])


def _holdout_expectations(donations, params):
    return bgbb.expected_purchases(
        **params, x=donations["frequency"], t_x=donations["recency"], n=donations["n_periods"], n_star=5
    )


def test_the_bundled_table_is_the_1995_cohort(donations):
    """REFERENCES.md, conventions: 11,104 donors, 6 calibration opportunities."""
    assert donations["weights"].sum() == DONORS
    assert set(donations["n_periods"]) == {6.0}


def test_parameters_match_the_paper(fitted):
    """Paper, via the lifetimes tests (test_params_out_is_close_to_Hardie_paper): 1.204, 0.750, 0.657, 2.783."""
    for name, value in PAPER.items():
        assert fitted.params_[name] == pytest.approx(value, abs=0.01)
    assert fitted.converged_
    assert fitted.report_.boundary == []


def test_full_precision_fit_and_log_likelihood(fitted):
    """BTYD vignette section 5.2: MLE 1.203528, 0.7497260, 0.6567808, 2.783796; LL -33225.58."""
    for name, value in BTYD.items():
        assert fitted.params_[name] == pytest.approx(value, rel=1e-3)
    assert fitted.log_likelihood_ == pytest.approx(-33225.58, abs=0.01)


def test_log_likelihood_at_the_btyd_maximum(donations):
    """BTYD vignette section 5.2: LL -33225.58 at its printed parameters."""
    ll = bgbb.log_likelihood(**BTYD, x=donations["frequency"], t_x=donations["recency"], n=donations["n_periods"])
    assert float(np.dot(donations["weights"], ll)) == pytest.approx(-33225.58, abs=0.01)


def test_log_likelihood_equals_the_plain_sum_of_eq_5():
    """FHS 2010 eq. 5 written out term by term (scipy beta functions), for a spread of histories."""
    rows = [(0, 0, 6), (1, 1, 6), (2, 5, 6), (3, 3, 10), (6, 6, 6), (4, 9, 30)]
    a, b, g, d = PAPER.values()
    for x, t_x, n in rows:
        plain = np.exp(betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n) - betaln(g, d))
        plain += sum(
            np.exp(betaln(a + x, b + t_x - x + i) - betaln(a, b) + betaln(g + 1, d + t_x + i) - betaln(g, d))
            for i in range(n - t_x)
        )
        assert float(bgbb.log_likelihood(**PAPER, x=x, t_x=t_x, n=n)) == pytest.approx(np.log(plain), rel=1e-12)


def test_probability_alive_in_2002():
    """Paper Table 6, via the lifetimes tests (decimal=2): 0.11, 0.59, 0.93."""
    alive = bgbb.probability_alive(**PAPER, x=[0, 2, 6], t_x=[0, 4, 6], n=6)
    assert alive == pytest.approx([0.11, 0.59, 0.93], abs=0.005)


def test_expected_donors_with_0_and_6_repeat_donations(fitted):
    """lifetimes tests (Hardie In-Sample Fit sheet, note 010): 3454.9 and 1253.1 donors."""
    expected = DONORS * fitted.probability_of_purchases(6, np.array([0, 6]))
    assert expected == pytest.approx([3454.9, 1253.1], abs=0.1)


def test_probabilities_of_purchases_sum_to_one():
    """P(X(6) = x) over x = 0..6 is a distribution (FHS 2010 eq. 8); its mean is E[X(6)] (eq. 7)."""
    p = bgbb.probability_of_purchases(**PAPER, n=6, x=np.arange(7))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.dot(np.arange(7), p) == pytest.approx(float(bgbb.expected_purchases_new_customer(**PAPER, n=6)), rel=1e-12)


def test_total_conditional_expectation_over_the_holdout(fitted, donations):
    """lifetimes tests (Hardie "Conditional Expectations (II)" sheet): 12884.2 donations in 2002-2006."""
    expected = fitted.expected_purchases(donations, 5)
    assert float(np.dot(donations["weights"], expected)) == pytest.approx(12884.2, abs=0.1)


def test_new_donor_expectation_over_10_years():
    """BTYD vignette: bgbb.Expectation(params, n=10) = 3.179805."""
    assert float(bgbb.expected_purchases_new_customer(**BTYD, n=10)) == pytest.approx(3.179805, rel=1e-5)


def test_conditional_expectations_over_10_years():
    """BTYD vignette: E[X*(10) | n=6, x=0, t_x=0] = 0.1302169 and E[X*(10) | n=6, x=4, t_x=5] = 3.627858."""
    value = bgbb.expected_purchases(**BTYD, x=[0, 4], t_x=[0, 5], n=6, n_star=10)
    assert value == pytest.approx([0.1302169, 3.627858], rel=1e-5)


def test_holdout_by_calibration_frequency(donations):
    """BTYD vignette section 5.4, expected row (the actual row needs holdout data that is not bundled)."""
    donors = [3464, 1823, 1430, 1085, 1036, 1063, 1203]
    expected = [0.07286318, 0.3248841, 0.7089417, 1.333666, 2.031203, 2.784482, 3.752500]
    conditional = _holdout_expectations(donations, BTYD)
    x, w = donations["frequency"], donations["weights"]
    for k in range(7):
        rows = x == k
        assert w[rows].sum() == donors[k]
        assert np.dot(w[rows], conditional[rows]) / w[rows].sum() == pytest.approx(expected[k], rel=1e-5)


def test_holdout_by_calibration_recency(donations):
    """BTYD vignette, expected row by recency (the actual row needs holdout data that is not bundled)."""
    donors = [3464, 1091, 890, 706, 654, 1136, 3163]
    expected = [0.07286318, 0.0856939, 0.1798423, 0.4041111, 0.8510811, 1.726323, 3.027190]
    conditional = _holdout_expectations(donations, BTYD)
    t_x, w = donations["recency"], donations["weights"]
    for k in range(7):
        rows = t_x == k
        assert w[rows].sum() == donors[k]
        assert np.dot(w[rows], conditional[rows]) / w[rows].sum() == pytest.approx(expected[k], rel=1e-5)


def test_annual_incremental_tracking():
    """BTYD vignette, expected annual repeat donations 1996-2006 by the 11,104 donors acquired in 1995."""
    expected = [
        5535.833, 4717.059, 4147.621, 3724.665, 3395.888, 3131.647,
        2913.778, 2730.482, 2573.731, 2437.854, 2318.727,
    ]
    cumulative = DONORS * bgbb.expected_purchases_new_customer(**BTYD, n=np.arange(12))
    assert np.diff(cumulative) == pytest.approx(expected, rel=1e-5)


def test_cumulative_tracking_2006():
    """BTYD vignette: expected cumulative repeat donations by 2006 = 37627.29 (actual 37875)."""
    assert DONORS * float(bgbb.expected_purchases_new_customer(**BTYD, n=11)) == pytest.approx(37627.29, rel=1e-6)


def test_dert_equals_the_discounted_sum_of_period_expectations():
    """FHS 2010 eq. 14 (DERT) against the definition: sum over k of E[X in n + k] / (1 + d)^k.

    No published DERT value is in REFERENCES.md, so the closed form (2F1) is checked
    against the series of the incremental conditional expectations (eq. 13), truncated
    where its tail is below 1e-12.
    """
    horizon = np.arange(0, 4001)
    for x, t_x in [(0, 0), (2, 4), (6, 6)]:
        for d in (0.05, 0.1, 0.5):
            per_period = np.diff(bgbb.expected_purchases(**PAPER, x=x, t_x=t_x, n=6, n_star=horizon))
            series = np.sum(per_period * np.exp(-horizon[1:] * np.log1p(d)))
            dert = bgbb.discounted_expected_residual_transactions(**PAPER, x=x, t_x=t_x, n=6, discount_rate=d)
            assert float(dert) == pytest.approx(series, rel=1e-9)


def test_dert_without_discounting_is_the_expected_residual_count():
    """At d = 0, DERT is the limit of E[X(n, n + n*)] as n* grows: finite iff gamma > 1."""
    params = dict(alpha=1.2, beta=0.75, gamma=2.5, delta=2.8)
    far = bgbb.expected_purchases(**params, x=3, t_x=5, n=6, n_star=10**7)
    dert = bgbb.discounted_expected_residual_transactions(**params, x=3, t_x=5, n=6, discount_rate=0.0)
    assert float(dert) == pytest.approx(float(far), rel=1e-6)
    assert np.isinf(bgbb.discounted_expected_residual_transactions(**PAPER, x=3, t_x=5, n=6, discount_rate=0.0))


def test_simulated_donors_look_like_the_model():
    """The simulator matches eq. 8: the share of donors with x repeat donations in 6 years."""
    sim = bgbb.simulate(**PAPER, n=np.full(200_000, 6), seed=11)
    observed = np.bincount(sim["frequency"].astype(int), minlength=7) / 200_000
    assert observed == pytest.approx(bgbb.probability_of_purchases(**PAPER, n=6, x=np.arange(7)), abs=0.004)
    assert np.all(sim["recency"] >= sim["frequency"])


def test_model_methods_agree_with_the_closed_forms(fitted, donations):
    """The model's prediction methods call the module-level closed forms with its estimates."""
    p = fitted.params_
    x, t_x, n = donations["frequency"], donations["recency"], donations["n_periods"]
    assert fitted.probability_alive(donations) == pytest.approx(bgbb.probability_alive(**p, x=x, t_x=t_x, n=n))
    by_period = fitted.expected_purchases_by_period(donations, 5)
    assert by_period.sum(axis=1) == pytest.approx(fitted.expected_purchases(donations, 5))
    assert fitted.discounted_expected_residual_transactions(donations, 0.1) == pytest.approx(
        bgbb.discounted_expected_residual_transactions(**p, x=x, t_x=t_x, n=n, discount_rate=0.1)
    )
    alive_later = fitted.probability_alive(donations, ahead=3)
    assert np.all(alive_later <= fitted.probability_alive(donations))
