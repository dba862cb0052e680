"""SQL aggregation of the pre-cutoff events, for ``features.table.build``.

Pre-cutoff events are materialised once with integer codes: customer key ``ck`` (a 64-bit hash
of the id, computed in the scan), event-type and channel codes (rank of the raw value). Every
later GROUP BY then hashes integers instead of strings; its per-customer results (a million
rows, not tens of millions of events) are joined to table ``cust`` for the customer row ``r``
(rank of the id) and come back as numbers in row order. Joining every event to its row
instead would be the costliest step of the build. Should two ids share a hash, the key is the
row itself, through that join.

The SQL is written once, in DuckDB's dialect, and runs on either engine of ``features.engine``
(Spark through SQLGlot). Where the engines' built-ins differ in meaning, the portable form is
written out:
- ``arg_min``/``arg_max`` carry ``FILTER (WHERE x IS NOT NULL)``: DuckDB skips NULL arguments,
  Spark's ``min_by`` returns them;
- ordering keys coalesce NULL codes to the largest integer: DuckDB orders a NULL struct field
  last, Spark first;
- day gaps are ``date_diff('day', ...)`` over DATE values (equal on both), not date subtraction
  (an interval on Spark); ages are microsecond differences cast to DOUBLE before dividing
  (Spark would divide in DECIMAL);
- float sums are computed over DECIMAL values, so that aggregation order (parallel threads,
  Spark partitions) cannot change the last bits.

May import the foundation modules, ``features.data``, ``features.engine`` and
``features.table.registry``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.data.eventlog import DataError, ParquetEvents
from features.engine import SqlEngine
from features.schema import DELIVERY_EVENT, ORDER_EVENT
from features.table import registry

TREND_DAYS = registry.TREND_WINDOW_DAYS
TYPE_DAYS = registry.TYPE_WINDOW_DAYS


# A 64-bit hash of a text on each engine (DuckDB's ``hash``, Spark's ``xxhash64``).
HASH64 = {"duckdb": "hash({})", "spark": "xxhash64({})"}

# Larger than every event-type and channel code: NULL codes order last on both engines.
NULL_CODE_LAST = 2_147_483_647


def with_rows(grouped: str, columns: str, ordered: bool = True) -> str:
    """SQL: ``columns`` of ``grouped`` (a query with a ``ck`` column) beside each customer's
    row ``c.r``, in row order when ``ordered``."""
    order = " ORDER BY c.r" if ordered else ""
    return f"SELECT {columns} FROM ({grouped}) q JOIN cust c ON q.ck = c.ck{order}"


def register_input(engine: SqlEngine, events: Any, name: str = "events_input") -> str:
    """Register the events under ``name`` on ``engine``; return where they come from (for errors).

    ``events``: a pandas DataFrame, a dataset's file-backed events (DuckDB), a Parquet path,
    or a Spark DataFrame (Spark).
    """
    if isinstance(events, pd.DataFrame):
        engine.register(name, events)
        return "events DataFrame"
    if isinstance(events, ParquetEvents):  # a dataset's cleaned events, read from the file
        engine.view(name, f"SELECT * FROM {events.register(engine.con)}")  # type: ignore[attr-defined]
        return str(events.path)
    if hasattr(events, "createOrReplaceTempView"):  # a Spark DataFrame
        engine.register_dataframe(name, events)  # type: ignore[attr-defined]
        return "events Spark DataFrame"
    if engine.name == "spark" and "://" in str(events):  # cluster storage (hdfs://, s3a://)
        engine.register_parquet(name, events)
        return str(events)
    path = Path(events)
    if not path.exists():
        raise DataError(f"{path}: file not found (rule: the event log must exist)")
    engine.register_parquet(name, path)
    return str(path)


def register_events(engine: SqlEngine, events: Any, cutoff: pd.Timestamp) -> None:
    """Create view ``ev``: canonical columns of pre-cutoff events plus their age in days."""
    source = "events_input"
    where = register_input(engine, events, source)
    columns = engine.columns(source)
    for required in (schema.ID_COL, schema.TIME_COL):
        if required not in columns:
            raise DataError(
                f"{where}: column {required!r} not found (rule: events carry "
                f"{schema.ID_COL} and {schema.TIME_COL})"
            )

    def optional(name: str, sql_type: str) -> str:
        return f"CAST({name} AS {sql_type})" if name in columns else f"CAST(NULL AS {sql_type})"

    event_type = (
        f"CAST({schema.EVENT_TYPE_COL} AS VARCHAR)"
        if schema.EVENT_TYPE_COL in columns
        else "'event'"
    )
    cutoff_sql = f"TIMESTAMP '{cutoff.isoformat(sep=' ')}'"
    ts = f"CAST({schema.TIME_COL} AS TIMESTAMP)"
    engine.view(
        "ev",
        f"""
        SELECT CAST({schema.ID_COL} AS VARCHAR) AS cid,
               {ts} AS ts,
               {event_type} AS et,
               {optional(schema.CHANNEL_COL, "VARCHAR")} AS ch,
               {optional(schema.AMOUNT_COL, "DOUBLE")} AS v,
               CAST(date_diff('microsecond', {ts}, {cutoff_sql}) AS DOUBLE)
                   / 86400000000.0 AS age
        FROM {source}
        WHERE {ts} < {cutoff_sql} AND {schema.ID_COL} IS NOT NULL
        """,
    )


def value_counts(engine: SqlEngine) -> tuple[dict[str, int], dict[str, int]]:
    """Counts of each pre-cutoff event type and channel (one scan).

    The same scan keeps the distinct customer ids in table ``ev_ids`` for ``encode_events``.
    """
    engine.table(
        "ev_groups",
        "SELECT et, ch, cid, GROUPING(et) AS g_et, "
        "GROUPING(ch) AS g_ch, GROUPING(cid) AS g_cid, count(*) AS n "
        "FROM ev GROUP BY GROUPING SETS ((et), (ch), (cid))",
    )
    engine.table("ev_ids", "SELECT cid FROM ev_groups WHERE g_cid = 0")
    rows = engine.rows("SELECT et, ch, n FROM ev_groups WHERE g_cid = 1 AND (g_et = 0 OR g_ch = 0)")
    engine.drop("ev_groups")
    types = {str(et): int(n) for et, ch, n in rows if et is not None and ch is None}
    channels = {str(ch): int(n) for et, ch, n in rows if ch is not None and et is None}
    return types, channels


def encode_events(engine: SqlEngine, raw_types: list[str], raw_channels: list[str]) -> pd.Series:
    """Create tables ``cust`` (cid, ck, r) and ``evm`` (ck, ts, age, et, ch, v); return the
    customer ids in row order.

    Needs table ``ev_ids`` (the distinct ids) that ``value_counts`` leaves.
    """
    for name, column, values in (
        ("type_codes", "et", raw_types),
        ("channel_codes", "ch", raw_channels),
    ):
        codes = pd.DataFrame(
            {column: pd.Series(values, dtype="str"), "k": np.arange(len(values), dtype="int32")}
        )
        engine.register(name, codes)
    hashed = HASH64[engine.name]
    n_ids, n_keys = engine.rows(
        f"SELECT count(*), count(DISTINCT {hashed.format('cid')}) FROM ev_ids"
    )[0]
    row = "row_number() OVER (ORDER BY cid) - 1"
    if n_keys == n_ids:
        ck, key, join = hashed.format("cid"), hashed.format("e.cid"), ""
    else:  # two ids share a hash: the row is the key
        ck, key, join = f"CAST({row} AS BIGINT)", "c.ck", "JOIN cust c ON e.cid = c.cid"
    engine.table("cust", f"SELECT cid, {ck} AS ck, CAST({row} AS INTEGER) AS r FROM ev_ids")
    engine.table(
        "evm",
        f"""
        SELECT {key} AS ck, e.ts, e.age, t.k AS et, h.k AS ch, e.v
        FROM ev e
        {join}
        LEFT JOIN type_codes t ON e.et = t.et
        LEFT JOIN channel_codes h ON e.ch = h.ch
        """,
    )
    ids = engine.arrow("SELECT cid FROM cust ORDER BY r").column(0)
    return pd.Series(ids.to_pandas(), name=schema.ID_COL, dtype="str")


def aggregate_customers(
    engine: SqlEngine, windows: tuple[int, ...], nev: bool, order_code: int | None
) -> pd.DataFrame:
    """One pass for the per-customer counts, sums and first values, in row order.

    Spend is every amount in a generic log and order prices in NEV data (``order_code`` is the
    order event type's code, None when no order precedes the cutoff).
    """
    if not nev:
        spend = "v"
    elif order_code is None:
        spend = "CAST(NULL AS DOUBLE)"
    else:
        spend = f"CASE WHEN et = {order_code} THEN v END"
    exact = "CAST(sv AS DECIMAL(38, 6))"
    recent, previous = f"age <= {TREND_DAYS}", f"age > {TREND_DAYS} AND age <= {2 * TREND_DAYS}"
    items: list[tuple[str, str]] = [
        ("n_events_total", "count(*)"),
        ("recency_days", "min(age)"),
        ("tenure_days", "max(age)"),
        ("_amount_sum", f"sum({exact})"),
        ("_amount_n", "count(sv)"),
        ("amount_max", "max(sv)"),
        ("first_amount", "arg_min(sv, (ts, sv)) FILTER (WHERE sv IS NOT NULL)"),
        ("last_amount", "arg_max(sv, (ts, sv)) FILTER (WHERE sv IS NOT NULL)"),
        ("_n_last30", f"count(*) FILTER (WHERE {recent})"),
        ("_n_prev30", f"count(*) FILTER (WHERE {previous})"),
        ("_amount_last30", f"sum({exact}) FILTER (WHERE {recent})"),
        ("_amount_prev30", f"sum({exact}) FILTER (WHERE {previous})"),
    ]
    for days in windows:
        items += [
            (f"n_events_{days}d", f"count(*) FILTER (WHERE age <= {days})"),
            (f"amount_sum_{days}d", f"sum({exact}) FILTER (WHERE age <= {days})"),
        ]
    select = ",\n".join(f"CAST({expr} AS DOUBLE) AS {name}" for name, expr in items)
    names = ", ".join(name for name, _ in items)
    first_key = f"(ts, coalesce(et, {NULL_CODE_LAST}), coalesce(ch, {NULL_CODE_LAST}))"
    grouped = f"""
        SELECT ck, {select},
               arg_min({{'et': et, 'ch': ch}}, {first_key}) AS first_event
        FROM (SELECT *, {spend} AS sv FROM evm) GROUP BY ck
    """
    columns = (
        f"{names}, CAST(first_event.et AS DOUBLE) AS _first_type_code, "
        "CAST(first_event.ch AS DOUBLE) AS _first_channel_code"
    )
    return engine.frame(with_rows(grouped, columns))


# Statistics per (customer, event type), pivoted into per-type columns with numpy: much
# cheaper than one filtered aggregate per type and statistic over every event.
GENERIC_TYPE_STATS = {
    "n": ("count(*)", "sum"),
    "n_window": (f"count(*) FILTER (WHERE age <= {TYPE_DAYS})", "sum"),
    "recency": ("min(age)", "min"),
}
NEV_TYPE_STATS = {
    **GENERIC_TYPE_STATS,
    "n_30": ("count(*) FILTER (WHERE age <= 30)", "sum"),
    "n_prev30": ("count(*) FILTER (WHERE age > 30 AND age <= 60)", "sum"),
}
# Value statistics matter for a few NEV event types only (service wait, NPS, order price,
# delivery date), so they are aggregated over those events alone.
VALUE_EVENT_TYPES = ("service_visit", "nps_response", ORDER_EVENT, DELIVERY_EVENT)
VALUE_STATS = {
    "oldest": ("max(age)", "max"),
    "value_sum": ("sum(CAST(v AS DECIMAL(38, 6)))", "sum"),
    "value_n": ("count(v)", "sum"),
    "value_max": ("max(v)", "max"),
    "value_min": ("min(v)", "min"),
    "value_last": ("arg_max(v, (ts, v)) FILTER (WHERE v IS NOT NULL)", "max"),
}
CHANNEL_STATS = {"n": ("count(*)", "sum")}


def nev_channel_stats(charging_code: int | None) -> dict[str, tuple[str, str]]:
    charging = "FALSE" if charging_code is None else f"et = {charging_code}"
    return {**CHANNEL_STATS, "n_charging": (f"count(*) FILTER (WHERE {charging})", "sum")}


def aggregate_keyed(
    engine: SqlEngine,
    key: str,
    stats: dict[str, tuple[str, str]],
    only_codes: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Statistics per (customer row, code of ``key``) for non-null (or the given) codes."""
    select = ", ".join(f"CAST({expr} AS DOUBLE) AS {name}" for name, (expr, _) in stats.items())
    where = f"{key} IS NOT NULL"
    if only_codes is not None:
        where = f"{key} IN ({', '.join(map(str, only_codes)) or 'NULL'})"
    grouped = f"SELECT ck, {key} AS key, {select} FROM evm WHERE {where} GROUP BY ck, {key}"
    return engine.frame(with_rows(grouped, f"c.r, q.key, {', '.join(stats)}", ordered=False))


def aggregate_days(engine: SqlEngine, windows: tuple[int, ...]) -> pd.DataFrame:
    """Distinct active days per customer and the gaps between consecutive ones, in row order.

    One window over each customer's events in time order marks the first and the last event
    of each day: cheaper than grouping the events into (customer, day) rows first (nearly as
    many as events) and sorting those. Events sharing a time share a day, so ties cannot
    change the marks. A day is in a window when its last event is.
    """
    per_window = ",\n".join(
        f"CAST(count(*) FILTER (WHERE last_of_day AND age <= {days}) AS DOUBLE) "
        f"AS active_days_{days}d"
        for days in windows
    )
    in_order = "OVER (PARTITION BY ck ORDER BY ts)"
    sql = f"""
        WITH s AS (
            SELECT ck, age, CAST(ts AS DATE) AS day,
                   lag(CAST(ts AS DATE)) {in_order} AS prev_day,
                   lead(CAST(ts AS DATE)) {in_order} AS next_day
            FROM evm
        ), g AS (
            SELECT ck, age,
                   prev_day IS NULL OR day <> prev_day AS first_of_day,
                   next_day IS NULL OR day <> next_day AS last_of_day,
                   date_diff('day', prev_day, day) AS gap
            FROM s
        )
        SELECT ck,
               CAST(count(*) FILTER (WHERE first_of_day) AS DOUBLE) AS active_days_total,
               {per_window},
               CAST(max(gap) FILTER (WHERE first_of_day) AS DOUBLE) AS gap_max_days,
               CAST(sum(gap) FILTER (WHERE first_of_day) AS DOUBLE) AS _gap_sum,
               CAST(sum(gap * gap) FILTER (WHERE first_of_day) AS DOUBLE) AS _gap_sumsq,
               CAST(count(gap) FILTER (WHERE first_of_day) AS DOUBLE) AS _gap_n
        FROM g GROUP BY ck
    """
    names = ", ".join(
        ["active_days_total", *(f"active_days_{days}d" for days in windows)]
        + ["gap_max_days", "_gap_sum", "_gap_sumsq", "_gap_n"]
    )
    return engine.frame(with_rows(sql, names))
