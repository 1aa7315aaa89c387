"""Validation rules and the validation report.

Every problem found in an input becomes one :class:`ValidationIssue` naming the file, the
table, the rule, the user's column header and the CVM column, how many rows broke the rule,
the first source rows (``source_row``: the row number a person sees, header = 1) and example
values, and what to do next. Counts come from one aggregate query over boolean rule columns;
examples from small filtered, limited queries. No table is pulled into pandas.

Rules (``rule.<id>`` in :mod:`cvm.labels` gives the English and Chinese label):

======================  ========  ==============================================================
rule id                 severity  meaning
======================  ========  ==============================================================
missing_column          (raised)  the mapping names a column the input does not have
                                  (:class:`~cvm.errors.MissingColumnError`, before anything else)
unmapped_column         info      a header no CVM column reads; ignored (kept as custom
                                  attributes for ``customers``, then not reported)
missing_id              error     a required id (customer, referrer …) is blank; for
                                  ``marketing_costs``: both customer id and segment are blank;
                                  warning for a blank optional id (order id …), kept as NULL
missing_value           error     a required value (date, amount, cost) is blank
unparseable_date        error     a date that is not in any supported form, or impossible
                                  (2024-02-30)
ambiguous_date          error     a date like 03/05/2024 whose day/month order was neither
                                  stated (``dayfirst``) nor settled by the column's other values,
                                  or a column that mixes both orders
future_date             error     a date after the as-of date (default: today)
invalid_number          error     a number (amount, cost, quantity, score) that cannot be read,
                                  or a fractional value where a whole number is needed
non_finite_number       error     NaN or infinite
invalid_flag            error     a yes/no value that is not one of the accepted words
out_of_range            error     NPS outside 0–10; negative acquisition cost
negative_amount         warning   a negative amount: a return or refund, handled by the
                                  ``returns`` policy; an error with ``returns="reject"``
refunded_order          info      with netting, an order (or customer-day) whose net amount is
                                  ≤ 0: removed from purchases
unmatched_return        info      with netting, returns whose order (or customer-day) has no
                                  purchase: removed from purchases
duplicate_row           warning   a row identical, in every source column, to an earlier row;
                                  kept (``duplicates="keep"``) or an error (``"reject"``)
repeated_order_id       error     an order id used by more than one customer (all its rows)
order_id_several_dates  warning   an order id whose purchase rows fall on several dates
mixed_currencies        error     rows whose currency (``currency`` column, else the currency
                                  symbol of the amount) is not the dominant one, or not the
                                  ``currency`` the user stated
duplicate_id            error     ``customers``: a customer id on more than one row (all rows)
self_referral           error     ``referrals``: the referrer is the referred customer
======================  ========  ==============================================================

Returns policies (transactions): ``auto`` (``net-order`` when an order id is mapped, else
``net-day``); ``net-order`` nets the rows of each customer's order (rows without an order id
are netted per customer and day); ``net-day`` nets the rows of each customer and day;
``keep`` keeps negative rows as they are; ``reject`` makes a negative amount an error. With
netting, only groups that contain a negative row change: they become one row, the group's
first positive row (its date, time and other columns) with the group's net amount, quantity
and product cost. Groups whose net amount is ≤ 0 are removed and reported.

>>> issue = ValidationIssue("t.csv", "transactions", "missing_id", "error", "客户编号",
...                         "customer_id", 2, [3, 9], [None, None], "2 rows have no id.")
>>> report = ValidationReport("t.csv", "transactions", n_rows=10, n_rejected=2, issues=[issue])
>>> report.ok, report.n_valid, len(report.errors)
(False, 8, 1)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from cvm.data import parsing as P
from cvm.data.mapping import ColumnMapping
from cvm.data.readers import SOURCE_ROW, RawSource, drop_materialized, materialize
from cvm.data.schema import ColumnSpec, TableSpec, table_spec
from cvm.errors import ConfigError
from cvm.labels import label

log = logging.getLogger(__name__)

Severity = Literal["error", "warning", "info"]
ReturnsPolicy = Literal["auto", "net-order", "net-day", "keep", "reject"]
DuplicatesPolicy = Literal["keep", "reject"]
RETURNS_POLICIES = ("auto", "net-order", "net-day", "keep", "reject")
DUPLICATES_POLICIES = ("keep", "reject")
MAX_ROWS = 10
MAX_EXAMPLES = 5

RULES: tuple[str, ...] = (
    "missing_column", "unmapped_column", "missing_id", "missing_value", "unparseable_date",
    "ambiguous_date", "future_date", "invalid_number", "non_finite_number", "invalid_flag",
    "out_of_range", "negative_amount", "refunded_order", "unmatched_return", "duplicate_row",
    "repeated_order_id", "order_id_several_dates", "mixed_currencies", "duplicate_id",
    "self_referral",
)
"""Every rule id, in the order of the table above; each has a ``rule.<id>`` label."""

REJECT = "__reject"
REASONS = "__reasons"


@dataclass
class ValidationIssue:
    """One rule broken by some rows of one input."""

    file: str
    table: str
    rule: str
    severity: Severity
    column: str | None
    """The user's header (None for rules about whole rows)."""
    cvm_column: str | None
    count: int
    rows: list[int]
    """The first (up to 10) ``source_row`` numbers."""
    examples: list[Any]
    """The first (up to 5) raw values."""
    message: str
    message_zh: str | None = None

    @property
    def label(self) -> str:
        return label(f"rule.{self.rule}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["label"] = label(f"rule.{self.rule}")
        d["label_zh"] = label(f"rule.{self.rule}", "zh")
        return d


@dataclass
class ValidationReport:
    """Everything validation found in one input, JSON-ready with :meth:`to_dict`."""

    file: str
    table: str
    n_rows: int = 0
    n_rejected: int = 0
    issues: list[ValidationIssue] = field(default_factory=list)
    mapping: dict[str, Any] | None = None
    policy: str = "strict"
    quarantine_path: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_valid(self) -> int:
        """Rows that broke no error rule."""
        return self.n_rows - self.n_rejected

    @property
    def errors(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def infos(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "info"]

    @property
    def ok(self) -> bool:
        """True when no error-severity rule was broken."""
        return not self.errors

    def issue(self, rule: str, column: str | None = None) -> ValidationIssue | None:
        """The issue of ``rule`` (on CVM ``column`` when given), or None."""
        for i in self.issues:
            if i.rule == rule and (column is None or i.cvm_column == column):
                return i
        return None

    def summary(self) -> str:
        """One line per broken error rule, for exception messages."""
        parts = [f"{i.rule} ({i.column or 'rows'}: {i.count} rows)" for i in self.errors]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "table": self.table,
            "ok": self.ok,
            "n_rows": self.n_rows,
            "n_valid": self.n_valid,
            "n_rejected": self.n_rejected,
            "policy": self.policy,
            "quarantine_path": self.quarantine_path,
            "settings": self.settings,
            "mapping": self.mapping,
            "issues": [i.to_dict() for i in self.issues],
        }

    def write_json(self, path: str | Path) -> Path:
        """Write the report as UTF-8 JSON (Chinese kept readable) and return the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str),
                        encoding="utf-8")
        return path


# -- the checks -------------------------------------------------------------------------------


@dataclass
class _Rule:
    rule: str
    severity: Severity
    cvm_column: str | None
    header: str | None
    flag: str  # name of the boolean column
    message: Any  # callable(count, examples) -> str
    example_cols: tuple[str, ...] = ()
    group_note: str | None = None


@dataclass
class Checked:
    """The outcome of :func:`check`: the report and the parsed, flagged, cached table.

    ``table`` has the raw columns, ``source_row``, the parsed CVM columns under
    ``__v_<column>`` (dates also ``__v_<column>__ts``), one boolean column per rule, ``__reject``
    (the row broke an error rule) and ``__reasons`` (the error rule ids, ``;``-joined).
    """

    report: ValidationReport
    table: ir.Table
    mapping: ColumnMapping
    spec: TableSpec
    returns: str


def _v(col: str) -> str:
    return f"__v_{col}"


def _q(header: str) -> str:
    return repr(header)


def _parse(t: ir.Table, cs: ColumnSpec, header: str, dayfirst: bool | None) -> ir.Table:
    out = _v(cs.name)
    if cs.kind == "date":
        return P.parse_date(t, header, out, dayfirst=dayfirst)
    if cs.kind in ("money", "number"):
        return P.parse_number(t, header, out)
    if cs.kind == "integer":
        return P.parse_integer(t, header, out)
    if cs.kind == "flag":
        return P.parse_flag(t, header, out)
    return P.parse_text(t, header, out)


def _int_sum(flag: ir.BooleanValue) -> ir.Scalar:
    # PostgreSQL cannot cast boolean to bigint: count with a CASE instead
    return ibis.ifelse(flag.fill_null(False), 1, 0).sum()


def check(
    raw: RawSource,
    mapping: ColumnMapping,
    *,
    dayfirst: bool | None = None,
    returns: ReturnsPolicy = "auto",
    duplicates: DuplicatesPolicy = "keep",
    currency: str | None = None,
    as_of: dt.date | str | None = None,
) -> Checked:
    """Parse the mapped columns of ``raw``, apply every rule, and build the report.

    The parsed and flagged table is materialised once on its backend (a temporary table).

    >>> import ibis
    >>> from cvm.data.mapping import resolve_mapping
    >>> from cvm.data.readers import read_source
    >>> raw = read_source(ibis.memtable({"客户编号": ["A", ""], "日期": ["2024-01-02", "2024-02-30"],
    ...                                  "金额": ["¥5", "6"]}))
    >>> checked = check(raw, resolve_mapping(raw.columns), as_of="2024-12-31")
    >>> [(i.rule, i.rows, i.examples) for i in checked.report.issues]
    [('missing_id', [2], ['']), ('unparseable_date', [2], ['2024-02-30'])]
    """
    spec = table_spec(mapping.table)
    if returns not in RETURNS_POLICIES:
        raise ConfigError(f"unknown returns policy {returns!r}",
                          hint=f"use one of: {', '.join(RETURNS_POLICIES)}")
    if duplicates not in DUPLICATES_POLICIES:
        raise ConfigError(f"unknown duplicates policy {duplicates!r}",
                          hint=f"use one of: {', '.join(DUPLICATES_POLICIES)}")
    as_of = _as_date(as_of)
    mapped = {c: m.header for c, m in mapping.columns.items()}
    if returns == "auto" and spec.name == "transactions":
        returns = "net-order" if "order_id" in mapped else "net-day"
    name = raw.name
    t = raw.table

    # 1. day/month order of each text date column
    order_notes: dict[str, str] = {}
    dayfirst_of: dict[str, bool | None] = {}
    for col, header in mapped.items():
        if spec.column(col).kind != "date":
            continue
        if dayfirst is not None:
            dayfirst_of[col] = dayfirst
            continue
        ev = P.infer_dayfirst(t, header)
        dayfirst_of[col] = ev.dayfirst
        if ev.n_dmy and ev.conflicting:
            order_notes[col] = (
                f"{_q(header)} mixes both orders: {ev.first_over_12} values need day-first and "
                f"{ev.second_over_12} month-first; fix the file or state the order with "
                f"--dayfirst or --monthfirst."
            )
        elif ev.n_dmy and ev.dayfirst is None:
            order_notes[col] = (
                f"in {_q(header)} every day/month/year date could be read either way; state "
                f"the order with --dayfirst or --monthfirst."
            )
        elif ev.n_dmy:
            log.info("%s: %s read as %s-first", name, header, "day" if ev.dayfirst else "month")

    # 2. parse (stage A)
    for col, header in mapped.items():
        t = _parse(t, spec.column(col), header, dayfirst_of.get(col))
    # materialised: the staged parse compiles slowly in Ibis, and every later query reads it
    t = materialize(t, "parsed")
    parsed = t

    rules: list[_Rule] = []

    flags: dict[str, ir.BooleanValue] = {}

    def add(rule, severity, col, flag_expr, message, example_cols=None, flag_name=None):
        fname = flag_name or f"__f{len(rules)}"
        flags[fname] = flag_expr.fill_null(False)
        header = mapped.get(col) if col else None
        cols = example_cols if example_cols is not None else ((header,) if header else ())
        rules.append(_Rule(rule, severity, col, header, fname, message, tuple(cols)))

    # 3. row rules
    for col, header in mapped.items():
        cs = spec.column(col)
        v = _v(col)
        h = _q(header)
        if cs.kind == "id":
            if spec.name == "marketing_costs" and col == "customer_id":
                continue
            sev = "error" if cs.required else "warning"
            todo = "fill in the id or remove those rows" if cs.required else \
                "they are kept with no id; fill them in if they matter"
            add("missing_id", sev, col, t[v + P.BLANK],
                lambda n, ex, h=h, col=col, todo=todo: f"{n} rows have a blank {h} ({col}); {todo}.")
        elif cs.required:
            add("missing_value", "error", col, t[v + P.BLANK],
                lambda n, ex, h=h, col=col: f"{n} rows have no value in {h} ({col}), which is "
                f"required; fill it in or remove those rows.")
        if cs.kind == "date":
            add("unparseable_date", "error", col, t[v + P.INVALID],
                lambda n, ex, h=h: f"{n} values in {h} are not dates CVM can read (e.g. "
                f"{_ex(ex)}); write them like 2024-05-03, or state --dayfirst/--monthfirst.")
            note = order_notes.get(col, (
                f"in {h} the day/month order is not known; state it with --dayfirst or "
                f"--monthfirst."))
            add("ambiguous_date", "error", col, t[v + P.AMBIGUOUS],
                lambda n, ex, note=note: f"{n} dates such as {_ex(ex)} could be day/month or "
                f"month/day: {note}")
            add("future_date", "error", col, t[v] > ibis.literal(as_of),
                lambda n, ex, h=h: f"{n} dates in {h} are after {as_of.isoformat()} (e.g. "
                f"{_ex(ex)}); check the year, or set the as-of date.")
        if cs.kind in ("money", "number", "integer"):
            bad = t[v + P.INVALID]
            if cs.kind == "integer":
                bad = bad | t[v + P.FRACTION]
            add("invalid_number", "error", col, bad,
                lambda n, ex, h=h: f"{n} values in {h} are not numbers (e.g. {_ex(ex)}); keep "
                f"only digits, a sign, a decimal point, thousands separators or a currency "
                f"symbol.")
            add("non_finite_number", "error", col, t[v + P.NON_FINITE_SUFFIX],
                lambda n, ex, h=h: f"{n} values in {h} are NaN or infinite; replace them with "
                f"real numbers or remove those rows.")
        if cs.kind == "flag":
            add("invalid_flag", "error", col, t[v + P.INVALID],
                lambda n, ex, h=h: f"{n} values in {h} are not yes/no (e.g. {_ex(ex)}); use "
                f"1/0, yes/no, true/false or 是/否.")

    # 4. per-table rules
    if spec.name == "transactions":
        h = _q(mapped["amount"])
        neg = t[_v("amount")] < 0
        if returns == "reject":
            add("negative_amount", "error", "amount", neg,
                lambda n, ex, h=h: f"{n} rows have a negative {h}, which returns=reject does "
                f"not allow; remove them or choose another --returns policy.")
        else:
            how = {"net-order": "netted against their order", "net-day":
                   "netted against the customer's purchases of the same day",
                   "keep": "kept as negative rows"}[returns]
            add("negative_amount", "warning", "amount", neg,
                lambda n, ex, h=h, how=how: f"{n} rows have a negative {h} (returns or "
                f"refunds); they are {how} (returns={returns}).")
        if "order_id" in mapped:
            oid, cid = t[_v("order_id")], t[_v("customer_id")]
            w = ibis.window(group_by=oid)
            several = oid.notnull() & (cid.min().over(w) != cid.max().over(w))
            h = _q(mapped["order_id"])
            add("repeated_order_id", "error", "order_id", several,
                lambda n, ex, h=h: f"{n} rows carry an order id in {h} that more than one "
                f"customer uses (e.g. {_ex(ex)}); fix the order or customer ids.")
            pos_date = ibis.ifelse(t[_v("amount")] > 0, t[_v("date")], P._null("date"))
            multi = (oid.notnull() & (t[_v("amount")] > 0)
                     & (pos_date.min().over(w) != pos_date.max().over(w)))
            add("order_id_several_dates", "warning", "order_id", multi,
                lambda n, ex, h=h: f"{n} purchase rows carry an order id in {h} that appears on "
                f"several dates (e.g. {_ex(ex)}); the rows are kept, check the order ids.")
        mixed = _currency_rule(t, mapped, currency)
        if mixed is not None:
            add("mixed_currencies", "error", *mixed)
    if spec.name == "customers":
        cid = t[_v("customer_id")]
        n_same = cid.count().over(ibis.window(group_by=cid))
        h = _q(mapped["customer_id"])
        add("duplicate_id", "error", "customer_id", cid.notnull() & (n_same > 1),
            lambda n, ex, h=h: f"{n} rows share a customer id in {h} with another row (e.g. "
            f"{_ex(ex)}); keep one row per customer.")
        if "acquisition_cost" in mapped:
            h = _q(mapped["acquisition_cost"])
            add("out_of_range", "error", "acquisition_cost", t[_v("acquisition_cost")] < 0,
                lambda n, ex, h=h: f"{n} values in {h} are negative (e.g. {_ex(ex)}); an "
                f"acquisition cost must be 0 or more.")
    if spec.name == "marketing_costs":
        blank_c = t[_v("customer_id") + P.BLANK] if "customer_id" in mapped else ibis.literal(True)
        blank_s = t[_v("segment") + P.BLANK] if "segment" in mapped else ibis.literal(True)
        cols = tuple(mapped[c] for c in ("customer_id", "segment") if c in mapped)
        add("missing_id", "error", "customer_id", blank_c & blank_s,
            lambda n, ex: f"{n} rows have neither a customer id nor a segment; give one of "
            f"them on every row.", example_cols=cols)
    if spec.name == "referrals":
        same = t[_v("referrer_id")] == t[_v("referred_id")]
        add("self_referral", "error", "referred_id", same,
            lambda n, ex: f"{n} rows have a customer referring themselves (e.g. {_ex(ex)}); "
            f"remove those rows.", example_cols=(mapped["referrer_id"],))
    if spec.name == "surveys" and "nps" in mapped:
        nps = t[_v("nps")]
        h = _q(mapped["nps"])
        add("out_of_range", "error", "nps", nps.notnull() & ~nps.between(0, 10),
            lambda n, ex, h=h: f"{n} values in {h} are outside 0-10 (e.g. {_ex(ex)}); an NPS "
            f"answer is a whole number from 0 to 10.")

    # 5. exact duplicate rows (every source column)
    raw_cols = list(raw.columns)
    rn = ibis.row_number().over(group_by=[t[c] for c in raw_cols], order_by=t[SOURCE_ROW])
    dup_sev: Severity = "error" if duplicates == "reject" else "warning"
    add("duplicate_row", dup_sev, None, rn > 0,
        lambda n, ex: f"{n} rows repeat an earlier row exactly; " + (
            "they are rejected (duplicates=reject)." if duplicates == "reject" else
            "they are kept as separate purchases (use duplicates=reject to reject them)."),
        example_cols=tuple(mapped.values()))

    # 6. every rule column in one projection, then the reject flag and reasons
    t = t.mutate(**flags)
    error_rules = [r for r in rules if r.severity == "error"]
    by_rule: dict[str, list[str]] = {}
    for r in error_rules:
        by_rule.setdefault(r.rule, []).append(r.flag)
    reasons = ibis.literal("")
    for rule_id, names in by_rule.items():
        reasons = reasons + ibis.ifelse(_any([t[f] for f in names]), rule_id + ";", "")
    reject = _any([t[r.flag] for r in error_rules])
    t = t.mutate(**{REJECT: reject, REASONS: ibis.ifelse(reject, reasons, P._null("string"))})
    t = materialize(t, "checked")
    if t is not parsed:
        drop_materialized(parsed)

    # 7. one aggregate query for every count
    aggs = {r.flag: _int_sum(t[r.flag]) for r in rules}
    aggs["__n"] = t.count()
    aggs["__rejected"] = _int_sum(t[REJECT])
    counts = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]

    report = ValidationReport(name, spec.name, n_rows=int(counts["__n"]),
                              n_rejected=int(counts["__rejected"] or 0),
                              mapping=mapping.to_dict(),
                              settings={"dayfirst": dayfirst, "returns": returns,
                                        "duplicates": duplicates, "currency": currency,
                                        "as_of": as_of.isoformat()})
    if mapping.unmapped and not spec.custom_attributes:
        report.issues.append(ValidationIssue(
            name, spec.name, "unmapped_column", "info", None, None, len(mapping.unmapped), [],
            list(mapping.unmapped[:MAX_EXAMPLES]),
            f"{len(mapping.unmapped)} columns are not used: "
            f"{', '.join(map(_q, mapping.unmapped))}; map them with --column if they matter."))
    for r in rules:
        n = int(counts[r.flag] or 0)
        if not n:
            continue
        rows, examples = _examples(t, r.flag, r.example_cols)
        where = f"（列 {r.header}）" if r.header else ""
        report.issues.append(ValidationIssue(
            name, spec.name, r.rule, r.severity, r.header, r.cvm_column, n, rows, examples,
            r.message(n, examples), f"{label('rule.' + r.rule, 'zh')}：{n} 行{where}。"))
    return Checked(report, t, mapping, spec, returns)


def _any(flags: list[ir.BooleanValue]) -> ir.BooleanValue:
    out = ibis.literal(False)
    for f in flags:
        out = out | f
    return out


def _currency_rule(t: ir.Table, mapped: dict[str, str], currency: str | None):
    """Mixed currencies: the currency column, else the symbol written with the amount.

    Returns the arguments of the rule (column, flag, message, example columns) or None.
    """
    cur = t[_v("amount") + P.CURRENCY]
    if "currency" in mapped:
        cur = ibis.coalesce(t[_v("currency")].upper(), cur)
    counted = (t.select(c=cur).filter(lambda r: r.c.notnull()).group_by("c")
               .aggregate(n=lambda r: r.count()).to_pyarrow().to_pylist())
    counts = {r["c"]: int(r["n"]) for r in counted}
    stated = currency.strip().upper() if currency else None
    stated = P.CURRENCY_CODES.get(stated, stated) if stated else None
    if not counts or (stated is None and len(counts) == 1):
        return None
    chosen = stated or sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    if set(counts) <= {chosen}:
        return None
    listed = ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    why = "the currency you stated" if stated else "the main currency of the file"
    header = mapped.get("currency", mapped["amount"])
    col = "currency" if "currency" in mapped else "amount"
    return (
        col,
        cur.notnull() & (cur != chosen),
        lambda n, ex: f"amounts are in more than one currency ({listed}); {n} rows are not in "
        f"{chosen}, {why}: convert them to {chosen} or state the currency with --currency.",
        tuple(dict.fromkeys((header, mapped["amount"]))),
    )


def _ex(examples: list[Any]) -> str:
    shown = [e for e in examples if e not in (None, "")][:3]
    return ", ".join(repr(e) for e in shown) if shown else "blank values"


def _as_date(value: dt.date | str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"as-of date {value!r} is not a date",
                          hint="write it as 2024-05-03") from None


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def _examples(t: ir.Table, flag: str, cols: tuple[str, ...]) -> tuple[list[int], list[Any]]:
    """First source rows and raw example values of the rows where ``flag`` is true."""
    cols = tuple(dict.fromkeys(cols))
    sel = t.filter(t[flag]).order_by(SOURCE_ROW).limit(MAX_ROWS)
    recs = sel.select(SOURCE_ROW, *cols).to_pyarrow().to_pylist()
    rows = [int(r[SOURCE_ROW]) for r in recs]
    if len(cols) == 1:
        examples = [_jsonable(r[cols[0]]) for r in recs[:MAX_EXAMPLES]]
    else:
        examples = [", ".join(f"{c}={r[c]}" for c in cols) for r in recs[:MAX_EXAMPLES]]
    return rows, examples


# -- returns and refunds ----------------------------------------------------------------------


def net_returns(
    table: ir.Table, returns: str, *, file: str = "", has_order_id: bool | None = None
) -> tuple[ir.Table, list[ValidationIssue]]:
    """Net negative amounts of a canonical transactions table by the ``returns`` policy.

    Only groups (customer + order, or customer + day) that contain a negative row change:
    they become their first positive row carrying the group's net amount, quantity and
    product cost. Groups with a net amount ≤ 0 are removed and reported (``refunded_order``,
    or ``unmatched_return`` when the group has no purchase at all).

    >>> import ibis
    >>> t = ibis.memtable({"customer_id": ["a", "a", "b"], "order_id": ["1", "1", "2"],
    ...     "date": [dt.date(2024, 1, 1), dt.date(2024, 1, 5), dt.date(2024, 1, 2)],
    ...     "amount": [10.0, -4.0, -3.0], "source_row": [2, 3, 4]})
    >>> out, issues = net_returns(t, "net-order")
    >>> out.to_pyarrow().select(["customer_id", "amount", "source_row"]).to_pylist()
    [{'customer_id': 'a', 'amount': 6.0, 'source_row': 2}]
    >>> [(i.rule, i.count) for i in issues]
    [('unmatched_return', 1)]
    """
    if has_order_id is None:
        has_order_id = "order_id" in table.columns
    if returns == "auto":
        returns = "net-order" if has_order_id else "net-day"
    if returns not in ("net-order", "net-day"):
        return table, []
    t = table
    if returns == "net-order" and has_order_id:
        keys = [t.customer_id, t.order_id, ibis.ifelse(t.order_id.isnull(), t.date,
                                                       P._null("date"))]
        unit = "order"
    else:
        keys = [t.customer_id, t.date]
        unit = "customer-day"
    w = ibis.window(group_by=keys)
    amount = t.amount
    t = t.mutate(
        __neg=ibis.ifelse((amount < 0).fill_null(False), 1, 0).max().over(w),
        __net=amount.sum().over(w),
        __first=ibis.ifelse(amount > 0, t.source_row, P._null("int64")).min().over(w),
        __rows=t.count().over(w),
        **{f"__net_{c}": t[c].sum().over(w) for c in ("quantity", "product_cost")
           if c in t.columns},
    )
    touched = t.__neg > 0
    refunded = (touched & t.__first.notnull() & (t.__net <= 0)).fill_null(False)
    unmatched = (touched & t.__first.isnull()).fill_null(False)
    counts = t.aggregate(refunded_order=_int_sum(refunded),
                         unmatched_return=_int_sum(unmatched)).to_pyarrow().to_pylist()
    issues = []
    for rule, cond, what in (
        ("refunded_order", refunded, f"fully refunded (net amount ≤ 0) {unit}s"),
        ("unmatched_return", unmatched, f"returns with no purchase in their {unit}"),
    ):
        n = int(counts[0][rule] or 0) if counts else 0
        if not n:
            continue
        sel = t.filter(cond).order_by("source_row").limit(MAX_ROWS)
        ex_col = "order_id" if unit == "order" else "customer_id"
        recs = sel.select("source_row", ex_col, "amount").to_pyarrow().to_pylist()
        issues.append(ValidationIssue(
            file, "transactions", rule, "info", None, "amount", n,
            [int(r["source_row"]) for r in recs],
            [f"{ex_col}={r[ex_col]}, amount={r['amount']}" for r in recs[:MAX_EXAMPLES]],
            f"{n} rows are {what} and were removed from the purchases (returns={returns}); "
            f"use returns=keep to keep them as they are."))
    keep = ~touched | ((t.source_row == t.__first) & (t.__net > 0))
    out = t.filter(keep.fill_null(False))
    repl = {"amount": ibis.ifelse(out.__neg > 0, out.__net, out.amount)}
    for c in ("quantity", "product_cost"):
        if c in table.columns:
            repl[c] = ibis.ifelse(out.__neg > 0, out[f"__net_{c}"], out[c])
    out = out.mutate(**repl)
    return out.select(*table.columns), issues
