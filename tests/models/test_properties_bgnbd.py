"""BG/NBD invariants over the whole parameter and data space (Hypothesis).

No NaN or infinity for any valid input: x = 0, t_x = T, huge x, huge T, tiny and huge
parameters; probabilities within [0, 1]; expected purchases non-decreasing in the horizon.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cvm.models import bgnbd

positive = st.floats(min_value=1e-4, max_value=1e4)
parameters = st.fixed_dictionaries({"r": positive, "alpha": positive, "a": positive, "b": positive})


@st.composite
def histories(draw):
    T = draw(st.floats(min_value=1e-3, max_value=1e5))
    x = draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=100_000)))
    if x == 0:
        t_x = 0.0
    else:
        t_x = draw(st.one_of(st.just(T), st.floats(min_value=0.0, max_value=T)))
    return float(x), t_x, T


horizons = st.floats(min_value=0.0, max_value=1e5)


@settings(max_examples=300, deadline=None)
@given(parameters, histories(), horizons, horizons)
def test_predictions_are_finite_and_coherent(params, history, t1, t2):
    x, t_x, T = history
    t1, t2 = sorted((t1, t2))
    ll = bgnbd.log_likelihood(**params, x=x, t_x=t_x, T=T)
    assert np.isfinite(ll)
    alive = bgnbd.probability_alive(**params, x=x, t_x=t_x, T=T)
    assert 0.0 <= alive <= 1.0
    later = bgnbd.probability_alive_at(**params, x=x, t_x=t_x, T=T, t=t2)
    assert 0.0 <= later <= alive + 1e-12
    e1 = bgnbd.expected_purchases(**params, x=x, t_x=t_x, T=T, t=t1)
    e2 = bgnbd.expected_purchases(**params, x=x, t_x=t_x, T=T, t=t2)
    assert np.isfinite(e1) and np.isfinite(e2)
    assert 0.0 <= e1 <= e2 * (1 + 1e-6) + 1e-9


@settings(max_examples=200, deadline=None)
@given(parameters, horizons, st.integers(min_value=0, max_value=200))
def test_new_customer_quantities_are_finite(params, t, n):
    expected = bgnbd.expected_purchases_new_customer(**params, t=t)
    assert np.isfinite(expected) and expected >= 0
    probability = bgnbd.probability_of_purchases(**params, t=max(t, 1e-9), n=n)
    assert 0.0 <= probability <= 1.0 + 1e-9
