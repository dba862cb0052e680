"""Ready customer tables: one row per customer with a target column ("bring your own table").

A ready table skips the event log: its columns are the features. Text columns become
``category`` (LightGBM rejects the pandas 3 ``str`` dtype), numeric columns become ``float64``
and blank cells become missing values instead of crashing the models. Personal fields and
identifier-like text columns never become features.

May import the foundation modules only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from features import schema

# A text column with more distinct values than this share of rows is an identifier, not a feature.
IDENTIFIER_SHARE = 0.5
_CSV_DELIMITERS = ",;\t|"
_JSON_SPECIAL = re.compile(r'[\[\]{}":,]')


class TableError(ValueError):
    """A ready table cannot be used as it is (missing column, one class only, ...)."""


@dataclass
class ReadyTable:
    """Features, binary target and row identifiers of a ready customer table.

    Attributes:
        features: one row per customer; numeric columns float64, text columns category.
        target: 1 for ``positive_label``, else 0 (int8), aligned with ``features``.
        ids: customer identifiers (the ``id_col`` column, or the data row number).
        times: values of the time column when one was found (for an out-of-time split).
        notes: plain-word notes about what was dropped or converted.
    """

    features: pd.DataFrame
    target: pd.Series
    ids: pd.Series
    times: pd.Series | None = None
    notes: list[str] = field(default_factory=list)


def sniff_delimiter(path: str | Path) -> str:
    """Delimiter of a CSV file from its first lines (``,`` ``;`` tab or ``|``)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        sample = handle.read(64 * 1024)
    if not sample.strip():
        raise TableError(f"{path}: file is empty")
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0]
        return max(_CSV_DELIMITERS, key=header.count)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (delimiter sniffed) or Parquet file as it is."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: file not found")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep=sniff_delimiter(path), skipinitialspace=True)


def read_columns(path: str | Path) -> list[str]:
    """Column names of a CSV or Parquet file without reading its rows."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: file not found")
    if path.suffix.lower() in (".parquet", ".pq"):
        return list(pq.read_schema(path).names)
    return list(pd.read_csv(path, sep=sniff_delimiter(path), nrows=0).columns.str.strip())


def sanitize_column_names(columns: Sequence[str]) -> list[str]:
    """Replace characters LightGBM rejects in feature names (JSON specials) with ``_``."""
    return [_JSON_SPECIAL.sub("_", str(name)).strip() for name in columns]


def coerce_feature_column(series: pd.Series) -> pd.Series:
    """One feature column in model form: float64 for numbers, category for text.

    Blank text cells become missing. A text column whose every non-blank cell parses as a
    number (a numeric column with stray blanks) becomes float64.
    """
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series
    if pd.api.types.is_datetime64_any_dtype(series):
        raise TableError(f"column {series.name!r}: timestamps are not model features")
    text = series.astype("str").where(series.notna())
    text = text.str.strip()
    text = text.mask(text.str.len() == 0)
    numbers = pd.to_numeric(text, errors="coerce")
    if text.notna().any() and numbers.notna().sum() == text.notna().sum():
        return numbers.astype("float64")
    return text.astype("category")


def binary_target(series: pd.Series, positive_label: Any = None) -> pd.Series:
    """1 where ``series`` equals ``positive_label`` (compared as numbers when both are), else 0.

    Without ``positive_label`` the target must already be 0/1 or boolean.
    """
    name = series.name
    values = series.dropna()
    if positive_label is None or (isinstance(positive_label, str) and not positive_label.strip()):
        distinct = set(pd.unique(values))
        if distinct <= {0, 1} or distinct <= {False, True}:
            return (series == 1).astype("int8")
        shown = sorted(map(str, distinct))[:5]
        raise TableError(
            f"column {name!r}: target values {shown} are not 0/1; set parameter positive_label"
        )
    numbers = pd.to_numeric(values, errors="coerce")
    label_number = pd.to_numeric(pd.Series([positive_label]), errors="coerce").iloc[0]
    if numbers.notna().all() and pd.notna(label_number):
        positive = pd.to_numeric(series, errors="coerce") == label_number
    else:
        positive = series.astype("str").str.strip() == str(positive_label).strip()
    if not positive.any():
        shown = sorted(map(str, pd.unique(values)))[:5]
        raise TableError(
            f"column {name!r}: positive_label {positive_label!r} not found among {shown}"
        )
    return positive.astype("int8")


def prepare_ready_table(
    table: pd.DataFrame,
    target: str,
    positive_label: Any = None,
    drop_cols: Sequence[str] = (),
    id_col: str | None = None,
    time_col: str | None = None,
    source: str = "table",
) -> ReadyTable:
    """Split a ready table into model features, a 0/1 target and ids.

    Args:
        table: one row per customer, as read from the file.
        target: name of the target column.
        positive_label: value of ``target`` that marks the positive class.
        drop_cols: columns to remove (e.g. leakage fields known only after the outcome).
        id_col: identifier column; used when present, else the data row number is the id.
        time_col: time column; when present its values are kept for an out-of-time split.
        source: file name used in error messages.
    """
    table = table.copy()
    table.columns = [str(c).strip() for c in table.columns]
    notes: list[str] = []
    if target not in table.columns:
        raise TableError(f"{source}: target column {target!r} not found (parameter target)")
    missing_drop = [c for c in drop_cols if c not in table.columns]
    if missing_drop:
        raise TableError(f"{source}: drop_cols {missing_drop} not found in the table")
    if table.columns.duplicated().any():
        dupes = sorted(set(table.columns[table.columns.duplicated()]))
        raise TableError(f"{source}: duplicate column names {dupes}")

    blank_target = table[target].isna() | (table[target].astype("str").str.strip() == "")
    if blank_target.all():
        raise TableError(f"{source}: column {target!r} is blank in every row")
    if blank_target.any():
        notes.append(f"dropped {int(blank_target.sum())} rows with a blank {target!r}")
        table = table.loc[~blank_target]
    table = table.reset_index(drop=True)
    y = binary_target(table[target], positive_label).rename("label")
    if y.nunique() < 2:
        raise TableError(f"{source}: column {target!r} holds one class only")

    if id_col and id_col in table.columns:
        ids = table[id_col]
        if ids.isna().any() or ids.duplicated().any():
            raise TableError(f"{source}: column {id_col!r} has blank or duplicate ids (id_col)")
    else:
        ids = pd.Series(range(len(table)), dtype="int64")
        if id_col:
            notes.append(f"no {id_col!r} column: the data row number is the customer id")
    ids = ids.rename(schema.ID_COL).reset_index(drop=True)

    times = None
    if time_col and time_col in table.columns:
        parsed = pd.to_datetime(table[time_col], errors="coerce")
        if parsed.notna().mean() >= 0.99:
            times = parsed.rename(time_col)
        else:
            notes.append(f"column {time_col!r} is not a usable timestamp; not used for splitting")

    excluded = {target, *drop_cols}
    if id_col:
        excluded.add(id_col)
    if time_col:
        excluded.add(time_col)
    personal = [c for c in table.columns if c in schema.PERSONAL_FIELDS]
    if personal:
        notes.append(f"personal fields {personal} never become features")
        excluded.update(personal)

    columns: dict[str, pd.Series] = {}
    for name in table.columns:
        if name in excluded:
            continue
        series = table[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            notes.append(f"timestamp column {name!r} dropped (not a feature)")
            continue
        column = coerce_feature_column(series)
        if isinstance(column.dtype, pd.CategoricalDtype):
            levels = len(column.cat.categories)
            if levels > max(50, IDENTIFIER_SHARE * len(column)):
                notes.append(f"identifier-like text column {name!r} ({levels} values) dropped")
                continue
        if column.isna().all():
            notes.append(f"column {name!r} is blank in every row; dropped")
            continue
        columns[name] = column
    if not columns:
        raise TableError(f"{source}: no feature columns left after drop_cols and exclusions")
    features = pd.DataFrame(columns)
    features.columns = sanitize_column_names(features.columns)
    if features.columns.duplicated().any():
        raise TableError(f"{source}: column names clash after removing JSON characters")
    return ReadyTable(features=features, target=y, ids=ids, times=times, notes=notes)


def load_ready_table(
    path: str | Path,
    target: str,
    positive_label: Any = None,
    drop_cols: Sequence[str] = (),
    id_col: str | None = None,
    time_col: str | None = None,
) -> ReadyTable:
    """Read a CSV or Parquet ready table and prepare it (see ``prepare_ready_table``)."""
    table = read_table(path)
    return prepare_ready_table(
        table,
        target=target,
        positive_label=positive_label,
        drop_cols=drop_cols,
        id_col=id_col,
        time_col=time_col,
        source=str(path),
    )
