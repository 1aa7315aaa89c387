"""Special-function pieces that stay accurate where the textbook form cancels.

Customer-base likelihoods are full of differences such as ``gammaln(y + x) - gammaln(y)``
and ``psi(y + x) - psi(y)``. When a parameter runs to a boundary (``a, b -> inf`` in
BG/NBD as dropout becomes homogeneous) both terms are huge and their difference loses
every digit, which makes the likelihood noisy and the optimiser stall. These functions
switch to Stirling-series differences for large ``y``.

>>> import numpy as np
>>> from scipy.special import gammaln
>>> bool(np.isclose(log_rising(3.5, 2.0), gammaln(5.5) - gammaln(3.5)))
True
>>> float(log_rising(1e15, 1.0))  # = log(1e15) exactly enough
34.538776394910684
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, polygamma, psi

LARGE = 1e4
"""Above this argument the Stirling differences are used (error below 1e-16 relative)."""


def log_rising(y, x):
    """``log Gamma(y + x) - log Gamma(y)`` for ``y > 0, x >= 0`` (log of the rising factorial)."""
    y, x = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    with np.errstate(all="ignore"):
        direct = gammaln(y + x) - gammaln(y)
        big = np.maximum(y, LARGE)
        stirling = (
            (big - 0.5) * np.log1p(x / big)
            + x * np.log(big + x)
            - x
            - x / (12 * big * (big + x))
        )
    return np.where(y > LARGE, stirling, direct)


def digamma_difference(y, x):
    """``psi(y + x) - psi(y)`` for ``y > 0, x >= 0``.

    >>> round(float(digamma_difference(1.0, 1.0)), 12)
    1.0
    """
    y, x = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    with np.errstate(all="ignore"):
        direct = psi(y + x) - psi(y)
        big = np.maximum(y, LARGE)
        z = big + x
        stirling = np.log1p(x / big) + x / (2 * big * z) + (1 / big**2 - 1 / z**2) / 12
    return np.where(y > LARGE, stirling, direct)


def trigamma_difference(y, x):
    """``psi'(y + x) - psi'(y)`` for ``y > 0, x >= 0`` (Stirling series for large ``y``).

    >>> round(float(trigamma_difference(1.0, 1.0)), 12)   # psi'(2) - psi'(1) = -1
    -1.0
    >>> round(float(trigamma_difference(1e12, 1.0)) * 1e24, 9)  # about -1 / y**2
    -1.0
    """
    y, x = np.broadcast_arrays(np.asarray(y, dtype=float), np.asarray(x, dtype=float))
    with np.errstate(all="ignore"):
        direct = polygamma(1, y + x) - polygamma(1, y)
        big = np.maximum(y, LARGE)
        z = big + x
        # psi'(v) ~ 1/v + 1/(2 v^2) + 1/(6 v^3) - 1/(30 v^5); each difference written without cancellation
        inv = -x / (big * z)                                  # 1/z - 1/big
        inv2 = inv * (1 / z + 1 / big)                        # 1/z^2 - 1/big^2
        inv3 = inv * (1 / z**2 + 1 / (z * big) + 1 / big**2)  # 1/z^3 - 1/big^3
        stirling = inv + inv2 / 2 + inv3 / 6 - (1 / z**5 - 1 / big**5) / 30
    return np.where(y > LARGE, stirling, direct)


def softplus(z):
    """``log(1 + exp(z))``, the same as ``np.logaddexp(0, z)`` to the last digit or two but
    several times faster (numpy's ``logaddexp`` has no vectorised loop); ``-inf`` gives 0.

    >>> softplus(np.array([-np.inf, -800.0, 0.0, 30.0, 800.0])).tolist()
    [0.0, 0.0, 0.6931471805599453, 30.000000000000092, 800.0]
    """
    z = np.asarray(z, dtype=float)
    if z.ndim == 0:
        return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    tail = np.exp(-np.abs(z))
    np.log1p(tail, out=tail)
    return np.maximum(z, 0.0) + tail

