"""The Spark engine: the lab's DuckDB-dialect SQL transpiled by SQLGlot, run on a SparkSession.

Each engine works in its own ``SparkSession.newSession()`` (the same SparkContext, its own
temporary views and SQL settings), so concurrent builds on one session do not see each other's
tables. The session time zone is UTC: event stamps are naive business time, and with UTC
Spark's timestamp arithmetic and ``CAST(ts AS DATE)`` see them exactly as DuckDB does. Data moves
between pandas and Spark as Arrow tables, never through pandas-on-Spark conversions.

For a cluster, pass its session, or let ``default_session`` find it: the job's session under
``spark-submit``, a Spark Connect session when ``SPARK_REMOTE`` is set; ``local_session`` is for
a laptop and the tests.

May import the foundation modules and ``features.engine.base``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlglot

SESSION_TIME_ZONE = "UTC"
# Settings of the local session: two cores, no UI, few shuffle partitions (small data).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": SESSION_TIME_ZONE,
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "4g",
    "spark.driver.maxResultSize": "3g",  # per-customer results are collected to the driver
    "spark.sql.adaptive.enabled": "true",
}


class SparkUnavailable(RuntimeError):
    """Spark cannot start here (no Java, or pyspark missing); the message says what to do."""


def java_available() -> bool:
    """True when a Java runtime for Spark is on PATH or under JAVA_HOME."""
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and (Path(home) / "bin" / "java").exists()))


def local_session(cores: int = 2, conf: dict[str, str] | None = None) -> Any:
    """The process's local SparkSession (``local[cores]``, UTC, UI off), created once."""
    if not java_available():
        raise SparkUnavailable(
            "Spark needs a Java runtime: install one (make java installs Debian's "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is in requirements.txt
        raise SparkUnavailable("pyspark is not installed (make venv installs it)") from exc
    # Python workers run this interpreter (the project's venv, where ``features`` imports).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(f"local[{cores}]").appName("nev-features")
    quiet = f"-Dlog4j2.configurationFile=file:{Path(__file__).with_name('log4j2.properties')}"
    settings = {"spark.driver.extraJavaOptions": quiet, **LOCAL_CONF, **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def default_session() -> Any:
    """The session the Spark engine uses when none is given.

    Under ``spark-submit`` (or the pyspark shell) the job's own session, whose master the
    submit command chose; with ``SPARK_REMOTE`` set, a Spark Connect session to that address;
    otherwise ``local_session()``. The session time zone is set to UTC in every case.
    """
    if os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("SPARK_REMOTE"):
        from pyspark.sql import SparkSession

        return (
            SparkSession.builder.config("spark.sql.session.timeZone", SESSION_TIME_ZONE)
            .appName("nev-features")
            .getOrCreate()
        )
    return local_session()


def to_spark_sql(sql: str) -> str:
    """One DuckDB-dialect statement as Spark SQL."""
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


class SparkEngine:
    """Runs the lab's SQL on Spark (see the module docstring)."""

    name = "spark"

    def __init__(self, spark: Any = None) -> None:
        parent = default_session() if spark is None else spark
        try:
            self.spark = parent.newSession()
        except Exception:  # Spark Connect sessions cannot fork; share the given one
            self.spark = parent
        self.spark.conf.set("spark.sql.session.timeZone", SESSION_TIME_ZONE)
        self._cached: list[Any] = []
        self._names: list[str] = []

    def register(self, name: str, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        self.register_dataframe(name, self.spark.createDataFrame(table))

    def register_dataframe(self, name: str, frame: Any) -> None:
        """Make a Spark DataFrame queryable as ``name``."""
        frame.createOrReplaceTempView(name)
        self._names.append(name)

    def register_parquet(self, name: str, path: Path) -> None:
        self.register_dataframe(name, self.spark.read.parquet(str(path)))

    def view(self, name: str, sql: str) -> None:
        self.register_dataframe(name, self.spark.sql(to_spark_sql(sql)))

    def table(self, name: str, sql: str) -> None:
        frame = self.spark.sql(to_spark_sql(sql)).cache()
        self._cached.append(frame)
        self.register_dataframe(name, frame)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def columns(self, name: str) -> list[str]:
        return list(self.spark.table(name).columns)

    def dataframe(self, sql: str) -> Any:
        """Result of ``sql`` as a Spark DataFrame (lazy)."""
        return self.spark.sql(to_spark_sql(sql))

    def arrow(self, sql: str) -> pa.Table:
        return self.dataframe(sql).toArrow()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.arrow(sql).to_pandas()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.dataframe(sql).collect()]

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        for name in dict.fromkeys(self._names):
            self.spark.catalog.dropTempView(name)
        self._cached.clear()
        self._names.clear()


__all__ = [
    "SparkEngine",
    "SparkUnavailable",
    "default_session",
    "java_available",
    "local_session",
]
