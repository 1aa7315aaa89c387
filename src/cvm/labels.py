"""Every term a user sees, in English and Simplified Chinese, defined once.

Front ends (CLI, report, API, web) look labels up here, so a term reads the same
everywhere. Later layers add their terms (tiers, lifecycle stages …) to ``TERMS``.

>>> label("rule.unparseable_date", "zh")
'日期无法解析'
>>> label("severity.error")
'error'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["en", "zh"]


@dataclass(frozen=True)
class Term:
    en: str
    zh: str

    def __getitem__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


TERMS: dict[str, Term] = {
    # severities
    "severity.error": Term("error", "错误"),
    "severity.warning": Term("warning", "警告"),
    "severity.info": Term("info", "提示"),
    # validation rules
    "rule.missing_column": Term("mapped column is missing", "映射的列不存在"),
    "rule.unmapped_required_column": Term("required column not found", "缺少必需的列"),
    "rule.missing_id": Term("missing or blank id", "编号缺失或为空"),
    "rule.unparseable_date": Term("date cannot be parsed", "日期无法解析"),
    "rule.ambiguous_date": Term("day/month order is ambiguous", "日月顺序不明确"),
    "rule.future_date": Term("date is in the future", "日期晚于当前日期"),
    "rule.invalid_number": Term("value is not a number", "数值无法解析"),
    "rule.non_finite_number": Term("value is NaN or infinite", "数值为 NaN 或无穷大"),
    "rule.negative_amount": Term("negative amount (return or refund)", "负金额（退货或退款）"),
    "rule.refunded_order": Term("order fully refunded", "订单已全额退款"),
    "rule.unmatched_return": Term("return without a matching purchase", "退货找不到对应的购买"),
    "rule.duplicate_row": Term("exact duplicate row", "完全重复的行"),
    "rule.repeated_order_id": Term("order id used by several customers", "订单编号被多个客户使用"),
    "rule.order_id_several_dates": Term("order id on several dates", "订单编号出现在多个日期"),
    "rule.mixed_currencies": Term("more than one currency", "存在多种币种"),
    "rule.invalid_flag": Term("value is not yes/no", "不是有效的是/否值"),
    "rule.out_of_range": Term("value out of range", "数值超出范围"),
    "rule.self_referral": Term("customer referred themselves", "客户推荐了自己"),
    "rule.duplicate_id": Term("id appears more than once", "编号重复出现"),
    "rule.missing_value": Term("required value is blank", "必填值为空"),
    "rule.unmapped_column": Term("column not used", "未使用的列"),
    # summaries
    "summary.btyd": Term("BTYD summary", "BTYD 汇总"),
    "summary.holdout": Term("calibration / holdout split", "校准期 / 验证期划分"),
    "summary.panel": Term("period panel", "分期面板"),
    "summary.rfm": Term("RFM scores", "RFM 评分"),
    "summary.cohort": Term("cohort table", "客户群组表"),
    # models
    "model.name": Term("model", "模型"),
    "model.measure": Term("measure", "指标"),
    "model.parameter": Term("parameter", "参数"),
    "model.estimate": Term("estimate", "估计值"),
    "model.standard_error": Term("std. error", "标准误"),
    "model.interval": Term("95% interval", "95% 置信区间"),
    "model.boundary": Term("on a boundary", "位于边界"),
    "model.log_likelihood": Term("log-likelihood", "对数似然"),
    "model.converged": Term("converged", "已收敛"),
    "model.not_converged": Term("NOT converged", "未收敛"),
    "model.comparison": Term("Models on the holdout period", "验证期模型比较"),
    "model.holdout_mae": Term("holdout MAE", "验证期 MAE"),
    "model.holdout_rmse": Term("holdout RMSE", "验证期 RMSE"),
    "model.holdout_total_error": Term("total error", "总量误差"),
    "model.holdout_revenue_rmse": Term("holdout revenue RMSE", "验证期收入 RMSE"),
    "column.frequency": Term("repeat purchases", "重复购买次数"),
    "column.recency": Term("recency", "最近购买时间"),
    "column.T": Term("customer age", "客户存续时长"),
    "column.monetary_value": Term("mean repeat spend", "平均重复消费额"),
    "column.customers": Term("customers", "客户数"),
    # time units
    "unit.day": Term("day", "日"),
    "unit.week": Term("week", "周"),
    "unit.month": Term("month", "月"),
    "unit.quarter": Term("quarter", "季度"),
    "unit.year": Term("year", "年"),
}


def label(key: str, lang: Language | str = "en") -> str:
    """The label of ``key`` in ``lang`` (``en`` or ``zh``); the key itself when unknown."""
    term = TERMS.get(key)
    if term is None:
        return key
    return term[lang]
