"""One error tree for CVM.

Every error CVM raises on purpose is a :class:`CVMError`. Each leaf also inherits
the built-in exception it resembles, so ``except ValueError`` in a caller keeps
working. Front ends map ``exit_code`` to the process exit status.

>>> issubclass(InvalidDataError, ValueError)
True
>>> InvalidDataError("bad amounts").exit_code
3
"""

from __future__ import annotations

from typing import Any


class CVMError(Exception):
    """Base of every error CVM raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nWhat to do: {self.hint}"
        return self.message


class ConfigError(CVMError, ValueError):
    """A setting, option, mapping file or configuration is wrong."""

    exit_code = 2


class MissingColumnError(ConfigError, KeyError):
    """A column mapping names a column the input does not have, or a required column is absent."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return CVMError.__str__(self)


class InvalidDataError(CVMError, ValueError):
    """Input data broke validation rules; ``report`` holds the full validation report."""

    exit_code = 3

    def __init__(self, message: str, *, report: Any = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


class ModelAssumptionError(CVMError, ValueError):
    """A prediction does not exist under the fitted parameters (for example an infinite mean spend)."""

    exit_code = 3


class InputFileError(CVMError, OSError):
    """An input file is missing, unreadable, or of a format CVM cannot read."""

    exit_code = 4


class OutputExistsError(CVMError, FileExistsError):
    """A result would overwrite existing files and the user did not ask to overwrite."""

    exit_code = 4


class BackendError(CVMError, RuntimeError):
    """A database or compute engine (PostgreSQL, Spark) is unavailable or refused a query."""

    exit_code = 5
