"""Point-in-time customer features from an event log, aggregated in DuckDB.

``build_features`` uses only events strictly before the cutoff and customers whose lead was
created before it. The aggregation is SQL over the events (a pandas DataFrame, or a Parquet
file that DuckDB reads itself, out of core) and ports to Spark SQL; per-(customer, event type)
statistics are pivoted into columns with numpy. The result is a pandas DataFrame with one row
per customer, sorted by customer_id, float64 numeric columns and category columns with fixed
vocabularies for NEV data.

Float sums are computed over DECIMAL values so that parallel aggregation order cannot change
the last bits: the same inputs always give the same table.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from features import schema
from features.data.eventlog import DataError, EventLog
from features.defaults import FEATURE_WINDOWS
from features.table import registry

# Event types whose presence marks a log as NEV data (beyond generic marketing events).
NEV_MARKER_TYPES = frozenset(
    {
        "configurator_session",
        "store_visit",
        "test_drive",
        "quote",
        "delivery",
        "charging_session",
        "ota_feature_use",
        "driver_assist_use",
        "service_visit",
        "nps_response",
    }
)
NEV_CUSTOMER_MARKERS = frozenset({"lead_created_at", "sales_model", "city_tier"})
MAX_GENERIC_VOCABULARY = 30
TREND_DAYS = registry.TREND_WINDOW_DAYS
TYPE_DAYS = registry.TYPE_WINDOW_DAYS
LEAD_CREATED_COL = "lead_created_at"
ORDER_EVENT = "order"
DELIVERY_EVENT = "delivery"

EventSource = pd.DataFrame | EventLog | str | os.PathLike


def parse_cutoff(cutoff: Any) -> pd.Timestamp:
    """Cutoff as a naive Timestamp; raises ValueError for unparseable or tz-aware values."""
    try:
        stamp = pd.Timestamp(cutoff)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"cutoff {cutoff!r}: not a date (rule: ISO date such as '2025-07-01')"
        ) from exc
    if pd.isna(stamp):
        raise ValueError(f"cutoff {cutoff!r}: not a date (rule: ISO date such as '2025-07-01')")
    if stamp.tzinfo is not None:
        raise ValueError(f"cutoff {cutoff!r}: has a time zone (rule: naive local time)")
    return stamp.as_unit("us")


def is_nev_log(event_types: Iterable[str], customer_columns: Iterable[str] = ()) -> bool:
    """True when the event types are NEV types and NEV-specific events or attributes appear."""
    types = {str(t) for t in event_types}
    if not types or not types <= set(schema.EVENT_TYPES):
        return False
    return bool(types & NEV_MARKER_TYPES) or NEV_CUSTOMER_MARKERS <= set(customer_columns)


def build_features(
    events: EventSource,
    cutoff: Any,
    customers: pd.DataFrame | None = None,
    windows: Sequence[int] = FEATURE_WINDOWS,
    *,
    nev: bool | None = None,
) -> pd.DataFrame:
    """One row of point-in-time features per customer at ``cutoff``.

    Args:
        events: canonical event log (DataFrame or EventLog from ``load_event_log``) or the path
            of a Parquet file with canonical columns.
        cutoff: only events with ``ts < cutoff`` are used.
        customers: optional customer attributes (no personal fields). Customers whose
            ``lead_created_at`` is at or after the cutoff are dropped; those created before it
            get a row even without events. Defaults to ``events.customers`` for an EventLog.
        windows: day windows of the frequency / monetary families.
        nev: force NEV families on or off; detected from the pre-cutoff event types when None.

    Returns:
        DataFrame with ``customer_id`` first, then the registry's columns in registry order.
    """
    cutoff_ts = parse_cutoff(cutoff)
    windows = _check_windows(windows)
    if isinstance(events, EventLog):
        customers = events.customers if customers is None else customers
        events = events.events
    if customers is not None:
        customers = _drop_personal(customers)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        _register_events(con, events, cutoff_ts)
        type_counts, channel_counts = _vocabulary(con)
        customer_cols = () if customers is None else tuple(customers.columns)
        nev_mode = is_nev_log(type_counts, customer_cols) if nev is None else nev
        vocab = _Vocabulary.build(type_counts, channel_counts, nev_mode)
        codes = _Codes(sorted(type_counts), sorted(channel_counts))
        ids = _encode_events(con, codes.types, codes.channels)
        main = _aggregate_customers(con, windows, nev_mode, codes.code(ORDER_EVENT))
        days = _aggregate_days(con, windows)
        stats = (
            NEV_TYPE_STATS if nev_mode else GENERIC_TYPE_STATS,
            _nev_channel_stats(codes.code("charging_session")) if nev_mode else CHANNEL_STATS,
            VALUE_STATS,
        )
        per_key = (
            _aggregate_keyed(con, "et", stats[0]),
            _aggregate_keyed(con, "ch", stats[1]),
            _aggregate_keyed(con, "et", stats[2], _present_codes(codes, VALUE_EVENT_TYPES))
            if nev_mode
            else None,
        )
    finally:
        con.close()
    first = _first_event_columns(main, codes, vocab)
    keyed = _keyed_features(len(ids), per_key, stats, codes, vocab, nev_mode)
    table = pd.concat([ids, main, days, first, keyed], axis=1)
    table = _align_population(table, customers, cutoff_ts)
    table = _fill_empty_aggregates(table, vocab, windows, nev_mode)
    table = _derive_core(table, vocab)
    if nev_mode:
        table = _derive_nev(table)
    if customers is not None:
        table = _attach_attributes(table, customers, cutoff_ts)
    if nev_mode:
        table = _attach_persona_dimensions(table)
    return _finalise(table, vocab, windows, nev_mode)


# --- inputs --------------------------------------------------------------------------------


def _check_windows(windows: Sequence[int]) -> tuple[int, ...]:
    checked = tuple(int(w) for w in windows)
    if not checked or any(w <= 0 for w in checked) or len(set(checked)) != len(checked):
        raise ValueError(f"windows {windows!r}: must be distinct positive day counts")
    return checked


def _drop_personal(customers: pd.DataFrame) -> pd.DataFrame:
    if schema.ID_COL not in customers:
        raise DataError(
            f"customers DataFrame: column {schema.ID_COL!r} not found (rule: customers carry an id)"
        )
    return customers.drop(columns=[c for c in schema.PERSONAL_FIELDS if c in customers])


def _register_events(con: duckdb.DuckDBPyConnection, events: Any, cutoff: pd.Timestamp) -> None:
    """Create view ``ev``: canonical columns of pre-cutoff events plus their age in days."""
    if isinstance(events, pd.DataFrame):
        columns = list(map(str, events.columns))
        con.register("events_input", events)
        source, where = "events_input", "events DataFrame"
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


def _vocabulary(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], dict[str, int]]:
    """Counts of each pre-cutoff event type and channel (one scan)."""
    rows = con.execute(
        "SELECT et, ch, count(*) FROM ev GROUP BY GROUPING SETS ((et), (ch))"
    ).fetchall()
    types = {str(et): int(n) for et, ch, n in rows if et is not None and ch is None}
    channels = {str(ch): int(n) for et, ch, n in rows if ch is not None and et is None}
    return types, channels


class _Vocabulary:
    """Event types and channels that get their own columns, keyed by slug."""

    def __init__(
        self,
        types: dict[str, list[str]],
        channels: dict[str, list[str]],
        first_type_categories: list[str],
        first_channel_categories: list[str],
    ) -> None:
        self.types = types
        self.channels = channels
        self.first_type_categories = first_type_categories
        self.first_channel_categories = first_channel_categories

    @classmethod
    def build(
        cls, type_counts: dict[str, int], channel_counts: dict[str, int], nev: bool
    ) -> _Vocabulary:
        if nev:
            types = _group_by_slug(schema.EVENT_TYPES, type_counts, fixed=True)
            channels = _group_by_slug(schema.EVENT_CHANNELS, channel_counts, fixed=True)
            type_categories = _fixed_categories(schema.EVENT_TYPES, type_counts)
            channel_categories = _fixed_categories(schema.EVENT_CHANNELS, channel_counts)
        else:
            types = _group_by_slug(_most_frequent(type_counts), type_counts, fixed=False)
            channels = _group_by_slug(_most_frequent(channel_counts), channel_counts, fixed=False)
            type_categories = sorted(type_counts)
            channel_categories = sorted(channel_counts)
        return cls(types, channels, type_categories, channel_categories)


class _Codes:
    """Sorted raw event types and channels; a value's code is its position."""

    def __init__(self, types: list[str], channels: list[str]) -> None:
        self.types = types
        self.channels = channels

    def code(self, event_type: str) -> int | None:
        """Code of a raw event type, None if the log has none before the cutoff."""
        return self.types.index(event_type) if event_type in self.types else None


def _most_frequent(counts: dict[str, int]) -> list[str]:
    by_slug: dict[str, int] = {}
    for value, count in counts.items():
        slug = registry.slugify(value)
        by_slug[slug] = by_slug.get(slug, 0) + count
    ranked = sorted(by_slug, key=lambda slug: (-by_slug[slug], slug))[:MAX_GENERIC_VOCABULARY]
    return sorted(ranked)


def _group_by_slug(
    labels: Iterable[str], counts: dict[str, int], fixed: bool
) -> dict[str, list[str]]:
    """slug -> raw values in the log with that slug (fixed vocabularies keep empty slugs)."""
    groups: dict[str, list[str]] = {registry.slugify(label): [] for label in labels}
    for value in sorted(counts):
        slug = registry.slugify(value)
        if slug in groups:
            groups[slug].append(value)
    if not fixed:
        groups = {slug: values for slug, values in groups.items() if values}
    return groups


def _fixed_categories(vocabulary: Sequence[str], counts: dict[str, int]) -> list[str]:
    return list(vocabulary) + sorted(set(counts) - set(vocabulary))


# --- SQL aggregation -----------------------------------------------------------------------
#
# Pre-cutoff events are materialised once with integer codes: customer row ``r`` (rank of the
# id), event-type and channel codes (rank of the raw value). Every later GROUP BY then hashes
# small integers instead of strings, and results come back as numbers already in row order.


def _encode_events(
    con: duckdb.DuckDBPyConnection, raw_types: list[str], raw_channels: list[str]
) -> pd.Series:
    """Create table ``evm`` (r, ts, age, et, ch, v); return the customer ids in row order."""
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
        FROM (SELECT DISTINCT cid FROM ev)
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


def _aggregate_customers(
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


def _nev_channel_stats(charging_code: int | None) -> dict[str, tuple[str, str]]:
    charging = "FALSE" if charging_code is None else f"et = {charging_code}"
    return {**CHANNEL_STATS, "n_charging": (f"count(*) FILTER (WHERE {charging})", "sum")}


def _aggregate_keyed(
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


def _pivot(
    n_rows: int,
    keyed: pd.DataFrame,
    raw_values: list[str],
    groups: dict[str, list[str]],
    stats: dict[str, tuple[str, str]],
) -> dict[str, np.ndarray]:
    """stat -> matrix (customers x slugs) from per-(customer, raw code) statistics.

    Raw values sharing a slug (generic logs: "Web Shop" and "web shop") are combined with
    each statistic's rule; raw values outside the vocabulary are left out.
    """
    slug_of = {raw: i for i, values in enumerate(groups.values()) for raw in values}
    column_of_code = np.array([slug_of.get(raw, -1) for raw in raw_values] + [-1])
    cols = column_of_code[keyed["key"].to_numpy("int64")] if len(keyed) else np.array([], int)
    frame = keyed.loc[cols >= 0].drop(columns=["key"])
    frame["_col"] = cols[cols >= 0]
    if any(len(values) > 1 for values in groups.values()):
        rules = {name: rule for name, (_, rule) in stats.items()}
        frame = frame.groupby(["r", "_col"], as_index=False).agg(rules)
    rows, columns = frame["r"].to_numpy("int64"), frame["_col"].to_numpy("int64")
    out = {}
    for name, (_, rule) in stats.items():
        matrix = np.full((n_rows, len(groups)), 0.0 if rule == "sum" else np.nan)
        matrix[rows, columns] = frame[name].to_numpy("float64")
        out[name] = matrix
    return out


def _present_codes(codes: _Codes, event_types: Sequence[str]) -> list[int]:
    return [code for t in event_types if (code := codes.code(t)) is not None]


def _keyed_features(
    n_rows: int,
    keyed: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None],
    stats: tuple[dict[str, tuple[str, str]], ...],
    codes: _Codes,
    vocab: _Vocabulary,
    nev: bool,
) -> pd.DataFrame:
    """Per-type, per-channel and (NEV) service, engagement, charging and NPS columns.

    ``keyed`` and ``stats`` hold the per-type, per-channel and (NEV) per-type value statistics
    and their definitions.
    """
    types = _pivot(n_rows, keyed[0], codes.types, vocab.types, stats[0])
    channels = _pivot(n_rows, keyed[1], codes.channels, vocab.channels, stats[1])
    if keyed[2] is not None:
        types.update(_pivot(n_rows, keyed[2], codes.types, vocab.types, stats[2]))
    out: dict[str, np.ndarray] = {}
    for i, slug in enumerate(vocab.types):
        names = registry.event_type_feature_names(slug)
        out[names["count"]] = types["n"][:, i]
        out[names["count_window"]] = types["n_window"][:, i]
        out[names["recency"]] = types["recency"][:, i]
    for j, slug in enumerate(vocab.channels):
        out[f"_channel_{slug}"] = channels["n"][:, j]
    if nev:
        position = {slug: i for i, slug in enumerate(vocab.types)}

        def stat(name: str, event_type: str) -> np.ndarray:
            return types[name][:, position[event_type]]

        engagement = [position[t] for t in registry.ENGAGEMENT_EVENT_TYPES]
        channel_position = {slug: j for j, slug in enumerate(vocab.channels)}
        out.update(
            {
                "_service_sum": stat("value_sum", "service_visit"),
                "_service_n": stat("value_n", "service_visit"),
                "service_wait_max_days": stat("value_max", "service_visit"),
                "engagement_events_30d": types["n_30"][:, engagement].sum(axis=1),
                # the per-type window is 90 days (registry.TYPE_WINDOW_DAYS)
                "engagement_events_90d": types["n_window"][:, engagement].sum(axis=1),
                "_engagement_prev30": types["n_prev30"][:, engagement].sum(axis=1),
                "_charging_n": stat("n", "charging_session"),
                "nps_last": stat("value_last", "nps_response"),
                "nps_min": stat("value_min", "nps_response"),
                "days_since_delivery": stat("oldest", DELIVERY_EVENT),
                "order_value_last": stat("value_last", ORDER_EVENT),
            }
        )
        for channel in schema.CHARGING_CHANNELS:
            out[f"_charging_{channel}"] = channels["n_charging"][:, channel_position[channel]]
    return pd.DataFrame(out)


def _aggregate_days(con: duckdb.DuckDBPyConnection, windows: tuple[int, ...]) -> pd.DataFrame:
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


def _first_event_columns(
    customers: pd.DataFrame, codes: _Codes, vocab: _Vocabulary
) -> pd.DataFrame:
    """Type and channel of the first event as categories (codes mapped back to values)."""
    out = {}
    for name, code_col, raw, categories in (
        ("first_event_type", "_first_type_code", codes.types, vocab.first_type_categories),
        ("first_channel", "_first_channel_code", codes.channels, vocab.first_channel_categories),
    ):
        position = {value: i for i, value in enumerate(categories)}
        category_of_code = np.array([position.get(value, -1) for value in raw] + [-1])
        code = customers.pop(code_col).fillna(-1).to_numpy("int64")
        out[name] = pd.Categorical.from_codes(category_of_code[code], categories=categories)
    return pd.DataFrame(out, index=customers.index)


# --- pandas post-processing ----------------------------------------------------------------


def _align_population(
    table: pd.DataFrame, customers: pd.DataFrame | None, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Rows: customers with pre-cutoff events or a lead created before the cutoff."""
    if customers is None or LEAD_CREATED_COL not in customers:
        return table
    created = pd.to_datetime(customers[LEAD_CREATED_COL])
    ids = customers[schema.ID_COL].astype("str")
    late = ids[created >= cutoff]
    if len(late):
        table = table[~table[schema.ID_COL].isin(late)]
    early = ids[created < cutoff]
    missing = early[~early.isin(table[schema.ID_COL])].drop_duplicates()
    if len(missing):
        table = pd.concat(
            [table, pd.DataFrame({schema.ID_COL: missing.to_numpy()})], ignore_index=True
        )
    return table


def _fill_empty_aggregates(
    table: pd.DataFrame, vocab: _Vocabulary, windows: tuple[int, ...], nev: bool
) -> pd.DataFrame:
    """A count or sum over no events is 0 (NULL from SQL or a customer without events)."""
    zero = [
        "n_events_total",
        "active_days_total",
        "_amount_sum",
        "_amount_n",
        "_n_last30",
        "_n_prev30",
        "_amount_last30",
        "_amount_prev30",
    ]
    for days in windows:
        zero += [f"n_events_{days}d", f"amount_sum_{days}d", f"active_days_{days}d"]
    for slug in vocab.types:
        names = registry.event_type_feature_names(slug)
        zero += [names["count"], names["count_window"]]
    zero += [f"_channel_{slug}" for slug in vocab.channels]
    if nev:
        zero += [
            "_service_sum",
            "_service_n",
            "engagement_events_30d",
            "engagement_events_90d",
            "_engagement_prev30",
            "_charging_n",
            *(f"_charging_{c}" for c in schema.CHARGING_CHANNELS),
        ]
    table[zero] = table[zero].fillna(0.0)
    return table


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or missing."""
    return numerator / denominator.where(denominator > 0)


def _derive_core(table: pd.DataFrame, vocab: _Vocabulary) -> pd.DataFrame:
    out = {
        "amount_sum_total": table["_amount_sum"],
        "amount_mean": _ratio(table["_amount_sum"], table["_amount_n"]),
        "gap_mean_days": _ratio(table["_gap_sum"], table["_gap_n"]),
        "trend_events_30d": table["_n_last30"] - table["_n_prev30"],
        "trend_events_ratio_30d": (table["_n_last30"] + 1) / (table["_n_prev30"] + 1),
        "trend_amount_30d": table["_amount_last30"] - table["_amount_prev30"],
    }
    n = table["_gap_n"]
    variance = (table["_gap_sumsq"] - table["_gap_sum"] ** 2 / n.where(n > 0)) / (n - 1).where(
        n > 1
    )
    out["gap_std_days"] = np.sqrt(variance.clip(lower=0))
    out["recency_to_gap_mean"] = _ratio(table["recency_days"], out["gap_mean_days"])
    for slug in vocab.types:
        names = registry.event_type_feature_names(slug)
        out[names["share"]] = _ratio(table[names["count"]], table["n_events_total"])
    for slug in vocab.channels:
        out[registry.channel_feature_name(slug)] = _ratio(
            table[f"_channel_{slug}"], table["n_events_total"]
        )
    return pd.concat([table, pd.DataFrame(out, index=table.index)], axis=1)


def _derive_nev(table: pd.DataFrame) -> pd.DataFrame:
    depth = pd.Series(0.0, index=table.index)
    for stage_depth, stage in enumerate(schema.FUNNEL_STAGES[1:], start=1):
        reached = table[registry.event_type_feature_names(stage)["count"]] > 0
        depth = depth.where(~reached, float(stage_depth))
    out = {
        "funnel_depth": depth,
        "service_wait_mean_days": _ratio(table["_service_sum"], table["_service_n"]),
        "engagement_trend_30d": table["engagement_events_30d"] - table["_engagement_prev30"],
        "is_owner": (table[registry.event_type_feature_names(DELIVERY_EVENT)["count"]] > 0).astype(
            "float64"
        ),
    }
    for channel in schema.CHARGING_CHANNELS:
        out[f"charging_share_{channel}"] = _ratio(
            table[f"_charging_{channel}"], table["_charging_n"]
        )
    return pd.concat([table, pd.DataFrame(out, index=table.index)], axis=1)


def _attach_attributes(
    table: pd.DataFrame, customers: pd.DataFrame, cutoff: pd.Timestamp
) -> pd.DataFrame:
    keep = [c for c in registry.ATTRIBUTE_ORDER if c in customers]
    if LEAD_CREATED_COL in customers:
        keep.append(LEAD_CREATED_COL)
    attributes = customers[[schema.ID_COL, *keep]].drop_duplicates(schema.ID_COL).copy()
    attributes[schema.ID_COL] = attributes[schema.ID_COL].astype("str")
    for name in keep:
        if name in registry.CATEGORICAL_ATTRIBUTES:
            attributes[name] = _categorical(attributes[name], registry.CATEGORICAL_ATTRIBUTES[name])
        elif name in registry.NUMERIC_ATTRIBUTES:
            attributes[name] = pd.to_numeric(attributes[name], errors="coerce").astype("float64")
    if LEAD_CREATED_COL in attributes:
        created = pd.to_datetime(attributes.pop(LEAD_CREATED_COL))
        attributes["days_since_lead_created"] = (cutoff - created) / pd.Timedelta(days=1)
    return table.merge(attributes, on=schema.ID_COL, how="left", validate="one_to_one")


def _categorical(values: pd.Series, vocabulary: Sequence[str]) -> pd.Series:
    """Category with the schema vocabulary, widened (sorted) if the data hold other values."""
    text = values if values.dtype == "str" else values.astype("object").where(values.notna())
    present = {str(v) for v in pd.unique(text.dropna())}
    categories = list(vocabulary) + sorted(present - set(vocabulary))
    return pd.Series(pd.Categorical(text, categories=categories), index=values.index)


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name in table:
        return table[name].astype("float64")
    return pd.Series(np.nan, index=table.index)


def _capped(values: pd.Series, scale: float) -> pd.Series:
    return (values / scale).clip(0, 1)


def _nanmean(parts: list[pd.Series]) -> pd.Series:
    return pd.concat(parts, axis=1).mean(axis=1, skipna=True)


def _rank(values: pd.Series | None, order: Sequence[str], reverse: bool = False) -> pd.Series:
    if values is None:
        return pd.Series(dtype="float64")
    positions = {label: i / (len(order) - 1) for i, label in enumerate(order)}
    ranks = values.astype("str").map(positions).astype("float64").where(values.notna())
    return 1 - ranks if reverse else ranks


def _attach_persona_dimensions(table: pd.DataFrame) -> pd.DataFrame:
    """Scores 0-1 for the six persona dimensions (formulas in the registry meanings)."""
    idx = table.index

    def count(event_type: str, windowed: bool = False) -> pd.Series:
        names = registry.event_type_feature_names(event_type)
        return _column(table, names["count_window" if windowed else "count"])

    owner = _column(table, "is_owner") > 0
    income = _rank(table.get("income_band"), schema.INCOME_BANDS).reindex(idx)
    city = _rank(table.get("city_tier"), schema.CITY_TIERS, reverse=True).reindex(idx)
    youth = ((60 - _column(table, "age")) / 40).clip(0, 1)
    budget = ((_column(table, "budget") - 100_000) / 400_000).clip(0, 1)
    charging = _capped(count("charging_session", windowed=True), 36).where(owner)
    smart_use = _capped(
        count("ota_feature_use", windowed=True) + count("driver_assist_use", windowed=True), 30
    ).where(owner)
    channel = table.get("acquisition_channel")
    social_channel = (
        channel.astype("str")
        .isin(["referral", "private_domain", "event"])
        .astype("float64")
        .where(channel.notna())
        if channel is not None
        else pd.Series(np.nan, index=idx)
    )
    public_fast = _column(table, "charging_share_public") + _column(table, "charging_share_fast")
    multi_car = (
        (_column(table, "cars_in_household") >= 2)
        .astype("float64")
        .where(_column(table, "cars_in_household").notna())
    )
    scores = {
        "persona_dim_demographics": _nanmean([income, city, youth]),
        "persona_dim_consumption_behaviour": _nanmean([budget, charging]),
        "persona_dim_technology_acceptance": _nanmean(
            [
                _capped(count("configurator_session"), 5),
                _capped(count("app_login", windowed=True), 30),
                smart_use,
            ]
        ),
        "persona_dim_social_network": _nanmean(
            [
                _capped(count("community_post", windowed=True), 6),
                _capped(count("referral_made"), 2),
                social_channel,
            ]
        ),
        "persona_dim_values": _nanmean(
            [
                _column(table, "nps_last") / 10,
                1 - _capped(count("complaint"), 3),
                _capped(count("content_view", windowed=True), 20),
            ]
        ),
        "persona_dim_lifestyle": _nanmean(
            [
                public_fast,
                _capped(count("driver_assist_use", windowed=True), 20).where(owner),
                _capped(_column(table, "children"), 2),
                multi_car,
            ]
        ),
    }
    return pd.concat([table, pd.DataFrame(scores, index=idx)], axis=1)


def _finalise(
    table: pd.DataFrame,
    vocab: _Vocabulary,
    windows: tuple[int, ...],
    nev: bool,
) -> pd.DataFrame:
    specs = registry.feature_specs(
        windows, _labels(vocab.types), _labels(vocab.channels), nev=nev, attributes=True
    )
    names = [s.name for s in specs if s.name in table or not s.source.startswith("customers:")]
    table = table.reindex(columns=[schema.ID_COL, *names])
    table["first_event_type"] = _as_category(table["first_event_type"], vocab.first_type_categories)
    table["first_channel"] = _as_category(table["first_channel"], vocab.first_channel_categories)
    numeric = [n for n in names if not isinstance(table[n].dtype, pd.CategoricalDtype)]
    table[numeric] = table[numeric].astype("float64")
    table[schema.ID_COL] = table[schema.ID_COL].astype("str")
    if not table[schema.ID_COL].is_monotonic_increasing:
        table = table.sort_values(schema.ID_COL, kind="stable")
    return table.reset_index(drop=True)


def _as_category(values: pd.Series, categories: list[str]) -> pd.Series:
    """``values`` as a category with exactly ``categories`` (rows added later may be NaN)."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == categories:
        return values
    text = values.astype("object").where(values.notna())
    return pd.Series(pd.Categorical(text, categories=categories), index=values.index)


def _labels(groups: dict[str, list[str]]) -> list[str]:
    """Slugs of a vocabulary: column names depend only on slugs."""
    return list(groups)
