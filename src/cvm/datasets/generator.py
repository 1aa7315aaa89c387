"""Seeded synthetic data: a realistic retail business, and lean BTYD logs for benchmarks.

:func:`generate_retail` builds every CVM input table (transactions, customers,
marketing_costs, referrals, surveys) for a made-up Chinese retailer, with the messiness
later features must cope with: multi-line orders, returns, businesses without personal
profiles, customers who grow, stay stable, decline, churn or come back. The latent
pattern of each customer is kept in ``customers.behaviour_pattern`` so that lifecycle
features can be checked against the truth. Baskets follow a planted co-purchase pattern:
each customer buys from a small repertoire: a favourite category, the favourite's
companion (:data:`COMPANION_CATEGORY`, e.g. beauty with apparel) and one occasional
category, so that cross-sell suggestions can be checked too.

:func:`generate_transactions` makes a plain ``customer_id, date, amount`` log from a
Pareto/NBD-style process, fast and lean enough for ten million customers.

Both are fully vectorised with numpy: loops run only over a handful of groups (channels,
categories), never over customers or transactions. The same arguments always give the
same data.

>>> data = generate_retail(50, seed=1)
>>> sorted(data.tables)
['customers', 'marketing_costs', 'referrals', 'surveys', 'transactions']
>>> len(data.customers)
50
>>> log = generate_transactions(1_000, seed=1)
>>> log.column_names
['customer_id', 'date', 'amount']
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cvm.data.timeunit import GREGORIAN_YEAR_DAYS
from cvm.errors import ConfigError

__all__ = [
    "BEHAVIOUR_PATTERNS",
    "COMPANION_CATEGORY",
    "RetailData",
    "generate_retail",
    "generate_transactions",
    "write_parquet_chunks",
    "write_transactions_parquet",
]

MONTH_DAYS = GREGORIAN_YEAR_DAYS / 12

BEHAVIOUR_PATTERNS: dict[str, str] = {
    "grow": "buys more and more often over time (成长)",
    "stable": "buys at a steady rate (稳定)",
    "decline": "buys less and less often; less satisfied (衰退)",
    "churn": "stops buying for good at a random time (流失)",
    "return": "stops for about half a year to a year, then comes back (回流)",
}
"""The latent purchase pattern stored in ``customers.behaviour_pattern``."""

_PATTERN_SHARE = np.array([0.15, 0.35, 0.20, 0.20, 0.10])
_GROW, _STABLE, _DECLINE, _CHURN, _RETURN = range(5)

# acquisition channel: share of new customers, median acquisition cost (CNY), log-sd
_CHANNELS = ("search", "social", "referral", "store", "partner")
_CHANNEL_SHARE = np.array([0.30, 0.25, 0.15, 0.20, 0.10])
_CAC_MEDIAN = np.array([110.0, 70.0, 50.0, 25.0, 150.0])
_CAC_SIGMA = np.array([0.45, 0.60, 0.08, 0.50, 0.35])
# the sales channel a customer mostly uses, by acquisition channel
_SALES_CHANNELS = ("online", "app", "store", "mini_program")
_HOME_SALES_CHANNEL = np.array([0, 1, 1, 2, 3])
_SALES_CHANNEL_SHARE = np.array([0.35, 0.30, 0.20, 0.15])

_REGIONS = ("上海", "北京", "广州", "深圳", "成都", "杭州", "武汉", "南京", "重庆", "西安")
_REGION_SHARE = np.array([0.17, 0.16, 0.12, 0.12, 0.09, 0.09, 0.07, 0.07, 0.06, 0.05])

_CUSTOMER_TYPES = ("consumer", "business", "distributor")
_CUSTOMER_TYPE_SHARE = np.array([0.85, 0.12, 0.03])
# per customer type: base orders per month, mean order value (CNY), mean extra lines per order
_TYPE_RATE = np.array([0.55, 1.2, 2.5])
_TYPE_ORDER_VALUE = np.array([180.0, 900.0, 2600.0])
_TYPE_EXTRA_LINES = np.array([0.7, 1.5, 3.0])

_EDUCATION = ("high_school", "college", "bachelor", "master", "doctorate")
_EDUCATION_SHARE = np.array([0.25, 0.25, 0.35, 0.12, 0.03])
_INCOME_BANDS = ("<5k", "5k-10k", "10k-20k", "20k-50k", "50k+")  # CNY per month
_OCCUPATIONS = ("office_worker", "professional", "self_employed", "civil_servant", "worker",
                "freelancer")
_AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_BAND_EDGES = np.array([25, 35, 45, 55, 65])

# product category: code, gross margin, share of lines
_CATEGORIES = ("apparel", "beauty", "electronics", "food", "home", "sports", "books", "baby")
_CATEGORY_CODE = ("AP", "BE", "EL", "FD", "HM", "SP", "BK", "BB")
_CATEGORY_MARGIN = np.array([0.52, 0.62, 0.14, 0.24, 0.40, 0.36, 0.28, 0.33])
_CATEGORY_SHARE = np.array([0.22, 0.14, 0.12, 0.16, 0.13, 0.09, 0.06, 0.08])
_CATEGORY_PRICE = np.array([150.0, 120.0, 800.0, 40.0, 100.0, 200.0, 50.0, 90.0])  # median unit price
_PRODUCTS_PER_CATEGORY = 40
# the category a customer buys beside the favourite one (the planted co-purchase pattern that
# cross-sell suggestions should recover): apparel with beauty, sports with apparel, ...
_COMPANION = np.array([1, 0, 4, 4, 3, 0, 2, 3])
_FAVOURITE_SHARE, _COMPANION_SHARE = 0.50, 0.30  # of a customer's order lines; the rest: occasional
COMPANION_CATEGORY: dict[str, str] = {
    _CATEGORIES[i]: _CATEGORIES[j] for i, j in enumerate(_COMPANION)
}
"""Category → the category its fans also buy: the planted co-purchase pattern of ``retail``."""

# demand by calendar month: Spring Festival, 618 and Double 11 (双11) peaks
_SEASON = np.array([1.25, 1.15, 0.90, 0.90, 0.95, 1.25, 0.90, 0.90, 1.00, 1.00, 1.60, 1.20])

# survey: mean latent satisfaction by pattern (grow, stable, decline, churn, return)
_SATISFACTION_MEAN = np.array([4.3, 4.0, 2.9, 2.7, 3.4])
_COMMENTS = (  # (zh, en) by mood: unhappy, neutral, happy
    (("物流太慢了，等了一个多星期。", "Delivery was far too slow."),
     ("商品质量不如以前，有点失望。", "Quality is not what it used to be."),
     ("客服处理退货很麻烦。", "Returning an item was a hassle."),
     ("价格涨了，考虑换别家。", "Prices went up; I am looking elsewhere.")),
    (("整体还可以，价格偏高。", "Fine overall, a bit pricey."),
     ("东西一般，包装不错。", "Average products, nice packaging."),
     ("希望多一些优惠活动。", "I would like more promotions.")),
    (("质量很好，会继续购买。", "Great quality, I will buy again."),
     ("发货快，客服热情。", "Fast shipping and friendly service."),
     ("会员活动很划算，已推荐给朋友。", "Member deals are great; I told my friends."),
     ("门店体验很好。", "The store experience is excellent.")),
)


@dataclass
class RetailData:
    """The tables of a generated retail business, each a pandas DataFrame.

    Columns follow :mod:`cvm.data.schema`; ``customers`` has one documented extra column,
    ``behaviour_pattern``, the latent pattern the customer's purchases were drawn from
    (one of :data:`BEHAVIOUR_PATTERNS`).
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    marketing_costs: pd.DataFrame
    referrals: pd.DataFrame
    surveys: pd.DataFrame

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in data-model order."""
        return {
            "transactions": self.transactions,
            "customers": self.customers,
            "marketing_costs": self.marketing_costs,
            "referrals": self.referrals,
            "surveys": self.surveys,
        }

    def write(self, directory: str | os.PathLike, format: str = "csv", *,
              overwrite: bool = False) -> list[Path]:
        """Write each table as ``DIRECTORY/<table>.<format>``; see :func:`cvm.datasets.write_tables`."""
        from cvm.datasets.catalog import write_tables

        return write_tables(self.tables, directory, format=format, overwrite=overwrite)


def _day(value: str | np.datetime64 | pd.Timestamp, what: str) -> np.datetime64:
    try:
        return np.datetime64(pd.Timestamp(value).date(), "D")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{what} {value!r} is not a date", hint="give an ISO date such as 2024-01-31") from exc


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers, as an array of str."""
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))


def _dates(start: np.datetime64, offsets: np.ndarray) -> np.ndarray:
    return (start + offsets.astype("timedelta64[D]")).astype("datetime64[ns]")


def generate_retail(
    n_customers: int = 2000,
    *,
    seed: int = 2024,
    start: str = "2022-01-01",
    end: str = "2024-12-31",
) -> RetailData:
    """A seeded, realistic retail business between ``start`` and ``end`` (both inclusive).

    Customers are acquired over the period (a little more often later on, and around the
    shopping festivals) through five channels, each with its own acquisition cost. Every
    customer buys on the acquisition date; repeat orders follow a Poisson process whose rate
    is Gamma-distributed across customers and shaped by the customer's latent
    ``behaviour_pattern`` and by the season. Order values are Gamma-Gamma. About 3 % of
    orders have a line returned a few days later (a negative line with the same order id).

    Size: about 20 transaction rows per customer over three years; 2,000 customers take
    half a second, 100,000 customers (2M rows) about 15 s and 2 GB of memory.

    >>> data = generate_retail(200, seed=7)
    >>> data.customers.groupby("behaviour_pattern").size().index.tolist()
    ['churn', 'decline', 'grow', 'return', 'stable']
    >>> bool((data.transactions["currency"] == "CNY").all())
    True
    >>> generate_retail(200, seed=7).transactions.equals(data.transactions)
    True
    """
    if int(n_customers) < 1:
        raise ConfigError(f"n_customers must be at least 1, not {n_customers}")
    n = int(n_customers)
    d0, d1 = _day(start, "start"), _day(end, "end")
    n_days = int((d1 - d0).astype(int)) + 1
    if n_days < 60:
        raise ConfigError(f"the period {start} .. {end} is too short",
                          hint="give at least 60 days between start and end")
    rng = np.random.default_rng(seed)

    # -- calendar: months of the period, as day offsets from start ----------------------
    first_month = d0.astype("datetime64[M]")
    month_starts = np.arange(first_month, d1.astype("datetime64[M]") + 1)
    m_lo = np.maximum((month_starts.astype("datetime64[D]") - d0).astype(int), 0)
    m_hi = np.minimum(((month_starts + 1).astype("datetime64[D]") - d0).astype(int), n_days)
    season = _SEASON[month_starts.astype(int) % 12]
    day_month = np.repeat(np.arange(len(month_starts)), m_hi - m_lo)

    # -- customers: acquisition ---------------------------------------------------------
    day_weight = (1.0 + 0.6 * np.arange(n_days) / n_days) * season[day_month]
    acq = np.sort(rng.choice(n_days, size=n, p=day_weight / day_weight.sum()))
    customer_id = _ids("C", np.arange(1, n + 1), 6)  # numbered in order of acquisition
    channel = rng.choice(len(_CHANNELS), size=n, p=_CHANNEL_SHARE)
    channel[0] = 0 if channel[0] == 2 else channel[0]  # the first customer had nobody to refer them
    cac = np.round(_CAC_MEDIAN[channel] * np.exp(_CAC_SIGMA[channel] * rng.standard_normal(n)), 2)

    ctype = rng.choice(3, size=n, p=_CUSTOMER_TYPE_SHARE)
    consumer = ctype == 0
    region = rng.choice(len(_REGIONS), size=n, p=_REGION_SHARE)
    age0 = np.clip(rng.normal(36.0, 11.0, n), 18, 75).astype(int)  # age at start
    birth_year = int(str(d0)[:4]) - age0
    age_end = int(str(d1)[:4]) - birth_year
    education = rng.choice(len(_EDUCATION), size=n, p=_EDUCATION_SHARE)
    income_score = 0.6 * education + rng.standard_normal(n) + 0.5 * ((age_end >= 30) & (age_end < 55))
    income = np.clip(np.digitize(income_score, [0.3, 1.3, 2.3, 3.2]), 0, 4)
    occupation = rng.choice(len(_OCCUPATIONS), size=n)
    occupation_name = np.array(_OCCUPATIONS, dtype=object)[occupation]
    occupation_name[(age_end < 24) & (rng.random(n) < 0.6)] = "student"
    occupation_name[(age_end >= 62) & (rng.random(n) < 0.7)] = "retired"
    segment = np.select(
        [ctype == 1, ctype == 2, income >= 3, age_end < 30, age_end >= 55],
        ["business", "distributor", "affluent", "young", "senior"], "mainstream",
    ).astype(object)

    # -- latent behaviour ---------------------------------------------------------------
    months_left = (n_days - acq) / MONTH_DAYS  # months between acquisition and the end
    pattern = rng.choice(5, size=n, p=_PATTERN_SHARE)
    pattern[(pattern == _RETURN) & (months_left < 12)] = _STABLE  # no time to come back
    rate = _TYPE_RATE[ctype] * rng.gamma(1.5, 1 / 1.5, n)  # orders per month
    growth = rng.uniform(0.5, 1.2, n)  # per year, for grow
    decay = rng.uniform(1.0, 2.5, n)  # per year, for decline
    # an "off" spell [off_start, off_end) in days: forever after churn, a long gap for return
    off_start = np.full(n, np.inf)
    off_end = np.full(n, np.inf)
    churn_after = np.minimum(rng.gamma(2.0, 3.0, n), months_left * rng.uniform(0.2, 0.8, n))
    is_churn = pattern == _CHURN
    off_start[is_churn] = acq[is_churn] + churn_after[is_churn] * MONTH_DAYS
    is_return = pattern == _RETURN
    gap_from = rng.uniform(1.0, 5.0, n)
    gap_len = np.minimum(rng.uniform(6.0, 12.0, n), months_left - gap_from - 2.0)
    off_start[is_return] = acq[is_return] + gap_from[is_return] * MONTH_DAYS
    off_end[is_return] = off_start[is_return] + gap_len[is_return] * MONTH_DAYS
    rate[is_return] *= 1.2

    # -- repeat orders: Poisson counts per customer x month --------------------------------
    lo = np.maximum(m_lo[None, :], acq[:, None] + 1.0)  # repeat orders come after day acq
    hi = np.broadcast_to(m_hi[None, :].astype(float), lo.shape)
    lo = np.minimum(lo, hi)
    off_lo = np.clip(off_start[:, None], lo, hi)
    off_len = np.clip(off_end[:, None], lo, hi) - off_lo
    active = hi - lo - off_len
    age_years = ((lo + hi) / 2 - acq[:, None]) / GREGORIAN_YEAR_DAYS
    shape = np.ones_like(age_years)
    shape[pattern == _GROW] = np.minimum(0.4 * np.exp(growth[pattern == _GROW, None]
                                                      * age_years[pattern == _GROW]), 4.0)
    shape[pattern == _DECLINE] = np.exp(-decay[pattern == _DECLINE, None]
                                        * age_years[pattern == _DECLINE])
    counts = rng.poisson(rate[:, None] * shape * season[None, :] * active / MONTH_DAYS)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    when = lo.ravel()[cell] + rng.random(cell.size) * active.ravel()[cell]
    when = np.where(when >= off_lo.ravel()[cell], when + off_len.ravel()[cell], when)
    order_customer = np.concatenate([np.arange(n), cell // counts.shape[1]])
    order_day = np.concatenate([acq, np.minimum(when.astype(int), n_days - 1)])
    order_sort = np.lexsort((order_customer, order_day))
    order_customer, order_day = order_customer[order_sort], order_day[order_sort]
    n_orders = order_customer.size

    # -- order lines ----------------------------------------------------------------------
    otype = ctype[order_customer]
    mean_value = _TYPE_ORDER_VALUE[ctype] * np.where(consumer, 1 + 0.35 * income, 1.0)
    nu = rng.gamma(3.0, mean_value / 3.0)  # Gamma-Gamma: customer's mean order value
    order_value = rng.gamma(4.0, nu[order_customer] / 4.0)
    n_lines = 1 + rng.poisson(_TYPE_EXTRA_LINES[otype])
    line_order = np.repeat(np.arange(n_orders), n_lines)
    first_line = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    weight = rng.exponential(1.0, line_order.size)
    weight /= np.bincount(line_order, weights=weight)[line_order]
    amount = np.round(order_value[line_order] * weight, 2)
    amount = np.maximum(amount, 0.5)
    line_customer = order_customer[line_order]
    favourite = rng.choice(len(_CATEGORIES), size=n, p=_CATEGORY_SHARE)
    # a small repertoire per customer: the favourite, its companion and one occasional category
    occasional = rng.choice(len(_CATEGORIES), size=n, p=_CATEGORY_SHARE)
    draw = rng.random(line_order.size)
    category = np.where(
        draw < _FAVOURITE_SHARE, favourite[line_customer],
        np.where(draw < _FAVOURITE_SHARE + _COMPANION_SHARE, _COMPANION[favourite[line_customer]],
                 occasional[line_customer]))
    product_no = (_PRODUCTS_PER_CATEGORY * rng.random(line_order.size) ** 2).astype(int) + 1
    product_id = np.char.add(np.array(_CATEGORY_CODE)[category],
                             np.char.zfill(product_no.astype(str), 3))
    product_cost = np.round(
        amount * (1 - _CATEGORY_MARGIN[category]) * rng.uniform(0.92, 1.08, line_order.size), 2)
    unit_price = _CATEGORY_PRICE[category] * rng.lognormal(0.0, 0.4, line_order.size)
    quantity = np.maximum(np.rint(amount / unit_price), 1).astype(np.int64)
    home = _HOME_SALES_CHANNEL[channel]
    sales_channel = np.where(rng.random(n_orders) < 0.75, home[order_customer],
                             rng.choice(4, size=n_orders, p=_SALES_CHANNEL_SHARE))
    store_no = rng.integers(1, 4, n_orders)
    order_store = np.where(
        sales_channel == 2,
        np.char.add(np.char.add(np.array(_REGIONS)[region[order_customer]], "-0"),
                    store_no.astype(str)),
        "online",
    )

    # -- returns: one line of ~3 % of orders, 1-14 days later -----------------------------
    p_return = np.where(pattern[order_customer] == _DECLINE, 0.05, 0.025)
    lag = 1 + np.minimum(rng.poisson(4.0, n_orders), 13)
    returned = np.flatnonzero((rng.random(n_orders) < p_return) & (order_day + lag < n_days))
    ret_line = first_line[returned] + (rng.random(returned.size) * n_lines[returned]).astype(int)

    lines = np.concatenate([np.arange(line_order.size), ret_line])
    sign = np.concatenate([np.ones(line_order.size), -np.ones(ret_line.size)])
    l_order = line_order[lines]
    l_day = np.concatenate([order_day[line_order], order_day[returned] + lag[returned]])
    order_no = _ids("O", np.arange(1, n_orders + 1), 7)
    sort = np.lexsort((sign < 0, l_order, l_day))  # by date, then order, purchases first
    lines, sign, l_order, l_day = lines[sort], sign[sort], l_order[sort], l_day[sort]
    transactions = pd.DataFrame({
        "customer_id": customer_id[order_customer[l_order]],
        "date": _dates(d0, l_day),
        "amount": sign * amount[lines],
        "order_id": order_no[l_order],
        "quantity": (sign * quantity[lines]).astype(np.int64),
        "product_id": product_id[lines],
        "category": np.array(_CATEGORIES)[category[lines]],
        "product_cost": sign * product_cost[lines],
        "channel": np.array(_SALES_CHANNELS)[sales_channel[l_order]],
        "store": order_store[l_order],
        "currency": "CNY",
    })

    customers = pd.DataFrame({
        "customer_id": customer_id,
        "acquisition_date": _dates(d0, acq),
        "acquisition_channel": np.array(_CHANNELS)[channel],
        "acquisition_cost": cac,
        "gender": np.where(rng.random(n) < 0.56, "female", "male"),
        "birth_year": pd.array(birth_year, dtype="Int64"),
        "age_band": np.array(_AGE_BANDS)[np.digitize(age_end, _AGE_BAND_EDGES)],
        "education": np.array(_EDUCATION)[education],
        "occupation": occupation_name,
        "income_band": np.array(_INCOME_BANDS)[income],
        "region": np.array(_REGIONS)[region],
        "customer_type": np.array(_CUSTOMER_TYPES)[ctype],
        "segment": segment,
        "behaviour_pattern": np.array(list(BEHAVIOUR_PATTERNS))[pattern],
    })
    # organisations have no personal profile
    personal = ["gender", "birth_year", "age_band", "education", "occupation", "income_band"]
    customers.loc[~consumer, personal] = pd.NA

    return RetailData(
        transactions=transactions.reset_index(drop=True),
        customers=customers,
        marketing_costs=_marketing_costs(rng, customer_id, acq, ctype, segment, m_hi,
                                         month_starts, season),
        referrals=_referrals(rng, customer_id, acq, channel, pattern, d0),
        surveys=_surveys(rng, customer_id, acq, pattern, off_start, n_days, d0),
    )


def _marketing_costs(rng, customer_id, acq, ctype, segment, m_hi, month_starts, season):
    """Cost per customer per month for key accounts and VIPs; per segment per month for the rest."""
    n_months = len(month_starts)
    month_date = month_starts.astype("datetime64[D]").astype("datetime64[ns]")
    acq_month = np.searchsorted(m_hi, acq, side="right")
    # per customer: account management for businesses and distributors, VIP care for the affluent
    key = np.flatnonzero((ctype > 0) | (segment == "affluent"))
    who, month = np.nonzero(np.arange(n_months)[None, :] >= acq_month[key, None])
    who = key[who]
    customer_cost = np.array([30.0, 200.0, 500.0])[ctype[who]] * rng.lognormal(0.0, 0.3, who.size)
    # per segment: campaigns sized by the segment's customers acquired so far
    segments = np.array(["mainstream", "young", "senior"])
    seg_of = pd.Index(segments).get_indexer(segment)  # -1: not reached by campaigns
    sizes = np.zeros((len(segments), n_months))
    np.add.at(sizes, (seg_of[seg_of >= 0], acq_month[seg_of >= 0]), 1.0)
    s_idx, m_idx = np.nonzero(np.cumsum(sizes, axis=1) > 0)
    segment_cost = (4.0 * np.cumsum(sizes, axis=1)[s_idx, m_idx] * season[m_idx]
                    * rng.lognormal(0.0, 0.15, s_idx.size))
    festival = np.isin((month_starts.astype(int) % 12)[m_idx], [5, 10])  # June, November
    out = pd.DataFrame({
        "customer_id": pd.array(np.concatenate([customer_id[who], np.full(s_idx.size, None)]),
                                dtype="str"),
        "segment": pd.array(np.concatenate([np.full(who.size, None), segments[s_idx]]), dtype="str"),
        "date": month_date[np.concatenate([month, m_idx])],
        "cost": np.round(np.concatenate([customer_cost, segment_cost]), 2),
        "activity": np.concatenate([
            np.where(ctype[who] > 0, "account management", "VIP care"),
            np.where(festival, "festival campaign", "newsletter and coupons")]),
    })
    out = out.sort_values(["date", "customer_id", "segment"], kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _referrals(rng, customer_id, acq, channel, pattern, d0):
    """Each referral-channel customer was referred by an earlier customer, mostly a happy one."""
    referred = np.flatnonzero(channel == 2)
    referred = referred[referred > 0]
    # weighted draw among customers 0 .. i-1 (acquired on or before customer i), never i itself
    weight = np.array([2.0, 1.5, 0.4, 0.3, 0.8])[pattern]
    cum = np.cumsum(weight)
    target = rng.random(referred.size) * cum[referred - 1]
    referrer = np.minimum(np.searchsorted(cum, target, side="right"), referred - 1)
    return pd.DataFrame({
        "referrer_id": customer_id[referrer],
        "referred_id": customer_id[referred],
        "date": _dates(d0, acq[referred]),
    })


def _surveys(rng, customer_id, acq, pattern, off_start, n_days, d0):
    """About a third of customers answer once or twice while they are still buying."""
    n = customer_id.size
    answers = np.where(rng.random(n) < 0.35, 1 + (rng.random(n) < 0.3), 0)
    who = np.repeat(np.arange(n), answers)
    last_active = np.minimum(off_start, n_days - 1)[who]
    day = (acq[who] + rng.uniform(0.05, 1.0, who.size) * (last_active - acq[who])).astype(int)
    mood = rng.normal(_SATISFACTION_MEAN[pattern[who]], 0.7)
    satisfaction = np.clip(np.rint(mood), 1, 5).astype(np.int64)
    nps = np.clip(np.rint(2.2 * mood - 1.2 + rng.normal(0.0, 1.3, who.size)), 0, 10)
    complaint = rng.random(who.size) < 1 / (1 + np.exp(2.2 * (mood - 2.3)))
    bucket = np.digitize(satisfaction, [3, 4])  # 1-2 unhappy, 3 neutral, 4-5 happy
    pick = rng.random(who.size)
    chinese = rng.random(who.size) < 0.7
    comment = np.full(who.size, None, dtype=object)
    for b, templates in enumerate(_COMMENTS):  # three moods, not a loop over rows
        zh = np.array([t[0] for t in templates], dtype=object)
        en = np.array([t[1] for t in templates], dtype=object)
        rows = bucket == b
        k = (pick[rows] * len(templates)).astype(int)
        comment[rows] = np.where(chinese[rows], zh[k], en[k])
    comment[rng.random(who.size) < 0.4] = None
    out = pd.DataFrame({
        "customer_id": customer_id[who],
        "date": _dates(d0, day),
        "satisfaction": satisfaction,
        "nps": nps.astype(np.int64),
        "complaint": complaint,
        "comment": pd.array(comment, dtype="str"),
    })
    return out.sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)


# -- lean BTYD logs for benchmarks ---------------------------------------------------------

_CHUNK = 1_000_000  # customers per chunk; part of the definition of the generated log
# Pareto/NBD (per day) and Gamma-Gamma parameters; about 2.75 transactions per customer
_PNBD = {"r": 0.55, "alpha": 75.0, "s": 0.6, "beta": 180.0}
_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}


def _log_chunks(n_customers: int, seed: int, start: str, periods_days: int):
    if int(n_customers) < 1:
        raise ConfigError(f"n_customers must be at least 1, not {n_customers}")
    if int(periods_days) < 1:
        raise ConfigError(f"periods_days must be at least 1, not {periods_days}")
    d0 = int(_day(start, "start").astype(int))  # days since 1970-01-01
    n_chunks = -(-int(n_customers) // _CHUNK)
    for k, child in enumerate(np.random.SeedSequence(seed).spawn(n_chunks)):
        yield _log_chunk(np.random.default_rng(child), k * _CHUNK,
                         min(_CHUNK, n_customers - k * _CHUNK), d0, int(periods_days))


def _log_chunk(rng, first_id, n, d0, span):
    birth = rng.random(n) * span  # first purchase, uniform over the period
    lam = rng.gamma(_PNBD["r"], 1 / _PNBD["alpha"], n)
    mu = rng.gamma(_PNBD["s"], 1 / _PNBD["beta"], n)
    alive = np.minimum(rng.exponential(1.0, n) / mu, span - birth)
    repeats = rng.poisson(lam * alive)
    nu = rng.gamma(_GG["q"], 1 / _GG["gamma"], n)
    per = repeats + 1
    cust = np.repeat(np.arange(n, dtype=np.int64), per)
    starts = np.cumsum(per) - per
    is_first = np.zeros(cust.size, dtype=bool)
    is_first[starts] = True
    t = birth[cust] + np.where(is_first, 0.0, rng.random(cust.size) * alive[cust])
    day = (d0 + t.astype(np.int32)).astype(np.int32)
    amount = np.round(rng.gamma(_GG["p"], 1.0, cust.size) / nu[cust], 2)
    cust += first_id + 1
    return pa.table({
        "customer_id": pa.array(cust, pa.int64()),
        "date": pa.array(day, pa.int32()).cast(pa.date32()),
        "amount": pa.array(amount, pa.float64()),
    })


def generate_transactions(
    n_customers: int,
    *,
    seed: int = 0,
    start: str = "2020-01-01",
    periods_days: int = 365 * 2,
) -> pa.Table:
    """A seeded Pareto/NBD-style log ``customer_id`` (int64), ``date`` (date32), ``amount``.

    Each customer first buys on a day drawn uniformly from the ``periods_days`` days after
    ``start``, then buys again at a Gamma-heterogeneous Poisson rate for an exponential
    lifetime (also Gamma-heterogeneous), with Gamma-Gamma spend: about 2.75 rows per customer
    (ten million customers: ~27.5M rows in about ten seconds and under 3 GB). Rows are grouped
    by customer, first purchase first; a customer can buy twice on one day.

    >>> log = generate_transactions(10_000, seed=3)
    >>> 2.4 < log.num_rows / 10_000 < 3.1
    True
    >>> log.schema.field("date").type
    DataType(date32[day])
    """
    return pa.concat_tables(list(_log_chunks(n_customers, seed, start, periods_days)))


def write_transactions_parquet(
    path: str | os.PathLike,
    n_customers: int,
    seed: int = 0,
    *,
    start: str = "2020-01-01",
    periods_days: int = 365 * 2,
) -> Path:
    """Write :func:`generate_transactions` to a Parquet file chunk by chunk (lean on memory).

    The file appears only when complete (written to a temporary name, then renamed).
    """
    return write_parquet_chunks(_log_chunks(n_customers, seed, start, periods_days), path)


def write_parquet_chunks(chunks: Iterable[pa.Table], path: str | Path) -> Path:
    """Write Arrow tables of one schema, one after the other, as one Parquet file that appears
    only when complete; memory holds one chunk at a time.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "log.parquet"
    >>> chunks = (pa.table({"k": [i, i + 1]}) for i in (0, 2))
    >>> import pyarrow.parquet as pq
    >>> pq.read_table(write_parquet_chunks(chunks, out))["k"].to_pylist()
    [0, 1, 2, 3]
    """
    import pyarrow.parquet as pq

    from cvm.data.export import atomic_path

    with atomic_path(path) as tmp:
        writer = None
        try:
            for chunk in chunks:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, chunk.schema)
                writer.write_table(chunk, row_group_size=1 << 20)
        finally:
            if writer is not None:
                writer.close()
    return Path(path)
