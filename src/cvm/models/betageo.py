"""Expectations over a gamma purchase rate and a beta dropout probability (BG/NBD family).

In BG/NBD and MBG/NBD a customer who is alive now buys at rate ``lambda`` and drops out
after each purchase with probability ``p``; given the history, ``lambda ~ Gamma(r', A)``
(shape ``r'``, rate ``A``) and ``p ~ Beta(a, b')``, independent. Dropout then arrives at
rate ``lambda p``, and the two quantities every prediction needs are

* :func:`expected_while_alive`: ``E[(1 - exp(-lambda p t)) / p]``, the expected purchases
  in the next ``t``;
* :func:`survival_while_alive`: ``E[exp(-lambda p t)]``, the chance of still being alive
  after ``t``.

Integrating ``lambda`` out gives, with ``y = t/A``, ``E[f(p)]`` with
``f(p) = (1 - (1 + p y)^-r') / p`` and ``E[(1 + p y)^-r']``. Both have closed forms in
Gauss' hypergeometric function, Euler-transformed so that the argument ``t/(A+t)`` lies
in ``[0, 1)`` (FHL 2005, eq. 10 and its analogue for survival; ``c = a + b' - 1``)::

    E[f(p)]            = c/(a-1) [1 - (A/(A+t))^(a-1) 2F1(c - r', a - 1; c; t/(A+t))]
    E[(1 + p y)^-r']   = (A/(A+t))^a 2F1(a + b' - r', a; a + b'; t/(A+t))

They are used where they are accurate: ``a + b' <= 1e5`` (above, the leading terms
cancel) and ``r' <= 1e3``; for the first also ``c >= 1/2`` and a bracket ``1 - (...)`` of
at least 1e-6 (smaller ones have cancelled, as for small ``r' t / A``) and ``a`` not
within 1e-3 of 1 (a removable singularity).
Everywhere else the expectation over ``p`` is taken by Gauss–Legendre quadrature in
``u = logit(p)`` (:func:`_beta_average`), on panels either side of the mode wide enough for
the density to fall by ``exp(-50)``; the log-density is written in offsets from the mode,
so it keeps its digits for huge ``a, b'`` (the boundaries "nobody drops out" and "everyone
drops out alike"). For ``a < 1/2`` the Beta density is singular at ``p = 0``; there the
identity ``E[p k(p)] = a/(a+b') E_{Beta(a+1, b')}[k(p)]`` moves the integral to a smooth
density after subtracting the ``p = 0`` limit. Both routes agree with a brute-force
integral to 1e-6 relative over ``a, b'`` from 1e-3 to 1e13, ``r'`` from 1e-3 to 1e5 and
``t/A`` from 1e-6 to 1e6 (tests/models/test_consistency_betageo.py).

Every argument may be an array (one value per customer, as with static covariates); the
quadrature shares its nodes among the rows with the same ``(a, b')``.

>>> round(float(expected_while_alive(2.243, 43.27, 0.793, 4.426, 39.0)), 4)
1.6875
>>> round(float(survival_while_alive(2.243, 43.27, 0.793, 4.426, 39.0)), 4)
0.7805
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit, hyp2f1, roots_legendre

__all__ = ["expected_while_alive", "survival_while_alive", "no_dropout_boundary"]

NO_DROPOUT = 1e-6
"""A fit whose mean dropout probability ``a / (a + b)`` is below this is at the boundary
"nobody drops out" (see :func:`no_dropout_boundary`)."""

CLOSED_FORM_MAX_C = 1e5
"""Above this ``a + b'`` the hypergeometric closed forms lose digits to cancellation."""

CLOSED_FORM_MAX_R = 1e3
"""Above this ``r'`` scipy's ``2F1`` with a large negative parameter is not trusted."""

MIN_BRACKET = 1e-6
"""The expected-purchases closed form is ``c/(a-1)`` times a bracket ``1 - (...)``; below this
the bracket has lost more than six digits to cancellation and the quadrature is used."""

NEAR_ONE = 1e-3
"""Within this of ``a = 1`` (a removable singularity of the expected-purchases closed form,
where ``c/(a-1)`` meets a bracket that cancels) the quadrature is used instead."""

DIRECT_MIN_A = 0.5
"""From this ``a`` on, the quadrature integrates over ``Beta(a, b')`` itself; below it, over
``Beta(a + 1, b')`` (see the module docstring)."""

_DROP = 50.0  # the panels end where the log-density has fallen by this much
_NEAR = 60.0  # up to this far from the mode (logit units), each side has _NEAR_PANELS equal panels
_NEAR_PANELS = 8
_NODES, _WEIGHTS = roots_legendre(24)
_BLOCK = 8_192  # rows per quadrature block: keeps the (rows x nodes) arrays small


def expected_while_alive(r_post, A, a, b_post, t) -> np.ndarray:
    """``E[(1 - exp(-lambda p t)) / p]`` for ``lambda ~ Gamma(r_post, A)``, ``p ~ Beta(a, b_post)``.

    The expected number of purchases in the next ``t`` of a customer alive now; 0 for
    ``t = 0`` and ``r_post t / A`` in the limit ``p -> 0`` (no dropout).

    >>> round(float(expected_while_alive(0.5, 40.0, 0.5, 1e13, 39.0)), 6)  # p ~ 0: the NBD
    0.4875
    >>> expected_while_alive(2.0, 40.0, np.array([0.5, 1.0, 3.0]), 3.0, 39.0).round(4)
    array([1.6583, 1.4709, 1.1281])
    """
    r_post, A, a, b_post, t = _broadcast(r_post, A, a, b_post, t)
    value = np.zeros(r_post.shape)
    positive = t > 0
    # near a = 1 (a removable singularity of the closed form) the quadrature is used
    easy = positive & _closed_form_ok(r_post, a, b_post) & (np.abs(a - 1) >= NEAR_ONE)
    if np.any(easy):
        closed, bracket = _closed_form_while_alive(*(v[easy] for v in (r_post, A, a, b_post, t)))
        # where the bracket 1 - (...) is tiny its digits have cancelled: take the quadrature
        value[easy] = np.where(np.abs(bracket) >= MIN_BRACKET, closed, np.nan)
    hard = positive & ~(easy & np.isfinite(value) & (value > 0))
    if np.any(hard):
        value[hard] = _distinct_rows(_quadrature_while_alive, *(v[hard] for v in (r_post, A, a, b_post, t)))
    return value


def survival_while_alive(r_post, A, a, b_post, t) -> np.ndarray:
    """``E[exp(-lambda p t)]`` for ``lambda ~ Gamma(r_post, A)``, ``p ~ Beta(a, b_post)``.

    The chance that a customer alive now is still alive after ``t``; 1 for ``t = 0``.

    >>> round(float(survival_while_alive(0.5, 40.0, 1e13, 1e13, 80.0)), 6)  # p = 1/2: (1 + 1)^-0.5
    0.707107
    """
    r_post, A, a, b_post, t = _broadcast(r_post, A, a, b_post, t)
    value = np.ones(r_post.shape)
    positive = t > 0
    easy = positive & (a + b_post <= CLOSED_FORM_MAX_C) & (r_post <= CLOSED_FORM_MAX_R)
    if np.any(easy):
        r_e, A_e, a_e, b_e, t_e = (v[easy] for v in (r_post, A, a, b_post, t))
        with np.errstate(all="ignore"):
            power = np.exp(a_e * (np.log(A_e) - np.log(A_e + t_e)))
            value[easy] = power * hyp2f1(a_e + b_e - r_e, a_e, a_e + b_e, t_e / (A_e + t_e))
    hard = positive & ~(easy & np.isfinite(value) & (value >= 0) & (value <= 1))
    if np.any(hard):
        value[hard] = _distinct_rows(_quadrature_survival, *(v[hard] for v in (r_post, A, a, b_post, t)))
    return np.clip(value, 0.0, 1.0)


def no_dropout_boundary(a: float, b: float) -> list[str]:
    """``["a", "b"]`` when the mean dropout probability ``a / (a + b)`` is below ``NO_DROPOUT``.

    There the data carry no dropout: the likelihood is flat in the direction ``a -> 0`` and
    depends on ``a, b`` only through this vanishing mean, so neither is identified, even
    though ``a`` may still be far from the engine's ``exp(-BOUNDARY_LOG)``.

    >>> no_dropout_boundary(3.35e-7, 2.0), no_dropout_boundary(0.793, 2.426)
    (['a', 'b'], [])
    """
    return ["a", "b"] if a < NO_DROPOUT * (a + b) else []


def _broadcast(*values) -> list[np.ndarray]:
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))
    return [np.array(v, dtype=float) for v in arrays]  # writable copies


def _closed_form_while_alive(r_post, A, a, b_post, t) -> tuple[np.ndarray, np.ndarray]:
    """The closed form of :func:`expected_while_alive` and its bracket ``1 - (...)``."""
    c = a + b_post - 1
    with np.errstate(all="ignore"):
        power = np.exp((a - 1) * (np.log(A) - np.log(A + t)))
        bracket = 1 - power * hyp2f1(c - r_post, a - 1, c, t / (A + t))
        return c / (a - 1) * bracket, bracket


def _distinct_rows(function, *columns: np.ndarray) -> np.ndarray:
    """``function(*columns)``, evaluated once per distinct row (customers share x and T)."""
    rows, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
    if len(rows) == len(columns[0]):
        return function(*columns)
    return function(*rows.T)[inverse.reshape(-1)]


def _closed_form_ok(r_post, a, b_post) -> np.ndarray:
    """Where the expected-purchases closed form may be tried (``c = a + b' - 1 >= 1/2``)."""
    return (a + b_post <= CLOSED_FORM_MAX_C) & (a + b_post >= 1.5) & (r_post <= CLOSED_FORM_MAX_R)


# -- quadrature ----------------------------------------------------------------------------
def _quadrature_while_alive(r_post, A, a, b_post, t) -> np.ndarray:
    """``E[f(p)]`` by quadrature: over ``Beta(a, b')`` for ``a >= 1/2``, else
    ``r' y - E[p] E_{Beta(a+1, b')}[(r' y - f(p)) / p]`` (exact at ``p -> 0``, the NBD)."""
    r_post, A, a, b_post, t = _broadcast(r_post, A, a, b_post, t)
    y = t / A
    out = np.empty(r_post.shape)
    direct = a >= DIRECT_MIN_A
    if np.any(direct):
        rd, yd = r_post[direct], y[direct]
        out[direct] = _beta_average(lambda p, rows: _f(rd[rows, None], yd[rows, None], p), a[direct], b_post[direct])
    shifted = ~direct
    if np.any(shifted):
        rs, ys, a_s, b_s = r_post[shifted], y[shifted], a[shifted], b_post[shifted]
        mean_p = expit(np.log(a_s) - np.log(b_s))
        correction = _beta_average(lambda p, rows: _h(rs[rows, None], ys[rows, None], p), a_s + 1.0, b_s)
        out[shifted] = rs * ys - mean_p * correction
    return np.maximum(out, 0.0)


def _quadrature_survival(r_post, A, a, b_post, t) -> np.ndarray:
    """``E[(1 + p y)^-r']`` by quadrature: directly for ``a >= 1/2``, else
    ``1 - E[p] E_{Beta(a+1, b')}[f(p)]``."""
    r_post, A, a, b_post, t = _broadcast(r_post, A, a, b_post, t)
    y = t / A
    out = np.empty(r_post.shape)
    direct = a >= DIRECT_MIN_A
    if np.any(direct):
        rd, yd = r_post[direct], y[direct]

        def survive(p, rows):
            return np.exp(-rd[rows, None] * np.log1p(p * yd[rows, None]))

        out[direct] = _beta_average(survive, a[direct], b_post[direct])
    shifted = ~direct
    if np.any(shifted):
        rs, ys, a_s, b_s = r_post[shifted], y[shifted], a[shifted], b_post[shifted]
        mean_p = expit(np.log(a_s) - np.log(b_s))
        out[shifted] = 1.0 - mean_p * _beta_average(lambda p, rows: _f(rs[rows, None], ys[rows, None], p), a_s + 1.0, b_s)
    return np.clip(out, 0.0, 1.0)


def _f(r_post, y, p):
    """``f(p) = (1 - (1 + p y)^-r') / p``, with its limit ``r' y`` at ``p = 0``."""
    q = p * y
    with np.errstate(all="ignore"):
        phi = -np.expm1(-r_post * np.log1p(q))
        small = (r_post + 3) * q < 1e-6
        series = r_post * (1 - (r_post + 1) / 2 * q + (r_post + 1) * (r_post + 2) / 6 * q**2)
        return y * np.where(small, series, phi / np.where(small, 1.0, q))


def _h(r_post, y, p):
    """``(r' y - f(p)) / p >= 0``, by its series where ``p y`` is small."""
    q = p * y
    with np.errstate(all="ignore"):
        phi = -np.expm1(-r_post * np.log1p(q))
        small = (r_post + 3) * q < 1e-3
        rising2 = r_post * (r_post + 1)
        series = rising2 / 2 - rising2 * (r_post + 2) / 6 * q + rising2 * (r_post + 2) * (r_post + 3) / 24 * q**2
        qs = np.where(small, 1.0, q)
        direct = (r_post * qs - phi) / qs**2
    return y**2 * np.where(small, series, direct)


def _beta_average(function: Callable[[np.ndarray, np.ndarray], np.ndarray], a, b) -> np.ndarray:
    """``E[function(p, rows)]`` for ``p ~ Beta(a_i, b_i)``, row by row (``a_i >= 1/2``).

    ``function(p, rows)`` gets ``p`` of shape ``(len(rows), nodes)`` and returns values of
    the same shape. Rows are taken in blocks; within a block the nodes and weights are
    computed once per distinct ``(a, b)`` and gathered.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    a, b = a.reshape(-1), b.reshape(-1)
    out = np.empty(a.shape)
    for start in range(0, a.size, _BLOCK):
        rows = np.arange(start, min(start + _BLOCK, a.size))
        pairs, inverse = np.unique(np.stack([a[rows], b[rows]], axis=1), axis=0, return_inverse=True)
        p, w = _logit_nodes(pairs[:, 0], pairs[:, 1])
        inverse = inverse.reshape(-1)
        with np.errstate(all="ignore"):
            values = function(p[inverse], rows)
        out[rows] = np.einsum("ij,ij->i", np.where(w[inverse] > 0, values, 0.0), w[inverse])
    return out


def _logit_nodes(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``p`` and normalised weights ``w`` (one row per pair) for ``E_{Beta(a, b)}``.

    In ``u = logit(p)`` the Beta density is ``p^a (1-p)^b``: log-concave with its mode at
    ``u* = log(a/b)``, a Gaussian core of sd ``sqrt(1/a + 1/b)`` and exponential tails of
    rate ``a`` (left) and ``b`` (right). Each side is covered up to ``_NEAR`` from the mode
    by ``_NEAR_PANELS`` equal panels (the integrands vary on a scale of one logit unit), and
    beyond by one panel for the exponential tail, each with 24 Gauss–Legendre nodes.
    """
    a, b = a[:, None], b[:, None]
    mode = np.log(a) - np.log(b)
    sd = np.sqrt(1 / a + 1 / b)
    core = np.sqrt(2 * _DROP) * sd
    # beyond these the log-density is below -_DROP (bounds from the exponential tails)
    left = np.minimum(core + _DROP / a, mode + _DROP / a + 1 + np.logaddexp(0.0, -mode))
    right = np.minimum(core + _DROP / b, -mode + _DROP / b + 1 + np.logaddexp(0.0, mode))
    s = (1 + _NODES) / 2  # Gauss–Legendre nodes on [0, 1]
    offsets, widths = [], []
    for side, extent in ((-1.0, left), (1.0, right)):
        near = np.minimum(extent, _NEAR)
        step = near / _NEAR_PANELS
        for k in range(_NEAR_PANELS):
            offsets.append(side * step * (k + s))
            widths.append(np.broadcast_to(step, (a.shape[0], s.size)))
        offsets.append(side * (near + (extent - near) * s))
        widths.append(np.broadcast_to(extent - near, (a.shape[0], s.size)))
    d = np.concatenate(offsets, axis=1)  # u - u*
    width = np.concatenate(widths, axis=1)
    with np.errstate(all="ignore"):
        # a log(p/p*) + b log((1-p)/(1-p*)), in d, without overflow or lost digits
        e_mode = np.exp(np.clip(mode, -700, 700))
        # up = (1 - p) expm1(d) = p/p* - 1, down = p expm1(-d) = (1-p)/(1-p*) - 1
        up = np.where(d > 0, -np.expm1(-d) / (np.exp(-d) + e_mode), np.expm1(d) / (1 + e_mode * np.exp(d)))
        down = np.where(d < 0, -np.expm1(d) / (np.exp(d) + 1 / e_mode), np.expm1(-d) / (1 + np.exp(-d) / e_mode))
        # far from the mode, log(p/p*) and log((1-p)/(1-p*)) as differences of softplus
        log_up = np.where(up > -0.5, np.log1p(up), np.logaddexp(0.0, -mode) - np.logaddexp(0.0, -mode - d))
        log_down = np.where(down > -0.5, np.log1p(down), np.logaddexp(0.0, mode) - np.logaddexp(0.0, mode + d))
        log_density = a * log_up + b * log_down
        log_w = log_density + np.log(np.tile(_WEIGHTS, 2 * _NEAR_PANELS + 2) / 2 * width)
    log_w = np.where(np.isnan(log_w), -np.inf, log_w)
    top = np.max(log_w, axis=1, keepdims=True)
    w = np.exp(log_w - top)
    w /= w.sum(axis=1, keepdims=True)
    return expit(mode + d), w
