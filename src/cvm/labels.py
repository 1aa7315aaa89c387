"""Every term a user sees, in English and Simplified Chinese, defined once.

Front ends (CLI, report, API, web) look labels up here, so a term reads the same
everywhere. Later layers add their terms (tiers, lifecycle stages …) to ``TERMS``.

>>> label("rule.unparseable_date", "zh")
'日期无法解析'
>>> label("severity.error")
'error'

Notes on an analysis (an assumption made, a fallback taken) are :class:`Note` objects: each
reads as its English sentence and renders in Chinese from the same key and values.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Literal

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
    # value matrix: current value x potential value (cvm.value.segments)
    "value_matrix.strategic": Term("strategic", "战略客户"),
    "value_matrix.profit": Term("profit", "利润客户"),
    "value_matrix.potential": Term("potential", "潜力客户"),
    "value_matrix.ordinary": Term("ordinary", "普通客户"),
    # customer pyramid (default tiers; a configuration may name its own)
    "pyramid.vip": Term("VIP", "VIP 客户"),
    "pyramid.key": Term("key", "关键客户"),
    "pyramid.major": Term("major", "主要客户"),
    "pyramid.ordinary": Term("ordinary", "普通客户"),
    # RFM segments
    "rfm.champions": Term("Champions", "冠军客户"),
    "rfm.loyal": Term("Loyal", "忠诚客户"),
    "rfm.potential_loyalist": Term("Potential Loyalist", "潜在忠诚客户"),
    "rfm.new": Term("New", "新客户"),
    "rfm.promising": Term("Promising", "有潜力客户"),
    "rfm.need_attention": Term("Need Attention", "需要关注"),
    "rfm.about_to_sleep": Term("About to Sleep", "即将沉睡"),
    "rfm.at_risk": Term("At Risk", "有流失风险"),
    "rfm.cant_lose_them": Term("Can't Lose Them", "不能失去的客户"),
    "rfm.hibernating": Term("Hibernating", "休眠客户"),
    "rfm.lost": Term("Lost", "已流失"),
    # loyalty x profitability (Reinartz & Kumar)
    "loyalty_profit.true_friend": Term("true friend", "真朋友"),
    "loyalty_profit.butterfly": Term("butterfly", "蝴蝶"),
    "loyalty_profit.barnacle": Term("barnacle", "藤壶"),
    "loyalty_profit.stranger": Term("stranger", "陌生人"),
    # loyalty level
    "loyalty_level.potential": Term("potential customer", "潜在客户"),
    "loyalty_level.new": Term("new customer", "新客户"),
    "loyalty_level.regular": Term("regular customer", "一般客户"),
    "loyalty_level.old": Term("old customer", "老客户"),
    "loyalty_level.loyal": Term("loyal customer", "忠诚客户"),
    # why a customer's value is negative
    "negative.returns": Term("returns", "退货"),
    "negative.discounts": Term("sold below cost", "低于成本销售"),
    "negative.cost_to_serve": Term("cost to serve", "服务成本过高"),
    "negative.acquisition_cost": Term("acquisition cost not recovered", "获客成本未收回"),
    # where a cost figure came from
    "cost_source.recorded": Term("recorded", "实际记录"),
    "cost_source.estimated": Term("estimated from the margin rate", "按毛利率估算"),
    # customer value table and summaries
    "value.revenue": Term("revenue", "收入"),
    "value.product_cost": Term("product cost", "商品成本"),
    "value.marketing_cost": Term("marketing cost", "营销成本"),
    "value.gross_margin": Term("CRM gross margin", "CRM 毛利"),
    "value.expected_purchases": Term("expected purchases", "预期购买次数"),
    "value.expected_revenue": Term("expected revenue", "预期收入"),
    "value.expected_margin": Term("expected margin", "预期毛利"),
    "value.clv": Term("customer lifetime value", "客户终身价值"),
    "value.simple_clv": Term("simple CLV", "简易 CLV"),
    "value.acquisition_cost": Term("acquisition cost", "获客成本"),
    "value.customer_equity": Term("customer equity", "客户资产"),
    "value.clv_to_cac": Term("CLV / acquisition cost", "CLV / 获客成本"),
    "value.realized": Term("realized value", "已实现价值"),
    "value.potential": Term("potential value", "潜在价值"),
    "value.influence": Term("influence value", "影响价值"),
    "value.at_risk": Term("value at risk", "风险价值"),
    "value.probability_alive": Term("probability alive", "存活概率"),
    "value.negative": Term("negative value", "负价值"),
    "value.score": Term("score", "得分"),
    "value.tier": Term("tier", "层级"),
    "value.share": Term("share", "占比"),
    "value.average": Term("average", "平均值"),
    "value.gini": Term("Gini coefficient", "基尼系数"),
    # segmentation names
    "segmentation.value_matrix": Term("value matrix", "价值矩阵"),
    "segmentation.pyramid": Term("customer pyramid", "客户金字塔"),
    "segmentation.rfm": Term("RFM segment", "RFM 分群"),
    "segmentation.loyalty_profit": Term("loyalty × profitability", "忠诚度 × 盈利性"),
    "segmentation.loyalty_level": Term("loyalty level", "忠诚度等级"),
    "segmentation.missing": Term("(missing)", "（缺失）"),
    # scoring models (cvm.value.scoring): the default model, its indicators and tiers
    "scoring.five_factor": Term("five-factor model", "五因素模型"),
    "scoring.current_contribution": Term("current contribution", "当前贡献"),
    "scoring.future_contribution": Term("future contribution", "未来贡献"),
    "scoring.loyalty": Term("loyalty", "忠诚度"),
    "scoring.credit": Term("credit", "信用"),
    "scoring.growth_potential": Term("growth potential", "增长潜力"),
    "scoring.minmax": Term("min-max scaling", "最小-最大归一化"),
    "scoring.zscore": Term("z-score", "Z 分数"),
    "scoring.percentile": Term("percentile rank", "百分位排名"),
    "scoring.higher_is_better": Term("higher is better", "越高越好"),
    "scoring.lower_is_better": Term("lower is better", "越低越好"),
    "scoring.out_of_scope": Term("out of scope", "不在评分范围内"),
    "scoring_tier.A": Term("A", "A 级"),
    "scoring_tier.B": Term("B", "B 级"),
    "scoring_tier.C": Term("C", "C 级"),
    "scoring_tier.D": Term("D", "D 级"),
    # lifecycle stages (cvm.value.lifecycle)
    "lifecycle.prospect": Term("prospect", "潜在期"),
    "lifecycle.exploration": Term("exploration", "考察期"),
    "lifecycle.formation": Term("formation", "形成期"),
    "lifecycle.stable": Term("stable", "稳定期"),
    "lifecycle.decline": Term("decline", "衰退期"),
    "lifecycle.churned": Term("churned", "终止期"),
    "lifecycle.recovered": Term("recovered", "恢复期"),
    "segmentation.lifecycle": Term("lifecycle stage", "生命周期阶段"),
    # decline early-warning signs (cvm.value.lifecycle.early_warning)
    "warning.overdue": Term("overdue: no purchase for longer than usual", "超期未购：间隔超过平常"),
    "warning.volume_falling": Term("spending falling", "消费下降"),
    "warning.p_alive_falling": Term("probability alive falling", "存活概率下降"),
    "warning.complaints_rising": Term("complaints rising", "投诉增加"),
    # perceived value against competitors (cvm.value.perceived)
    "perceived.kind.quality": Term("quality attribute", "质量属性"),
    "perceived.kind.price": Term("price attribute", "价格属性"),
    "perceived.market": Term("the average competitor", "竞争对手平均水平"),
    "perceived.relative_quality": Term("relative perceived quality", "相对感知质量"),
    "perceived.relative_price": Term("relative perceived price", "相对感知价格"),
    "perceived.value_index": Term("customer value index", "客户价值指数"),
    "perceived.value_map": Term("customer value map", "客户价值图"),
    "perceived.lead": Term("we lead", "我方领先"),
    "perceived.trail": Term("we trail", "我方落后"),
    "perceived.better_value": Term("better value", "价值更优"),
    "perceived.worse_value": Term("worse value", "价值较差"),
    "perceived.fair_value": Term("fair value", "公平价值"),
    "perceived.no_price": Term("no price data", "无价格数据"),
    "perceived.explain.better_value": Term(
        "Against {competitor}, customers rate our quality {quality} and our price {price} ({parity} = parity), "
        "so we offer better value: our price sits {gap} below the price of {fair} our quality would justify.",
        "与{competitor}相比，客户对我们的感知质量为 {quality}、感知价格为 {price}（{parity} 为持平），"
        "我们提供更优的价值：价格比我们的质量所对应的公平价格 {fair} 低 {gap}。"),
    "perceived.explain.worse_value": Term(
        "Against {competitor}, customers rate our quality {quality} and our price {price} ({parity} = parity), "
        "so we offer worse value: our price sits {gap} above the price of {fair} our quality would justify.",
        "与{competitor}相比，客户对我们的感知质量为 {quality}、感知价格为 {price}（{parity} 为持平），"
        "我们提供的价值较差：价格比我们的质量所对应的公平价格 {fair} 高 {gap}。"),
    "perceived.explain.fair_value": Term(
        "Against {competitor}, customers rate our quality {quality} and our price {price} ({parity} = parity), "
        "so we sit on the fair-value line: our price is within {gap} of the price of {fair} our quality would justify.",
        "与{competitor}相比，客户对我们的感知质量为 {quality}、感知价格为 {price}（{parity} 为持平），"
        "我们位于公平价值线上：价格与我们的质量所对应的公平价格 {fair} 相差不超过 {gap}。"),
    "perceived.explain.no_price": Term(
        "Against {competitor}, customers rate our quality {quality} ({parity} = parity); the survey has no "
        "price attribute, so our value position is unknown.",
        "与{competitor}相比，客户对我们的感知质量为 {quality}（{parity} 为持平）；调查中没有价格属性，"
        "无法判断我们的价值位置。"),
    # cvm analyze: the terminal summary
    "analyze.summary": Term("Customer value analysis", "客户价值分析"),
    "analyze.measure": Term("measure", "指标"),
    "analyze.value": Term("value", "数值"),
    "analyze.customer_equity": Term("customer equity (sum of CLV)", "客户资产（CLV 合计）"),
    "analyze.top20_share": Term("value share of the top 20 % of customers", "前 20% 客户的价值占比"),
    "analyze.model": Term("purchase model chosen", "选用的购买模型"),
    "analyze.wrote": Term("wrote {n} files to {folder}/; the report is {report}",
                          "已将 {n} 个文件写入 {folder}/；报告为 {report}"),
    # the command line's own words around reports and errors
    "cli.error": Term("error: ", "错误："),
    "cli.what_to_do": Term("what to do: ", "处理办法："),
    "cli.internal_error": Term("internal error: ", "内部错误："),
    "cli.report_bug": Term("run again with --debug for the traceback, and report it as a bug",
                           "请加 --debug 重新运行以查看调用栈，并将此问题作为缺陷报告"),
    "cli.interrupted": Term("interrupted", "已中断"),
    "cli.report_written": Term("report written to {path}", "报告已写入 {path}"),
    "cli.quarantine_written": Term("quarantined rows written to {path}", "隔离的行已写入 {path}"),
    "cli.rows_in_file": Term("{file}: {n:,} rows", "{file}：{n:,} 行"),
    "cli.no_problems": Term("{title}, no problems found", "{title}，未发现问题"),
    "cli.issue.severity": Term("severity", "严重程度"),
    "cli.issue.rule": Term("rule", "规则"),
    "cli.issue.column": Term("column", "列"),
    "cli.issue.rows": Term("rows", "行数"),
    "cli.issue.first_rows": Term("first rows", "首批行号"),
    "cli.example": Term("e.g.", "例如"),
    "cli.counts": Term("{errors} error rule(s), {warnings} warning rule(s); {valid:,} valid rows, {rejected:,} rejected",
                       "{errors} 条错误规则，{warnings} 条警告规则；有效 {valid:,} 行，拒收 {rejected:,} 行"),
    "cli.warning_rules": Term("{n} warning rule(s)", "{n} 条警告规则"),
    "cli.see": Term("{what}: see {path}", "{what}：详见 {path}"),
    "cli.wrote": Term("wrote {what}", "已写入 {what}"),
    "cli.wrote_files": Term("wrote {n} files to {folder}/", "已将 {n} 个文件写入 {folder}/"),
    "cli.no_rows": Term("{title}: no rows", "{title}：没有数据行"),
    "cli.mapping.title": Term("column mapping (confirm, or override with --column / --mapping)",
                              "列映射（请确认，或用 --column / --mapping 修改）"),
    "cli.mapping.cvm_column": Term("CVM column", "CVM 列"),
    "cli.mapping.your_header": Term("your header", "您的表头"),
    "cli.mapping.found_by": Term("found by", "识别方式"),
    "cli.demo.title": Term("CDNOW 1/10 sample: calibration to 1997-09-30, holdout to 1998-06-30 (weeks)",
                           "CDNOW 1/10 样本：校准期至 1997-09-30，验证期至 1998-06-30（按周）"),
    "cli.demo.calibration_repeats": Term("repeat purchases in calibration", "校准期重复购买次数"),
    "cli.demo.no_repeat": Term("customers with no repeat purchase", "无重复购买的客户"),
    "cli.demo.holdout_repeats": Term("repeat purchases in holdout", "验证期重复购买次数"),
    "cli.demo.holdout_revenue": Term("holdout revenue (US$)", "验证期收入（美元）"),
    "cli.datasets.title": Term("CVM sample datasets", "CVM 示例数据集"),
    "cli.datasets.name": Term("name", "名称"),
    "cli.datasets.title_column": Term("title", "说明"),
    "cli.datasets.tables": Term("tables", "数据表"),
    "cli.datasets.customers": Term("customers", "客户数"),
    "cli.datasets.rows": Term("rows", "行数"),
    "cli.datasets.default_size": Term(" (default size)", "（默认规模）"),
    # errors met most often, in both languages (cvm.errors.CVMError takes a Note as message and hint)
    "error.file_not_found": Term("{name}: file not found ({path})", "{name}：文件不存在（{path}）"),
    "error.is_folder": Term("{name}: is a folder, not a file ({path})", "{name}：是文件夹，不是文件（{path}）"),
    "error.unknown_file_type": Term("{name}: unknown file type {suffix}", "{name}：未知的文件类型 {suffix}"),
    "error.no_extension": Term("(no extension)", "（无扩展名）"),
    "error.output_exists": Term("{path} already exists and is not empty", "{path} 已存在且不为空"),
    "error.validation_failed": Term(
        "{name}: {n_errors} validation rules broken by {n_rejected} of {n_rows} rows: {summary}",
        "{name}：{n_rows} 行中有 {n_rejected} 行违反了 {n_errors} 条校验规则：{summary}"),
    "error.no_transactions": Term("{name}: the file has no transactions", "{name}：文件中没有交易记录"),
    "error.column_not_found": Term(
        "{source}: cannot find the {what} column ({col}, {alias}) of {table}; required columns not found: "
        "{missing}. Columns found: {headers}",
        "{source}：在 {table} 中找不到{what}列（列名 {col} 或 {alias}）；缺少的必需列：{missing}。已有的列：{headers}"),
    "error.mapped_column_missing": Term(
        "{source}: the mapping reads {col} from column {header!r}, but there is no such column. "
        "Columns found: {headers}",
        "{source}：映射从列 {header!r} 读取 {col}，但文件中没有这一列。已有的列：{headers}"),
    "error.holdout_after_end": Term("--holdout {date} must be before the end of the data ({end})",
                                    "--holdout {date} 必须早于数据的结束日期（{end}）"),
    "error.holdout_before_first": Term("--holdout {date} is before the first purchase ({first})",
                                       "--holdout {date} 早于首次购买日期（{first}）"),
    "error.end_before_first": Term("--end {date} is before the first purchase ({first})",
                                   "--end {date} 早于首次购买日期（{first}）"),
    "error.not_a_date": Term("{option} {value!r} is not a date", "{option} {value!r} 不是日期"),
    "hint.date_format": Term("write it as YYYY-MM-DD", "请写成 YYYY-MM-DD"),
    "error.no_calibration_buyers": Term("no customer bought on or before the calibration end {date}",
                                        "校准期末 {date} 及之前没有任何客户购买"),
    "hint.say_which_column": Term(
        "say which column it is with --column {col}={example} or in a mapping file ({table}: {{{col}: {example}}})",
        "请用 --column {col}={example} 或在映射文件中（{table}: {{{col}: {example}}}）指明是哪一列"),
    "hint.fix_mapping": Term("{did_you_mean}fix the mapping, for example --column {col}={example}",
                             "{did_you_mean}请修正映射，例如 --column {col}={example}"),
    "hint.did_you_mean": Term("did you mean {header!r}? ", "您是否指的是 {header!r}？"),
    "hint.holdout_after_end": Term("the holdout is the time after this date; pass an earlier date or --holdout none",
                                   "验证期是该日期之后的时间：请指定更早的日期，或用 --holdout none"),
    "hint.holdout_before_first": Term("pass a later date, or --holdout auto", "请指定更晚的日期，或用 --holdout auto"),
    "hint.end_before_first": Term("pass a later date, or leave --end out to use the last transaction date",
                                  "请指定更晚的日期，或省略 --end 以使用最后一笔交易的日期"),
    "hint.no_calibration_buyers": Term("pass a later --holdout date, or --holdout none",
                                       "请指定更晚的 --holdout 日期，或用 --holdout none"),
    "hint.check_path": Term("check the path and the file name", "请检查路径和文件名"),
    "hint.file_types": Term("use a .csv, .xlsx, .parquet or .duckdb file", "请使用 .csv、.xlsx、.parquet 或 .duckdb 文件"),
    "hint.output_exists": Term("choose another folder with -o, or pass --overwrite to replace it",
                               "请用 -o 指定其他文件夹，或加 --overwrite 覆盖它"),
    "hint.validation_failed": Term(
        "fix the file, or use the quarantine policy to load the valid rows and set the bad ones aside",
        "请修正文件，或使用 quarantine 策略：载入有效的行，把有问题的行隔离出来"),
    "hint.check_mapping": Term("check the file and its column mapping", "请检查文件及其列映射"),
    # progress steps of cvm analyze (shown while it runs; run.json times them by their English name)
    "step.reading": Term("reading and validating the {table}", "读取并校验{table}"),
    "step.table.transactions": Term("transactions", "交易记录"),
    "step.table.customers": Term("customers", "客户表"),
    "step.table.marketing_costs": Term("marketing costs", "营销成本"),
    "step.table.referrals": Term("referrals", "推荐记录"),
    "step.table.surveys": Term("surveys", "满意度调查"),
    "step.observation_period": Term("finding the observation period", "确定观察期"),
    "step.summaries": Term("building the customer summaries", "生成客户汇总"),
    "step.fitting": Term("fitting the purchase and spend models", "拟合购买模型与消费金额模型"),
    "step.fit_candidates": Term("fitting {models} on the calibration period", "在校准期上拟合 {models}"),
    "step.fit_model": Term("fitting {model}", "拟合 {model}"),
    "step.fit_spend": Term("fitting the Gamma-Gamma spend model", "拟合 Gamma-Gamma 消费金额模型"),
    "step.value": Term("computing customer value", "计算客户价值"),
    "step.lifecycle": Term("computing lifecycle stages and warnings", "计算生命周期阶段与衰退预警"),
    "step.health": Term("measuring loyalty and satisfaction", "衡量忠诚度与满意度"),
    "step.cross_sell": Term("finding cross-sell suggestions", "寻找交叉销售建议"),
    "step.playbook": Term("assigning playbook actions", "分配策略行动"),
    "step.diagnostics": Term("model diagnostics", "模型诊断"),
    "step.write_tables": Term("writing customers.parquet, .csv, .xlsx and report.html",
                              "写入 customers.parquet、.csv、.xlsx 和 report.html"),
    "step.write_model": Term("writing model.json and run.json", "写入 model.json 和 run.json"),
    "analyze.holdout_rmse": Term("holdout error (RMSE of purchases per customer)", "验证期误差（每客户购买次数 RMSE）"),
    # cross-sell suggestions (cvm.value.crosssell)
    "cross_sell.title": Term("cross-sell suggestions", "交叉销售推荐"),
    "cross_sell.rules": Term("co-purchase rules", "关联购买规则"),
    "cross_sell.popular": Term("most popular items (baseline)", "最热销商品（基线）"),
    "cross_sell.item": Term("suggested item", "推荐商品"),
    "cross_sell.antecedent": Term("because they bought", "推荐依据（已购）"),
    "cross_sell.support": Term("support", "支持度"),
    "cross_sell.confidence": Term("confidence", "置信度"),
    "cross_sell.lift": Term("lift", "提升度"),
    "cross_sell.hit_rate": Term("hit rate", "命中率"),
    "cross_sell.precision": Term("precision", "准确率"),
    "cross_sell.reason": Term(
        "bought {antecedent}: {confidence} of its buyers also bought {item} ({lift}× the average)",
        "已购 {antecedent}：其买家中 {confidence} 也购买了 {item}（为平均水平的 {lift} 倍）"),
    "cross_sell.reason_popular": Term("popular: {share} of customers bought {item}",
                                      "热销商品：{share} 的客户购买过 {item}"),
    "cross_sell.evaluation": Term(
        "Of {customers} customers who bought something new in the holdout, {rules} bought one of "
        "their {top} suggestions, against {popular} with the most popular items.",
        "在验证期内购买了新商品的 {customers} 位客户中，{rules} 购买了为其推荐的 {top} 项商品之一；"
        "推荐最热销商品时为 {popular}。"),
    # strategy playbook (cvm.value.playbook): default actions, relationship levels, styles
    "playbook.action.let_go": Term("let go", "放弃维系"),
    "playbook.action.reduce_cost_to_serve": Term("reduce cost to serve", "降低服务成本"),
    "playbook.action.nurture": Term("nurture prospects", "培育潜在客户"),
    "playbook.action.acquire_persuade": Term("acquire and persuade", "获取与说服"),
    "playbook.action.cross_up_sell": Term("cross-sell and up-sell", "交叉销售与向上销售"),
    "playbook.action.loyalty_programme": Term("loyalty programme", "忠诚计划"),
    "playbook.action.satisfaction": Term("keep satisfied", "提升满意度"),
    "playbook.action.win_back": Term("win back", "挽回客户"),
    "playbook.action.consolidate_return": Term("consolidate the return", "巩固回归"),
    "playbook.action.maintain": Term("maintain at low cost", "低成本维系"),
    "playbook.relationship.basic": Term("basic", "基本型"),
    "playbook.relationship.passive": Term("passive", "被动型"),
    "playbook.relationship.responsible": Term("responsible", "负责型"),
    "playbook.relationship.proactive": Term("proactive", "能动型"),
    "playbook.relationship.partner": Term("partner", "伙伴型"),
    "playbook.style.care": Term("care", "关怀型"),
    "playbook.style.adapt": Term("adapt", "适应型"),
    "playbook.style.indifferent": Term("indifferent", "冷淡型"),
    # base health: loyalty, satisfaction, referrals (cvm.value.health)
    "health.active_customers": Term("active customers", "活跃客户数"),
    "health.new_customers": Term("new customers", "新客户数"),
    "health.repurchase_rate": Term("repurchase rate", "复购率"),
    "health.retention_rate": Term("retention rate", "留存率"),
    "health.churn_rate": Term("churn rate", "流失率"),
    "health.cohort": Term("cohort", "同期群"),
    "health.share_active": Term("share of the cohort active", "同期群活跃占比"),
    "health.mean_days_between_purchases": Term("average days between purchases", "平均购买间隔天数"),
    "health.referral_rate": Term("referral rate", "推荐率"),
    "health.referred_share": Term("share referred", "被推荐客户占比"),
    "health.referral_depth": Term("referral chain depth", "推荐链深度"),
    "health.referral_cycle": Term("referral cycle", "循环推荐"),
    "health.complaint_rate": Term("complaint rate", "投诉率"),
    "health.mean_satisfaction": Term("average satisfaction (CSAT)", "平均满意度（CSAT）"),
    "health.nps": Term("net promoter score (NPS)", "净推荐值（NPS）"),
    "health.promoter": Term("promoter", "推荐者"),
    "health.passive": Term("passive", "中立者"),
    "health.detractor": Term("detractor", "贬损者"),
    # notes on an analysis (cvm.labels.Note): assumptions made and fallbacks taken
    "note.holdout.too_short": Term(
        "no holdout: the data from {first} to {end} is too short to keep the last {periods} {period}(s) aside "
        "and still calibrate on twice as long; the model was not checked out of sample (pass --holdout DATE "
        "to force one)",
        "未保留验证期：数据从 {first} 到 {end}，时长不足以留出最后 {periods} 个{period}作验证期并保留两倍长的校准期；"
        "模型未做样本外检验（可用 --holdout DATE 强制指定）"),
    "note.fit.newborn": Term(
        "{n:,} customer(s) whose first purchase is on the calibration end (age 0) were left out of fitting: "
        "a purchase model needs some time after the first purchase",
        "{n:,} 位客户的首次购买恰在校准期末（客户年龄为 0），未参与模型拟合：购买模型需要首次购买之后的一段观察时间"),
    "note.fit.chosen": Term(
        "{model} was chosen: its holdout error (RMSE of purchases per customer, {rmse:.4g}) was the lowest "
        "of {n} model(s){others}",
        "选用 {model}：其验证期误差（每位客户购买次数的均方根误差 {rmse:.4g}）在 {n} 个模型中最低{others}"),
    "note.fit.others": Term(" ({others}).", "（{others}）。"),
    "note.fit.no_others": Term(".", "。"),
    "note.fit.default_model": Term(
        "BG/NBD was used: without a holdout period there is no out-of-sample error to choose by.",
        "使用了 BG/NBD 模型：没有验证期，无法按样本外误差选择模型。"),
    "note.fit.zero_spend_left_out": Term(
        "{n:,} customer(s) whose repeat purchases are all worth 0 were left out of the Gamma-Gamma spend "
        "model, which needs positive spend; their expected spend is the model's population mean",
        "{n:,} 位客户的重复购买金额均为 0，未参与 Gamma-Gamma 消费金额模型（该模型要求金额为正）；"
        "其预期消费金额取模型的总体均值"),
    "note.fit.no_spend_model": Term("no spend model: {reason}", "未拟合消费金额模型：{reason}"),
    "note.fit.not_converged": Term("the optimiser did not converge: {reason}", "优化算法未收敛：{reason}"),
    "note.fit.boundary": Term(
        "the optimum is on a boundary for {names}; predictions stay finite but these parameters are not "
        "identified",
        "参数 {names} 的最优值落在边界上：预测值仍有限，但这些参数无法识别"),
    "note.fit.hessian_repaired": Term(
        "the Hessian at the optimum is not negative definite; standard errors come from a repaired "
        "pseudo-inverse and are unreliable",
        "最优点处的 Hessian 矩阵不是负定的：标准误来自修正后的伪逆矩阵，不可靠"),
    "note.fit.mean_spend_undefined": Term(
        "q = {q:.6g} <= 1: the population mean spend does not exist, so expected_spend raises for customers "
        "without repeat purchases (and for any with p x + q <= 1)",
        "q = {q:.6g} <= 1：总体平均消费金额不存在，因此无重复购买的客户（以及 p x + q <= 1 的客户）无法计算预期消费金额"),
    "note.margin.no_product_cost": Term(
        "The log has no product cost: it is estimated as revenue × (1 − {rate:g}) (margin.margin_rate) for "
        "every customer.",
        "交易记录中没有商品成本：对每位客户按 收入 × (1 − {rate:g})（margin.margin_rate）估算。"),
    "note.margin.some_product_cost_missing": Term(
        "{n:,} customer(s) have no recorded product cost: it is estimated as revenue × (1 − {rate:g}) "
        "(margin.margin_rate).",
        "{n:,} 位客户没有记录商品成本：按 收入 × (1 − {rate:g})（margin.margin_rate）估算。"),
    "note.margin.marketing_allocated": Term(
        "No marketing costs were given: {rate:g} × revenue (margin.marketing_cost_rate) is allocated to each "
        "customer as marketing cost.",
        "未提供营销成本：按 {rate:g} × 收入（margin.marketing_cost_rate）分摊给每位客户作为营销成本。"),
    "note.margin.forecast_ratio": Term("Forecast margin = forecast revenue × {source}.",
                                       "预测毛利 = 预测收入 × {source}。"),
    "note.margin.ratio_history": Term("the base's recorded CRM gross margin ratio ({ratio:.1%})",
                                      "客户群已记录的 CRM 毛利率（{ratio:.1%}）"),
    "note.margin.ratio_configured": Term(
        "the configured margin rate {rate:g} minus the marketing-cost rate {marketing:g} ({ratio:.1%})",
        "配置的毛利率 {rate:g} 减去营销成本率 {marketing:g}（{ratio:.1%}）"),
    "note.value.prospects": Term(
        "{n:,} customer(s) of the customers table have no purchase up to the end: they are listed as "
        "prospects with no value yet.",
        "客户表中有 {n:,} 位客户截至观察期末没有购买：列为潜在客户，暂无价值。"),
    "note.value.no_previous_state": Term(
        "No state one period earlier was given (the history's *_previous columns or a previous summary): "
        "value at risk cannot see a falling P(alive) and is 0.",
        "未提供上一期的状态（历史表的 *_previous 列或上一期汇总）：风险价值无法识别存活概率的下降，记为 0。"),
    "note.value.no_customers_table": Term(
        "No customers table: acquisition costs are unknown (CLV is not netted) and the cohort is the period "
        "of the first purchase.",
        "未提供客户表：获客成本未知（客户终身价值未扣除获客成本），同期群按首次购买所在期间划分。"),
    "note.value.no_acquisition_cost": Term(
        "{n:,} customer(s) have no acquisition cost: their CLV is not netted.",
        "{n:,} 位客户没有获客成本：其客户终身价值未扣除获客成本。"),
    "note.value.no_panel": Term("No period panel was given: the lifecycle stage is left out.",
                                "未提供分期面板：不计算生命周期阶段。"),
    "note.value.not_in_panel": Term(
        "{n:,} customer(s) are not in the period panel: their lifecycle stage is blank.",
        "{n:,} 位客户不在分期面板中：其生命周期阶段为空。"),
    "note.value.no_rfm": Term("No RFM scores were given: the RFM segment is left out.",
                              "未提供 RFM 评分：不划分 RFM 细分。"),
    "note.spend.no_model": Term(
        "No spend model: each customer's expected spend per purchase is their own average order value.",
        "没有消费金额模型：每位客户每次购买的预期金额取其自身的平均订单金额。"),
    "note.spend.no_mean": Term(
        "The spend model has no mean ({reason}); average order values are used instead.",
        "消费金额模型的均值不存在（{reason}）：改用平均订单金额。"),
    "note.scoring.empty_scope": Term("scoring model {model!r}: no customer is in scope (of {n})",
                                     "评分模型 {model!r}：{n} 位客户中没有适用范围内的客户"),
    "note.scoring.indicator_missing": Term(
        "scoring model {model!r}: indicator {indicator!r} (column {column!r}) is missing for {missing} of "
        "{n} customers in scope ({example}){consequence}",
        "评分模型 {model!r}：指标 {indicator!r}（列 {column!r}）在适用范围内的 {n} 位客户中有 {missing} 位缺失"
        "（{example}）{consequence}"),
    "note.scoring.missing_everywhere": Term(", so it tells nobody apart: everybody gets 0.5",
                                            "，因此无法区分任何客户：所有人均记 0.5"),
    "note.scoring.missing_some": Term("; they get the worst value, 0", "；这些客户记为最差值 0"),
    "note.scoring.first_row": Term("first at row {row!r}", "首个位于第 {row!r} 行"),
    "note.perceived.no_price": Term(
        "The survey has no price attribute (kind = price): relative perceived price and the value map "
        "position are unknown, and the overall score is relative perceived quality.",
        "调查中没有价格属性（kind = price）：相对感知价格和价值图位置未知，总分即相对感知质量。"),
    "note.perceived.weights": Term(
        "Quality attributes carry {quality:.0%} of the importance weights, price attributes {price:.0%}.",
        "质量属性占重要性权重的 {quality:.0%}，价格属性占 {price:.0%}。"),
    "note.perceived.no_competitor": Term(
        "The survey rates no competitor: there is nothing to compare with, so the competitor table is empty "
        "and the overall score is missing.",
        "调查中没有对竞争对手的评分：无从比较，因此竞争对手表为空，总分缺失。"),
    "note.cross_sell.no_item_column": Term(
        "no cross-sell suggestions: the transactions have no {item!r} column (map a category or product "
        "column, or set cross_sell.item)",
        "没有交叉销售建议：交易记录中没有 {item!r} 列（请映射品类或商品列，或设置 cross_sell.item）"),
    "note.cross_sell.no_purchase": Term(
        "no purchase with a {item} up to {end}: no suggestion can be made",
        "截至 {end} 没有带 {item} 的购买：无法给出建议"),
    "note.cross_sell.no_rules": Term(
        "no pair of {item} values was bought together by {min_customers} or more customers with a lift above "
        "{min_lift:g}: no suggestion; lower cross_sell.min_customers or cross_sell.min_lift, or suggest finer "
        "items (cross_sell.item: product_id)",
        "没有任何一对 {item} 被 {min_customers} 位及以上客户同时购买且提升度高于 {min_lift:g}：没有建议；"
        "可降低 cross_sell.min_customers 或 cross_sell.min_lift，或改用更细的商品（cross_sell.item: product_id）"),
    "note.cross_sell.uncovered": Term(
        "{uncovered} of {n} customers got no rule-based suggestion: nothing in their basket is bought "
        "together often enough with an item they lack{filled}",
        "{n} 位客户中有 {uncovered} 位没有得到基于规则的建议：其购物篮中的商品与其未购商品一起购买的次数不够多{filled}"),
    "note.cross_sell.filled_with_popular": Term(" (they get the most popular items they lack)",
                                                "（改为推荐其未购买的最热门商品）"),
    "note.cross_sell.not_evaluable": Term(
        "no customer with a basket on {calibration_end} bought a {item} new to them by {end}: the suggestions "
        "cannot be evaluated",
        "在 {calibration_end} 有购物记录的客户到 {end} 为止都没有购买新的 {item}：无法评估建议的效果"),
    "note.cross_sell.rules_win": Term(
        "co-purchase rules beat the most-popular baseline: hit rate {rules:.1%} against {popular:.1%}",
        "共同购买规则优于“最热门”基准：命中率 {rules:.1%}，基准为 {popular:.1%}"),
    "note.cross_sell.rules_lose": Term(
        "co-purchase rules do not beat the most-popular baseline: hit rate {rules:.1%} against {popular:.1%}; "
        "the baskets show no co-purchase pattern stronger than popularity, so prefer the most popular items",
        "共同购买规则未优于“最热门”基准：命中率 {rules:.1%}，基准为 {popular:.1%}；购物篮中没有比热门程度更强的"
        "共同购买规律，建议优先推荐最热门商品"),
    "note.cross_sell.few_evaluated": Term(
        "only {n} customers could be evaluated: the hit rates are rough",
        "只有 {n} 位客户可供评估：命中率仅供粗略参考"),
    # time units
    "unit.day": Term("day", "日"),
    "unit.week": Term("week", "周"),
    "unit.month": Term("month", "月"),
    "unit.quarter": Term("quarter", "季度"),
    "unit.year": Term("year", "年"),
    # report (cvm.report): chart titles, axes, report text and interpretations
    "report.title": Term("Customer value report", "客户价值报告"),
    "report.generated_for": Term("Observation end: {end}", "观察截止日：{end}"),
    "report.contents": Term("Contents", "目录"),
    "report.no_data": Term("No data for this chart", "暂无数据"),
    "report.footer": Term("Made with CVM. Charts are interactive: hover for numbers, drag to zoom, double-click to reset.",
                          "由 CVM 生成。图表可交互：悬停查看数值，拖动放大，双击还原。"),
    "report.customers": Term("customers", "客户数"),
    "report.n_customers": Term("{count} customers", "{count} 位客户"),
    "report.customer_share": Term("share of customers", "客户占比"),
    "report.value_share": Term("share of value", "价值占比"),
    "report.value": Term("value", "价值"),
    "report.period": Term("period", "期间"),
    "report.other": Term("other", "其他"),
    "report.new": Term("new", "新增"),
    "report.low": Term("low", "低"),
    "report.high": Term("high", "高"),
    "report.sampled": Term("showing {shown} of {total} customers (a fixed sample)",
                           "显示 {total} 位客户中的 {shown} 位（固定抽样）"),
    "report.pyramid.title": Term("Customer pyramid: customers and value by tier", "客户金字塔：各层级客户数与价值"),
    "report.matrix.title": Term("Value matrix: realized vs potential value", "价值矩阵：已实现价值与潜在价值"),
    "report.pareto.title": Term("Value concentration (Pareto curve)", "价值集中度（帕累托曲线）"),
    "report.pareto.top_customers": Term("top customers (share of the base)", "头部客户（占客户总数比例）"),
    "report.pareto.their_value": Term("their share of total value", "其价值占总价值比例"),
    "report.pareto.equality": Term("every customer worth the same", "所有客户价值相同"),
    "report.pareto.top": Term("top {customers}: {value}", "前 {customers}：{value}"),
    "report.rfm.title": Term("RFM segments: customers and value", "RFM 分群：客户数与价值"),
    "report.loyalty_profit.title": Term("Loyalty × profitability", "忠诚度 × 盈利性"),
    "report.loyalty_profit.loyalty": Term("loyalty (relationship length)", "忠诚度（关系长度）"),
    "report.loyalty_profit.profitability": Term("profitability", "盈利性"),
    "report.lifecycle.title": Term("Lifecycle stages over time", "生命周期阶段分布变化"),
    "report.flows.title": Term("Stage moves: {before} → {after}", "阶段流转：{before} → {after}"),
    "report.flows.stayed_churned": Term("{count} customers stayed churned (not drawn)",
                                        "{count} 位客户两期均为流失状态（未绘出）"),
    "report.warning.title": Term("Decline warnings and value at risk", "衰退预警与风险价值"),
    "report.warning.signs": Term("customers showing each warning sign", "出现各预警信号的客户数"),
    "report.warning.at_risk": Term("value at risk by value-matrix cell", "各价值矩阵类别的风险价值"),
    "report.forecast.title": Term("Revenue: history and forecast", "收入：历史与预测"),
    "report.forecast.history": Term("actual", "实际"),
    "report.forecast.forecast": Term("forecast", "预测"),
    "report.forecast.interval": Term("forecast range", "预测区间"),
    "report.clv.title": Term("Distribution of customer lifetime value", "客户终身价值分布"),
    "report.clv.median": Term("median {value}", "中位数 {value}"),
    "report.clv.cut": Term("the last bar holds the top 1 % ({count} customers, up to {max})",
                           "最后一栏包含前 1 % 的客户（{count} 位，最高 {max}）"),
    "report.channel.title": Term("Acquisition channels: CLV and return on acquisition cost",
                                 "获客渠道：客户终身价值与获客回报"),
    "report.channel.average_clv": Term("average CLV per customer", "人均客户终身价值"),
    "report.channel.break_even": Term("break-even", "盈亏平衡"),
    "report.cohort.title": Term("Cohort retention: share of each cohort buying", "同期群留存：各同期群的活跃占比"),
    "report.cohort.periods_since": Term("periods since acquisition", "获客后期数"),
    "report.satisfaction.title": Term("Satisfaction by tier", "各层级满意度"),
    "report.tracking.title": Term("Model check: cumulative repeat purchases", "模型检验：累计重复购买"),
    "report.tracking.actual": Term("actual", "实际"),
    "report.tracking.expected": Term("model", "模型"),
    "report.tracking.holdout_start": Term("holdout starts", "验证期开始"),
    "report.tracking.purchases": Term("cumulative repeat purchases", "累计重复购买次数"),
    "report.calibration.title": Term("Model check: holdout purchases by calibration frequency",
                                     "模型检验：按校准期购买次数的验证期购买"),
    "report.calibration.x": Term("repeat purchases in the calibration period", "校准期重复购买次数"),
    "report.calibration.y": Term("average purchases in the holdout", "验证期平均购买次数"),
    "report.parameters.title": Term("Model parameters with 95% intervals", "模型参数及 95% 置信区间"),
    "report.campaign.title": Term("Campaign lists: size and expected value", "营销活动名单：规模与预期价值"),
    "report.campaign.expected_value": Term("expected value of acting", "行动的预期价值"),
    "report.kpi.customers": Term("customers", "客户数"),
    "report.kpi.equity": Term("customer equity", "客户资产"),
    "report.kpi.top20": Term("value from the top 20 %", "前 20 % 客户的价值占比"),
    "report.kpi.at_risk": Term("value at risk", "风险价值"),
    "report.kpi.at_risk_customers": Term("{count} customers", "{count} 位客户"),
    "report.text.pareto": Term("The top {top} of customers bring {share} of the value (Gini coefficient {gini}).",
                               "前 {top} 的客户贡献了 {share} 的价值（基尼系数 {gini}）。"),
    "report.text.pyramid": Term("The {tier} tier holds {customers} of customers and {value} of the value.",
                                "{tier}层级占客户总数的 {customers}，贡献了 {value} 的价值。"),
    "report.text.value_at_risk": Term(
        "{count} valuable customers are slipping (their chance of still being active is falling); "
        "together they put {value} of expected margin at risk.",
        "{count} 位高价值客户的活跃概率正在下降，合计 {value} 的预期毛利面临流失风险。"),
    "report.text.no_risk": Term("No valuable customer shows a falling chance of being active.",
                                "没有高价值客户的活跃概率在下降。"),
    "report.text.lifecycle": Term("In the latest period {stable} of customers are stable and {declining} are "
                                  "in decline; {churned} have churned.",
                                  "最近一期，{stable} 的客户处于稳定期，{declining} 处于衰退期，{churned} 已流失。"),
    "report.text.forecast": Term("Revenue over the next {periods} periods is forecast at {forecast}, "
                                 "against {history} in the last {periods} ({change}).",
                                 "预计未来 {periods} 期收入为 {forecast}，最近 {periods} 期为 {history}（{change}）。"),
    "report.text.retention": Term("On average {share} of a cohort is still buying {periods} periods after acquisition.",
                                  "平均而言，同期群在获客 {periods} 期后仍有 {share} 的客户在购买。"),
    "report.text.campaign": Term('The largest list is "{action}" with {customers} customers; '
                                 '"{best}" carries the most expected value ({value}).',
                                 "规模最大的名单是“{action}”，共 {customers} 位客户；"
                                 "预期价值最高的是“{best}”（{value}）。"),
    "report.text.channel": Term("{best} brings the most value per unit of acquisition cost ({ratio}×); "
                                "{worst} the least ({worst_ratio}×).",
                                "{best}渠道每单位获客成本带来的价值最高（{ratio} 倍），{worst}渠道最低（{worst_ratio} 倍）。"),
    "report.text.matrix": Term("{count} customers ({share}) are strategic, high in both realized and potential "
                               "value; they hold {value} of the total value.",
                               "{count} 位客户（{share}）为战略客户，已实现价值与潜在价值均高，合计占总价值的 {value}。"),
    "report.text.rfm": Term("The largest RFM segment is {largest} ({share} of customers); {best} hold the most "
                            "value ({value}).",
                            "最大的 RFM 分群是{largest}（占客户 {share}）；{best}贡献的价值最多（{value}）。"),
    "report.text.loyalty_profit": Term("{friend} are {customers} of customers and bring {value} of the value; "
                                       "{barnacle} ({barnacle_customers} of customers) are loyal but not profitable.",
                                       "{friend}占客户的 {customers}，贡献了 {value} 的价值；{barnacle}"
                                       "（占客户 {barnacle_customers}）忠诚但不盈利。"),
    "report.text.flows": Term("In {period}, {moved} customers changed stage: {declined} moved into decline, "
                              "{churned} churned and {recovered} came back.",
                              "{period}，{moved} 位客户的阶段发生变化：{declined} 位进入衰退期，{churned} 位流失，"
                              "{recovered} 位回流。"),
    "report.text.clv": Term("The median customer is worth {median} over the coming lifetime and the average "
                            "{mean}; one customer in ten is worth more than {top}.",
                            "客户终身价值的中位数为 {median}，平均值为 {mean}；十分之一的客户价值超过 {top}。"),
    "report.text.satisfaction": Term("Net promoter score is highest among {best} customers ({best_nps}) and "
                                     "lowest among {worst} customers ({worst_nps}).",
                                     "净推荐值在{best}客户中最高（{best_nps}），在{worst}客户中最低（{worst_nps}）。"),
    "report.text.model_chosen": Term("{model} was chosen: its holdout error (RMSE of purchases per customer, "
                                     "{rmse}) was the lowest of the models compared ({others}).",
                                     "选用 {model}：其验证期误差（每位客户购买次数的均方根误差 {rmse}）在比较的模型中最低"
                                     "（{others}）。"),
    "report.text.model_given": Term("{model} was used as requested.", "按要求使用 {model}。"),
    "report.text.model_holdout": Term(" In the holdout the model expected {expected} repeat purchases against "
                                      "{actual} made ({error}).",
                                      "验证期内模型预计重复购买 {expected} 次，实际为 {actual} 次（{error}）。"),
    "report.text.no_holdout": Term(" No holdout was kept, so the model was not checked out of sample.",
                                   "未保留验证期，模型未做样本外检验。"),
    "report.text.calibration": Term("Customers are grouped by their repeat purchases in the calibration period; "
                                    "across groups the model's average is off by {error} purchases per customer "
                                    "(weighted by customers).",
                                    "按校准期重复购买次数分组；各组模型均值与实际均值平均相差 {error} 次/人（按客户数加权）。"),
    "report.text.parameters": Term("{model} and Gamma-Gamma refitted on all the data; a narrow interval means "
                                   "the data pins the parameter down.",
                                   "{model} 与 Gamma-Gamma 模型基于全部数据重新拟合；置信区间越窄，参数越确定。"),
    "report.text.forecast_scope": Term(" The forecast covers today's customers only; new customers come on top.",
                                       "预测仅覆盖现有客户，新客户带来的收入未计入。"),
    "report.notes.title": Term("Notes on this analysis", "本次分析说明"),
    "report.notes.english": Term("These notes come from the libraries CVM uses, in English only:",
                                 "以下说明来自 CVM 所用的程序库，仅有英文："),
    "report.notes.left_out": Term("Not shown: {what}.", "未展示：{what}。"),
    "report.left_out.channels": Term("CLV by acquisition channel (no customers file with acquisition channels: --customers)",
                                     "各获客渠道的客户终身价值（未提供含获客渠道的客户文件：--customers）"),
    "report.left_out.satisfaction": Term("satisfaction by tier (no survey file: --surveys)",
                                         "各层级满意度（未提供满意度调查文件：--surveys）"),
    "report.left_out.calibration": Term("calibration vs holdout (no holdout: --holdout)",
                                        "校准期与验证期对比（未保留验证期：--holdout）"),
    "report.left_out.cohorts": Term("cohort retention (no purchase periods)", "同期群留存（没有购买期间）"),
    "report.kpi.model": Term("purchase model", "购买模型"),
    "report.kpi.holdout_error": Term("holdout RMSE {rmse}", "验证期 RMSE {rmse}"),
}


def label(key: str, lang: Language | str = "en") -> str:
    """The label of ``key`` in ``lang`` (``en`` or ``zh``); the key itself when unknown."""
    term = TERMS.get(key)
    if term is None:
        return key
    return term[lang]


class Note(str):
    """A note for the user, in English and Chinese: an assumption made, a fallback taken.

    A note *is* its English sentence (the ``en`` template of ``TERMS[key]`` filled with
    ``values``), so it prints, joins, compares and serialises as a string;
    :meth:`in_language` fills the template of another language with the same values. A value
    that is itself a :class:`Note` or a :class:`Term` (a unit, a tier) renders in that
    language too; format specs in the templates (``{n:,}``, ``{share:.0%}``) apply in both.

    >>> note = Note("note.fit.no_spend_model", reason="too few repeat buyers")
    >>> note
    'no spend model: too few repeat buyers'
    >>> note.in_language("zh")
    '未拟合消费金额模型：too few repeat buyers'
    >>> Note("note.value.no_acquisition_cost", n=1234).in_language("zh")
    '1,234 位客户没有获客成本：其客户终身价值未扣除获客成本。'
    """

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, /, **values: Any) -> Note:
        if key not in TERMS:
            raise KeyError(f"no label {key!r} for a note: add it to cvm.labels.TERMS")
        note = super().__new__(cls, _fill(TERMS[key].en, values, "en"))
        note.key, note.values = key, values
        return note

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:
        return (self.key,), self.values

    def in_language(self, lang: Language | str) -> str:
        """The note in ``lang`` (``en`` or ``zh``)."""
        return str(self) if lang != "zh" else _fill(TERMS[self.key].zh, self.values, "zh")


def in_language(text: Any, lang: Language | str) -> str:
    """``text`` in ``lang`` when it is a :class:`Note` or a :class:`Term`; other text as it is
    (a library's message, which exists in English only).

    >>> in_language(TERMS["unit.month"], "zh"), in_language("plain text", "zh")
    ('月', 'plain text')
    """
    if isinstance(text, Note):
        return text.in_language(lang)
    if isinstance(text, Term):
        return text[lang]
    return str(text)


def _fill(template: str, values: dict[str, Any], lang: str) -> str:
    return template.format(**{name: in_language(value, lang) if isinstance(value, (Note, Term)) else value
                              for name, value in values.items()})


def template_fields(template: str) -> set[str]:
    """The names a template fills (``{n:,}`` fills ``n``), to check that both languages use the same.

    >>> sorted(template_fields("{n:,} of {total} ({share:.0%})"))
    ['n', 'share', 'total']
    """
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
