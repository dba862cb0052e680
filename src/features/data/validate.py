"""Check a raw dataset folder against its data contracts and report every violation.

Command line::

    python -m features.validate data/raw/synthetic_n50000_s42
    python -m features.validate data/processed/synthetic_n50000_s42/2025-07-01

prints one line per violation (table, column, rule, a few example keys) and exits 0 when the
dataset is clean, 1 when it has violations, 2 when the folder cannot be read at all. A
processed snapshot folder (``features.parquet``, ``labels_<task>.parquet``) is checked against
the processed models with pandera itself (one row per customer: small tables).

Rules: the column contracts of ``features.data.contracts`` (columns present and no others, dtype,
nulls, vocabulary, range, text pattern, unique key, non-empty table), references to the
customers table, timestamps inside the manifest's window, the manifest's checksums and row
counts, the events' sort order and per-type values, orders matching their order events, no
event or order before the lead, one truth row per customer and silence after churn.

Engines: the events file (tens of millions of rows) is checked by DuckDB SQL derived from the
same ``ColumnRule`` rows, straight over the Parquet file (one scan for the column, window and
per-type rules with customers and truth looked up per id, one streamed Arrow pass for the
sort order), never copied into pandas; the one-row-per-customer tables are read into pandas.
``validate_dataset(..., engine="pandas")`` reads every table into pandas; both engines report
the same violations (tests/features/data/test_validate_duckdb.py). An events file with other
types than the contract's (or a stored pandas index) is read into pandas.

May import the foundation modules and ``features.data.contracts``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features import schema
from features.data.contracts import (
    CONTRACTS,
    PROCESSED_MODELS,
    ColumnRule,
    TableContract,
    column_names,
)
from features.io import sha256_file

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


class DatasetUnreadable(ValueError):
    """The folder or its manifest cannot be read at all."""


def validate_dataset(
    dataset_dir: str | os.PathLike[str], *, engine: str = "duckdb"
) -> list[Violation]:
    """All contract violations of the raw dataset in ``dataset_dir`` (empty when clean).

    ``engine="duckdb"`` (default) checks the events file with DuckDB queries over the Parquet
    file (one scan for the column rules, one ordered pass for the sort order, one joined scan
    for the cross-table rules) instead of reading tens of millions of events into pandas;
    ``engine="pandas"`` reads every table into pandas. Both report the same violations; the
    other tables (one row per customer) are always checked in pandas.
    """
    if engine not in ("duckdb", "pandas"):
        raise ValueError(f"engine {engine!r}: must be 'duckdb' or 'pandas'")
    folder = Path(dataset_dir)
    if not folder.is_dir():
        raise DatasetUnreadable(f"{folder}: not a dataset folder")
    window = read_window(folder)
    manifest = read_manifest(folder)
    tables: dict[str, pd.DataFrame] = {}
    violations: list[Violation] = []
    deferred: tuple[int, Path, TableContract] | None = None
    events: _EventsFile | None = None
    events_path = folder / f"{schema.EVENTS_TABLE}.parquet"
    events_contract = CONTRACTS[schema.EVENTS_TABLE]
    if (
        engine == "duckdb"
        and events_path.is_file()
        and _duckdb_events_ok(events_path, events_contract)
    ):
        try:
            events = _EventsFile(events_path, events_contract)
        except (duckdb.IOException, duckdb.InvalidInputException, pa.ArrowException, OSError):
            events = None
        else:
            events.start_sorted_pass()
    if manifest is None:
        violations.append(
            Violation("manifest", "", "manifest_present",
                      f"{schema.MANIFEST_FILE} is missing: window and checksums unchecked")
        )  # fmt: skip
    for name, contract in CONTRACTS.items():
        path = folder / f"{name}.parquet"
        if not path.is_file():
            violations.append(Violation(name, "", "file_present", f"{path.name} is missing"))
            continue
        if manifest is not None:
            violations += validate_checksum(path, manifest)
        if events is not None and name == schema.EVENTS_TABLE:
            # checked once every table is read (one scan joins customers and truth); its
            # violations go here, in table order
            deferred = (len(violations), path, contract)
            continue
        violations += _read_and_validate(tables, path, contract, window, manifest)
    if deferred is not None and events is not None:
        slot, path, contract = deferred
        found: list[Violation] | None = None
        if not _plain_lookup_tables(tables):
            events.close()
            events = None
        else:
            try:
                found = events.validate(window, tables)
                if manifest is not None:
                    found += validate_row_count(contract.name, events.n_rows, manifest)
                tables[contract.name] = events  # type: ignore[assignment]
            except (duckdb.IOException, duckdb.InvalidInputException, pa.ArrowException, OSError):
                found = None  # an unreadable file: read into pandas below, its error is reported
                if events is not None:
                    events.close()
                    events = None
        if found is None:
            found = _read_and_validate(tables, path, contract, window, manifest)
        violations[slot:slot] = found
    try:
        violations += validate_cross_table(tables)
    finally:
        if events is not None:
            events.close()
    return violations


def _read_and_validate(
    tables: dict[str, pd.DataFrame],
    path: Path,
    contract: TableContract,
    window: tuple[pd.Timestamp, pd.Timestamp] | None,
    manifest: dict | None,
) -> list[Violation]:
    """Read one table into pandas (into ``tables``) and check its single-table rules."""
    try:
        tables[contract.name] = read_table(path, contract)
    except Exception as exc:  # any unreadable file is one violation
        return [Violation(contract.name, "", "readable", f"{path.name}: {exc}")]
    found = validate_table(tables[contract.name], contract, window)
    if manifest is not None:
        found += validate_row_count(contract.name, len(tables[contract.name]), manifest)
    return found


def read_table(path: Path, contract: TableContract) -> pd.DataFrame:
    """A raw table; text columns with a vocabulary are read as categories (less memory)."""
    file_schema = pq.read_schema(path)
    coded = [
        rule.name
        for rule in contract.columns
        if rule.categories is not None
        and rule.name in file_schema.names
        and pa.types.is_string(file_schema.field(rule.name).type)
    ]
    return pq.read_table(path, read_dictionary=coded).to_pandas()


def read_manifest(folder: Path) -> dict | None:
    """The parsed ``manifest.json``, or None if the dataset has none."""
    path = folder / schema.MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except ValueError as exc:
        raise DatasetUnreadable(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise DatasetUnreadable(f"{path}: not a JSON object")
    return manifest


def validate_checksum(path: Path, manifest: dict) -> list[Violation]:
    """The table file's sha256 must equal the one recorded in the manifest."""
    table = path.stem
    expected = manifest.get("files", {}).get(path.name, {}).get("sha256")
    if expected is None:
        return [Violation(table, "", "checksum", f"manifest records no sha256 for {path.name}")]
    actual = sha256_file(path)
    if actual != expected:
        return [
            Violation(table, "", "checksum",
                      f"{path.name} changed since generation: sha256 {actual[:12]}.. "
                      f"!= manifest {expected[:12]}..")
        ]  # fmt: skip
    return []


def validate_row_count(table: str, rows: int, manifest: dict) -> list[Violation]:
    """The table's row count must equal the manifest's."""
    expected = manifest.get("row_counts", {}).get(table)
    if expected is not None and expected != rows:
        return [Violation(table, "", "row_count", f"{rows} rows, manifest says {expected}")]
    return []


def read_window(folder: Path) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The simulation window from ``manifest.json``, or None if the dataset has no manifest."""
    manifest = folder / schema.MANIFEST_FILE
    if not manifest.is_file():
        return None
    try:
        window = json.loads(manifest.read_text())["window"]
        return pd.Timestamp(window["start"]), pd.Timestamp(window["end"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetUnreadable(f"{manifest}: no readable 'window' ({exc})") from None


def _examples(df: pd.DataFrame, mask: pd.Series, contract: TableContract) -> tuple[str, ...]:
    """A few keys of the offending rows (``row N`` where the key itself is missing).

    Event rows are named ``customer_id@ts``.
    """
    key = contract.unique_key[0] if contract.unique_key else schema.ID_COL
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))[:MAX_EXAMPLES]
    if key not in df.columns:
        return tuple(f"row {i}" for i in positions)
    values = df[key].iloc[positions].tolist()
    stamps = [None] * len(values)
    if contract.sorted_by[1:] and contract.sorted_by[1] in df.columns:
        stamps = df[contract.sorted_by[1]].iloc[positions].tolist()
    return tuple(
        f"row {i}" if pd.isna(v) else str(v) if pd.isna(t) else f"{v}@{t}"
        for i, v, t in zip(positions, values, stamps, strict=True)
    )


def _flag(
    df: pd.DataFrame,
    contract: TableContract,
    column: str,
    rule: str,
    bad: pd.Series | np.ndarray,
    what: str,
) -> list[Violation]:
    """One violation of ``rule`` when any row is ``bad``: their count, ``what``, example keys.

    Returns an empty list when no row is ``bad``.
    """
    if not bad.any():
        return []
    message = f"{int(bad.sum())} {what}"
    return [Violation(contract.name, column, rule, message, _examples(df, bad, contract))]


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


def validate_column(df: pd.DataFrame, rule: ColumnRule, contract: TableContract) -> list[Violation]:
    """Dtype, nulls, categories, range and pattern of one column."""
    table, series = contract.name, df[rule.name]
    found: list[Violation] = []
    if not _kind_ok(series, rule.kind):
        return [Violation(table, rule.name, "dtype", f"expected {rule.kind}, found {series.dtype}")]
    nulls = series.isna()
    if not rule.nullable:
        found += _flag(df, contract, rule.name, "not_null", nulls, "null values")
    present = series[~nulls]
    if rule.categories is not None:
        unknown = ~present.isin(rule.categories)
        values = sorted(present[unknown].astype(str).unique())[:MAX_EXAMPLES]
        what = f"values outside the vocabulary: {values}"
        bad = unknown.reindex(df.index, fill_value=False)
        found += _flag(df, contract, rule.name, "category", bad, what)
    if rule.minimum is not None or rule.maximum is not None:
        low = present < rule.minimum if rule.minimum is not None else present != present
        high = present > rule.maximum if rule.maximum is not None else present != present
        what = f"values outside [{rule.minimum}, {rule.maximum}]"
        bad = (low | high).reindex(df.index, fill_value=False)
        found += _flag(df, contract, rule.name, "range", bad, what)
    if rule.pattern is not None:
        mismatch = ~present.astype(str).str.fullmatch(rule.pattern)
        bad = mismatch.reindex(df.index, fill_value=False)
        found += _flag(
            df, contract, rule.name, "pattern", bad, f"values do not match {rule.pattern}"
        )
    return found


def validate_table(
    df: pd.DataFrame, contract: TableContract, window: tuple[pd.Timestamp, pd.Timestamp] | None
) -> list[Violation]:
    """Every single-table rule of ``contract`` on ``df``."""
    table = contract.name
    if df.empty:
        return [Violation(table, "", "not_empty", "table has no rows")]
    found: list[Violation] = []
    missing = [rule.name for rule in contract.columns if rule.name not in df.columns]
    for name in missing:
        found.append(Violation(table, name, "column_present", "required column is missing"))
    for name in df.columns:
        if name not in column_names(contract):
            found.append(Violation(table, str(name), "column_unexpected", "column not in contract"))
    for rule in contract.columns:
        if rule.name not in missing:
            found += validate_column(df, rule, contract)
    if contract.unique_key and not set(contract.unique_key) & set(missing):
        duplicated = df.duplicated(list(contract.unique_key), keep=False)
        key = ",".join(contract.unique_key)
        found += _flag(df, contract, key, "unique", duplicated, "rows share a key")
    if window is not None:
        start, end = window
        for column in contract.window_columns:
            if column in missing or not pd.api.types.is_datetime64_any_dtype(df[column]):
                continue
            outside = (df[column] < start) | (df[column] > end)
            what = f"timestamps outside {start:%Y-%m-%d}..{end:%Y-%m-%d}"
            found += _flag(df, contract, column, "in_window", outside, what)
    if contract.sorted_by and not set(contract.sorted_by) & set(missing):
        found += _validate_sorted(df, contract)
    if table == schema.EVENTS_TABLE and not missing:
        found += _validate_event_values(df, contract)
    return found


def _validate_sorted(df: pd.DataFrame, contract: TableContract) -> list[Violation]:
    first, second = (df[c] for c in contract.sorted_by)
    if first.isna().any() or second.isna().any():
        return []  # reported as nulls
    try:
        # Sorted integer codes keep the text order and avoid a Python object per row.
        codes = pd.factorize(first, sort=True)[0]
        times = second.to_numpy()
        later = (codes[:-1] > codes[1:]) | ((codes[:-1] == codes[1:]) & (times[:-1] > times[1:]))
    except TypeError:
        return []  # mixed types: reported as a dtype violation
    bad = np.concatenate([[False], later])
    what = f"rows out of order (not sorted by {', '.join(contract.sorted_by)})"
    return _flag(df, contract, ",".join(contract.sorted_by), "sorted", bad, what)


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


def _validate_event_values(events: pd.DataFrame, contract: TableContract) -> list[Violation]:
    if not pd.api.types.is_numeric_dtype(events[schema.AMOUNT_COL]):
        return []  # reported as a dtype violation
    etype = events[schema.EVENT_TYPE_COL]
    value = events[schema.AMOUNT_COL]
    charging = etype.eq("charging_session")
    on_charging_channel = events[schema.CHANNEL_COL].isin(schema.CHARGING_CHANNELS)
    checks = (
        (schema.AMOUNT_COL, "nps_range",
         etype.eq("nps_response") & ~(value.between(0, 10) & value.eq(value.round())),
         "nps_response values that are not whole scores 0..10"),
        (schema.AMOUNT_COL, "service_wait",
         etype.eq("service_visit") & ~(value >= 0),
         "service_visit values (wait days) missing or negative"),
        (schema.AMOUNT_COL, "order_value",
         etype.eq("order") & ~(value > 0),
         "order values (price) missing or not positive"),
        (schema.CHANNEL_COL, "charging_channel",
         charging != on_charging_channel,
         "rows where charging_session and the home/public/fast channels do not go together"),
    )  # fmt: skip
    found = []
    for column, rule, bad, what in checks:
        found += _flag(events, contract, column, rule, bad, what)
    return found


def _isin(values: pd.Series, allowed: pd.Series) -> pd.Series:
    """``values.isin(allowed)``, through Arrow for text columns (much faster on big tables)."""
    try:
        column = pa.array(values, from_pandas=True).cast(pa.large_string())
        value_set = pa.array(allowed.dropna().unique(), from_pandas=True).cast(pa.large_string())
    except (pa.ArrowException, TypeError):
        return values.isin(allowed)
    found = pc.fill_null(pc.is_in(column, value_set=value_set), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)


def _orphans(child: pd.DataFrame, column: str, parent_keys: pd.Series) -> pd.Series:
    return child[column].notna() & ~_isin(child[column], parent_keys)


def validate_cross_table(tables: dict[str, pd.DataFrame]) -> list[Violation]:
    """References between tables and ordering rules (orders and events not before the lead)."""
    found: list[Violation] = []
    customers = tables.get(schema.CUSTOMERS_TABLE)
    if customers is None or "customer_id" not in customers.columns:
        return found
    events = tables.get(schema.EVENTS_TABLE)
    looked_up = events.looked_up if isinstance(events, _EventsFile) else {}
    for name, contract in CONTRACTS.items():
        df = tables.get(name)
        if df is None or df.empty:
            continue
        for column, other, other_column in contract.references:
            parent = tables.get(other)
            if column not in df.columns or parent is None or other_column not in parent.columns:
                continue
            if isinstance(df, _EventsFile):
                count, examples = looked_up.get("reference", (0, ()))
                if count:
                    found.append(
                        Violation(name, column, "reference",
                                  f"{count} rows point to no {other}.{other_column}", examples)
                    )  # fmt: skip
                continue
            orphan = _orphans(df, column, parent[other_column])
            if orphan.any():
                found.append(
                    Violation(name, column, "reference",
                              f"{int(orphan.sum())} rows point to no {other}.{other_column}",
                              tuple(df.loc[orphan, column].astype(str).head(MAX_EXAMPLES)))
                )  # fmt: skip
    if "lead_created_at" not in customers.columns:
        return found
    checks = (
        (schema.ORDERS_TABLE, "order_ts", "order_after_lead"),
        (schema.EVENTS_TABLE, schema.TIME_COL, "event_after_lead"),
    )
    for name, column, rule in checks:
        df = tables.get(name)
        if df is None or df.empty or column not in df.columns:
            continue
        if isinstance(df, _EventsFile):
            count, examples = looked_up.get(rule, (0, ()))
            if count:
                found.append(
                    Violation(name, column, rule,
                              f"{count} rows dated before the customer's lead_created_at",
                              examples)
                )  # fmt: skip
            continue
        if not pd.api.types.is_datetime64_any_dtype(df[column]):
            continue
        created = _lookup(df["customer_id"], customers, "lead_created_at")
        early = (df[column] < created).fillna(False)
        if early.any():
            found.append(
                Violation(name, column, rule,
                          f"{int(early.sum())} rows dated before the customer's lead_created_at",
                          tuple(df.loc[early, "customer_id"].astype(str).head(MAX_EXAMPLES)))
            )  # fmt: skip
    found += _validate_orders_vs_events(tables, customers)
    found += _validate_truth(tables, customers, looked_up)
    return found


def _usable(df: pd.DataFrame | None, columns: dict[str, str]) -> bool:
    """``df`` exists, is not empty and has these columns with these kinds."""
    if isinstance(df, _EventsFile):  # its columns have the contract's kinds
        return not df.empty and all(c in df.columns for c in columns)
    if df is None or df.empty:
        return False
    return all(c in df.columns and _kind_ok(df[c], kind) for c, kind in columns.items())


def _validate_orders_vs_events(
    tables: dict[str, pd.DataFrame], customers: pd.DataFrame
) -> list[Violation]:
    orders, events = tables.get(schema.ORDERS_TABLE), tables.get(schema.EVENTS_TABLE)
    found: list[Violation] = []
    order_cols = {"customer_id": "string", "order_ts": "datetime", "price": "float"}
    event_cols = {schema.ID_COL: "string", schema.TIME_COL: "datetime", schema.AMOUNT_COL: "float"}
    if _usable(orders, order_cols) and _usable(events, event_cols):
        if isinstance(events, _EventsFile):
            order_events = events.order_events().rename(
                columns={schema.ID_COL: "customer_id", schema.TIME_COL: "order_ts"}
            )
        else:
            order_events = events.loc[
                events[schema.EVENT_TYPE_COL].eq("order"),
                [schema.ID_COL, schema.TIME_COL, schema.AMOUNT_COL],
            ].rename(columns={schema.ID_COL: "customer_id", schema.TIME_COL: "order_ts"})
        both = orders[["customer_id", "order_ts", "price"]].merge(
            order_events, on=["customer_id", "order_ts"], how="outer", indicator=True
        )
        unmatched = both["_merge"].ne("both") | both["price"].ne(both[schema.AMOUNT_COL])
        if unmatched.any():
            found.append(
                Violation(schema.ORDERS_TABLE, "order_ts", "order_event",
                          f"{int(unmatched.sum())} orders and 'order' events do not match "
                          "(customer, time, price)",
                          tuple(both.loc[unmatched, "customer_id"].astype(str).head(MAX_EXAMPLES)))
            )  # fmt: skip
    if _usable(orders, {"customer_id": "string", "sales_model": "string"}) and _usable(
        customers, {"customer_id": "string", "sales_model": "string"}
    ):
        expected = _lookup(orders["customer_id"], customers, "sales_model")
        differs = expected.notna() & orders["sales_model"].ne(expected)
        if differs.any():
            found.append(
                Violation(schema.ORDERS_TABLE, "sales_model", "sales_model_match",
                          f"{int(differs.sum())} orders with another sales_model than the customer",
                          tuple(orders.loc[differs, "customer_id"].astype(str).head(MAX_EXAMPLES)))
            )  # fmt: skip
    return found


def _validate_truth(
    tables: dict[str, pd.DataFrame],
    customers: pd.DataFrame,
    looked_up: dict[str, tuple[int, tuple[str, ...]]] | None = None,
) -> list[Violation]:
    truth, events = tables.get(schema.TRUTH_TABLE), tables.get(schema.EVENTS_TABLE)
    found: list[Violation] = []
    if truth is None or "customer_id" not in truth.columns:
        return found
    uncovered = ~_isin(customers["customer_id"], truth["customer_id"])
    if uncovered.any():
        found.append(
            Violation(schema.TRUTH_TABLE, "customer_id", "coverage",
                      f"{int(uncovered.sum())} customers have no truth row",
                      tuple(customers.loc[uncovered, "customer_id"].astype(str)
                            .head(MAX_EXAMPLES)))
        )  # fmt: skip
    if _usable(truth, {"customer_id": "string", "churn_ts": "datetime"}) and _usable(
        events, {schema.ID_COL: "string", schema.TIME_COL: "datetime"}
    ):
        if isinstance(events, _EventsFile):
            count, examples = (looked_up or {}).get("quiet_after_churn", (0, ()))
            if count:
                found.append(
                    Violation(schema.EVENTS_TABLE, schema.TIME_COL, "quiet_after_churn",
                              f"{count} events at or after the owner's churn_ts", examples)
                )  # fmt: skip
            return found
        churned_at = _lookup(events[schema.ID_COL], truth, "churn_ts")
        late = (events[schema.TIME_COL] >= churned_at).fillna(False)
        if late.any():
            found.append(
                Violation(schema.EVENTS_TABLE, schema.TIME_COL, "quiet_after_churn",
                          f"{int(late.sum())} events at or after the owner's churn_ts",
                          _examples(events, late, CONTRACTS[schema.EVENTS_TABLE]))
            )  # fmt: skip
    return found


# --- the events file checked by DuckDB (no pandas copy of tens of millions of rows) ----------


def _sql_name(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _plain_string(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _duckdb_events_ok(path: Path, contract: TableContract) -> bool:
    """The events file has exactly the types whose pandas checks the SQL reproduces.

    Any other file (a missing column, another dtype, zoned or non-microsecond stamps, a
    dictionary-typed id) is read into pandas and checked as before.
    """
    try:
        file_schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return False
    names = file_schema.names
    if len(set(names)) != len(names) or any(c not in names for c in column_names(contract)):
        return False
    index = (file_schema.pandas_metadata or {}).get("index_columns", [])
    if any(isinstance(c, str) for c in index):
        return False  # a stored pandas index: pandas reads it as the index, not a column
    for rule in contract.columns:
        kind = file_schema.field(rule.name).type
        if rule.kind == "string":
            ok = _plain_string(kind) or (
                rule.categories is not None
                and pa.types.is_dictionary(kind)
                and _plain_string(kind.value_type)
            )
        elif rule.kind == "datetime":
            ok = pa.types.is_timestamp(kind) and kind.tz is None and kind.unit == "us"
        elif rule.kind == "float":
            ok = pa.types.is_float64(kind)
        else:
            ok = False
        if not ok:
            return False
    return True


class _EventsFile:
    """The events table as a Parquet file checked by DuckDB queries.

    Every rule gives the same violation (count, message, first offending rows in file order)
    as the pandas checks of ``validate_table`` and ``validate_cross_table`` on the table read
    into pandas.
    """

    def __init__(self, path: Path, contract: TableContract) -> None:
        self.path, self.contract = path, contract
        self.n_rows = pq.ParquetFile(path).metadata.num_rows
        self.columns = pq.read_schema(path).names
        self.empty = self.n_rows == 0
        self.looked_up: dict[str, tuple[int, tuple[str, ...]]] = {}
        self.order_frame: pd.DataFrame | None = None
        self.run_heads: pa.Array | None = None  # distinct ids of a sorted file
        self.run_stamps: tuple[pa.Array, pa.Array] | None = None  # first and last ts per id
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        source = f"read_parquet({_sql_text(str(path))}, file_row_number = true)"
        self.con.execute(f"CREATE TEMP VIEW ev AS SELECT *, file_row_number AS _row FROM {source}")

    def start_sorted_pass(self) -> None:
        """Run the streamed sort-order pass in a thread (Arrow releases the GIL), while the
        other tables are read and checked in pandas."""
        self._sorted: list[Violation] | BaseException | None = None

        def run() -> None:
            try:
                self._sorted = self._validate_sorted()
            except BaseException as exc:  # re-raised by _sorted_result
                self._sorted = exc

        self._thread = threading.Thread(target=run, name="events-sorted-pass", daemon=True)
        self._thread.start()

    def _sorted_result(self) -> list[Violation]:
        thread = getattr(self, "_thread", None)
        if thread is None:
            return self._validate_sorted()
        thread.join()
        self._thread = None
        if isinstance(self._sorted, BaseException):
            raise self._sorted
        return self._sorted or []

    def close(self) -> None:
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join()
        self.con.close()

    # examples: the first rows by position, named like ``_examples`` names them
    def _key_struct(self) -> str:
        key = self.contract.unique_key[0] if self.contract.unique_key else schema.ID_COL
        stamp = self.contract.sorted_by[1] if self.contract.sorted_by[1:] else None
        stamp_sql = _sql_name(stamp) if stamp else "NULL"
        return f"{{'r': _row, 'k': {_sql_name(key)}, 't': {stamp_sql}}}"

    @staticmethod
    def _names(rows: list[dict] | None) -> tuple[str, ...]:
        names = []
        for row in rows or []:
            key, stamp = row["k"], row["t"]
            if key is None:
                names.append(f"row {row['r']}")
            elif stamp is None:
                names.append(str(key))
            else:
                names.append(f"{key}@{pd.Timestamp(stamp)}")
        return tuple(names)

    def _aggregate(self, checks: list[tuple[str, str]], source: str = "ev") -> list[tuple]:
        """(count, first example rows) of each boolean SQL condition.

        One scan counts every condition; the first rows are fetched only for broken rules.
        """
        if not checks:
            return []
        counts = self.con.execute(
            f"SELECT {', '.join(f'count_if({condition})' for _, condition in checks)} FROM {source}"
        ).fetchall()[0]
        results = []
        for (_, condition), count in zip(checks, counts, strict=True):
            rows = None
            if count:
                rows = [
                    row
                    for (row,) in self.con.execute(
                        f"SELECT {self._key_struct()} FROM {source} WHERE {condition} "
                        f"ORDER BY _row LIMIT {MAX_EXAMPLES}"
                    ).fetchall()
                ]
            results.append((int(count or 0), rows))
        return results

    def validate(
        self, window: tuple[pd.Timestamp, pd.Timestamp] | None, tables: dict[str, pd.DataFrame]
    ) -> list[Violation]:
        """Every single-table rule of the events contract (``validate_table``'s order).

        The same scan finds the cross-table lookups (kept in ``looked_up``), with customers
        and truth of ``tables`` joined in.
        """
        contract, table = self.contract, self.contract.name
        if self.empty:
            return [Violation(table, "", "not_empty", "table has no rows")]
        found: list[Violation] = []
        for name in self.columns:
            if name not in column_names(contract):
                found.append(Violation(table, name, "column_unexpected", "column not in contract"))
        checks: list[tuple[tuple[str, str, str], str]] = []  # ((column, rule, what), sql)
        categories: dict[str, str] = {}
        patterns: dict[str, str] = {}
        for rule in contract.columns:
            column = _sql_name(rule.name)
            null = f"({column} IS NULL OR isnan({column}))" if rule.kind == "float" else (
                f"{column} IS NULL"
            )  # fmt: skip
            if not rule.nullable:
                checks.append(((rule.name, "not_null", "null values"), null))
            if rule.categories is not None:
                categories[rule.name] = f"_bad_category_{len(categories) + 1}"
                checks.append(((rule.name, "category", ""), categories[rule.name]))
            if rule.minimum is not None or rule.maximum is not None:
                outside = []
                if rule.minimum is not None:
                    outside.append(f"{column} < {float(rule.minimum)!r}")
                if rule.maximum is not None:
                    outside.append(f"{column} > {float(rule.maximum)!r}")
                what = f"values outside [{rule.minimum}, {rule.maximum}]"
                # CASE: the NaN test runs on the few rows outside only (NaN compares greatest)
                checks.append(
                    (
                        (rule.name, "range", what),
                        f"CASE WHEN {' OR '.join(outside)} THEN NOT {null} ELSE FALSE END",
                    )
                )
            if rule.pattern is not None:
                patterns[rule.name] = rule.pattern
                checks.append(((rule.name, "pattern", ""), f"_bad_pattern_{len(patterns)}"))
        if window is not None:
            start, end = window
            for column in contract.window_columns:
                bounds = (
                    f"({_sql_name(column)} < TIMESTAMP '{start.isoformat(sep=' ')}' OR "
                    f"{_sql_name(column)} > TIMESTAMP '{end.isoformat(sep=' ')}')"
                )
                what = f"timestamps outside {start:%Y-%m-%d}..{end:%Y-%m-%d}"
                checks.append(((column, "in_window", what), bounds))
        values = self._event_value_checks() if table == schema.EVENTS_TABLE else []
        checks += [((column, rule, what), sql) for column, rule, sql, what in values]
        sorted_found = self._sorted_result() if contract.sorted_by else []
        source, outside = self._value_flags(patterns, categories)
        source, lookups = self._joined(source, tables)
        checks += [((name, name, ""), sql) for name, sql in lookups]
        results = self._aggregate([(label[1], sql) for label, sql in checks], source)
        for (name, _), (count, rows) in zip(
            lookups, results[len(checks) - len(lookups) :], strict=True
        ):
            if name == "quiet_after_churn":
                self.looked_up[name] = (count, self._names(rows))
            else:  # named by the id alone (``df.loc[bad, "customer_id"]``)
                self.looked_up[name] = (count, tuple(str(row["k"]) for row in rows or []))
        checks, results = (
            checks[: len(checks) - len(lookups)],
            results[: len(checks) - len(lookups)],
        )
        by_rule: dict[tuple[str, str], Violation] = {}
        for (column, rule, what), (count, rows) in zip(
            [label for label, _ in checks], results, strict=True
        ):
            if not count:
                continue
            if rule == "category":
                what = f"values outside the vocabulary: {sorted(outside[column])[:MAX_EXAMPLES]}"
            elif rule == "pattern":
                what = f"values do not match {patterns[column]}"
            by_rule[(column, rule)] = Violation(
                table, column, rule, f"{count} {what}", self._names(rows)
            )
        # validate_table's order: per column (dtype ok) not_null, category, range, pattern;
        # then the unique key, the window, the sort order, the per-type values.
        for rule in contract.columns:
            for kind in ("not_null", "category", "range", "pattern"):
                if (rule.name, kind) in by_rule:
                    found.append(by_rule[(rule.name, kind)])
        for column in contract.window_columns:
            if (column, "in_window") in by_rule:
                found.append(by_rule[(column, "in_window")])
        found += sorted_found
        for column, rule, _, _ in values:
            if (column, rule) in by_rule:
                found.append(by_rule[(column, rule)])
        return found

    def _value_flags(
        self, patterns: dict[str, str], categories: dict[str, str]
    ) -> tuple[str, dict[str, list[str]]]:
        """View ``ev`` plus one flag per pattern and vocabulary rule, and the values outside
        each vocabulary.

        The distinct values of those columns are found in one grouping scan and judged in
        Python, so that the per-row work is one lookup of the (usually no) bad values. A
        pattern is matched with RE2 (DuckDB) first and the values it rejects again with
        ``re.fullmatch``: for the declared patterns every RE2 match is a Python match, and
        Python's ``\\d`` also takes non-ASCII digits, so counts equal pandas' ``fullmatch``.
        """
        columns = list(dict.fromkeys([*patterns, *categories]))
        if not columns:
            return "ev", {}
        grouped = [
            c
            for c in columns
            if c in categories or not (c == schema.ID_COL and self.run_heads is not None)
        ]
        if grouped:
            names = [_sql_name(c) for c in grouped]
            sets = ", ".join(f"({n})" for n in names)
            groupings = ", ".join(f"GROUPING({n}) AS _g{i}" for i, n in enumerate(names))
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _distinct AS SELECT {', '.join(names)}, "
                f"{groupings} FROM ev GROUP BY GROUPING SETS ({sets})"
            )
        flags, outside = [], {}
        for name in columns:
            column = _sql_name(name)
            i = grouped.index(name) if name in grouped else -1
            present = f"FROM _distinct WHERE _g{i} = 0 AND {column} IS NOT NULL"
            if name in patterns and name == schema.ID_COL and self.run_heads is not None:
                # a sorted file's distinct ids are its run heads (found by _validate_sorted)
                heads = self.run_heads
                matched = pc.match_substring_regex(heads, f"^(?:{patterns[name]})$")
                rejected = [(v,) for v in heads.filter(pc.invert(matched)).to_pylist()]
            elif name in patterns:
                rejected = self.con.execute(
                    f"SELECT CAST({column} AS VARCHAR) {present} AND NOT "
                    f"regexp_full_match(CAST({column} AS VARCHAR), {_sql_text(patterns[name])})"
                ).fetchall()
            if name in patterns:
                compiled = re.compile(patterns[name])
                bad = [v for (v,) in rejected if compiled.fullmatch(str(v)) is None]
                number = list(patterns).index(name) + 1
                flags.append(self._flag_values(f"_bad_pattern_{number}", column, bad))
            if name in categories:
                values = self.con.execute(f"SELECT CAST({column} AS VARCHAR) {present}").fetchall()
                allowed = {str(c) for c in self.contract.column(name).categories or ()}
                outside[name] = [v for (v,) in values if v not in allowed]
                flag = categories[name]
                flags.append(self._flag_values(flag, column, outside[name]))
        return f"(SELECT *, {', '.join(flags)} FROM ev)", outside

    def _flag_values(self, flag: str, column: str, bad: list[str]) -> str:
        """SQL select item: ``flag`` is true where ``column`` holds one of ``bad``."""
        if not bad:
            return f"FALSE AS {flag}"
        table = f"_values{flag}"
        self.con.register(table, pd.DataFrame({"v": pd.Series(bad, dtype="str")}))
        return f"coalesce(CAST({column} AS VARCHAR) IN (SELECT v FROM {table}), FALSE) AS {flag}"

    def _validate_sorted(self) -> list[Violation]:
        """Rows out of order, streamed through Arrow one row group at a time (a DuckDB window
        over the row number would sort the whole file).

        The same pass keeps the 'order' events (for the orders rule) and, when the file is
        sorted, the distinct ids (the first row of each run, for the id pattern).
        """
        first, second = self.contract.sorted_by
        et, value = schema.EVENT_TYPE_COL, schema.AMOUNT_COL
        parquet = pq.ParquetFile(self.path)
        count, offset, examples, nulls = 0, 0, [], False
        heads: list[pa.Array] = []
        head_stamps: list[pa.Array] = []
        tail_stamps: list[pa.Array] = []
        orders: list[pa.Table] = []
        previous: tuple[pa.Array, pa.Array] | None = None
        for group in range(parquet.num_row_groups):
            part = parquet.read_row_group(group, columns=[first, second, et, value])
            order_rows = pc.fill_null(pc.equal(part.column(et), "order"), False)
            orders.append(part.select([first, second, value]).filter(order_rows))
            ids, stamps = (part.column(i).combine_chunks() for i in (0, 1))
            nulls = nulls or bool(ids.null_count or stamps.null_count)
            if nulls:
                continue  # reported as nulls; the order events are still collected
            start = offset
            if previous is None and len(ids):  # the first run starts at the first row
                heads.append(ids.slice(0, 1))
                head_stamps.append(stamps.slice(0, 1))
            if previous is not None:
                ids = pa.concat_arrays([previous[0], ids])
                stamps = pa.concat_arrays([previous[1], stamps])
                start -= 1
            if len(ids) > 1:
                a, b = ids.slice(0, len(ids) - 1), ids.slice(1)
                new_id = pc.not_equal(a, b)
                later = pc.or_(
                    pc.greater(a, b),
                    pc.and_(
                        pc.invert(new_id),
                        pc.greater(stamps.slice(0, len(ids) - 1), stamps.slice(1)),
                    ),
                )
                positions = np.flatnonzero(later.to_numpy(zero_copy_only=False)) + 1
                count += len(positions)
                for i in positions[: MAX_EXAMPLES - len(examples)]:
                    examples.append(
                        {"r": start + int(i), "k": ids[int(i)].as_py(), "t": stamps[int(i)].as_py()}
                    )
                if not count:
                    heads.append(b.filter(new_id))
                    head_stamps.append(stamps.slice(1).filter(new_id))
                    tail_stamps.append(stamps.slice(0, len(ids) - 1).filter(new_id))
            offset += part.num_rows
            if len(ids):
                previous = (ids.slice(len(ids) - 1), stamps.slice(len(stamps) - 1))
        self.order_frame = pa.concat_tables(orders).to_pandas()
        if not count and not nulls and heads:
            if previous is not None:
                tail_stamps.append(previous[1])
            self.run_heads = pa.concat_arrays(heads)
            self.run_stamps = (pa.concat_arrays(head_stamps), pa.concat_arrays(tail_stamps))
        if nulls or not count:
            return []
        what = f"rows out of order (not sorted by {', '.join(self.contract.sorted_by)})"
        return [
            Violation(self.contract.name, ",".join(self.contract.sorted_by), "sorted",
                      f"{count} {what}", self._names(examples))
        ]  # fmt: skip

    def _event_value_checks(self) -> list[tuple[str, str, str, str]]:
        """(column, rule, SQL condition, what) of the per-event-type value rules."""
        et, ch, v = (
            _sql_name(c) for c in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL, schema.AMOUNT_COL)
        )
        number = f"({v} IS NOT NULL AND NOT isnan({v}))"  # NaN compares like pandas' NaN

        def is_type(name: str) -> str:
            return f"coalesce({et} = {_sql_text(name)}, FALSE)"

        def of_type(name: str, ok: str) -> str:  # CASE: the value test runs on that type only
            return (
                f"CASE WHEN {et} = {_sql_text(name)} THEN NOT coalesce({ok}, FALSE) ELSE FALSE END"
            )

        channels = ", ".join(_sql_text(c) for c in schema.CHARGING_CHANNELS)
        checks = (
            (schema.AMOUNT_COL, "nps_range",
             of_type("nps_response", f"{number} AND {v} BETWEEN 0 AND 10 AND {v} = round({v})"),
             "nps_response values that are not whole scores 0..10"),
            (schema.AMOUNT_COL, "service_wait",
             of_type("service_visit", f"{number} AND {v} >= 0"),
             "service_visit values (wait days) missing or negative"),
            (schema.AMOUNT_COL, "order_value",
             of_type("order", f"{number} AND {v} > 0"),
             "order values (price) missing or not positive"),
            (schema.CHANNEL_COL, "charging_channel",
             f"{is_type('charging_session')} <> coalesce({ch} IN ({channels}), FALSE)",
             "rows where charging_session and the home/public/fast channels do not go together"),
        )  # fmt: skip
        return list(checks)

    # cross-table rules
    def _joined(
        self, source: str, tables: dict[str, pd.DataFrame]
    ) -> tuple[str, list[tuple[str, str]]]:
        """``source`` joined to customers and truth, and the conditions of the orphan ids,
        the events before the lead and the events after churn.

        Lookups take the first row of each id (``_lookup``); a missing id matches a missing
        id, as Arrow's ``index_in`` does.
        """
        cid, ts = _sql_name(schema.ID_COL), _sql_name(schema.TIME_COL)
        customers = tables.get(schema.CUSTOMERS_TABLE)
        truth = tables.get(schema.TRUTH_TABLE)
        if self.run_heads is not None:
            return self._joined_sorted(source, customers, truth)
        selects, joins, checks = ["e.*"], [], []
        if customers is not None and "customer_id" in customers.columns:
            frame = pd.DataFrame({"customer_id": customers["customer_id"]}).assign(_found=True)
            with_lead = "lead_created_at" in customers.columns and (
                pd.api.types.is_datetime64_any_dtype(customers["lead_created_at"])
            )
            if with_lead:
                frame["lead_created_at"] = customers["lead_created_at"]
            frame = frame.drop_duplicates("customer_id")
            self.con.register("_customers", frame)
            joins.append(f"LEFT JOIN _customers c ON e.{cid} IS NOT DISTINCT FROM c.customer_id")
            selects.append("c._found AS _found")
            checks.append(("reference", f"{cid} IS NOT NULL AND _found IS NULL"))
            if with_lead:
                selects.append("c.lead_created_at AS _created")
                checks.append(("event_after_lead", f"coalesce({ts} < _created, FALSE)"))
        if truth is not None and _usable(truth, {"customer_id": "string", "churn_ts": "datetime"}):
            frame = truth[["customer_id", "churn_ts"]].drop_duplicates("customer_id")
            self.con.register("_truth", frame)
            joins.append(f"LEFT JOIN _truth t ON e.{cid} IS NOT DISTINCT FROM t.customer_id")
            selects.append("t.churn_ts AS _churned")
            checks.append(("quiet_after_churn", f"coalesce({ts} >= _churned, FALSE)"))
        return f"(SELECT {', '.join(selects)} FROM {source} e {' '.join(joins)})", checks

    def _joined_sorted(
        self, source: str, customers: pd.DataFrame | None, truth: pd.DataFrame | None
    ) -> tuple[str, list[tuple[str, str]]]:
        """``_joined`` for a sorted file without missing ids: judged per id first.

        Each id's rows form one run, whose first and last rows hold its earliest and latest
        stamps; the ids are looked up once each, and only the rows of ids that break a rule
        are flagged (no join of every event when nothing is wrong).
        """
        cid, ts = _sql_name(schema.ID_COL), _sql_name(schema.TIME_COL)
        heads = pd.Series(self.run_heads.to_pandas(), dtype="str")
        first_ts, last_ts = (pd.Series(a.to_pandas()) for a in self.run_stamps)
        flags, checks = [], []

        joins = []
        if customers is not None and "customer_id" in customers.columns:
            orphans = heads[~_isin(heads, customers["customer_id"]).to_numpy()]
            if len(orphans):
                self.con.register("_orphans", pd.DataFrame({"customer_id": orphans.to_numpy()}))
                flags.append(
                    f"coalesce(e.{cid} IN (SELECT customer_id FROM _orphans), FALSE) AS _reference"
                )
            else:
                flags.append("FALSE AS _reference")
            checks.append(("reference", "_reference"))
            if "lead_created_at" in customers.columns and pd.api.types.is_datetime64_any_dtype(
                customers["lead_created_at"]
            ):
                created = _lookup(heads, customers, "lead_created_at")
                early = (first_ts < created.to_numpy()).fillna(False).to_numpy()
                if early.any():  # exact counts and rows: those ids' events joined
                    frame = customers[["customer_id", "lead_created_at"]].drop_duplicates(
                        "customer_id"
                    )
                    frame = frame[_isin(frame["customer_id"], heads[early]).to_numpy()]
                    self.con.register("_early", frame)
                    joins.append(f"LEFT JOIN _early c ON e.{cid} = c.customer_id")
                    flags.append(
                        f"coalesce(e.{ts} < c.lead_created_at, FALSE) AS _event_after_lead"
                    )
                else:
                    flags.append("FALSE AS _event_after_lead")
                checks.append(("event_after_lead", "_event_after_lead"))
        if truth is not None and _usable(truth, {"customer_id": "string", "churn_ts": "datetime"}):
            churned = _lookup(heads, truth, "churn_ts")
            late = (last_ts >= churned.to_numpy()).fillna(False).to_numpy()
            if late.any():
                frame = truth[["customer_id", "churn_ts"]].drop_duplicates("customer_id")
                frame = frame[_isin(frame["customer_id"], heads[late]).to_numpy()]
                self.con.register("_late", frame)
                joins.append(f"LEFT JOIN _late t ON e.{cid} = t.customer_id")
                flags.append(f"coalesce(e.{ts} >= t.churn_ts, FALSE) AS _quiet_after_churn")
            else:
                flags.append("FALSE AS _quiet_after_churn")
            checks.append(("quiet_after_churn", "_quiet_after_churn"))
        if not flags:
            return source, []
        return f"(SELECT e.*, {', '.join(flags)} FROM {source} e {' '.join(joins)})", checks

    def order_events(self) -> pd.DataFrame:
        """The 'order' events (id, time, value) in file order, typed as pandas reads them."""
        if self.order_frame is None:
            self._validate_sorted()
        return self.order_frame  # type: ignore[return-value]


def _plain_lookup_tables(tables: dict[str, pd.DataFrame]) -> bool:
    """Customers and truth (when read) have the kinds the SQL lookups compare like pandas:
    text ids and naive timestamps."""
    for name, column in (
        (schema.CUSTOMERS_TABLE, "lead_created_at"),
        (schema.TRUTH_TABLE, "churn_ts"),
    ):
        df = tables.get(name)
        if df is None or "customer_id" not in df.columns:
            continue
        if not (df.empty or _kind_ok(df["customer_id"], "string")):
            return False
        if column in df.columns and pd.api.types.is_datetime64_any_dtype(df[column]):
            if getattr(df[column].dt, "tz", None) is not None:
                return False
        elif column in df.columns and not df.empty:
            return False
    return True


def validate_frame(
    df: pd.DataFrame, model: type[pandera.DataFrameModel], table: str
) -> list[Violation]:
    """Violations of a pandera model on a DataFrame: one per (column, check), with counts."""
    try:
        model.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    found = []
    model_name = model.to_schema().name
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        values = tuple(str(v) for v in group["failure_case"].head(MAX_EXAMPLES))
        column_name = "" if pd.isna(column) or column == model_name else str(column)
        message = f"{len(group)} failing values of {check}"
        found.append(Violation(table, column_name, str(check), message, values))
    return found


def validate_processed(folder: str | os.PathLike[str]) -> list[Violation]:
    """Contract violations of a processed snapshot folder (features and labels tables)."""
    folder = Path(folder)
    if not (folder / "features.parquet").is_file():
        raise DatasetUnreadable(f"{folder}: not a processed snapshot (no features.parquet)")
    found: list[Violation] = []
    for path in sorted(folder.glob("*.parquet")):
        kind = "labels" if path.stem.startswith("labels_") else path.stem
        model = PROCESSED_MODELS.get(kind)
        if model is None:
            continue
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # any unreadable file is one violation
            found.append(Violation(path.stem, "", "readable", f"{path.name}: {exc}"))
            continue
        found += validate_frame(frame, model, path.stem)
        personal = [c for c in frame.columns if c in schema.PERSONAL_FIELDS]
        for column in personal:
            found.append(Violation(path.stem, column, "no_personal_fields", "personal field"))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print violations; exit 0 clean, 1 violations, 2 unreadable folder."""
    parser = argparse.ArgumentParser(prog="python -m features.validate", description=__doc__)
    parser.add_argument(
        "dataset_dir", help="raw dataset folder (with manifest.json) or processed snapshot folder"
    )
    args = parser.parse_args(argv)
    processed = (Path(args.dataset_dir) / "features.parquet").is_file()
    try:
        if processed:
            violations = validate_processed(args.dataset_dir)
        else:
            violations = validate_dataset(args.dataset_dir)
    except DatasetUnreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for violation in violations:
        print(violation)
    if violations:
        print(f"{args.dataset_dir}: {len(violations)} violation(s)", file=sys.stderr)
        return 1
    checked = ", ".join(PROCESSED_MODELS if processed else CONTRACTS)
    print(f"{args.dataset_dir}: clean ({checked})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
