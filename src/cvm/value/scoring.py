"""Scoring models: a composite customer score (0–100) and a tier from weighted indicators.

A **scoring model** turns a few columns of the customer value table (one row per customer)
into one number per customer, the *score*, from 0 (worst) to 100 (best), and a *tier*
(A, B, C, D …). Users define their own models in the `scoring` section of the value
configuration (`cvm.value.config`); CVM ships one, the **five-factor model** (`five_factor`,
五因素模型). `score(table, model)` scores one model, `score_all(table, settings)` every
configured model, and `validate_model(model, columns)` checks a model against a table first.

## What a model is made of

**Indicators**: what is scored. An indicator is one of the five built-in names below or the
name of any numeric (or yes/no) column of the table: `p_alive`, `revenue`, `n_purchases`,
`days_since_last_purchase`, `influence_value`, a column of your own. A built-in name wins over
a column of the same name. Each indicator is listed once, and two indicators may not read the
same column.

| built-in indicator | column it reads | meaning |
|---|---|---|
| `current_contribution` | `gross_margin_recent` | CRM gross margin of the last K periods |
| `future_contribution` | `clv` | discounted expected future margin |
| `loyalty` | `tenure_days` | length of the relationship, in days |
| `credit` | `credit_index` | 1 − share of gross sales returned (1 = never returns) |
| `growth_potential` | `margin_growth` | forecast margin of the next K periods − margin of the last K |

**Normalisation** (per indicator) maps the values to 0–1 *within the scope*: only the
customers the model scores are compared with each other.

* `percentile` (the default): the customer's rank among the `n` customers in scope,
  `(rank − 1) / (n − 1)`, so the lowest value gets 0 and the highest 1. Ties share the
  average of the ranks they span: values 5, 7, 7, 9 get 0, 0.5, 0.5, 1. Robust to outliers
  and to the long tails of margins and CLV.
* `minmax`: `(value − min) / (max − min)`. Keeps the distances between customers, but one
  extreme customer squeezes everybody else towards 0.
* `zscore`: `Φ((value − mean) / sd)`, the standard normal distribution function of the
  z-score, with the population standard deviation (divided by `n`). The mean customer gets
  0.5, one standard deviation above it 0.841, one below 0.159. Nothing is clipped: `Φ` maps
  every z-score into 0–1.

An indicator that takes **one value** for every customer in scope (max = min, sd 0, or a
single customer in scope) tells nobody apart: everybody gets 0.5 for it.

**Direction** (per indicator): `higher_is_better` (the default) or `lower_is_better`, which
turns the normalised value round (`1 − value`): with `days_since_last_purchase` lower is
better, so the most recent buyer gets 1.

**Weight** (per indicator): any positive number. The weights of a model are divided by their
sum, so weights 3 and 1 mean 75 % and 25 %. Zero, negative and non-finite weights are errors.

    score = 100 × Σ (weight ÷ sum of weights) × normalised value

rounded to 9 decimal places, so that a score that is exactly a cut-off in exact arithmetic is
not put below it by floating-point rounding. A score is always within 0–100.

**Scope**: conditions `{column, op, value}` that must all hold for a customer to be scored,
with `op` one of `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not_in` (`in` and `not_in` take a
list of values). The value must be of the column's kind: a number for a numeric column, text
for a text column, a date (or a date written as text) for a date column; text compares
alphabetically. An empty scope (the default) scores every customer. A customer whose scope
column is blank is out of scope, whatever the condition (also for `!=` and `not_in`).
Customers out of scope get no score, tier or indicator scores (they are missing) and take
no part in the comparison.

**Tiers**: `{key, en, zh, min_score}` listed from best to worst, `min_score` strictly
decreasing and the last one 0; keys, English and Chinese names are distinct. A customer gets
the first tier whose `min_score` their score reaches, so a score exactly at a cut-off belongs
to the higher tier. Default: `A` ≥ 80, `B` ≥ 60, `C` ≥ 40, `D` below 40 (A 级, B 级, C 级,
D 级).

## Missing values

A customer in scope whose indicator value is blank (missing, NaN) gets the worst normalised
value, 0, for that indicator (as if they had the scope's worst value, whatever the
direction); the other customers are normalised among the known values only. The result's
notes (`result.attrs["notes"]`, bilingual `cvm.labels.Note`s, also logged at INFO level; the
customer value table adds them to its notes) say how many customers that was, with an example
row. If nobody in scope has a value, the indicator tells nobody apart: 0.5 for
everybody. Infinite values are an error (`InvalidDataError`). So every customer in scope gets
a score.

## The result

`score` returns a table with the index of the input and the columns `score` (0–100),
`tier` (the tier key), `tier_en`, `tier_zh` (the tier's names) and one `<indicator>_score`
column (0–1) per indicator, the normalised values the score is made of, so users can see why
a customer scored as they did. The tier columns are ordered categoricals from the worst tier
to the best, so `result.tier.max()` is the best tier present. The same customers give the
same results whatever the order of the rows.

## The five-factor model

The default `scoring.models`. Every indicator is ranked (`percentile`, higher is better)
among all customers, with the default tiers and these weights:

| indicator | weight | why |
|---|---|---|
| `current_contribution` | 0.30 | what the customer earns us now |
| `future_contribution` | 0.30 | what the customer is expected to earn (CLV) |
| `loyalty` | 0.15 | long relationships cost less to keep and bring referrals |
| `growth_potential` | 0.15 | room to grow the relationship |
| `credit` | 0.10 | a customer who returns goods is worth less than their margin shows |

Value now and later weighs 60 %, the relationship (loyalty, credit) 25 %, growth 15 %.

## Configuring models

A configuration that keeps the five-factor model and adds one of its own:

    scoring:
      models:
        - name: five_factor
        - name: active_buyers
          title_en: Active buyers
          title_zh: 活跃买家
          indicators:
            - {name: p_alive, weight: 2}
            - {name: days_since_last_purchase, normalisation: minmax, direction: lower_is_better}
          scope:
            - {column: n_purchases, op: ">=", value: 2}
            - {column: channel, op: in, value: [online, app]}
          tiers:
            - {key: gold, en: Gold, zh: 金牌, min_score: 70}
            - {key: silver, en: Silver, zh: 银牌, min_score: 0}

`- name: five_factor` alone keeps the shipped model; listing models without it drops it; a
model called `five_factor` written out in full replaces it. Model names are identifiers
(letters, digits, `_`) and distinct; `title_en` and `title_zh` default to the name. Every
problem of a configuration is reported at once, with its key path, for example
`scoring.models.active_buyers.indicators.p_alive.weight: Input should be greater than 0`.

>>> table = pd.DataFrame({"revenue": [100.0, 300.0, 200.0, 400.0],
...                       "days_since_last_purchase": [10, 40, 20, 30]},
...                      index=pd.Index(["c1", "c2", "c3", "c4"], name="customer_id"))
>>> model = ScoringModel(name="simple", indicators=[
...     Indicator(name="revenue", weight=3),
...     Indicator(name="days_since_last_purchase", direction="lower_is_better")])
>>> score(table, model)[["score", "tier", "revenue_score"]]
                  score tier  revenue_score
customer_id
c1            25.000000    D       0.000000
c2            50.000000    C       0.666667
c3            41.666667    C       0.333333
c4            83.333333    A       1.000000
"""

from __future__ import annotations

import logging
import operator
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from scipy.special import ndtr

from cvm.errors import ConfigError, InvalidDataError
from cvm.labels import Note, label
from cvm.value.settings import Settings

logger = logging.getLogger(__name__)

PARALLEL_ROWS = 200_000
"""From this many customers in scope, a model's indicators are normalised in parallel threads."""

__all__ = [
    "BUILTIN_INDICATORS",
    "Condition",
    "FIVE_FACTOR_MODEL",
    "Indicator",
    "ScoringModel",
    "ScoringSettings",
    "Tier",
    "score",
    "score_all",
    "validate_model",
]

BUILTIN_INDICATORS: dict[str, str] = {
    "current_contribution": "gross_margin_recent",
    "future_contribution": "clv",
    "loyalty": "tenure_days",
    "credit": "credit_index",
    "growth_potential": "margin_growth",
}
"""Built-in indicator name → the column of the customer value table it reads."""

Normalisation = Literal["percentile", "minmax", "zscore"]
Direction = Literal["higher_is_better", "lower_is_better"]
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in"]
Scalar = bool | int | float | str | datetime | date

_ERROR = "scoring_config"  # type of the validation errors raised by this module's own checks
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError(_ERROR, "{message}", {"message": message})




class Indicator(Settings):
    """One thing a scoring model scores, with its normalisation, direction and weight."""

    name: str = Field(
        min_length=1,
        description="A built-in indicator (current_contribution, future_contribution, loyalty, "
        "credit, growth_potential) or the name of a numeric column of the customer value table.",
    )
    weight: float = Field(
        1.0, gt=0, allow_inf_nan=False,
        description="Relative weight (> 0). The weights of a model are divided by their sum.",
    )
    normalisation: Normalisation = Field(
        "percentile",
        description="How values are mapped to 0-1 among the customers in scope: 'percentile' "
        "(rank, ties share the average rank), 'minmax' ((x - min) / (max - min)) or 'zscore' "
        "(normal CDF of (x - mean) / sd). A constant indicator gives 0.5.",
    )
    direction: Direction = Field(
        "higher_is_better",
        description="'higher_is_better', or 'lower_is_better' to turn the normalised value "
        "round (1 - value).",
    )

    @field_validator("name")
    @classmethod
    def _no_padding(cls, name: str) -> str:
        if name != name.strip():
            raise _problem(f"indicator name {name!r} starts or ends with spaces")
        return name

    @property
    def column(self) -> str:
        """The column of the customer value table this indicator reads."""
        return BUILTIN_INDICATORS.get(self.name, self.name)


class Condition(Settings):
    """One scope condition: ``column op value``; a customer is in scope when all hold."""

    column: str = Field(min_length=1, description="Column of the customer value table.")
    op: Op = Field(description="One of ==, !=, <, <=, >, >=, in, not_in.")
    value: Scalar | tuple[Scalar, ...] = Field(
        description="The value compared with (a list of values for 'in' and 'not_in')."
    )

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        many = isinstance(self.value, tuple)
        if self.op in ("in", "not_in"):
            if not many:
                raise _problem(f"op {self.op!r} needs a list of values, got {self.value!r}")
            if not self.value:
                raise _problem(f"op {self.op!r} needs at least one value")
        elif many:
            raise _problem(f"op {self.op!r} compares with one value, not a list")
        values = self.value if many else (self.value,)
        if any(isinstance(v, float) and not np.isfinite(v) for v in values):
            raise _problem("the value must be a finite number (a missing value is never in scope)")
        return self

    def __str__(self) -> str:
        value = list(self.value) if isinstance(self.value, tuple) else repr(self.value)
        return f"{self.column} {self.op} {value}"


class Tier(Settings):
    """One tier of a scoring model: customers whose score reaches ``min_score``."""

    key: str = Field(
        pattern=r"^[A-Za-z0-9_+\-]+$",
        description="Short key of the tier (letters, digits, _ + -), for example 'A'.",
    )
    en: str = Field(min_length=1, description="English name shown to users.")
    zh: str = Field(min_length=1, description="Simplified Chinese name shown to users.")
    min_score: float = Field(
        ge=0, le=100, allow_inf_nan=False,
        description="Lowest score (0-100) of the tier; a score exactly at it belongs to this tier.",
    )


def _default_tiers() -> tuple[Tier, ...]:
    return tuple(
        Tier(key=key, en=label(f"scoring_tier.{key}", "en"), zh=label(f"scoring_tier.{key}", "zh"),
             min_score=cut)
        for key, cut in (("A", 80.0), ("B", 60.0), ("C", 40.0), ("D", 0.0))
    )


def _relabel(exc: ValidationError, data: Any, lists: Mapping[str, str]) -> ValidationError:
    """``exc`` with list positions under the fields of ``lists`` replaced by each item's name.

    ``lists`` maps a field (``indicators``) to the key naming its items (``name``), so an error
    reads ``indicators.clv.weight`` instead of ``indicators.1.weight``.
    """
    errors: list[dict[str, Any]] = []
    for error in exc.errors():
        loc = list(error["loc"])
        if len(loc) >= 2 and loc[0] in lists and isinstance(loc[1], int):
            items = data.get(loc[0]) if isinstance(data, Mapping) else getattr(data, str(loc[0]), None)
            try:
                item = items[loc[1]]  # type: ignore[index]
                name = item.get(lists[loc[0]]) if isinstance(item, Mapping) else getattr(item, lists[loc[0]])
            except (TypeError, IndexError, KeyError, AttributeError):
                name = None
            if isinstance(name, str) and name:
                loc[1] = name
        if error["type"] == _ERROR:
            # the message already names the offender; a mapping input keeps config's "(got ...)" out
            errors.append({"type": _problem(error["msg"]), "loc": tuple(loc), "input": {}})
        else:
            rebuilt = {"type": error["type"], "loc": tuple(loc), "input": error["input"]}
            if "ctx" in error:
                rebuilt["ctx"] = error["ctx"]
            errors.append(rebuilt)
    try:
        return ValidationError.from_exception_data(exc.title, errors)  # type: ignore[arg-type]
    except Exception:  # an error type pydantic cannot rebuild: keep the original
        return exc


class ScoringModel(Settings):
    """A named scoring model: indicators, scope and tiers (see the module documentation)."""

    name: str = Field(pattern=_IDENTIFIER, description="Identifier of the model, for example 'five_factor'.")
    title_en: str = Field("", description="English title shown to users (default: the name).")
    title_zh: str = Field("", description="Simplified Chinese title shown to users (default: the name).")
    indicators: tuple[Indicator, ...] = Field(
        description="What is scored (at least one indicator); weights are divided by their sum."
    )
    scope: tuple[Condition, ...] = Field(
        (), description="Conditions that must all hold for a customer to be scored (empty: everybody)."
    )
    tiers: tuple[Tier, ...] = Field(
        default_factory=_default_tiers,
        description="Tiers from best to worst, min_score strictly decreasing, the last one 0 "
        "(default A >= 80, B >= 60, C >= 40, D below).",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_parts(cls, data: Any, handler: Callable[[Any], ScoringModel]) -> ScoringModel:
        if isinstance(data, Mapping) and data.get("name") == FIVE_FACTOR_NAME and set(data) == {"name"}:
            return FIVE_FACTOR_MODEL  # `- name: five_factor` alone keeps the shipped model
        if isinstance(data, Mapping) and isinstance(data.get("name"), str):
            data = {"title_en": data["name"], "title_zh": data["name"], **data}
        try:
            return handler(data)
        except ValidationError as exc:
            raise _relabel(exc, data, {"indicators": "name", "tiers": "key"}) from None

    @field_validator("indicators")
    @classmethod
    def _distinct_indicators(cls, indicators: tuple[Indicator, ...]) -> tuple[Indicator, ...]:
        if not indicators:
            raise _problem("at least one indicator is needed")
        problems = []
        names = [i.name for i in indicators]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"indicator {name!r} is listed {names.count(name)} times")
        by_column: dict[str, list[str]] = {}
        for indicator in indicators:
            by_column.setdefault(indicator.column, []).append(indicator.name)
        for column, users in by_column.items():
            if len(set(users)) > 1:
                problems.append(f"indicators {', '.join(map(repr, users))} all read column {column!r}")
        if problems:
            raise _problem("; ".join(problems) + " (list each indicator once)")
        return indicators

    @field_validator("tiers")
    @classmethod
    def _ordered_tiers(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if not tiers:
            raise _problem("at least one tier is needed (its min_score 0)")
        problems = []
        for attr in ("key", "en", "zh"):
            values = [getattr(t, attr) for t in tiers]
            for value in sorted({v for v in values if values.count(v) > 1}):
                problems.append(f"tier {attr} {value!r} is used {values.count(value)} times")
        for upper, lower in zip(tiers, tiers[1:]):
            if not lower.min_score < upper.min_score:
                problems.append(
                    f"min_score must decrease strictly from best to worst tier: tier {lower.key!r} "
                    f"({lower.min_score:g}) follows tier {upper.key!r} ({upper.min_score:g})"
                )
        if tiers[-1].min_score != 0:
            problems.append(
                f"the last tier ({tiers[-1].key!r}) must have min_score 0 so that every score has a "
                f"tier, got {tiers[-1].min_score:g}"
            )
        if problems:
            raise _problem("; ".join(problems))
        return tiers

    @property
    def weights(self) -> dict[str, float]:
        """Indicator name → weight divided by the sum of the weights (they add up to 1)."""
        raw = np.array([i.weight for i in self.indicators])
        raw = raw / raw.max()  # huge finite weights would overflow the sum
        total = raw.sum()
        return {i.name: float(w / total) for i, w in zip(self.indicators, raw)}


FIVE_FACTOR_NAME = "five_factor"

FIVE_FACTOR_MODEL = ScoringModel(
    name=FIVE_FACTOR_NAME,
    title_en=label("scoring.five_factor", "en"),
    title_zh=label("scoring.five_factor", "zh"),
    indicators=(
        Indicator(name="current_contribution", weight=0.30),
        Indicator(name="future_contribution", weight=0.30),
        Indicator(name="loyalty", weight=0.15),
        Indicator(name="credit", weight=0.10),
        Indicator(name="growth_potential", weight=0.15),
    ),
)
"""The shipped default: current and future contribution, loyalty, credit and growth potential."""


class ScoringSettings(Settings):
    """The scoring models to run (default: the five-factor model alone).

    >>> [m.name for m in ScoringSettings().models]
    ['five_factor']
    """

    models: tuple[ScoringModel, ...] = Field(
        (FIVE_FACTOR_MODEL,),
        description="Scoring models, each with a distinct name. The default is the five-factor "
        "model; list it (`- name: five_factor`) to keep it beside models of your own, or leave "
        "it out to drop it.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_models(cls, data: Any, handler: Callable[[Any], ScoringSettings]) -> ScoringSettings:
        try:
            return handler(data)
        except ValidationError as exc:
            raise _relabel(exc, data, {"models": "name"}) from None

    @field_validator("models")
    @classmethod
    def _distinct_names(cls, models: tuple[ScoringModel, ...]) -> tuple[ScoringModel, ...]:
        names = [m.name for m in models]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise _problem(
                "model names must be unique: "
                + ", ".join(f"{n!r} is used {names.count(n)} times" for n in repeated)
            )
        return models

    def get(self, name: str) -> ScoringModel:
        """The model called ``name``.

        >>> ScoringSettings().get("five_factor").title_en
        'five-factor model'
        """
        for model in self.models:
            if model.name == name:
                return model
        available = ", ".join(m.name for m in self.models) or "none"
        raise ConfigError(
            f"scoring model {name!r} is not configured (models: {available})",
            hint="add it under `scoring.models` in the value configuration",
        )


# ---------------------------------------------------------------------------------------------
# checking a model against a table

def _column_kind(dtype: Any) -> str:
    """'date', 'number', 'text' or 'any' (object columns, anything else)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return _column_kind(dtype.categories.dtype)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if dtype == np.dtype(object):
        return "any"
    if pd.api.types.is_string_dtype(dtype):
        return "text"
    return "other"


def _value_kind(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return "number"
    if isinstance(value, date):
        return "date"
    return "text"


def _condition_problem(condition: Condition, dtype: Any) -> str | None:
    column_kind = _column_kind(dtype)
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    kinds = {_value_kind(v) for v in values}
    if column_kind == "any":
        return None
    if column_kind == "date":
        bad = kinds - {"date", "text"}
        if not bad:
            try:
                for v in values:
                    pd.Timestamp(v)
                return None
            except (ValueError, TypeError):
                return f"column {condition.column!r} holds dates and {values!r} is not a date"
    elif column_kind in ("number", "text"):
        bad = kinds - {column_kind}
        if not bad:
            return None
    else:
        return f"column {condition.column!r} ({dtype}) cannot be compared with a value"
    names = {"number": "numbers", "text": "text", "date": "dates"}
    return (
        f"column {condition.column!r} holds {names[column_kind]} but the value "
        f"{condition.value!r} is {' and '.join(sorted(names[k] for k in bad))}"
    )


def _check_model(model: Any) -> None:
    if not isinstance(model, ScoringModel):
        raise ConfigError(
            f"a scoring model is needed, got {type(model).__name__}",
            hint="load models with cvm.value.config.load_config (section `scoring`) or build one "
            "with ScoringModel.model_validate({...})",
        )


def _listing(columns: Sequence[str], limit: int = 40) -> str:
    shown = ", ".join(map(str, columns[:limit]))
    more = f" … and {len(columns) - limit} more" if len(columns) > limit else ""
    return (shown or "none") + more


def validate_model(
    model: ScoringModel, columns: Sequence[str] | Mapping[str, Any] | pd.Series | pd.DataFrame
) -> None:
    """Check that ``model`` can score a table with these columns; raise one error listing all problems.

    ``columns`` is the table's column names, or its dtypes (``table.dtypes``, a mapping of name
    to dtype) or the table itself; with dtypes, indicator columns must also be numeric (or
    yes/no) and scope values must be of the column's kind (numbers, text, dates).

    >>> validate_model(FIVE_FACTOR_MODEL, ["gross_margin_recent", "clv", "tenure_days"])
    Traceback (most recent call last):
    ...
    cvm.errors.ConfigError: scoring model 'five_factor' does not fit the table: indicator 'credit' reads column 'credit_index', which the table does not have; indicator 'growth_potential' reads column 'margin_growth', which the table does not have. Columns of the table: gross_margin_recent, clv, tenure_days
    What to do: ...
    """
    _check_model(model)
    if isinstance(columns, pd.DataFrame):
        columns = columns.dtypes
    dtypes: Mapping[str, Any] | None
    if isinstance(columns, pd.Series):
        dtypes = dict(zip(map(str, columns.index), columns.to_numpy()))
    elif isinstance(columns, Mapping):
        dtypes = {str(k): v for k, v in columns.items()}
    else:
        dtypes = None
    names = list(dtypes) if dtypes is not None else [str(c) for c in columns]
    present = set(names)
    problems = []
    for indicator in model.indicators:
        column = indicator.column
        reads = f"indicator {indicator.name!r}"
        if column != indicator.name:
            reads += f" reads column {column!r}, which"
        if column not in present:
            problems.append(
                f"{reads} the table does not have" if column != indicator.name
                else f"indicator {indicator.name!r} is neither a built-in indicator nor a column of the table"
            )
        elif dtypes is not None and _column_kind(dtypes[column]) != "number":
            problems.append(f"{reads} holds {dtypes[column]} values, not numbers")
    for position, condition in enumerate(model.scope, start=1):
        where = f"scope condition {position} ({condition})"
        if condition.column not in present:
            problems.append(f"{where}: column {condition.column!r} is not in the table")
        elif dtypes is not None:
            problem = _condition_problem(condition, dtypes[condition.column])
            if problem:
                problems.append(f"{where}: {problem}")
    if problems:
        raise ConfigError(
            f"scoring model {model.name!r} does not fit the table: " + "; ".join(problems)
            + f". Columns of the table: {_listing(names)}",
            hint="name indicators and scope columns after columns of the customer value table "
            "(numeric columns for indicators), or use a built-in indicator ("
            + ", ".join(BUILTIN_INDICATORS) + ")",
        )


# ---------------------------------------------------------------------------------------------
# scoring

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _scope_mask(table: pd.DataFrame, model: ScoringModel) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    for position, condition in enumerate(model.scope, start=1):
        column = table[condition.column]
        value = condition.value
        if _column_kind(column.dtype) == "date":
            value = tuple(pd.Timestamp(v) for v in value) if isinstance(value, tuple) else pd.Timestamp(value)
        try:
            if condition.op == "in":
                holds = column.isin(list(value))  # type: ignore[arg-type]
            elif condition.op == "not_in":
                holds = ~column.isin(list(value))  # type: ignore[arg-type]
            else:
                holds = _COMPARE[condition.op](column, value)
            holds_array = pd.Series(holds).to_numpy(dtype=bool, na_value=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"scoring model {model.name!r}: scope condition {position} ({condition}) cannot be "
                f"evaluated on column {condition.column!r} ({column.dtype}): {exc}",
                hint="compare the column with a value of its own kind (numbers, text or dates)",
            ) from exc
        mask &= holds_array & column.notna().to_numpy(dtype=bool)
    return mask


def _percentile(values: np.ndarray) -> np.ndarray:
    """(average rank − 1) / (n − 1) of each value (0 lowest, 1 highest); ``n >= 2``, not constant."""
    n = values.size
    low = values.min()
    span = values.max() - low
    if np.isfinite(span) and span < 4 * n and np.all(values == np.floor(values)):
        # whole numbers in a short range (days, counts): count instead of sorting
        offsets = (values - low).astype(np.intp)
        counts = np.bincount(offsets)
        below = np.cumsum(counts) - counts
        position = below + (counts - 1) / 2.0  # 0-based average position of each distinct value
        return position[offsets] / (n - 1)
    # Many customers often share a few values (no recent margin: 0; never returned: credit 1).
    # Those groups' positions follow from counts; only the other values need sorting.
    common = np.unique(np.array([low, values.max(), 0.0]))
    is_common = np.isin(values, common) if common.size else np.zeros(n, dtype=bool)
    n_common = int(np.count_nonzero(is_common))
    if n_common >= n // 10 and n_common < n:
        ranks = np.empty(n)
        rest = ~is_common
        rest_values = values[rest]
        below_rest = np.zeros(rest_values.size)
        for value in common:
            equal = int(np.count_nonzero(values == value))
            if not equal:
                continue
            less = int(np.count_nonzero(values < value))
            ranks[values == value] = less + (equal - 1) / 2.0
            below_rest += np.where(rest_values > value, equal, 0)
        ranks[rest] = _percentile_positions(rest_values) + below_rest
        ranks /= n - 1
        return ranks
    ranks = _percentile_positions(values)
    ranks /= n - 1
    return ranks


def _percentile_positions(values: np.ndarray) -> np.ndarray:
    """0-based average position of each value in sorted order (ties share the average)."""
    n = values.size
    if n == 0:
        return np.zeros(0)
    # stable (timsort): as fast on distinct values, about twice as fast on the many ties that
    # model-based values such as CLV have (customers with the same history share them)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_group = np.empty(n, dtype=bool)
    starts_group[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_group[1:])
    del ordered
    if starts_group.all():  # no ties (continuous values): the position is the rank
        position = np.arange(n, dtype=np.float64)
    else:
        starts = np.flatnonzero(starts_group)
        sizes = np.diff(starts, append=n)
        position = np.repeat(starts + (sizes - 1) / 2.0, sizes)  # 0-based average position
    ranks = np.empty(n)
    ranks[order] = position
    return ranks


def _minmax(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    if abs(low) > 1e307 or abs(high) > 1e307:  # a range beyond float64: halve (exact) before subtracting
        return (values / 2 - low / 2) / (high / 2 - low / 2)
    return (values - low) / (high - low)


def _zscore(values: np.ndarray) -> np.ndarray:
    # sums over sorted values: the same customers give the same scores whatever the row order
    ordered = np.sort(values)
    scale = max(abs(ordered[0]), abs(ordered[-1]))
    ordered = ordered / scale  # z-scores do not change with the scale; this keeps squares finite
    mean = ordered.mean()
    sd = np.sqrt(np.mean(np.square(ordered - mean)))
    return ndtr((values / scale - mean) / sd)


_NORMALISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "percentile": _percentile, "minmax": _minmax, "zscore": _zscore,
}


def _as_float(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64" if series.dtype == np.dtype(bool) else "Float64")
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _normalised(values: np.ndarray, indicator: Indicator) -> tuple[np.ndarray, int]:
    """Normalised values (0–1) of the customers in scope and how many had no value."""
    known = ~np.isnan(values)
    n_known = int(known.sum())
    result = np.zeros(values.size)  # a missing value gets the worst, 0
    if n_known == 0 or (n_known == values.size and values.min() == values.max()):
        result[:] = 0.5
        return result, values.size - n_known
    present = values[known] if n_known < values.size else values
    if present.min() == present.max():
        part = np.full(n_known, 0.5)
    else:
        part = _NORMALISE[indicator.normalisation](present)
        np.clip(part, 0.0, 1.0, out=part)
        if indicator.direction == "lower_is_better":
            part = 1.0 - part
    if n_known < values.size:
        result[known] = part
    else:
        result = part
    return result, values.size - n_known


def _example_row(index: pd.Index, positions: np.ndarray) -> str:
    return f"first at row {index[positions[0]]!r}"


def score(table: pd.DataFrame, model: ScoringModel) -> pd.DataFrame:
    """Score every customer of ``table`` (one row per customer) with ``model``.

    Returns a frame with the table's index and the columns ``score`` (0–100, missing out of
    scope), ``tier`` (the tier key, an ordered categorical from worst to best tier, missing out
    of scope), ``tier_en`` and ``tier_zh`` (the tier's names) and one ``<indicator>_score``
    column (0–1) per indicator, the normalised value the score is made of.
    ``result.attrs["notes"]`` lists what users should know (missing values, empty scope).

    >>> table = pd.DataFrame({"revenue": [10.0, 20.0, 30.0, 40.0], "region": ["N", "S", "N", "N"]})
    >>> model = ScoringModel(name="north", indicators=[Indicator(name="revenue", normalisation="minmax")],
    ...                      scope=[Condition(column="region", op="==", value="N")])
    >>> score(table, model)[["score", "tier", "tier_zh", "revenue_score"]].round(2)
        score tier tier_zh  revenue_score
    0    0.00    D     D 级           0.00
    1     NaN  NaN     NaN            NaN
    2   66.67    B     B 级           0.67
    3  100.00    A     A 级           1.00
    """
    _check_model(model)
    if not isinstance(table, pd.DataFrame):
        raise InvalidDataError(
            f"scoring model {model.name!r} needs a pandas DataFrame (one row per customer), "
            f"got {type(table).__name__}"
        )
    used = [i.column for i in model.indicators] + [c.column for c in model.scope]
    repeated = sorted({c for c in used if c in set(table.columns[table.columns.duplicated()])})
    if repeated:
        raise InvalidDataError(
            f"scoring model {model.name!r}: the table has several columns named "
            + ", ".join(map(repr, repeated)),
            hint="rename the columns so that each name is used once",
        )
    validate_model(model, table.dtypes)

    n_rows = len(table)
    in_scope = _scope_mask(table, model)
    positions = np.flatnonzero(in_scope)
    n_scope = positions.size
    notes: list[str] = []
    if n_scope == 0:
        notes.append(Note("note.scoring.empty_scope", model=model.name, n=n_rows))

    total = np.zeros(n_scope)
    columns: dict[str, Any] = {}
    inputs = []
    for indicator in model.indicators:
        values = _as_float(table[indicator.column])
        if n_scope < n_rows:
            values = values[positions]
        infinite = np.isinf(values)
        if infinite.any():
            bad = np.flatnonzero(infinite)
            raise InvalidDataError(
                f"scoring model {model.name!r}: column {indicator.column!r} (indicator "
                f"{indicator.name!r}) has {bad.size} infinite value(s) among the customers in scope, "
                + _example_row(table.index, positions[bad]),
                hint="replace them with finite numbers, or leave them blank (a blank value counts "
                "as the worst value)",
            )
        inputs.append(values)
    if n_scope >= PARALLEL_ROWS and len(inputs) > 1:
        # sorting (percentile ranks) releases the GIL: the indicators are ranked side by side
        with ThreadPoolExecutor(max_workers=min(len(inputs), os.cpu_count() or 1)) as pool:
            results = list(pool.map(_normalised, inputs, model.indicators))
    else:
        results = [_normalised(values, indicator) for values, indicator in zip(inputs, model.indicators)]
    for indicator, weight, values, (normalised, n_missing) in zip(
        model.indicators, model.weights.values(), inputs, results
    ):
        if n_missing:
            missing_rows = positions[np.flatnonzero(np.isnan(values))]
            consequence = Note("note.scoring.missing_everywhere" if n_missing == n_scope
                               else "note.scoring.missing_some")
            notes.append(Note("note.scoring.indicator_missing", model=model.name, indicator=indicator.name,
                              column=indicator.column, missing=n_missing, n=n_scope,
                              example=Note("note.scoring.first_row", row=table.index[missing_rows[0]]),
                              consequence=consequence))
        total += weight * normalised
        full = normalised
        if n_scope < n_rows:
            full = np.full(n_rows, np.nan)
            full[positions] = normalised
        columns[f"{indicator.name}_score"] = full

    scores = np.clip(np.round(100.0 * total, 9), 0.0, 100.0)
    full_scores = scores
    if n_scope < n_rows:
        full_scores = np.full(n_rows, np.nan)
        full_scores[positions] = scores

    worst_first = model.tiers[::-1]
    cuts = np.array([t.min_score for t in worst_first])
    codes = np.full(n_rows, -1, dtype=np.int8 if len(cuts) < 127 else np.int32)
    codes[positions] = np.searchsorted(cuts, scores, side="right") - 1

    def categorical(attr: str) -> pd.Categorical:
        names = [getattr(t, attr) for t in worst_first]
        return pd.Categorical.from_codes(codes, categories=names, ordered=True)

    result = pd.DataFrame(
        {"score": full_scores, "tier": categorical("key"), "tier_en": categorical("en"),
         "tier_zh": categorical("zh"), **columns},
        index=table.index,
        copy=False,  # every array is new and the result's own: no copy into one block
    )
    for note in notes:
        logger.info(note)
    result.attrs["notes"] = notes
    result.attrs["model"] = model.name
    return result


def score_all(table: pd.DataFrame, settings: ScoringSettings | Any) -> dict[str, pd.DataFrame]:
    """Score ``table`` with every configured model: model name → the frame :func:`score` returns.

    ``settings`` is a :class:`ScoringSettings` or a whole value configuration (its ``scoring``).
    Every model is checked against the table first, and all their problems are reported at once.

    >>> table = pd.DataFrame({"gross_margin_recent": [5.0, 1.0], "clv": [9.0, 3.0],
    ...     "tenure_days": [400, 30], "credit_index": [1.0, 0.8], "margin_growth": [0.5, 2.0]})
    >>> score_all(table, ScoringSettings())["five_factor"]["score"].tolist()
    [85.0, 15.0]
    """
    scoring = getattr(settings, "scoring", settings)
    if not isinstance(scoring, ScoringSettings):
        raise ConfigError(
            f"score_all needs ScoringSettings or a value configuration, got {type(settings).__name__}"
        )
    if not isinstance(table, pd.DataFrame):
        raise InvalidDataError(
            f"score_all needs a pandas DataFrame (one row per customer), got {type(table).__name__}"
        )
    problems = []
    for model in scoring.models:
        try:
            validate_model(model, table.dtypes)
        except ConfigError as exc:
            problems.append(exc)
    if problems:
        raise ConfigError("\n".join(p.message for p in problems), hint=problems[0].hint)
    return {model.name: score(table, model) for model in scoring.models}
