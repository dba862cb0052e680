"""Leakage guarantees, property-based: features see only the past, labels only the future."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import features
from features import schema
from features.table.build import build_features
from features.table.labels import churn_labels, conversion_labels

CUTOFF = pd.Timestamp("2025-07-01")
CUSTOMERS = ("c01", "c02", "c03", "c04", "c05")
EVENT_TYPES = (
    "ad_click",
    "test_drive",
    "order",
    "delivery",
    "charging_session",
    "nps_response",
    "service_visit",
    "purchase",
    "visit",
)
CHANNELS = ("search", "store", "home", "fast", "app", None)
MINUTES_PER_DAY = 24 * 60
LOG_END = CUTOFF + pd.Timedelta(days=400)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _event(before: bool):
    # offsets in minutes; 0 is exactly the cutoff, which counts as "after"
    offsets = (
        st.integers(-500 * MINUTES_PER_DAY, -1) | st.just(-1)
        if before
        else st.integers(0, 399 * MINUTES_PER_DAY) | st.just(0)
    )
    return st.tuples(
        st.sampled_from(CUSTOMERS + (() if before else ("late1", "late2"))),
        offsets,
        st.sampled_from(EVENT_TYPES + (() if before else ("brand_new_type",))),
        st.sampled_from(CHANNELS + (() if before else ("new_channel",))),
        st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False), st.integers(0, 10)),
    )


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(schema.EVENT_COLUMNS))
    frame[schema.TIME_COL] = (
        CUTOFF + pd.to_timedelta(frame[schema.TIME_COL].astype("int64"), unit="min")
    ).astype("datetime64[us]")
    frame[schema.ID_COL] = frame[schema.ID_COL].astype("str")
    frame[schema.EVENT_TYPE_COL] = frame[schema.EVENT_TYPE_COL].astype("str")
    frame[schema.CHANNEL_COL] = frame[schema.CHANNEL_COL].astype("str")
    frame[schema.AMOUNT_COL] = pd.to_numeric(frame[schema.AMOUNT_COL]).astype("float64")
    return frame


@pytest.fixture(scope="module")
def customers(nev_customers) -> pd.DataFrame:
    """Leads of ``CUSTOMERS`` created long before the cutoff, two late leads at or after it."""
    customers = nev_customers.iloc[:5].copy()
    customers["customer_id"] = list(CUSTOMERS)
    customers["lead_created_at"] = CUTOFF - pd.Timedelta(days=600)
    late = customers.iloc[:2].copy()
    late["customer_id"] = ["late1", "late2"]
    late["lead_created_at"] = [CUTOFF, CUTOFF + pd.Timedelta(days=3)]
    return pd.concat([customers, late], ignore_index=True)


@settings(SETTINGS, max_examples=20)
@given(
    past=st.lists(_event(before=True), min_size=1, max_size=30),
    future_a=st.lists(_event(before=False), max_size=30),
    future_b=st.lists(_event(before=False), max_size=30),
    with_customers=st.booleans(),
)
def test_features_ignore_events_at_or_after_cutoff(
    customers, past, future_a, future_b, with_customers
):
    """Adding, removing or altering events at/after the cutoff leaves every feature unchanged."""
    attributes = customers if with_customers else None
    baseline = build_features(_frame(past), CUTOFF, attributes)
    changed_a = build_features(_frame(past + future_a), CUTOFF, attributes)
    changed_b = build_features(_frame(future_b + past), CUTOFF, attributes)
    pd.testing.assert_frame_equal(baseline, changed_a)
    pd.testing.assert_frame_equal(baseline, changed_b)


def _skeleton_conversion(events: pd.DataFrame) -> pd.DataFrame:
    """Post-cutoff events plus one pre-cutoff event per customer that keeps membership."""
    before = events[events["ts"] < CUTOFF]
    after = events[events["ts"] >= CUTOFF]
    rows = []
    for cid, group in before.groupby("customer_id"):
        kind = "order" if (group["event_type"] == "order").any() else "ad_click"
        rows.append((cid, CUTOFF - pd.Timedelta(days=1), kind, "search", np.nan))
    skeleton = pd.DataFrame(rows, columns=list(schema.EVENT_COLUMNS))
    return pd.concat([skeleton.astype(after.dtypes), after], ignore_index=True)


def _skeleton_churn(events: pd.DataFrame, lookback_days: int) -> pd.DataFrame:
    before = events[events["ts"] < CUTOFF]
    after = events[events["ts"] >= CUTOFF]
    start = CUTOFF - pd.Timedelta(days=lookback_days)
    rows = []
    for cid, group in before.groupby("customer_id"):
        stamp = (
            CUTOFF - pd.Timedelta(days=1)
            if (group["ts"] >= start).any()
            else start - pd.Timedelta(days=3)
        )
        rows.append((cid, stamp, "visit", "web", 1.0))
    skeleton = pd.DataFrame(rows, columns=list(schema.EVENT_COLUMNS))
    return pd.concat([skeleton.astype(after.dtypes), after], ignore_index=True)


@SETTINGS
@given(
    past=st.lists(_event(before=True), min_size=1, max_size=30),
    future=st.lists(_event(before=False), max_size=30),
    horizon=st.integers(1, 300),
)
def test_conversion_labels_ignore_the_past_except_membership(past, future, horizon):
    events = _frame(past + future + [("c01", 0, "order", "store", 1.0)])
    full = conversion_labels(events, CUTOFF, horizon, log_end=LOG_END)
    reduced = conversion_labels(_skeleton_conversion(events), CUTOFF, horizon, log_end=LOG_END)
    pd.testing.assert_frame_equal(full.labels, reduced.labels)


@SETTINGS
@given(
    past=st.lists(_event(before=True), min_size=1, max_size=30),
    future=st.lists(_event(before=False), max_size=30),
    horizon=st.integers(1, 300),
    lookback=st.integers(1, 200),
)
def test_churn_labels_ignore_the_past_except_membership(past, future, horizon, lookback):
    events = _frame(past + future)
    events = events.assign(event_type="visit")  # generic log: population = active customers
    full = churn_labels(events, CUTOFF, horizon, lookback, log_end=LOG_END)
    reduced = churn_labels(
        _skeleton_churn(events, lookback), CUTOFF, horizon, lookback, log_end=LOG_END
    )
    pd.testing.assert_frame_equal(full.labels, reduced.labels)


@SETTINGS
@given(
    past=st.lists(_event(before=True), min_size=1, max_size=30),
    future=st.lists(_event(before=False), max_size=30),
    beyond=st.lists(_event(before=False), max_size=10),
)
def test_labels_ignore_events_after_the_horizon(past, future, beyond):
    horizon = 60
    in_window = [e for e in future if e[1] < horizon * MINUTES_PER_DAY]
    later = [(c, horizon * MINUTES_PER_DAY + o, t, ch, v) for c, o, t, ch, v in beyond]
    base = _frame(past + in_window + [("c01", 0, "order", "store", 1.0)])
    more = _frame(past + in_window + later + [("c01", 0, "order", "store", 1.0)])
    for make in (
        lambda e: conversion_labels(e, CUTOFF, horizon, log_end=LOG_END),
        lambda e: churn_labels(e, CUTOFF, horizon, 90, log_end=LOG_END),
    ):
        pd.testing.assert_frame_equal(make(base).labels, make(more).labels)


FEATURE_SOURCES = (
    "data/eventlog.py",
    "data/eventlog_base.py",
    "data/eventlog_parquet.py",
    "data/eventlog_text.py",
    "table/aggregate.py",
    "table/build.py",
    "table/derive.py",
    "table/labels.py",
    "table/processed.py",
    "table/registry.py",
    "table/snapshots.py",
)


def test_feature_code_never_mentions_the_evaluation_table():
    package = Path(features.__file__).parent
    for name in FEATURE_SOURCES:
        text = (package / name).read_text()
        assert not re.search("truth", text, flags=re.IGNORECASE), name
        assert "TRUTH_" not in text, name


@SETTINGS
@given(
    past=st.lists(_event(before=True), min_size=1, max_size=30),
    future_a=st.lists(_event(before=False), max_size=30),
    future_b=st.lists(_event(before=False), max_size=30),
)
def test_populations_are_decided_before_the_cutoff(past, future_a, future_b):
    """Post-cutoff events may change labels but never who is in a population."""
    order = [("c01", 0, "order", "store", 1.0)]
    for make in (
        lambda e: conversion_labels(e, CUTOFF, 30, log_end=LOG_END),
        lambda e: churn_labels(e, CUTOFF, 30, 90, log_end=LOG_END),
        lambda e: churn_labels(e.assign(event_type="visit"), CUTOFF, 30, 90, log_end=LOG_END),
    ):
        ids_a = make(_frame(past + future_a + order)).labels["customer_id"]
        ids_b = make(_frame(past + future_b + order)).labels["customer_id"]
        pd.testing.assert_series_equal(ids_a, ids_b)
