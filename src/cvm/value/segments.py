"""Segmentations of the customer base (value matrix, pyramid, concentration, RFM, loyalty).

Placeholder for the segmentation work of issue 4: only the settings exist yet.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SegmentSettings(BaseModel):
    """Thresholds of every segmentation (filled in with the segmentations)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
