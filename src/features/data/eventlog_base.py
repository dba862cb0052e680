"""The shared pieces of the event-log loaders: the canonical column constants, ``_Options``
(the cleaning options), ``EventLog`` (the cleaned log), and the cleaning rules every source
ends with: ``_finish_events`` (events after as-of, category dtypes, blank event types, exact
duplicates, customer days, zero and negative amounts) and the duplicate and customer-day
counts in DuckDB and Arrow (``_grouped_duplicates_and_days``, ``_sorted_duplicates_and_days``,
``_neighbour_steps``), used by the text and the Parquet paths alike.

May import the foundation modules and ``features.data.reader``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import schema
from features.data.reader import MAX_UNPARSEABLE_SHARE, DataError

DEFAULT_EVENT_TYPE = "event"
UNKNOWN_EVENT_TYPE = "unknown"
CANONICAL_COLUMNS = schema.EVENT_COLUMNS


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
