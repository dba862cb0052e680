"""The typed parsing of an event log's rows: ``_parse_text_events`` types and cleans a text
(CSV/TSV/TXT or Excel) table in SQL on its DuckDB connection and ``_finish_text_events``
applies the rules of ``_finish_events`` to the fetched Arrow rows (categories cleaned by
``_clean_category_column``); ``_canonical_typed_events`` brings a typed (Parquet or DataFrame)
table to the canonical dtypes, amounts stored as text parsed by ``_typed_text_amounts``.

May import the foundation modules, ``features.data.reader`` and ``features.data.eventlog_base``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from features import schema
from features.data import reader
from features.data.eventlog_base import (
    CANONICAL_COLUMNS,
    DEFAULT_EVENT_TYPE,
    UNKNOWN_EVENT_TYPE,
    _grouped_duplicates_and_days,
    _Options,
    _sorted_duplicates_and_days,
)
from features.data.reader import DataError

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
