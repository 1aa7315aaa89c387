"""Shifted-BG reproduces Fader & Hardie (2007) on their own data.

Fader, P.S. & Hardie, B.G.S. (2007). "How to project customer retention". Journal of
Interactive Marketing 21(1), 76-90. The paper fits the first 7 years of two cohorts of
1,000 customers each (survivors at the start of years 1..8):

* high end: 1000, 869, 743, 653, 593, 551, 517, 491 -> alpha = 0.668, beta = 3.806;
* regular:  1000, 631, 468, 382, 326, 289, 262, 241 -> alpha = 0.704, beta = 1.182.

These survivor counts and estimates come from the paper as recalled by the engineer who
wrote this test; they are NOT in REFERENCES.md. They are checked here by fitting the
model to the paper's own data, so a wrong recollection of the counts would show up as
a fit far from the estimates.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvm.models import sbg
from cvm.models.sbg import ShiftedBetaGeoModel, from_survivors

HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def _fit(counts):
    rows = from_survivors(counts)
    return ShiftedBetaGeoModel().fit(rows, weights=rows["weights"])


@pytest.mark.parametrize(
    ("counts", "alpha", "beta"),
    [(HIGH_END, 0.668, 3.806), (REGULAR, 0.704, 1.182)],
    ids=["high end", "regular"],
)
def test_parameters_match_the_paper(counts, alpha, beta):
    """Fader & Hardie (2007), the 7-year fits (from the paper, not in REFERENCES.md): see the module docstring."""
    model = _fit(counts)
    assert model.converged_
    assert model.params_["alpha"] == pytest.approx(alpha, abs=0.01)
    assert model.params_["beta"] == pytest.approx(beta, abs=0.01)


def test_from_survivors_follows_the_convention():
    """Churned after t - 1 renewals for each period's losses; the last count active with duration 7."""
    rows = from_survivors(REGULAR)
    assert rows["duration"].tolist() == list(range(8))
    assert rows["churned"].tolist() == [1] * 7 + [0]
    assert rows["weights"].tolist() == [369, 163, 86, 56, 37, 27, 21, 241]
    assert rows["weights"].sum() == 1000


def test_log_likelihood_is_the_cohort_likelihood_of_the_paper():
    """FH 2007 eq. 8: sum over t of (n_{t-1} - n_t) log P(T = t) + n_7 log S(7)."""
    a, b = 0.704, 1.182
    rows = from_survivors(REGULAR)
    ours = float(np.dot(rows["weights"], sbg.log_likelihood(a, b, rows["duration"], rows["churned"])))
    counts = np.array(REGULAR, dtype=float)
    t = np.arange(1, 8)
    paper = np.dot(counts[:-1] - counts[1:], np.log(sbg.churn_probability(a, b, t))) + counts[-1] * np.log(
        sbg.survival(a, b, 7)
    )
    assert ours == pytest.approx(paper, rel=1e-13)


def test_closed_forms_agree_with_each_other():
    """S(t) = 1 - sum P(T <= t); r(t) = S(t)/S(t-1) = (beta + t - 1)/(alpha + beta + t - 1); P(T = 1) = alpha/(alpha + beta)."""
    a, b = 0.668, 3.806
    t = np.arange(1, 40)
    churn = sbg.churn_probability(a, b, t)
    assert sbg.survival(a, b, t) == pytest.approx(1 - np.cumsum(churn), rel=1e-12)
    assert sbg.retention_rate(a, b, t) == pytest.approx(sbg.survival(a, b, t) / sbg.survival(a, b, t - 1), rel=1e-12)
    assert float(churn[0]) == pytest.approx(a / (a + b), rel=1e-14)


def test_derl_equals_the_discounted_survival_series():
    """Fader & Hardie (2010) DERL: sum over k >= 1 of S(n - 1 + k)/S(n - 1) / (1 + d)^(k - 1), with n - 1 renewals made."""
    a, b = 0.704, 1.182
    k = np.arange(1, 200_001)
    for renewals in (0, 4, 30):
        for d in (0.05, 0.1, 0.5):
            keep = sbg.survival(a, b + renewals, k)  # S(n-1+k)/S(n-1) = S_{alpha, beta + n - 1}(k)
            series = np.sum(keep * np.exp(-(k - 1) * np.log1p(d)))
            derl = sbg.discounted_expected_residual_lifetime(a, b, renewals, d)
            assert float(derl) == pytest.approx(series, rel=1e-8)


def test_derl_without_discounting_is_the_expected_remaining_lifetime():
    """At d = 0, DERL is E[(1 - theta)/theta] = (beta + n - 1)/(alpha - 1) for alpha > 1, else infinite."""
    assert float(sbg.discounted_expected_residual_lifetime(2.5, 1.2, 3, 0.0)) == pytest.approx((1.2 + 3) / 1.5)
    assert float(sbg.expected_remaining_lifetime(2.5, 1.2, 3)) == pytest.approx((1.2 + 3) / 1.5)
    assert np.isinf(sbg.expected_remaining_lifetime(0.704, 1.182, 3))
    assert np.isinf(sbg.discounted_expected_residual_lifetime(0.704, 1.182, 3, 0.0))


def test_simulated_cohort_follows_the_survival_curve():
    """The simulator's survivors match S(t) for a 100,000-customer cohort."""
    sim = sbg.simulate(0.704, 1.182, horizon=np.full(100_000, 7), seed=3)
    lifetime = np.where(sim["churned"] > 0, sim["duration"] + 1, np.inf)
    survivors = np.array([np.mean(lifetime > t) for t in range(8)])
    assert survivors == pytest.approx(sbg.survival(0.704, 1.182, np.arange(8)), abs=0.005)


def test_model_methods_agree_with_the_closed_forms():
    """The model's prediction methods call the closed forms with its estimates; cancelled customers get 0."""
    model = _fit(REGULAR)
    a, b = model.params_["alpha"], model.params_["beta"]
    customers = {"duration": np.array([0.0, 3.0, 7.0]), "churned": np.array([1.0, 0.0, 0.0])}
    assert model.survival(np.arange(5)) == pytest.approx(sbg.survival(a, b, np.arange(5)))
    assert model.retention_rate(3) == pytest.approx(sbg.retention_rate(a, b, 3))
    assert model.churn_probability(2) == pytest.approx(sbg.churn_probability(a, b, 2))
    alive = model.probability_alive(customers, ahead=2)
    assert alive[0] == 0
    assert alive[1] == pytest.approx(sbg.survival(a, b, 5) / sbg.survival(a, b, 3))
    derl = model.discounted_expected_residual_lifetime(customers, 0.1)
    assert derl[0] == 0
    assert derl[1:] == pytest.approx(sbg.discounted_expected_residual_lifetime(a, b, np.array([3.0, 7.0]), 0.1))
    assert model.expected_remaining_lifetime(customers)[0] == 0
