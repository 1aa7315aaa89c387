"""Cross-sell suggestions: for each customer, what customers with similar baskets also bought.

The statistics are computed where the log lives, as Ibis expressions of
:mod:`cvm.data.baskets`; only their results come back as pandas tables. An *item* is the
value of one column of the log (``cross_sell.item``: ``category`` by default, or
``product_id``). For every pair of items the **co-purchase rule** antecedent → consequent
has a *support* (share of customers who bought both), a *confidence* (share of the
antecedent's buyers who also bought the consequent) and a *lift* (confidence over the
consequent's share of all customers: above 1 means the antecedent's buyers are likelier to
buy it than customers at large). A customer is suggested the items they have not bought
whose best rule from their basket has the highest confidence: "bought tea: 67 % of tea
buyers also bought cups, 1.7× the average".

:func:`evaluate_cross_sell` checks the suggestions honestly on a holdout: suggestions are
made from the baskets up to ``calibration_end``, and a suggestion is a **hit** when the
customer bought that item, new to them, after ``calibration_end``. The same is done for
the **most popular** baseline (the most bought items the customer does not have), and both
hit rates are reported side by side, whichever wins.

| setting (``cross_sell.*``) | default | meaning |
|---|---|---|
| ``item`` | ``category`` | column of the log that names an item |
| ``suggestions`` | 3 | suggestions per customer |
| ``min_customers`` | 5 | customers who must have bought both items of a rule |
| ``min_lift`` | 1.0 | a rule's lift must be above this |
| ``rules_per_item`` | 20 | rules kept per antecedent, by confidence |
| ``fill_with_popular`` | true | fill each list up with the most popular items the customer lacks |

>>> import ibis
>>> log = ibis.memtable({
...     "customer_id": ["a", "a", "b", "b", "c", "c", "d", "d", "e"],
...     "date": ["2024-01-02"] * 9,
...     "amount": [10.0, 5.0, 8.0, 3.0, 4.0, 9.0, 6.0, 2.0, 7.0],
...     "category": ["tea", "cups", "tea", "cups", "tea", "cake", "coffee", "cake", "coffee"],
... }).mutate(date=ibis._.date.cast("date"))
>>> result = cross_sell(log, observation_end="2024-01-31",
...                     settings={"min_customers": 1, "suggestions": 2})
>>> result.suggestions[["customer_id", "rank", "item", "antecedent", "lift", "source"]]
  customer_id  rank    item antecedent      lift   source
0           a     1    cake        NaN       NaN  popular
1           a     2  coffee        NaN       NaN  popular
2           b     1    cake        NaN       NaN  popular
3           b     2  coffee        NaN       NaN  popular
4           c     1    cups        tea  1.666667    rules
5           c     2  coffee       cake  1.250000    rules
6           d     1     tea        NaN       NaN  popular
7           d     2    cups        NaN       NaN  popular
8           e     1    cake     coffee  1.250000    rules
9           e     2     tea        NaN       NaN  popular
>>> result.reasons("en")[4]
'bought tea: 67% of its buyers also bought cups (1.7× the average)'
>>> result.reasons("zh")[0]
'热销商品：40% 的客户购买过 cake'
>>> result.customers, result.customers_with_suggestions
(5, 2)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import Field

from cvm.data.baskets import (
    cross_sell_suggestions,
    customer_items,
    item_popularity,
    item_rules,
    popular_suggestions,
)
from cvm.data.readers import drop_materialized, materialize
from cvm.data.summaries import _as_date
from cvm.errors import ConfigError
from cvm.labels import Note, label
from cvm.value.settings import Settings, validate_settings

__all__ = [
    "CrossSell",
    "CrossSellEvaluation",
    "CrossSellSettings",
    "cross_sell",
    "evaluate_cross_sell",
]

METHODS = ("rules", "popular")
"""The suggestion methods compared by :func:`evaluate_cross_sell` (labels ``cross_sell.<key>``)."""


class CrossSellSettings(Settings):
    """How cross-sell suggestions are made (defaults in the module docstring)."""

    item: str = Field("category", min_length=1,
                      description="Column of the transactions that names an item: 'category' or 'product_id'.")
    suggestions: int = Field(3, ge=1, le=100, description="Suggestions per customer.")
    min_customers: int = Field(
        5, ge=1, description="Customers who must have bought both items before a rule is used.")
    min_lift: float = Field(
        1.0, ge=0, allow_inf_nan=False,
        description="A rule is used only when its lift is above this (1 = likelier than average).")
    rules_per_item: int = Field(
        20, ge=1, le=10_000, description="Rules kept per item bought, those of highest confidence.")
    fill_with_popular: bool = Field(
        True, description="Fill each customer's list up to `suggestions` with the most popular "
        "items they lack, after the rule-based ones.")


def _settings(settings: CrossSellSettings | Mapping[str, Any] | None) -> CrossSellSettings:
    if settings is None:
        return CrossSellSettings()
    if isinstance(settings, CrossSellSettings):
        return settings
    if not isinstance(settings, Mapping):
        raise ConfigError(f"cross-sell settings must be a mapping or CrossSellSettings, got "
                          f"{type(settings).__name__}")
    return validate_settings(CrossSellSettings, settings, "cross_sell settings",
                             hint="see the cross_sell section of docs/value-config.md")


@dataclass(frozen=True)
class CrossSell:
    """Suggestions per customer, the rules behind them, and item popularity.

    ``suggestions``: ``customer_id, rank, item, antecedent, customers_both, support,
    confidence, lift``, sorted by customer and rank. ``rules``: every rule used, by lift.
    ``popularity``: ``item, customers, share, popularity_rank``. ``customers``: customers with
    a basket; ``customers_with_suggestions``: those who got at least one suggestion.
    """

    suggestions: pd.DataFrame
    rules: pd.DataFrame
    popularity: pd.DataFrame
    customers: int
    customers_with_suggestions: int
    settings: CrossSellSettings = field(default_factory=CrossSellSettings)
    notes: list[str] = field(default_factory=list)

    def reasons(self, lang: str = "en") -> pd.Series:
        """Why each suggestion is made, in English or Chinese: one sentence per row of
        ``suggestions``, e.g. "bought tea: 67% of its buyers also bought cups (1.7× the
        average)" or, for a most-popular item, "popular: bought by 60% of customers"."""
        rules_template = label("cross_sell.reason", lang)
        popular_template = label("cross_sell.reason_popular", lang)
        share = dict(zip(self.popularity["item"], self.popularity["share"], strict=True))
        s = self.suggestions
        return pd.Series(
            [rules_template.format(antecedent=a, item=i, confidence=f"{c:.0%}", lift=f"{lift:.1f}")
             if source == "rules" else popular_template.format(item=i, share=f"{share[i]:.0%}")
             for a, i, c, lift, source in zip(s["antecedent"], s["item"], s["confidence"],
                                              s["lift"], s["source"], strict=True)],
            index=s.index, dtype="object")


def _frame(expr: ir.Table, order: list[str]) -> pd.DataFrame:
    """Run ``expr`` and sort its rows by ``order`` here, so every engine gives the same table."""
    frame = expr.to_pandas()
    return frame.sort_values(order, kind="stable", ignore_index=True)


def cross_sell(
    transactions: ir.Table,
    *,
    observation_end: dt.date | str,
    settings: CrossSellSettings | Mapping[str, Any] | None = None,
    since: dt.date | str | None = None,
) -> CrossSell:
    """Cross-sell suggestions from the baskets bought in (``since``, ``observation_end``].

    ``transactions`` is the canonical log as an Ibis table (see :mod:`cvm.data.ingest`);
    ``settings`` a :class:`CrossSellSettings` or the ``cross_sell`` section of the value
    configuration. See the module docstring for the method and an example.
    """
    s = _settings(settings)
    # the baskets feed four queries: compute them once from the log
    baskets = materialize(customer_items(transactions, observation_end=observation_end,
                                         item=s.item, since=since), "baskets")
    try:
        rules = item_rules(baskets, min_customers=s.min_customers, min_lift=s.min_lift,
                           rules_per_item=s.rules_per_item)
        suggestions = _frame(cross_sell_suggestions(baskets, rules, top=s.suggestions,
                                                    fill_with_popular=s.fill_with_popular),
                             ["customer_id", "rank"])
        rules_frame = _frame(rules, ["antecedent", "consequent"]).sort_values(
            ["lift", "confidence"], ascending=False, kind="stable", ignore_index=True)
        popularity = _frame(item_popularity(baskets), ["popularity_rank"])
        n_customers = int(baskets.customer_id.nunique().to_pyarrow().as_py() or 0)
    finally:
        drop_materialized(baskets)
    covered = int(suggestions.loc[suggestions["source"] == "rules", "customer_id"].nunique())
    notes = []
    if n_customers == 0:
        notes.append(Note("note.cross_sell.no_purchase", item=s.item,
                          end=_as_date(observation_end, "observation_end")))
    elif rules_frame.empty:
        notes.append(Note("note.cross_sell.no_rules", item=s.item, min_customers=s.min_customers,
                          min_lift=s.min_lift))
    elif covered < n_customers:
        filled = Note("note.cross_sell.filled_with_popular") if s.fill_with_popular else ""
        notes.append(Note("note.cross_sell.uncovered", uncovered=n_customers - covered, n=n_customers,
                          filled=filled))
    return CrossSell(suggestions=suggestions, rules=rules_frame, popularity=popularity,
                     customers=n_customers, customers_with_suggestions=covered, settings=s,
                     notes=notes)


# --------------------------------------------------------------------------------------------
# holdout evaluation


@dataclass(frozen=True)
class CrossSellEvaluation:
    """How often suggestions made at ``calibration_end`` were bought by ``observation_end``.

    ``table`` has one row per method (``rules``, then the ``popular`` baseline):
    ``customers_evaluated`` (customers with a basket at calibration end who bought an item
    new to them in the holdout), ``customers_with_suggestions`` (of those, how many got a
    suggestion), ``suggestions``, ``hits`` (suggestions bought), ``customers_hit`` (customers
    who bought at least one suggestion), ``customers_hit_first`` (customers who bought their
    first suggestion), ``hit_rate`` (``customers_hit`` / ``customers_evaluated``),
    ``hit_rate_first`` (``customers_hit_first`` / ``customers_evaluated``) and ``precision``
    (``hits`` / ``suggestions``).
    """

    table: pd.DataFrame
    calibration_end: dt.date
    observation_end: dt.date
    settings: CrossSellSettings
    notes: list[str] = field(default_factory=list)

    @property
    def lift_over_baseline(self) -> float:
        """Hit rate of the rules over that of the most-popular baseline (NaN when 0)."""
        rates = self.table.set_index("method")["hit_rate"]
        return float(rates["rules"] / rates["popular"]) if rates["popular"] > 0 else float("nan")

    def summary(self, lang: str = "en") -> str:
        """One sentence on how the suggestions did against the baseline."""
        rates = self.table.set_index("method")
        return label("cross_sell.evaluation", lang).format(
            customers=int(rates.loc["rules", "customers_evaluated"]),
            top=self.settings.suggestions,
            rules=f"{rates.loc['rules', 'hit_rate']:.1%}",
            popular=f"{rates.loc['popular', 'hit_rate']:.1%}",
        )


def _scores(suggested: ir.Table, new_items: ir.Table, evaluated: ir.Table) -> dict[str, int]:
    """Counts of suggestions, hits and customers for the customers in ``evaluated``."""
    cust = evaluated.select(_customer=evaluated.customer_id)
    s = suggested.semi_join(cust, suggested.customer_id == cust._customer)
    bought = new_items.select(_customer=new_items.customer_id, _item=new_items.item, _hit=1)
    s = s.left_join(bought, (s.customer_id == bought._customer) & (s.item == bought._item))
    first_hit = ibis.ifelse(s._hit.notnull() & (s["rank"] == 1), 1, 0)
    per_customer = s.group_by("customer_id").aggregate(
        _suggestions=s.item.count(), _hits=s._hit.count(), _first_hit=first_hit.sum())
    totals = per_customer.aggregate(
        customers_with_suggestions=per_customer.customer_id.count(),
        suggestions=per_customer._suggestions.sum(),
        hits=per_customer._hits.sum(),
        customers_hit=(per_customer._hits > 0).sum(),
        customers_hit_first=per_customer._first_hit.sum(),
    ).to_pyarrow().to_pylist()[0]
    return {key: int(value or 0) for key, value in totals.items()}


def evaluate_cross_sell(
    transactions: ir.Table,
    *,
    calibration_end: dt.date | str,
    observation_end: dt.date | str,
    settings: CrossSellSettings | Mapping[str, Any] | None = None,
) -> CrossSellEvaluation:
    """Hit rate of the suggestions on a holdout, against the most-popular baseline.

    Both methods suggest ``cross_sell.suggestions`` items per customer from the baskets up to
    ``calibration_end``; the customers evaluated are those who then bought an item new to
    them by ``observation_end``. Definitions are in :class:`CrossSellEvaluation`.

    >>> from cvm.datasets import generate_retail
    >>> import ibis
    >>> log = ibis.memtable(generate_retail(2_000, seed=3).transactions)
    >>> check = evaluate_cross_sell(log, calibration_end="2024-06-30",
    ...                             observation_end="2024-12-31")
    >>> check.table[["method", "customers_evaluated", "hit_rate", "hit_rate_first"]].round(3)
        method  customers_evaluated  hit_rate  hit_rate_first
    0    rules                  148     0.892           0.588
    1  popular                  148     0.791           0.318
    >>> check.summary()
    'Of 148 customers who bought something new in the holdout, 89.2% bought one of their 3 suggestions, against 79.1% with the most popular items.'
    """
    s = _settings(settings)
    cal_end = _as_date(calibration_end, "calibration_end")
    end = _as_date(observation_end, "observation_end")
    if cal_end >= end:
        raise ConfigError(f"calibration_end ({cal_end}) must be before observation_end ({end})",
                          hint="the holdout is the time after calibration_end")
    # each side's baskets feed several queries: compute them once from the log
    before = materialize(customer_items(transactions, observation_end=cal_end, item=s.item),
                         "baskets")
    after = materialize(customer_items(transactions, observation_end=end, item=s.item,
                                       since=cal_end), "baskets")
    try:
        held = before.select(_customer=before.customer_id, _item=before.item)
        new_items = after.anti_join(held, (after.customer_id == held._customer)
                                    & (after.item == held._item))
        known = before.select(_customer=before.customer_id).distinct()
        evaluated = new_items.semi_join(known, new_items.customer_id == known._customer).select(
            "customer_id").distinct()
        n_evaluated = int(evaluated.count().to_pyarrow().as_py())

        rules = item_rules(before, min_customers=s.min_customers, min_lift=s.min_lift,
                           rules_per_item=s.rules_per_item)
        suggested = {
            "rules": cross_sell_suggestions(before, rules, top=s.suggestions,
                                            fill_with_popular=s.fill_with_popular),
            "popular": popular_suggestions(before, top=s.suggestions),
        }
        rows = []
        for method in METHODS:
            counts = _scores(suggested[method], new_items, evaluated) if n_evaluated else {
                "customers_with_suggestions": 0, "suggestions": 0, "hits": 0, "customers_hit": 0,
                "customers_hit_first": 0}
            rows.append({"method": method, "customers_evaluated": n_evaluated, **counts})
    finally:
        drop_materialized(before)
        drop_materialized(after)
    table = pd.DataFrame(rows)
    table["hit_rate"] = table["customers_hit"] / table["customers_evaluated"].where(
        table["customers_evaluated"] > 0)
    table["hit_rate_first"] = table["customers_hit_first"] / table["customers_evaluated"].where(
        table["customers_evaluated"] > 0)
    table["precision"] = table["hits"] / table["suggestions"].where(table["suggestions"] > 0)
    table["method_en"] = [label(f"cross_sell.{m}", "en") for m in METHODS]
    table["method_zh"] = [label(f"cross_sell.{m}", "zh") for m in METHODS]

    notes = []
    if n_evaluated == 0:
        notes.append(Note("note.cross_sell.not_evaluable", calibration_end=cal_end, item=s.item, end=end))
    else:
        rate = table.set_index("method")["hit_rate"]
        if rate["rules"] > rate["popular"]:
            notes.append(Note("note.cross_sell.rules_win", rules=rate["rules"], popular=rate["popular"]))
        else:
            notes.append(Note("note.cross_sell.rules_lose", rules=rate["rules"], popular=rate["popular"]))
        if n_evaluated < 100:
            notes.append(Note("note.cross_sell.few_evaluated", n=n_evaluated))
    return CrossSellEvaluation(table=table, calibration_end=cal_end, observation_end=end,
                               settings=s, notes=notes)
