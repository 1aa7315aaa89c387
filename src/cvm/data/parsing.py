"""Value parsing written as portable Ibis expressions: dates, money, numbers, flags, ids.

Every parser takes an Ibis column (usually raw text) and returns Ibis expressions, so the same
code runs on DuckDB, PostgreSQL and Spark. No parser relies on an engine raising on bad input
(``try_cast`` and ``strptime`` behave differently on each engine): every cast is guarded by a
full-match regular expression, and a value that does not match becomes NULL together with a
boolean flag that validation counts and reports. Nothing is coerced silently.

Dates
    Accepted text forms (surrounding spaces ignored):

    ============================  ==========================================================
    ``2024-05-03``                ISO; also ``2024/05/03`` and ``2024.05.03``
    ``2024-05-03T14:30[:05[.f]]``  optional time after ``T`` or a space, then an optional
                                  offset ``Z``, ``+08:00``, ``+0800`` or ``-05``
    ``03/05/2024``                day/month order needs ``dayfirst`` (also ``-`` and ``.``)
    ``2024年5月3日``               optional time ``14:30`` or ``14时30分``
    ``20240503``                  compact ``YYYYMMDD``
    ``45415`` / ``45415.5``       Excel serial day (1 … 2958465, epoch 1899-12-30);
                                  the fraction is the time of day
    ============================  ==========================================================

    Excel serials count days from 1899-12-30, which matches Excel from 1900-03-01 (serial 61)
    on; serials 1–60 read one day earlier than Excel shows, because Excel counts a
    29 February 1900 that never existed.

    A timestamp with an offset keeps its *local wall-clock* date and time as written, and the
    offset is dropped: ``2024-05-03T23:30+08:00`` is 3 May 2024 23:30, not 15:30 UTC. A
    purchase belongs to the day the customer saw on the receipt. Fractions of a second are
    dropped. Impossible dates (``2024-02-30``) are unparseable, never shifted. Columns that are
    already typed date or timestamp (Parquet, databases, Excel date cells) pass straight
    through.

Money
    Optional sign, currency symbols or codes before or after the number (``¥ ￥ $ € £ 元 RMB
    CNY USD EUR GBP``), thousands separators (``,`` or a space, in groups of three),
    parentheses for negatives (``(12.50)`` is -12.5). ``nan``, ``inf``, ``-Infinity`` are
    *non-finite*; anything else that is not a number is *invalid*. The currency symbol seen is
    returned as an ISO code (``¥ ￥ 元 RMB CNY`` → CNY, ``$ USD`` → USD, ``€`` → EUR,
    ``£`` → GBP) for the mixed-currency rule.

Flags
    ``1/0``, ``true/false``, ``t/f``, ``yes/no``, ``y/n``, ``是/否``, ``有/无``, ``对/错``
    (any case).

Each parser takes a table and a column name and returns the table with new columns: the
parsed value under ``out`` and boolean flags under ``out + "__blank"``, ``out + "__invalid"``
and so on. Parsers work in stages (one ``mutate`` per stage) so the SQL stays small: a single
nested expression would be inlined by the compiler into megabytes of SQL.

>>> import ibis
>>> t = ibis.memtable({"s": ["2024-05-03", "2024年5月3日", "03/05/2024", "2024-02-30"]})
>>> out = parse_date(t, "s", "d", dayfirst=True).select("d", "d__invalid")
>>> [(str(r["d"]), r["d__invalid"]) for r in out.to_pyarrow().to_pylist()]
[('2024-05-03', False), ('2024-05-03', False), ('2024-05-03', False), ('None', True)]
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

# -- regular expressions (RE2, PostgreSQL ARE and Java all accept these) ---------------------

_TIME = r"(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
_OFFSET = r"\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
ISO_DATE = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + _OFFSET + r"$"
PLAIN_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
DMY_DATE = r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME + _OFFSET + r"$"
ZH_DATE = (
    r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?$"
)
COMPACT_DATE = r"^(\d{4})(\d{2})(\d{2})$"
EXCEL_SERIAL = r"^\d{1,7}(?:\.\d+)?$"
EXCEL_SERIAL_MAX = 2958465  # 9999-12-31

_CURRENCY_TOKEN = r"(US\$|RMB|CNY|USD|EUR|GBP|JPY|HKD|¥|￥|\$|€|£|元)"
_NUM = r"(?:\d{1,3}(?:[, ]\d{3}){1,5}|\d{1,18})(?:\.\d*)?(?:E[+-]?\d{1,2})?|\.\d{1,18}"
PLAIN_NUMBER = r"^-?\d{1,18}(?:\.\d{1,18})?$"
SIGNED_NUMBER = r"^(?:[+-]\s*)?(?:" + _NUM + r")$"
PAREN_NUMBER = r"^\(\s*(?:" + _NUM + r")\s*\)$"
NON_FINITE = r"^[+-]?\s*(?:NAN|INF|INFINITY)$"
CURRENCY_CODES = {
    "¥": "CNY", "￥": "CNY", "元": "CNY", "RMB": "CNY", "CNY": "CNY",
    "$": "USD", "US$": "USD", "USD": "USD", "€": "EUR", "EUR": "EUR", "£": "GBP", "GBP": "GBP",
    "JPY": "JPY", "HKD": "HKD",
}
TRUE_WORDS = ("1", "1.0", "true", "t", "yes", "y", "是", "有", "对")
FALSE_WORDS = ("0", "0.0", "false", "f", "no", "n", "否", "无", "错")


def _null(dtype: str) -> ir.Value:
    return ibis.null().cast(dtype)


def _group(s: ir.StringValue, pattern: str, index: int) -> ir.StringValue:
    """Regex group ``index``; NULL when the group did not take part (DuckDB gives '')."""
    return s.re_extract(pattern, index).nullif("")


def as_text(value: ir.Value) -> ir.StringValue:
    """``value`` as trimmed text; blank becomes NULL.

    >>> import ibis
    >>> t = ibis.memtable({"x": [" a ", "  ", None]})
    >>> t.select(y=as_text(t.x)).to_pyarrow()["y"].to_pylist()
    ['a', None, None]
    """
    s = value if value.type().is_string() else value.cast("string")
    return s.strip().nullif("")


# -- suffixes of the columns a parser adds ----------------------------------------------------

TS = "__ts"
BLANK = "__blank"
INVALID = "__invalid"
AMBIGUOUS = "__ambiguous"
NON_FINITE_SUFFIX = "__non_finite"
CURRENCY = "__currency"
FRACTION = "__fraction"


def _tmp(out: str, name: str) -> str:
    return f"__p_{out}_{name}"


def backend_name(t: ir.Table) -> str | None:
    """Name of the backend ``t`` is bound to (None for an unbound memtable)."""
    try:
        return t._find_backend(use_default=False).name
    except Exception:
        return None


def _fence(t: ir.Table) -> ir.Table:
    """An optimisation fence between parsing stages, where an engine needs one.

    PostgreSQL pulls simple subqueries up into their parent, which re-inlines every stage and
    makes the expression tree (and planning time) grow exponentially. A LIMIT keeps the
    subquery. DuckDB and Spark do not need it (Spark's CollapseProject refuses to duplicate
    expensive expressions; a LIMIT there would force a single partition).
    """
    if backend_name(t) == "postgres":
        return t.limit(2**62)
    return t


def _drop_tmp(t: ir.Table, out: str) -> ir.Table:
    prefix = f"__p_{out}_"
    return t.drop(*[c for c in t.columns if c.startswith(prefix)])


# -- dates ------------------------------------------------------------------------------------


def _days_in_month(y: ir.IntegerValue, m: ir.IntegerValue) -> ir.IntegerValue:
    leap = ((y % 4) == 0) & (((y % 100) != 0) | ((y % 400) == 0))
    return ibis.cases(
        (m == 2, ibis.ifelse(leap, 29, 28)),
        (m.isin([4, 6, 9, 11]), 30),
        else_=31,
    )


def _to_int(s: ir.StringValue, ok: ir.BooleanValue, default: int = 0) -> ir.IntegerValue:
    """Cast digits to int64; ``s`` must be digits wherever ``ok`` (NULL becomes ``default``)."""
    safe = ibis.ifelse(ok.fill_null(False), ibis.coalesce(s, str(default)), str(default))
    return safe.cast("int64")


def parse_date(
    t: ir.Table, column: str, out: str, *, dayfirst: bool | None = None
) -> ir.Table:
    """Add ``out`` (date), ``out__ts`` (timestamp) and flags ``out__blank``, ``out__invalid``,
    ``out__ambiguous`` parsed from ``t[column]`` (forms: see the module docstring).

    ``dayfirst`` decides ``03/05/2024``: True → 3 May, False → 5 March, None → NULL and
    flagged ambiguous (call :func:`infer_dayfirst` first). Ambiguous values are not counted
    as invalid.

    >>> import ibis
    >>> t = ibis.memtable({"s": ["2024-05-03T23:30:00+08:00", "45415.75", "20240503", "x"]})
    >>> rows = parse_date(t, "s", "d").to_pyarrow().to_pylist()
    >>> [str(r["d__ts"]) for r in rows]
    ['2024-05-03 23:30:00', '2024-05-03 18:00:00', '2024-05-03 00:00:00', 'None']
    >>> [r["d__invalid"] for r in rows]
    [False, False, False, True]
    """
    value = t[column]
    dtype = value.type()
    false = ibis.literal(False)
    if dtype.is_date() or dtype.is_timestamp():
        date = value if dtype.is_date() else value.date()
        ts = value.cast("timestamp") if dtype.is_date() else value
        return t.mutate(**{out: date, out + TS: ts, out + BLANK: value.isnull(),
                           out + INVALID: false, out + AMBIGUOUS: false})

    n = lambda name: _tmp(out, name)  # noqa: E731
    t = _fence(t).mutate(**{n("s"): as_text(value)})
    s = t[n("s")]
    # fast path: plain YYYY-MM-DD (most files) is cut with substr, skipping the other regexes
    t = _fence(t).mutate(**{n("plain"): s.re_search(PLAIN_ISO_DATE).fill_null(False)})
    plain = t[n("plain")]

    def unless_plain(pattern: str) -> ir.BooleanValue:
        return ibis.ifelse(plain, False, s.re_search(pattern).fill_null(False))

    t = _fence(t).mutate(**{
        n("iso"): plain | unless_plain(ISO_DATE),
        n("dmy"): unless_plain(DMY_DATE),
        n("zh"): unless_plain(ZH_DATE),
        n("compact"): unless_plain(COMPACT_DATE),
        n("serial"): unless_plain(EXCEL_SERIAL),
    })
    is_iso, is_dmy, is_zh, is_compact = (t[n(k)] for k in ("iso", "dmy", "zh", "compact"))
    dmy_known = is_dmy & ibis.literal(dayfirst is not None)
    dmy_day, dmy_month = (1, 2) if dayfirst else (2, 1)
    text = is_iso | dmy_known | is_zh | is_compact
    plain_parts = {1: s.substr(0, 4), 2: s.substr(5, 2), 3: s.substr(8, 2)}

    def part(iso: int, dmy: int, zh: int, compact: int | None, default: int) -> ir.IntegerValue:
        branches = [
            (plain, plain_parts.get(iso, _null("string"))),
            (is_iso, _group(s, ISO_DATE, iso)),
            (dmy_known, _group(s, DMY_DATE, dmy)),
            (is_zh, _group(s, ZH_DATE, zh)),
        ]
        if compact is not None:
            branches.append((is_compact, _group(s, COMPACT_DATE, compact)))
        return _to_int(ibis.cases(*branches, else_=_null("string")), text, default)

    # Excel serials: guarded cast, then days after the 1899-12-30 epoch plus seconds of the day
    x = ibis.ifelse(t[n("serial")], s, "0").cast("float64")
    t = _fence(t).mutate(**{
        n("text"): text,
        n("y"): part(1, 3, 1, 1, 2000), n("m"): part(2, dmy_month, 2, 2, 1),
        n("d"): part(3, dmy_day, 3, 3, 1), n("h"): part(4, 4, 4, None, 0),
        n("i"): part(5, 5, 5, None, 0), n("sec"): part(6, 6, 6, None, 0),
        n("x"): x,
    })
    x, text = t[n("x")], t[n("text")]
    serial_ok = t[n("serial")] & ~text & (x >= 1) & (x < EXCEL_SERIAL_MAX + 1)
    t = _fence(t).mutate(**{n("serial_ok"): serial_ok,
                            n("x"): ibis.ifelse(serial_ok, x, 1.0)})
    x = t[n("x")]
    y, m, d = t[n("y")], t[n("m")], t[n("d")]
    secs = ((x - x.floor()) * 86400).round().cast("int64")
    t = _fence(t).mutate(**{
        n("days"): x.floor().cast("int64"),
        n("secs"): ibis.ifelse(secs > 86399, 86399, secs),
        n("valid"): (
            text
            & y.between(1, 9999)
            & m.between(1, 12)
            & (d >= 1)
            & (d <= _days_in_month(y, ibis.ifelse(m.between(1, 12), m, 1)))
            & t[n("h")].between(0, 23)
            & t[n("i")].between(0, 59)
            & t[n("sec")].between(0, 59)
        ),
    })
    valid, serial_ok = t[n("valid")], t[n("serial_ok")]
    # clamp every part so that no engine ever sees an impossible date
    clamp = (("y", 2000), ("m", 1), ("d", 1), ("h", 0), ("i", 0), ("sec", 0))
    t = _fence(t).mutate(**{n(k): ibis.ifelse(valid, t[n(k)], dflt) for k, dflt in clamp})
    y, m, d = t[n("y")], t[n("m")], t[n("d")]
    # timestamps as date + seconds of the day: Spark has no timestamp-from-parts in Ibis
    t = _fence(t).mutate(**{
        n("date"): ibis.cases(
            (valid, ibis.date(y, m, d)),
            (serial_ok, ibis.date(1899, 12, 30) + t[n("days")].as_interval("D")),
            else_=_null("date"),
        ),
        n("secs"): ibis.ifelse(valid, t[n("h")] * 3600 + t[n("i")] * 60 + t[n("sec")],
                               t[n("secs")]),
    })
    date = t[n("date")]
    blank = s.isnull()
    ambiguous = is_dmy & ibis.literal(dayfirst is None)
    t = _fence(t).mutate(**{
        out: date,
        out + TS: date.cast("timestamp") + t[n("secs")].as_interval("s"),
        out + BLANK: blank,
        out + INVALID: ~blank & ~valid & ~serial_ok & ~ambiguous,
        out + AMBIGUOUS: ambiguous,
    })
    return _drop_tmp(t, out)


@dataclass(frozen=True)
class DayFirstEvidence:
    """What the day/month/year values of a column say about their order."""

    n_dmy: int
    """Values written as day/month/year or month/day/year."""
    first_over_12: int
    """Values whose first part is above 12 (so the first part must be the day)."""
    second_over_12: int
    """Values whose second part is above 12 (so the second part must be the day)."""

    @property
    def dayfirst(self) -> bool | None:
        """True/False when the values settle the order; None when they do not or conflict."""
        if self.first_over_12 and not self.second_over_12:
            return True
        if self.second_over_12 and not self.first_over_12:
            return False
        return None

    @property
    def conflicting(self) -> bool:
        """Both orders are proven by some values: the column mixes them."""
        return bool(self.first_over_12 and self.second_over_12)


def infer_dayfirst(t: ir.Table, column: str) -> DayFirstEvidence:
    """Look at the day/month/year values of ``t[column]`` to find their order (one query).

    >>> import ibis
    >>> t = ibis.memtable({"d": ["03/05/2024", "25/12/2024", "2024-01-02"]})
    >>> ev = infer_dayfirst(t, "d")
    >>> ev.dayfirst, ev.n_dmy
    (True, 2)
    """
    if not t[column].type().is_string():
        return DayFirstEvidence(0, 0, 0)
    s = as_text(t[column])
    u = t.select(s=s).filter(lambda r: r.s.re_search(DMY_DATE))
    u = u.select(
        first=_to_int(_group(u.s, DMY_DATE, 1), ibis.literal(True)),
        second=_to_int(_group(u.s, DMY_DATE, 2), ibis.literal(True)),
    )
    agg = u.aggregate(
        n_dmy=u.count(),
        first_over_12=ibis.ifelse(u.first > 12, 1, 0).sum(),
        second_over_12=ibis.ifelse(u.second > 12, 1, 0).sum(),
    )
    row = agg.to_pyarrow().to_pylist()[0]
    return DayFirstEvidence(*(int(row[k] or 0) for k in ("n_dmy", "first_over_12",
                                                           "second_over_12")))


# -- numbers and money ------------------------------------------------------------------------


def parse_number(t: ir.Table, column: str, out: str) -> ir.Table:
    """Add ``out`` (float64) parsed from amounts written with signs, currency symbols or codes,
    thousands separators or ``(12.50)``, and ``out__blank``, ``out__invalid``,
    ``out__non_finite`` flags and ``out__currency`` (ISO code of a symbol seen, else NULL).

    >>> import ibis
    >>> t = ibis.memtable({"s": ["¥1,234.50", "(12.50)", "-3 元", "USD 7", "nan", "12,34", None]})
    >>> rows = parse_number(t, "s", "v").to_pyarrow().to_pylist()
    >>> [r["v"] for r in rows]
    [1234.5, -12.5, -3.0, 7.0, None, None, None]
    >>> [r["v__currency"] for r in rows][:4]
    ['CNY', None, 'CNY', 'USD']
    >>> [r["v__invalid"] for r in rows], [r["v__non_finite"] for r in rows]
    ([False, False, False, False, False, True, False], [False, False, False, False, True, False, False])
    """
    value = t[column]
    dtype = value.type()
    false = ibis.literal(False)
    if dtype.is_numeric():
        v = value.cast("float64")
        t = _fence(t).mutate(**{out: v})
        v = t[out]
        nf = (v.isnan() | v.isinf()).fill_null(False) if dtype.is_floating() else false
        t = _fence(t).mutate(**{out + NON_FINITE_SUFFIX: nf})
        return t.mutate(**{
            out: ibis.ifelse(t[out + NON_FINITE_SUFFIX], _null("float64"), t[out]),
            out + BLANK: value.isnull(), out + INVALID: false, out + CURRENCY: _null("string"),
        })

    n = lambda name: _tmp(out, name)  # noqa: E731
    t = _fence(t).mutate(**{n("u"): as_text(value).upper()})
    u = t[n("u")]
    # fast path: a plain decimal (most files) skips the currency and separator regexes
    t = _fence(t).mutate(**{n("plain"): u.re_search(PLAIN_NUMBER).fill_null(False)})
    plain = t[n("plain")]
    t = _fence(t).mutate(**{
        n("token"): ibis.ifelse(plain, _null("string"),
                                u.re_extract(_CURRENCY_TOKEN, 1).nullif("")),
        n("body"): ibis.ifelse(plain, u, u.re_replace(_CURRENCY_TOKEN, "").strip()),
    })
    body, token = t[n("body")], t[n("token")]
    blank = u.isnull()

    def unless_plain(pattern: str) -> ir.BooleanValue:
        return ibis.ifelse(plain, False, body.re_search(pattern).fill_null(False))

    t = _fence(t).mutate(**{
        n("signed"): plain | unless_plain(SIGNED_NUMBER),
        n("paren"): unless_plain(PAREN_NUMBER),
        out + NON_FINITE_SUFFIX: ~blank & unless_plain(NON_FINITE),
        out + CURRENCY: ibis.cases(*[(token == k, v) for k, v in CURRENCY_CODES.items()],
                                   else_=_null("string")),
        out + BLANK: blank,
    })
    ok = t[n("signed")] | t[n("paren")]
    digits = ibis.ifelse(plain, body, body.re_replace(r"[^0-9.E+-]", ""))
    t = _fence(t).mutate(**{
        n("ok"): ok,
        n("num"): ibis.ifelse(ok, digits, "0").cast("float64"),
    })
    num = ibis.ifelse(t[n("paren")], -t[n("num")], t[n("num")])
    t = _fence(t).mutate(**{
        out: ibis.ifelse(t[n("ok")], num, _null("float64")),
        out + INVALID: ~t[out + BLANK] & ~t[n("ok")] & ~t[out + NON_FINITE_SUFFIX],
    })
    return _drop_tmp(t, out)


def parse_integer(t: ir.Table, column: str, out: str) -> ir.Table:
    """Like :func:`parse_number`, then ``out`` becomes int64 and ``out__fraction`` flags
    present values that are not whole numbers (their ``out`` is NULL).

    >>> import ibis
    >>> t = ibis.memtable({"s": ["7", "7.0", "7.5"]})
    >>> rows = parse_integer(t, "s", "v").to_pyarrow().to_pylist()
    >>> [(r["v"], r["v__fraction"]) for r in rows]
    [(7, False), (7, False), (None, True)]
    """
    t = parse_number(t, column, out)
    v = t[out]
    whole = (v.notnull() & (v.floor() == v) & (v.abs() < 2.0**53)).fill_null(False)
    t = t.mutate(**{out + FRACTION: v.notnull() & ~whole,
                    out: ibis.ifelse(whole, ibis.ifelse(whole, v, 0.0).cast("int64"),
                                     _null("int64"))})
    return t


# -- flags, ids and text ----------------------------------------------------------------------


def parse_flag(t: ir.Table, column: str, out: str) -> ir.Table:
    """Add ``out`` (boolean) from yes/no words, with ``out__blank`` and ``out__invalid``.

    >>> import ibis
    >>> t = ibis.memtable({"s": ["是", "N", "1", "maybe"]})
    >>> rows = parse_flag(t, "s", "v").to_pyarrow().to_pylist()
    >>> [(r["v"], r["v__invalid"]) for r in rows]
    [(True, False), (False, False), (True, False), (None, True)]
    """
    value = t[column]
    if value.type().is_boolean():
        return t.mutate(**{out: value, out + BLANK: value.isnull(),
                           out + INVALID: ibis.literal(False)})
    t = t.mutate(**{_tmp(out, "s"): as_text(value).lower()})
    s = t[_tmp(out, "s")]
    yes = s.isin(TRUE_WORDS).fill_null(False)
    no = s.isin(FALSE_WORDS).fill_null(False)
    t = t.mutate(**{
        out: ibis.cases((yes, True), (no, False), else_=_null("boolean")),
        out + BLANK: s.isnull(),
        out + INVALID: s.notnull() & ~yes & ~no,
    })
    return _drop_tmp(t, out)


def parse_text(t: ir.Table, column: str, out: str) -> ir.Table:
    """Add ``out``: trimmed text (blank → NULL) and ``out__blank``.

    >>> import ibis
    >>> t = ibis.memtable({"s": [" 007 ", ""]})
    >>> parse_text(t, "s", "v").to_pyarrow()["v"].to_pylist()
    ['007', None]
    """
    t = t.mutate(**{out: as_text(t[column])})
    return t.mutate(**{out + BLANK: t[out].isnull()})
