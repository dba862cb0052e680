"""The engine interface and the embedded DuckDB engine.

Why SQLGlot-transpiled SQL rather than Ibis or a second copy in the PySpark DataFrame API: the
features are already set-based SQL over integer codes, tuned for DuckDB; SQLGlot turns each
statement into Spark SQL without a second definition, and the few constructs whose meaning
differs between the engines are written in their portable form in the source SQL (see
``features.table.aggregate``). Ibis would mean rewriting every query as expressions and
adding a dependency tree larger than the queries themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
import pyarrow as pa

ENGINES = ("duckdb", "spark")


class SqlEngine(Protocol):
    """What feature and label code asks of an engine. SQL is in DuckDB's dialect."""

    name: str

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Make a pandas DataFrame queryable as ``name``."""

    def register_parquet(self, name: str, path: Path) -> None:
        """Make a Parquet file (or folder of parts) queryable as ``name``."""

    def view(self, name: str, sql: str) -> None:
        """Create or replace view ``name`` as ``sql``."""

    def table(self, name: str, sql: str) -> None:
        """Materialise ``sql`` as table ``name`` (computed once, read many times)."""

    def drop(self, name: str) -> None:
        """Drop table or view ``name`` when it exists."""

    def columns(self, name: str) -> list[str]:
        """Column names of table or view ``name``."""

    def frame(self, sql: str) -> pd.DataFrame:
        """Result of ``sql`` as a pandas DataFrame, rows in the query's order."""

    def arrow(self, sql: str) -> pa.Table:
        """Result of ``sql`` as an Arrow table, rows in the query's order."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Result of ``sql`` as a list of tuples."""

    def close(self) -> None:
        """Release what the engine holds (tables, views, connections)."""


def check_engine(engine: str) -> str:
    """``engine`` when it names a known engine; ValueError naming the choices otherwise."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: must be one of {', '.join(ENGINES)}")
    return engine


def open_engine(
    engine: str = "duckdb",
    spark: Any = None,
    *,
    duckdb_settings: dict[str, str] | None = None,
) -> SqlEngine:
    """An engine by name: ``duckdb`` (a fresh in-memory connection with ``duckdb_settings``)
    or ``spark`` (on ``spark``, or a local session; see ``features.engine.spark``)."""
    if check_engine(engine) == "spark":
        from features.engine.spark import SparkEngine  # deferred: pyspark is slow to import

        return SparkEngine(spark)
    return DuckDBEngine(duckdb_settings)


def sql_text(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class DuckDBEngine:
    """The embedded default: one in-memory DuckDB connection per engine."""

    name = "duckdb"

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.con = duckdb.connect()
        for key, value in (settings or {}).items():
            self.con.execute(f"SET {key} = {sql_text(str(value))}")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def register_parquet(self, name: str, path: Path) -> None:
        self.view(name, f"SELECT * FROM read_parquet({sql_text(str(path))})")

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def drop(self, name: str) -> None:
        kind = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        if kind is not None:
            self.con.execute(f"DROP {'VIEW' if kind[0] == 'VIEW' else 'TABLE'} {name}")

    def columns(self, name: str) -> list[str]:
        return [row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {name}").fetchall()]

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()
