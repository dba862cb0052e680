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

May import the foundation modules and ``features.data.reader``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features import schema
from features.data import reader
from features.data.reader import MAX_UNPARSEABLE_SHARE, PARQUET_SUFFIXES, DataError
from features.io import sha256_file

DEFAULT_EVENT_TYPE = "event"
UNKNOWN_EVENT_TYPE = "unknown"
CANONICAL_COLUMNS = schema.EVENT_COLUMNS

__all__ = ["DataError", "EventLog", "ParquetEvents", "event_source", "load_event_log"]


@dataclass(frozen=True)
class _Options:
    drop_zero_amounts: bool = False
    business_tz: str = schema.BUSINESS_TZ
    max_unparseable_share: float = MAX_UNPARSEABLE_SHARE
    as_of: pd.Timestamp | None = None


@dataclass
class EventLog:
    """A cleaned event log with optional customer attributes.

    Attributes:
        events: columns customer_id (str), ts (datetime64[us]), event_type (category),
            channel (category, may be missing), value (float64, NaN when absent).
        customers: customer attributes without personal fields, or None.
        cleaning: counts of what each cleaning rule changed or found.
        source: a description of where the data came from.
        input_hashes: sha256 of every input file read, by file name.
    """

    events: pd.DataFrame
    customers: pd.DataFrame | None
    cleaning: dict[str, int] = field(default_factory=dict)
    source: str = ""
    input_hashes: dict[str, str] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        """Number of distinct customer ids in the events."""
        return int(self.events[schema.ID_COL].nunique())

    def summary(self) -> str:
        """One line: size and every non-zero cleaning count."""
        cleaned = ", ".join(f"{key} {value}" for key, value in self.cleaning.items() if value)
        return (
            f"{self.source}: {len(self.events):,} events of {self.n_customers:,} customers; "
            f"cleaning: {cleaned or 'nothing to clean'}"
        )


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


def _read_dataset_events(events_path: Path, opts: _Options) -> tuple[pd.DataFrame, dict[str, int]]:
    """The cleaned events of a dataset folder as a pandas DataFrame, and the cleaning counts."""
    table = pq.read_table(
        events_path,
        columns=list(schema.EVENT_COLUMNS),
        read_dictionary=[schema.EVENT_TYPE_COL, schema.CHANNEL_COL],
    )
    raw = table.to_pandas()
    del table
    cleaning: dict[str, int] = {}
    events = _canonical_typed_events(raw, cleaning, str(events_path), opts)
    del raw
    events = _finish_events(events, cleaning, opts, str(events_path))
    return events, cleaning


# --- dataset events read by DuckDB, materialised in pandas only on demand ---------------------

# Characters Python's ``str.strip()`` removes (an id of only these is a missing id).
_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_WHITESPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "]"


@dataclass(frozen=True)
class ParquetEvents:
    """The cleaned events of a dataset's ``events.parquet`` as a DuckDB query.

    The cleaning rules of ``load_event_log`` (missing ids and timestamps, non-finite amounts,
    events after as-of, blank event types, exact duplicate rows, dropped zero amounts) are
    applied in SQL over the file; ``duplicate_rows`` are the file row numbers of the rows that
    repeat an earlier one. Used by ``features.table.build`` to aggregate straight from the
    file, without a pandas copy of tens of millions of events.
    """

    path: Path
    stat: tuple[int, int]
    as_of: pd.Timestamp | None
    drop_zero_amounts: bool
    duplicate_rows: np.ndarray
    cleaning: dict[str, int]
    n_events: int
    n_customers: int

    def check_unchanged(self) -> None:
        """Refuse to use the file if it changed since it was loaded."""
        if _file_stat(self.path) != self.stat:
            raise DataError(
                f"{self.path}: changed since the event log was loaded (rule: load it again)"
            )

    def register(self, con: duckdb.DuckDBPyConnection, name: str = "clean_events") -> str:
        """Create view ``name`` of the cleaned canonical events on ``con``; return ``name``."""
        self.check_unchanged()
        con.execute(f"CREATE OR REPLACE TEMP VIEW _events_base AS {_base_sql(self.path)}")
        keep = [_kept_sql(self.as_of)]
        if len(self.duplicate_rows):
            con.register("_duplicate_rows", pd.DataFrame({"_row": self.duplicate_rows}))
            keep.append("_row NOT IN (SELECT _row FROM _duplicate_rows)")
        if self.drop_zero_amounts:
            keep.append("NOT coalesce(v = 0, FALSE)")
        unknown = reader.sql_text(UNKNOWN_EVENT_TYPE)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT id AS {schema.ID_COL}, "
            f"ts AS {schema.TIME_COL}, coalesce(et, {unknown}) AS {schema.EVENT_TYPE_COL}, "
            f"ch AS {schema.CHANNEL_COL}, v AS {schema.AMOUNT_COL} "
            f"FROM _events_base WHERE {' AND '.join(keep)}"
        )
        return name


class _ParquetEventLog(EventLog):
    """An EventLog whose ``events`` DataFrame is read from the dataset only when first used.

    Cleaning counts, sizes and features come from DuckDB over the file; the DataFrame, when
    asked for, is the one the pandas reader has always produced.
    """

    def __init__(
        self,
        parquet: ParquetEvents,
        opts: _Options,
        customers: pd.DataFrame | None,
        cleaning: dict[str, int],
        source: str,
        input_hashes: dict[str, str],
    ) -> None:
        self._parquet: ParquetEvents | None = parquet
        self._opts = opts
        self._frame: pd.DataFrame | None = None
        super().__init__(None, customers, cleaning, source, input_hashes)  # type: ignore[arg-type]

    @property  # type: ignore[override]
    def events(self) -> pd.DataFrame:
        if self._frame is None and self._parquet is not None:
            self._parquet.check_unchanged()
            self._frame, _ = _read_dataset_events(self._parquet.path, self._opts)
        return self._frame  # type: ignore[return-value]

    @events.setter
    def events(self, value: pd.DataFrame | None) -> None:
        self._frame = value
        if value is not None:
            self._parquet = None  # the caller's frame replaces the file's events

    def parquet_events(self) -> ParquetEvents | None:
        """The file-backed events while no DataFrame was materialised (None afterwards)."""
        return self._parquet if self._frame is None else None

    @property
    def n_customers(self) -> int:
        """Number of distinct customer ids in the events."""
        lazy = self.parquet_events()
        return lazy.n_customers if lazy is not None else super().n_customers

    def summary(self) -> str:
        """One line: size and every non-zero cleaning count."""
        lazy = self.parquet_events()
        if lazy is None:
            return super().summary()
        cleaned = ", ".join(f"{key} {value}" for key, value in self.cleaning.items() if value)
        return (
            f"{self.source}: {lazy.n_events:,} events of {lazy.n_customers:,} customers; "
            f"cleaning: {cleaned or 'nothing to clean'}"
        )


def event_source(log: EventLog) -> pd.DataFrame | ParquetEvents:
    """What feature code should read: the file-backed events while unmaterialised, else
    the DataFrame."""
    if isinstance(log, _ParquetEventLog):
        lazy = log.parquet_events()
        if lazy is not None:
            return lazy
    return log.events


def _file_stat(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _string_type(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _duckdb_readable(path: Path) -> bool:
    """The events file has the types the DuckDB path reproduces exactly (else: pandas path)."""
    try:
        file_schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return False
    types = {name: file_schema.field(name).type for name in schema.EVENT_COLUMNS}
    stamp, value = types[schema.TIME_COL], types[schema.AMOUNT_COL]
    return (
        all(
            _string_type(types[c])
            for c in (schema.ID_COL, schema.EVENT_TYPE_COL, schema.CHANNEL_COL)
        )
        and pa.types.is_timestamp(stamp)
        and stamp.tz is None
        and stamp.unit in ("s", "ms", "us")
        and (pa.types.is_float64(value) or pa.types.is_integer(value))
    )


def _base_sql(path: Path) -> str:
    """SQL: the file's rows with their row number, typed; ``null_id`` marks a missing id."""
    cid = schema.ID_COL
    # Only a text starting below '!' or at U+0085 or above can be whitespace only.
    null_id = (
        f"({cid} IS NULL OR (({cid} < '!' OR {cid} >= chr(133)) "
        f"AND regexp_full_match({cid}, '{_WHITESPACE_CLASS}*')))"
    )
    value = f"CAST({schema.AMOUNT_COL} AS DOUBLE)"
    return (
        f"SELECT file_row_number AS _row, CAST({cid} AS VARCHAR) AS id, {null_id} AS null_id, "
        f"CAST({schema.TIME_COL} AS TIMESTAMP) AS ts, "
        f"CAST({schema.EVENT_TYPE_COL} AS VARCHAR) AS et, "
        f"CAST({schema.CHANNEL_COL} AS VARCHAR) AS ch, {value} AS v0, "
        f"CASE WHEN isnan({value}) OR isinf({value}) THEN NULL ELSE {value} END AS v "
        f"FROM read_parquet({reader.sql_text(str(path))}, file_row_number = true)"
    )


def _kept_sql(as_of: pd.Timestamp | None) -> str:
    """SQL: the row has an id and a timestamp (and is not after as-of)."""
    keep = "NOT null_id AND ts IS NOT NULL"
    if as_of is not None:
        keep += f" AND ts <= TIMESTAMP '{as_of.isoformat(sep=' ')}'"
    return keep


def _scan_parquet_events(path: Path, opts: _Options) -> ParquetEvents | None:
    """Cleaning counts of a dataset's events, counted by DuckDB over the file.

    The same counts, in the same order, as ``_canonical_typed_events`` + ``_finish_events``;
    None when the file's types call for the pandas reader (or DuckDB cannot read it).
    """
    if not _duckdb_readable(path):
        return None
    stat = _file_stat(path)
    con = reader.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"CREATE TEMP VIEW base AS {_base_sql(path)}")
        keep = _kept_sql(opts.as_of)
        keep_any = _kept_sql(None)
        late = f"count_if({keep_any} AND NOT ({keep}))" if opts.as_of is not None else "0"
        unknown = reader.sql_text(UNKNOWN_EVENT_TYPE)
        # A file sorted by id and time (as datasets are) gives its ids, customer days and the
        # runs of rows sharing id and time (where exact duplicates must lie) in one streamed
        # pass; an unsorted file takes hash passes instead.
        runs = _ordered_runs(path, opts.as_of)
        unsorted = runs is None
        (null_ids, bad_times, non_finite, n_late, blank, zero, negative, n_kept) = con.execute(
            f"SELECT count_if(null_id), count_if(ts IS NULL AND NOT null_id), "
            f"count_if(isinf(v0)), {late}, count_if({keep} AND et IS NULL), "
            f"count_if({keep} AND v = 0), count_if({keep} AND v < 0), count_if({keep}) "
            "FROM base"
        ).fetchall()[0]  # fmt: skip
        if runs is None:
            n_ids, n_stripped = con.execute(
                "SELECT count(*), count(DISTINCT ltrim(c, '0')) FROM (SELECT DISTINCT id AS c "
                f"FROM base WHERE {keep})"
            ).fetchall()[0]
        else:
            new_days, n_ids, n_stripped, run_rows = runs
        row_key = f"id, ts, coalesce(et, {unknown}), ch, CASE WHEN v = 0 THEN 0.0 ELSE v END"
        if unsorted:  # rows sharing a 64-bit hash, then compared column by column
            con.execute(
                f"CREATE TEMP TABLE candidates AS SELECT _row FROM base WHERE {keep} AND "
                f"hash({row_key}) IN (SELECT h FROM (SELECT hash({row_key}) AS h FROM base "
                f"WHERE {keep}) GROUP BY h HAVING count(*) > 1)"
            )
            (n_days,) = con.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT id, CAST(ts AS DATE) FROM base "
                f"WHERE {keep})"
            ).fetchall()[0]
        else:
            con.register("candidates", pd.DataFrame({"_row": run_rows}))
            n_days = new_days
        duplicates = con.execute(
            "SELECT _row, coalesce(v = 0, FALSE) AS zero, coalesce(v < 0, FALSE) AS negative "
            f"FROM (SELECT _row, v, row_number() OVER (PARTITION BY {row_key} "
            f"ORDER BY _row) AS k FROM base WHERE {keep} AND _row IN "
            "(SELECT _row FROM candidates)) WHERE k > 1 ORDER BY _row"
        ).fetchnumpy()
        n_zero_ids = 0
        if opts.drop_zero_amounts and zero:
            (n_zero_ids,) = con.execute(
                f"SELECT count(*) FROM (SELECT id FROM base WHERE {keep} GROUP BY id "
                "HAVING bool_and(coalesce(v = 0, FALSE)))"
            ).fetchall()[0]
    except (duckdb.Error, pa.ArrowException, OSError):
        return None  # let the pandas reader report what is wrong with the file
    finally:
        con.close()
    rows = np.asarray(duplicates["_row"], dtype=np.int64)
    cleaning = {
        "null_ids": int(null_ids),
        "unparseable_timestamps": int(bad_times),
        "non_finite_amounts": int(non_finite),
    }
    if opts.as_of is not None:
        cleaning["events_after_as_of"] = int(n_late)
    cleaning["blank_event_types"] = int(blank)
    cleaning["ids_differing_only_by_leading_zeros"] = int(n_ids) - int(n_stripped)
    cleaning["duplicate_rows"] = len(rows)
    n_events = int(n_kept) - len(rows)
    cleaning["rows_sharing_a_customer_day"] = n_events - int(n_days)
    cleaning["zero_amounts"] = int(zero) - int(np.sum(duplicates["zero"]))
    cleaning["negative_amounts"] = int(negative) - int(np.sum(duplicates["negative"]))
    n_customers = int(n_ids)
    if opts.drop_zero_amounts and cleaning["zero_amounts"]:
        n_events -= cleaning["zero_amounts"]
        cleaning["zero_amounts_dropped"] = cleaning["zero_amounts"]
        n_customers -= int(n_zero_ids)
    if n_events <= 0:
        raise DataError(
            f"{path}: no usable rows after cleaning (rule: at least one event with "
            "an id and a parseable timestamp)"
        )
    return ParquetEvents(
        path, stat, opts.as_of, opts.drop_zero_amounts, rows, cleaning, n_events, n_customers
    )


def _null_ids(ids: pa.Array) -> pa.Array:
    """Arrow: the id is missing or whitespace only (as ``null_id`` of ``_base_sql``)."""
    missing = ids.is_null()
    maybe = pc.fill_null(pc.or_(pc.less(ids, "!"), pc.greater_equal(ids, "\x85")), False)
    if pc.any(maybe).as_py():
        blank = pc.match_substring_regex(ids, f"^{_WHITESPACE_CLASS}*$")
        missing = pc.or_(missing, pc.fill_null(pc.and_(maybe, blank), False))
    return missing


def _neighbour_steps(ids: pa.Array, stamps: pa.Array) -> tuple[pa.Array, int, np.ndarray] | None:
    """Compare each row with the next (ids and stamps sorted by id, then time).

    Returns the ids that start a new customer after the first row, the number of steps to a
    new (customer, day), and a mask of steps with the same id and time; None when not sorted.
    """
    n = len(ids)
    a, b = ids.slice(0, n - 1), ids.slice(1)
    ta, tb = stamps.slice(0, n - 1), stamps.slice(1)
    same_id = pc.equal(a, b)
    if pc.any(pc.or_(pc.greater(a, b), pc.and_(same_id, pc.greater(ta, tb)))).as_py():
        return None
    new_id = pc.invert(same_id)
    day_a, day_b = (pc.floor_temporal(t, unit="day") for t in (ta, tb))
    day_changes = pc.sum(pc.or_(new_id, pc.not_equal(day_a, day_b))).as_py() or 0
    same = pc.and_(same_id, pc.equal(ta, tb)).to_numpy(zero_copy_only=False)
    return b.filter(new_id), int(day_changes), same


def _ordered_runs(
    path: Path, as_of: pd.Timestamp | None
) -> tuple[int, int, int, np.ndarray] | None:
    """Kept rows of a file sorted by id, then time, streamed one row group at a time.

    Returns the distinct (id, day) pairs, the distinct ids, the distinct ids once leading
    zeros are removed and the file row numbers of the rows sharing id and time with a
    neighbour; None when the kept rows are not sorted.
    """
    parquet = pq.ParquetFile(path)
    days, offset = 0, 0
    heads: list[pa.Array] = []
    runs: list[np.ndarray] = []
    previous: tuple[pa.Array, pa.Array, int] | None = None  # last kept id, time, row
    limit = None if as_of is None else pa.scalar(as_of.to_datetime64(), pa.timestamp("us"))
    for group in range(parquet.num_row_groups):
        part = parquet.read_row_group(group, columns=[schema.ID_COL, schema.TIME_COL])
        ids = part.column(0).combine_chunks().cast(pa.string())
        stamps = part.column(1).combine_chunks().cast(pa.timestamp("us"))
        keep = pc.and_(pc.invert(_null_ids(ids)), stamps.is_valid())
        if limit is not None:
            keep = pc.and_(keep, pc.fill_null(pc.less_equal(stamps, limit), False))
        rows = np.flatnonzero(keep.to_numpy(zero_copy_only=False)) + offset
        offset += part.num_rows
        ids, stamps = ids.filter(keep), stamps.filter(keep)
        if not len(ids):
            continue
        if previous is None:
            heads.append(ids.slice(0, 1))
            days += 1
        else:
            ids = pa.concat_arrays([previous[0], ids])
            stamps = pa.concat_arrays([previous[1], stamps])
            rows = np.concatenate([[previous[2]], rows])
        n = len(ids)
        if n > 1:
            steps = _neighbour_steps(ids, stamps)
            if steps is None:
                return None
            new_heads, day_changes, same = steps
            heads.append(new_heads)
            days += day_changes
            if same.any():
                in_run = np.zeros(n, dtype=bool)
                in_run[:-1] |= same
                in_run[1:] |= same
                runs.append(rows[in_run])  # increasing
        previous = (ids.slice(n - 1), stamps.slice(n - 1), int(rows[-1]))
    distinct = pa.concat_arrays(heads) if heads else pa.array([], pa.string())
    stripped = pc.count_distinct(pc.utf8_ltrim(distinct, characters="0")).as_py()
    run_rows = np.concatenate(runs) if runs else np.array([], dtype=np.int64)
    if len(run_rows):  # a row carried over a row-group boundary may appear twice
        run_rows = run_rows[np.concatenate([[True], run_rows[1:] != run_rows[:-1]])]
    return days, len(distinct), int(stripped), run_rows


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


# --- cleaning rules ------------------------------------------------------------------------


def _parse_text_events(
    table: reader.TextTable,
    mapping: dict[str, str],
    cleaning: dict[str, int],
    opts: _Options,
    where_finished: str,
) -> pd.DataFrame:
    """Typed, cleaned canonical events from a text table, every rule counted.

    Everything happens on the table's DuckDB connection: typing (a cell that DuckDB casts
    directly skips the text rules), the line and value rules, then the rules of
    ``_finish_events`` (events after as-of, exact duplicates, customer days, zero amounts);
    the events are fetched once, as Arrow, and converted to pandas once. Counts, order of
    the rules, messages and the frame are those of ``_finish_events`` over the typed events.
    """
    con, where = table.con, table.where
    q = {canonical: reader.sql_name(source) for canonical, source in mapping.items()}
    first = reader.sql_name(table.columns[0])
    header_row = " AND ".join(
        f"coalesce(trim({reader.sql_name(c)}), '') = {reader.sql_text(c)}" for c in table.columns
    )
    # only a row whose first cell holds the first column's name can repeat the header
    header_row = (
        f"CASE WHEN contains({first}, {reader.sql_text(table.columns[0])}) "
        f"THEN {header_row} ELSE FALSE END"
    )
    id_sql, ts_sql = q[schema.ID_COL], q[schema.TIME_COL]
    amount = q.get(schema.AMOUNT_COL)
    thousands = True
    clean = reader.amount_clean_sql(amount) if amount else ""
    if amount:
        # a cell with a comma in its cleaned text has one in its raw text (a cheap pre-filter)
        sample = f"(SELECT {clean} AS __nev_amount_clean FROM raw WHERE contains({amount}, ','))"
        (style,) = con.execute(reader.amount_style_sql("__nev_amount_clean", sample)).fetchall()[0]
        thousands = (style or 0) > 0 or ((style or 0) == 0 and table.sep != ";")
    inner = [
        f"trim({id_sql}) AS id_text",
        f"{reader.is_null_sql(id_sql)} AS null_id",
        f"{ts_sql} AS ts_text",
        f"{reader.timestamp_sql(ts_sql, opts.business_tz)} AS ts",
    ]
    for canonical in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL):
        if canonical in q:  # as text: few distinct values, cleaned once each after fetching
            inner.append(f"{q[canonical]} AS {canonical}")
    if amount:
        # A cell that casts to a number (not NaN) is no null token, has no comma and is its
        # own amount: the text rules run only on the other cells.
        direct = "(__nev_direct IS NOT NULL AND NOT isnan(__nev_direct))"
        null_amount = reader.is_null_sql(amount)
        inner += [
            f"{amount} AS amount_text",
            f"CASE WHEN {direct} THEN FALSE ELSE {null_amount} END AS missing_amount",
            f"CASE WHEN {direct} THEN __nev_direct WHEN {null_amount} THEN NULL "
            f"ELSE {reader.amount_sql('__nev_amount_clean', thousands)} END AS amount_any",
            f"CASE WHEN {direct} THEN FALSE "
            f"ELSE {reader.decimal_comma_sql('__nev_amount_clean', thousands)} END AS decimal_comma",
        ]
        source = (
            f"(SELECT *, CASE WHEN {direct} THEN NULL ELSE {clean} END AS __nev_amount_clean "
            f"FROM (SELECT *, TRY_CAST({amount} AS DOUBLE) AS __nev_direct FROM raw "
            f"WHERE NOT ({header_row})))"
        )
    else:
        source = f"(SELECT * FROM raw WHERE NOT ({header_row}))"
    # a parsed stamp was no null token (the text rules test for those first)
    outer = [
        "* EXCLUDE (ts_text" + (", amount_text)" if amount else ")"),
        f"ts IS NOT NULL OR NOT {reader.is_null_sql('ts_text')} AS ts_present",
        "CASE WHEN ts IS NULL THEN ts_text END AS ts_text",  # raw text kept where parsing failed
    ]
    if amount:
        outer.append(
            "CASE WHEN amount_any IS NULL OR NOT isfinite(amount_any) THEN amount_text END "
            "AS amount_text"
        )
    con.execute(
        f"CREATE TEMP TABLE parsed AS SELECT {', '.join(outer)} "
        f"FROM (SELECT {', '.join(inner)} FROM {source})"
    )
    keep = "NOT null_id AND ts IS NOT NULL"
    bad_time = "ts IS NULL AND NOT null_id"
    finite = "amount_any IS NOT NULL AND isfinite(amount_any)"
    aggregates = [
        "count(*)",
        "count_if(null_id)",
        f"count_if({bad_time})",
        "count_if(NOT null_id AND ts_present)",
    ]
    if amount:
        aggregates += [
            f"count_if({keep} AND decimal_comma)",
            f"count_if({keep} AND missing_amount)",
            f"count_if({keep} AND NOT missing_amount AND amount_any IS NULL)",
            f"count_if({keep} AND amount_any IS NOT NULL AND NOT isfinite(amount_any))",
            f"count_if({keep} AND NOT missing_amount)",
        ]
    (n_raw,) = con.execute("SELECT count(*) FROM raw").fetchall()[0]
    counts = _counts(con, f"SELECT {', '.join(aggregates)} FROM parsed")
    n_rows, null_ids, bad_times, present_times = counts[:4]
    cleaning["repeated_header_lines"] = n_raw - n_rows
    cleaning["null_ids"], cleaning["unparseable_timestamps"] = null_ids, bad_times
    examples = reader.first_values(
        con, f"SELECT ts_text FROM parsed WHERE {bad_time} AND ts_text IS NOT NULL"
    )
    if present_times and bad_times == present_times:
        raise DataError(
            f"{where}: no usable rows: every timestamp in column {mapping[schema.TIME_COL]!r} "
            f"is unparseable (rule: at least one event with an id and a parseable timestamp; "
            f"first values {', '.join(map(repr, examples))})"
        )
    reader.check_loss(where, mapping[schema.TIME_COL], "timestamps unparseable", bad_times,
                      present_times, examples, opts.max_unparseable_share)  # fmt: skip
    columns = ["id_text AS customer_id", "ts"]
    if schema.EVENT_TYPE_COL in q:
        columns.append(schema.EVENT_TYPE_COL)
        cleaning["blank_event_types"] = 0  # counted with the categories (keeps its place)
    if schema.CHANNEL_COL in q:
        columns.append(schema.CHANNEL_COL)
    if amount:
        cleaning["decimal_comma_amounts"], cleaning["missing_amounts"] = counts[4], counts[5]
        cleaning["unparseable_amounts"], cleaning["non_finite_amounts"] = counts[6], counts[7]
        bad = counts[6] + counts[7]
        examples = reader.first_values(
            con, f"SELECT amount_text FROM parsed WHERE {keep} AND NOT missing_amount "
            f"AND NOT ({finite})",
        )  # fmt: skip
        reader.check_loss(where, mapping[schema.AMOUNT_COL], "amounts unparseable", bad,
                          counts[8], examples, opts.max_unparseable_share)  # fmt: skip
        columns.append(f"CASE WHEN {finite} THEN amount_any END AS {schema.AMOUNT_COL}")
    return _finish_text_events(con, columns, keep, cleaning, opts, where_finished)


def _finish_text_events(
    con: duckdb.DuckDBPyConnection,
    columns: list[str],
    keep: str,
    cleaning: dict[str, int],
    opts: _Options,
    where: str,
) -> pd.DataFrame:
    """The rules of ``_finish_events`` over the kept rows of table ``parsed``.

    The rows are fetched once, as Arrow. In a file sorted by id and time (as exports often
    are) the customer days, the ids and the runs of rows sharing id and time, where exact
    duplicates must lie, come from comparing neighbours; only those runs are grouped. An
    unsorted file is grouped in full, as ``_find_duplicates_and_days`` does. The rows are
    removed from the pandas frame as ``_finish_events`` removes them, so that counts, rows
    and categories are the same.
    """
    arrow = con.sql(f"SELECT {', '.join(columns)} FROM parsed WHERE {keep}").to_arrow_table()
    con.execute("DROP TABLE parsed")
    n = arrow.num_rows
    for name, fill in ((schema.EVENT_TYPE_COL, UNKNOWN_EVENT_TYPE), (schema.CHANNEL_COL, None)):
        if name in arrow.column_names:
            index = arrow.column_names.index(name)
            column, blank = _clean_category_column(con, arrow.column(name), fill)
            arrow = arrow.set_column(index, name, column)
            if fill is not None:
                cleaning["blank_event_types"] = blank
    remove = np.zeros(n, dtype=bool)
    if opts.as_of is not None:
        stamps = arrow.column(schema.TIME_COL).to_numpy()
        late = stamps > opts.as_of.to_datetime64()
        cleaning["events_after_as_of"] = int(late.sum())
        remove |= late
    # the column defaulted when absent has no blank event types (cf. ``_finish_events``)
    cleaning["blank_event_types"] = cleaning.get("blank_event_types", 0)
    positions = np.flatnonzero(~remove) if remove.any() else None
    current = arrow if positions is None else arrow.take(positions)
    found = _sorted_duplicates_and_days(current)
    if found is None:
        found = _grouped_duplicates_and_days(current)
    duplicate_rows, n_customer_days, zero_padded = found
    if positions is not None:
        duplicate_rows = positions[duplicate_rows]
    del current
    # "007" and "7" stay two customers (ids are text); counted so that a user can check.
    cleaning["ids_differing_only_by_leading_zeros"] = zero_padded
    cleaning["duplicate_rows"] = len(duplicate_rows)
    remove[duplicate_rows] = True
    n_events = n - int(remove.sum())
    cleaning["rows_sharing_a_customer_day"] = n_events - n_customer_days
    zero = np.zeros(n, dtype=bool)
    if schema.AMOUNT_COL in arrow.column_names:
        amounts = arrow.column(schema.AMOUNT_COL).to_numpy()  # NaN where null
        zero = amounts == 0
        cleaning["zero_amounts"] = int((zero & ~remove).sum())
        cleaning["negative_amounts"] = int(((amounts < 0) & ~remove).sum())
    else:
        cleaning["zero_amounts"] = cleaning["negative_amounts"] = 0
    if opts.drop_zero_amounts and cleaning["zero_amounts"]:
        remove |= zero
        n_events -= cleaning["zero_amounts"]
        cleaning["zero_amounts_dropped"] = cleaning["zero_amounts"]
    if n_events == 0:
        raise DataError(
            f"{where}: no usable rows after cleaning (rule: at least one event with "
            "an id and a parseable timestamp)"
        )
    events = arrow.to_pandas()
    del arrow
    events[schema.TIME_COL] = events[schema.TIME_COL].astype("datetime64[us]")
    events[schema.ID_COL] = events[schema.ID_COL].astype("str")
    events = _complete_columns(events)
    for col in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL):
        if not isinstance(events[col].dtype, pd.CategoricalDtype):
            events[col] = events[col].astype("category")
    if remove.any():  # the categories of the rows removed stay, as in ``_finish_events``
        events = events[~remove].reset_index(drop=True)
    return events


def _clean_category_column(
    con: duckdb.DuckDBPyConnection, column: pa.ChunkedArray, fill: str | None
) -> tuple[pa.DictionaryArray, int]:
    """An event type or channel column of raw text, cleaned (null tokens to null, trimmed,
    nulls to ``fill``) and dictionary-encoded; and the number of null cells before the fill.

    The cleaning SQL runs on the distinct values only. The dictionary lists the cleaned
    values in order of first appearance, as ``dictionary_encode`` of the cleaned column
    (and so the pandas categories) would.
    """
    # null cells get an entry too, in its place of first appearance
    encoded = column.combine_chunks().dictionary_encode(null_encoding="encode")
    if not isinstance(encoded, pa.DictionaryArray):  # an empty column
        encoded = pa.DictionaryArray.from_arrays(
            pa.array([], pa.int32()), pa.array([], pa.string())
        )
    values = encoded.dictionary.cast(pa.string())
    con.register("_category_values", pa.table({"i": np.arange(len(values)), "v": values}))
    cleaned = con.execute(
        f"SELECT CASE WHEN {reader.is_null_sql('v')} THEN NULL ELSE trim(v) END "
        "FROM _category_values ORDER BY i"
    ).fetchall()
    con.unregister("_category_values")
    codes: dict[str, int] = {}
    remap = np.empty(len(values), dtype=np.int32)
    for position, (value,) in enumerate(cleaned):
        value = fill if value is None else value
        remap[position] = -1 if value is None else codes.setdefault(value, len(codes))
    is_blank = np.array([value is None for (value,) in cleaned], dtype=bool)
    indices = encoded.indices.to_numpy()
    blank = int(np.bincount(indices, minlength=len(values))[is_blank].sum())
    new = remap[indices]
    dictionary = pa.array(list(codes), type=pa.string())
    mask = new < 0
    return (
        pa.DictionaryArray.from_arrays(
            pa.array(new, type=pa.int32(), mask=mask if mask.any() else None), dictionary
        ),
        blank,
    )


def _sorted_duplicates_and_days(events: pa.Table) -> tuple[np.ndarray, int, int] | None:
    """``_find_duplicates_and_days`` for rows sorted by id, then time (None when not sorted).

    Neighbours give the distinct ids and (id, day) pairs; exact duplicates share id and
    time, so only the runs of such rows are grouped.
    """
    n = events.num_rows
    if n < 2:
        return None
    ids = events.column(schema.ID_COL).combine_chunks()
    stamps = events.column(schema.TIME_COL).combine_chunks()
    steps = _neighbour_steps(ids, stamps)
    if steps is None:
        return None
    new_heads, day_changes, same = steps
    heads = pa.concat_arrays([ids.slice(0, 1), new_heads])
    n_days = 1 + day_changes
    stripped = pc.count_distinct(pc.utf8_ltrim(heads, characters="0")).as_py()
    rows = np.array([], dtype=np.int64)
    if same.any():
        in_run = np.zeros(n, dtype=bool)
        in_run[:-1] |= same
        in_run[1:] |= same
        candidates = np.flatnonzero(in_run)
        found, _, _ = _grouped_duplicates_and_days(events.take(candidates), days=False)
        rows = candidates[found]
    return rows, int(n_days), len(heads) - int(stripped)


def _grouped_duplicates_and_days(
    events: pa.Table | pd.DataFrame, days: bool = True
) -> tuple[np.ndarray, int, int]:
    """Positions of rows that exactly repeat an earlier row (over all columns), distinct
    (customer, day) pairs, and distinct ids that another id equals once leading zeros are
    removed (the last two 0 unless ``days``).

    Found in DuckDB (one grouping pass, then a join against the few repeated keys), which
    stays fast and lean on tens of millions of rows where pandas ``duplicated`` does not.
    """
    keys = (
        [str(c) for c in events.columns]
        if isinstance(events, pd.DataFrame)
        else list(events.column_names)
    )
    same = " AND ".join(f"e.{c} IS NOT DISTINCT FROM d.{c}" for c in keys)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        if isinstance(events, pd.DataFrame):
            con.register("events_frame", events.assign(_row=np.arange(len(events))))
        else:
            rows_column = pa.array(np.arange(events.num_rows, dtype=np.int64))
            con.register("events_frame", events.append_column("_row", rows_column))
        con.execute(
            f"CREATE TEMP TABLE repeated AS SELECT {', '.join(keys)}, min(_row) AS first_row "
            f"FROM events_frame GROUP BY {', '.join(keys)} HAVING count(*) > 1"
        )
        (n_repeated,) = con.execute("SELECT count(*) FROM repeated").fetchall()[0]
        rows = np.array([], dtype=np.int64)
        if n_repeated:
            found = con.execute(
                f"SELECT e._row FROM events_frame e JOIN repeated d ON {same} "
                "WHERE e._row <> d.first_row"
            ).fetchnumpy()
            rows = np.sort(found["_row"].astype(np.int64))
        n_customer_days = zero_padded = 0
        if days:
            (n_customer_days,) = con.execute(
                "SELECT count(*) FROM (SELECT DISTINCT customer_id, CAST(ts AS DATE) "
                "FROM events_frame)"
            ).fetchall()[0]
            (zero_padded,) = con.execute(
                "SELECT count(*) - count(DISTINCT ltrim(c, '0')) "
                "FROM (SELECT DISTINCT customer_id AS c FROM events_frame)"
            ).fetchall()[0]
    finally:
        con.close()
    return rows, int(n_customer_days), int(zero_padded)


def _counts(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, ...]:
    """One row of counts (0 where an aggregate over no rows gives NULL)."""
    return tuple(int(value or 0) for value in con.execute(sql).fetchall()[0])


def _canonical_typed_events(
    raw: pd.DataFrame, cleaning: dict[str, int], where: str, opts: _Options
) -> pd.DataFrame:
    """Bring a typed (Parquet or DataFrame) event table to the canonical dtypes."""
    events = _complete_columns(raw)
    ids = events[schema.ID_COL]
    null_id = ids.isna()
    if not null_id.all():
        text = ids if ids.dtype == "str" else ids.astype("str")
        null_id |= text.str.strip().eq("")
    cleaning["null_ids"] = int(null_id.sum())
    times = events[schema.TIME_COL]
    present = times.notna() & ~null_id
    times = reader.parse_timestamps(times, opts.business_tz)
    bad_time = times.isna() & ~null_id
    cleaning["unparseable_timestamps"] = int(bad_time.sum())
    if cleaning["unparseable_timestamps"]:
        examples = events.loc[bad_time & present, schema.TIME_COL].astype("str").head(3).tolist()
        if present.any() and bad_time[present].all():
            raise DataError(
                f"{where}: no usable rows: every timestamp in column {schema.TIME_COL!r} is "
                f"unparseable (rule: at least one event with an id and a parseable timestamp; "
                f"first values {', '.join(map(repr, examples))})"
            )
        reader.check_loss(where, schema.TIME_COL, "timestamps unparseable",
                          int((bad_time & present).sum()), int(present.sum()), examples,
                          opts.max_unparseable_share)  # fmt: skip
    amounts = events[schema.AMOUNT_COL]
    if not pd.api.types.is_numeric_dtype(amounts) or pd.api.types.is_bool_dtype(amounts):
        amounts = _typed_text_amounts(amounts, cleaning, where, opts)
    amounts = amounts.astype("float64")
    non_finite = np.isinf(amounts.to_numpy())
    cleaning["non_finite_amounts"] = int(non_finite.sum())
    if non_finite.any():
        amounts = amounts.mask(non_finite)
    keep = ~(null_id | bad_time)
    if keep.all():
        out = pd.DataFrame({schema.ID_COL: ids.astype("str"), schema.TIME_COL: times})
        rest = events
    else:
        out = pd.DataFrame({schema.ID_COL: ids[keep].astype("str"), schema.TIME_COL: times[keep]})
        rest, amounts = events.loc[keep], amounts[keep]
    out[schema.TIME_COL] = out[schema.TIME_COL].astype("datetime64[us]")
    for col in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL):
        out[col] = rest[col]
    out[schema.AMOUNT_COL] = amounts
    return out.reset_index(drop=True)


def _typed_text_amounts(
    values: pd.Series, cleaning: dict[str, int], where: str, opts: _Options
) -> pd.Series:
    """Amounts stored as text in a typed source, parsed like a CSV's and counted."""
    text = values.astype("str").where(values.notna())
    amounts, decimal_comma = reader.parse_amounts(text)
    missing = text.isna() | text.str.strip().str.lower().isin(reader.NULL_TOKENS)
    bad = amounts.isna() & ~missing
    cleaning["decimal_comma_amounts"] = decimal_comma
    cleaning["unparseable_amounts"] = int(bad.sum())
    examples = text[bad].head(3).tolist()
    reader.check_loss(where, schema.AMOUNT_COL, "amounts unparseable", int(bad.sum()),
                      int((~missing).sum()), examples, opts.max_unparseable_share)  # fmt: skip
    return amounts


def _complete_columns(events: pd.DataFrame) -> pd.DataFrame:
    """Add absent optional columns (one event type, no channel, no amount)."""
    if schema.EVENT_TYPE_COL not in events:
        events[schema.EVENT_TYPE_COL] = DEFAULT_EVENT_TYPE
    if schema.CHANNEL_COL not in events:
        events[schema.CHANNEL_COL] = pd.Series(pd.NA, index=events.index, dtype="str")
    if schema.AMOUNT_COL not in events:
        events[schema.AMOUNT_COL] = np.nan
    return events[list(CANONICAL_COLUMNS)]


def _finish_events(
    events: pd.DataFrame, cleaning: dict[str, int], opts: _Options, where: str
) -> pd.DataFrame:
    """Shared rules: category dtypes, events after as-of, duplicates, zero and negative amounts."""
    if opts.as_of is not None:
        late = (events[schema.TIME_COL] > opts.as_of).to_numpy()
        cleaning["events_after_as_of"] = int(late.sum())
        if late.any():
            events = events[~late].reset_index(drop=True)
    for col in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL):
        if not isinstance(events[col].dtype, pd.CategoricalDtype):
            events[col] = events[col].astype("category")
    missing_type = events[schema.EVENT_TYPE_COL].isna()
    cleaning["blank_event_types"] = cleaning.get("blank_event_types", 0) + int(missing_type.sum())
    if missing_type.any():
        events[schema.EVENT_TYPE_COL] = (
            events[schema.EVENT_TYPE_COL]
            .cat.add_categories([UNKNOWN_EVENT_TYPE])
            .fillna(UNKNOWN_EVENT_TYPE)
        )
    duplicate_rows, n_customer_days, zero_padded = _find_duplicates_and_days(events)
    # "007" and "7" stay two customers (ids are text); counted so that a user can check.
    cleaning["ids_differing_only_by_leading_zeros"] = zero_padded
    cleaning["duplicate_rows"] = len(duplicate_rows)
    if len(duplicate_rows):
        keep = np.ones(len(events), dtype=bool)
        keep[duplicate_rows] = False
        events = events[keep].reset_index(drop=True)
    cleaning["rows_sharing_a_customer_day"] = len(events) - n_customer_days
    amounts = events[schema.AMOUNT_COL]
    zero = amounts.eq(0)
    cleaning["zero_amounts"] = int(zero.sum())
    cleaning["negative_amounts"] = int(amounts.lt(0).sum())
    if opts.drop_zero_amounts and cleaning["zero_amounts"]:
        events = events[~zero].reset_index(drop=True)
        cleaning["zero_amounts_dropped"] = cleaning["zero_amounts"]
    if events.empty:
        raise DataError(
            f"{where}: no usable rows after cleaning (rule: at least one event with "
            "an id and a parseable timestamp)"
        )
    return events


def _find_duplicates_and_days(events: pd.DataFrame) -> tuple[np.ndarray, int, int]:
    """``_grouped_duplicates_and_days`` over the canonical columns of a frame."""
    return _grouped_duplicates_and_days(events[list(CANONICAL_COLUMNS)])


def _canonical_customers(customers: pd.DataFrame, business_tz: str) -> pd.DataFrame:
    customers = customers.drop(columns=[c for c in schema.PERSONAL_FIELDS if c in customers])
    customers[schema.ID_COL] = customers[schema.ID_COL].astype("str")
    if "lead_created_at" in customers:
        customers["lead_created_at"] = reader.to_business_time(
            customers["lead_created_at"], business_tz
        )
    return customers.reset_index(drop=True)
