"""CVM: customer value management.

Ingest a business's customer data with validation, summarise it per customer on DuckDB,
PostgreSQL or Spark, fit the customer-base models, and value, segment and act on the base.
:func:`cvm.analyze` runs the whole job on a transaction log (see
:mod:`cvm.service.analyze`); it is imported on first use, so ``import cvm`` stays fast.

>>> import cvm
>>> cvm.__version__
'0.1.0'
>>> from cvm.datasets import dataset_path
>>> result = cvm.analyze(dataset_path("cdnow_sample"), holdout="none")
>>> len(result.table), result.purchase_model.name
(2357, 'bgnbd')
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("cvm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.1.0"

__all__ = ["__version__", "analyze"]


def __getattr__(name: str) -> Any:
    if name == "analyze":
        from cvm.service.analyze import analyze

        return analyze
    raise AttributeError(f"module 'cvm' has no attribute {name!r}")
