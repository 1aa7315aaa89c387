"""Map a user's column headers onto the columns of a CVM table.

Three sources, in this order of precedence:

1. ``columns``: overrides, CVM column → header (the CLI's ``--column customer_id=客户编号``);
2. ``mapping``: a YAML mapping file (or an already-loaded dict), either one section per table::

       transactions: {customer_id: 客户编号, date: 下单时间, amount: 实付金额}
       customers: {customer_id: 会员号}

   or a flat mapping for a single table (``{customer_id: 客户编号, ...}``);
3. automatic detection from :attr:`ColumnSpec.aliases`: a header that equals an alias
   (ignoring case and surrounding spaces) wins over one that matches only after removing
   spaces, underscores and hyphens; earlier aliases win over later ones; a header is never
   mapped twice.

The result records, for each CVM column, the header it reads and how it was found
(``given`` or ``detected``), so a front end can show it for the user to confirm or override.

>>> m = resolve_mapping(["客户编号", "下单时间", "实付金额", "备注"], "transactions")
>>> m.header("customer_id"), m.columns["date"].how
('客户编号', 'detected')
>>> m.unmapped
('备注',)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cvm.data.schema import TableSpec, table_spec
from cvm.errors import ConfigError, InputFileError, MissingColumnError
from cvm.labels import Note, Term

How = Literal["given", "detected"]


@dataclass(frozen=True)
class MappedColumn:
    """One CVM column and the source header it reads."""

    column: str
    header: str
    how: How


@dataclass(frozen=True)
class ColumnMapping:
    """How the headers of one source map onto one CVM table."""

    table: str
    columns: dict[str, MappedColumn]
    """CVM column → mapped header, in the order of the table spec."""
    headers: tuple[str, ...]
    """Every header of the source, in source order."""
    unmapped: tuple[str, ...] = field(default=())
    """Headers no CVM column reads (kept as custom attributes when the table allows)."""

    def header(self, column: str) -> str | None:
        """The source header of CVM ``column``, or None when it is not mapped."""
        mc = self.columns.get(column)
        return mc.header if mc else None

    @property
    def custom(self) -> tuple[str, ...]:
        """Unmapped headers kept as custom attributes (only for tables that keep them)."""
        return self.unmapped if table_spec(self.table).custom_attributes else ()

    def to_dict(self) -> dict:
        """JSON-ready: ``{"table", "columns": {col: {"header", "how"}}, "unmapped"}``."""
        return {
            "table": self.table,
            "columns": {c: {"header": m.header, "how": m.how} for c, m in self.columns.items()},
            "unmapped": list(self.unmapped),
        }


def normalize_header(header: str) -> str:
    """Lower case, without spaces, underscores, hyphens or dots.

    >>> normalize_header(" Customer_ID ")
    'customerid'
    """
    return re.sub(r"[\s_\-.]+", "", str(header)).lower()


def parse_column_options(options: Iterable[str]) -> dict[str, str]:
    """Turn CLI options ``["customer_id=客户编号", ...]`` into ``{"customer_id": "客户编号"}``.

    >>> parse_column_options(["date = 下单时间"])
    {'date': '下单时间'}
    """
    out: dict[str, str] = {}
    for opt in options:
        if "=" not in opt:
            raise ConfigError(
                f"--column {opt!r} is not CVM_COLUMN=YOUR_HEADER",
                hint="write it as --column customer_id=客户编号",
            )
        col, header = opt.split("=", 1)
        out[col.strip()] = header.strip()
    return out


def load_mapping(mapping: str | Path | Mapping | None, table: str) -> dict[str, str]:
    """The CVM column → header dict for ``table`` from a YAML file or a loaded dict.

    >>> load_mapping({"transactions": {"amount": "实付金额"}, "customers": {}}, "transactions")
    {'amount': '实付金额'}
    >>> load_mapping({"amount": "实付金额"}, "transactions")
    {'amount': '实付金额'}
    """
    if mapping is None:
        return {}
    source = "the mapping"
    if isinstance(mapping, (str, Path)):
        import yaml

        path = Path(mapping)
        source = f"mapping file {path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise InputFileError(f"mapping file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"cannot read mapping file {path}: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source} is not valid YAML: {exc}") from exc
        mapping = data or {}
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{source} must map column names to headers",
                          hint="write it as: transactions: {customer_id: 客户编号, date: 下单时间}")
    from cvm.data.schema import TABLES

    if any(k in TABLES for k in mapping) and all(
        k in TABLES or not isinstance(v, str) for k, v in mapping.items()
    ):
        section = mapping.get(table) or {}
    else:
        section = mapping
    if not isinstance(section, Mapping):
        raise ConfigError(f"the {table} section of {source} must map column names to headers")
    return {str(k).strip(): str(v).strip() for k, v in section.items() if v is not None}


def closest_header(name: str, headers: Iterable[str]) -> str | None:
    """The header most like ``name`` (by normalized spelling), or None if nothing is close.

    >>> closest_header("客户号", ["客户编号", "金额"])
    '客户编号'
    """
    headers = list(headers)
    norm = {normalize_header(h): h for h in headers}
    hit = difflib.get_close_matches(normalize_header(name), list(norm), n=1, cutoff=0.5)
    return norm[hit[0]] if hit else None


def resolve_mapping(
    headers: Iterable[str],
    table: str | TableSpec = "transactions",
    *,
    mapping: str | Path | Mapping | None = None,
    columns: Mapping[str, str] | Iterable[str] | None = None,
    source_name: str = "the input",
) -> ColumnMapping:
    """Map ``headers`` onto the columns of ``table`` (see the module docstring).

    Raises :class:`MissingColumnError` when a given mapping names a header the source does not
    have (with the closest header), or when a required column is neither given nor detected.

    >>> m = resolve_mapping(["id", "when", "paid"], "transactions",
    ...                     columns={"date": "when", "amount": "paid"})
    >>> [(c, m.header(c), m.columns[c].how) for c in m.columns]
    [('customer_id', 'id', 'detected'), ('date', 'when', 'given'), ('amount', 'paid', 'given')]
    """
    spec = table if isinstance(table, TableSpec) else table_spec(table)
    headers = tuple(str(h) for h in headers)
    given = load_mapping(mapping, spec.name)
    if columns is not None:
        overrides = (
            dict(columns) if isinstance(columns, Mapping) else parse_column_options(columns)
        )
        given.update({k.strip(): str(v).strip() for k, v in overrides.items()})

    found: dict[str, MappedColumn] = {}
    used: set[str] = set()
    by_lower = {}
    for h in headers:
        by_lower.setdefault(h.strip().lower(), h)
    for col, header in given.items():
        if col not in spec.names:
            raise ConfigError(
                f"{source_name}: the mapping names {col!r}, which is not a column of "
                f"{spec.name}",
                hint=f"use one of: {', '.join(spec.names)}",
            )
        actual = header if header in headers else by_lower.get(header.strip().lower())
        if actual is None:
            close = closest_header(header, headers)
            raise MissingColumnError(
                Note("error.mapped_column_missing", source=source_name, col=col, header=header,
                     headers=", ".join(map(repr, headers))),
                hint=Note("hint.fix_mapping", col=col, example=close or headers[0] if headers else "…",
                          did_you_mean=Note("hint.did_you_mean", header=close) if close else ""),
            )
        if actual in used:
            other = next(c for c, m in found.items() if m.header == actual)
            raise ConfigError(
                f"{source_name}: column {actual!r} is mapped to both {other} and {col}",
                hint="map each column once",
            )
        found[col] = MappedColumn(col, actual, "given")
        used.add(actual)

    # detection: (tier, alias position, column position) → greedy assignment
    candidates = []
    for ci, cs in enumerate(spec.columns):
        if cs.name in found:
            continue
        aliases = (cs.name, *cs.aliases)
        for h in headers:
            if h in used:
                continue
            hl, hn = h.strip().lower(), normalize_header(h)
            for ai, alias in enumerate(aliases):
                if hl == alias.lower():
                    candidates.append((0, ai, ci, cs.name, h))
                    break
                if hn == normalize_header(alias):
                    candidates.append((1, ai, ci, cs.name, h))
                    break
    for _tier, _ai, _ci, col, h in sorted(candidates):
        if col in found or h in used:
            continue
        found[col] = MappedColumn(col, h, "detected")
        used.add(h)

    missing = [c.name for c in spec.required if c.name not in found]
    if missing:
        col = missing[0]
        cs = spec.column(col)
        close = closest_header(col, [h for h in headers if h not in used]) or next(
            (h for h in headers if h not in used), None
        )
        example = close or "HEADER"
        raise MissingColumnError(
            Note("error.column_not_found", source=source_name, what=Term(cs.en.lower(), cs.zh), col=col,
                 alias=cs.zh, table=spec.name, missing=", ".join(missing), headers=", ".join(map(repr, headers))),
            hint=Note("hint.say_which_column", col=col, example=example, table=spec.name),
        )

    ordered = {c.name: found[c.name] for c in spec.columns if c.name in found}
    unmapped = tuple(h for h in headers if h not in used)
    return ColumnMapping(spec.name, ordered, headers, unmapped)
