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

import yaml
from pydantic import BaseModel, ConfigDict

from cvm.errors import ConfigError

__all__ = ["Settings", "describe_error", "parse_yaml"]


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


def parse_yaml(text: str, where: str) -> Any:
    """``text`` parsed as YAML; a syntax error names ``where`` and the line and column.

    >>> parse_yaml("a: [1", "value.yaml")
    Traceback (most recent call last):
    ...
    cvm.errors.ConfigError: value.yaml: line 1, column 6 not valid YAML (expected ',' or ']', but got '<stream end>')
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{where}:{at} not valid YAML ({getattr(exc, 'problem', exc)})") from exc

