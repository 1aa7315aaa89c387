"""The value layer's settings: one versioned, validated configuration with documented defaults.

Every threshold the value layer uses (margin rate when costs are missing, forecast periods,
CLV horizon and discount rate, the top share that counts as "high" value, pyramid tiers,
RFM rules, scoring models …) comes from a :class:`ValueConfig`. Users keep theirs in a
YAML file; anything left out takes the default shown in ``docs/value-config.md``.

>>> config = ValueConfig()
>>> config.version, config.forecast.period, config.forecast.periods
(1, 'month', 3)
>>> load_config({"clv": {"annual_discount_rate": 0.08}}).clv.annual_discount_rate
0.08
>>> load_config({"clv": {"annual_discount_rate": -2}})
Traceback (most recent call last):
...
cvm.errors.ConfigError: value configuration: clv.annual_discount_rate: Input should be greater than -1 (got -2)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from cvm.errors import ConfigError
from cvm.value.crosssell import CrossSellSettings
from cvm.value.lifecycle import LifecycleSettings
from cvm.value.perceived import PerceivedValueSettings
from cvm.value.scoring import ScoringSettings
from cvm.value.segments import SegmentSettings
from cvm.value.settings import Settings, read_yaml_file, validate_settings

CONFIG_VERSION = 1


class MarginSettings(Settings):
    """How the CRM gross margin is computed where cost data is missing."""

    margin_rate: float = Field(
        0.3, gt=0, le=1,
        description="Share of revenue that is gross profit, used for customers whose product "
        "cost is not recorded (product cost = revenue × (1 − margin_rate)).",
    )
    marketing_cost_rate: float = Field(
        0.0, ge=0, le=1,
        description="Share of revenue allocated as relationship-marketing cost when the data "
        "has no marketing costs (0 = none).",
    )
    margin_rate_of_forecast: Literal["history", "configured"] = Field(
        "history",
        description="Margin rate applied to forecast revenue: 'history' uses the base's own "
        "margin / revenue ratio where costs are recorded (falling back to margin_rate), "
        "'configured' always uses margin_rate.",
    )


class ForecastSettings(Settings):
    """The next-periods forecast shown beside each customer's recent history."""

    period: Literal["month", "quarter", "year"] = Field(
        "month", description="Calendar period of the forecast and of the history shown beside it."
    )
    periods: int = Field(3, ge=1, le=120, description="How many coming periods to forecast (and past periods to show).")


class CLVSettings(Settings):
    """Customer lifetime value: horizon, discounting and the simple formula."""

    horizon_years: float = Field(3.0, gt=0, le=100, description="Years of future margin counted in the model-based CLV.")
    annual_discount_rate: float = Field(
        0.10, gt=-1, le=10, description="Yearly discount rate of future margin (0.10 = 10 % a year)."
    )
    simple_lifespan_years: float = Field(
        3.0, gt=0, le=100,
        description="Expected lifespan in the simple formula: average order value × purchases "
        "a year × lifespan × margin rate − acquisition cost.",
    )


class ReferralSettings(Settings):
    """Influence value: the margin of the customers a customer referred."""

    indirect_decay: float = Field(
        0.5, ge=0, le=1,
        description="Weight of each further step of a referral chain: a customer referred by "
        "someone you referred counts this much, the next step its square, and so on.",
    )
    max_depth: int = Field(3, ge=1, le=20, description="Longest referral chain counted.")


class RiskSettings(Settings):
    """Value at risk: valuable customers whose probability of being alive is falling."""

    valuable_tiers: tuple[Literal["strategic", "profit", "potential", "ordinary"], ...] = Field(
        ("strategic", "profit"), description="Value-matrix cells whose customers count as valuable."
    )
    min_drop: float = Field(
        0.05, ge=0, le=1,
        description="Fall in the probability of being alive since one period earlier that "
        "counts as falling (0.05 = five percentage points).",
    )


class ValueConfig(Settings):
    """Everything the value layer is configured by (see ``docs/value-config.md``)."""

    version: Literal[1] = Field(CONFIG_VERSION, description="Version of this configuration format.")
    margin: MarginSettings = MarginSettings()
    forecast: ForecastSettings = ForecastSettings()
    clv: CLVSettings = CLVSettings()
    referral: ReferralSettings = ReferralSettings()
    risk: RiskSettings = RiskSettings()
    segments: SegmentSettings = SegmentSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    scoring: ScoringSettings = ScoringSettings()
    cross_sell: CrossSellSettings = CrossSellSettings()
    perceived_value: PerceivedValueSettings = PerceivedValueSettings()


def load_config(source: str | Path | Mapping[str, Any] | ValueConfig | None = None) -> ValueConfig:
    """A :class:`ValueConfig` from a YAML file, a mapping, or the defaults (``None``).

    Every problem is reported at once, each with its key path and the rule it breaks.
    """
    if source is None:
        return ValueConfig()
    if isinstance(source, ValueConfig):
        return source
    where = "value configuration"
    if isinstance(source, str | Path):
        where = str(Path(source))
        data = read_yaml_file(source, "configuration")
        data = {} if data is None else data
    else:
        data = source
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: the configuration must be a mapping of sections, got {type(data).__name__}")
    version = data.get("version", CONFIG_VERSION)
    if version != CONFIG_VERSION:
        raise ConfigError(
            f"{where}: version {version!r} is not supported (this CVM reads version {CONFIG_VERSION})",
            hint="write the configuration again from `docs/value-config.md`",
        )
    return validate_settings(ValueConfig, data, where)


def default_config_yaml() -> str:
    """The default configuration as a YAML file users can copy and edit.

    >>> load_config(yaml.safe_load(default_config_yaml())) == ValueConfig()
    True
    """
    header = (
        "# CVM value configuration (docs/value-config.md). Delete what you do not change:\n"
        "# every setting left out takes its default.\n"
    )
    data = ValueConfig().model_dump(mode="json")
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)


def settings_reference(model: type[BaseModel] | BaseModel, prefix: str = "") -> list[tuple[str, str, str]]:
    """``(key, default, description)`` of every setting, nested sections flattened with dots.

    The defaults are those of the default configuration (a section's own default instance,
    which may differ from its class's field defaults).

    >>> ("clv.horizon_years", "3.0") in [row[:2] for row in settings_reference(ValueConfig)]
    True
    """
    instance = model if isinstance(model, BaseModel) else model()
    rows: list[tuple[str, str, str]] = []
    for name, info in type(instance).model_fields.items():
        key = f"{prefix}{name}"
        default = getattr(instance, name)
        if isinstance(default, BaseModel):
            rows += settings_reference(default, f"{key}.")
            continue
        if isinstance(default, tuple | list):
            default = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in default]
        text = json.dumps(default, ensure_ascii=False)
        if len(text) > 60:
            text = "see the default file below"
        rows.append((key, text, " ".join((info.description or "").split())))
    return rows


