"""BG/BB and shifted-BG invariants over the whole parameter and data space (Hypothesis).

No NaN or infinity for valid inputs (x = 0, t_x = n, huge n, tiny and huge parameters);
probabilities within [0, 1]; expectations non-decreasing in the horizon; DERT and DERL
falling as the discount rate rises.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.models import bgbb, sbg

positive = st.floats(min_value=1e-4, max_value=1e4)
bgbb_parameters = st.fixed_dictionaries({"alpha": positive, "beta": positive, "gamma": positive, "delta": positive})
sbg_parameters = st.fixed_dictionaries({"alpha": positive, "beta": positive})
horizons = st.integers(min_value=0, max_value=100_000)
rates = st.floats(min_value=1e-4, max_value=10.0)
SLACK = 1e-9


@st.composite
def histories(draw):
    n = draw(st.one_of(st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=20_000)))
    x = draw(st.one_of(st.just(0), st.just(n), st.integers(min_value=0, max_value=n)))
    if x == 0:
        t_x = 0
    else:
        t_x = draw(st.one_of(st.just(n), st.integers(min_value=x, max_value=n)))
    return float(x), float(t_x), float(n)


@settings(max_examples=300, deadline=None)
@given(bgbb_parameters, histories(), horizons, horizons)
def test_bgbb_predictions_are_finite_and_coherent(params, history, h1, h2):
    x, t_x, n = history
    h1, h2 = sorted((h1, h2))
    assert np.isfinite(bgbb.log_likelihood(**params, x=x, t_x=t_x, n=n))
    assert bgbb.log_likelihood(**params, x=x, t_x=t_x, n=n) <= SLACK  # a log-probability, up to rounding
    alive = bgbb.probability_alive(**params, x=x, t_x=t_x, n=n)
    later = bgbb.probability_alive(**params, x=x, t_x=t_x, n=n, ahead=1 + h1)
    assert 0.0 <= later <= alive <= 1.0
    e1 = bgbb.expected_purchases(**params, x=x, t_x=t_x, n=n, n_star=h1)
    e2 = bgbb.expected_purchases(**params, x=x, t_x=t_x, n=n, n_star=h2)
    assert np.isfinite(e2)
    assert 0.0 <= e1 <= e2 * (1 + SLACK) + 1e-300
    assert e2 <= h2 * (1 + SLACK)  # at most one transaction per opportunity
    n1 = bgbb.expected_purchases_new_customer(**params, n=h1)
    n2 = bgbb.expected_purchases_new_customer(**params, n=h2)
    assert np.isfinite(n2)
    assert 0.0 <= n1 <= n2 * (1 + SLACK) + 1e-300 <= h2 * (1 + SLACK) + 1e-300


@settings(max_examples=150, deadline=None)
@given(bgbb_parameters, st.integers(min_value=0, max_value=300))
def test_bgbb_purchase_counts_are_a_distribution(params, n):
    p = bgbb.probability_of_purchases(**params, n=n, x=np.arange(n + 1))
    assert np.all((p >= 0) & (p <= 1))
    assert p.sum() == np.float64(p.sum())  # finite
    assert abs(p.sum() - 1.0) < 1e-8


@settings(max_examples=100, deadline=None)  # small rates sum long series
@given(bgbb_parameters, histories(), rates, rates)
def test_bgbb_dert_falls_as_the_discount_rate_rises(params, history, d1, d2):
    x, t_x, n = history
    d1, d2 = sorted((d1, d2))
    low = bgbb.discounted_expected_residual_transactions(**params, x=x, t_x=t_x, n=n, discount_rate=d1)
    high = bgbb.discounted_expected_residual_transactions(**params, x=x, t_x=t_x, n=n, discount_rate=d2)
    assert np.isfinite(low)
    assert 0.0 <= high <= low * (1 + 1e-7) + 1e-300
    assert low <= 1 / d1 * (1 + 1e-9)  # at most one transaction per opportunity


@settings(max_examples=300, deadline=None)
@given(sbg_parameters, st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_sbg_closed_forms_are_finite_and_coherent(params, t1, t2):
    t1, t2 = sorted((t1, t2))
    for churned in (0.0, 1.0):
        ll = sbg.log_likelihood(**params, duration=t2, churned=churned)
        assert np.isfinite(ll) and ll <= 1e-12
    s1, s2 = sbg.survival(**params, t=t1), sbg.survival(**params, t=t2)
    assert 0.0 <= s2 <= s1 <= 1.0
    churn = sbg.churn_probability(**params, t=t2 + 1)
    assert 0.0 <= churn <= 1.0
    r1, r2 = sbg.retention_rate(**params, t=t1 + 1), sbg.retention_rate(**params, t=t2 + 1)
    assert 0.0 <= r1 <= r2 * (1 + 1e-12) <= 1.0 + 1e-12  # the cohort's retention rate rises
    remaining = sbg.expected_remaining_lifetime(**params, duration=t1)
    assert remaining >= 0 and (np.isfinite(remaining) or params["alpha"] <= 1)


@settings(max_examples=100, deadline=None)  # small rates sum long series
@given(sbg_parameters, st.integers(min_value=0, max_value=10**6), rates, rates)
def test_sbg_derl_falls_as_the_discount_rate_rises(params, renewals, d1, d2):
    d1, d2 = sorted((d1, d2))
    low = sbg.discounted_expected_residual_lifetime(**params, duration=renewals, discount_rate=d1)
    high = sbg.discounted_expected_residual_lifetime(**params, duration=renewals, discount_rate=d2)
    assert np.isfinite(low)
    assert 0.0 <= high <= low * (1 + 1e-7) + 1e-300
    assert low <= (1 + d1) / d1 * (1 + 1e-9)  # at most every future period, undiscounted by churn


@settings(max_examples=50, deadline=None)
@given(bgbb_parameters, st.integers(min_value=0, max_value=2**31))
def test_bgbb_simulations_obey_the_data_rules(params, seed):
    sim = bgbb.simulate(**params, n=np.arange(0, 40), seed=seed)
    bgbb.check_frequency_recency_n(sim, "BG/BB")
    assert np.all(np.isfinite(bgbb.log_likelihood(**params, x=sim["frequency"], t_x=sim["recency"], n=sim["n_periods"])))


@settings(max_examples=50, deadline=None)
@given(sbg_parameters, st.integers(min_value=0, max_value=2**31))
def test_sbg_simulations_obey_the_data_rules(params, seed):
    sim = sbg.simulate(**params, horizon=np.arange(0, 40), seed=seed)
    sbg.check_duration_churned(sim, "shifted-BG")
    assert np.all(sim["duration"] <= np.arange(0, 40))
