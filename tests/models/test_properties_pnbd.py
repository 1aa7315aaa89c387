"""Pareto/NBD invariants under Hypothesis: finite outputs everywhere, probabilities in [0, 1],
expectations non-decreasing in the horizon, the 2F1 closed form agreeing with quadrature."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.models import pareto_nbd

SETTINGS = settings(max_examples=60, deadline=None)

positive = st.floats(min_value=-4.0, max_value=6.0).map(lambda e: 10.0**e)  # 1e-4 .. 1e6
params = st.fixed_dictionaries({"r": positive, "alpha": positive, "s": positive, "beta": positive})


@st.composite
def histories(draw):
    x = draw(st.one_of(st.integers(0, 10), st.integers(0, 100_000), st.sampled_from([0, 1, 100_000])))
    T = draw(st.floats(min_value=-3.0, max_value=6.0).map(lambda e: 10.0**e))
    share = draw(st.one_of(st.just(1.0), st.floats(min_value=0.0, max_value=1.0)))
    t_x = T * share if x > 0 else 0.0
    return float(x), t_x, T


@SETTINGS
@given(params, histories())
def test_likelihood_and_p_alive_are_finite_and_bounded(p, history):
    x, t_x, T = history
    ll = pareto_nbd.log_likelihood(**p, x=x, t_x=t_x, T=T)
    assert np.isfinite(ll)
    alive = float(pareto_nbd.probability_alive(**p, x=x, t_x=t_x, T=T))
    assert 0.0 <= alive <= 1.0
    if t_x == T:
        assert alive == 1.0


@SETTINGS
@given(params, histories())
def test_log_likelihood_is_a_log_probability_density(p, history):
    """Finite; and for x = 0 it is the log of a probability (at most 0)."""
    x, t_x, T = history
    ll = float(pareto_nbd.log_likelihood(**p, x=x, t_x=t_x, T=T))
    assert np.isfinite(ll)
    if x == 0:
        assert ll <= 1e-12


@SETTINGS
@given(params, histories(), st.lists(st.floats(min_value=0.0, max_value=1e5), min_size=2, max_size=5))
def test_predictions_are_finite_and_monotone_in_the_horizon(p, history, horizons):
    x, t_x, T = history
    t = np.sort(np.asarray(horizons))
    expected = pareto_nbd.expected_purchases(**p, x=x, t_x=t_x, T=T, t=t)
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    assert np.all(np.diff(expected) >= -1e-12 * np.abs(expected[1:]))
    alive = pareto_nbd.probability_alive_at(**p, x=x, t_x=t_x, T=T, t=t)
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.diff(alive) <= 1e-15)
    new = pareto_nbd.expected_purchases_new_customer(**p, t=t)
    assert np.all(np.isfinite(new)) and np.all(np.diff(new) >= -1e-12 * np.abs(new[1:]))


@SETTINGS
@given(params, histories(), st.floats(min_value=-5.0, max_value=1.0))
def test_dert_is_finite_and_falls_as_the_discount_rate_rises(p, history, log_delta):
    x, t_x, T = history
    delta = 10.0**log_delta
    low, high = pareto_nbd.discounted_expected_residual_transactions(**p, x=x, t_x=t_x, T=T, delta=[delta, 2 * delta])
    assert np.isfinite(low) and np.isfinite(high)
    assert 0.0 <= high <= low * (1 + 1e-9)


@SETTINGS
@given(
    st.floats(min_value=-2.0, max_value=5.0).map(lambda e: 10.0**e),
    st.floats(min_value=-2.0, max_value=3.0).map(lambda e: 10.0**e),
    positive,
    positive,
    st.floats(min_value=0.0, max_value=1e4),
)
def test_closed_form_tail_integral_agrees_with_quadrature(p, q, alpha, beta, y):
    if p + q <= 1.05:
        p += 1.0
    closed = float(pareto_nbd._log_tail_ratio(p, q, alpha, beta, y))
    numeric = pareto_nbd._log_tail_ratio_quad(p, q, alpha + y, beta + y)
    assert abs(closed - numeric) <= 1e-6 * max(1.0, abs(numeric))


@SETTINGS
@given(params, histories())
def test_gradient_is_finite(p, history):
    x, t_x, T = history
    grad = pareto_nbd.log_likelihood_gradient(**p, x=np.array([x]), t_x=np.array([t_x]), T=np.array([T]))
    assert all(np.all(np.isfinite(v)) for v in grad.values())


@settings(max_examples=10, deadline=None)
@given(
    st.floats(min_value=0.1, max_value=2.0),
    st.floats(min_value=5.0, max_value=30.0),
    st.floats(min_value=0.1, max_value=3.0),
    st.floats(min_value=1.0, max_value=30.0),
    st.floats(min_value=0.5, max_value=40.0),
)
def test_purchase_count_distribution_sums_to_one(r, alpha, s, beta, t):
    n = np.arange(0, 800)
    prob = pareto_nbd.probability_of_purchases(r, alpha, s, beta, t=t, n=n)
    assert np.all((prob >= 0) & (prob <= 1))
    assert abs(prob.sum() - 1.0) < 1e-6
