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
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from cvm.errors import ConfigError

__all__ = ["Settings", "describe_error", "parse_yaml", "read_yaml_file", "validate_settings"]


class Settings(BaseModel):
    """Base of every settings section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def describe_error(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``key.path: message (got value)``; an error of the whole model
    (no key path) is the message alone."""
    path = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        return f"{path}: unknown setting"
    if "input" in error and error.get("type") != "missing" and not isinstance(error["input"], Mapping):
        message = f"{message} (got {error['input']!r})"
    return f"{path}: {message}" if path else message


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def validate_settings(model: type[SettingsT], data: Mapping[str, Any], where: str,
                      hint: str | None = None) -> SettingsT:
    """``model`` validated from ``data``; every problem at once in one :class:`ConfigError`
    that starts with ``where``.

    >>> from pydantic import Field
    >>> class Example(Settings):
    ...     rate: float = Field(0.1, gt=0)
    >>> validate_settings(Example, {"rate": -1, "speed": 2}, "example settings")
    Traceback (most recent call last):
    ...
    cvm.errors.ConfigError: example settings: rate: Input should be greater than 0 (got -1); speed: unknown setting
    """
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(describe_error(error) for error in exc.errors())
        raise ConfigError(f"{where}: {problems}", hint=hint) from exc


def read_yaml_file(path: str | Path, what: str, hint: str | None = None) -> Any:
    """The YAML document in the file ``path`` (a ``what``: configuration, playbook …); a
    missing, unreadable or invalid file is a :class:`ConfigError` naming it."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: {what} file not found", hint=hint) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the {what} ({exc})") from exc
    return parse_yaml(text, str(file))


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

