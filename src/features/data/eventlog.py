"""Load an event log, the one input form of feature code, and report what was cleaned.

Sources: a synthetic dataset folder (``events.parquet`` + ``customers.parquet``), or a user's
CSV or Parquet event log with configurable column names. Real exports carry duplicate rows,
stray repeated header lines, Windows line endings, odd separators, unparseable timestamps and
zero amounts; each is handled by an explicit rule and counted in ``EventLog.cleaning``.

Personal fields (``schema.PERSONAL_FIELDS``) are never read from a customer table.

May import the foundation modules only.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from features import schema
from features.io import sha256_file

CSV_SEPARATORS = (",", ";", "\t", "|")
NULL_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "nat", "-"})
DEFAULT_EVENT_TYPE = "event"
UNKNOWN_EVENT_TYPE = "unknown"
PARQUET_SUFFIXES = (".parquet", ".pq")
CURRENCY_CHARS = "¥￥$€£ \u00a0"
CANONICAL_COLUMNS = schema.EVENT_COLUMNS

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_THOUSANDS_DOT_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")


class DataError(ValueError):
    """Input data break a rule; the message names the file, the column and the rule."""


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
    verbose: bool = True,
) -> EventLog:
    """Load and clean an event log from a dataset folder, a CSV/Parquet file or a DataFrame.

    Args:
        source: synthetic dataset folder, CSV/TSV/TXT or Parquet event-log file, or DataFrame.
        id_col, time_col: required columns (customer id, timestamp).
        event_type_col, amount_col, channel_col: optional columns. A name left at its default
            may be absent (the log then has one event type, no amounts or no channels); a name
            set explicitly must exist. ``None`` means the log has no such column.
        sep: CSV separator; sniffed among ``, ; tab |`` when None.
        drop_zero_amounts: drop events whose amount is exactly 0 (kept by default: a zero
            amount is still activity). Counted either way.
        verbose: print the one-line cleaning summary.

    Raises:
        DataError: missing file or column, or no usable rows.
    """
    columns = _ColumnMap(id_col, time_col, event_type_col, amount_col, channel_col)
    if isinstance(source, pd.DataFrame):
        log = _load_frame(source, columns, drop_zero_amounts)
    else:
        path = Path(source)
        if path.is_dir():
            log = _load_dataset_dir(path, drop_zero_amounts)
        elif not path.exists():
            raise DataError(f"{path}: file not found (rule: the event log must exist)")
        elif path.suffix.lower() in PARQUET_SUFFIXES:
            log = _load_parquet_file(path, columns, drop_zero_amounts)
        else:
            log = _load_csv_file(path, columns, sep, drop_zero_amounts)
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


def _resolve_columns(available: list[str], columns: _ColumnMap, where: str) -> dict[str, str]:
    """Map canonical names to the source's column names; raise for a missing configured one."""
    found = ", ".join(available[:20])
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


def _load_dataset_dir(folder: Path, drop_zero_amounts: bool) -> EventLog:
    events_path = folder / f"{schema.EVENTS_TABLE}.parquet"
    customers_path = folder / f"{schema.CUSTOMERS_TABLE}.parquet"
    for path in (events_path, customers_path):
        if not path.exists():
            raise DataError(f"{path}: file not found (rule: a dataset folder holds {path.name})")
    events_cols = pq.read_schema(events_path).names
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
    events = _canonical_typed_events(raw, cleaning, str(events_path))
    del raw
    events = _finish_events(events, cleaning, drop_zero_amounts)

    customer_cols = [
        c for c in pq.read_schema(customers_path).names if c not in schema.PERSONAL_FIELDS
    ]
    if schema.ID_COL not in customer_cols:
        raise DataError(
            f"{customers_path}: column {schema.ID_COL!r} not found (rule: customers carry an id)"
        )
    customers = _canonical_customers(pd.read_parquet(customers_path, columns=customer_cols))

    hashes = {
        path.name: sha256_file(path)
        for path in (events_path, customers_path, folder / schema.MANIFEST_FILE)
        if path.exists()
    }
    return EventLog(events, customers, cleaning, f"dataset {folder}", hashes)


def _load_parquet_file(path: Path, columns: _ColumnMap, drop_zero_amounts: bool) -> EventLog:
    mapping = _resolve_columns(pq.read_schema(path).names, columns, str(path))
    raw = pd.read_parquet(path, columns=list(mapping.values()))
    raw = raw.rename(columns={source: canonical for canonical, source in mapping.items()})
    cleaning: dict[str, int] = {}
    events = _canonical_typed_events(raw, cleaning, str(path))
    events = _finish_events(events, cleaning, drop_zero_amounts)
    return EventLog(events, None, cleaning, f"event log {path}", {path.name: sha256_file(path)})


def _load_frame(frame: pd.DataFrame, columns: _ColumnMap, drop_zero_amounts: bool) -> EventLog:
    where = "events DataFrame"
    mapping = _resolve_columns([str(c) for c in frame.columns], columns, where)
    raw = frame[list(mapping.values())].rename(
        columns={source: canonical for canonical, source in mapping.items()}
    )
    cleaning: dict[str, int] = {}
    events = _canonical_typed_events(raw, cleaning, where)
    events = _finish_events(events, cleaning, drop_zero_amounts)
    digest = hashlib.sha256(pd.util.hash_pandas_object(events, index=False).values.tobytes())
    return EventLog(events, None, cleaning, where, {"events": digest.hexdigest()})


def _load_csv_file(
    path: Path, columns: _ColumnMap, sep: str | None, drop_zero_amounts: bool
) -> EventLog:
    data = path.read_bytes()
    text = _decode(data, path)
    cleaning: dict[str, int] = {"crlf_line_endings": text.count("\r\n")}
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kept = [line for line in lines if line.strip()]
    trailing_newline = 1 if text.endswith("\n") else 0
    cleaning["blank_lines"] = len(lines) - len(kept) - trailing_newline
    if not kept:
        raise DataError(f"{path}: no header line (rule: a CSV event log starts with a header)")
    header = kept[0]
    sep = sep or _sniff_separator(header, kept[1:50], (columns.id_col, columns.time_col))
    header_fields = _split_fields(header, sep)
    body = [line for line in kept[1:] if _split_fields(line, sep) != header_fields]
    cleaning["repeated_header_lines"] = len(kept) - 1 - len(body)

    mapping = _resolve_columns(header_fields, columns, str(path))
    try:
        raw = pd.read_csv(
            io.StringIO("\n".join([header, *body])),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            on_bad_lines="skip",
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{path}: cannot be parsed with separator {sep!r} ({exc})") from exc
    raw.columns = [str(c).strip().strip("\"'") for c in raw.columns]
    cleaning["malformed_lines"] = max(len(body) - len(raw), 0)
    raw = raw[list(mapping.values())].rename(
        columns={source: canonical for canonical, source in mapping.items()}
    )
    events = _parse_text_events(raw, cleaning, sep)
    events = _finish_events(events, cleaning, drop_zero_amounts)
    return EventLog(
        events,
        None,
        cleaning,
        f"event log {path} (separator {sep!r})",
        {path.name: hashlib.sha256(data).hexdigest()},
    )


# --- cleaning rules ------------------------------------------------------------------------


def _decode(data: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(f"{path}: not UTF-8 or GB18030 text (rule: a CSV event log is text)")


def _split_fields(line: str, sep: str) -> list[str]:
    return [part.strip().strip("\"'").strip() for part in line.split(sep)]


def _sniff_separator(header: str, sample: list[str], required: tuple[str, str]) -> str:
    """The separator that splits the header into the required columns, else the most fields."""
    best, best_score = ",", (-1, -1, -1)
    for candidate in CSV_SEPARATORS:
        fields = _split_fields(header, candidate)
        has_required = all(name in fields for name in required)
        consistent = sum(1 for line in sample if line.count(candidate) == header.count(candidate))
        score = (int(has_required), consistent if len(fields) > 1 else -1, len(fields))
        if score > best_score:
            best, best_score = candidate, score
    return best


def _is_null_token(values: pd.Series) -> pd.Series:
    return values.str.strip().str.lower().isin(NULL_TOKENS)


def _parse_timestamps(values: pd.Series) -> pd.Series:
    """Parse ISO-8601 first, then any other format; tz-aware stamps become naive UTC."""
    parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    retry = parsed.isna() & values.notna()
    if retry.any():
        parsed = parsed.copy()
        parsed[retry] = pd.to_datetime(values[retry], format="mixed", errors="coerce", utc=True)
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def _parse_amounts(values: pd.Series, sep: str, cleaning: dict[str, int]) -> pd.Series:
    text = values.str.strip().str.strip(CURRENCY_CHARS)
    missing = _is_null_token(text)
    # "1,234.50" (thousands commas), "12,5" and "1.234,50" (decimal comma) are all common.
    thousands = text.str.match(_THOUSANDS_COMMA) & (sep != ",")
    dotted = text.str.match(_THOUSANDS_DOT_DECIMAL_COMMA)
    decimal_comma = ~thousands & (dotted | text.str.match(_DECIMAL_COMMA))
    text = text.where(~thousands, text.str.replace(",", "", regex=False))
    text = text.where(~dotted, text.str.replace(".", "", regex=False))
    text = text.where(~decimal_comma, text.str.replace(",", ".", regex=False))
    amounts = pd.to_numeric(text.where(~missing), errors="coerce").astype("float64")
    cleaning["decimal_comma_amounts"] = int(decimal_comma.sum())
    cleaning["missing_amounts"] = int(missing.sum())
    cleaning["unparseable_amounts"] = int((amounts.isna() & ~missing).sum())
    return amounts


def _parse_text_events(raw: pd.DataFrame, cleaning: dict[str, int], sep: str) -> pd.DataFrame:
    ids = raw[schema.ID_COL].str.strip()
    null_id = _is_null_token(ids)
    cleaning["null_ids"] = int(null_id.sum())
    times = _parse_timestamps(raw[schema.TIME_COL].str.strip())
    bad_time = times.isna() & ~null_id
    cleaning["unparseable_timestamps"] = int(bad_time.sum())
    keep = ~null_id & ~bad_time
    events = pd.DataFrame({schema.ID_COL: ids[keep].astype("str"), schema.TIME_COL: times[keep]})
    if schema.EVENT_TYPE_COL in raw:
        types = raw.loc[keep, schema.EVENT_TYPE_COL].str.strip()
        blank = _is_null_token(types)
        cleaning["blank_event_types"] = int(blank.sum())
        events[schema.EVENT_TYPE_COL] = types.where(~blank, UNKNOWN_EVENT_TYPE)
    if schema.CHANNEL_COL in raw:
        channels = raw.loc[keep, schema.CHANNEL_COL].str.strip()
        events[schema.CHANNEL_COL] = channels.where(~_is_null_token(channels))
    if schema.AMOUNT_COL in raw:
        events[schema.AMOUNT_COL] = _parse_amounts(raw.loc[keep, schema.AMOUNT_COL], sep, cleaning)
    return _complete_columns(events.reset_index(drop=True))


def _canonical_typed_events(
    raw: pd.DataFrame, cleaning: dict[str, int], where: str
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
    if not pd.api.types.is_datetime64_any_dtype(times):
        times = _parse_timestamps(times.astype("str"))
    elif getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert(None)
    bad_time = times.isna() & ~null_id
    cleaning["unparseable_timestamps"] = int(bad_time.sum())
    if not pd.api.types.is_numeric_dtype(events[schema.AMOUNT_COL]):
        raise DataError(
            f"{where}: column {schema.AMOUNT_COL!r} is not numeric (rule: amounts are numbers)"
        )
    keep = ~(null_id | bad_time)
    if keep.all():
        out = pd.DataFrame({schema.ID_COL: ids.astype("str"), schema.TIME_COL: times})
        rest = events
    else:
        out = pd.DataFrame({schema.ID_COL: ids[keep].astype("str"), schema.TIME_COL: times[keep]})
        rest = events.loc[keep]
    out[schema.TIME_COL] = out[schema.TIME_COL].astype("datetime64[us]")
    for col in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL):
        out[col] = rest[col]
    out[schema.AMOUNT_COL] = rest[schema.AMOUNT_COL].astype("float64")
    return out.reset_index(drop=True)


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
    events: pd.DataFrame, cleaning: dict[str, int], drop_zero_amounts: bool
) -> pd.DataFrame:
    """Shared rules: category dtypes, exact duplicates, zero and negative amounts."""
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
    duplicate_rows, n_customer_days = _find_duplicates_and_days(events)
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
    if drop_zero_amounts and cleaning["zero_amounts"]:
        events = events[~zero].reset_index(drop=True)
        cleaning["zero_amounts_dropped"] = cleaning["zero_amounts"]
    if events.empty:
        raise DataError(
            "event log: no usable rows after cleaning (rule: at least one event with "
            "an id and a parseable timestamp)"
        )
    return events


def _find_duplicates_and_days(events: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Positions of rows that exactly repeat an earlier row, and distinct (customer, day) pairs.

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
        (n_repeated,) = con.execute("SELECT count(*) FROM repeated").fetchone()
        rows = np.array([], dtype=np.int64)
        if n_repeated:
            found = con.execute(
                f"SELECT e._row FROM events_frame e JOIN repeated d ON {same} "
                "WHERE e._row <> d.first_row"
            ).fetchnumpy()
            rows = np.sort(found["_row"].astype(np.int64))
        (n_customer_days,) = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT customer_id, CAST(ts AS DATE) FROM events_frame)"
        ).fetchone()
    finally:
        con.close()
    return rows, int(n_customer_days)


def _canonical_customers(customers: pd.DataFrame) -> pd.DataFrame:
    customers = customers.drop(columns=[c for c in schema.PERSONAL_FIELDS if c in customers])
    customers[schema.ID_COL] = customers[schema.ID_COL].astype("str")
    if "lead_created_at" in customers:
        stamps = customers["lead_created_at"]
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert(None)
        customers["lead_created_at"] = stamps.astype("datetime64[us]")
    return customers.reset_index(drop=True)
