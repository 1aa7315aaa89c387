"""Connections to the engines CVM runs on: DuckDB (embedded, default), PostgreSQL and Spark.

Every table in CVM is an Ibis expression bound to one of these backends; the same summary
expression runs unchanged on each.

>>> con = duckdb_connection()
>>> con.name
'duckdb'
>>> connect("duckdb://").name
'duckdb'
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from typing import Any

import ibis

from cvm.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

BaseBackend = Any  # ibis.backends.BaseBackend; kept loose for typing across Ibis versions


def duckdb_connection(
    path: str | None = None, *, threads: int | None = None, memory_limit: str | None = None
) -> BaseBackend:
    """An embedded DuckDB connection (in memory unless ``path`` names a database file).

    ``memory_limit`` (for example ``"2GB"``) makes DuckDB spill to disk rather than grow.
    """
    config: dict[str, Any] = {}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    try:
        con = ibis.duckdb.connect(path or ":memory:", **config)
    except Exception as exc:  # duckdb raises its own IOException etc.
        raise BackendError(f"cannot open DuckDB database {path or ':memory:'}: {exc}") from exc
    # DuckDB draws its own progress bar on stdout for long queries; CVM reports progress itself
    con.raw_sql("SET enable_progress_bar = false")
    if not path:
        # an in-memory database spills to ./.tmp by default, a folder every process started
        # from the same place shares: two jobs then corrupt each other's spill files
        spill = tempfile.mkdtemp(prefix="cvm-duckdb-")
        atexit.register(shutil.rmtree, spill, ignore_errors=True)
        con.raw_sql("SET temp_directory = " + "'" + spill.replace("'", "''") + "'")
    return con


def postgres_connection(url: str) -> BaseBackend:
    """A PostgreSQL connection from a URL such as ``postgresql://user@host:5432/db``."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise BackendError(
            "PostgreSQL support is not installed",
            hint="install it with: pip install 'cvm[postgres]'",
        ) from exc
    url = url.replace("postgresql+psycopg://", "postgres://").replace("postgresql://", "postgres://")
    try:
        return ibis.connect(url)
    except Exception as exc:
        raise BackendError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}") from exc


SPARK_LOCAL_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "2g",
    # Spark draws stage progress bars on stderr; CVM reports progress itself
    "spark.ui.showConsoleProgress": "false",
}
"""Settings of the local-mode Spark session CVM starts when it is given none."""


def local_spark_session(app_name: str = "cvm", **config: str) -> Any:
    """Start (or reuse) a local-mode Spark session with CVM's settings plus ``config``.

    Spark settings contain dots, so pass them as a dict:
    ``local_spark_session(**{"spark.sql.warehouse.dir": "/tmp/wh"})``. A session this call
    starts logs errors only (Spark's warnings about its own plans would drown CVM's output);
    a session that is already running keeps its log level.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise BackendError(
            "Spark support is not installed", hint="install it with: pip install 'cvm[spark]'"
        ) from exc
    running = SparkSession.getActiveSession()
    builder = SparkSession.builder.master("local[2]").appName(app_name)
    for key, value in {**SPARK_LOCAL_CONFIG, **config}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise BackendError(f"cannot start a local Spark session: {exc}",
                           hint="Spark needs Java 17 or newer on PATH") from exc
    if running is None:
        session.sparkContext.setLogLevel("ERROR")
    return session


def spark_connection(session: Any = None) -> BaseBackend:
    """A Spark connection; with no ``session``, a local-mode session is started (needs Java 17+)."""
    return ibis.pyspark.connect(session if session is not None else local_spark_session())


def connect(url: str) -> BaseBackend:
    """A backend from a URL: ``duckdb://[file]``, ``postgresql://…`` or ``spark://local``."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "duckdb":
        return duckdb_connection(url.split("://", 1)[1] or None)
    if scheme in {"postgres", "postgresql", "postgresql+psycopg"}:
        return postgres_connection(url)
    if scheme == "spark":
        return spark_connection()
    raise ConfigError(
        f"unsupported connection URL {_redact(url)!r}",
        hint="use duckdb://FILE, postgresql://USER@HOST:PORT/DB or spark://local",
    )


def _redact(url: str) -> str:
    """Hide a password in a URL before it reaches a message."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}://{creds}@{host}"
    return url
