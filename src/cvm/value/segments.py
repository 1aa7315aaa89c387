"""Segmentations of the customer base: value matrix, pyramid, concentration, RFM, loyalty.

Every function takes plain aligned arrays (numpy arrays or pandas Series, one value per
customer, matched by position, never by index) and works on whole columns at once, so ten
million customers take seconds. A segmentation returns a `pandas.Categorical` of category
*keys* (`strategic`, `vip` …) whose categories are in the order documented below, even when a
category is empty. `labelled` turns keys into English and Chinese labels (from `cvm.labels`).
The thresholds come from `SegmentSettings`, the `segments` section of the value
configuration (`cvm.value.config`); the defaults are given with each segmentation.

## Splitting one value into high and low

The value matrix and the loyalty × profitability matrix split each axis with an `AxisSplit`
(`method`, `share`, `threshold`):

* `top_share` (share `s`, default 0.20): with `n` customers and `k = ceil(s × n)`, a
  customer is *high* when their value is at least the `k`-th largest value **and** greater
  than 0. Every customer tied with the `k`-th largest is high too, so the high group can be
  larger than `s` when values tie; a value of 0 or less is never high, so it can be smaller.
  `n` counts every customer, including those with zero or negative values.
* `median`: high when the value is at least the median of all customers (ties with the
  median are high; if every customer has the same value, all are high).
* `threshold` (value `t`): high when the value is at least `t`.

All three are monotone: raising one customer's value never moves that customer from high to
low, and the order of the rows never matters.

## Value matrix: `value_matrix`

Current value (for example realized margin) against potential value (for example expected
future margin). Default split: `top_share` 0.20 on each axis
(`segments.value_matrix.current`, `segments.value_matrix.potential`).

| key | current value | potential value |
|---|---|---|
| `strategic` | high | high |
| `profit` | high | low |
| `potential` | low | high |
| `ordinary` | low | low |

## Customer pyramid: `pyramid`, `pyramid_table`

Tiers from the top down (`segments.pyramid.tiers`), each with a share of the customers; the
shares are positive and sum to 1. Default: `vip` 1 %, `key` 4 %, `major` 15 %, `ordinary`
80 %. A tier's *cumulative* share `c` is its share plus the shares of the tiers above it. A
customer belongs to the first tier whose cumulative share calls them high under the
`top_share` rule above (value at least the `k`-th largest with `k = ceil(c × n)`, and greater
than 0); everyone else, including every value of 0 or less, is in the last tier. So
customers with equal values are always in the same tier, the row order does not matter, and
raising a customer's value never lowers their tier; where values tie across a boundary the
upper tier holds more than its share and the next one fewer. The default tiers take their
names from the `pyramid.*` labels; a configured tier with another key gives its own `en` and
`zh` names (`tier_labels`).

`pyramid_table` gives the numbers behind a pyramid chart: per tier the customers, their
share, the value, its share of the total, the average value, and the value's composition
(realized, potential and influence value and their shares of the tier's value).

## Concentration: `concentration`

How unequally value is spread. **Negative values count as 0**: concentration describes how the
value the base creates is shared, and losses are reported apart (`negative_customers`,
`negative_value`). Customers with negative values still count as customers.

* Pareto table: for each top share `x` (`segments.concentration.top_shares`, default 1 %,
  5 %, 10 %, 20 %, 50 %), the `k = ceil(x × n)` customers with the largest values and their
  share of the total value.
* Lorenz curve: `lorenz_points` (default 101) evenly spaced customer shares from 0 to 1, with
  customers sorted from the lowest value up, and the share of value they hold (linear
  between customers). It starts at (0, 0), ends at (1, 1) and never falls.
* Gini coefficient: `2 Σ i·x(i) / (n Σ x) − (n + 1) / n` with the values sorted
  `x(1) ≤ … ≤ x(n)`, which is one minus twice the area under the Lorenz curve: 0 when
  everyone holds the same, `(n − 1) / n` when one customer holds everything.

When no customer has a positive value, the shares and the Gini coefficient are NaN.

## RFM segments: `rfm_segments`

From the 1–5 scores of `cvm.data.summaries.rfm_scores` (5 = most recent, most purchases,
most spend). *FM* is the average of the frequency and monetary scores, rounded half up
(`segments.rfm.fm_rounding: half_up`, so 4.5 counts as 5) or down (`down`). The segment is
looked up in the 5 × 5 grid of (R, FM) cells described by `segments.rfm.rules`: each rule is
a segment with a recency range and an FM range (both inclusive), and a segment may have
several rules. The rules must cover every cell exactly once; the configuration lists the
cells left uncovered or covered twice otherwise. The default grid is the widely used R × F
segment map of RFM practice, read with FM, with its low-low corner split into
*hibernating* (R 2) and *lost* (R 1):

| key | recency R | FM |
|---|---|---|
| `champions` | 5 | 4–5 |
| `loyal` | 3–4 | 4–5 |
| `potential_loyalist` | 4–5 | 2–3 |
| `new` | 5 | 1 |
| `promising` | 4 | 1 |
| `need_attention` | 3 | 3 |
| `about_to_sleep` | 3 | 1–2 |
| `at_risk` | 1–2 | 3–4 |
| `cant_lose_them` | 1–2 | 5 |
| `hibernating` | 2 | 1–2 |
| `lost` | 1 | 1–2 |

Scores outside 1–5, non-integer or missing are an error.

## Loyalty × profitability: `loyalty_profitability`

Reinartz & Kumar's matrix. *Loyalty* is the length of the relationship relative to the
expected lifetime (a ratio the caller computes, for example tenure / expected lifetime);
*profitability* is a margin. Each axis is split by an `AxisSplit`
(`segments.loyalty_profit.loyalty`, `segments.loyalty_profit.profitability`), default
`median`, ties with the median counting as long / high.

| key | relationship | profitability |
|---|---|---|
| `true_friend` | long | high |
| `butterfly` | short | high |
| `barnacle` | long | low |
| `stranger` | short | low |

## Loyalty level: `loyalty_level`

A ladder from the number of purchases, the tenure (days since the first purchase or the
registration) and the days since the last purchase (`segments.loyalty_level`). The first
matching rule wins:

| key | rule (defaults) |
|---|---|
| `potential` | no purchase yet (`n_purchases` 0) |
| `new` | at most `new_max_purchases` (1) purchase, or tenure under `new_max_tenure_days` (90) days |
| `loyal` | tenure at least `loyal_min_tenure_days` (730), at least `loyal_min_purchases` (6) purchases, and the last purchase at most `loyal_max_days_since_last_purchase` (365) days ago |
| `old` | tenure at least `old_min_tenure_days` (365) |
| `regular` | everyone else: repeat buyers with a tenure under `old_min_tenure_days` |

Tenure and days since the last purchase may be missing (NaN) only for potential customers.

## Profile breakdown: `breakdown`

Any segmentation against profile columns (gender, age band, region, channel …): per
segment × profile value, the customers, their share of the segment and, given a value, its
sum and share of the segment's value. Missing profile values form their own group
`(missing)`; no customer is dropped.

>>> import numpy as np
>>> current, potential = np.array([100.0, 80, 5, 0, 1]), np.array([50.0, 0, 90, 1, 2])
>>> value_matrix(current, potential).tolist()      # top 20 % of 5 customers = 1 per axis
['profit', 'ordinary', 'potential', 'ordinary', 'ordinary']
>>> top_40 = SegmentSettings.model_validate(
...     {"value_matrix": {"current": {"share": 0.4}, "potential": {"share": 0.4}}})
>>> cells = value_matrix(current, potential, top_40)
>>> cells.tolist()
['strategic', 'profit', 'potential', 'ordinary', 'ordinary']
>>> labelled(cells, "value_matrix")[1].tolist()
['战略客户', '利润客户', '潜力客户', '普通客户', '普通客户']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from cvm.errors import ConfigError, InvalidDataError
from cvm.labels import TERMS, label
from cvm.value.settings import Settings

__all__ = [
    "AxisSplit", "MedianSplit", "Concentration", "ConcentrationSettings", "LoyaltyLevelSettings",
    "LoyaltyProfitSettings", "PyramidSettings", "PyramidTier", "RFMRule", "RFMSettings",
    "SegmentSettings", "ValueMatrixSettings",
    "LOYALTY_LEVELS", "LOYALTY_PROFIT_CELLS", "RFM_SEGMENTS", "VALUE_MATRIX_CELLS",
    "breakdown", "concentration", "labelled", "loyalty_level", "loyalty_profitability", "pyramid",
    "pyramid_table", "rfm_segments", "tier_labels", "value_matrix",
]

VALUE_MATRIX_CELLS: tuple[str, ...] = ("strategic", "profit", "potential", "ordinary")
RFM_SEGMENTS: tuple[str, ...] = (
    "champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
    "about_to_sleep", "at_risk", "cant_lose_them", "hibernating", "lost",
)
LOYALTY_PROFIT_CELLS: tuple[str, ...] = ("true_friend", "butterfly", "barnacle", "stranger")
LOYALTY_LEVELS: tuple[str, ...] = ("potential", "new", "regular", "old", "loyal")
MISSING_KEY = "segmentation.missing"

RFMSegment = Literal[
    "champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
    "about_to_sleep", "at_risk", "cant_lose_them", "hibernating", "lost",
]
Score = Annotated[int, Field(ge=1, le=5)]


def _invalid(reason: str) -> PydanticCustomError:
    return PydanticCustomError("segments", "{reason}", {"reason": reason})


# --------------------------------------------------------------------------------------------
# settings




class AxisSplit(Settings):
    """How one value is split into high and low (see the module documentation)."""

    method: Literal["top_share", "median", "threshold"] = Field(
        "top_share",
        description="'top_share': the top `share` of customers by value are high (ties with "
        "the cut included, values <= 0 never); 'median': values at or above the median are "
        "high; 'threshold': values at or above `threshold` are high.",
    )
    share: float = Field(
        0.20, gt=0, le=1,
        description="Share of customers counted as high with method 'top_share' (0.20 = top 20 %); "
        "ignored by the other methods.",
    )
    threshold: float | None = Field(
        None, allow_inf_nan=False,
        description="The value at and above which a customer is high, with method 'threshold'.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> AxisSplit:
        if self.method == "threshold" and self.threshold is None:
            raise _invalid("method 'threshold' needs a threshold value (for example threshold: 1000)")
        if self.method != "threshold" and self.threshold is not None:
            raise _invalid(
                f"threshold is set but method is {self.method!r}: set method: threshold, or remove threshold"
            )
        return self


class MedianSplit(AxisSplit):
    """An :class:`AxisSplit` whose default method is the median (used by loyalty × profitability)."""

    method: Literal["top_share", "median", "threshold"] = Field(
        "median",
        description="'median' (default): values at or above the median are high; 'top_share': the "
        "top `share` of customers by value are high (ties with the cut included, values <= 0 "
        "never); 'threshold': values at or above `threshold` are high.",
    )


class ValueMatrixSettings(Settings):
    """Current × potential value matrix: how each axis is split into high and low."""

    current: AxisSplit = Field(
        AxisSplit(), description="Split of current value (default: top 20 % are high)."
    )
    potential: AxisSplit = Field(
        AxisSplit(), description="Split of potential value (default: top 20 % are high)."
    )


class PyramidTier(Settings):
    """One tier of the customer pyramid."""

    key: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", max_length=40,
        description="Identifier of the tier (lower case letters, digits and _); the default keys "
        "vip, key, major and ordinary have built-in English and Chinese names.",
    )
    share: float = Field(gt=0, le=1, description="Share of customers in this tier (0.01 = 1 %).")
    en: str | None = Field(
        None, min_length=1, max_length=60, description="English name (required for a key without a built-in name)."
    )
    zh: str | None = Field(
        None, min_length=1, max_length=60, description="Chinese name (required for a key without a built-in name)."
    )


DEFAULT_TIERS: tuple[PyramidTier, ...] = (
    PyramidTier(key="vip", share=0.01),
    PyramidTier(key="key", share=0.04),
    PyramidTier(key="major", share=0.15),
    PyramidTier(key="ordinary", share=0.80),
)


class PyramidSettings(Settings):
    """Customer pyramid tiers, from the top down."""

    tiers: tuple[PyramidTier, ...] = Field(
        DEFAULT_TIERS,
        description="Tiers from the top down, each with key, share and (for keys without built-in "
        "names) en and zh names; shares are positive and sum to 1. Default: vip 1 %, key 4 %, "
        "major 15 %, ordinary 80 %.",
    )

    @model_validator(mode="after")
    def _valid_tiers(self) -> PyramidSettings:
        if not self.tiers:
            raise _invalid("tiers: give at least one tier")
        keys = [tier.key for tier in self.tiers]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise _invalid(f"tiers: each key must be used once, repeated: {', '.join(repeated)}")
        total = math.fsum(tier.share for tier in self.tiers)
        if abs(total - 1.0) > 1e-9:
            shares = " + ".join(f"{tier.share:g}" for tier in self.tiers)
            raise _invalid(
                f"tiers: the shares must sum to 1 (100 % of customers), they sum to {total:.6g} "
                f"({shares}); change the shares so they add up to 1"
            )
        unnamed = [
            t.key for t in self.tiers if f"pyramid.{t.key}" not in TERMS and (t.en is None or t.zh is None)
        ]
        if unnamed:
            raise _invalid(
                f"tiers: tier {', '.join(unnamed)} has no built-in name: give it both en and zh names"
            )
        return self


class ConcentrationSettings(Settings):
    """Pareto table and Lorenz curve of value concentration."""

    top_shares: tuple[Annotated[float, Field(gt=0, le=1)], ...] = Field(
        (0.01, 0.05, 0.10, 0.20, 0.50),
        min_length=1,
        description="Top shares of customers in the Pareto table (0.20 = the top 20 %).",
    )
    lorenz_points: int = Field(
        101, ge=2, le=100_001, description="Number of points of the Lorenz curve, from 0 to 1."
    )


class RFMRule(Settings):
    """One rectangle of the R × FM grid: a segment for a range of recency and FM scores."""

    segment: RFMSegment = Field(description="The RFM segment key.")
    recency: tuple[Score, Score] = Field(description="Lowest and highest recency score, inclusive (1-5).")
    fm: tuple[Score, Score] = Field(description="Lowest and highest FM score, inclusive (1-5).")


def _rule(segment: str, recency: tuple[int, int], fm: tuple[int, int]) -> RFMRule:
    return RFMRule(segment=segment, recency=recency, fm=fm)  # type: ignore[arg-type]


DEFAULT_RFM_RULES: tuple[RFMRule, ...] = (
    _rule("champions", (5, 5), (4, 5)),
    _rule("loyal", (3, 4), (4, 5)),
    _rule("potential_loyalist", (4, 5), (2, 3)),
    _rule("new", (5, 5), (1, 1)),
    _rule("promising", (4, 4), (1, 1)),
    _rule("need_attention", (3, 3), (3, 3)),
    _rule("about_to_sleep", (3, 3), (1, 2)),
    _rule("at_risk", (1, 2), (3, 4)),
    _rule("cant_lose_them", (1, 2), (5, 5)),
    _rule("hibernating", (2, 2), (1, 2)),
    _rule("lost", (1, 1), (1, 2)),
)


class RFMSettings(Settings):
    """RFM segments from the recency score and the average of frequency and monetary scores."""

    fm_rounding: Literal["half_up", "down"] = Field(
        "half_up",
        description="How the average of the frequency and monetary scores becomes a whole FM "
        "score: 'half_up' (4.5 -> 5) or 'down' (4.5 -> 4).",
    )
    rules: tuple[RFMRule, ...] = Field(
        DEFAULT_RFM_RULES,
        description="Segment rules over (recency, FM) score ranges; together they must cover each "
        "of the 25 cells exactly once. Default: the widely used R x FM segment map.",
    )

    @model_validator(mode="after")
    def _partition(self) -> RFMSettings:
        for rule in self.rules:
            for name, (low, high) in (("recency", rule.recency), ("fm", rule.fm)):
                if low > high:
                    raise _invalid(
                        f"rules: {rule.segment} has {name} range [{low}, {high}]: the lowest score comes first"
                    )
        _ = self.grid
        return self

    @property
    def grid(self) -> np.ndarray:
        """5 × 5 codes (index into ``RFM_SEGMENTS``) by [recency − 1, FM − 1]; checks the partition."""
        owners: dict[tuple[int, int], list[str]] = {(r, f): [] for r in range(1, 6) for f in range(1, 6)}
        for rule in self.rules:
            for r in range(rule.recency[0], rule.recency[1] + 1):
                for f in range(rule.fm[0], rule.fm[1] + 1):
                    owners[r, f].append(rule.segment)
        uncovered = [cell for cell, who in owners.items() if not who]
        doubled = {cell: who for cell, who in owners.items() if len(who) > 1}
        if uncovered or doubled:
            parts = []
            if uncovered:
                parts.append("not covered: " + ", ".join(f"(R {r}, FM {f})" for r, f in uncovered))
            if doubled:
                parts.append("covered more than once: " + ", ".join(
                    f"(R {r}, FM {f}) by {' and '.join(who)}" for (r, f), who in doubled.items()))
            raise _invalid(
                "rules: every (recency, FM) cell from 1 to 5 must belong to exactly one segment; "
                + "; ".join(parts)
            )
        grid = np.empty((5, 5), dtype=np.int8)
        for (r, f), who in owners.items():
            grid[r - 1, f - 1] = RFM_SEGMENTS.index(who[0])
        return grid


class LoyaltyProfitSettings(Settings):
    """Loyalty × profitability (Reinartz & Kumar): how each axis is split."""

    loyalty: MedianSplit = Field(
        MedianSplit(),
        description="Split of loyalty (relationship length / expected lifetime) into long and "
        "short; default median.",
    )
    profitability: MedianSplit = Field(
        MedianSplit(), description="Split of profitability (margin) into high and low; default median."
    )


class LoyaltyLevelSettings(Settings):
    """Thresholds of the loyalty ladder potential → new → regular → old → loyal."""

    new_max_purchases: int = Field(1, ge=1, description="A customer with at most this many purchases is new.")
    new_max_tenure_days: float = Field(
        90, ge=0, allow_inf_nan=False, description="A customer whose tenure is under this many days is new."
    )
    old_min_tenure_days: float = Field(
        365, ge=0, allow_inf_nan=False, description="A repeat customer with at least this tenure (days) is old."
    )
    loyal_min_tenure_days: float = Field(
        730, ge=0, allow_inf_nan=False, description="Loyal needs at least this tenure (days)."
    )
    loyal_min_purchases: int = Field(6, ge=1, description="Loyal needs at least this many purchases.")
    loyal_max_days_since_last_purchase: float = Field(
        365, ge=0, allow_inf_nan=False, description="Loyal needs a purchase within this many days."
    )

    @model_validator(mode="after")
    def _ladder(self) -> LoyaltyLevelSettings:
        if self.old_min_tenure_days < self.new_max_tenure_days:
            raise _invalid(
                f"old_min_tenure_days ({self.old_min_tenure_days:g}) must be at least new_max_tenure_days "
                f"({self.new_max_tenure_days:g}): an old customer cannot be newer than a new one"
            )
        if self.loyal_min_tenure_days < self.old_min_tenure_days:
            raise _invalid(
                f"loyal_min_tenure_days ({self.loyal_min_tenure_days:g}) must be at least old_min_tenure_days "
                f"({self.old_min_tenure_days:g}): loyal is the top of the ladder"
            )
        if self.loyal_min_purchases <= self.new_max_purchases:
            raise _invalid(
                f"loyal_min_purchases ({self.loyal_min_purchases}) must be more than new_max_purchases "
                f"({self.new_max_purchases}), or no customer could be loyal"
            )
        return self


class SegmentSettings(Settings):
    """Thresholds of every segmentation (the ``segments`` section of the value configuration)."""

    value_matrix: ValueMatrixSettings = Field(
        ValueMatrixSettings(), description="Current × potential value matrix."
    )
    pyramid: PyramidSettings = Field(PyramidSettings(), description="Customer pyramid tiers.")
    concentration: ConcentrationSettings = Field(
        ConcentrationSettings(), description="Pareto table and Lorenz curve."
    )
    rfm: RFMSettings = Field(RFMSettings(), description="RFM segment rules.")
    loyalty_profit: LoyaltyProfitSettings = Field(
        LoyaltyProfitSettings(), description="Loyalty × profitability matrix."
    )
    loyalty_level: LoyaltyLevelSettings = Field(LoyaltyLevelSettings(), description="Loyalty level ladder.")


def _section(settings: Any, cls: type[Settings], name: str) -> Any:
    """The ``name`` section from a section, :class:`SegmentSettings`, a ValueConfig or None."""
    if settings is None:
        return cls()
    if isinstance(settings, cls):
        return settings
    if isinstance(settings, SegmentSettings):
        return getattr(settings, name)
    segments = getattr(settings, "segments", None)
    if isinstance(segments, SegmentSettings):
        return getattr(segments, name)
    raise ConfigError(
        f"settings: expected {cls.__name__}, SegmentSettings or a ValueConfig, got {type(settings).__name__}",
        hint="pass cvm.value.config.load_config(...) or its .segments",
    )


# --------------------------------------------------------------------------------------------
# input checks


def _array(values: Any, name: str) -> np.ndarray:
    """One value per customer as a 1-D float array (NaN where missing)."""
    try:
        if isinstance(values, pd.Series | pd.Index):
            array = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(
            f"{name}: values must be numbers ({exc})",
            hint=f"pass {name} as a numeric array, one value per customer",
        ) from exc
    if array.ndim != 1:
        raise InvalidDataError(
            f"{name}: expected one value per customer (a 1-D array), got shape {array.shape}",
            hint=f"pass {name} as a single column",
        )
    return array


def _require(ok: np.ndarray, name: str, rule: str, values: np.ndarray, hint: str) -> None:
    bad = np.flatnonzero(~ok)
    if bad.size:
        examples = ", ".join(f"row {i} (value {values[i].item()!r})" for i in bad[:3].tolist())
        raise InvalidDataError(
            f"{name}: {rule}: {bad.size} row(s) break it, for example {examples}", hint=hint
        )


def _finite(values: Any, name: str) -> np.ndarray:
    array = _array(values, name)
    _require(np.isfinite(array), name, "must be a finite number", array,
             hint=f"fill or drop customers whose {name} is missing, NaN or infinite")
    return array


def _same_length(**arrays: Any) -> int:
    lengths = {name: len(array) for name, array in arrays.items() if array is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise InvalidDataError(
            f"the inputs must have one value per customer each, but {shown} values",
            hint="pass aligned columns of the same customer table",
        )
    return next(iter(lengths.values()), 0)


def _categorical(codes: np.ndarray, keys: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(keys)), validate=False)


# --------------------------------------------------------------------------------------------
# high / low splits


def _top_k(share: float, n: int) -> int:
    """``ceil(share × n)``, robust to float noise such as 0.07 × 100 = 7.000000000000001."""
    return max(1, math.ceil(round(share * n, 6)))


def _kth_largest(values: np.ndarray, ks: Sequence[int]) -> np.ndarray:
    n = values.size
    positions = sorted({n - k for k in ks})
    part = np.partition(values, positions)
    return np.array([part[n - k] for k in ks], dtype=float)


def _high(values: np.ndarray, split: AxisSplit) -> np.ndarray:
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    if split.method == "threshold":
        return values >= split.threshold
    if split.method == "median":
        return values >= np.median(values)
    cut = _kth_largest(values, [_top_k(split.share, values.size)])[0]
    return (values >= cut) & (values > 0)


def _two_by_two(first_high: np.ndarray, second_high: np.ndarray, keys: Sequence[str]) -> pd.Categorical:
    # order of keys: (high, high), (high, low), (low, high), (low, low)
    codes = (2 * (~first_high) + (~second_high)).astype(np.int8)
    return _categorical(codes, keys)


def value_matrix(current: Any, potential: Any, settings: Any = None) -> pd.Categorical:
    """Value-matrix cell per customer: strategic, profit, potential or ordinary.

    ``current`` and ``potential`` are aligned finite values; each axis is split by its
    :class:`AxisSplit` (default: top 20 %, ties at the cut included, values <= 0 never high).

    >>> import numpy as np
    >>> current = np.array([100.0, 80, 5, 0, 1])
    >>> potential = np.array([50.0, 0, 90, 1, 2])
    >>> value_matrix(current, potential).tolist()     # top 20 % of 5 = 1 customer per axis
    ['profit', 'ordinary', 'potential', 'ordinary', 'ordinary']
    >>> top_40 = ValueMatrixSettings(current=AxisSplit(share=0.4), potential=AxisSplit(share=0.4))
    >>> value_matrix(current, potential, top_40).tolist()
    ['strategic', 'profit', 'potential', 'ordinary', 'ordinary']
    >>> fixed = AxisSplit(method="threshold", threshold=50)
    >>> value_matrix(current, potential, ValueMatrixSettings(current=fixed, potential=fixed)).tolist()
    ['strategic', 'profit', 'potential', 'ordinary', 'ordinary']
    """
    section: ValueMatrixSettings = _section(settings, ValueMatrixSettings, "value_matrix")
    current = _finite(current, "current")
    potential = _finite(potential, "potential")
    _same_length(current=current, potential=potential)
    high_current, high_potential = _high(current, section.current), _high(potential, section.potential)
    return _two_by_two(high_current, high_potential, VALUE_MATRIX_CELLS)


# --------------------------------------------------------------------------------------------
# pyramid


def tier_labels(settings: Any = None) -> dict[str, tuple[str, str]]:
    """English and Chinese name of each pyramid tier, top first: configured names, else ``pyramid.*``.

    >>> tier_labels()["vip"]
    ('VIP', 'VIP 客户')
    >>> gold = PyramidSettings(tiers=[{"key": "gold", "share": 0.1, "en": "Gold", "zh": "金卡"},
    ...                               {"key": "ordinary", "share": 0.9}])
    >>> tier_labels(gold)
    {'gold': ('Gold', '金卡'), 'ordinary': ('ordinary', '普通客户')}
    """
    section: PyramidSettings = _section(settings, PyramidSettings, "pyramid")
    return {
        t.key: (t.en or label(f"pyramid.{t.key}", "en"), t.zh or label(f"pyramid.{t.key}", "zh"))
        for t in section.tiers
    }


def pyramid(value: Any, settings: Any = None) -> pd.Categorical:
    """Pyramid tier per customer (categories: the tier keys, top first).

    A customer is in the first tier whose cumulative share ``c`` makes their value at least
    the ``ceil(c × n)``-th largest (and greater than 0); otherwise in the last tier.

    >>> import numpy as np
    >>> values = np.arange(100, 0, -1.0)     # 100 customers with values 100, 99, ..., 1
    >>> tiers = pyramid(values)
    >>> tiers.value_counts().to_dict()
    {'vip': 1, 'key': 4, 'major': 15, 'ordinary': 80}
    >>> pyramid(np.array([5.0, 5.0, 0.0])).tolist()     # ties share a tier; 0 is never above the last
    ['vip', 'vip', 'ordinary']
    """
    section: PyramidSettings = _section(settings, PyramidSettings, "pyramid")
    value = _finite(value, "value")
    keys = [t.key for t in section.tiers]
    last = len(keys) - 1
    n = value.size
    if n == 0 or last == 0:
        return _categorical(np.zeros(n, dtype=np.int8), keys)
    cumulative = np.cumsum([t.share for t in section.tiers])[:-1]
    cuts = _kth_largest(value, [_top_k(c, n) for c in cumulative])  # non-increasing
    # tier = number of cuts strictly above the value (cuts are sorted from high to low)
    codes = np.searchsorted(-cuts, -value, side="left")
    codes[value <= 0] = last
    return _categorical(codes.astype(np.int16 if last > 100 else np.int8), keys)


def _codes_of(segment: Any, categories: Sequence[str] | None, name: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes and categories of a segment column (Categorical, Series or array of keys)."""
    if isinstance(segment, pd.Series) and isinstance(segment.dtype, pd.CategoricalDtype):
        segment = segment.array
    if isinstance(segment, pd.Categorical) and (
        categories is None or [str(c) for c in segment.categories] == list(categories)
    ):
        codes, keys = np.asarray(segment.codes), [str(c) for c in segment.categories]
    else:
        raw = np.asarray(segment, dtype=object)
        if raw.ndim != 1:
            raise InvalidDataError(
                f"{name}: expected one value per customer (a 1-D array), got shape {raw.shape}",
                hint=f"pass {name} as a single column",
            )
        if categories is None:
            cat = pd.Categorical(raw)
            codes, keys = np.asarray(cat.codes), [str(c) for c in cat.categories]
        else:  # keys outside the categories get -1 (reported below)
            keys = list(categories)
            codes = pd.Index(keys).get_indexer(raw)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        source = np.asarray(segment, dtype=object)
        examples = ", ".join(f"row {i} (value {source[i]!r})" for i in bad[:3].tolist())
        known = f" (known: {', '.join(keys)})" if categories is not None else ""
        raise InvalidDataError(
            f"{name}: every customer needs a known segment{known}: {bad.size} row(s) break it, "
            f"for example {examples}",
            hint=f"pass {name} as returned by the segmentation, with the same settings",
        )
    return codes, keys


def _share(numerator: np.ndarray, denominator: np.ndarray | float) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.broadcast_to(np.asarray(denominator, dtype=float), numerator.shape)
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def pyramid_table(
    value: Any,
    tiers: Any,
    realized: Any = None,
    potential: Any = None,
    influence: Any = None,
    settings: Any = None,
) -> pd.DataFrame:
    """Per pyramid tier (top first, empty tiers included): the data behind a pyramid chart.

    Columns: ``tier``, ``customers``, ``customer_share``, ``value``, ``value_share`` (of
    the total), ``average_value``, and for each component given (``realized``,
    ``potential``, ``influence``) its sum and ``<component>_share`` of the tier's value.
    ``tiers`` is the result of :func:`pyramid` (or an array of tier keys of ``settings``).
    A share whose denominator is 0 is NaN.

    >>> import numpy as np
    >>> realized = np.array([60.0, 30, 5, 5]); potential = np.array([40.0, 10, 5, 0])
    >>> value = realized + potential
    >>> tiers = pyramid(value, PyramidSettings(tiers=[{"key": "vip", "share": 0.25},
    ...                                              {"key": "ordinary", "share": 0.75}]))
    >>> table = pyramid_table(value, tiers, realized=realized, potential=potential)
    >>> table[["tier", "customers", "customer_share", "value", "value_share", "average_value"]]
           tier  customers  customer_share  value  value_share  average_value
    0       vip          1            0.25  100.0     0.645161     100.000000
    1  ordinary          3            0.75   55.0     0.354839      18.333333
    >>> table[["tier", "realized", "realized_share", "potential", "potential_share"]]
           tier  realized  realized_share  potential  potential_share
    0       vip      60.0        0.600000       40.0         0.400000
    1  ordinary      40.0        0.727273       15.0         0.272727
    """
    value = _finite(value, "value")
    components = {
        name: _finite(column, name)
        for name, column in (("realized", realized), ("potential", potential), ("influence", influence))
        if column is not None
    }
    categories = None
    if not isinstance(tiers, pd.Categorical) and not (
        isinstance(tiers, pd.Series) and isinstance(tiers.dtype, pd.CategoricalDtype)
    ):
        categories = [t.key for t in _section(settings, PyramidSettings, "pyramid").tiers]
    _same_length(value=value, tiers=tiers, **components)
    codes, keys = _codes_of(tiers, categories, "tiers")
    k = len(keys)
    customers = np.bincount(codes, minlength=k)
    totals = np.bincount(codes, weights=value, minlength=k)
    table = pd.DataFrame({
        "tier": _categorical(np.arange(k), keys),
        "customers": customers.astype(np.int64),
        "customer_share": _share(customers, customers.sum()),
        "value": totals,
        "value_share": _share(totals, totals.sum()),
        "average_value": _share(totals, customers),
    })
    for name, column in components.items():
        sums = np.bincount(codes, weights=column, minlength=k)
        table[name] = sums
        table[f"{name}_share"] = _share(sums, totals)
    return table


# --------------------------------------------------------------------------------------------
# concentration


@dataclass(frozen=True)
class Concentration:
    """How concentrated value is: Pareto table, Lorenz curve and Gini coefficient.

    ``pareto`` has columns ``top_share`` (as configured), ``customers`` (``ceil(top_share ×
    n)``), ``customer_share`` (their actual share), ``value`` and ``value_share``;
    ``lorenz`` has ``customer_share`` and ``value_share``. Negative values count as 0;
    ``negative_customers`` and ``negative_value`` (their sum, <= 0) report what was set aside.
    """

    pareto: pd.DataFrame
    lorenz: pd.DataFrame
    gini: float
    customers: int
    total_value: float
    negative_customers: int
    negative_value: float


def concentration(value: Any, settings: Any = None) -> Concentration:
    """Pareto table, Lorenz curve and Gini coefficient of ``value`` (negative values count as 0).

    >>> import numpy as np
    >>> result = concentration(np.array([0.0, 0, 0, 10]))
    >>> result.gini
    0.75
    >>> result.pareto[["top_share", "customers", "value_share"]].iloc[[0, 4]]
       top_share  customers  value_share
    0       0.01          1          1.0
    4       0.50          2          1.0
    >>> result.lorenz.iloc[[0, 50, 75, 100]]
         customer_share  value_share
    0              0.00          0.0
    50             0.50          0.0
    75             0.75          0.0
    100            1.00          1.0
    """
    section: ConcentrationSettings = _section(settings, ConcentrationSettings, "concentration")
    raw = _finite(value, "value")
    n = raw.size
    negative = raw < 0
    clipped = np.where(negative, 0.0, raw)
    ordered = np.sort(clipped)
    cumulative = np.concatenate(([0.0], np.cumsum(ordered)))
    total = float(cumulative[-1])
    has_value = total > 0
    shares = np.asarray(section.top_shares, dtype=float)
    ks = np.array([min(n, _top_k(s, n)) if n else 0 for s in shares], dtype=np.int64)
    top_value = total - cumulative[n - ks]
    pareto = pd.DataFrame({
        "top_share": shares,
        "customers": ks,
        "customer_share": _share(ks, n),
        "value": top_value,
        "value_share": top_value / total if has_value else np.full(ks.size, np.nan),
    })
    grid = np.linspace(0.0, 1.0, section.lorenz_points)
    if has_value:
        curve = np.interp(grid * n, np.arange(n + 1), cumulative / total)
        curve[-1] = 1.0
        ranks = np.arange(1, n + 1, dtype=float)
        gini = float(np.clip(2.0 * np.dot(ranks, ordered) / (n * total) - (n + 1) / n, 0.0, 1.0))
    else:
        curve = np.full(grid.size, np.nan)
        gini = math.nan
    return Concentration(
        pareto=pareto,
        lorenz=pd.DataFrame({"customer_share": grid, "value_share": curve}),
        gini=gini,
        customers=n,
        total_value=total,
        negative_customers=int(negative.sum()),
        negative_value=float(raw[negative].sum()),
    )


# --------------------------------------------------------------------------------------------
# RFM


def _scores(values: Any, name: str) -> np.ndarray:
    array = _array(values, name)
    ok = (array >= 1) & (array <= 5) & (array == np.floor(array))
    _require(ok, name, "must be a whole number from 1 to 5", array,
             hint="pass the 1-5 scores of cvm.data.summaries.rfm_scores")
    return array.astype(np.int8)


def rfm_segments(
    recency_score: Any, frequency_score: Any, monetary_score: Any, settings: Any = None
) -> pd.Categorical:
    """RFM segment per customer from 1-5 scores (the grid of rules in the module documentation).

    >>> rfm_segments([5, 5, 3, 1, 1], [5, 1, 3, 5, 1], [4, 1, 3, 5, 2]).tolist()
    ['champions', 'new', 'need_attention', 'cant_lose_them', 'lost']
    """
    section: RFMSettings = _section(settings, RFMSettings, "rfm")
    r = _scores(recency_score, "recency_score")
    f = _scores(frequency_score, "frequency_score")
    m = _scores(monetary_score, "monetary_score")
    _same_length(recency_score=r, frequency_score=f, monetary_score=m)
    fm = (f + m + (1 if section.fm_rounding == "half_up" else 0)) // 2
    codes = section.grid[r - 1, fm - 1]
    return _categorical(codes, RFM_SEGMENTS)


# --------------------------------------------------------------------------------------------
# loyalty


def loyalty_profitability(loyalty: Any, profitability: Any, settings: Any = None) -> pd.Categorical:
    """Reinartz & Kumar cell per customer: true_friend, butterfly, barnacle or stranger.

    ``loyalty`` is relationship length / expected lifetime, ``profitability`` a margin;
    default splits: at the median, ties long / high.

    >>> loyalty_profitability([2.0, 0.1, 1.5, 0.2], [300.0, 500, -20, 10]).tolist()
    ['true_friend', 'butterfly', 'barnacle', 'stranger']
    """
    section: LoyaltyProfitSettings = _section(settings, LoyaltyProfitSettings, "loyalty_profit")
    loyalty = _finite(loyalty, "loyalty")
    profitability = _finite(profitability, "profitability")
    _same_length(loyalty=loyalty, profitability=profitability)
    long = _high(loyalty, section.loyalty)
    profitable = _high(profitability, section.profitability)
    # key order: true_friend (long, high), butterfly (short, high), barnacle (long, low), stranger
    codes = (2 * (~profitable) + (~long)).astype(np.int8)
    return _categorical(codes, LOYALTY_PROFIT_CELLS)


def loyalty_level(
    n_purchases: Any, tenure_days: Any, days_since_last_purchase: Any, settings: Any = None
) -> pd.Categorical:
    """Loyalty level per customer: potential, new, regular, old or loyal (first matching rule).

    >>> loyalty_level([0, 1, 3, 3, 8, 8], [float("nan"), 400, 200, 500, 800, 800],
    ...               [float("nan"), 400, 10, 30, 30, 500]).tolist()
    ['potential', 'new', 'regular', 'old', 'loyal', 'old']
    """
    section: LoyaltyLevelSettings = _section(settings, LoyaltyLevelSettings, "loyalty_level")
    n = _array(n_purchases, "n_purchases")
    tenure = _array(tenure_days, "tenure_days")
    since = _array(days_since_last_purchase, "days_since_last_purchase")
    _same_length(n_purchases=n, tenure_days=tenure, days_since_last_purchase=since)
    _require((n >= 0) & (n == np.floor(n)), "n_purchases", "must be a whole number >= 0", n,
             hint="count purchases per customer (0 for registered customers who never bought)")
    buyer = n > 0
    for name, column in (("tenure_days", tenure), ("days_since_last_purchase", since)):
        _require(~buyer | (np.isfinite(column) & (column >= 0)), name,
                 "must be a finite number of days >= 0 for customers with purchases", column,
                 hint=f"compute {name} for every customer who bought "
                 "(it may be missing only when n_purchases is 0)")
        _require(buyer | np.isnan(column) | (column >= 0), name, "must be >= 0 or missing", column,
                 hint=f"{name} cannot be negative")
    with np.errstate(invalid="ignore"):
        new = (n <= section.new_max_purchases) | (tenure < section.new_max_tenure_days)
        loyal = (
            (tenure >= section.loyal_min_tenure_days)
            & (n >= section.loyal_min_purchases)
            & (since <= section.loyal_max_days_since_last_purchase)
        )
        old = tenure >= section.old_min_tenure_days
    codes = np.select(
        [~buyer, new, loyal, old],
        [0, 1, 4, 3],
        default=2,
    ).astype(np.int8)
    return _categorical(codes, LOYALTY_LEVELS)


# --------------------------------------------------------------------------------------------
# labels and breakdown


def labelled(
    keys: Any, prefix: str, settings: Any = None, names: Mapping[str, tuple[str, str]] | None = None
) -> tuple[pd.Categorical, pd.Categorical]:
    """English and Chinese labels of segment keys, as two Categoricals (only the categories are mapped).

    ``prefix`` is the label family (``value_matrix``, ``pyramid``, ``rfm``, ``loyalty_profit``,
    ``loyalty_level``). For ``pyramid``, the tier names come from ``settings`` (see
    :func:`tier_labels`), so configured tiers get their own names. ``names`` overrides the
    labels of single keys: ``{key: (english, chinese)}``. Keys with the same label are merged
    into one category; missing keys stay missing.

    >>> en, zh = labelled(value_matrix([9.0, 1, 1, 1, 1], [9.0, 1, 1, 1, 1]), "value_matrix")
    >>> en.tolist()[:2], zh.tolist()[:2]
    (['strategic', 'ordinary'], ['战略客户', '普通客户'])
    >>> gold = SegmentSettings.model_validate({"pyramid": {"tiers": [
    ...     {"key": "gold", "share": 0.5, "en": "Gold", "zh": "金卡"}, {"key": "ordinary", "share": 0.5}]}})
    >>> labelled(pyramid([3.0, 1.0], gold), "pyramid", gold)[1].tolist()
    ['金卡', '普通客户']
    """
    if isinstance(keys, pd.Series) and isinstance(keys.dtype, pd.CategoricalDtype):
        keys = keys.array
    if not isinstance(keys, pd.Categorical):
        keys = pd.Categorical(np.asarray(keys, dtype=object))
    categories = [str(c) for c in keys.categories]
    names = {**(tier_labels(settings) if prefix == "pyramid" else {}), **(names or {})}
    unknown = [c for c in categories if c not in names and f"{prefix}.{c}" not in TERMS]
    if unknown:
        raise InvalidDataError(
            f"labels: no {prefix!r} label for {', '.join(map(repr, unknown))}",
            hint="check the prefix; for configured pyramid tiers pass the settings they were made with",
        )
    codes = np.asarray(keys.codes)
    out = []
    for position, lang in enumerate(("en", "zh")):
        texts = [names[c][position] if c in names else label(f"{prefix}.{c}", lang) for c in categories]
        mapping, unique = pd.factorize(pd.Index(texts))
        if len(unique) == len(texts):  # one label per key: keep the codes, rename the categories
            new_codes = codes
        else:  # two keys share a label: merge them (index -1, a missing key, stays -1)
            lookup = np.append(np.asarray(mapping), -1).astype(codes.dtype)
            new_codes = lookup[codes]
        out.append(pd.Categorical.from_codes(new_codes, categories=pd.Index(unique), validate=False))
    return out[0], out[1]


def _profile_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes of a profile column; missing values get their own last group."""
    try:
        codes, uniques = pd.factorize(column, sort=True)
    except TypeError:  # values of several types cannot be sorted
        codes, uniques = pd.factorize(column, sort=False)
    levels = [str(u) for u in uniques]
    codes = np.asarray(codes)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(levels), codes)
        levels.append(label(MISSING_KEY))
    return codes, levels


def breakdown(segment: Any, by: pd.DataFrame | pd.Series, value: Any = None) -> pd.DataFrame:
    """Customers (and value) per segment × profile value, one long table for all profile columns.

    Columns: ``segment``, ``profile`` (the column of ``by``), ``profile_value`` (as text;
    missing values are ``(missing)``), ``customers``, ``share_of_segment``, and with
    ``value``: ``value`` and ``value_share`` (of the segment's value). Every segment ×
    observed profile value appears, with 0 customers where empty. Rows are matched by
    position, not by index.

    >>> import numpy as np, pandas as pd
    >>> cells = value_matrix([9.0, 1, 1, 1, 1], [9.0, 1, 1, 1, 1])
    >>> profile = pd.DataFrame({"gender": ["f", "m", None, "f", "f"]})
    >>> table = breakdown(cells, profile, value=np.array([9.0, 1, 1, 1, 1]))
    >>> table[table.customers > 0].drop(columns="profile")
          segment profile_value  customers  share_of_segment  value  value_share
    0   strategic             f          1              1.00    9.0         1.00
    9    ordinary             f          2              0.50    2.0         0.50
    10   ordinary             m          1              0.25    1.0         0.25
    11   ordinary     (missing)          1              0.25    1.0         0.25
    """
    if isinstance(by, pd.Series):
        by = by.to_frame()
    if not isinstance(by, pd.DataFrame):
        raise InvalidDataError(
            f"by: expected a DataFrame of profile columns, got {type(by).__name__}",
            hint="pass the profile columns as a pandas DataFrame",
        )
    values = _finite(value, "value") if value is not None else None
    _same_length(segment=segment, by=by, value=values)
    codes, keys = _codes_of(segment, None, "segment")
    k = len(keys)
    seg_customers = np.bincount(codes, minlength=k)
    seg_value = np.bincount(codes, weights=values, minlength=k) if values is not None else None
    frames = []
    for column in by.columns:
        profile_codes, levels = _profile_codes(by[column].reset_index(drop=True))
        m = len(levels)
        cell = codes.astype(np.int64) * m + profile_codes
        counts = np.bincount(cell, minlength=k * m)
        frame = pd.DataFrame({
            "segment": _categorical(np.repeat(np.arange(k), m), keys),
            "profile": str(column),
            "profile_value": np.tile(np.array(levels, dtype=object), k),
            "customers": counts.astype(np.int64),
            "share_of_segment": _share(counts, np.repeat(seg_customers, m)),
        })
        if values is not None:
            sums = np.bincount(cell, weights=values, minlength=k * m)
            frame["value"] = sums
            frame["value_share"] = _share(sums, np.repeat(seg_value, m))
        frames.append(frame)
    if not frames:
        columns = ["segment", "profile", "profile_value", "customers", "share_of_segment"]
        return pd.DataFrame(columns=columns + (["value", "value_share"] if values is not None else []))
    return pd.concat(frames, ignore_index=True)
