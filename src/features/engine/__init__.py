"""Where the lab's SQL runs: DuckDB in process (the default) or Apache Spark.

The feature and label SQL of ``features.table`` is written once, in DuckDB's dialect. The DuckDB
engine runs it as it is; the Spark engine transpiles each statement with SQLGlot and runs it on
a SparkSession (a given one, or a local one). Parity tests (``tests/features/engine``) hold the
two to the same results on planted edge cases.

May import the foundation modules only.
"""

from features.engine.base import ENGINES, SqlEngine, check_engine, open_engine

__all__ = ["ENGINES", "SqlEngine", "check_engine", "open_engine"]
