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
from scipy.special import gammaln, psi

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
