"""User-defined scoring models: indicators, normalisation, weights, scope and tiers.

Placeholder for the scoring work of issue 4: only the settings exist yet.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ScoringSettings(BaseModel):
    """The scoring models to run (filled in with the scoring models)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
