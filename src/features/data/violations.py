"""The shared pieces of the dataset checks: ``Violation`` (one broken rule), ``MAX_EXAMPLES``
and the small pandas/Arrow helpers (``_kind_ok``, ``_lookup``, ``_isin``) that both the pandas
checks of ``features.data.validate`` and the DuckDB events checker of
``features.data.validate_events`` use.

May import duckdb, numpy, pandas and pyarrow; nothing from ``features``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_EXAMPLES = 3
_FIRST_ROWS: dict[int, tuple[weakref.ref, int, np.ndarray]] = {}  # id(table) -> rows


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, which rule, how many rows, and a few example keys."""

    table: str
    column: str
    rule: str
    message: str
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        tail = f" (e.g. {', '.join(map(str, self.examples))})" if self.examples else ""
        return f"{where}: {self.rule}: {self.message}{tail}"


def _kind_ok(series: pd.Series, kind: str) -> bool:
    checks = {
        "string": lambda s: (
            (pd.api.types.is_string_dtype(s) and not pd.api.types.is_bool_dtype(s))
            or (
                isinstance(s.dtype, pd.CategoricalDtype)
                and pd.api.types.is_string_dtype(s.cat.categories)
            )
        ),
        "datetime": pd.api.types.is_datetime64_any_dtype,
        "int": pd.api.types.is_integer_dtype,
        "float": pd.api.types.is_float_dtype,
        "bool": pd.api.types.is_bool_dtype,
    }
    return bool(checks[kind](series))


def _first_rows(table: pd.DataFrame) -> np.ndarray:
    """Positions of each customer_id's first row (cached per table: every lookup against
    the same table reuses them)."""
    cached = _FIRST_ROWS.get(id(table))
    if cached is not None and cached[0]() is table and cached[1] == len(table):
        return cached[2]
    rows = np.flatnonzero(~table["customer_id"].duplicated().to_numpy())
    key = id(table)
    _FIRST_ROWS[key] = (weakref.ref(table), len(table), rows)
    weakref.finalize(table, _FIRST_ROWS.pop, key, None)
    return rows


def _same_keys(keys: pd.Series, ids: pd.Series) -> bool:
    """True when ``keys`` are ``ids`` in the same order (then positions are 0..n-1)."""
    if len(keys) != len(ids) or not (_is_text(keys) and _is_text(ids)):
        return False
    try:
        a, b = pa.array(keys, from_pandas=True), pa.array(ids, from_pandas=True)
        return a.null_count == 0 and bool(pc.all(pc.equal(a.cast(b.type), b)).as_py())
    except (pa.ArrowException, TypeError):
        return False


def _lookup(keys: pd.Series, table: pd.DataFrame, column: str) -> pd.Series:
    """``table[column]`` of the row whose customer_id equals each key (NaN/NaT if none).

    Positions come from Arrow's hash lookup (``index_in``), much faster than a pandas Index
    on tens of millions of text keys; keys that are the table's own ids in order need none.
    """
    rows = _first_rows(table)
    if len(rows) == len(table) and _same_keys(keys, table["customer_id"]):
        return pd.Series(table[column].to_numpy(), index=keys.index)
    unique = table[["customer_id", column]].iloc[rows]  # first row per id
    try:
        found = pc.index_in(
            pa.array(keys, from_pandas=True).cast(pa.large_string()),
            value_set=pa.array(unique["customer_id"], from_pandas=True).cast(pa.large_string()),
        )
        position = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    except (pa.ArrowException, TypeError):
        position = pd.Index(unique["customer_id"]).get_indexer(keys)
    values = unique[column].iloc[np.maximum(position, 0)].to_numpy()
    return pd.Series(values, index=keys.index).where(position >= 0)


def _is_text(series: pd.Series) -> bool:
    return _kind_ok(series, "string")


def _query_frames(sql: str, frames: dict[str, pd.DataFrame], params: list | None = None):
    """The first row of ``sql`` over the pandas ``frames`` (by view name), on a throwaway
    multi-threaded DuckDB connection; None when DuckDB cannot run it (callers fall back)."""
    con = duckdb.connect()
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        return con.execute(sql, params or []).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()


def _misses(values: pd.Series, allowed: pd.Series) -> int | None:
    """Non-null ``values`` not among ``allowed`` (text columns; None when not countable here).

    One anti-join: on clean data (no miss, the usual case) the row mask need not be built.
    """
    if not (_is_text(values) and _is_text(allowed)):
        return None
    row = _query_frames(
        "SELECT count(*) FROM (SELECT k::VARCHAR AS k FROM v WHERE k IS NOT NULL) "
        "ANTI JOIN (SELECT k::VARCHAR AS k FROM a WHERE k IS NOT NULL) USING (k)",
        {"v": pd.DataFrame({"k": values}, copy=False), "a": pd.DataFrame({"k": allowed}, copy=False)},
    )  # fmt: skip
    return None if row is None else int(row[0])


def _any_duplicate(df: pd.DataFrame, key: list[str]) -> bool:
    """True when two rows share ``key`` (nulls equal, as in ``DataFrame.duplicated``): one
    distinct count, so the row mask is built only for a table that has duplicates."""
    cols = ", ".join(f'"{k}"' for k in key)
    row = _query_frames(f"SELECT count(*) FROM (SELECT DISTINCT {cols} FROM t)", {"t": df[key]})
    return True if row is None else int(row[0]) < len(df)  # None: let pandas find them


def _all_match(values: pd.Series, pattern: str) -> bool:
    """True when every non-null text value fully matches ``pattern`` (one DuckDB pass, RE2
    syntax as Arrow's; over the distinct values of a code column); False when it cannot tell
    (then pandas checks)."""
    if not _is_text(values):
        return False
    head = values.iloc[:20_000]
    few = head.nunique() < 0.1 * max(len(head), 1)
    source = "(SELECT DISTINCT k FROM v)" if few else "v"
    row = _query_frames(
        f"SELECT bool_and(regexp_full_match(k::VARCHAR, ?)) FROM {source} WHERE k IS NOT NULL",
        {"v": pd.DataFrame({"k": values}, copy=False)}, [pattern],
    )  # fmt: skip
    return row is not None and row[0] is not False


def _isin(values: pd.Series, allowed: pd.Series) -> pd.Series:
    """``values.isin(allowed)`` (False for nulls), through DuckDB and Arrow for text columns
    (much faster on big tables)."""
    if _misses(values, allowed) == 0:
        return values.notna()
    try:
        column = pa.array(values, from_pandas=True).cast(pa.large_string())
        value_set = pa.array(allowed.dropna().unique(), from_pandas=True).cast(pa.large_string())
    except (pa.ArrowException, TypeError):
        return values.isin(allowed)
    found = pc.fill_null(pc.is_in(column, value_set=value_set), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)
