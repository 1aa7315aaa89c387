"""Embedded DuckDB connections: each in-memory one spills to a private folder."""

from __future__ import annotations

import os

from cvm.data.connect import duckdb_connection


def temp_directory(con) -> str:
    return con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]


def test_consistency_in_memory_connections_spill_to_their_own_folders(tmp_path):
    first, second = duckdb_connection(), duckdb_connection()
    a, b = temp_directory(first), temp_directory(second)
    assert a != b
    assert os.path.isdir(a) and os.path.isdir(b)
    assert not a.startswith(os.getcwd()) and ".tmp" not in os.path.basename(a)


def test_correctness_database_file_keeps_duckdb_default_spill_folder(tmp_path):
    con = duckdb_connection(str(tmp_path / "db.duckdb"))
    assert temp_directory(con).startswith(str(tmp_path))
