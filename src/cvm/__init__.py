"""CVM: customer value management.

Ingest a business's customer data with validation, summarise it per customer on DuckDB,
PostgreSQL or Spark, and (in later layers) model, value, segment and act on the base.

>>> import cvm
>>> cvm.__version__
'0.1.0'
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cvm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.1.0"

__all__ = ["__version__"]
