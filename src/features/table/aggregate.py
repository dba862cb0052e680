"""SQL aggregation of the pre-cutoff events in DuckDB, for ``features.table.build``.

Pre-cutoff events are materialised once with integer codes: customer row ``r`` (rank of the
id), event-type and channel codes (rank of the raw value). Every later GROUP BY then hashes
small integers instead of strings, and results come back as numbers already in row order.
The SQL ports to Spark SQL. Float sums are computed over DECIMAL values so that parallel
aggregation order cannot change the last bits.

May import the foundation modules, ``features.data`` and ``features.table.registry``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from features import schema
from features.data.eventlog import DataError, ParquetEvents
from features.schema import DELIVERY_EVENT, ORDER_EVENT
from features.table import registry

TREND_DAYS = registry.TREND_WINDOW_DAYS
TYPE_DAYS = registry.TYPE_WINDOW_DAYS


def register_events(con: duckdb.DuckDBPyConnection, events: Any, cutoff: pd.Timestamp) -> None:
    """Create view ``ev``: canonical columns of pre-cutoff events plus their age in days."""
    if isinstance(events, pd.DataFrame):
        columns = list(map(str, events.columns))
        con.register("events_input", events)
        source, where = "events_input", "events DataFrame"
    elif isinstance(events, ParquetEvents):  # a dataset's cleaned events, read from the file
        source, where = events.register(con), str(events.path)
        columns = list(schema.EVENT_COLUMNS)
    else:
        path = Path(events)
        if not path.exists():
            raise DataError(f"{path}: file not found (rule: the event log must exist)")
        escaped = str(path).replace("'", "''")
        source, where = f"read_parquet('{escaped}')", str(path)
        columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
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
    con.execute(
        f"""
        CREATE TEMP VIEW ev AS
        SELECT CAST({schema.ID_COL} AS VARCHAR) AS cid,
               CAST({schema.TIME_COL} AS TIMESTAMP) AS ts,
               {event_type} AS et,
               {optional(schema.CHANNEL_COL, "VARCHAR")} AS ch,
               {optional(schema.AMOUNT_COL, "DOUBLE")} AS v,
               (epoch_us({cutoff_sql}) - epoch_us(CAST({schema.TIME_COL} AS TIMESTAMP)))
                   / 86400000000.0 AS age
        FROM {source}
        WHERE {schema.TIME_COL} < {cutoff_sql} AND {schema.ID_COL} IS NOT NULL
        """
    )


def value_counts(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], dict[str, int]]:
    """Counts of each pre-cutoff event type and channel (one scan).

    The same scan keeps the distinct customer ids in table ``ev_ids`` for ``encode_events``.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ev_groups AS SELECT et, ch, cid, GROUPING(et) AS g_et, "
        "GROUPING(ch) AS g_ch, GROUPING(cid) AS g_cid, count(*) AS n "
        "FROM ev GROUP BY GROUPING SETS ((et), (ch), (cid))"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE ev_ids AS SELECT cid FROM ev_groups WHERE g_cid = 0")
    rows = con.execute(
        "SELECT et, ch, n FROM ev_groups WHERE g_cid = 1 AND (g_et = 0 OR g_ch = 0)"
    ).fetchall()
    con.execute("DROP TABLE ev_groups")
    types = {str(et): int(n) for et, ch, n in rows if et is not None and ch is None}
    channels = {str(ch): int(n) for et, ch, n in rows if ch is not None and et is None}
    return types, channels


def encode_events(
    con: duckdb.DuckDBPyConnection, raw_types: list[str], raw_channels: list[str]
) -> pd.Series:
    """Create table ``evm`` (r, ts, age, et, ch, v); return the customer ids in row order.

    Needs table ``ev_ids`` (the distinct ids) that ``value_counts`` leaves.
    """
    for name, column, values in (
        ("type_codes", "et", raw_types),
        ("channel_codes", "ch", raw_channels),
    ):
        codes = pd.DataFrame(
            {column: pd.Series(values, dtype="str"), "k": np.arange(len(values), dtype="int32")}
        )
        con.register(name, codes)
    con.execute(
        """
        CREATE TEMP TABLE cust AS
        SELECT cid, CAST(row_number() OVER (ORDER BY cid) - 1 AS INTEGER) AS r
        FROM ev_ids
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE evm AS
        SELECT c.r, e.ts, e.age, t.k AS et, h.k AS ch, e.v
        FROM ev e
        JOIN cust c ON e.cid = c.cid
        LEFT JOIN type_codes t ON e.et = t.et
        LEFT JOIN channel_codes h ON e.ch = h.ch
        """
    )
    ids = con.sql("SELECT cid FROM cust ORDER BY r").to_arrow_table().column(0)
    return pd.Series(ids.to_pandas(), name=schema.ID_COL, dtype="str")


def aggregate_customers(
    con: duckdb.DuckDBPyConnection, windows: tuple[int, ...], nev: bool, order_code: int | None
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
        ("first_amount", "arg_min(sv, (ts, sv))"),
        ("last_amount", "arg_max(sv, (ts, sv))"),
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
    sql = f"""
        SELECT {names},
               CAST(first_event.et AS DOUBLE) AS _first_type_code,
               CAST(first_event.ch AS DOUBLE) AS _first_channel_code
        FROM (
            SELECT r, {select},
                   arg_min({{'et': et, 'ch': ch}}, (ts, et, ch)) AS first_event
            FROM (SELECT *, {spend} AS sv FROM evm) GROUP BY r
        )
        ORDER BY r
    """
    return con.execute(sql).df()


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
    "value_last": ("arg_max(v, (ts, v))", "max"),
}
CHANNEL_STATS = {"n": ("count(*)", "sum")}


def nev_channel_stats(charging_code: int | None) -> dict[str, tuple[str, str]]:
    charging = "FALSE" if charging_code is None else f"et = {charging_code}"
    return {**CHANNEL_STATS, "n_charging": (f"count(*) FILTER (WHERE {charging})", "sum")}


def aggregate_keyed(
    con: duckdb.DuckDBPyConnection,
    key: str,
    stats: dict[str, tuple[str, str]],
    only_codes: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Statistics per (customer row, code of ``key``) for non-null (or the given) codes."""
    select = ", ".join(f"CAST({expr} AS DOUBLE) AS {name}" for name, (expr, _) in stats.items())
    where = f"{key} IS NOT NULL"
    if only_codes is not None:
        where = f"{key} IN ({', '.join(map(str, only_codes)) or 'NULL'})"
    sql = f"SELECT r, {key} AS key, {select} FROM evm WHERE {where} GROUP BY r, {key}"
    return con.execute(sql).df()


def aggregate_days(con: duckdb.DuckDBPyConnection, windows: tuple[int, ...]) -> pd.DataFrame:
    """Distinct active days per customer and the gaps between consecutive ones, in row order."""
    per_window = ",\n".join(
        f"CAST(count(*) FILTER (WHERE age_min <= {days}) AS DOUBLE) AS active_days_{days}d"
        for days in windows
    )
    sql = f"""
        WITH d AS (
            SELECT r, CAST(ts AS DATE) AS day, min(age) AS age_min FROM evm GROUP BY r, day
        ), g AS (
            SELECT r, age_min, day - lag(day) OVER (PARTITION BY r ORDER BY day) AS gap FROM d
        )
        SELECT CAST(count(*) AS DOUBLE) AS active_days_total,
               {per_window},
               CAST(max(gap) AS DOUBLE) AS gap_max_days,
               CAST(sum(gap) AS DOUBLE) AS _gap_sum,
               CAST(sum(gap * gap) AS DOUBLE) AS _gap_sumsq,
               CAST(count(gap) AS DOUBLE) AS _gap_n
        FROM g GROUP BY r ORDER BY r
    """
    return con.execute(sql).df()
