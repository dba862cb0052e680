"""Load an event log, the one input form of feature code, and report what was cleaned.

Sources: a synthetic dataset folder (``events.parquet`` + ``customers.parquet``), or a user's
CSV/TSV/TXT, Excel or Parquet event log with configurable column names (any header text,
Chinese included). Files are read by ``features.data.reader`` (DuckDB's CSV reader, all
columns as text, then typed in SQL); its time-zone rule (naive stamps are business time,
aware ones converted to ``schema.BUSINESS_TZ``) and loss threshold apply. Real exports carry
duplicate rows, stray repeated header lines, Windows line endings, odd separators,
unparseable timestamps and zero amounts; each is handled by an explicit rule and counted in
``EventLog.cleaning``.

A dataset folder's events (tens of millions of rows) stay in ``events.parquet``: the cleaning
rules are counted by DuckDB and one streamed Arrow pass over the file, ``build_features``
aggregates straight from it, and ``EventLog.events`` is read into pandas (by the same pandas
reader as always) only when first used; ``lazy=False`` reads it at once.

Personal fields (``schema.PERSONAL_FIELDS``) are never read from a customer table.

May import the foundation modules, ``features.data.reader`` and the ``features.data.eventlog_*``
modules (``eventlog_base``, ``eventlog_text``, ``eventlog_parquet``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features import schema
from features.data import reader
from features.data.eventlog_base import (
    CANONICAL_COLUMNS as CANONICAL_COLUMNS,
)
from features.data.eventlog_base import (
    DEFAULT_EVENT_TYPE as DEFAULT_EVENT_TYPE,
)
from features.data.eventlog_base import (
    UNKNOWN_EVENT_TYPE as UNKNOWN_EVENT_TYPE,
)
from features.data.eventlog_base import (
    EventLog,
    _finish_events,
    _Options,
)
from features.data.eventlog_base import (
    _grouped_duplicates_and_days as _grouped_duplicates_and_days,
)
from features.data.eventlog_base import (
    _sorted_duplicates_and_days as _sorted_duplicates_and_days,
)
from features.data.eventlog_parquet import (
    ParquetEvents,
    _ParquetEventLog,
    _read_dataset_events,
    _scan_parquet_events,
    event_source,
)
from features.data.eventlog_text import _canonical_typed_events, _parse_text_events
from features.data.reader import MAX_UNPARSEABLE_SHARE, PARQUET_SUFFIXES, DataError
from features.io import sha256_file

__all__ = ["DataError", "EventLog", "ParquetEvents", "event_source", "load_event_log"]


def load_event_log(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    id_col: str = schema.ID_COL,
    time_col: str = schema.TIME_COL,
    event_type_col: str | None = schema.EVENT_TYPE_COL,
    amount_col: str | None = schema.AMOUNT_COL,
    channel_col: str | None = schema.CHANNEL_COL,
    sep: str | None = None,
    drop_zero_amounts: bool = False,
    business_tz: str = schema.BUSINESS_TZ,
    max_unparseable_share: float = MAX_UNPARSEABLE_SHARE,
    as_of: str | pd.Timestamp | None = None,
    verbose: bool = True,
    lazy: bool = True,
) -> EventLog:
    """Load and clean an event log from a dataset folder, a file or a DataFrame.

    Args:
        source: synthetic dataset folder, CSV/TSV/TXT, Excel (.xlsx) or Parquet event-log
            file, or DataFrame.
        id_col, time_col: required columns (customer id, timestamp); any header text,
            Chinese included.
        event_type_col, amount_col, channel_col: optional columns. A name left at its default
            may be absent (the log then has one event type, no amounts or no channels); a name
            set explicitly must exist. ``None`` means the log has no such column.
        sep: CSV separator; sniffed when None.
        drop_zero_amounts: drop events whose amount is exactly 0 (kept by default: a zero
            amount is still activity). Counted either way.
        business_tz: zone that aware timestamps are converted to (naive ones are kept).
        max_unparseable_share: largest share of a column's non-blank timestamps or amounts
            that may be unparseable before the log is refused.
        as_of: events after this naive business-time stamp are counted and dropped.
        verbose: print the one-line cleaning summary.
        lazy: for a dataset folder, count the cleaning rules with DuckDB over the events file
            and read ``events`` into pandas only when it is first used (``build_features``
            aggregates straight from the file). ``False`` reads the events into pandas now
            (cheaper when they will be used anyway). The log is the same either way.

    Raises:
        DataError: missing file or column, too many unparseable values, or no usable rows.
    """
    if not 0 <= max_unparseable_share <= 1:
        raise ValueError(f"max_unparseable_share={max_unparseable_share}: must lie in [0, 1]")
    columns = _ColumnMap(id_col, time_col, event_type_col, amount_col, channel_col)
    stamp = None if as_of is None else reader.business_timestamp(as_of, business_tz)
    opts = _Options(drop_zero_amounts, business_tz, max_unparseable_share, stamp)
    if isinstance(source, pd.DataFrame):
        log = _load_frame(source, columns, opts)
    else:
        path = Path(source)
        if path.is_dir():
            log = _load_dataset_dir(path, opts, lazy)
        elif not path.exists():
            raise DataError(f"{path}: file not found (rule: the event log must exist)")
        elif path.suffix.lower() in PARQUET_SUFFIXES:
            log = _load_parquet_file(path, columns, opts)
        else:
            log = _load_text_file(path, columns, sep, opts)
    if verbose:
        print(log.summary())
    return log


@dataclass(frozen=True)
class _ColumnMap:
    id_col: str
    time_col: str
    event_type_col: str | None
    amount_col: str | None
    channel_col: str | None

    def optional(self) -> dict[str, tuple[str | None, str, str]]:
        """canonical name -> (configured name, default name, argument name)."""
        return {
            schema.EVENT_TYPE_COL: (self.event_type_col, schema.EVENT_TYPE_COL, "event_type_col"),
            schema.AMOUNT_COL: (self.amount_col, schema.AMOUNT_COL, "amount_col"),
            schema.CHANNEL_COL: (self.channel_col, schema.CHANNEL_COL, "channel_col"),
        }


def _resolve_columns(
    available: list[str], columns: _ColumnMap, where: str, sep: str | None = None
) -> dict[str, str]:
    """Map canonical names to the source's column names; raise for a missing configured one."""
    found = ", ".join(available[:20])
    if sep is not None and len(available) == 1:
        found += f" (one column with separator {sep!r}: wrong separator? parameter sep)"
    mapping: dict[str, str] = {}
    for canonical, configured, role in (
        (schema.ID_COL, columns.id_col, "id_col"),
        (schema.TIME_COL, columns.time_col, "time_col"),
    ):
        if configured not in available:
            raise DataError(
                f"{where}: column {configured!r} not found (rule: {role} is required; "
                f"columns are: {found})"
            )
        mapping[canonical] = configured
    for canonical, (configured, default, role) in columns.optional().items():
        if configured is None:
            continue
        if configured in available:
            mapping[canonical] = configured
        elif configured != default:
            raise DataError(
                f"{where}: column {configured!r} not found (rule: {role} was set, so the "
                f"column must exist; columns are: {found})"
            )
    return mapping


# --- sources -------------------------------------------------------------------------------


def _load_dataset_dir(folder: Path, opts: _Options, lazy_events: bool = True) -> EventLog:
    events_path = folder / f"{schema.EVENTS_TABLE}.parquet"
    customers_path = folder / f"{schema.CUSTOMERS_TABLE}.parquet"
    for path in (events_path, customers_path):
        if not path.exists():
            raise DataError(f"{path}: file not found (rule: a dataset folder holds {path.name})")
    events_cols = _parquet_columns(events_path)
    missing = [c for c in schema.EVENT_COLUMNS if c not in events_cols]
    if missing:
        raise DataError(
            f"{events_path}: column {missing[0]!r} not found (rule: events carry "
            f"{', '.join(schema.EVENT_COLUMNS)})"
        )
    lazy = _scan_parquet_events(events_path, opts) if lazy_events else None
    events: pd.DataFrame | None = None
    if lazy is None:
        events, cleaning = _read_dataset_events(events_path, opts)
    else:
        cleaning = dict(lazy.cleaning)

    customer_cols = [c for c in _parquet_columns(customers_path) if c not in schema.PERSONAL_FIELDS]
    if schema.ID_COL not in customer_cols:
        raise DataError(
            f"{customers_path}: column {schema.ID_COL!r} not found (rule: customers carry an id)"
        )
    customers = _canonical_customers(
        pd.read_parquet(customers_path, columns=customer_cols), opts.business_tz
    )

    hashes = {
        path.name: sha256_file(path)
        for path in (events_path, customers_path, folder / schema.MANIFEST_FILE)
        if path.exists()
    }
    if lazy is not None:
        return _ParquetEventLog(lazy, opts, customers, cleaning, f"dataset {folder}", hashes)
    return EventLog(events, customers, cleaning, f"dataset {folder}", hashes)


def _parquet_columns(path: Path) -> list[str]:
    """Column names of a Parquet file; a truncated or foreign file is one clear error."""
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{path}: cannot be read as Parquet (rule: a complete Parquet file; {exc})"
        ) from None


def _load_parquet_file(path: Path, columns: _ColumnMap, opts: _Options) -> EventLog:
    mapping = _resolve_columns(_parquet_columns(path), columns, str(path))
    raw = pd.read_parquet(path, columns=list(mapping.values()))
    raw = raw.rename(columns={source: canonical for canonical, source in mapping.items()})
    cleaning: dict[str, int] = {}
    events = _canonical_typed_events(raw, cleaning, str(path), opts)
    events = _finish_events(events, cleaning, opts, str(path))
    return EventLog(events, None, cleaning, f"event log {path}", {path.name: sha256_file(path)})


def _load_frame(frame: pd.DataFrame, columns: _ColumnMap, opts: _Options) -> EventLog:
    where = "events DataFrame"
    mapping = _resolve_columns([str(c) for c in frame.columns], columns, where)
    raw = frame[list(mapping.values())].rename(
        columns={source: canonical for canonical, source in mapping.items()}
    )
    cleaning: dict[str, int] = {}
    events = _canonical_typed_events(raw, cleaning, where, opts)
    events = _finish_events(events, cleaning, opts, where)
    digest = hashlib.sha256(pd.util.hash_pandas_object(events, index=False).values.tobytes())
    return EventLog(events, None, cleaning, where, {"events": digest.hexdigest()})


def _load_text_file(path: Path, columns: _ColumnMap, sep: str | None, opts: _Options) -> EventLog:
    table = reader.read_text_table(
        path, sep=sep, required=(columns.id_col, columns.time_col), what="the event log"
    )
    try:
        mapping = _resolve_columns(table.columns, columns, str(path), table.sep)
        cleaning = dict(table.cleaning)
        events = _parse_text_events(table, mapping, cleaning, opts, str(path))
    finally:
        table.close()
    described = f"separator {table.sep!r}, {table.encoding}" if table.sep else "Excel"
    return EventLog(
        events, None, cleaning, f"event log {path} ({described})", {path.name: table.sha256}
    )


def _canonical_customers(customers: pd.DataFrame, business_tz: str) -> pd.DataFrame:
    customers = customers.drop(columns=[c for c in schema.PERSONAL_FIELDS if c in customers])
    customers[schema.ID_COL] = customers[schema.ID_COL].astype("str")
    if "lead_created_at" in customers:
        customers["lead_created_at"] = reader.to_business_time(
            customers["lead_created_at"], business_tz
        )
    return customers.reset_index(drop=True)
