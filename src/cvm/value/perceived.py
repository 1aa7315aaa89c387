"""Perceived value against competitors: Gale's customer value analysis from an attribute survey.

Customers rate us and our competitors on the attributes that drive their choice, and say how
much each attribute matters. From those ratings this module builds the analysis of Bradley
Gale's *Managing Customer Value* (1994): the market-perceived quality profile, relative
perceived quality, relative perceived price and the customer value map.

The survey file
---------------
One row per attribute, in either of two layouts (column names are matched without regard to
case or surrounding spaces; other columns are ignored):

* **wide**: ``attribute``, ``weight``, ``kind`` and one rating column per firm:
  ``rating_us`` for us and ``rating_<competitor>`` for each competitor
  (``rating_alpha`` → competitor ``alpha``);
* **long**: ``attribute``, ``weight``, ``kind``, ``competitor``, ``rating``, one row per attribute
  and firm; our rows have ``competitor = us``. An attribute's weight and kind must be the same
  on all of its rows.

``weight`` is the attribute's importance (any non-negative numbers: points out of 100, shares,
1–5 importance ratings). ``kind`` is ``quality`` or ``price`` (default ``quality`` when the
column is absent or blank). Ratings must lie on the declared scale (settings ``scale_min`` and
``scale_max``, default 1 to 10, ends included). Price attributes are rated as **satisfaction**
by default (higher = customers find the price more acceptable); set ``price_ratings = "level"``
when a higher rating means a dearer price.

What is computed
----------------
*Weight share*: quality weights are divided by the sum of quality weights, price weights by the
sum of price weights, so each group's shares sum to 1. The *quality weight* of the survey is the
sum of quality weights over the sum of all weights (shown in ``notes``).

*Comparison* (setting ``comparison``): with ``"ratio"`` (the default, as in Gale) an attribute's
relative rating is ``100 × our rating / their rating`` and parity is 100; with ``"difference"``
it is ``our rating − their rating`` and parity is 0. The ratio needs positive ratings: a rating of
0 is an error under ``"ratio"`` (with ``"difference"`` the ``ratio`` column is then missing).

*Per attribute and competitor* (``attributes``): the ratings, ``ratio`` (us / them),
``difference`` (us − them), ``relative`` (the chosen comparison, for price attributes turned so
that it reads as *our price relative to theirs*: with satisfaction ratings the ratio is
them / us), ``contribution = weight share × relative`` (the quality contributions of a
competitor sum to its relative perceived quality, the price contributions to its relative
perceived price) and ``advantage``: the index points the attribute gives us,
``weight share × (relative − parity)`` for quality and ``weight share × (parity − relative)``
for price, so positive is always in our favour.

*Per competitor* (``competitors``): ``relative_quality`` (RPQ, the sum of quality
contributions), ``relative_price`` (RPP, the sum of price contributions; missing when the survey
has no price attribute), the weighted quality scores ``quality_us`` and ``quality_them``
(Σ share × rating), the ``fair_price`` the fair-value line gives our quality,
``parity + fair_value_slope × (RPQ − parity)``, the ``value_gap = fair_price − RPP`` and the
``value_index = parity + value_gap``. The last row, ``market``, compares us with the average
competitor (the plain mean of the competitors' ratings of each attribute).

*Value map position*: ``better_value`` when the value gap is above ``fair_value_band``
(our price is below what our quality justifies), ``worse_value`` when it is below
``−fair_value_band``, ``fair_value`` when it lies within the band, ends included (gaps are
compared rounded to 9 decimals) (a gap of
exactly the band is fair value), and ``no_price`` without price attributes. The band defaults
to 2 index points with ratios and 0.2 rating points with differences. Each competitor gets a
one-sentence ``explanation`` in the chosen language.

*Leads and trails*: the attributes (quality and price) with the largest advantage against the
average competitor, at most ``top_n`` (default 3) of each, positive advantages only in
``leads`` and negative only in ``trails``; advantages equal to 9 decimals are ties, which
keep the file's order. In the long layout, attributes and competitors are in the order they
first appear.

*Overall score* (``score``): the value index against the average competitor; when the survey has
no price attribute, the relative perceived quality against the average competitor (a note says
so); missing when there is no competitor (a note says so).

>>> from importlib import resources
>>> path = resources.files("cvm.datasets") / "data" / "perceived_value_example.csv"
>>> result = perceived_value(read_perceived_value(path))
>>> result.competitors[["relative_quality", "relative_price", "position"]].round(1)
            relative_quality  relative_price      position
competitor
alpha                  107.4           116.7   worse_value
beta                   110.7           108.3  better_value
gamma                  122.4           141.7   worse_value
market                 112.3           122.2   worse_value
>>> round(result.score, 1)
90.1
>>> list(result.leads["attribute"]), list(result.trails["attribute"])
(['Reliability', 'Customer support', 'Delivery speed'], ['Price'])
>>> print(result.competitors.loc["market", "explanation"])  # doctest: +NORMALIZE_WHITESPACE
Against the average competitor, customers rate our quality 112.3 and our price 122.2
(100 = parity), so we offer worse value: our price sits 9.9 above the price of 112.3 our
quality would justify.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cvm.errors import ConfigError, InputFileError, InvalidDataError, MissingColumnError
from cvm.labels import Note, label
from cvm.value.settings import Settings, validate_settings

logger = logging.getLogger(__name__)

MARKET = "market"
KINDS = ("quality", "price")
POSITIONS = ("better_value", "fair_value", "worse_value", "no_price")


class PerceivedValueSettings(Settings):
    """How the survey is read and the value map drawn (defaults in the module docstring)."""

    scale_min: float = Field(1.0, description="Lowest rating on the survey's scale.")
    scale_max: float = Field(10.0, description="Highest rating on the survey's scale.")
    us: str = Field("us", min_length=1,
                    description="Name of our own firm in the ratings ('rating_us', competitor = us).")
    comparison: Literal["ratio", "difference"] = Field(
        "ratio", description="'ratio': 100 × us / them, parity 100; 'difference': us − them, parity 0.")
    price_ratings: Literal["satisfaction", "level"] = Field(
        "satisfaction", description="'satisfaction': a higher price rating is a more acceptable price; "
        "'level': a higher price rating is a dearer price.")
    fair_value_slope: float = Field(
        1.0, gt=0, le=100, description="Slope of the fair-value line: price premium that a quality premium justifies.")
    fair_value_band: float | None = Field(
        None, ge=0, description="Half-width of the fair-value band (default 2 with ratios, 0.2 with differences).")
    top_n: int = Field(3, ge=1, le=1000, description="Most attributes listed in leads and in trails.")

    @model_validator(mode="after")
    def _scale_is_ordered(self) -> PerceivedValueSettings:
        if not (np.isfinite(self.scale_min) and np.isfinite(self.scale_max)) or self.scale_min >= self.scale_max:
            raise ValueError(f"scale_min ({self.scale_min}) must be a number below scale_max ({self.scale_max})")
        return self

    @property
    def parity(self) -> float:
        return 100.0 if self.comparison == "ratio" else 0.0

    @property
    def band(self) -> float:
        if self.fair_value_band is not None:
            return self.fair_value_band
        return 2.0 if self.comparison == "ratio" else 0.2


@dataclass(frozen=True)
class PerceivedValue:
    """The customer value analysis: per attribute and competitor, per competitor, leads, trails.

    ``score`` is the overall score (module docstring); ``notes`` explain anything left out.
    """

    attributes: pd.DataFrame
    competitors: pd.DataFrame
    leads: pd.DataFrame
    trails: pd.DataFrame
    score: float
    notes: list[str] = field(default_factory=list)
    settings: PerceivedValueSettings = field(default_factory=PerceivedValueSettings)


# --------------------------------------------------------------------------------------------
# reading


def read_perceived_value(path: str | Path, *, sheet: str | int = 0) -> pd.DataFrame:
    """The survey table of a CSV or Excel file (``.csv``, ``.txt``, ``.xlsx``, ``.xls``), unchecked.

    Rows keep a ``source_row`` column (the line of the file, the header being line 1) so that
    :func:`perceived_value` names the file row of any problem.

    >>> from importlib import resources
    >>> table = read_perceived_value(resources.files("cvm.datasets") / "data" / "perceived_value_example.csv")
    >>> table.shape, list(table.columns[:3])
    ((6, 8), ['attribute', 'kind', 'weight'])
    >>> read_perceived_value("no/such/survey.csv")
    Traceback (most recent call last):
    ...
    cvm.errors.InputFileError: survey.csv: file not found (no/such/survey.csv)
    What to do: check the path and the file name
    """
    path = Path(str(path))
    if not path.exists():
        raise InputFileError(Note("error.file_not_found", name=path.name, path=path), hint=Note("hint.check_path"))
    if path.is_dir():
        raise InputFileError(Note("error.is_folder", name=path.name, path=path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            table = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
        else:
            raise InputFileError(Note("error.unknown_file_type", name=path.name,
                                      suffix=repr(suffix) if suffix else Note("error.no_extension")),
                                 hint="save the survey as .csv or .xlsx")
    except InputFileError:
        raise
    except Exception as exc:  # a parser's own error, reported with the file name
        raise InputFileError(f"{path.name}: cannot read the file: {exc}") from exc
    table = table.reset_index(drop=True)
    table["source_row"] = np.arange(2, len(table) + 2)
    table.attrs["source"] = path.name
    return table


# --------------------------------------------------------------------------------------------
# checking


def _settings(settings: PerceivedValueSettings | Mapping[str, Any] | None) -> PerceivedValueSettings:
    if settings is None:
        return PerceivedValueSettings()
    if isinstance(settings, PerceivedValueSettings):
        return settings
    if not isinstance(settings, Mapping):
        raise ConfigError(f"perceived value settings must be a mapping, got {type(settings).__name__}")
    return validate_settings(PerceivedValueSettings, settings, "perceived value settings")


def _fail(source: str, rows: pd.Series, mask: np.ndarray, column: str, rule: str,
          values: pd.Series | None = None, hint: str | None = None) -> None:
    """Raise an InvalidDataError when ``mask`` marks any row, naming the first."""
    mask = np.asarray(mask, dtype=bool)
    count = int(mask.sum())
    if count == 0:
        return
    first = int(np.flatnonzero(mask)[0])
    example = f"row {rows.iloc[first]}"
    if values is not None:
        value = values.iloc[first]
        is_number = isinstance(value, int | float | np.integer | np.floating)
        example += f": {float(value):g}" if is_number else f": {value!r}"
    noun = "row" if count == 1 else "rows"
    raise InvalidDataError(f"{source}: column {column!r}: {rule} in {count} {noun} (e.g. {example})", hint=hint)


def _numbers(source: str, table: pd.DataFrame, column: str, what: str) -> np.ndarray:
    raw = table[column]
    text = raw.astype(str).str.strip()
    blank = raw.isna().to_numpy() | (text == "").to_numpy() | text.str.lower().isin(["nan", "none"]).to_numpy()
    _fail(source, table["_row"], blank, column, f"{what} is blank", hint=f"fill in every {what}")
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    _fail(source, table["_row"], ~np.isfinite(values), column, f"{what} is not a number", raw,
          hint=f"write each {what} as a plain number such as 7.5")
    return values


def _canonical(table: pd.DataFrame, s: PerceivedValueSettings) -> tuple[pd.DataFrame, str]:
    """One row per attribute and firm: attribute, kind, weight, firm, rating, _row."""
    if not isinstance(table, pd.DataFrame):
        raise InvalidDataError(f"the survey must be a pandas DataFrame, got {type(table).__name__}",
                               hint="read the file with read_perceived_value(path)")
    source = str(table.attrs.get("source", "survey"))
    table = table.copy()
    names = [str(c).strip() for c in table.columns]
    lowered = pd.Index([n.lower() for n in names])
    if lowered.duplicated().any():
        repeated = sorted(set(lowered[lowered.duplicated()]))
        raise ConfigError(f"{source}: columns repeated (names compared without case): {', '.join(repeated)}",
                          hint="give each column its own name")
    # names are matched without case; a competitor keeps the spelling of its rating column
    table.columns = [f"rating_{n[len('rating_'):]}" if low.startswith("rating_") else low
                     for n, low in zip(names, lowered, strict=True)]
    if "source_row" in table.columns:
        table["_row"] = table["source_row"].astype(str)
    else:
        table["_row"] = pd.Series(table.index, index=table.index).astype(str)
    table = table.reset_index(drop=True)
    us = s.us.strip().lower()
    long = "competitor" in table.columns or "rating" in table.columns
    required = ["attribute", "weight"] + (["competitor", "rating"] if long else [f"rating_{us}"])
    missing = [c for c in required if c not in set(lowered)]
    if missing:
        layout = "long layout (attribute, weight, kind, competitor, rating)" if long else \
            f"wide layout (attribute, weight, kind, rating_{us}, rating_<competitor> …)"
        raise MissingColumnError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
            f"of the {layout}; the file has: {', '.join(c for c in table.columns if c != '_row')}",
            hint="rename the columns as in the module documentation of cvm.value.perceived")
    if len(table) == 0:
        raise InvalidDataError(f"{source}: the survey has no rows", hint="add one row per attribute")
    attribute = table["attribute"].astype(str).str.strip()
    blank = (table["attribute"].isna().to_numpy() | (attribute == "").to_numpy()
             | (attribute.str.lower() == "nan").to_numpy())
    _fail(source, table["_row"], blank, "attribute", "attribute name is blank", hint="name every attribute")
    table["attribute"] = attribute
    if "kind" in table.columns:
        kind = table["kind"].fillna("").astype(str).str.strip().str.lower().replace("", "quality")
        _fail(source, table["_row"], ~kind.isin(KINDS).to_numpy(), "kind", "kind is not 'quality' or 'price'",
              table["kind"], hint="write quality or price")
        table["kind"] = kind
    else:
        table["kind"] = "quality"
    weight = _numbers(source, table, "weight", "weight")
    _fail(source, table["_row"], weight < 0, "weight", "weight is negative", table["weight"],
          hint="weights are importances: zero or more")
    table["weight"] = weight

    if long:
        firm = table["competitor"].fillna("").astype(str).str.strip()
        _fail(source, table["_row"], (firm == "").to_numpy(), "competitor", "competitor is blank",
              hint=f"name the firm of every rating ({s.us} for us)")
        firm = firm.where(firm.str.lower() != us, s.us)
        table["firm"] = firm
        rating = _numbers(source, table, "rating", "rating")
        table["rating"] = rating
        table["rating_column"] = "rating"
        key = ["attribute", "firm"]
        dup = table.duplicated(key, keep="first").to_numpy()
        _fail(source, table["_row"], dup, "competitor", "attribute rated twice for the same firm",
              table["attribute"] + " / " + table["firm"], hint="keep one rating per attribute and firm")
        for column in ("weight", "kind"):
            differs = (table.groupby("attribute", sort=False)[column].transform("nunique") > 1).to_numpy()
            _fail(source, table["_row"], differs, column, f"the same attribute has different {column}s on its rows",
                  table["attribute"], hint=f"give each attribute one {column}")
        long_table = table[["attribute", "kind", "weight", "firm", "rating", "rating_column", "_row"]]
    else:
        dup = table.duplicated("attribute", keep="first").to_numpy()
        _fail(source, table["_row"], dup, "attribute", "attribute listed twice", table["attribute"],
              hint="keep one row per attribute")
        rating_columns = [c for c in table.columns if c.startswith("rating_") and len(c) > len("rating_")]
        ours = next(c for c in rating_columns if c.lower() == f"rating_{us}")
        ordered = [ours] + [c for c in rating_columns if c != ours]
        for column in ordered:
            table[column] = _numbers(source, table, column, "rating")
        melted = table.melt(id_vars=["attribute", "kind", "weight", "_row"], value_vars=ordered,
                            var_name="rating_column", value_name="rating")
        melted["firm"] = melted["rating_column"].str.slice(len("rating_"))
        melted.loc[melted["rating_column"] == ours, "firm"] = s.us
        long_table = melted[["attribute", "kind", "weight", "firm", "rating", "rating_column", "_row"]]

    rating = long_table["rating"].to_numpy(dtype=float)
    outside = (rating < s.scale_min) | (rating > s.scale_max)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        _fail(source, long_table["_row"], outside, str(long_table["rating_column"].iloc[first]),
              f"rating outside the declared scale {s.scale_min:g} to {s.scale_max:g}", long_table["rating"],
              hint="correct the rating, or declare the survey's scale with scale_min and scale_max")
    if s.comparison == "ratio":
        zero = rating <= 0
        if zero.any():
            first = int(np.flatnonzero(zero)[0])
            _fail(source, long_table["_row"], zero, str(long_table["rating_column"].iloc[first]),
                  "rating of 0 or less cannot be compared as a ratio", long_table["rating"],
                  hint="use comparison='difference', or a scale that starts above 0")
    return long_table.reset_index(drop=True), source


# --------------------------------------------------------------------------------------------
# the analysis


def perceived_value(table: pd.DataFrame, settings: PerceivedValueSettings | Mapping[str, Any] | None = None,
                    *, lang: str = "en") -> PerceivedValue:
    """Gale's customer value analysis of an attribute-rating survey (see the module docstring).

    ``table`` is a survey in the wide or long layout (from :func:`read_perceived_value` or
    built in memory); ``settings`` a :class:`PerceivedValueSettings` or a mapping of its
    fields; ``lang`` the language (``en`` or ``zh``) of the labels and explanations.

    >>> survey = pd.DataFrame({"attribute": ["speed", "care", "price"], "kind": ["quality", "quality", "price"],
    ...                        "weight": [60, 40, 50], "rating_us": [8, 6, 5], "rating_rival": [4, 6, 5]})
    >>> result = perceived_value(survey)
    >>> result.competitors[["relative_quality", "relative_price", "value_gap", "position"]]
                relative_quality  relative_price  value_gap      position
    competitor
    rival                  160.0           100.0       60.0  better_value
    market                 160.0           100.0       60.0  better_value
    >>> result.attributes.loc[result.attributes["competitor"] == "rival", "advantage"].tolist()
    [60.0, 0.0, 0.0]
    """
    s = _settings(settings)
    long_table, source = _canonical(table, s)
    notes: list[str] = []

    attrs = long_table.drop_duplicates("attribute")[["attribute", "kind", "weight", "_row"]].reset_index(drop=True)
    ratings = long_table.pivot(index="attribute", columns="firm", values="rating").reindex(attrs["attribute"])
    if s.us not in ratings.columns:
        raise InvalidDataError(f"{source}: no ratings of us ({s.us!r}) in column 'competitor'",
                               hint=f"add one row per attribute with competitor = {s.us}, or set `us` to our name")
    firms = list(dict.fromkeys(long_table["firm"]))
    competitors = [f for f in firms if f != s.us]
    if MARKET in competitors:
        raise InvalidDataError(f"{source}: a competitor is called {MARKET!r}, the name of the average competitor",
                               hint="rename that competitor")
    missing = ratings.isna().to_numpy()
    if missing.any():
        row, col = (int(i[0]) for i in np.nonzero(missing))
        count = int(missing.sum())
        raise InvalidDataError(
            f"{source}: column 'rating': {count} attribute{'s' if count > 1 else ''} not rated for every firm "
            f"(e.g. {attrs['attribute'].iloc[row]!r} has no rating of {ratings.columns[col]!r})",
            hint="give every attribute one rating of us and of each competitor")

    kind = attrs["kind"].to_numpy()
    weight = attrs["weight"].to_numpy(dtype=float)
    is_price = kind == "price"
    if not (~is_price).any():
        raise InvalidDataError(f"{source}: column 'kind': no quality attribute (every row is a price attribute)",
                               hint="add the quality attributes customers rate, with kind = quality")
    q_total = weight[~is_price].sum()
    p_total = weight[is_price].sum()
    if q_total <= 0:
        raise InvalidDataError(f"{source}: column 'weight': every quality attribute has weight 0",
                               hint="give the quality attributes their importance")
    if is_price.any() and p_total <= 0:
        raise InvalidDataError(f"{source}: column 'weight': every price attribute has weight 0",
                               hint="give the price attributes their importance, or drop them")
    share = np.where(is_price, weight / (p_total if p_total > 0 else 1.0), weight / q_total)
    has_price = bool(is_price.any())
    if not has_price:
        notes.append(Note("note.perceived.no_price"))
    else:
        notes.append(Note("note.perceived.weights", quality=q_total / (q_total + p_total),
                          price=p_total / (q_total + p_total)))
    if not competitors:
        notes.append(Note("note.perceived.no_competitor"))

    us_rating = ratings[s.us].to_numpy(dtype=float)
    them = ratings[competitors].to_numpy(dtype=float) if competitors else np.empty((len(attrs), 0))
    if competitors:
        them = np.column_stack([them, them.mean(axis=1)])
        names = competitors + [MARKET]
    else:
        names = []
    n_attr, n_comp = them.shape
    ours = np.repeat(us_rating[:, None], n_comp, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a 0 rating is allowed with differences only
        ratio = np.where(them != 0, ours / np.where(them != 0, them, 1.0), np.nan)
    difference = ours - them
    if s.comparison == "ratio":
        quality_rel = 100.0 * ratio
        price_rel = 100.0 * (ratio if s.price_ratings == "level" else them / ours)
    else:
        quality_rel = difference
        price_rel = difference if s.price_ratings == "level" else -difference
    parity = s.parity
    relative = np.where(is_price[:, None], price_rel, quality_rel)
    contribution = share[:, None] * relative
    advantage = np.where(is_price[:, None], share[:, None] * (parity - relative), share[:, None] * (relative - parity))

    attributes = pd.DataFrame({
        "attribute": np.repeat(attrs["attribute"].to_numpy(), n_comp),
        "kind": np.repeat(kind, n_comp),
        "weight": np.repeat(weight, n_comp),
        "weight_share": np.repeat(share, n_comp),
        "competitor": np.tile(np.asarray(names, dtype=object), n_attr),
        "rating_us": ours.ravel(),
        "rating_competitor": them.ravel(),
        "ratio": ratio.ravel(),
        "difference": difference.ravel(),
        "relative": relative.ravel(),
        "contribution": contribution.ravel(),
        "advantage": advantage.ravel(),
    })
    attributes["kind_label"] = attributes["kind"].map({k: label(f"perceived.kind.{k}", lang) for k in KINDS})

    q = ~is_price
    rpq = contribution[q].sum(axis=0)
    rpp = contribution[is_price].sum(axis=0) if has_price else np.full(n_comp, np.nan)
    fair = parity + s.fair_value_slope * (rpq - parity)
    gap = fair - rpp
    band = s.band
    rounded = np.round(gap, 9)  # a gap within 1e-9 of the band is on it, whatever the float noise
    position = np.select([~np.isfinite(gap), rounded > band, rounded < -band],
                         ["no_price", "better_value", "worse_value"], "fair_value").astype(object)
    competitors_table = pd.DataFrame({
        "competitor": np.asarray(names, dtype=object),
        "quality_us": (share[q, None] * ours[q]).sum(axis=0),
        "quality_them": (share[q, None] * them[q]).sum(axis=0),
        "relative_quality": rpq,
        "relative_price": rpp,
        "fair_price": fair,
        "value_gap": gap,
        "value_index": parity + gap,
        "position": position,
    }).set_index("competitor")
    competitors_table["position_label"] = competitors_table["position"].map(
        {p: label(f"perceived.{p}", lang) for p in POSITIONS})
    competitors_table["explanation"] = _explanations(competitors_table, lang, parity, band)

    market = attributes[(attributes["competitor"] == MARKET)]
    ranked = market.assign(_order=np.arange(len(market)), _key=np.round(market["advantage"].to_numpy(), 9))
    lead_cols = ["attribute", "kind", "weight_share", "rating_us", "rating_competitor", "relative", "advantage"]
    leads = ranked[ranked["_key"] > 0].sort_values(["_key", "_order"], ascending=[False, True],
                                                         kind="stable").head(s.top_n)[lead_cols]
    trails = ranked[ranked["_key"] < 0].sort_values(["_key", "_order"], ascending=[True, True],
                                                         kind="stable").head(s.top_n)[lead_cols]
    leads = leads.rename(columns={"rating_competitor": "rating_market"}).reset_index(drop=True)
    trails = trails.rename(columns={"rating_competitor": "rating_market"}).reset_index(drop=True)

    if competitors:
        score = float(competitors_table.loc[MARKET, "value_index"] if has_price
                      else competitors_table.loc[MARKET, "relative_quality"])
    else:
        score = float("nan")
    logger.debug("perceived value of %s: %d attributes, %d competitors, score %.3f",
                 source, n_attr, len(competitors), score)
    return PerceivedValue(attributes=attributes, competitors=competitors_table, leads=leads, trails=trails,
                          score=score, notes=notes, settings=s)


def _explanations(table: pd.DataFrame, lang: str, parity: float, band: float) -> list[str]:
    """One sentence per competitor row (a handful of competitors, never customers)."""
    sentences = []
    for name, row in zip(table.index, table.itertuples(index=False), strict=True):
        who = label("perceived.market", lang) if name == MARKET else name
        gap = band if row.position in ("fair_value", "no_price") else abs(row.value_gap)
        sentences.append(label(f"perceived.explain.{row.position}", lang).format(
            competitor=who, quality=f"{row.relative_quality:.1f}", price=f"{row.relative_price:.1f}",
            parity=f"{parity:g}", fair=f"{row.fair_price:.1f}", gap=f"{gap:.1f}"))
    return sentences
