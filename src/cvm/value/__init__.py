"""The business layer: margins, forecasts, CLV and equity, value tiers and segmentations,
lifecycle stages, base health, perceived value, cross-sell suggestions and the strategy
playbook.

:func:`customer_value` turns the data layer's per-customer summaries and the fitted models
into one customer value table (see ``docs/value.md``), configured by a
:class:`ValueConfig` (see ``docs/value-config.md``).
"""

from cvm.value.config import ValueConfig, load_config
from cvm.value.crosssell import cross_sell, evaluate_cross_sell
from cvm.value.health import inter_purchase_time, referral_stats, retention, satisfaction
from cvm.value.lifecycle import early_warning, lifecycle_stages
from cvm.value.perceived import perceived_value, read_perceived_value
from cvm.value.playbook import assign_actions, campaign_lists, export_campaigns, load_playbook
from cvm.value.table import CustomerValue, customer_value

__all__ = [
    "CustomerValue", "ValueConfig", "assign_actions", "campaign_lists", "cross_sell", "customer_value",
    "early_warning", "evaluate_cross_sell", "export_campaigns", "inter_purchase_time", "lifecycle_stages", "load_config", "load_playbook",
    "perceived_value", "read_perceived_value", "referral_stats", "retention", "satisfaction",
]
