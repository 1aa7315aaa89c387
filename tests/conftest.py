"""Backends shared by every test: DuckDB always, PostgreSQL and Spark when configured.

A test that asks for ``backend`` runs once per engine::

    def test_something(backend):
        table = backend.load(pyarrow_table)   # a table on that engine, dropped after the test
        result = some_summary(table, ...).to_pyarrow()

* DuckDB: always, in memory.
* PostgreSQL: when ``CVM_TEST_POSTGRES_URL`` is set (for example
  ``postgresql://postgres@127.0.0.1:5432/test``); otherwise skipped.
* Spark: when ``CVM_TEST_SPARK=1`` and PySpark is importable; otherwise skipped. One local
  session serves the whole run (starting Spark takes seconds); its warehouse lives in a
  temporary directory, and tables are temporary views, so nothing is written to the repo.

Connections are session-scoped; tables loaded with ``backend.load`` have unique names and
are dropped when the test ends.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from typing import Any

import ibis
import pyarrow as pa
import pytest

BACKENDS = ("duckdb", "postgres", "spark")
POSTGRES_SKIP = (
    "PostgreSQL not configured: set "
    "CVM_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test"
)
SPARK_SKIP = "Spark not enabled: set CVM_TEST_SPARK=1 (needs PySpark and Java 17+)"

_counter = itertools.count()


class Backend:
    """One engine under test: its Ibis connection and a loader for test tables."""

    def __init__(self, name: str, con: Any, session: Any = None) -> None:
        self.name = name
        self.con = con
        self._session = session  # the SparkSession, for Spark only
        self._loaded: list[str] = []

    def __repr__(self) -> str:
        return f"Backend({self.name})"

    def load(self, data: Any, *, prefix: str = "t") -> ibis.Table:
        """Load a pyarrow Table or pandas DataFrame as a new table; dropped after the test."""
        if not isinstance(data, pa.Table):
            data = pa.Table.from_pandas(data, preserve_index=False)
        name = f"cvm_{prefix}_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
        if self.name == "spark":
            self._session.createDataFrame(data).createOrReplaceTempView(name)
        else:
            # create_table(name, pyarrow.Table) trips over an Ibis 12 / sqlglot bug on DuckDB;
            # going through a memtable works everywhere
            self.con.create_table(name, ibis.memtable(data))
        self._loaded.append(name)
        return self.con.table(name)

    def drop_loaded(self) -> None:
        while self._loaded:
            name = self._loaded.pop()
            if self.name == "spark":
                self._session.catalog.dropTempView(name)
            else:
                # con.drop_table renders an empty DROP with this sqlglot; use plain SQL
                result = self.con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
                if self.name == "postgres":  # a cursor; on DuckDB it is the connection itself
                    result.close()


@pytest.fixture(scope="session")
def duckdb_connection() -> Iterator[Backend]:
    from cvm.data.connect import duckdb_connection as connect

    con = connect()
    yield Backend("duckdb", con)
    con.disconnect()


@pytest.fixture(scope="session")
def postgres_connection() -> Iterator[Backend]:
    url = os.environ.get("CVM_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(POSTGRES_SKIP)
    from cvm.data.connect import postgres_connection as connect

    con = connect(url)
    yield Backend("postgres", con)
    con.disconnect()


@pytest.fixture(scope="session")
def spark_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    if os.environ.get("CVM_TEST_SPARK") != "1":
        pytest.skip(SPARK_SKIP)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("Spark enabled but PySpark is not installed: pip install 'cvm[spark]'")
    from cvm.data.connect import local_spark_session
    from cvm.data.connect import spark_connection as connect

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = local_spark_session("cvm-tests", **{
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={warehouse}",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    })
    session.sparkContext.setLogLevel("ERROR")
    yield Backend("spark", connect(session), session)
    session.stop()


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each engine in turn (skipped when not configured); loaded tables dropped afterwards."""
    be: Backend = request.getfixturevalue(f"{request.param}_connection")
    try:
        yield be
    finally:
        be.drop_loaded()


# --------------------------------------------------------------------------------------------
# CI: nothing may skip.  `.ci/run` sets CVM_REQUIRE_BACKENDS=1; then a test that would skip
# (a backend missing, a driver not installed) fails instead, with the skip's reason.


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CVM_REQUIRE_BACKENDS") == "1" and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CVM_REQUIRE_BACKENDS=1 (CI runs every test): {reason}"
