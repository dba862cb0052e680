"""Ready customer tables: one row per customer with a target column ("bring your own table").

A ready table skips the event log: its columns are the features. Text columns become
``category`` (LightGBM rejects the pandas 3 ``str`` dtype), numeric columns become ``float64``
and blank cells become missing values instead of crashing the models. Personal fields and
identifier-like text columns never become features.

Files (CSV/TSV/TXT, optionally gzip; Excel; Parquet) are read by ``features.data.reader``;
ids stay text. Personal fields are recognised by name (``PERSONAL_COLUMN_NAMES``: name,
phone, ID-card number, e-mail, address, in English or Chinese) and dropped with a note.

May import the foundation modules and ``features.data.reader``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from features import schema
from features.data import reader
from features.data.reader import DataError

# A text column with more distinct values than this share of rows is an identifier, not a feature.
IDENTIFIER_SHARE = 0.5
# Column names of personal data in customer exports (compared lower-case, stripped): never
# features, never written.
PERSONAL_COLUMN_NAMES = frozenset(
    {*schema.PERSONAL_FIELDS, "name", "customer_name", "姓名", "客户姓名", "phone", "mobile",
     "phone_number", "telephone", "手机", "手机号", "手机号码", "电话", "联系电话", "id_card",
     "id_card_number", "id_number", "identity_card", "身份证", "身份证号", "身份证号码", "email",
     "e-mail", "邮箱", "电子邮箱", "address", "地址", "家庭住址"}
)  # fmt: skip
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_JSON_SPECIAL = re.compile(r'[\[\]{}":,]')


class TableError(DataError):
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


def personal_columns(columns: Sequence[str]) -> list[str]:
    """The columns whose names say they hold personal data (name, phone, ID card ...)."""
    return [c for c in columns if str(c).strip().lower() in PERSONAL_COLUMN_NAMES]


def read_table(path: str | Path, text_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV/TSV/TXT, Excel or Parquet table; text columns of numbers become numbers.

    Text files go through ``features.data.reader`` (separator, quotes and encoding handled).
    A column stays text when it is named in ``text_cols`` or any value has a leading zero
    (``007``): identifiers keep their zeros.
    """
    path = Path(path)
    try:
        if path.suffix.lower() in reader.PARQUET_SUFFIXES:
            reader.check_file(path, "the table")
            try:
                return pd.read_parquet(path)
            except Exception as exc:  # a truncated or foreign file: one clear line
                raise DataError(f"{path}: cannot be read as Parquet ({exc})") from None
        table = reader.read_text_table(path, what="the table")
        try:
            frame = table.con.sql("SELECT * FROM raw").to_arrow_table().to_pandas()
        finally:
            table.close()
    except TableError:
        raise
    except DataError as exc:
        raise TableError(str(exc)) from None
    frame.columns = table.columns
    for name in frame.columns:
        if name not in text_cols:
            frame[name] = infer_text_column(frame[name])
    return frame


def infer_text_column(series: pd.Series) -> pd.Series:
    """A text column as int64/float64 when every non-blank cell is a number, else unchanged.

    Amount formats count as numbers ("1,234.50", "¥12", "(3.50)"); a leading zero keeps it text.
    """
    text = series.str.strip()
    present = text.notna() & ~text.str.lower().isin(reader.NULL_TOKENS)
    if not present.any() or text[present].str.match(_LEADING_ZERO).any():
        return series
    numbers = pd.to_numeric(text.where(present), errors="coerce")
    if numbers[present].isna().any():
        numbers, _ = reader.parse_amounts(text.where(present))
        if numbers[present].isna().any():
            return series
    if present.all() and (numbers == numbers.round()).all() and numbers.abs().max() < 2**53:
        return numbers.astype("int64")
    return numbers.astype("float64")


def read_columns(path: str | Path) -> list[str]:
    """Column names of a CSV, Excel or Parquet file (remembered while the file is unchanged)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = (str(path), stat.st_mtime_ns, stat.st_size) if stat else (str(path), 0, 0)
    return list(_read_columns(*key))


@functools.lru_cache(maxsize=16)
def _read_columns(name: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(_columns_of(Path(name)))


def _columns_of(path: Path) -> list[str]:
    if path.suffix.lower() in reader.PARQUET_SUFFIXES:
        try:
            reader.check_file(path, "the table")
            return list(pq.read_schema(path).names)
        except DataError as exc:
            raise TableError(str(exc)) from None
        except Exception as exc:  # a truncated or foreign file: one clear line
            raise TableError(f"{path}: cannot be read as Parquet ({exc})") from None
    return list(read_table(path).columns)


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
    if target in drop_cols:
        raise TableError(
            f"{source}: target column {target!r} is also listed in drop_cols (parameter drop_cols)"
        )
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
        parsed = reader.parse_timestamps(table[time_col])
        if parsed.notna().mean() >= 0.99:
            times = parsed.rename(time_col)
        else:
            notes.append(f"column {time_col!r} is not a usable timestamp; not used for splitting")

    excluded = {target, *drop_cols}
    if id_col:
        excluded.add(id_col)
    if time_col:
        excluded.add(time_col)
    personal = personal_columns(table.columns)
    if personal:
        notes.append(f"personal fields {personal} dropped before anything is written")
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
    """Read a CSV, Excel or Parquet ready table and prepare it (see ``prepare_ready_table``)."""
    table = read_table(path, text_cols=[id_col] if id_col else ())
    return prepare_ready_table(
        table,
        target=target,
        positive_label=positive_label,
        drop_cols=drop_cols,
        id_col=id_col,
        time_col=time_col,
        source=str(path),
    )
