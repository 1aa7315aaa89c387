"""Use case: fit customer-base models to a transaction log, validate them, save them.

``fit_file`` validates the log, builds the BTYD summary (and, with a holdout end, the
calibration/holdout split), fits the purchase model (or every candidate, choosing the one
with the lowest holdout error and refitting it on all the data up to the holdout end), fits
the Gamma-Gamma spend model, and writes everything to one JSON file atomically.

>>> from cvm.service.fit import PURCHASE_MODELS
>>> "bgnbd" in PURCHASE_MODELS
True
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cvm import __version__
from cvm.data import summaries
from cvm.data.export import atomic_path
from cvm.data.ingest import IngestResult
from cvm.data.timeunit import TimeUnit
from cvm.errors import ConfigError, InvalidDataError, OutputExistsError
from cvm.labels import Note
from cvm.models import MODELS
from cvm.models.base import CustomerModel
from cvm.models.gamma_gamma import GammaGammaModel
from cvm.models.validation import Comparison, compare
from cvm.service.summarise import IngestOptions, Progress, _silent, validate_file

log = logging.getLogger(__name__)

PURCHASE_MODELS = tuple(name for name in ("bgnbd", "pnbd", "mbgnbd") if name in MODELS)
"""Continuous-time purchase models ``cvm fit`` can fit to a transaction log."""


@dataclass
class FitResult:
    """What ``fit_file`` fitted and wrote."""

    purchase_model: CustomerModel
    spend_model: GammaGammaModel | None
    comparison: Comparison | None
    customers: int
    output: Path | None
    ingest: IngestResult
    warnings: list[str] = field(default_factory=list)


def _arrow(table: Any) -> Any:
    return table.to_pyarrow()


def fit_summary(
    calibration: Any,
    *,
    model: str = "auto",
    holdout: bool = False,
    refit_on: Any | None = None,
    spend: bool = True,
    progress: Progress = _silent,
) -> tuple[CustomerModel, GammaGammaModel | None, Comparison | None, list[str]]:
    """Fit the purchase model (choosing among candidates when ``model == "auto"``) and spend model.

    ``calibration`` is a BTYD summary (with holdout columns when ``holdout``); ``refit_on``
    is the summary the chosen model is refitted on (all the data up to the holdout end).
    """
    notes: list[str] = []
    calibration, newborn = _with_positive_age(calibration)
    if newborn:
        notes.append(Note("note.fit.newborn", n=newborn))
    if refit_on is not None:
        refit_on, _ = _with_positive_age(refit_on)
    if model != "auto" and model not in PURCHASE_MODELS:
        raise ConfigError(f"unknown purchase model {model!r}", hint=f"use auto or one of: {', '.join(PURCHASE_MODELS)}")
    comparison = None
    if holdout:
        candidates = PURCHASE_MODELS if model == "auto" else (model,)
        calibration_spend = None
        if spend:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    calibration_spend = GammaGammaModel().fit(_positive_spend(calibration)[0])
            except (InvalidDataError, ValueError):
                calibration_spend = None  # reported below, when the spend model is fitted on all data
        progress(Note("step.fit_candidates", models=", ".join(MODELS[c].title for c in candidates)))
        comparison = compare(calibration, candidates, spend=calibration_spend)
        chosen = comparison.chosen
        notes.append(comparison.explanation)
    elif model == "auto":
        chosen = "bgnbd"
        notes.append(Note("note.fit.default_model"))
    else:
        chosen = model
    final_data = refit_on if refit_on is not None else calibration
    progress(Note("step.fit_model", model=MODELS[chosen].title))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        purchase = MODELS[chosen]().fit(final_data)
        spend_model = None
        if spend:
            progress(Note("step.fit_spend"))
            spend_data, left_out = _positive_spend(final_data)
            if left_out:
                notes.append(Note("note.fit.zero_spend_left_out", n=left_out))
            try:
                spend_model = GammaGammaModel().fit(spend_data)
            except InvalidDataError as exc:
                notes.append(Note("note.fit.no_spend_model", reason=exc.message))
    notes.extend(_note_of(w.message) for w in caught)
    return purchase, spend_model, comparison, list(dict.fromkeys(notes))


def _note_of(warning: Warning) -> str:
    """The note a model's warning carries as its argument (English and Chinese), or its text."""
    args = getattr(warning, "args", ())
    return args[0] if args and isinstance(args[0], Note) else str(warning)


def _without(summary: Any, leave_out: Any) -> tuple[Any, int]:
    """The summary (as a pyarrow Table) without the rows where ``leave_out(table)`` holds, and
    how many there were."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = summary if isinstance(summary, pa.Table) else pa.table(summary)
    bad = leave_out(table)
    left_out = pc.sum(pc.cast(bad, pa.int64())).as_py() or 0
    return (table.filter(pc.invert(bad)) if left_out else table), left_out


def _with_positive_age(summary: Any) -> tuple[Any, int]:
    """The summary without customers whose age ``T`` is 0 (first purchase on the end day)."""
    import pyarrow.compute as pc

    return _without(summary, lambda t: pc.less_equal(t["T"], 0))


def _positive_spend(summary: Any) -> tuple[Any, int]:
    """The summary without repeat customers whose mean repeat spend is not positive."""
    import pyarrow.compute as pc

    return _without(summary, lambda t: pc.and_(pc.greater(t["frequency"], 0),
                                               pc.less_equal(t["monetary_value"], 0)))


def fit_file(
    source: str | Path,
    output: Path | None,
    *,
    end: dt.date,
    unit: TimeUnit | str = "week",
    holdout_end: dt.date | None = None,
    model: str = "auto",
    spend: bool = True,
    overwrite: bool = False,
    options: IngestOptions | None = None,
    report_path: Path | None = None,
    progress: Progress = _silent,
) -> FitResult:
    """Validate ``source``, fit the models and write them to ``output`` (JSON, atomically)."""
    unit = TimeUnit.parse(unit)
    if holdout_end is not None and holdout_end <= end:
        raise ConfigError(f"--holdout-end ({holdout_end}) must be after --end ({end})")
    if output is not None and output.exists() and not overwrite:
        raise OutputExistsError(f"{output} already exists", hint="choose another file or pass --overwrite")
    result = validate_file(source, options, report_path=report_path, progress=progress)
    progress("building the customer summary")
    if holdout_end is not None:
        calibration = _arrow(
            summaries.calibration_holdout(result.table, calibration_end=end, holdout_end=holdout_end, unit=unit)
        )
        everything = _arrow(summaries.btyd_summary(result.table, observation_end=holdout_end, unit=unit))
    else:
        calibration = _arrow(summaries.btyd_summary(result.table, observation_end=end, unit=unit))
        everything = None
    if calibration.num_rows == 0:
        raise InvalidDataError(
            f"{Path(str(source)).name}: no customer made a purchase on or before {end}",
            hint="check --end against the dates in the file",
        )
    purchase, spend_model, comparison, notes = fit_summary(
        calibration, model=model, holdout=holdout_end is not None, refit_on=everything, spend=spend,
        progress=progress,
    )
    fit = FitResult(
        purchase, spend_model, comparison, calibration.num_rows, output, result, notes
    )
    if output is not None:
        progress(f"writing {output.name}")
        document = {
            "cvm_version": __version__,
            "source": str(source),
            "unit": unit.value,
            "calibration_end": end.isoformat(),
            "holdout_end": holdout_end.isoformat() if holdout_end else None,
            "customers": calibration.num_rows,
            "purchase_model": purchase.to_dict(),
            "spend_model": spend_model.to_dict() if spend_model else None,
            "comparison": comparison.to_dict() if comparison else None,
            "notes": notes,
        }
        with atomic_path(output) as tmp:
            tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return fit


def load_models(path: Path) -> tuple[CustomerModel, GammaGammaModel | None]:
    """The purchase and spend models saved by :func:`fit_file`."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    purchase = CustomerModel.from_dict(document["purchase_model"])
    spend = document.get("spend_model")
    return purchase, (GammaGammaModel.from_dict(spend) if spend else None)  # type: ignore[return-value]
