"""The strategy playbook: one action per customer, and the campaign lists that carry it out.

A **playbook** is an ordered list of *rules* and a set of *actions*. Each rule says which
customers it matches and which action they get; **the first matching rule wins**, and the
last rule must be a *default* rule with no conditions, so every customer gets exactly one
action. `load_playbook()` without a path reads the default playbook shipped with CVM
(`cvm/value/playbook_default.yaml`); a user's playbook is a YAML file of the same shape.

## Rules

A rule has a `name`, an `action` (a key of `actions`) and `when`, the conditions, all of
which must hold (a condition left out, or written `"*"`, matches every customer, including
those whose value is missing):

| condition | table column | keys |
|---|---|---|
| `tier` | `value_matrix` | `strategic`, `profit`, `potential`, `ordinary` |
| `stage` | `lifecycle_stage` | `prospect`, `exploration`, `formation`, `stable`, `decline`, `churned`, `recovered` |
| `rfm_segment` | `rfm_segment` | the RFM segments of `cvm.value.segments` (`champions` … `lost`) |
| `negative_value` | `negative_value` | `true` or `false` |

`tier`, `stage` and `rfm_segment` take one key or a list of keys (the customer's key must be
one of them). A customer whose value in a column is missing (blank) matches only rules that
leave that condition out. Only the columns some rule names are needed in the table.

A playbook is checked when it is loaded, and every problem is reported at once with its key
path: unknown keys (the valid ones are listed), rules naming an unknown action, two rules
with the same name, a rule with exactly the same conditions as an earlier one (*overlap*), a
rule that can never fire because earlier rules already take every customer it matches
(*unreachable*), a missing default rule, and bad relationship levels, styles or priorities.

## Actions

Each action has an English and a Chinese name (`en`, `zh`; for the default actions they come
from the `playbook.action.*` labels of `cvm.labels` and may be left out), a description in
both languages, and:

* `relationship`: Kotler's level of relationship marketing: `basic` (sell, no follow-up),
  `passive` (the customer may call back), `responsible` (the company calls back to check
  satisfaction), `proactive` (the company calls regularly with suggestions), `partner` (the
  company works with the customer to deliver value);
* `style`: how the customer is treated: `care` (invest to keep and grow them), `adapt`
  (adjust the offer to what they respond to, at moderate cost), `indifferent` (standard
  service at the lowest cost);
* `priority`: 1 is the most urgent, larger numbers less so;
* `rank_by`: how the customers of the action's campaign list are ordered (see below).

## The default playbook

Following the customer-lifecycle literature (Dwyer, Schurr & Oh 1987; Kumar & Reinartz,
*Customer Relationship Management*): negative-value customers who are declining or churned
are let go (`let_go`), other negative-value customers get a lower cost to serve
(`reduce_cost_to_serve`); prospects are nurtured (`nurture`); customers in exploration are
won over with first-purchase offers (`acquire_persuade`); in formation the relationship is
deepened by cross-selling and up-selling (`cross_up_sell`); stable strategic and profit
customers join the loyalty programme (`loyalty_programme`), other stable customers are kept
satisfied (`satisfaction`); declining or churned strategic, profit and potential customers
are won back (`win_back`), churned ordinary customers are let go; recovered customers'
return is consolidated (`consolidate_return`); everyone else is maintained at low cost
(`maintain`).

## Campaign lists and the expected value of acting

`campaign_lists` gives, for every action, its customers with the columns a campaign needs,
ranked by `expected_value`, the expected value of acting, chosen by the action's `rank_by`:

* `clv`: the customer's CLV (discounted expected future margin);
* `value_at_risk`: the margin lost if the customer has churned: CLV / P(alive) × (1 −
  P(alive)), the value-at-risk formula of `cvm.value.composition` applied to every customer
  of the list (0 when P(alive) is 0, where the margin if alive is unknown);
* `expected_spend`: the expected spend of the next purchase times P(alive);
* `loss`: the loss avoided by serving the customer at a lower cost: −`clv_net` where it is
  negative, else 0 (−`clv` when the table has no `clv_net`).

Customers with the larger expected value come first; ties keep the order of the table;
customers whose expected value is missing come last. `rank` numbers each list from 1.
`export_campaigns` writes one CSV file per action or one Excel sheet per action.

>>> playbook = load_playbook()
>>> table = pd.DataFrame({"customer_id": ["a", "b", "c"],
...                       "value_matrix": ["strategic", "ordinary", "profit"],
...                       "lifecycle_stage": ["decline", "churned", "stable"],
...                       "negative_value": [False, False, False]})
>>> assign_actions(table, playbook)["action"].tolist()
['win_back', 'let_go', 'loyalty_programme']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cvm.errors import ConfigError, InvalidDataError, MissingColumnError, OutputExistsError
from cvm.labels import TERMS
from cvm.value.lifecycle import STAGES
from cvm.value.segments import RFM_SEGMENTS, VALUE_MATRIX_CELLS
from cvm.value.settings import Settings, describe_error, parse_yaml, read_yaml_file

__all__ = [
    "Action", "Condition", "Playbook", "Rule", "RELATIONSHIP_LEVELS", "STAGES", "STYLES",
    "RANK_BASES", "assign_actions", "campaign_lists", "export_campaigns", "load_playbook",
]

PLAYBOOK_VERSION = 1
RELATIONSHIP_LEVELS: tuple[str, ...] = ("basic", "passive", "responsible", "proactive", "partner")
STYLES: tuple[str, ...] = ("care", "adapt", "indifferent")
RANK_BASES: tuple[str, ...] = ("clv", "value_at_risk", "expected_spend", "loss")

_DIMENSIONS: tuple[tuple[str, str, str, tuple[Any, ...]], ...] = (
    # condition, table column, what a key is called in messages, valid keys
    ("tier", "value_matrix", "tier", VALUE_MATRIX_CELLS),
    ("stage", "lifecycle_stage", "lifecycle stage", STAGES),
    ("rfm_segment", "rfm_segment", "RFM segment", RFM_SEGMENTS),
    ("negative_value", "negative_value", "negative-value flag", (False, True)),
)
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_DEFAULT_FILE = "playbook_default.yaml"




class Condition(Settings):
    """Which customers a rule matches; ``None`` (left out, or ``"*"``) matches everyone."""

    tier: tuple[str, ...] | None = Field(None, description="Value-matrix cells (column value_matrix).")
    stage: tuple[str, ...] | None = Field(None, description="Lifecycle stages (column lifecycle_stage).")
    rfm_segment: tuple[str, ...] | None = Field(None, description="RFM segments (column rfm_segment).")
    negative_value: bool | None = Field(None, description="true: only negative-value customers; false: only the others.")

    @field_validator("tier", "stage", "rfm_segment", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if value is None or value == "*":
            return None
        if isinstance(value, str):
            return (value,)
        if isinstance(value, Sequence) and len(value) == 0:
            raise PydanticCustomError("empty", "an empty list matches no customer; leave the condition out to match all")
        return value

    @field_validator("negative_value", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return None if value == "*" else value

    def used(self) -> list[str]:
        """The conditions this rule sets (the others are wildcards)."""
        return [name for name, *_ in _DIMENSIONS if getattr(self, name) is not None]


class Action(Settings):
    """What to do with the customers of a rule, and how their campaign list is ranked."""

    en: str | None = Field(None, min_length=1, description="English name (default: label playbook.action.<key>).")
    zh: str | None = Field(None, min_length=1, description="Chinese name (default: label playbook.action.<key>).")
    description_en: str = Field(..., min_length=1, description="What the action does, in English.")
    description_zh: str = Field(..., min_length=1, description="What the action does, in Chinese.")
    relationship: Literal["basic", "passive", "responsible", "proactive", "partner"]
    style: Literal["care", "adapt", "indifferent"]
    priority: int = Field(..., ge=1, le=99, description="1 = most urgent.")
    rank_by: Literal["clv", "value_at_risk", "expected_spend", "loss"] = "clv"

    def name(self, key: str, lang: str) -> str | None:
        """The action's name in ``lang``: its own, else the ``playbook.action.<key>`` label."""
        own = self.zh if lang == "zh" else self.en
        if own is not None:
            return own
        term = TERMS.get(f"playbook.action.{key}")
        return None if term is None else term[lang]


class Rule(Settings):
    """One line of the playbook: customers matching ``when`` get ``action``."""

    name: str = Field(..., min_length=1)
    when: Condition = Condition()
    action: str


class Playbook(Settings):
    """Ordered rules (first match wins, the last one a default) and the actions they give."""

    version: Literal[1] = PLAYBOOK_VERSION
    actions: dict[str, Action] = Field(..., min_length=1)
    rules: tuple[Rule, ...] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Playbook:
        problems = _problems(self)
        if problems:
            raise PydanticCustomError("playbook", "{summary}", {"summary": "; ".join(problems), "problems": problems})
        return self

    def decision_table(self) -> np.ndarray:
        """Index of the winning rule for every combination of keys (last index of a dimension = missing)."""
        return _decision(self.rules)[0]


def _grid_mask(condition: Condition) -> np.ndarray:
    """Boolean grid over tier × stage × RFM segment × flag (each with a trailing 'missing' cell)."""
    axes = []
    for name, _, _, keys in _DIMENSIONS:
        chosen = getattr(condition, name)
        axis = np.ones(len(keys) + 1, dtype=bool)
        if chosen is not None:
            axis[:] = False
            values = (chosen,) if isinstance(chosen, bool) else chosen
            for value in values:
                if value in keys:
                    axis[keys.index(value)] = True
        axes.append(axis)
    return axes[0][:, None, None, None] & axes[1][None, :, None, None] & axes[2][None, None, :, None] & axes[3][None, None, None, :]


def _decision(rules: Sequence[Rule]) -> tuple[np.ndarray, list[np.ndarray]]:
    shape = tuple(len(keys) + 1 for *_, keys in _DIMENSIONS)
    winner = np.full(shape, -1, dtype=np.int16)
    taken_from: list[np.ndarray] = []
    for i, rule in enumerate(rules):
        mask = _grid_mask(rule.when)
        taken_from.append(winner[mask])
        winner[mask & (winner < 0)] = i
    return winner, taken_from


def _where(i: int, rule: Rule) -> str:
    return f"rules.{i} ({rule.name})"


def _problems(playbook: Playbook) -> list[str]:
    problems: list[str] = []
    for key, action in playbook.actions.items():
        if not _KEY.match(key):
            problems.append(f"actions.{key}: an action key is 1-31 lower-case letters, digits or '_', starting with a letter")
        for lang in ("en", "zh"):
            if action.name(key, lang) is None:
                problems.append(f"actions.{key}.{lang}: no {lang} name (give one, the label playbook.action.{key} does not exist)")
    for lang in ("en", "zh"):
        seen: dict[str, str] = {}
        for key, action in playbook.actions.items():
            name = action.name(key, lang)
            if name is not None and name in seen:
                problems.append(f"actions.{key}.{lang}: name {name!r} is also the name of action {seen[name]!r}; names must differ")
            elif name is not None:
                seen[name] = key
    names: dict[str, int] = {}
    valid_actions = ", ".join(playbook.actions)
    for i, rule in enumerate(playbook.rules):
        if rule.name in names:
            problems.append(f"{_where(i, rule)}.name: the name is also used by rules.{names[rule.name]}; rule names must differ")
        names.setdefault(rule.name, i)
        if rule.action not in playbook.actions:
            problems.append(f"{_where(i, rule)}.action: unknown action {rule.action!r} (defined: {valid_actions})")
        for name, _, what, keys in _DIMENSIONS[:3]:
            for value in getattr(rule.when, name) or ():
                if value not in keys:
                    problems.append(f"{_where(i, rule)}.when.{name}: unknown {what} {value!r} (valid: {', '.join(keys)})")
    rules = playbook.rules
    _, taken_from = _decision(rules)
    for i, rule in enumerate(rules):
        same = next((j for j in range(i) if rules[j].when == rule.when), None)
        if same is not None:
            problems.append(
                f"{_where(i, rule)}.when: overlap: exactly the same conditions as {_where(same, rules[same])}, "
                "so it can never fire; merge the two rules or change the conditions"
            )
            continue
        earlier = taken_from[i]
        if earlier.size and (earlier >= 0).all():
            winners = ", ".join(_where(int(j), rules[int(j)]) for j in np.unique(earlier))
            problems.append(
                f"{_where(i, rule)}: unreachable: every customer it matches is taken by earlier rules "
                f"({winners}); move it up or remove it"
            )
    last = len(rules) - 1
    if rules[last].when.used():
        problems.append(
            f"{_where(last, rules[last])}: the last rule must be a default rule with no conditions, so every "
            f"customer gets an action; it sets {', '.join(rules[last].when.used())}. Add a rule with no 'when' at the end"
        )
    return problems


def _describe(error: Mapping[str, Any]) -> list[str]:
    if error.get("type") == "playbook":
        return list(error["ctx"]["problems"])
    return [describe_error(error)]


def load_playbook(path: str | Path | Mapping[str, Any] | Playbook | None = None) -> Playbook:
    """A validated :class:`Playbook` from a YAML file, a mapping, or the default (``None``).

    Every problem is reported at once, one per line, each with its key path.

    >>> [rule.name for rule in load_playbook().rules][-1]
    'default'
    >>> load_playbook({"actions": {"call": {"en": "Call", "zh": "致电", "description_en": "Call.",
    ...     "description_zh": "致电。", "relationship": "proactive", "style": "care", "priority": 1}},
    ...     "rules": [{"name": "gold", "when": {"tier": "gold"}, "action": "call"}]})
    Traceback (most recent call last):
    ...
    cvm.errors.ConfigError: playbook: 2 problems:
      - rules.0 (gold).when.tier: unknown tier 'gold' (valid: strategic, profit, potential, ordinary)
      - rules.0 (gold): the last rule must be a default rule with no conditions, ...
    """
    if isinstance(path, Playbook):
        return path
    where = "playbook"
    if path is None:
        where = f"default playbook ({_DEFAULT_FILE})"
        text = resources.files("cvm.value").joinpath(_DEFAULT_FILE).read_text(encoding="utf-8")
        data = parse_yaml(text, where)
    elif isinstance(path, str | Path):
        where = str(Path(path))
        data = read_yaml_file(path, "playbook", hint="give the path of a playbook YAML file")
    else:
        data = path
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: a playbook is a mapping with 'actions' and 'rules', got {type(data).__name__}")
    version = data.get("version", PLAYBOOK_VERSION)
    if version != PLAYBOOK_VERSION:
        raise ConfigError(f"{where}: version {version!r} is not supported (this CVM reads version {PLAYBOOK_VERSION})")
    try:
        return Playbook.model_validate(dict(data))
    except ValidationError as exc:
        problems = [line for error in exc.errors() for line in _describe(error)]
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        raise ConfigError(f"{where}: {count}:\n  - " + "\n  - ".join(problems)) from exc


def _frame(table: Any) -> pd.DataFrame:
    frame = getattr(table, "table", table)  # a CustomerValue holds its table
    if not isinstance(frame, pd.DataFrame):
        raise InvalidDataError(
            f"the customer value table must be a pandas DataFrame, got {type(table).__name__}",
            hint="pass CustomerValue.table or a DataFrame with the columns of docs/value.md",
        )
    return frame


def _example(frame: pd.DataFrame, bad: np.ndarray, column: str) -> str:
    row = int(np.flatnonzero(bad)[0])
    who = f"customer {frame['customer_id'].iloc[row]!r}" if "customer_id" in frame.columns else f"row {row}"
    return f"{who} has {frame[column].iloc[row]!r}"


def _codes(frame: pd.DataFrame, column: str, what: str, keys: tuple[Any, ...]) -> np.ndarray:
    """Index of each row's key in ``keys``; ``len(keys)`` where the value is missing."""
    values = frame[column]
    missing_code = len(keys)
    if keys == (False, True):
        if pd.api.types.is_bool_dtype(values.dtype) and not isinstance(values.dtype, pd.BooleanDtype):
            return values.to_numpy().astype(np.int8)
        missing = values.isna().to_numpy()
        raw = values.to_numpy(dtype=object, na_value=None)
        is_true = np.asarray(pd.Series(raw).isin([True]), dtype=bool)
        is_false = np.asarray(pd.Series(raw).isin([False]), dtype=bool)
        bad = ~(missing | is_true | is_false)
        if bad.any():
            raise InvalidDataError(
                f"column {column!r}: {int(bad.sum())} rows are not true/false ({_example(frame, bad, column)})",
                hint="negative_value must be true, false or blank",
            )
        return np.where(missing, missing_code, is_true.astype(np.int8)).astype(np.int8)
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = pd.Index(keys).get_indexer(values.cat.categories)
        category_codes = values.cat.codes.to_numpy()
        codes = np.where(category_codes >= 0, lookup[category_codes], missing_code)
        unknown = codes < 0
    else:
        found, uniques = pd.factorize(values, use_na_sentinel=True)  # missing -> -1
        lookup = pd.Index(keys).get_indexer(pd.Index(uniques, dtype=object))
        missing = found < 0
        codes = np.where(missing, missing_code, lookup[np.maximum(found, 0)] if len(lookup) else -1)
        unknown = codes < 0
    if unknown.any():
        raise InvalidDataError(
            f"column {column!r}: {int(unknown.sum())} rows hold a value that is not a {what} key "
            f"({_example(frame, unknown, column)})",
            hint=f"valid keys: {', '.join(map(str, keys))} (or blank)",
        )
    return codes.astype(np.int16)


def assign_actions(table: Any, playbook: Playbook | str | Path | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One action per customer: the action of the first playbook rule that matches.

    Returns a DataFrame aligned with ``table`` (same index, same order) with ``customer_id``
    (when the table has it), ``action``, ``action_en``, ``action_zh``, ``relationship``,
    ``style`` (each with its ``_en`` and ``_zh`` labels), ``priority``, ``rank_by`` and
    ``rule`` (the name of the rule that fired).
    The rules are evaluated once over every combination of keys, so the table is matched
    with one lookup per customer whatever the number of rules.

    >>> table = pd.DataFrame({"customer_id": [1, 2], "value_matrix": ["potential", None],
    ...                       "lifecycle_stage": ["formation", "stable"], "negative_value": [False, True]})
    >>> assign_actions(table)[["action", "action_zh", "priority", "rule"]]
                action action_zh  priority                  rule
    0    cross_up_sell  交叉销售与向上销售         2             formation
    1  reduce_cost_to_serve    降低服务成本         3  negative_value
    """
    frame = _frame(table)
    book = load_playbook(playbook)
    used = {name for rule in book.rules for name in rule.when.used()}
    needed = [(name, column, what, keys) for name, column, what, keys in _DIMENSIONS if name in used]
    absent = [column for _, column, _, _ in needed if column not in frame.columns]
    if absent:
        raise MissingColumnError(
            f"the playbook's rules need the columns {', '.join(absent)}, which the table does not have",
            hint="compute them first (docs/value.md) or use a playbook without those conditions",
        )
    n = len(frame)
    sizes = [len(keys) + 1 for *_, keys in _DIMENSIONS]
    flat = np.zeros(n, dtype=np.int32)
    for (name, column, what, keys), size in zip(_DIMENSIONS, sizes, strict=True):
        codes = _codes(frame, column, what, keys) if name in used else np.full(n, size - 1, dtype=np.int16)
        flat = flat * size + codes
    rule_index = book.decision_table().ravel()[flat]
    action_keys = list(book.actions)
    rule_action = np.array([action_keys.index(rule.action) for rule in book.rules], dtype=np.int16)
    action_code = rule_action[rule_index]
    actions = list(book.actions.values())

    def by_action(values: Sequence[Any], categories: Sequence[Any]) -> pd.Categorical:
        per_action = np.array([list(categories).index(v) for v in values], dtype=np.int16)
        return pd.Categorical.from_codes(per_action[action_code], categories=list(categories))

    out: dict[str, Any] = {}
    if "customer_id" in frame.columns:
        out["customer_id"] = frame["customer_id"].to_numpy()
    out["action"] = pd.Categorical.from_codes(action_code, categories=action_keys)
    for lang in ("en", "zh"):
        names = [a.name(k, lang) for k, a in book.actions.items()]
        out[f"action_{lang}"] = pd.Categorical.from_codes(action_code, categories=names)
    for column, keys in (("relationship", RELATIONSHIP_LEVELS), ("style", STYLES)):
        out[column] = by_action([getattr(a, column) for a in actions], keys)
        for lang in ("en", "zh"):
            names = [TERMS[f"playbook.{column}.{key}"][lang] for key in keys]
            out[f"{column}_{lang}"] = pd.Categorical.from_codes(out[column].codes, categories=names)
    out["priority"] = np.array([a.priority for a in actions], dtype=np.int8)[action_code]
    out["rank_by"] = by_action([a.rank_by for a in actions], RANK_BASES)
    out["rule"] = pd.Categorical.from_codes(rule_index, categories=[rule.name for rule in book.rules])
    return pd.DataFrame(out, index=frame.index)


_CAMPAIGN_COLUMNS = (
    "customer_id", "value_matrix", "lifecycle_stage", "rfm_segment", "negative_value", "clv", "p_alive",
    "value_at_risk", "expected_spend",
)
_ACTION_COLUMNS = ("action", "action_en", "action_zh", "relationship", "style", "priority", "rule")
_BASIS_NEEDS = {"clv": ("clv",), "value_at_risk": ("clv", "p_alive"), "expected_spend": ("expected_spend", "p_alive"), "loss": ("clv",)}


def _number(frame: pd.DataFrame, column: str) -> np.ndarray:
    try:
        return frame[column].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(f"column {column!r} must be numeric ({exc})", hint="give numbers or blanks") from exc


def _expected_value(frame: pd.DataFrame, basis: np.ndarray, present: set[str]) -> np.ndarray:
    value = np.full(len(frame), np.nan)
    for code, name in enumerate(RANK_BASES):
        rows = basis == code
        if name not in present:
            continue
        missing = [c for c in _BASIS_NEEDS[name] if c not in frame.columns]
        if missing:
            raise MissingColumnError(
                f"ranking the customers of actions ranked by {name!r} needs the columns {', '.join(missing)}",
                hint="use the customer value table of cvm.value.customer_value, or change the actions' rank_by",
            )
        if name == "clv":
            value[rows] = _number(frame, "clv")[rows]
        elif name == "value_at_risk":
            clv, p = _number(frame, "clv")[rows], _number(frame, "p_alive")[rows]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a tiny p_alive may give inf
                value[rows] = np.where(p > 0, clv / p * (1 - p), np.where(np.isnan(p) | np.isnan(clv), np.nan, 0.0))
        elif name == "expected_spend":
            value[rows] = _number(frame, "expected_spend")[rows] * _number(frame, "p_alive")[rows]
        else:
            net = _number(frame, "clv_net" if "clv_net" in frame.columns else "clv")[rows]
            value[rows] = np.where(net < 0, -net, np.where(np.isnan(net), np.nan, 0.0))
    return value


def campaign_lists(table: Any, actions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """For every action, its customers ranked by the expected value of acting (module docs).

    ``actions`` is the result of :func:`assign_actions` for the same ``table`` (matched by
    position). Each list has the table's ``customer_id``, ``value_matrix``,
    ``lifecycle_stage``, ``rfm_segment``, ``negative_value``, ``clv``, ``p_alive``,
    ``value_at_risk``, ``expected_spend`` and profile columns (those present), the action's
    columns, ``expected_value`` and ``rank`` (1 = act first). Every action of the playbook
    has a list, possibly empty.

    >>> table = pd.DataFrame({"customer_id": ["a", "b", "c"], "value_matrix": ["profit"] * 3,
    ...                       "lifecycle_stage": ["decline", "decline", "stable"],
    ...                       "negative_value": [False] * 3, "clv": [100.0, 300.0, 50.0],
    ...                       "p_alive": [0.5, 0.75, 0.9]})
    >>> lists = campaign_lists(table, assign_actions(table))
    >>> lists["win_back"][["customer_id", "expected_value", "rank"]]
      customer_id  expected_value  rank
    0           a           100.0     1
    1           b           100.0     2
    """
    from cvm.value.table import PROFILE_COLUMNS

    frame = _frame(table)
    if not isinstance(actions, pd.DataFrame) or any(c not in actions.columns for c in (*_ACTION_COLUMNS, "rank_by")):
        raise InvalidDataError(
            "actions must be the DataFrame returned by assign_actions (columns "
            f"{', '.join((*_ACTION_COLUMNS, 'rank_by'))})",
            hint="call assign_actions(table, playbook) first",
        )
    if len(actions) != len(frame):
        raise InvalidDataError(
            f"actions has {len(actions)} rows but the table has {len(frame)}; they must be the same customers in the same order",
            hint="call assign_actions on this table",
        )
    if "customer_id" not in frame.columns:
        raise MissingColumnError("the table has no customer_id column; a campaign list needs it")
    if not isinstance(actions["action"].dtype, pd.CategoricalDtype) or not isinstance(actions["rank_by"].dtype, pd.CategoricalDtype):
        raise InvalidDataError("actions['action'] and actions['rank_by'] must be categorical, as assign_actions returns them")
    action_code = actions["action"].cat.codes.to_numpy()
    basis = pd.Index(RANK_BASES).get_indexer(actions["rank_by"].cat.categories)[actions["rank_by"].cat.codes.to_numpy()]
    present = {RANK_BASES[b] for b in np.unique(basis) if b >= 0}
    value = _expected_value(frame, basis, present)
    missing = np.isnan(value)
    # missing values last (after −inf too), larger values first, ties in table order
    order = np.lexsort((np.arange(len(frame)), -np.where(missing, 0.0, value), missing, action_code))
    sorted_codes = action_code[order]
    columns = [c for c in _CAMPAIGN_COLUMNS if c in frame.columns] + [c for c in PROFILE_COLUMNS if c in frame.columns]
    # one take per column keeps each column's own type (Arrow strings stay Arrow strings)
    parts = {c: frame[c].array.take(order) for c in columns}
    parts.update({c: actions[c].array.take(order) for c in _ACTION_COLUMNS})
    parts["expected_value"] = value[order]
    whole = pd.DataFrame(parts, copy=False)
    lists: dict[str, pd.DataFrame] = {}
    for code, key in enumerate(actions["action"].cat.categories):
        start, stop = np.searchsorted(sorted_codes, [code, code + 1])
        part = whole.iloc[start:stop].reset_index(drop=True)
        part["rank"] = np.arange(1, stop - start + 1, dtype=np.int64)
        lists[str(key)] = part
    return lists


_EXCEL_MAX_ROWS = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header


def export_campaigns(
    lists: Mapping[str, pd.DataFrame], path: str | Path, format: Literal["csv", "xlsx"] = "csv", *,
    overwrite: bool = False,
) -> list[Path]:
    """Write the campaign lists: one CSV file per action, or one Excel sheet per action.

    ``format="csv"``: ``path`` is a folder (created when missing) that gets ``<action>.csv``
    for every action, in UTF-8 with a byte-order mark so spreadsheet programs read the
    Chinese labels. ``format="xlsx"``: ``path`` is one workbook with a sheet per action.
    Existing files are never overwritten unless ``overwrite=True``. Returns the files written.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> lists = {"win_back": pd.DataFrame({"customer_id": ["a"], "rank": [1]})}
    >>> [p.name for p in export_campaigns(lists, folder / "lists")]
    ['win_back.csv']
    >>> export_campaigns(lists, folder / "lists")
    Traceback (most recent call last):
    ...
    cvm.errors.OutputExistsError: 1 file(s) already exist and would be overwritten: ...win_back.csv already exists
    What to do: choose another path, or pass overwrite=True
    """
    if format not in ("csv", "xlsx"):
        raise ConfigError(f"format {format!r} is not supported (valid: csv, xlsx)")
    if not isinstance(lists, Mapping) or not all(isinstance(v, pd.DataFrame) for v in lists.values()):
        raise InvalidDataError("lists must map each action key to a DataFrame, as campaign_lists returns them")
    bad = [str(key) for key in lists if not _KEY.match(str(key))]
    if bad:
        raise ConfigError(
            f"action keys {bad} cannot name a file or sheet: a key is 1-31 lower-case letters, digits or '_'",
        )
    target = Path(path)
    if format == "csv":
        if target.exists() and not target.is_dir():
            raise ConfigError(f"{target} is a file; CSV export writes one file per action into a folder")
        files = [target / f"{key}.csv" for key in lists]
        _refuse_existing([f for f in files if f.exists()], overwrite)
        try:
            target.mkdir(parents=True, exist_ok=True)
            for file, frame in zip(files, lists.values(), strict=True):
                frame.to_csv(file, index=False, encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"cannot write the campaign lists to {target} ({exc})") from exc
        return files
    if target.suffix.lower() != ".xlsx":
        raise ConfigError(f"{target}: an Excel workbook's name must end in .xlsx")
    too_long = {k: len(v) for k, v in lists.items() if len(v) > _EXCEL_MAX_ROWS}
    if too_long:
        raise ConfigError(
            f"the lists {too_long} have more rows than an Excel sheet holds ({_EXCEL_MAX_ROWS})",
            hint="export them with format='csv'",
        )
    _refuse_existing([target] if target.exists() else [], overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(target, engine="openpyxl") as writer:
            for key, frame in lists.items():
                frame.to_excel(writer, sheet_name=str(key), index=False)
            if not lists:
                pd.DataFrame().to_excel(writer, sheet_name="empty", index=False)
    except OSError as exc:
        raise ConfigError(f"cannot write the campaign lists to {target} ({exc})") from exc
    return [target]


def _refuse_existing(existing: list[Path], overwrite: bool) -> None:
    if existing and not overwrite:
        shown = ", ".join(str(p) for p in existing[:5]) + (" …" if len(existing) > 5 else "")
        raise OutputExistsError(
            f"{len(existing)} file(s) already exist and would be overwritten: {shown} already exists",
            hint="choose another path, or pass overwrite=True",
        )
