"""What every settings section of the value layer shares: strict, immutable pydantic models,
and one way of putting a pydantic error into words.

>>> from pydantic import Field
>>> class Example(Settings):
...     rate: float = Field(0.1, gt=0)
>>> try:
...     Example(rate=-1)
... except Exception as exc:
...     print(describe_error(exc.errors()[0]))
rate: Input should be greater than 0 (got -1)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Settings", "describe_error"]


class Settings(BaseModel):
    """Base of every settings section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def describe_error(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``key.path: message (got value)``."""
    path = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        return f"{path}: unknown setting"
    if "input" in error and error.get("type") != "missing" and not isinstance(error["input"], Mapping):
        return f"{path}: {message} (got {error['input']!r})"
    return f"{path}: {message}"
