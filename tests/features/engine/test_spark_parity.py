"""The feature table and the labels are the same on Spark as on DuckDB.

A seeded synthetic log of 2,000 customers plus planted edge cases: events exactly at the cutoff
and 1 µs before it, 23:59:59.999999, NULL and zero amounts, NULL channels, a customer with no
events, one-event customers (zero denominators), ties in time with different types and
channels, a NULL id. Integers and integral values must be equal exactly, other floats to 1e-9
relative, NULLs where NULLs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import schema
from features.table.build import build_features
from features.table.labels import churn_labels, conversion_labels, population_at
from features.table.snapshots import EventSource, load_snapshots

from .conftest import CUTOFF

pytestmark = pytest.mark.spark


def assert_same_table(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Same columns, dtypes and rows; integral values exact, floats to 1e-9, NULLs alike."""
    assert list(spark.columns) == list(duck.columns)
    assert spark.dtypes.astype(str).to_dict() == duck.dtypes.astype(str).to_dict()
    assert len(spark) == len(duck)
    for name in duck.columns:
        a, b = duck[name], spark[name]
        if not pd.api.types.is_float_dtype(a):
            assert (
                a.astype("object").where(a.notna()).equals(b.astype("object").where(b.notna()))
            ), name
            continue
        x, y = a.to_numpy(), b.to_numpy()
        assert np.array_equal(np.isnan(x), np.isnan(y)), f"{name}: NULLs differ"
        x, y = x[~np.isnan(x)], y[~np.isnan(y)]
        if np.all(x == np.round(x)):
            assert np.array_equal(x, y), f"{name}: integral values differ"
        else:
            np.testing.assert_allclose(y, x, rtol=1e-9, atol=0, err_msg=name)


def test_feature_table_is_the_same_on_both_engines(source: dict, spark) -> None:
    duck = build_features(source["path"], CUTOFF, customers=source["customers"])
    on_spark = build_features(
        source["path"], CUTOFF, customers=source["customers"], engine="spark", spark=spark
    )
    assert_same_table(duck, on_spark)
    rows = duck.set_index(schema.ID_COL)
    assert rows.loc["Z001", "n_events_total"] == 1  # the event at the cutoff is not an input
    assert rows.loc["Z002", "n_events_total"] == 4
    assert rows.loc["Z003", "n_events_total"] == 1
    assert rows.loc["Z009", "n_events_total"] == 0  # no events, still a row


def test_generic_log_features_are_the_same_on_both_engines(source: dict, spark) -> None:
    """A log without NEV types (the generic families) and without customers, from pandas."""
    events = source["events"]
    generic = events[events[schema.EVENT_TYPE_COL].isin(["ad_click", "content_view"])].copy()
    generic[schema.AMOUNT_COL] = generic[schema.AMOUNT_COL].fillna(0.0)
    duck = build_features(generic, CUTOFF)
    on_spark = build_features(generic, CUTOFF, engine="spark", spark=spark)
    assert_same_table(duck, on_spark)


def test_labels_and_populations_are_the_same_on_both_engines(source: dict, spark) -> None:
    path, customers = source["path"], source["customers"]
    for make in (
        lambda **kw: conversion_labels(path, CUTOFF, 60, customers, **kw).labels,
        lambda **kw: churn_labels(path, CUTOFF, 60, 90, customers, **kw).labels,
        lambda **kw: population_at("conversion", path, CUTOFF, customers=customers, **kw)[0],
        lambda **kw: population_at("churn", path, CUTOFF, customers=customers, **kw)[0],
    ):
        duck = make()
        assert not duck.empty
        pd.testing.assert_frame_equal(make(engine="spark", spark=spark), duck)
    labels = conversion_labels(path, CUTOFF, 60, customers).labels.set_index(schema.ID_COL)
    assert "Z005" not in labels.index  # ordered before the cutoff: not an open lead
    assert labels.loc["Z009", "label"] == 0


def test_a_spark_run_builds_its_snapshot_on_spark_and_duckdb_reads_it(source, spark, tmp_path):
    dataset = EventSource(source["dataset"])
    built = load_snapshots(dataset, {CUTOFF: []}, root=tmp_path, engine="spark", spark=spark)
    snapshot = built[CUTOFF]
    assert snapshot.built and snapshot.metadata["engine"] == "spark"
    again = load_snapshots(dataset, {CUTOFF: []}, root=tmp_path)[CUTOFF]  # DuckDB reads it
    assert not again.built
    pd.testing.assert_frame_equal(again.features, snapshot.features)
    fresh = load_snapshots(dataset, {CUTOFF: []}, root=tmp_path / "duck")[CUTOFF]
    assert fresh.metadata["engine"] == "duckdb"
    assert_same_table(fresh.features, snapshot.features)


def test_unknown_engine_is_refused(source: dict) -> None:
    with pytest.raises(ValueError, match="engine 'polars'"):
        build_features(source["path"], CUTOFF, engine="polars")


def test_transpiled_sql_avoids_the_known_traps() -> None:
    """The portable forms of ``features.table.aggregate`` survive transpilation."""
    from features.engine.spark import to_spark_sql

    gap = to_spark_sql("SELECT date_diff('day', a, b) AS g FROM t")
    assert "DATEDIFF" in gap.upper()
    first = to_spark_sql("SELECT arg_min(v, (ts, v)) FILTER (WHERE v IS NOT NULL) FROM t")
    assert "MIN_BY" in first.upper() and "FILTER" in first.upper()
    assert "TIMESTAMP_NTZ" in to_spark_sql("SELECT TIMESTAMP '2025-01-01 00:00:00'")
