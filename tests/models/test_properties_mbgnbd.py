"""Hypothesis properties of MBG/NBD's closed forms: finite, probabilities in [0, 1], E grows with t."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.models import mbgnbd

positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def histories(draw):
    T = draw(st.floats(min_value=1e-3, max_value=1e5))
    x = float(draw(st.one_of(st.just(0), st.integers(0, 50), st.integers(0, 10**6))))
    t_x = 0.0 if x == 0 else T * draw(st.floats(min_value=0.0, max_value=1.0))
    return x, t_x, T


@settings(max_examples=150, deadline=None)
@given(r=positive, alpha=positive, a=positive, b=positive, history=histories(),
       t=st.floats(min_value=0.0, max_value=1e4))
def test_predictions_finite_and_in_range(r, alpha, a, b, history, t):
    x, t_x, T = history
    ll = mbgnbd.log_likelihood(r, alpha, a, b, x, t_x, T)
    alive = mbgnbd.probability_alive(r, alpha, a, b, x, t_x, T)
    alive_later = mbgnbd.probability_alive_at(r, alpha, a, b, x, t_x, T, t)
    expected = mbgnbd.expected_purchases(r, alpha, a, b, x, t_x, T, t)
    grad = mbgnbd.log_likelihood_gradient(r, alpha, a, b, x, t_x, T)
    assert np.isfinite(ll)
    assert all(np.isfinite(v) for v in grad.values())
    assert 0.0 <= alive <= 1.0
    assert 0.0 <= alive_later <= alive * (1 + 1e-12)
    assert np.isfinite(expected) and expected >= 0.0


@settings(max_examples=100, deadline=None)
@given(r=positive, alpha=positive, a=positive, b=positive, history=histories(),
       t1=st.floats(min_value=0.0, max_value=1e3), dt=st.floats(min_value=0.0, max_value=1e3))
def test_expectations_grow_with_the_horizon(r, alpha, a, b, history, t1, dt):
    x, t_x, T = history
    e1, e2 = mbgnbd.expected_purchases(r, alpha, a, b, x, t_x, T, np.array([t1, t1 + dt]))
    n1, n2 = mbgnbd.expected_purchases_new_customer(r, alpha, a, b, np.array([t1, t1 + dt]))
    s1, s2 = mbgnbd.probability_alive_at(r, alpha, a, b, x, t_x, T, np.array([t1, t1 + dt]))
    tol = 1e-7  # the quadrature (used for a + b + x > 1e3) is accurate to about 1e-9 relative
    assert e2 >= e1 * (1 - tol) - tol
    assert n2 >= n1 * (1 - tol) - tol
    assert s2 <= s1 * (1 + tol) + tol
