"""Customer-base models: pure numpy/scipy maths.

One estimation engine (:mod:`cvm.models.engine`) fits every model; a model is its
parameters, its likelihood and its closed-form predictions (:mod:`cvm.models.base`).

>>> from cvm.models import BetaGeoModel, MODELS
>>> MODELS["bgnbd"] is BetaGeoModel
True
"""

from cvm.models.base import MODELS, CustomerModel, ModelSummary
from cvm.models.bgnbd import BetaGeoModel
from cvm.models.engine import BoundaryWarning, ConvergenceWarning, FitReport, HessianWarning, Parameter

__all__ = [
    "MODELS",
    "BetaGeoModel",
    "BoundaryWarning",
    "ConvergenceWarning",
    "CustomerModel",
    "FitReport",
    "HessianWarning",
    "ModelSummary",
    "Parameter",
]
