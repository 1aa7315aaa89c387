"""The customer value table: one row per customer with history, forecast, CLV and every segment.

:func:`customer_value` takes the per-customer summaries of the data layer and the fitted
models, and returns a :class:`CustomerValue`: the table (columns in ``docs/value.md``) and
the summary tables built from it (customer equity per segment, cohort and acquisition
channel; the pyramid; concentration; value at risk per tier). Every category column comes
with its English and Chinese label (``<column>_en``, ``<column>_zh``), and every fallback
taken (estimated costs, missing acquisition costs …) is listed in ``notes``.

Customers of the ``customers`` table without any purchase up to the observation end are
*prospects*: they get a row with zero history and value, no probability of being alive,
and the loyalty level ``potential``.

>>> import datetime as dt
>>> from cvm.value.table import example_inputs
>>> inputs = example_inputs()
>>> result = customer_value(**inputs)
>>> len(result.table), result.table["customer_id"].tolist()[:3]
(6, ['c1', 'c2', 'c3'])
>>> round(float(result.table["clv"].sum()), 2) == round(result.customer_equity, 2)
True
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cvm.data.timeunit import GREGORIAN_YEAR_DAYS, TimeUnit
from cvm.errors import InvalidDataError, MissingColumnError
from cvm.labels import Note, label
from cvm.models.engine import levels
from cvm.value._arrays import filled
from cvm.value import composition, segments
from cvm.value.config import ValueConfig, load_config
from cvm.value.forecast import forecast_margin_ratio, forecast_value, simple_clv
from cvm.value.history import historical_value
from cvm.value.lifecycle import STAGES, Lifecycle, lifecycle_stages
from cvm.value.scoring import score_all

logger = logging.getLogger(__name__)

__all__ = ["CustomerValue", "customer_value", "example_inputs", "PROFILE_COLUMNS"]

PROFILE_COLUMNS = (
    "acquisition_channel", "gender", "age_band", "education", "occupation", "income_band",
    "region", "customer_type", "segment",
)
"""Profile attributes of the ``customers`` table carried into the value table when present."""

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")

VALUE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("customer_id", "the customer", "客户编号"),
    ("first_purchase", "date of the first purchase", "首次购买日期"),
    ("last_purchase", "date of the last purchase up to the observation end", "最近一次购买日期"),
    ("n_purchases", "purchase days up to the end, the first included (0 for prospects)", "购买天数（含首次）"),
    ("tenure_days", "days from the first purchase to the end", "客户关系天数"),
    ("days_since_last_purchase", "days from the last purchase to the end", "距最近一次购买的天数"),
    ("frequency, recency, T, monetary_value", "the BTYD summary the model reads, in its time unit",
     "模型使用的 BTYD 汇总"),
    ("average_order_value", "revenue / n_purchases", "平均订单金额"),
    ("revenue", "net revenue to date", "累计净收入"),
    ("product_cost", "product cost to date (estimated from margin.margin_rate where not recorded)",
     "累计商品成本（无记录时按毛利率估算）"),
    ("marketing_cost", "relationship-marketing cost to date", "累计关系营销成本"),
    ("gross_margin", "CRM gross margin to date: revenue − product cost − marketing cost", "累计 CRM 毛利"),
    ("returns, gross_sales", "amount returned, and the positive amounts before returns", "退货金额、退货前销售额"),
    ("cost_source", "recorded or estimated product cost", "成本来源：实际记录或估算"),
    ("revenue_hist_k, product_cost_hist_k, marketing_cost_hist_k, gross_margin_hist_k, orders_hist_k",
     "the same in each of the last K calendar periods, k = 1 the oldest, K the one holding the end",
     "最近 K 个日历期间的同类数据，k = 1 为最早一期"),
    ("gross_margin_recent", "CRM gross margin of the last K periods", "最近 K 期的 CRM 毛利"),
    ("credit_index", "1 − returns / gross sales (1 = never returns)", "信用指数：1 − 退货额 / 销售额"),
    ("p_alive", "probability that the customer is still active at the end", "期末仍活跃的概率"),
    ("p_alive_previous", "the same one forecast period earlier (blank if not acquired then, or not given)",
     "上一期的存活概率"),
    ("expected_spend", "expected spend per future purchase (Gamma-Gamma)", "预期每次消费金额"),
    ("forecast_purchases_k, forecast_revenue_k, forecast_margin_k",
     "expected purchases, revenue and margin in the k-th coming calendar period", "未来第 k 期的预期购买、收入和毛利"),
    ("forecast_margin_total", "expected margin of the next K periods", "未来 K 期的预期毛利合计"),
    ("margin_growth", "forecast_margin_total − gross_margin_recent", "毛利增长：未来 K 期预期 − 最近 K 期实际"),
    ("clv", "discounted expected margin over clv.horizon_years (the potential value)",
     "未来 clv.horizon_years 年的折现预期毛利（潜在价值）"),
    ("simple_clv", "average order value × purchases a year × lifespan × margin ratio − acquisition cost",
     "简易 CLV：平均订单额 × 年购买次数 × 预期寿命 × 毛利率 − 获客成本"),
    ("acquisition_date, acquisition_cost", "from the customers table (first purchase when no date)", "获客日期与成本"),
    ("acquisition_channel, gender, age_band, …", "profile attributes of the customers table, when present",
     "客户表中的画像属性"),
    ("cohort", "first day of the acquisition period (forecast.period)", "获客期间首日"),
    ("realized_value, potential_value, influence_value", "the value composition (see below)",
     "价值构成：已实现、潜在、影响价值"),
    ("total_value", "realized + potential + influence value", "总价值"),
    ("clv_net", "realized value + CLV − acquisition cost", "扣除获客成本后的终身价值"),
    ("negative_value, negative_reason", "whether the value is negative and why", "是否负价值及原因"),
    ("value_matrix", "strategic / profit / potential / ordinary", "价值矩阵：战略、利润、潜力、普通客户"),
    ("pyramid", "customer pyramid tier", "客户金字塔层级"),
    ("loyalty_profit", "true friend / butterfly / barnacle / stranger", "忠诚度 × 盈利性分群"),
    ("loyalty_level", "potential / new / regular / old / loyal customer", "忠诚度等级"),
    ("recency_score, frequency_score, monetary_score, rfm_segment", "RFM scores (1–5) and segment", "RFM 得分与分群"),
    ("lifecycle_stage, lifecycle_reason", "lifecycle stage at the end (with a period panel) and the rule that gave it",
     "期末生命周期阶段及判定原因"),
    ("at_risk, value_at_risk", "valuable customer with falling P(alive), and the expected margin lost",
     "价值客户存活概率下降，及预期损失的毛利"),
    ("score_<model>, score_tier_<model>", "composite score (0–100) and tier of each scoring model",
     "各评分模型的综合得分（0–100）与等级"),
    ("<category>_en, <category>_zh", "English and Chinese label of every category column", "各分类列的中英文标签"),
)
"""Every column of the customer value table, documented in ``docs/value.md``."""


@dataclass
class CustomerValue:
    """The customer value table and the summary tables built from it."""

    table: pd.DataFrame
    equity: pd.DataFrame
    pyramid: pd.DataFrame
    concentration: Any
    value_at_risk: pd.DataFrame
    history_periods: list[tuple[dt.date, dt.date]]
    forecast_periods: list[tuple[dt.date, dt.date]]
    margin_ratio: float
    config: ValueConfig
    notes: list[str] = field(default_factory=list)
    lifecycle: Lifecycle | None = None
    """Every customer's stage in every period (with a period panel), for flows and history."""

    @property
    def customer_equity(self) -> float:
        """Customer equity of the whole base: the sum of every customer's CLV."""
        return float(self.table["clv"].sum())

    def breakdown(self, segmentation: str, by: list[str] | str, value: str | None = "total_value") -> pd.DataFrame:
        """A segmentation column crossed with profile columns (see :func:`cvm.value.segments.breakdown`)."""
        by = [by] if isinstance(by, str) else list(by)
        missing = [c for c in [segmentation, *by] if c not in self.table.columns]
        if missing:
            raise MissingColumnError(
                f"the customer value table has no column(s) {missing}",
                hint=f"profile columns present: {[c for c in PROFILE_COLUMNS if c in self.table.columns]}",
            )
        return segments.breakdown(self.table[segmentation], self.table[by],
                                  None if value is None else self.table[value])


def _frame(table: Any, name: str) -> pd.DataFrame | None:
    if table is None:
        return None
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, pa.Table):
        return table.to_pandas(date_as_object=False)  # dates as datetime64, not Python objects
    if hasattr(table, "to_pyarrow"):
        return table.to_pyarrow().to_pandas(date_as_object=False)
    if hasattr(table, "to_pandas"):
        return table.to_pandas()
    try:
        return pd.DataFrame(table)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(f"{name}: not a table ({type(table).__name__})") from exc


def _ids(frame: pd.DataFrame, name: str, column: str = "customer_id") -> pa.Array:
    """The customer ids of ``frame`` as an Arrow string array, checked: none blank, none twice.

    Ids sorted strictly ascending (as the data layer writes them) are unique without hashing.
    """
    if column not in frame.columns:
        raise MissingColumnError(f"{name}: the table has no column {column!r} (columns: {list(frame.columns)})")
    values = frame[column]
    try:
        ids = pa.array(values.array if hasattr(values, "array") else values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        ids = pa.array(values.astype("string").array)
    if not pa.types.is_string(ids.type) and not pa.types.is_large_string(ids.type):
        ids = pc.cast(ids, pa.large_string())
    blank = ids.null_count + (pc.sum(pc.equal(ids, "")).as_py() or 0)
    if blank:
        raise InvalidDataError(f"{name}: column {column!r} has {blank} blank customer id(s)")
    if len(ids) > 1 and not pc.all(pc.greater(ids[1:], ids[:-1])).as_py():
        if pc.count_distinct(ids).as_py() != len(ids):
            counts = pc.value_counts(ids)
            repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")[:3].to_pylist()
            raise InvalidDataError(f"{name}: customer ids must be unique, but {repeated} appear more than once")
    return ids


def _locate(ids: pa.Array, others: dict[str, pa.Array]) -> dict[str, np.ndarray]:
    """For each array of ``others``, the row in ``ids`` of each of its values (-1 where absent).

    Arrays equal to ``ids`` need no lookup; all the others are looked up in one hash probe of
    ``ids`` (hashing ten million ids takes seconds, so it is done once).
    """
    large = ids.cast(pa.large_string())
    out: dict[str, np.ndarray] = {}
    probes: list[tuple[str, pa.Array]] = []
    for name, other in others.items():
        other = other.cast(pa.large_string())
        if len(other) == len(large) and other.equals(large):
            out[name] = np.arange(len(large))
        else:
            probes.append((name, other))
    if probes:
        joined = pa.concat_arrays([other for _, other in probes])
        if 2 * len(joined) < len(large):
            # few lookups (referrals, say): hash them and probe the ids, which is cheaper than
            # hashing every id
            distinct = pc.unique(joined)
            at = pc.index_in(large, value_set=distinct).fill_null(-1).to_numpy(zero_copy_only=False)
            row_of_distinct = np.full(len(distinct), -1, dtype=np.intp)
            hit = at >= 0
            row_of_distinct[at[hit]] = np.flatnonzero(hit)
            which = pc.index_in(joined, value_set=distinct).to_numpy(zero_copy_only=False).astype(np.intp)
            found = row_of_distinct[which]
        else:
            found = pc.index_in(joined, value_set=large).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
        start = 0
        for name, other in probes:
            out[name] = found[start:start + len(other)]
            start += len(other)
    return out


def _inverse(rows_in_ids: np.ndarray, n: int) -> np.ndarray:
    """From each table row's row in ``ids`` to each id's row in the table (-1 where absent)."""
    if rows_in_ids.size == n and rows_in_ids[0] == 0 and rows_in_ids[-1] == n - 1 and \
            (rows_in_ids.size < 2 or bool(np.all(np.diff(rows_in_ids) == 1))):
        return rows_in_ids  # the same customers in the same order
    out = np.full(n, -1, dtype=np.intp)
    present = rows_in_ids >= 0
    out[rows_in_ids[present]] = np.flatnonzero(present)
    return out


def _pad(values: Any, extra: int, fill: Any) -> np.ndarray:
    """``values`` followed by ``extra`` copies of ``fill`` (prospects' rows)."""
    values = np.asarray(values)
    if not extra:
        return values
    dtype = values.dtype if fill is None or np.can_cast(np.min_scalar_type(fill), values.dtype) else float
    if values.dtype.kind == "M":
        return np.concatenate([values, np.full(extra, np.datetime64("NaT"), dtype=values.dtype)])
    if values.dtype.kind in "OUS":
        return np.concatenate([values.astype(object), np.full(extra, fill, dtype=object)])
    return np.concatenate([values.astype(dtype, copy=False), np.full(extra, fill, dtype=dtype)])


def _dates(values: Any) -> np.ndarray:
    """Dates as ``datetime64[s]`` (a unit pandas keeps as it is: no conversion later)."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if array.dtype.kind != "M":
        array = pd.to_datetime(pd.Series(array)).to_numpy()
    if array.dtype == np.dtype("datetime64[s]"):
        return array
    if array.dtype == np.dtype("datetime64[D]"):
        return array.astype("datetime64[s]")
    return array.astype("datetime64[D]").astype("datetime64[s]")


def customer_value(
    history: Any,
    summary: Any,
    *,
    model: Any,
    observation_end: dt.date | str,
    unit: TimeUnit | str,
    spend_model: Any = None,
    config: Any = None,
    previous_summary: Any = None,
    customers: Any = None,
    referrals: Any = None,
    rfm: Any = None,
    panel: Any = None,
    has_marketing_costs: bool | None = None,
) -> CustomerValue:
    """Build the customer value table.

    ``history`` comes from :func:`cvm.data.summaries.value_history` and ``summary`` from
    :func:`cvm.data.summaries.btyd_summary` (in the model's ``unit``), both at
    ``observation_end``. Value at risk needs each customer's state one period earlier: the
    history's ``*_previous`` columns, or a ``previous_summary`` (the BTYD summary at that
    date), which takes precedence; ``customers`` the profile table (acquisition date, channel and cost,
    gender, region …); ``referrals`` has ``referrer_id, referred_id``; ``rfm`` comes from
    :func:`cvm.data.summaries.rfm_scores`; ``panel``, the dense period panel
    (:func:`cvm.data.summaries.period_panel` with ``dense=True`` in ``forecast.period``),
    gives each customer's lifecycle stage (:mod:`cvm.value.lifecycle`). Tables may be
    pandas, pyarrow or Ibis.
    """
    config = load_config(config)
    progress = _Progress()
    unit = TimeUnit.parse(unit)
    end = observation_end if isinstance(observation_end, dt.date) else dt.date.fromisoformat(str(observation_end))
    periods = config.forecast.periods
    notes: list[str] = []

    hist = _frame(history, "history")
    ids = _ids(hist, "history")
    for name in ("first_purchase", "last_purchase", "n_purchases", "tenure_days", "days_since_last_purchase"):
        if name not in hist.columns:
            raise MissingColumnError(f"history: the table has no column {name!r}",
                                     hint="pass the table from cvm.data.summaries.value_history")
    summ = _frame(summary, "summary")
    for column in ("frequency", "recency", "T"):
        if column not in summ.columns:
            raise MissingColumnError(f"summary: the table has no column {column!r}")
    profile = _frame(customers, "customers")
    prev = _frame(previous_summary, "previous_summary")
    rfm = _frame(rfm, "rfm")
    refs = _frame(referrals, "referrals")
    if rfm is not None:
        for column in ("recency_score", "frequency_score", "monetary_score"):
            if column not in rfm.columns:
                raise MissingColumnError(f"rfm: the table has no column {column!r}",
                                         hint="pass the table from cvm.data.summaries.rfm_scores")
    lookups = {"summary": _ids(summ, "summary")}
    for name, frame in (("customers", profile), ("previous_summary", prev), ("rfm", rfm)):
        if frame is not None:
            lookups[name] = _ids(frame, name)
    if refs is not None:
        for column in ("referrer_id", "referred_id"):
            if column not in refs.columns:
                raise MissingColumnError(f"referrals: the table has no column {column!r}")
            lookups[column] = pc.cast(pa.array(refs[column].array if hasattr(refs[column], "array")
                                               else refs[column], from_pandas=True), pa.large_string())
    located = _locate(ids, lookups)
    progress.step("customer ids aligned")
    n = len(ids)

    position = _inverse(located["summary"], n)
    if (position < 0).any():
        example = pc.filter(ids, pa.array(position < 0))[:3].to_pylist()
        raise InvalidDataError(
            f"summary: {int((position < 0).sum())} customer(s) of the history have no BTYD summary, e.g. {example}",
            hint="compute both tables from the same transactions and observation end",
        )
    identity = bool(len(position) == len(summ) and (position == np.arange(n)).all())
    model_input = {c: summ[c].to_numpy(dtype=float) if identity else summ[c].to_numpy(dtype=float)[position]
                   for c in SUMMARY_COLUMNS if c in summ.columns}
    model_input.setdefault("monetary_value", np.zeros(n))
    model_input = pd.DataFrame(model_input, copy=False)

    if profile is not None:
        profile_ids = lookups["customers"]
        profile_position = _inverse(located["customers"], n)
        prospects = np.flatnonzero(located["customers"] < 0)
    else:
        profile_ids, profile_position, prospects = None, None, np.zeros(0, dtype=np.intp)
    extra = prospects.size
    if extra:
        notes.append(Note("note.value.prospects", n=extra))

    past = historical_value(hist, config, periods=periods, has_marketing_costs=has_marketing_costs)
    progress.step("historical value")
    notes += past.notes
    margin_ratio, ratio_source = forecast_margin_ratio(config, past.margin_ratio)
    notes.append(Note("note.margin.forecast_ratio", source=ratio_source))
    n_purchases = hist["n_purchases"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        aov = np.where(n_purchases > 0, past.columns["revenue"] / n_purchases, np.nan)
    previous = None
    if prev is not None:
        prev_position = _inverse(located["previous_summary"], n)
        found = prev_position >= 0
        previous = pd.DataFrame({
            c: np.where(found, prev[c].to_numpy(dtype=float)[np.maximum(prev_position, 0)], np.nan)
            for c in ("frequency", "recency", "T")
        })
    elif all(c in hist.columns for c in PREVIOUS_COLUMNS):
        previous = _previous_from_history(hist, unit)
    # Two threads (numpy releases the GIL on big arrays): the model's predictions run beside
    # the history, profile and segment columns, and the scores beside the summary tables.
    with ThreadPoolExecutor(max_workers=2) as pool:
        forecasting = pool.submit(
            forecast_value, model, spend_model, model_input, observation_end=end, unit=unit, config=config,
            margin_ratio=margin_ratio, average_order_value=aov, previous_summary=previous,
        )
        all_ids = ids if not extra else pa.concat_arrays([
            ids.cast(pa.large_string()), profile_ids.take(pa.array(prospects)).cast(pa.large_string())])
        n_total = len(all_ids)
        cols: dict[str, Any] = {"customer_id": pd.arrays.ArrowStringArray(all_ids.cast(pa.large_string()))}
        cols["first_purchase"] = _pad(_dates(hist["first_purchase"]), extra, None)
        cols["last_purchase"] = _pad(_dates(hist["last_purchase"]), extra, None)
        cols["n_purchases"] = _pad(hist["n_purchases"].to_numpy(dtype=np.int64), extra, 0)
        cols["tenure_days"] = _pad(hist["tenure_days"].to_numpy(dtype=float), extra, np.nan)
        cols["days_since_last_purchase"] = _pad(hist["days_since_last_purchase"].to_numpy(dtype=float), extra, np.nan)
        for name in SUMMARY_COLUMNS:
            cols[name] = _pad(model_input[name].to_numpy(dtype=float), extra, 0.0)
        cols["average_order_value"] = _pad(aov, extra, np.nan)
        _add_columns(cols, past.columns, extra)
        _profile_columns(cols, profile, profile_position, prospects, n_total, notes)
        acquired = cols.pop("_acquisition_date")
        cols["acquisition_date"] = np.where(np.isnat(acquired), cols["first_purchase"], acquired)
        cols["cohort"] = _period_starts(cols["acquisition_date"], TimeUnit.parse(config.forecast.period))
        cols["simple_clv"] = simple_clv(
            cols["average_order_value"], cols["n_purchases"], cols["tenure_days"], config=config,
            margin_ratio=margin_ratio, acquisition_cost=cols["acquisition_cost"],
        )
        cols["realized_value"] = cols["gross_margin"]
        if refs is not None:
            cols["influence_value"] = composition.influence_from_rows(
                cols["realized_value"], source=located["referrer_id"], target=located["referred_id"],
                decay=config.referral.indirect_decay, max_depth=config.referral.max_depth,
            )
        else:
            cols["influence_value"] = np.zeros(n_total)
        _add_history_segments(cols, rfm, None if rfm is None else _pad(_inverse(located["rfm"], n), extra, -1),
                              config, notes)
        progress.step("history, profile and loyalty columns")

        future = forecasting.result()
        progress.step("forecast and CLV (waited for)")
        notes += future.notes
        if previous is None:
            future.columns["p_alive_previous"] = np.full(n, np.nan)
            notes.append(Note("note.value.no_previous_state"))
        _add_columns(cols, future.columns, extra)
        cols["margin_growth"] = cols["forecast_margin_total"] - cols["gross_margin_recent"]
        cols["potential_value"] = cols["clv"]
        cols["total_value"] = cols["realized_value"] + cols["potential_value"] + cols["influence_value"]
        cols["clv_net"] = cols["realized_value"] + cols["clv"] - filled(cols["acquisition_cost"])
        reason = composition.negative_value_reason(
            revenue=cols["revenue"], product_cost=cols["product_cost"], marketing_cost=cols["marketing_cost"],
            returns=cols["returns"], realized=cols["realized_value"], potential=cols["potential_value"],
            acquisition_cost=cols["acquisition_cost"],
        )
        cols["negative_value"] = reason.codes >= 0
        _add_category(cols, "negative_reason", reason, "negative")
        _add_value_segments(cols, config)
        progress.step("composition, negative value and value segments")
        at_risk, amount = composition.value_at_risk(
            valuable=np.isin(np.asarray(cols["value_matrix"].categories)[cols["value_matrix"].codes],
                             config.risk.valuable_tiers),
            p_alive=cols["p_alive"], p_alive_previous=cols["p_alive_previous"], clv=cols["clv"],
            min_drop=config.risk.min_drop,
        )
        cols["at_risk"] = at_risk
        cols["value_at_risk"] = amount

        stages = _add_lifecycle(cols, _frame(panel, "panel"), all_ids, extra, config, notes)
        progress.step("lifecycle stages")
        unscored = pd.DataFrame(cols, copy=False)
        scoring = pool.submit(score_all, unscored, config.scoring)
        equity = equity_table(unscored)
        pyramid = segments.pyramid_table(
            unscored["total_value"], unscored["pyramid"], realized=unscored["realized_value"],
            potential=unscored["potential_value"], influence=unscored["influence_value"], settings=config.segments,
        )
        concentration = segments.concentration(unscored["total_value"], config.segments)
        risk = risk_table(unscored)
        progress.step("equity, pyramid, concentration and risk tables")
        for name, scored in scoring.result().items():
            notes += scored.attrs.get("notes", [])
            cols[f"score_{name}"] = scored["score"].to_numpy()
            for suffix in ("", "_en", "_zh"):
                cols[f"score_tier_{name}{suffix}"] = scored[f"tier{suffix}"].array
    progress.step("scores (waited for)")
    return CustomerValue(
        table=pd.DataFrame(cols, copy=False),
        equity=equity,
        pyramid=pyramid,
        concentration=concentration,
        value_at_risk=risk,
        history_periods=_history_periods(end, config),
        forecast_periods=future.periods,
        margin_ratio=margin_ratio,
        config=config,
        notes=notes,
        lifecycle=stages,
    )


class _Progress:
    """Logs each finished step of a long computation with its time (``logging`` at INFO)."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def step(self, what: str) -> None:
        now = time.perf_counter()
        logger.info("customer value: %s in %.1f s (%.1f s so far)", what, now - self.last, now - self.start)
        self.last = now


PREVIOUS_COLUMNS = ("n_purchases_previous", "recency_days_previous", "tenure_days_previous")
"""Columns of :func:`cvm.data.summaries.value_history` with each customer's state one period earlier."""


def _floats(column: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for missing values (no copy when already so)."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return column.to_numpy(dtype=float, na_value=np.nan)


def _previous_from_history(hist: pd.DataFrame, unit: TimeUnit) -> pd.DataFrame:
    """The BTYD summary one period earlier, in ``unit``, from the history's ``*_previous`` columns."""
    n, recency, tenure = (_floats(hist[c]) for c in PREVIOUS_COLUMNS)
    bought = n > 0
    return pd.DataFrame({
        "frequency": np.where(bought, n - 1, np.nan),
        "recency": np.where(bought, recency / unit.days, np.nan),
        "T": np.where(bought, tenure / unit.days, np.nan),
    }, copy=False)


BLANK_WHEN_PROSPECT = frozenset({"p_alive", "p_alive_previous", "expected_spend"})


def _add_columns(cols: dict[str, Any], columns: dict[str, Any], extra: int) -> None:
    """Per-customer columns, padded for the prospects (0; blank for what has no meaning for them)."""
    for name, values in columns.items():
        if isinstance(values, pd.Categorical):
            cols[name] = pd.Categorical.from_codes(_pad(values.codes, extra, -1), categories=list(values.categories))
        else:
            fill = np.nan if name in BLANK_WHEN_PROSPECT else (1.0 if name == "credit_index" else 0.0)
            cols[name] = _pad(values, extra, fill)


def _period_starts(dates: np.ndarray, period: TimeUnit) -> np.ndarray:
    """First day of the calendar period of each date (NaT stays NaT), worked out once per
    distinct day (customers share a few thousand days)."""
    days = np.asarray(dates, dtype="datetime64[D]")
    if days.size > 100_000 and not np.isnat(days).all():
        distinct, index = _day_levels(days)
        starts = _period_starts(distinct, period)[np.maximum(index, 0)]
        starts[index < 0] = np.datetime64("NaT")
        return starts
    dates = days
    if period is TimeUnit.MONTH:
        return dates.astype("datetime64[M]").astype("datetime64[s]")
    if period is TimeUnit.YEAR:
        return dates.astype("datetime64[Y]").astype("datetime64[s]")
    months = dates.astype("datetime64[M]").astype(np.int64)
    quarter = np.where(np.isnat(dates), np.iinfo(np.int64).min, months - months % 3)
    return np.where(np.isnat(dates), np.datetime64("NaT"), quarter.astype("datetime64[M]")).astype("datetime64[s]")


def _history_periods(end: dt.date, config: ValueConfig) -> list[tuple[dt.date, dt.date]]:
    period = TimeUnit.parse(config.forecast.period)
    starts = [period.period_start(end)]
    for _ in range(config.forecast.periods - 1):
        starts.insert(0, period.period_start(starts[0] - dt.timedelta(days=1)))
    ends = [s - dt.timedelta(days=1) for s in starts[1:]] + [end]
    return list(zip(starts, ends, strict=True))


def _profile_columns(cols: dict[str, Any], profile: pd.DataFrame | None, position: np.ndarray | None,
                     prospects: np.ndarray, n_total: int, notes: list[str]) -> None:
    """Acquisition date and cost and the profile attributes, taken from the customers table."""
    if profile is None:
        cols["acquisition_cost"] = np.full(n_total, np.nan)
        cols["_acquisition_date"] = np.full(n_total, np.datetime64("NaT"), dtype="datetime64[s]")
        notes.append(Note("note.value.no_customers_table"))
        return
    rows = np.concatenate([position, prospects]) if prospects.size else position
    take = pa.array(np.where(rows >= 0, rows, 0))
    missing = rows < 0

    def column(name: str) -> Any:
        values = profile[name].array.take(np.where(missing, -1, rows), allow_fill=True)
        return values

    if "acquisition_cost" in profile.columns:
        cost = pd.to_numeric(profile["acquisition_cost"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        cols["acquisition_cost"] = np.where(missing, np.nan, cost[take.to_numpy()])
    else:
        cols["acquisition_cost"] = np.full(n_total, np.nan)
    if "acquisition_date" in profile.columns:
        acquired = _dates(profile["acquisition_date"])
        cols["_acquisition_date"] = np.where(missing, np.datetime64("NaT"), acquired[take.to_numpy()])
    else:
        cols["_acquisition_date"] = np.full(n_total, np.datetime64("NaT"), dtype="datetime64[s]")
    for name in PROFILE_COLUMNS:
        if name in profile.columns:
            cols[name] = column(name)
    unknown = int(np.isnan(cols["acquisition_cost"]).sum())
    if unknown:
        notes.append(Note("note.value.no_acquisition_cost", n=unknown))


def _add_category(cols: dict[str, Any], column: str, keys: pd.Categorical, prefix: str) -> None:
    """``keys`` and their English and Chinese labels (mapped per category, not per row)."""
    cols[column] = keys
    for lang in ("en", "zh"):
        names = [label(f"{prefix}.{key}", lang) for key in keys.categories]
        cols[f"{column}_{lang}"] = pd.Categorical.from_codes(keys.codes, categories=names)


def _add_lifecycle(cols: dict[str, Any], panel: pd.DataFrame | None, ids: pa.Array, extra: int,
                   config: ValueConfig, notes: list[str]) -> Lifecycle | None:
    """Each customer's lifecycle stage at the end, with its reason and labels (when a panel is
    given); returns the stages of every period."""
    if panel is None:
        notes.append(Note("note.value.no_panel"))
        return None
    n_buyers = len(ids) - extra
    buyer_ids = pd.Index(pd.arrays.ArrowStringArray(ids[:n_buyers].cast(pa.large_string())).astype(object))
    alive = pd.Series(cols["p_alive"][:n_buyers], index=buyer_ids)
    before = pd.Series(cols["p_alive_previous"][:n_buyers], index=alive.index)
    result = lifecycle_stages(panel, config.lifecycle, p_alive=alive, p_alive_previous=before,
                              min_drop=config.risk.min_drop)
    stages = result.current
    position = _inverse(_locate(ids, {"stages": pa.array(stages["customer_id"].astype(str))})["stages"], len(ids))
    found = position >= 0
    codes = np.where(found, stages["lifecycle_stage"].cat.codes.to_numpy()[np.maximum(position, 0)],
                     STAGES.index("prospect") if extra else -1)
    codes[:n_buyers] = np.where(found[:n_buyers], codes[:n_buyers], -1)
    keys = pd.Categorical.from_codes(codes.astype(np.int8), categories=list(STAGES))
    _add_category(cols, "lifecycle_stage", keys, "lifecycle")
    reasons = stages["lifecycle_reason"].to_numpy(dtype=object)
    cols["lifecycle_reason"] = pd.array(np.where(found, reasons[np.maximum(position, 0)],
                                                 np.where(np.arange(len(ids)) >= n_buyers, "no_purchase_yet", None)),
                                        dtype="string")
    missing = int((~found[:n_buyers]).sum())
    if missing:
        notes.append(Note("note.value.not_in_panel", n=missing))
    return result


def _add_value_segments(cols: dict[str, Any], config: ValueConfig) -> None:
    """Value matrix and pyramid (they need the forecast)."""
    settings = config.segments
    cols["value_matrix"] = segments.value_matrix(cols["realized_value"], cols["potential_value"], settings)
    cols["pyramid"] = segments.pyramid(cols["total_value"], settings)
    for column in ("value_matrix", "pyramid"):
        cols[f"{column}_en"], cols[f"{column}_zh"] = segments.labelled(cols[column], column, settings)


def _add_history_segments(cols: dict[str, Any], rfm: pd.DataFrame | None, position: np.ndarray | None,
                          config: ValueConfig, notes: list[str]) -> None:
    """Loyalty × profitability, loyalty level and RFM segment (from the history alone)."""
    settings = config.segments
    lifespan_days = config.clv.simple_lifespan_years * GREGORIAN_YEAR_DAYS
    cols["loyalty_profit"] = segments.loyalty_profitability(
        filled(cols["tenure_days"]) / lifespan_days, cols["gross_margin"], settings)
    cols["loyalty_level"] = segments.loyalty_level(
        cols["n_purchases"], cols["tenure_days"], cols["days_since_last_purchase"], settings)
    for column in ("loyalty_profit", "loyalty_level"):
        cols[f"{column}_en"], cols[f"{column}_zh"] = segments.labelled(cols[column], column, settings)
    if rfm is None:
        notes.append(Note("note.value.no_rfm"))
        return
    found = position >= 0
    for column in ("recency_score", "frequency_score", "monetary_score"):
        values = pd.to_numeric(rfm[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        cols[column] = np.where(found, values[np.maximum(position, 0)], np.nan)
    scored = found & (cols["n_purchases"] > 0)
    codes = np.full(len(position), -1, dtype=np.int8)
    categories = list(segments.rfm_segments([5], [5], [5], settings).categories)
    if scored.any():
        seg = segments.rfm_segments(*(cols[c][scored] for c in ("recency_score", "frequency_score",
                                                                "monetary_score")), settings)
        codes[scored] = seg.codes
        categories = list(seg.categories)
    cols["rfm_segment"] = pd.Categorical.from_codes(codes, categories=categories)
    cols["rfm_segment_en"], cols["rfm_segment_zh"] = segments.labelled(cols["rfm_segment"], "rfm", settings)


def _day_levels(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct days of ``dates`` (sorted) and each row's index into them (-1 for NaT).

    Customers share a few thousand days, so this counts rather than sorts; some date must be set.
    """
    days = np.asarray(dates).astype("datetime64[D]")
    missing = np.isnat(days)
    number = days.view(np.int64)
    distinct, index = levels(np.where(missing, number[~missing].min(), number).astype(float))
    return distinct.astype(np.int64).astype("datetime64[D]"), np.where(missing, -1, index)


def _group_codes(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer group codes (-1 for missing) and the group names, without sorting every row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), list(column.cat.categories)
    values = column.to_numpy()
    if values.dtype.kind == "M" and not np.isnat(values).all():  # dates (cohorts): counted, not sorted
        distinct, codes = _day_levels(values)
        return codes, list(distinct)
    codes, uniques = pd.factorize(column, sort=True, use_na_sentinel=True)
    return codes, list(uniques)


def _group_name(value: Any) -> str:
    if isinstance(value, pd.Timestamp | np.datetime64 | dt.date):
        return pd.Timestamp(value).date().isoformat()
    return str(value)


def equity_table(table: pd.DataFrame, *, combine: bool | None = None) -> pd.DataFrame:
    """Customer equity (sum of CLV) for the base and per value tier, pyramid tier, cohort and channel.

    One row per group: ``grouping`` (``base``, ``value_matrix``, ``pyramid``, ``cohort``,
    ``acquisition_channel``), ``group`` (blank for customers without one), customers,
    realized value, customer equity (sum of CLV), lifetime value net of acquisition cost,
    acquisition cost, and CLV / acquisition cost: realized + future margin over acquisition
    cost, both over the customers whose acquisition cost is known.

    ``combine`` (default: when the combinations are not more than the customers) sums once
    per combination of the groupings and then per grouping, instead of once per grouping.
    """
    cost = table["acquisition_cost"].to_numpy(dtype=float)
    known = ~np.isnan(cost)
    measures = {
        "realized_value": table["realized_value"].to_numpy(dtype=float),
        "customer_equity": table["clv"].to_numpy(dtype=float),
        "clv_net": table["clv_net"].to_numpy(dtype=float),
        "acquisition_cost": np.where(known, cost, 0.0),
        "_value_with_cost": np.where(known, table["realized_value"].to_numpy(dtype=float)
                                     + table["clv"].to_numpy(dtype=float), 0.0),
        "_known": known.astype(float),
    }
    groupings = [("base", np.zeros(len(table), dtype=np.intp), ["all"])]
    for grouping in ("value_matrix", "pyramid", "lifecycle_stage", "cohort", "acquisition_channel"):
        if grouping in table.columns:
            codes, names = _group_codes(table[grouping])
            groupings.append((grouping, np.asarray(codes, dtype=np.intp), names))
    # one pass over the customers: sums per combination of the groupings, then per grouping
    sizes = [len(names) + 1 for _, _, names in groupings]  # the last slot: customers without a group
    combos = int(np.prod(sizes, dtype=np.float64))
    if combine is None:
        combine = combos <= max(len(table), 1 << 16)
    if combine:
        combined = np.zeros(len(table), dtype=np.intp)
        for (_, codes, names), size in zip(groupings, sizes, strict=True):
            combined *= size
            combined += np.where(codes >= 0, codes, len(names))
        slot_counts = np.bincount(combined, minlength=combos)
        slot_sums = {name: np.bincount(combined, weights=values, minlength=combos) for name, values in measures.items()}
        slots = np.arange(combos)
    frames = []
    stride = combos
    for (grouping, codes, names), size in zip(groupings, sizes, strict=True):
        stride //= size
        if combine:
            index = (slots // stride) % size
            part = {"customers": np.bincount(index, weights=slot_counts, minlength=size).astype(np.int64)}
            part |= {name: np.bincount(index, weights=sums, minlength=size) for name, sums in slot_sums.items()}
        else:
            index = np.where(codes >= 0, codes, len(names))
            part = {"customers": np.bincount(index, minlength=size)}
            part |= {name: np.bincount(index, weights=values, minlength=size) for name, values in measures.items()}
        frame = pd.DataFrame(part)
        frame.insert(0, "group", pd.array([_group_name(n) for n in names] + [None], dtype="string"))
        frame = frame[(frame["customers"] > 0) | (np.arange(size) < len(names))].copy()
        frame.loc[frame["_known"] == 0, "acquisition_cost"] = np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["clv_to_cac"] = np.where(frame["acquisition_cost"] > 0,
                                           frame["_value_with_cost"] / frame["acquisition_cost"], np.nan)
        frame = frame.drop(columns=["_value_with_cost", "_known"])
        frame.insert(0, "grouping", grouping)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def risk_table(table: pd.DataFrame) -> pd.DataFrame:
    """Customers at risk and value at risk per value-matrix cell, with a total row."""
    grouped = table.groupby("value_matrix", observed=False, sort=True)
    out = pd.DataFrame({
        "customers": grouped.size(),
        "at_risk": grouped["at_risk"].sum().astype("int64"),
        "value_at_risk": grouped["value_at_risk"].sum(),
    }).reset_index(names="value_matrix")
    total = pd.DataFrame({"value_matrix": ["total"], "customers": [len(table)],
                          "at_risk": [int(table["at_risk"].sum())], "value_at_risk": [float(table["value_at_risk"].sum())]})
    out["value_matrix"] = out["value_matrix"].astype("string")
    return pd.concat([out, total], ignore_index=True)


def example_inputs() -> dict[str, Any]:
    """A tiny, hand-made set of inputs (six customers, one prospect) for examples and tests."""
    from cvm.models.bgnbd import BetaGeoModel
    from cvm.models.gamma_gamma import GammaGammaModel

    end = dt.date(2024, 6, 30)
    ids = ["c1", "c2", "c3", "c4", "c5"]
    first = [dt.date(2023, 1, 10), dt.date(2023, 6, 1), dt.date(2024, 2, 3), dt.date(2024, 6, 20), dt.date(2022, 3, 5)]
    last = [dt.date(2024, 6, 1), dt.date(2023, 9, 9), dt.date(2024, 5, 30), dt.date(2024, 6, 20), dt.date(2024, 4, 2)]
    n = [12, 3, 4, 1, 30]
    revenue = [1200.0, 150.0, 380.0, 40.0, 5400.0]
    history = pd.DataFrame({
        "customer_id": ids, "first_purchase": first, "last_purchase": last, "n_purchases": n,
        "tenure_days": [(end - d).days for d in first], "days_since_last_purchase": [(end - d).days for d in last],
        "revenue": revenue, "returns": [0.0, 60.0, 0.0, 0.0, 100.0], "gross_sales": [1200.0, 210.0, 380.0, 40.0, 5500.0],
        "product_cost": [700.0, 160.0, 200.0, 25.0, 3000.0], "marketing_cost": [50.0, 20.0, 10.0, 0.0, 200.0],
        "gross_margin": [450.0, -30.0, 170.0, 15.0, 2200.0],
    })
    month = [[100.0, 120.0, 90.0], [0.0, 0.0, 0.0], [95.0, 0.0, 190.0], [0.0, 0.0, 40.0], [600.0, 0.0, 0.0]]
    for k in range(3):
        rev = np.array([m[k] for m in month])
        history[f"revenue_hist_{k + 1}"] = rev
        history[f"product_cost_hist_{k + 1}"] = rev * 0.55
        history[f"marketing_cost_hist_{k + 1}"] = 0.0
        history[f"gross_margin_hist_{k + 1}"] = rev * 0.45
        history[f"orders_hist_{k + 1}"] = (rev > 0).astype(int)
    weeks = lambda days: days / 7.0  # noqa: E731
    summary = pd.DataFrame({
        "customer_id": ids, "frequency": [k - 1 for k in n],
        "recency": [weeks((b - a).days) for a, b in zip(first, last, strict=True)],
        "T": [weeks((end - a).days) for a in first],
        "monetary_value": [100.0, 65.0, 110.0, 0.0, 180.0],
    })
    customers = pd.DataFrame({
        "customer_id": ids + ["p1"], "acquisition_channel": ["search", "referral", "search", "store", "store", "search"],
        "acquisition_cost": [30.0, 10.0, 30.0, None, 50.0, 30.0], "gender": ["F", "M", "F", None, "M", "F"],
    })
    referrals = pd.DataFrame({"referrer_id": ["c1", "c2"], "referred_id": ["c2", "c3"]})
    # a month earlier c5 had bought more recently: their P(alive) has fallen since
    previous = summary[["customer_id"]].iloc[[0, 1, 2, 4]].copy()
    previous["T"] = summary["T"].iloc[[0, 1, 2, 4]].to_numpy() - 30 / 7.0
    previous["recency"] = [64.0, 14.285714, 12.0, 108.428571]
    previous["frequency"] = [10.0, 2.0, 2.0, 29.0]
    return {
        "history": history, "summary": summary, "customers": customers, "referrals": referrals,
        "previous_summary": previous,
        "model": BetaGeoModel.from_params(BetaGeoModel.example_params),
        "spend_model": GammaGammaModel.from_params(GammaGammaModel.example_params),
        "observation_end": end, "unit": "week",
    }
