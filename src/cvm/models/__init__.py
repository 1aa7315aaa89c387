"""Customer-base models: pure numpy/scipy maths.

One estimation engine (:mod:`cvm.models.engine`) fits every model; a model is its
parameters, its likelihood and its closed-form predictions (:mod:`cvm.models.base`).
Importing this package registers every model in :data:`MODELS` by its short name.

>>> from cvm.models import BetaGeoModel, MODELS
>>> MODELS["bgnbd"] is BetaGeoModel
True
>>> sorted(MODELS)
['bgbb', 'bgnbd', 'gamma_gamma', 'mbgnbd', 'pnbd', 'sbg']
"""

from cvm.models.base import MODELS, CustomerModel, ModelSummary
from cvm.models.bgbb import BetaGeoBetaBinomModel
from cvm.models.bgnbd import BetaGeoModel
from cvm.models.engine import BoundaryWarning, ConvergenceWarning, FitReport, HessianWarning, Parameter
from cvm.models.gamma_gamma import GammaGammaModel, MeanSpendUndefinedWarning
from cvm.models.mbgnbd import ModifiedBetaGeoModel
from cvm.models.pareto_nbd import ParetoNBDModel
from cvm.models.sbg import ShiftedBetaGeoModel

__all__ = [
    "MODELS",
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "BoundaryWarning",
    "ConvergenceWarning",
    "CustomerModel",
    "FitReport",
    "GammaGammaModel",
    "HessianWarning",
    "MeanSpendUndefinedWarning",
    "ModelSummary",
    "ModifiedBetaGeoModel",
    "Parameter",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
]
