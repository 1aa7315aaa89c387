"""The retail report inputs, built once per test session (see :mod:`tests.report.inputs`)."""

from __future__ import annotations

import pytest

from tests.report.inputs import RetailInputs, build_retail


@pytest.fixture(scope="session")
def retail() -> RetailInputs:
    return build_retail()
