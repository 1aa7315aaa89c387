"""What customers buy together: baskets, co-purchase rules and suggestions as Ibis expressions.

The statistics behind cross-sell suggestions (:mod:`cvm.value.crosssell`), written once as
**unexecuted** Ibis expressions so that they run where the log lives (DuckDB, PostgreSQL,
Spark) and scale with it: only joins, aggregations and ranking windows, no Python loop over
customers. An *item* is the value of one column of the canonical `transactions` table:
`category` (the default) or `product_id`, or any other text column. A customer's **basket**
is the set of items they bought: every row with a positive amount, dated in the window
(`since`, `observation_end`], with a non-blank item, counts (returns and zero rows do not).

## Baskets: `customer_items`

| column | type | meaning | 说明 |
|---|---|---|---|
| `customer_id` | string | the customer | 客户编号 |
| `item` | string | an item the customer bought | 客户购买过的商品或类别 |
| `purchases` | int64 | days on which the customer bought the item | 购买该商品的天数 |
| `first_purchase` | date | the first of those days | 首次购买该商品的日期 |

## Item popularity: `item_popularity`

| column | type | meaning | 说明 |
|---|---|---|---|
| `item` | string | the item | 商品或类别 |
| `customers` | int64 | customers who bought it | 购买过的客户数 |
| `share` | float64 | `customers` / customers with a basket | 购买客户占比 |
| `popularity_rank` | int64 | 1 for the item most customers bought; ties by item | 热销排名 |

## Co-purchase rules: `item_rules`

A rule *antecedent → consequent* reads "customers who bought the antecedent also bought the
consequent". For each ordered pair of distinct items bought by the same customer:

| column | type | meaning | 说明 |
|---|---|---|---|
| `antecedent` | string | the item bought | 已购商品 |
| `consequent` | string | the item also bought | 同时购买的商品 |
| `customers_both` | int64 | customers who bought both | 两者都买过的客户数 |
| `customers_antecedent` | int64 | customers who bought the antecedent | 买过前项的客户数 |
| `customers_consequent` | int64 | customers who bought the consequent | 买过后项的客户数 |
| `support` | float64 | `customers_both` / customers with a basket | 支持度 |
| `confidence` | float64 | `customers_both / customers_antecedent`: the share of the antecedent's buyers who also bought the consequent | 置信度：前项买家中也买后项的比例 |
| `lift` | float64 | `confidence` / the consequent's `share`: how many times likelier the antecedent's buyers are to buy the consequent than customers at large | 提升度 |

A rule is kept when at least `min_customers` customers bought both and its lift is above
`min_lift`; of those, each antecedent keeps its `rules_per_item` rules of highest
confidence (ties: higher lift, then consequent). Pairs come from a self-join of the baskets
on the customer, so the work grows with the sum over customers of (basket size)²: cheap for
categories, and for products as long as baskets hold tens to hundreds of products.

## Suggestions: `cross_sell_suggestions`, `popular_suggestions`

For each customer with a basket, the `top` items they have not bought, best first:

| column | type | meaning | 说明 |
|---|---|---|---|
| `customer_id` | string | the customer | 客户编号 |
| `rank` | int64 | 1 for the best suggestion | 推荐顺序 |
| `item` | string | the suggested item | 推荐的商品或类别 |
| `antecedent` | string | the item in the basket behind the suggestion | 推荐依据（已购商品） |
| `customers_both` | int64 | customers who bought both | 两者都买过的客户数 |
| `support` | float64 | the rule's support | 支持度 |
| `confidence` | float64 | the rule's confidence | 置信度 |
| `lift` | float64 | the rule's lift | 提升度 |
| `source` | string | `rules`, or `popular` for a most-popular item filling up the list | 推荐来源：规则，或补足的热销商品 |

A candidate item is scored by its best rule from any item in the basket (highest confidence,
then lift, then antecedent), and candidates are ranked by that score (ties: item). A customer
whose basket triggers no rule gets no suggestion, unless `fill_with_popular` fills each
list up to `top` with the most popular items the customer lacks. `popular_suggestions` is the baseline that
suggests the most popular items the customer has not bought (columns `customer_id`, `rank`,
`item`, `customers`, `share`).

>>> import ibis
>>> log = ibis.memtable({
...     "customer_id": ["a", "a", "b", "b", "c", "c", "d", "d", "e"],
...     "date": ["2024-01-02"] * 9,
...     "amount": [10.0, 5.0, 8.0, 3.0, 4.0, 9.0, 6.0, 2.0, 7.0],
...     "category": ["tea", "cups", "tea", "cups", "tea", "cake", "coffee", "cake", "coffee"],
... }).mutate(date=ibis._.date.cast("date"))
>>> baskets = customer_items(log, observation_end="2024-01-31")
>>> rules = item_rules(baskets, min_customers=1)
>>> rules.order_by("antecedent").select(
...     "antecedent", "consequent", "customers_both", "confidence", "lift").execute()
  antecedent consequent  customers_both  confidence      lift
0       cake     coffee               1    0.500000  1.250000
1     coffee       cake               1    0.500000  1.250000
2       cups        tea               2    1.000000  1.666667
3        tea       cups               2    0.666667  1.666667
>>> cross_sell_suggestions(baskets, rules).order_by(["customer_id", "rank"]).select(
...     "customer_id", "rank", "item", "antecedent", "confidence").execute()
  customer_id  rank    item antecedent  confidence
0           c     1    cups        tea    0.666667
1           c     2  coffee       cake    0.500000
2           e     1    cake     coffee    0.500000
"""

from __future__ import annotations

import datetime as dt
from numbers import Integral
from typing import Any

import ibis
import ibis.expr.types as ir

from cvm.data.summaries import _as_date, _table, _transactions
from cvm.errors import ConfigError, MissingColumnError

__all__ = [
    "customer_items",
    "item_popularity",
    "item_rules",
    "cross_sell_suggestions",
    "popular_suggestions",
]

_BASKET_COLUMNS = ("customer_id", "item", "purchases", "first_purchase")
_RULE_COLUMNS = ("antecedent", "consequent", "customers_both", "customers_antecedent",
                 "customers_consequent", "support", "confidence", "lift")


# --------------------------------------------------------------------------------------------
# argument checks


def _count(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return int(value)


def _number(value: Any, name: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= minimum \
            or value == float("inf"):
        raise ConfigError(f"{name} must be a finite number of at least {minimum:g}, got {value!r}")
    return float(value)


def _baskets(value: Any) -> ir.Table:
    t = _table(value, "baskets", _BASKET_COLUMNS)
    return t


def _rules(value: Any) -> ir.Table:
    return _table(value, "rules", _RULE_COLUMNS)


# --------------------------------------------------------------------------------------------
# baskets and item statistics


def customer_items(
    transactions: ir.Table,
    *,
    observation_end: dt.date | str,
    item: str = "category",
    since: dt.date | str | None = None,
) -> ir.Table:
    """The basket of each customer: the items bought in (``since``, ``observation_end``].

    ``item`` names the column of ``transactions`` that identifies an item (``category`` by
    default, or ``product_id``). Rows with a positive amount and a non-blank item count.
    Columns are defined in the module docstring; the rows are not sorted.

    >>> import ibis
    >>> log = ibis.memtable({"customer_id": ["a", "a", "a"],
    ...     "date": ["2024-01-02", "2024-01-09", "2024-01-09"], "amount": [5.0, 7.0, -5.0],
    ...     "category": ["tea", "tea", "cake"]}).mutate(date=ibis._.date.cast("date"))
    >>> customer_items(log, observation_end="2024-01-31").execute()
      customer_id item  purchases first_purchase
    0           a  tea          2     2024-01-02
    """
    end = _as_date(observation_end, "observation_end")
    start = None if since is None else _as_date(since, "since")
    if start is not None and start >= end:
        raise ConfigError(f"since ({start}) must be before observation_end ({end})",
                          hint="baskets hold the purchases after `since`, up to the end")
    if not isinstance(item, str) or not item:
        raise ConfigError(f"item must be a column name such as 'category', got {item!r}")
    t = _transactions(transactions)
    if item not in t.columns:
        raise MissingColumnError(
            f"transactions has no column {item!r} to suggest items from "
            f"(it has: {', '.join(t.columns)})",
            hint="map a category or product column when ingesting (see docs/data-model.md), "
            "or choose another item column",
        )
    column = t[item].cast("string").strip()
    t = t.filter((t.date <= end) & (t.amount > 0) & column.notnull() & (column != ""))
    if start is not None:
        t = t.filter(t.date > start)
    t = t.mutate(item=column)
    return t.group_by([t.customer_id.cast("string").name("customer_id"), "item"]).aggregate(
        purchases=t.date.nunique().cast("int64"),
        first_purchase=t.date.min(),
    )


def _with_customer_total(table: ir.Table, baskets: ir.Table) -> ir.Table:
    """``table`` with ``_n``: the number of customers with a basket (a one-row cross join,
    which every engine plans as a broadcast)."""
    total = baskets.aggregate(_n=baskets.customer_id.nunique().cast("int64"))
    return table.cross_join(total)


def item_popularity(baskets: ir.Table) -> ir.Table:
    """How many customers bought each item, its share of the customers, and its rank.

    >>> import ibis
    >>> baskets = ibis.memtable({"customer_id": ["a", "a", "b"], "item": ["tea", "cake", "tea"],
    ...     "purchases": [1, 1, 1], "first_purchase": ["2024-01-02"] * 3})
    >>> item_popularity(baskets).order_by("popularity_rank").execute()
       item  customers  share  popularity_rank
    0   tea          2    1.0                1
    1  cake          1    0.5                2
    """
    b = _baskets(baskets)
    counts = b.group_by("item").aggregate(customers=b.customer_id.count().cast("int64"))
    counts = _with_customer_total(counts, b)
    rank = ibis.row_number().over(order_by=[ibis.desc(counts.customers), counts.item]) + 1
    return counts.select(
        "item", "customers",
        share=counts.customers.cast("float64") / counts._n.cast("float64"),
        popularity_rank=rank.cast("int64"),
    )


def item_rules(
    baskets: ir.Table,
    *,
    min_customers: int = 5,
    min_lift: float = 1.0,
    rules_per_item: int = 20,
) -> ir.Table:
    """Co-purchase rules antecedent → consequent with support, confidence and lift.

    Kept: rules bought together by at least ``min_customers`` customers with a lift above
    ``min_lift``; per antecedent, the ``rules_per_item`` of highest confidence. Columns are
    defined in the module docstring; the rows are not sorted.

    >>> import ibis
    >>> baskets = ibis.memtable({"customer_id": ["a", "a", "b", "b", "c"],
    ...     "item": ["tea", "cups", "tea", "cups", "cake"], "purchases": [1] * 5,
    ...     "first_purchase": ["2024-01-02"] * 5})
    >>> item_rules(baskets, min_customers=2).order_by("antecedent").select(
    ...     "antecedent", "consequent", "customers_both", "confidence", "lift").execute()
      antecedent consequent  customers_both  confidence  lift
    0       cups        tea               2         1.0   1.5
    1        tea       cups               2         1.0   1.5
    """
    b = _baskets(baskets)
    min_customers = _count(min_customers, "min_customers")
    min_lift = _number(min_lift, "min_lift")
    rules_per_item = _count(rules_per_item, "rules_per_item")

    left = b.select("customer_id", antecedent=b.item)
    right = b.select(_customer=b.customer_id, consequent=b.item)
    pairs = left.join(right, (left.customer_id == right._customer)
                      & (left.antecedent != right.consequent))
    pairs = pairs.group_by(["antecedent", "consequent"]).aggregate(
        customers_both=pairs.customer_id.count().cast("int64"))
    pairs = pairs.filter(pairs.customers_both >= min_customers)

    counts = b.group_by("item").aggregate(_customers=b.customer_id.count().cast("int64"))
    ante = counts.select(antecedent=counts.item, customers_antecedent=counts._customers)
    cons = counts.select(consequent=counts.item, customers_consequent=counts._customers)
    rules = _with_customer_total(pairs.join(ante, "antecedent").join(cons, "consequent"), b)
    n = rules._n.cast("float64")
    confidence = rules.customers_both.cast("float64") / rules.customers_antecedent.cast("float64")
    lift = confidence * n / rules.customers_consequent.cast("float64")
    rules = rules.select(
        "antecedent", "consequent", "customers_both", "customers_antecedent",
        "customers_consequent",
        support=rules.customers_both.cast("float64") / n,
        confidence=confidence,
        lift=lift,
    )
    rules = rules.filter(rules.lift > min_lift)
    order = ibis.row_number().over(
        group_by="antecedent",
        order_by=[ibis.desc(rules.confidence), ibis.desc(rules.lift), rules.consequent],
    )
    rules = rules.mutate(_order=order)
    return rules.filter(rules._order < rules_per_item).drop("_order")


def _rule_candidates(b: ir.Table, r: ir.Table) -> ir.Table:
    """Per customer and item not in the basket: the best rule from the basket that suggests it."""
    owned = b.select("customer_id", "item")
    candidates = owned.join(r, owned.item == r.antecedent).select(
        "customer_id", "antecedent", "customers_both", "support", "confidence", "lift",
        item=r.consequent,
    )
    held = owned.select(_customer=owned.customer_id, _item=owned.item)
    candidates = candidates.anti_join(
        held, (candidates.customer_id == held._customer) & (candidates.item == held._item))
    best = ibis.row_number().over(
        group_by=["customer_id", "item"],
        order_by=[ibis.desc(candidates.confidence), ibis.desc(candidates.lift),
                  candidates.antecedent],
    )
    candidates = candidates.mutate(_best=best)
    return candidates.filter(candidates._best == 0).drop("_best")


def cross_sell_suggestions(
    baskets: ir.Table,
    rules: ir.Table,
    *,
    top: int = 3,
    fill_with_popular: bool = False,
) -> ir.Table:
    """For each customer, the ``top`` items suggested by the co-purchase rules.

    Items already in the basket are never suggested. Columns and ranking are defined in the
    module docstring, plus ``source``: ``rules``. With ``fill_with_popular``, a customer
    with fewer than ``top`` rule suggestions gets the most popular items they lack after
    them (``source`` = ``popular``; ``antecedent``, ``customers_both``, ``support``,
    ``confidence`` and ``lift`` NULL), so that every customer gets ``top`` suggestions while
    there are items left. The rows are not sorted.

    >>> import ibis
    >>> baskets = ibis.memtable({"customer_id": ["a", "a", "b", "b", "c", "d"],
    ...     "item": ["tea", "cups", "tea", "cups", "tea", "cake"], "purchases": [1] * 6,
    ...     "first_purchase": ["2024-01-02"] * 6})
    >>> rules = item_rules(baskets, min_customers=1)
    >>> cross_sell_suggestions(baskets, rules, top=2, fill_with_popular=True).order_by(
    ...     ["customer_id", "rank"]).select("customer_id", "rank", "item", "antecedent",
    ...     "confidence", "source").execute()
      customer_id  rank  item antecedent  confidence   source
    0           a     1  cake        NaN         NaN  popular
    1           b     1  cake        NaN         NaN  popular
    2           c     1  cups        tea    0.666667    rules
    3           c     2  cake        NaN         NaN  popular
    4           d     1   tea        NaN         NaN  popular
    5           d     2  cups        NaN         NaN  popular
    """
    b = _baskets(baskets)
    r = _rules(rules)
    top = _count(top, "top")
    if not isinstance(fill_with_popular, bool):
        raise ConfigError(f"fill_with_popular must be True or False, got {fill_with_popular!r}")
    candidates = _rule_candidates(b, r).mutate(
        source=ibis.literal("rules"), _group=ibis.literal(0).cast("int64"),
        _popularity=ibis.literal(0).cast("int64"))
    if fill_with_popular:
        popular = _popular_candidates(b, top)
        popular = popular.select(
            "customer_id",
            antecedent=ibis.null("string"),
            customers_both=ibis.null("int64"),
            support=ibis.null("float64"),
            confidence=ibis.null("float64"),
            lift=ibis.null("float64"),
            item=popular.item,
            source=ibis.literal("popular"),
            _group=ibis.literal(1).cast("int64"),
            _popularity=popular.popularity_rank,
        )
        candidates = candidates.union(popular)
        first = ibis.row_number().over(group_by=["customer_id", "item"],
                                       order_by=candidates._group)
        candidates = candidates.mutate(_first=first)
        candidates = candidates.filter(candidates._first == 0).drop("_first")
    rank = ibis.row_number().over(
        group_by="customer_id",
        order_by=[candidates._group, ibis.desc(candidates.confidence.fill_null(0.0)),
                  ibis.desc(candidates.lift.fill_null(0.0)), candidates._popularity,
                  candidates.item],
    ) + 1
    candidates = candidates.mutate(rank=rank.cast("int64"))
    candidates = candidates.filter(candidates["rank"] <= top)
    return candidates.select("customer_id", "rank", "item", "antecedent", "customers_both",
                             "support", "confidence", "lift", "source")


def _popular_candidates(b: ir.Table, top: int) -> ir.Table:
    """Per customer, the ``top`` most popular items not in the basket (unranked)."""
    popular = item_popularity(b)
    sizes = b.group_by("customer_id").aggregate(_size=b.item.count().cast("int64"))
    candidates = sizes.join(popular, popular.popularity_rank <= sizes._size + top)
    held = b.select(_customer=b.customer_id, _item=b.item)
    return candidates.anti_join(
        held, (candidates.customer_id == held._customer) & (candidates.item == held._item))


def popular_suggestions(baskets: ir.Table, *, top: int = 3) -> ir.Table:
    """The baseline: for each customer, the ``top`` most popular items they have not bought.

    Only the first (``top`` + basket size) items by popularity can qualify, so the work is
    linear in the baskets, not customers × items.

    >>> import ibis
    >>> baskets = ibis.memtable({"customer_id": ["a", "b", "b", "c"],
    ...     "item": ["tea", "tea", "cups", "cake"], "purchases": [1] * 4,
    ...     "first_purchase": ["2024-01-02"] * 4})
    >>> popular_suggestions(baskets, top=1).order_by("customer_id").select(
    ...     "customer_id", "rank", "item", "customers").execute()
      customer_id  rank  item  customers
    0           a     1  cake          1
    1           b     1  cake          1
    2           c     1   tea          2
    """
    b = _baskets(baskets)
    top = _count(top, "top")
    candidates = _popular_candidates(b, top)
    rank = ibis.row_number().over(group_by="customer_id",
                                  order_by=candidates.popularity_rank) + 1
    candidates = candidates.mutate(rank=rank.cast("int64"))
    candidates = candidates.filter(candidates["rank"] <= top)
    return candidates.select("customer_id", "rank", "item", "customers", "share")
