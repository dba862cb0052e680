"""Conversion and churn labels with explicit, documented populations.

Population membership is decided from data strictly before the cutoff; the label from events
in ``[cutoff, cutoff + horizon)`` only. A horizon that runs past the end of the log is an error,
so labels are never silently truncated (a customer would look churned just because the log
stops).

The label SQL runs on either engine of ``features.engine`` (``engine="spark"``: the same SQL
transpiled); events may be a DataFrame, an EventLog, a Parquet path or, on Spark, a Spark
DataFrame.

May import the foundation modules, ``features.data``, ``features.engine`` and
``features.table.build`` and ``features.table.aggregate`` (cutoff parsing, NEV detection, input
registration).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.data.eventlog import DataError, EventLog
from features.engine import SqlEngine, open_engine
from features.schema import DELIVERY_EVENT, LEAD_CREATED_COL, ORDER_EVENT
from features.table.aggregate import register_input
from features.table.build import is_nev_log, parse_cutoff

LABEL_COL = "label"


class HorizonError(ValueError):
    """The label window runs past the end of the event log."""


@dataclass
class LabelSet:
    """Labels of one task at one cutoff.

    Attributes:
        task: "conversion" or "churn".
        labels: columns customer_id (str) and label (int64, 1 = positive), sorted by id.
        population: short name of the population.
        definition: the population and label rule in words.
        cutoff: the cutoff.
        horizon_days: length of the label window.
        lookback_days: activity window defining the churn population (None for conversion).
    """

    task: str
    labels: pd.DataFrame
    population: str
    definition: str
    cutoff: pd.Timestamp
    horizon_days: int
    lookback_days: int | None = None

    @property
    def size(self) -> int:
        """Number of customers in the population."""
        return len(self.labels)

    @property
    def n_positive(self) -> int:
        """Number of positives."""
        return int(self.labels[LABEL_COL].sum())

    @property
    def n_negative(self) -> int:
        """Number of negatives."""
        return self.size - self.n_positive

    @property
    def positive_rate(self) -> float:
        """Share of positives (NaN for an empty population)."""
        return self.n_positive / self.size if self.size else float("nan")

    def summary(self) -> dict[str, Any]:
        """Plain values for metadata.json."""
        return {
            "task": self.task,
            "population": self.population,
            "definition": self.definition,
            "cutoff": self.cutoff.strftime("%Y-%m-%d"),
            "horizon_days": self.horizon_days,
            "lookback_days": self.lookback_days,
            "size": self.size,
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "positive_rate": None if not self.size else round(self.positive_rate, 6),
        }


def conversion_labels(
    events: pd.DataFrame | EventLog,
    cutoff: Any,
    horizon_days: int,
    customers: pd.DataFrame | None = None,
    *,
    log_end: Any = None,
    engine: str = "duckdb",
    spark: Any = None,
) -> LabelSet:
    """Label leads open at ``cutoff``: 1 if they order within ``horizon_days``.

    Population: leads created before the cutoff (``lead_created_at`` when customers are given,
    else the first event) with no order before it. Label: an ``order`` event in
    ``[cutoff, cutoff + horizon_days)``.
    """
    events, customers = _unpack(events, customers)
    cutoff_ts = parse_cutoff(cutoff)
    horizon_days = _check_days("horizon_days", horizon_days)
    end = cutoff_ts + pd.Timedelta(days=horizon_days)
    use_leads = customers is not None and LEAD_CREATED_COL in customers
    with _connection(events, customers if use_leads else None, engine, spark) as con:
        _check_horizon(con, cutoff_ts, horizon_days, log_end)
        orders = (
            f"SELECT count(*) FROM events_input WHERE {schema.EVENT_TYPE_COL} = '{ORDER_EVENT}'"
        )
        if not con.rows(orders)[0][0]:
            raise DataError(
                f"events: column {schema.EVENT_TYPE_COL!r} has no {ORDER_EVENT!r} events "
                "(rule: conversion labels need order events)"
            )
        frame = con.frame(
            f"""
            WITH population AS ({_open_leads_sql(cutoff_ts, use_leads)}),
            ordered_after AS (
                SELECT DISTINCT cid FROM ev
                WHERE et = '{ORDER_EVENT}' AND ts >= {_sql_ts(cutoff_ts)} AND ts < {_sql_ts(end)})
            SELECT p.cid AS {schema.ID_COL},
                   CAST(a.cid IS NOT NULL AS BIGINT) AS {LABEL_COL}
            FROM population p
            LEFT JOIN ordered_after a ON a.cid = p.cid
            """
        )
    lead_rule = "lead created" if use_leads else "first event"
    definition = (
        f"leads open at {cutoff_ts:%Y-%m-%d}: {lead_rule} before the cutoff and no order before "
        f"it; label 1 = an order in [{cutoff_ts:%Y-%m-%d}, {end:%Y-%m-%d})"
    )
    return LabelSet("conversion", _tidy(frame), "open_leads", definition, cutoff_ts, horizon_days)


def churn_labels(
    events: pd.DataFrame | EventLog,
    cutoff: Any,
    horizon_days: int,
    lookback_days: int = 90,
    customers: pd.DataFrame | None = None,
    *,
    log_end: Any = None,
    engine: str = "duckdb",
    spark: Any = None,
) -> LabelSet:
    """Label active customers at ``cutoff``: 1 if they have no event within ``horizon_days``.

    Population: for NEV data, owners (a ``delivery`` before the cutoff) with at least one event
    in the ``lookback_days`` before it; for generic logs, every customer with such an event.
    Label: no event at all in ``[cutoff, cutoff + horizon_days)``.
    """
    events, customers = _unpack(events, customers)
    cutoff_ts = parse_cutoff(cutoff)
    horizon_days = _check_days("horizon_days", horizon_days)
    lookback_days = _check_days("lookback_days", lookback_days)
    start = cutoff_ts - pd.Timedelta(days=lookback_days)
    end = cutoff_ts + pd.Timedelta(days=horizon_days)
    with _connection(events, None, engine, spark) as con:
        _check_horizon(con, cutoff_ts, horizon_days, log_end)
        nev = _is_nev(con, cutoff_ts, customers)
        frame = con.frame(
            f"""
            WITH population AS ({_active_sql(start, cutoff_ts, nev)}),
            active_after AS (
                SELECT DISTINCT cid FROM ev
                WHERE ts >= {_sql_ts(cutoff_ts)} AND ts < {_sql_ts(end)})
            SELECT p.cid AS {schema.ID_COL},
                   CAST(a.cid IS NULL AS BIGINT) AS {LABEL_COL}
            FROM population p LEFT JOIN active_after a ON a.cid = p.cid
            """
        )
    who = "owners (delivery before the cutoff)" if nev else "customers"
    definition = (
        f"{who} with at least one event in [{start:%Y-%m-%d}, {cutoff_ts:%Y-%m-%d}); "
        f"label 1 = no event in [{cutoff_ts:%Y-%m-%d}, {end:%Y-%m-%d})"
    )
    population = "active_owners" if nev else "active_customers"
    return LabelSet(
        "churn", _tidy(frame), population, definition, cutoff_ts, horizon_days, lookback_days
    )


def population_at(
    task: str,
    events: pd.DataFrame | EventLog,
    cutoff: Any,
    lookback_days: int = 90,
    customers: pd.DataFrame | None = None,
    *,
    engine: str = "duckdb",
    spark: Any = None,
) -> tuple[pd.DataFrame, str]:
    """Who a task scores at ``cutoff``, from events before it only (no labels, no horizon).

    conversion: leads open at the cutoff; churn: owners (NEV logs) or customers active in the
    ``lookback_days`` before it. The same populations as the label functions. Returns the
    ``customer_id`` column sorted, and the population's short name.
    """
    events, customers = _unpack(events, customers)
    cutoff_ts = parse_cutoff(cutoff)
    if task == "conversion":
        use_leads = customers is not None and LEAD_CREATED_COL in customers
        with _connection(events, customers if use_leads else None, engine, spark) as con:
            frame = con.frame(
                f"SELECT cid AS {schema.ID_COL} FROM ({_open_leads_sql(cutoff_ts, use_leads)})"
            )
        name = "open_leads"
    elif task == "churn":
        start = cutoff_ts - pd.Timedelta(days=_check_days("lookback_days", lookback_days))
        with _connection(events, None, engine, spark) as con:
            nev = _is_nev(con, cutoff_ts, customers)
            frame = con.frame(
                f"SELECT cid AS {schema.ID_COL} FROM ({_active_sql(start, cutoff_ts, nev)})"
            )
        name = "active_owners" if nev else "active_customers"
    else:
        raise ValueError(f"task {task!r}: must be 'conversion' or 'churn'")
    frame[schema.ID_COL] = frame[schema.ID_COL].astype("str")
    return frame.sort_values(schema.ID_COL, kind="stable", ignore_index=True), name


def _open_leads_sql(cutoff: pd.Timestamp, use_leads: bool) -> str:
    """SELECT of the leads open at ``cutoff`` (created before it, no order before it)."""
    if use_leads:
        members = f"""
            SELECT DISTINCT CAST({schema.ID_COL} AS VARCHAR) AS cid FROM customers_input
            WHERE {LEAD_CREATED_COL} < {_sql_ts(cutoff)}"""
    else:
        members = f"SELECT DISTINCT cid FROM ev WHERE ts < {_sql_ts(cutoff)}"
    return f"""
        SELECT m.cid FROM ({members}) m
        ANTI JOIN (
            SELECT DISTINCT cid FROM ev WHERE et = '{ORDER_EVENT}' AND ts < {_sql_ts(cutoff)}
        ) b ON b.cid = m.cid"""


def _active_sql(start: pd.Timestamp, cutoff: pd.Timestamp, owners_only: bool) -> str:
    """SELECT of customers with an event in ``[start, cutoff)`` (owners only for NEV logs)."""
    owners = (
        f"""AND cid IN (SELECT cid FROM ev WHERE et = '{DELIVERY_EVENT}'
                        AND ts < {_sql_ts(cutoff)})"""
        if owners_only
        else ""
    )
    return f"""
        SELECT DISTINCT cid FROM ev
        WHERE ts >= {_sql_ts(start)} AND ts < {_sql_ts(cutoff)} {owners}"""


def _is_nev(con: SqlEngine, cutoff: pd.Timestamp, customers: Any) -> bool:
    """NEV log detection from the event types before ``cutoff`` (and customer columns)."""
    customer_cols = () if customers is None else tuple(customers.columns)
    pre_types = con.rows(
        f"SELECT DISTINCT et FROM ev WHERE ts < {_sql_ts(cutoff)} AND et IS NOT NULL"
    )
    return is_nev_log([row[0] for row in pre_types], customer_cols)


def _unpack(events: Any, customers: pd.DataFrame | None) -> tuple[Any, pd.DataFrame | None]:
    """The events to register (an EventLog's DataFrame) and the customers."""
    if isinstance(events, EventLog):
        return events.events, events.customers if customers is None else customers
    return events, customers


def _check_days(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{name} = {value!r}: must be a positive whole number of days")
    return int(value)


def _check_horizon(con: SqlEngine, cutoff: pd.Timestamp, horizon_days: int, log_end: Any) -> None:
    """Raise HorizonError if ``[cutoff, cutoff + horizon)`` is not covered by the log.

    The log covers up to the end of the day of its last event unless ``log_end`` is given.
    """
    needed = cutoff + pd.Timedelta(days=horizon_days)
    if log_end is None:
        # As text: Spark hands timestamps to Python in the process's zone, text is as stored.
        last = con.rows(
            f"SELECT CAST(max(CAST({schema.TIME_COL} AS TIMESTAMP)) AS VARCHAR) FROM events_input"
        )[0][0]
        if pd.isna(last):
            raise DataError("events: no timestamps (rule: labels need a non-empty log)")
        covered = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
        shown = pd.Timestamp(last)
    else:
        covered = shown = parse_cutoff(log_end)
    if needed > covered:
        raise HorizonError(
            f"the log ends at {shown:%Y-%m-%d %H:%M}; horizon needs data until "
            f"{needed:%Y-%m-%d} (cutoff {cutoff:%Y-%m-%d} + {horizon_days} days): choose an "
            "earlier cutoff or a shorter horizon"
        )


LABEL_INPUT_COLUMNS = (schema.ID_COL, schema.TIME_COL, schema.EVENT_TYPE_COL)


@contextmanager
def _connection(
    events: Any, customers: pd.DataFrame | None, engine: str = "duckdb", spark: Any = None
) -> Iterator[SqlEngine]:
    """An engine with view ``ev`` (cid, ts, et) and optionally ``customers_input``."""
    if isinstance(events, pd.DataFrame):
        _check_label_columns("events DataFrame", list(events.columns))
        events = events[list(LABEL_INPUT_COLUMNS)]
    con = open_engine(engine, spark)
    try:
        where = register_input(con, events)
        _check_label_columns(where, con.columns("events_input"))
        con.view(
            "ev",
            f"""SELECT CAST({schema.ID_COL} AS VARCHAR) AS cid,
                CAST({schema.TIME_COL} AS TIMESTAMP) AS ts,
                CAST({schema.EVENT_TYPE_COL} AS VARCHAR) AS et
            FROM events_input WHERE {schema.ID_COL} IS NOT NULL""",
        )
        if customers is not None:
            con.register("customers_input", customers[[schema.ID_COL, LEAD_CREATED_COL]])
        yield con
    finally:
        con.close()


def _check_label_columns(where: str, columns: list[str]) -> None:
    for col in LABEL_INPUT_COLUMNS:
        if col not in columns:
            raise DataError(
                f"{where}: column {col!r} not found (rule: labels need "
                f"{schema.ID_COL}, {schema.TIME_COL} and {schema.EVENT_TYPE_COL})"
            )


def _sql_ts(stamp: pd.Timestamp) -> str:
    return f"TIMESTAMP '{stamp.isoformat(sep=' ')}'"


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame[schema.ID_COL] = frame[schema.ID_COL].astype("str")
    frame[LABEL_COL] = frame[LABEL_COL].astype("int64")
    return frame.sort_values(schema.ID_COL, kind="stable", ignore_index=True)
