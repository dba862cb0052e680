"""Point-in-time customer features from an event log, aggregated in DuckDB.

``build_features`` uses only events strictly before the cutoff and customers whose lead was
created before it. The aggregation is SQL over the events (a pandas DataFrame, a Parquet
file that the engine reads itself, out of core, or a dataset EventLog's events still in their
file) on DuckDB (default) or Spark (``engine="spark"``, the same SQL transpiled; a Spark
DataFrame of events is accepted too). Its results are one row per customer (or per customer
and event type), collected to the driver, where per-(customer, event type) statistics are
pivoted into columns with numpy and the derived columns computed in pandas: the part that
scales with events runs on the engine, the part that scales with customers in this process. The result is a pandas DataFrame with one row
per customer, sorted by customer_id, float64 numeric columns and category columns with fixed
vocabularies for NEV data.

Float sums are computed over DECIMAL values so that parallel aggregation order cannot change
the last bits: the same inputs always give the same table.

This module owns the entry point, its input checks and NEV detection; the SQL lives in
``features.table.aggregate``, the columns made from its results in ``features.table.derive``.
May import the foundation modules, ``features.data``, ``features.engine`` and those
``features.table`` modules.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from features import schema
from features.data.eventlog import DataError, EventLog, event_source
from features.data.reader import business_timestamp
from features.defaults import FEATURE_WINDOWS
from features.engine import open_engine
from features.schema import ORDER_EVENT
from features.table import aggregate, derive

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
NEV_CUSTOMER_MARKERS = frozenset({schema.LEAD_CREATED_COL, "sales_model", "city_tier"})

EventSource = pd.DataFrame | EventLog | str | os.PathLike

# DuckDB's working memory for the aggregation; beyond it DuckDB spills to a temporary folder
# (the same results, order-independent aggregates). The 1M-customer benchmark peaks near
# 3.3 GiB with it (1500MB gives the same peak, slower) and 4.2 GiB without (benchmarks/README.md,
# "Data intake").
DUCKDB_MEMORY_LIMIT = "3000MB"
DUCKDB_TEMP_DIR = Path(tempfile.gettempdir()) / "nev-features-duckdb"
DUCKDB_SETTINGS = {
    "preserve_insertion_order": "false",
    "memory_limit": DUCKDB_MEMORY_LIMIT,
    "temp_directory": str(DUCKDB_TEMP_DIR),
}


def parse_cutoff(cutoff: Any) -> pd.Timestamp:
    """Cutoff as naive business time; raises ValueError for unparseable values.

    The time-zone rule of ``features.data.reader``: a naive cutoff is business time as it is; an
    aware one is converted to ``schema.BUSINESS_TZ`` and made naive, like the event stamps.
    """
    try:
        stamp = pd.Timestamp(cutoff)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"cutoff {cutoff!r}: not a date (rule: ISO date such as '2025-07-01')"
        ) from exc
    if pd.isna(stamp):
        raise ValueError(f"cutoff {cutoff!r}: not a date (rule: ISO date such as '2025-07-01')")
    return business_timestamp(stamp).as_unit("us")


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
    engine: str = "duckdb",
    spark: Any = None,
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
        engine: "duckdb" (in process) or "spark" (the same SQL on ``spark``, or a local
            session); the same table either way.
        spark: the SparkSession of the Spark engine (default: ``engine.spark.local_session``).

    Returns:
        DataFrame with ``customer_id`` first, then the registry's columns in registry order.
    """
    cutoff_ts = parse_cutoff(cutoff)
    windows = _check_windows(windows)
    if isinstance(events, EventLog):
        customers = events.customers if customers is None else customers
        # A dataset's file-backed events stay out of pandas on DuckDB; Spark gets the frame.
        events = event_source(events) if engine == "duckdb" else events.events
    if customers is not None:
        customers = _drop_personal(customers)
    runner = open_engine(engine, spark, duckdb_settings=DUCKDB_SETTINGS)
    try:
        aggregate.register_events(runner, events, cutoff_ts)
        type_counts, channel_counts = aggregate.value_counts(runner)
        customer_cols = () if customers is None else tuple(customers.columns)
        nev_mode = is_nev_log(type_counts, customer_cols) if nev is None else nev
        vocab = derive.Vocabulary.build(type_counts, channel_counts, nev_mode)
        codes = derive.Codes(sorted(type_counts), sorted(channel_counts))
        ids = aggregate.encode_events(runner, codes.types, codes.channels)
        main = aggregate.aggregate_customers(runner, windows, nev_mode, codes.code(ORDER_EVENT))
        days = aggregate.aggregate_days(runner, windows)
        stats = (
            aggregate.NEV_TYPE_STATS if nev_mode else aggregate.GENERIC_TYPE_STATS,
            aggregate.nev_channel_stats(codes.code("charging_session"))
            if nev_mode
            else aggregate.CHANNEL_STATS,
            aggregate.VALUE_STATS,
        )
        per_key = (
            aggregate.aggregate_keyed(runner, "et", stats[0]),
            aggregate.aggregate_keyed(runner, "ch", stats[1]),
            aggregate.aggregate_keyed(
                runner, "et", stats[2], codes.present(aggregate.VALUE_EVENT_TYPES)
            )
            if nev_mode
            else None,
        )
    finally:
        runner.close()
    first = derive.first_event_columns(main, codes, vocab)
    keyed = derive.keyed_features(len(ids), per_key, stats, codes, vocab, nev_mode)
    table = pd.concat([ids, main, days, first, keyed], axis=1)
    table = derive.align_population(table, customers, cutoff_ts)
    table = derive.fill_empty_aggregates(table, vocab, windows, nev_mode)
    table = derive.derive_core(table, vocab)
    if nev_mode:
        table = derive.derive_nev(table)
    if customers is not None:
        table = derive.attach_attributes(table, customers, cutoff_ts)
    if nev_mode:
        table = derive.attach_persona_dimensions(table)
    return derive.finalise(table, vocab, windows, nev_mode)


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
