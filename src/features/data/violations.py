"""The shared pieces of the dataset checks: ``Violation`` (one broken rule), ``MAX_EXAMPLES``
and the small pandas/Arrow helpers (``_kind_ok``, ``_lookup``, ``_isin``) that both the pandas
checks of ``features.data.validate`` and the DuckDB events checker of
``features.data.validate_events`` use.

May import numpy, pandas and pyarrow; nothing from ``features``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_EXAMPLES = 3


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


def _lookup(keys: pd.Series, table: pd.DataFrame, column: str) -> pd.Series:
    """``table[column]`` of the row whose customer_id equals each key (NaN/NaT if none).

    Positions come from Arrow's hash lookup (``index_in``), much faster than a pandas Index
    on tens of millions of text keys.
    """
    unique = table[["customer_id", column]].drop_duplicates("customer_id")  # first row per id
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


def _isin(values: pd.Series, allowed: pd.Series) -> pd.Series:
    """``values.isin(allowed)``, through Arrow for text columns (much faster on big tables)."""
    try:
        column = pa.array(values, from_pandas=True).cast(pa.large_string())
        value_set = pa.array(allowed.dropna().unique(), from_pandas=True).cast(pa.large_string())
    except (pa.ArrowException, TypeError):
        return values.isin(allowed)
    found = pc.fill_null(pc.is_in(column, value_set=value_set), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)
