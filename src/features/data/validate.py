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

May import the foundation modules, ``features.data.contracts``, ``features.data.violations``
and ``features.data.validate_events``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.parquet as pq

from features import schema
from features.data.contracts import (
    CONTRACTS,
    PROCESSED_MODELS,
    ColumnRule,
    TableContract,
    column_names,
)
from features.data.validate_events import (
    _duckdb_events_ok,
    _EventsFile,
    _usable,
)
from features.data.violations import (
    MAX_EXAMPLES,
    Violation,
    _all_match,
    _any_duplicate,
    _isin,
    _kind_ok,
    _lookup,
)
from features.io import sha256_file


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
    if rule.pattern is not None and not _all_match(present, rule.pattern):
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
    if (
        contract.unique_key
        and not set(contract.unique_key) & set(missing)
        and _any_duplicate(df, list(contract.unique_key))
    ):
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
