"""Header mapping: YAML files (per table or flat), overrides, automatic detection of English and
Chinese headers, and errors that name the header and suggest the closest one."""

from __future__ import annotations

import pytest

from cvm.data.mapping import load_mapping, parse_column_options, resolve_mapping
from cvm.errors import ConfigError, MissingColumnError


def how(m):
    return {c: (mc.header, mc.how) for c, mc in m.columns.items()}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["客户编号", "交易日期", "金额", "成本"],
         {"customer_id": "客户编号", "date": "交易日期", "amount": "金额", "product_cost": "成本"}),
        (["客户ID", "订单日期", "实付金额", "订单号"],
         {"customer_id": "客户ID", "date": "订单日期", "amount": "实付金额", "order_id": "订单号"}),
        (["Customer ID", "Order_Date", "SALES", "Qty"],
         {"customer_id": "Customer ID", "date": "Order_Date", "amount": "SALES", "quantity": "Qty"}),
        (["user_id", "created_at", "amount", "currency"],
         {"customer_id": "user_id", "date": "created_at", "amount": "amount", "currency": "currency"}),
    ],
)
def test_detects_english_and_chinese_headers(headers, expected):
    m = resolve_mapping(headers, "transactions")
    assert {c: h for c, (h, _) in how(m).items()} == expected
    assert all(w == "detected" for _, w in how(m).values())


def test_exact_alias_beats_fuzzy_and_alias_order_decides():
    # "order date" matches alias order_date only after removing the space; "date" is exact
    m = resolve_mapping(["customer_id", "order date", "date", "amount"], "transactions")
    assert m.header("date") == "date"
    assert m.unmapped == ("order date",)
    # two exact candidates: the earlier alias wins (purchase_date before time)
    m = resolve_mapping(["customer_id", "time", "purchase_date", "amount"], "transactions")
    assert m.header("date") == "purchase_date"


def test_a_header_is_never_mapped_twice():
    # "金额" is an alias of transactions.amount; "成本" of product_cost; in marketing_costs,
    # "金额" and "成本" are both aliases of cost: only one is used
    m = resolve_mapping(["客户编号", "日期", "成本", "金额"], "marketing_costs")
    assert m.header("cost") == "成本"
    assert m.unmapped == ("金额",)
    headers = [mc.header for mc in m.columns.values()]
    assert len(headers) == len(set(headers))


def test_overrides_and_cli_options_win():
    headers = ["客户编号", "下单时间", "支付时间", "实付金额"]
    m = resolve_mapping(headers, "transactions", columns=["date=支付时间"])
    assert how(m)["date"] == ("支付时间", "given")
    assert how(m)["customer_id"] == ("客户编号", "detected")
    assert "下单时间" in m.unmapped
    assert parse_column_options(["customer_id = 客户编号"]) == {"customer_id": "客户编号"}
    with pytest.raises(ConfigError, match="CVM_COLUMN=YOUR_HEADER"):
        parse_column_options(["customer_id"])


def test_yaml_mapping_file_with_sections_and_flat(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "transactions:\n  customer_id: 会员\n  date: 时间点\n  amount: 钱\n"
        "customers:\n  customer_id: 会员号\n", encoding="utf-8")
    m = resolve_mapping(["会员", "时间点", "钱"], "transactions", mapping=path)
    assert how(m) == {"customer_id": ("会员", "given"), "date": ("时间点", "given"),
                      "amount": ("钱", "given")}
    assert load_mapping(path, "customers") == {"customer_id": "会员号"}
    assert load_mapping(path, "surveys") == {}
    flat = tmp_path / "flat.yml"
    flat.write_text("customer_id: 会员\ndate: 时间点\namount: 钱\n", encoding="utf-8")
    assert resolve_mapping(["会员", "时间点", "钱"], mapping=flat).header("amount") == "钱"
    # overrides beat the file
    m = resolve_mapping(["会员", "时间点", "钱", "实付"], mapping=flat, columns={"amount": "实付"})
    assert m.header("amount") == "实付"


def test_mapping_naming_a_missing_header_suggests_the_closest():
    with pytest.raises(MissingColumnError) as info:
        resolve_mapping(["客户编号", "日期", "金额"], columns={"customer_id": "客户号"},
                        source_name="orders.csv")
    text = str(info.value)
    assert "orders.csv" in text and "'客户号'" in text and "did you mean '客户编号'" in text
    assert "'日期'" in text  # lists the headers found
    assert isinstance(info.value, KeyError)


def test_required_column_not_found_says_how_to_map_it():
    with pytest.raises(MissingColumnError) as info:
        resolve_mapping(["CustomerID", "InvoiceDate", "UnitPrice"], "transactions",
                        source_name="retail.csv")
    text = str(info.value)
    assert "retail.csv" in text and "amount" in text and "'UnitPrice'" in text
    assert "--column amount=" in text and "mapping file" in text


def test_unknown_cvm_column_in_mapping():
    with pytest.raises(ConfigError, match="not a column of transactions"):
        resolve_mapping(["a"], columns={"custid": "a"})


def test_customers_keep_unmapped_headers_as_custom_attributes():
    m = resolve_mapping(["会员号", "性别", "爱好"], "customers")
    assert m.unmapped == ("爱好",) and m.custom == ("爱好",)
    t = resolve_mapping(["客户编号", "日期", "金额", "备注"], "transactions")
    assert t.unmapped == ("备注",) and t.custom == ()


def test_mapping_to_dict_for_confirmation():
    m = resolve_mapping(["客户编号", "日期", "金额"], columns={"amount": "金额"})
    assert m.to_dict() == {
        "table": "transactions",
        "columns": {"customer_id": {"header": "客户编号", "how": "detected"},
                    "date": {"header": "日期", "how": "detected"},
                    "amount": {"header": "金额", "how": "given"}},
        "unmapped": [],
    }
