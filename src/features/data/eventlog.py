"""Load an event log, the one input form of feature code, and report what was cleaned.

Sources: a synthetic dataset folder (``events.parquet`` + ``customers.parquet``), or a user's
CSV/TSV/TXT, Excel or Parquet event log with configurable column names (any header text,
Chinese included). Files are read by ``features.data.reader`` (DuckDB's CSV reader, all
columns as text, then typed in SQL); its time-zone rule (naive stamps are business time,
aware ones converted to ``schema.BUSINESS_TZ``) and loss threshold apply. Real exports carry
duplicate rows, stray repeated header lines, Windows line endings, odd separators,
unparseable timestamps and zero amounts; each is handled by an explicit rule and counted in
``EventLog.cleaning``.

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
import pyarrow.parquet as pq

from features import schema
from features.data import reader
from features.data.reader import MAX_UNPARSEABLE_SHARE, PARQUET_SUFFIXES, DataError
from features.io import sha256_file

DEFAULT_EVENT_TYPE = "event"
UNKNOWN_EVENT_TYPE = "unknown"
CANONICAL_COLUMNS = schema.EVENT_COLUMNS

__all__ = ["DataError", "EventLog", "load_event_log"]


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
            log = _load_dataset_dir(path, opts)
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


def _load_dataset_dir(folder: Path, opts: _Options) -> EventLog:
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
        events = _parse_text_events(table, mapping, cleaning, opts)
    finally:
        table.close()
    events = _finish_events(events, cleaning, opts, str(path))
    described = f"separator {table.sep!r}, {table.encoding}" if table.sep else "Excel"
    return EventLog(
        events, None, cleaning, f"event log {path} ({described})", {path.name: table.sha256}
    )


# --- cleaning rules ------------------------------------------------------------------------


def _parse_text_events(
    table: reader.TextTable, mapping: dict[str, str], cleaning: dict[str, int], opts: _Options
) -> pd.DataFrame:
    """Typed canonical events from a text table, every rule counted (all in DuckDB SQL)."""
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
    source = "raw"
    thousands = True
    if amount:
        con.execute(
            f"CREATE TEMP VIEW raw_clean AS SELECT *, {reader.amount_clean_sql(amount)} "
            "AS _amount_clean FROM raw"
        )
        source = "raw_clean"
        (style,) = con.execute(reader.amount_style_sql("_amount_clean", source)).fetchall()[0]
        thousands = (style or 0) > 0 or ((style or 0) == 0 and table.sep != ";")
    selects = [
        f"trim({id_sql}) AS id_text",
        f"{reader.is_null_sql(id_sql)} AS null_id",
        f"{ts_sql} AS ts_text",
        f"NOT {reader.is_null_sql(ts_sql)} AS ts_present",
        f"{reader.timestamp_sql(ts_sql, opts.business_tz)} AS ts",
    ]
    for canonical in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL):
        if canonical in q:
            selects.append(
                f"CASE WHEN {reader.is_null_sql(q[canonical])} THEN NULL "
                f"ELSE trim({q[canonical]}) END AS {canonical}"
            )
    if amount:
        selects += [
            f"{amount} AS amount_text",
            f"{reader.is_null_sql(amount)} AS missing_amount",
            f"CASE WHEN {reader.is_null_sql(amount)} THEN NULL "
            f"ELSE {reader.amount_sql('_amount_clean', thousands)} END AS amount_any",
            f"{reader.decimal_comma_sql('_amount_clean', thousands)} AS decimal_comma",
        ]
    # Raw text is kept only where parsing failed (for the first offending values).
    texts = ["CASE WHEN ts IS NULL THEN ts_text END AS ts_text"]
    if amount:
        texts.append(
            "CASE WHEN amount_any IS NULL OR NOT isfinite(amount_any) THEN amount_text END "
            "AS amount_text"
        )
    excluded = "ts_text, amount_text" if amount else "ts_text"
    con.execute(
        f"CREATE TEMP TABLE parsed AS SELECT * EXCLUDE ({excluded}), {', '.join(texts)} "
        f"FROM (SELECT {', '.join(selects)} FROM {source} WHERE NOT ({header_row}))"
    )
    (n_raw,) = con.execute("SELECT count(*) FROM raw").fetchall()[0]
    (n_rows,) = con.execute("SELECT count(*) FROM parsed").fetchall()[0]
    cleaning["repeated_header_lines"] = n_raw - n_rows
    bad_time = "ts IS NULL AND NOT null_id"
    (null_ids, bad_times, present_times) = _counts(
        con,
        f"SELECT count_if(null_id), count_if({bad_time}), count_if(NOT null_id AND "
        "ts_present) FROM parsed",
    )
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
    keep = "NOT null_id AND ts IS NOT NULL"
    columns = ["id_text AS customer_id", "ts"]
    if schema.EVENT_TYPE_COL in q:
        unknown = reader.sql_text(UNKNOWN_EVENT_TYPE)
        columns.append(f"coalesce({schema.EVENT_TYPE_COL}, {unknown}) AS {schema.EVENT_TYPE_COL}")
    if schema.CHANNEL_COL in q:
        columns.append(schema.CHANNEL_COL)
    if schema.EVENT_TYPE_COL in q:
        (blank,) = _counts(
            con, f"SELECT count_if({schema.EVENT_TYPE_COL} IS NULL) FROM parsed WHERE {keep}"
        )
        cleaning["blank_event_types"] = blank
    if amount:
        finite = "amount_any IS NOT NULL AND isfinite(amount_any)"
        counts = _counts(
            con,
            f"SELECT count_if(decimal_comma), count_if(missing_amount), "
            f"count_if(NOT missing_amount AND amount_any IS NULL), "
            f"count_if(amount_any IS NOT NULL AND NOT isfinite(amount_any)), "
            f"count_if(NOT missing_amount) FROM parsed WHERE {keep}",
        )
        cleaning["decimal_comma_amounts"], cleaning["missing_amounts"] = counts[0], counts[1]
        cleaning["unparseable_amounts"], cleaning["non_finite_amounts"] = counts[2], counts[3]
        bad = counts[2] + counts[3]
        examples = reader.first_values(
            con, f"SELECT amount_text FROM parsed WHERE {keep} AND NOT missing_amount "
            f"AND NOT ({finite})",
        )  # fmt: skip
        reader.check_loss(where, mapping[schema.AMOUNT_COL], "amounts unparseable", bad,
                          counts[4], examples, opts.max_unparseable_share)  # fmt: skip
        columns.append(f"CASE WHEN {finite} THEN amount_any END AS {schema.AMOUNT_COL}")
    query = f"SELECT {', '.join(columns)} FROM parsed WHERE {keep}"
    arrow = con.sql(query).to_arrow_table()
    for name in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL):  # category columns, Arrow-fast
        if name in arrow.column_names:
            index = arrow.column_names.index(name)
            arrow = arrow.set_column(index, name, arrow.column(name).dictionary_encode())
    events = arrow.to_pandas()
    events[schema.TIME_COL] = events[schema.TIME_COL].astype("datetime64[us]")
    events[schema.ID_COL] = events[schema.ID_COL].astype("str")
    return _complete_columns(events)


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
    """Positions of rows that exactly repeat an earlier row, distinct (customer, day) pairs,
    and distinct ids that another id equals once leading zeros are removed.

    Found in DuckDB (one grouping pass, then a join against the few repeated keys), which
    stays fast and lean on tens of millions of rows where pandas ``duplicated`` does not.
    """
    keys = list(CANONICAL_COLUMNS)
    same = " AND ".join(f"e.{c} IS NOT DISTINCT FROM d.{c}" for c in keys)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.register("events_frame", events.assign(_row=np.arange(len(events))))
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
        (n_customer_days,) = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT customer_id, CAST(ts AS DATE) FROM events_frame)"
        ).fetchall()[0]
        (zero_padded,) = con.execute(
            "SELECT count(*) - count(DISTINCT ltrim(c, '0')) "
            "FROM (SELECT DISTINCT customer_id AS c FROM events_frame)"
        ).fetchall()[0]
    finally:
        con.close()
    return rows, int(n_customer_days), int(zero_padded)


def _canonical_customers(customers: pd.DataFrame, business_tz: str) -> pd.DataFrame:
    customers = customers.drop(columns=[c for c in schema.PERSONAL_FIELDS if c in customers])
    customers[schema.ID_COL] = customers[schema.ID_COL].astype("str")
    if "lead_created_at" in customers:
        customers["lead_created_at"] = reader.to_business_time(
            customers["lead_created_at"], business_tz
        )
    return customers.reset_index(drop=True)
