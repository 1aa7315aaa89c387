"""The CVM data model: each input table, its columns, types and meaning (English and 中文).

This module is the single definition of the data model. Ingestion maps users' headers onto
these columns (``aliases`` feed automatic header detection), validation checks values by
``kind``, and ``docs/data-model.md`` is generated from it (a test keeps the page in step).

>>> spec = TABLES["transactions"]
>>> [c.name for c in spec.required]
['customer_id', 'date', 'amount']
>>> spec.column("amount").zh
'金额'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal[
    "id",  # identifier, kept as text; blank is missing
    "date",  # date or timestamp
    "money",  # amount of money: thousands separators and currency symbols allowed
    "number",  # plain number
    "integer",  # whole number
    "text",  # free text
    "category",  # a label from a small set
    "flag",  # yes/no: 1/0, true/false, y/n, 是/否
]

DTYPE_OF_KIND: dict[str, str] = {
    "id": "string",
    "date": "date",
    "money": "float64",
    "number": "float64",
    "integer": "int64",
    "text": "string",
    "category": "string",
    "flag": "boolean",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a CVM table."""

    name: str
    kind: ColumnKind
    en: str
    zh: str
    description_en: str
    description_zh: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    """Header spellings (English and Chinese) that automatic detection maps to this column."""

    @property
    def dtype(self) -> str:
        """The Ibis type of the column after ingestion."""
        return DTYPE_OF_KIND[self.kind]


@dataclass(frozen=True)
class TableSpec:
    """One CVM input table."""

    name: str
    en: str
    zh: str
    description_en: str
    description_zh: str
    columns: tuple[ColumnSpec, ...]
    custom_attributes: bool = False
    """True when columns that map to nothing are kept as free custom attributes."""
    notes: tuple[str, ...] = field(default=())

    @property
    def required(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def optional(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if not c.required)

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _col(name, kind, en, zh, den, dzh, *, required=False, aliases=()) -> ColumnSpec:
    return ColumnSpec(name, kind, en, zh, den, dzh, required, tuple(aliases))


_CUSTOMER_ID_ALIASES = (
    "customer_id", "customer", "customerid", "customer id", "cust_id", "custid", "client_id",
    "clientid", "user_id", "userid", "member_id", "memberid", "buyer_id", "id",
    "客户编号", "客户id", "客户ID", "客户代码", "客户号", "顾客编号", "顾客id", "会员编号", "会员id",
    "会员号", "用户id", "用户ID", "用户编号", "买家id",
)

TRANSACTIONS = TableSpec(
    name="transactions",
    en="Transactions",
    zh="交易",
    description_en=(
        "One row per purchase or order line. Returns and refunds are rows with a negative "
        "amount. Ingestion nets them against their order or day (see `--returns`)."
    ),
    description_zh="每行一笔购买或订单明细。退货、退款为负金额行，导入时按订单或按日冲抵（见 `--returns`）。",
    columns=(
        _col("customer_id", "id", "Customer ID", "客户编号",
             "Who bought. Kept as text, so leading zeros survive.",
             "购买的客户。按文本保存，前导零不会丢失。", required=True, aliases=_CUSTOMER_ID_ALIASES),
        _col("date", "date", "Purchase date", "交易日期",
             "When the purchase happened: a date or a timestamp (ISO, 2024/05/03, 03/05/2024 with "
             "a stated day-first option, 2024年5月3日, 20240503, Excel serial numbers, timestamps "
             "with a time zone, which keep their local wall-clock date).",
             "购买发生的日期或时间戳（支持 ISO、2024/05/03、需指明日在前的 03/05/2024、2024年5月3日、"
             "20240503、Excel 序列号，以及带时区的时间戳，按其当地日期计）。",
             required=True,
             aliases=("date", "purchase_date", "order_date", "transaction_date", "trans_date",
                      "invoice_date", "invoicedate", "datetime", "timestamp", "time", "created_at",
                      "交易日期", "订单日期", "购买日期", "下单日期", "日期", "交易时间", "下单时间",
                      "订单时间", "购买时间", "时间")),
        _col("amount", "money", "Amount", "金额",
             "Revenue of the row in the currency of the file. Thousands separators and currency "
             "symbols (¥, $, 元, €, £) are accepted; a negative amount is a return or refund.",
             "该行的收入金额（文件所用币种）。可带千位分隔符和货币符号（¥、$、元、€、£）；负数表示退货或退款。",
             required=True,
             aliases=("amount", "revenue", "sales", "sales_amount", "value", "price", "total",
                      "order_value", "spend", "monetary", "金额", "交易金额", "订单金额", "销售额",
                      "消费金额", "实付金额", "支付金额", "付款金额", "销售金额", "总价", "价格")),
        _col("order_id", "id", "Order ID", "订单编号",
             "Groups rows of one order; returns carry the id of the order they undo.",
             "同一订单的各行共用；退货行带被退订单的编号。",
             aliases=("order_id", "orderid", "order", "order_no", "order_number", "invoice",
                      "invoice_no", "invoiceno", "transaction_id", "订单编号", "订单号", "订单id",
                      "订单ID", "单号", "交易编号", "流水号")),
        _col("quantity", "number", "Quantity", "数量", "Units bought on the row.", "该行购买的件数。",
             aliases=("quantity", "qty", "units", "count", "数量", "件数", "购买数量")),
        _col("product_id", "id", "Product ID", "商品编号", "The product or SKU bought.",
             "购买的商品或 SKU。",
             aliases=("product_id", "productid", "product", "sku", "item_id", "stockcode",
                      "商品编号", "商品id", "商品ID", "产品编号", "货号", "商品代码")),
        _col("category", "category", "Product category", "商品类别", "Category of the product.",
             "商品所属类别。",
             aliases=("category", "product_category", "class", "department", "商品类别", "类别",
                      "品类", "商品分类", "分类")),
        _col("product_cost", "money", "Product cost", "商品成本",
             "Cost of the goods sold on the row, in the same currency as the amount.",
             "该行所售商品的成本，与金额同币种。",
             aliases=("product_cost", "cost", "cogs", "unit_cost_total", "成本", "商品成本",
                      "产品成本", "进货成本", "销售成本")),
        _col("channel", "category", "Sales channel", "销售渠道",
             "Where the sale happened (online, store, app …).", "成交渠道（线上、门店、App 等）。",
             aliases=("channel", "sales_channel", "渠道", "销售渠道")),
        _col("store", "category", "Store or region", "门店/区域", "Store, branch or sales region.",
             "门店、分店或销售区域。",
             aliases=("store", "shop", "branch", "region", "store_id", "门店", "店铺", "分店",
                      "区域", "地区")),
        _col("currency", "category", "Currency", "币种",
             "ISO currency code of the amount (CNY, USD …). A file must use one currency.",
             "金额的币种代码（CNY、USD 等）。一个文件只能使用一种币种。",
             aliases=("currency", "currency_code", "币种", "货币")),
    ),
    notes=(
        "After ingestion the table also has `timestamp` (the wall-clock time, midnight when the "
        "source has only a date) and `source_row` (the row number in the source file, header = 1).",
    ),
)

CUSTOMERS = TableSpec(
    name="customers",
    en="Customers",
    zh="客户",
    description_en="One row per customer: acquisition and profile. Unmapped columns are kept as custom attributes.",
    description_zh="每行一位客户：获客信息与画像。未映射的列作为自定义属性保留。",
    custom_attributes=True,
    columns=(
        _col("customer_id", "id", "Customer ID", "客户编号", "The customer, as in transactions.",
             "客户编号，与交易表一致。", required=True, aliases=_CUSTOMER_ID_ALIASES),
        _col("acquisition_date", "date", "Acquisition date", "获客日期",
             "First seen or acquired; defaults to the first purchase when absent.",
             "首次出现或获客日期；缺失时取首次购买日。",
             aliases=("acquisition_date", "first_seen", "signup_date", "register_date",
                      "registration_date", "join_date", "created_at", "获客日期", "注册日期",
                      "注册时间", "入会日期", "首次购买日期", "开户日期")),
        _col("acquisition_channel", "category", "Acquisition channel", "获客渠道",
             "How the customer was acquired (search, referral, store …).", "客户的获取渠道（搜索、推荐、门店等）。",
             aliases=("acquisition_channel", "source", "utm_source", "获客渠道", "来源渠道", "来源")),
        _col("acquisition_cost", "money", "Acquisition cost", "获客成本",
             "What acquiring the customer cost.", "获取该客户的成本。",
             aliases=("acquisition_cost", "cac", "获客成本", "获取成本")),
        _col("gender", "category", "Gender", "性别", "Gender as recorded.", "记录的性别。",
             aliases=("gender", "sex", "性别")),
        _col("birth_year", "integer", "Birth year", "出生年份", "Year of birth.", "出生年份。",
             aliases=("birth_year", "year_of_birth", "出生年份", "出生年")),
        _col("age_band", "category", "Age band", "年龄段", "Age group such as 25-34.", "年龄段，如 25-34。",
             aliases=("age_band", "age_group", "age", "年龄段", "年龄组", "年龄")),
        _col("education", "category", "Education", "教育程度", "Highest education level.", "最高学历。",
             aliases=("education", "教育程度", "学历")),
        _col("occupation", "category", "Occupation", "职业", "Occupation.", "职业。",
             aliases=("occupation", "job", "职业")),
        _col("income_band", "category", "Income band", "收入水平", "Income group.", "收入区间。",
             aliases=("income_band", "income", "收入水平", "收入", "收入区间")),
        _col("region", "category", "Region", "地区", "Home region or city.", "所在地区或城市。",
             aliases=("region", "city", "province", "area", "地区", "城市", "省份", "区域")),
        _col("customer_type", "category", "Customer type", "客户类型",
             "Consumer, business, distributor …", "个人、企业、经销商等。",
             aliases=("customer_type", "type", "segment_type", "客户类型", "客户类别")),
        _col("segment", "category", "Segment", "客户分群",
             "The user's own segment; marketing costs per segment are allocated through it.",
             "用户自定义的客户分群；按分群记录的营销成本据此分摊。",
             aliases=("segment", "group", "分群", "客户分组", "客户群")),
    ),
)

MARKETING_COSTS = TableSpec(
    name="marketing_costs",
    en="Marketing costs",
    zh="营销成本",
    description_en=(
        "Relationship-marketing cost per period, either per customer (customer_id set) or per "
        "segment (segment set, customer_id blank)."
    ),
    description_zh="按期记录的关系营销成本：可按客户（填写 customer_id）或按分群（填写 segment，customer_id 留空）。",
    columns=(
        _col("customer_id", "id", "Customer ID", "客户编号", "The customer the cost was spent on.",
             "该成本所针对的客户。", aliases=_CUSTOMER_ID_ALIASES),
        _col("segment", "category", "Segment", "客户分群", "The segment the cost was spent on.",
             "该成本所针对的客户分群。", aliases=("segment", "group", "分群", "客户分组", "客户群")),
        _col("date", "date", "Period date", "期间日期",
             "A date inside the period the cost belongs to (usually its first day).",
             "成本所属期间内的某一天（通常为期初）。", required=True,
             aliases=("date", "period", "period_start", "month", "日期", "期间", "月份")),
        _col("cost", "money", "Marketing cost", "营销成本", "Cost spent in the period.",
             "该期间的花费。", required=True,
             aliases=("cost", "amount", "marketing_cost", "spend", "营销成本", "营销费用", "费用", "成本", "金额")),
        _col("activity", "text", "Activity", "营销活动", "What the money was spent on.", "费用用途。",
             aliases=("activity", "campaign", "营销活动", "活动")),
    ),
)

REFERRALS = TableSpec(
    name="referrals",
    en="Referrals",
    zh="推荐关系",
    description_en="Who referred whom, and when.",
    description_zh="谁在何时推荐了谁。",
    columns=(
        _col("referrer_id", "id", "Referrer ID", "推荐人编号", "The customer who referred.",
             "发出推荐的客户。", required=True,
             aliases=("referrer_id", "referrer", "推荐人编号", "推荐人", "推荐人id")),
        _col("referred_id", "id", "Referred customer ID", "被推荐人编号",
             "The customer who was referred.", "被推荐的客户。", required=True,
             aliases=("referred_id", "referred", "referee", "referee_id", "被推荐人编号", "被推荐人",
                      "被推荐人id")),
        _col("date", "date", "Referral date", "推荐日期", "When the referral happened.", "推荐发生的日期。",
             aliases=("date", "referral_date", "推荐日期", "日期")),
    ),
)

SURVEYS = TableSpec(
    name="surveys",
    en="Surveys",
    zh="满意度调查",
    description_en="Satisfaction and NPS answers, complaints and comments.",
    description_zh="满意度与 NPS 调查结果、投诉与评论。",
    columns=(
        _col("customer_id", "id", "Customer ID", "客户编号", "The customer who answered.",
             "作答的客户。", required=True, aliases=_CUSTOMER_ID_ALIASES),
        _col("date", "date", "Survey date", "调查日期", "When the customer answered.", "作答日期。",
             required=True, aliases=("date", "survey_date", "response_date", "调查日期", "日期")),
        _col("satisfaction", "number", "Satisfaction score", "满意度",
             "Satisfaction (CSAT), on the survey's own scale (for example 1-5).",
             "满意度（CSAT），按问卷自身量表（如 1-5 分）。",
             aliases=("satisfaction", "csat", "satisfaction_score", "满意度", "满意度评分", "满意度得分")),
        _col("nps", "integer", "NPS score", "NPS 评分",
             "Likelihood to recommend, 0 to 10.", "推荐意愿，0 到 10 分。",
             aliases=("nps", "nps_score", "recommend", "likelihood_to_recommend", "推荐意愿", "NPS评分",
                      "净推荐值")),
        _col("complaint", "flag", "Complaint", "是否投诉", "Whether the customer complained (yes/no).",
             "客户是否投诉（是/否）。", aliases=("complaint", "complained", "is_complaint", "投诉", "是否投诉")),
        _col("comment", "text", "Comment", "评论", "Free text answer.", "开放式回答。",
             aliases=("comment", "comments", "feedback", "text", "评论", "意见", "反馈", "备注")),
    ),
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (TRANSACTIONS, CUSTOMERS, MARKETING_COSTS, REFERRALS, SURVEYS)
}


def table_spec(name: str) -> TableSpec:
    """The spec of table ``name``; a clear error for an unknown name.

    >>> table_spec("surveys").zh
    '满意度调查'
    """
    try:
        return TABLES[name]
    except KeyError:
        from cvm.errors import ConfigError

        raise ConfigError(
            f"unknown table {name!r}", hint=f"use one of: {', '.join(TABLES)}"
        ) from None
