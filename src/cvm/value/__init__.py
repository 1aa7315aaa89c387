"""The business layer: margins, forecasts, CLV and equity, value tiers and segmentations.

:func:`customer_value` turns the data layer's per-customer summaries and the fitted models
into one customer value table (see ``docs/value.md``), configured by a
:class:`ValueConfig` (see ``docs/value-config.md``).
"""

from cvm.value.config import ValueConfig, load_config
from cvm.value.table import CustomerValue, customer_value

__all__ = ["CustomerValue", "ValueConfig", "customer_value", "load_config"]
