"""The lazy Parquet event log of a dataset folder: ``ParquetEvents`` (the cleaned events of
``events.parquet`` as a DuckDB query, its cleaning rules counted by DuckDB and one streamed
Arrow pass over the file), ``_ParquetEventLog`` (an ``EventLog`` whose events DataFrame is read
only when first used), ``event_source`` (what feature code should read) and
``_read_dataset_events`` (the same events read into pandas).

May import the foundation modules, ``features.data.reader``, ``features.data.eventlog_base`` and
``features.data.eventlog_text``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features import schema
from features.data import reader
from features.data.eventlog_base import (
    UNKNOWN_EVENT_TYPE,
    EventLog,
    _finish_events,
    _neighbour_steps,
    _Options,
)
from features.data.eventlog_text import _canonical_typed_events
from features.data.reader import DataError


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
        # pass; an unsorted file takes hash passes instead. The pass (mostly one thread) runs
        # beside DuckDB's count scan, both releasing the GIL.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_ordered_runs, path, opts.as_of)
            (null_ids, bad_times, non_finite, n_late, blank, zero, negative, n_kept) = con.execute(
                f"SELECT count_if(null_id), count_if(ts IS NULL AND NOT null_id), "
                f"count_if(isinf(v0)), {late}, count_if({keep} AND et IS NULL), "
                f"count_if({keep} AND v = 0), count_if({keep} AND v < 0), count_if({keep}) "
                "FROM base"
            ).fetchall()[0]  # fmt: skip
            runs = pending.result()
        unsorted = runs is None
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


@dataclass
class _SortedChunk:
    """``_ordered_runs`` over some row groups: counts, the first and last kept rows (None
    when those row groups keep no row)."""

    days: int  # distinct (id, day) pairs, the first kept row counting as a new one
    heads: pa.Array  # the distinct ids, in file order
    run_rows: np.ndarray  # rows sharing id and time with a neighbour, increasing
    first: tuple[pa.Array, pa.Array, int] | None  # id, time and row number of the first kept row
    last: tuple[pa.Array, pa.Array, int] | None


def _ordered_runs(
    path: Path, as_of: pd.Timestamp | None, workers: int = 2
) -> tuple[int, int, int, np.ndarray] | None:
    """Kept rows of a file sorted by id, then time, streamed one row group at a time.

    Returns the distinct (id, day) pairs, the distinct ids, the distinct ids once leading
    zeros are removed and the file row numbers of the rows sharing id and time with a
    neighbour; None when the kept rows are not sorted. The row groups are split into
    ``workers`` consecutive parts, read in parallel and joined at their boundaries.
    """
    parquet = pq.ParquetFile(path)
    n_groups, workers = parquet.num_row_groups, max(workers, 1)
    starts = [0, *np.cumsum([parquet.metadata.row_group(g).num_rows for g in range(n_groups)])]
    cuts = sorted({round(n_groups * k / workers) for k in range(workers + 1)})
    parts = [(cuts[k], cuts[k + 1]) for k in range(len(cuts) - 1)]
    with ThreadPoolExecutor(max_workers=max(len(parts), 1)) as pool:
        chunks = list(
            pool.map(lambda part: _sorted_chunk(path, part, int(starts[part[0]]), as_of), parts)
        )
    if any(chunk is None for chunk in chunks):
        return None
    days, heads, runs = 0, [], []
    previous: _SortedChunk | None = None
    for chunk in chunks:
        if chunk.first is None:  # no kept rows in these row groups
            continue
        chunk_heads, chunk_runs = chunk.heads, chunk.run_rows
        days += chunk.days
        if previous is not None and previous.last is not None:
            ids = pa.concat_arrays([previous.last[0], chunk.first[0]])
            stamps = pa.concat_arrays([previous.last[1], chunk.first[1]])
            steps = _neighbour_steps(ids, stamps)
            if steps is None:
                return None
            new_heads, day_changes, same = steps
            if not len(new_heads):  # the chunk continues the previous customer
                chunk_heads = chunk_heads.slice(1)
            days -= 1 - day_changes
            if same.any():
                runs.append(np.array([previous.last[2], chunk.first[2]], dtype=np.int64))
        heads.append(chunk_heads)
        runs.append(chunk_runs)
        previous = chunk
    distinct = pa.concat_arrays(heads) if heads else pa.array([], pa.string())
    stripped = pc.count_distinct(pc.utf8_ltrim(distinct, characters="0")).as_py()
    run_rows = np.concatenate(runs) if runs else np.array([], dtype=np.int64)
    if len(run_rows):  # a row carried over a boundary may appear twice
        run_rows = run_rows[np.concatenate([[True], run_rows[1:] != run_rows[:-1]])]
    return days, len(distinct), int(stripped), run_rows


def _sorted_chunk(
    path: Path, groups: tuple[int, int], offset: int, as_of: pd.Timestamp | None
) -> _SortedChunk | None:
    """One part of ``_ordered_runs``: row groups ``groups[0]`` to ``groups[1] - 1``, whose
    first row is file row ``offset``; None when its kept rows are not sorted."""
    parquet = pq.ParquetFile(path)
    days = 0
    heads: list[pa.Array] = []
    runs: list[np.ndarray] = []
    first: tuple[pa.Array, pa.Array, int] | None = None
    previous: tuple[pa.Array, pa.Array, int] | None = None  # last kept id, time, row
    limit = None if as_of is None else pa.scalar(as_of.to_datetime64(), pa.timestamp("us"))
    for group in range(*groups):
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
            first = (ids.slice(0, 1), stamps.slice(0, 1), int(rows[0]))
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
    run_rows = np.concatenate(runs) if runs else np.array([], dtype=np.int64)
    distinct = pa.concat_arrays(heads) if heads else pa.array([], pa.string())
    return _SortedChunk(days, distinct, run_rows, first, previous)
