"""The DuckDB check of the events file reports exactly what the pandas checks report."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import schema
from features.data.synth import generate_dataset
from features.data.validate import _duckdb_events_ok, validate_dataset

from .test_validate import BROKEN, _broken_copy, _first_where, _set


@pytest.fixture(scope="module")
def clean_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_dataset(300, seed=3, out=tmp_path_factory.mktemp("raw") / "ds")


def _events_breaker(df: pd.DataFrame) -> pd.DataFrame:
    """Many rules broken at once, at several rows each."""
    df = df.copy()
    df["customer_id"] = df["customer_id"].astype(object)
    df.loc[df.index[3:6], "customer_id"] = "c0000001"  # pattern (lower case)
    df.loc[df.index[7], "customer_id"] = "C\u0661\u0662\u0663\u0664\u0665\u0666\u0667"  # re \d
    df.loc[df.index[8], "customer_id"] = None
    df["value"] = df["value"].astype("float64")
    df.loc[df.index[10:12], "value"] = -np.inf
    df.loc[df.index[12], "value"] = np.nan
    df["event_type"] = df["event_type"].astype(object)
    df.loc[df.index[20:24], "event_type"] = ["teleport", "zap", "teleport", None]
    df["channel"] = df["channel"].astype(object)
    df.loc[df.index[30], "channel"] = None
    df.loc[df.index[40], "ts"] = pd.Timestamp("2040-01-01")
    df.loc[df.index[41], "ts"] = pd.NaT
    return df


def _unsorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.iloc[::-1]


def _extra_column(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(note="x")


def _nps_nan(df: pd.DataFrame) -> pd.DataFrame:
    df = _first_where("event_type", "nps_response", "value", np.nan)(df)
    return _first_where("event_type", "order", "value", np.nan)(df)


def _as_int_value(df: pd.DataFrame) -> pd.DataFrame:  # not the DuckDB path: pandas decides
    return df.assign(value=df["value"].fillna(0).astype("int64"))


def _empty(df: pd.DataFrame) -> pd.DataFrame:
    return df.head(0)


EXTRA = [
    ("events", _events_breaker),
    ("events", _unsorted),
    ("events", _extra_column),
    ("events", _nps_nan),
    ("events", _as_int_value),
    ("events", _empty),
    ("events", _set("ts", pd.Timestamp("2010-01-01"), rows=slice(0, 5))),
    ("customers", lambda df: df.assign(customer_id=df["customer_id"].where(df.index != 0))),
    ("truth", lambda df: df.assign(churn_ts=df["churn_ts"].fillna(pd.Timestamp("2024-06-01")))),
]


@pytest.mark.parametrize(
    ("table", "breaker"),
    [(t, b) for t, b, _ in BROKEN] + EXTRA,
    ids=[f"broken{i}" for i in range(len(BROKEN))] + [f"extra{i}" for i in range(len(EXTRA))],
)
def test_duckdb_events_check_equals_pandas(clean_dataset, tmp_path, table, breaker) -> None:
    folder = _broken_copy(clean_dataset, tmp_path, table, breaker)
    duck = validate_dataset(folder)
    assert duck == validate_dataset(folder, engine="pandas")
    if breaker in (_events_breaker, _unsorted, _nps_nan):
        assert duck  # something to compare


def test_duckdb_path_is_taken_for_generated_events(clean_dataset) -> None:
    from features.data.contracts import EVENTS

    assert _duckdb_events_ok(clean_dataset / "events.parquet", EVENTS)
    assert validate_dataset(clean_dataset) == validate_dataset(clean_dataset, engine="pandas") == []


def test_many_rules_broken_are_each_reported(clean_dataset, tmp_path) -> None:
    folder = _broken_copy(clean_dataset, tmp_path, "events", _events_breaker)
    rules = {(v.column, v.rule) for v in validate_dataset(folder)}
    for expected in [
        (schema.ID_COL, "not_null"),
        (schema.ID_COL, "pattern"),
        (schema.TIME_COL, "not_null"),
        (schema.EVENT_TYPE_COL, "category"),
        (schema.AMOUNT_COL, "range"),
        (schema.TIME_COL, "in_window"),
    ]:
        assert expected in rules


def test_unreadable_events_file_is_one_violation(clean_dataset, tmp_path) -> None:
    folder = tmp_path / "cut"
    shutil.copytree(clean_dataset, folder)
    path = folder / "events.parquet"
    path.write_bytes(path.read_bytes()[:-100])
    duck = validate_dataset(folder)
    assert duck == validate_dataset(folder, engine="pandas")
    assert any(v.rule == "readable" for v in duck)


def test_unknown_engine_is_refused(clean_dataset) -> None:
    with pytest.raises(ValueError, match="engine"):
        validate_dataset(clean_dataset, engine="spark")


@pytest.mark.parametrize(
    "breaker",
    [lambda df: df, _events_breaker, _unsorted, _nps_nan, _set("customer_id", "c1")],
    ids=["clean", "many", "unsorted", "nan", "pattern"],
)
def test_events_are_not_read_into_pandas(clean_dataset, tmp_path, monkeypatch, breaker) -> None:
    from features.data import validate

    folder = _broken_copy(clean_dataset, tmp_path, "events", breaker)
    expected = validate_dataset(folder, engine="pandas")
    original = validate.read_table

    def guarded(path, contract):
        assert path.name != "events.parquet", "events read into pandas"
        return original(path, contract)

    monkeypatch.setattr(validate, "read_table", guarded)
    assert validate_dataset(folder) == expected


def test_stored_pandas_index_is_not_a_column(clean_dataset, tmp_path) -> None:
    folder = tmp_path / "indexed"
    shutil.copytree(clean_dataset, folder)
    path = folder / "events.parquet"
    events = pd.read_parquet(path)
    events.index = pd.Index(range(5, len(events) + 5), name="row")
    events.to_parquet(path)  # the index is stored, pandas reads it back as the index
    duck = validate_dataset(folder)
    assert duck == validate_dataset(folder, engine="pandas")
    assert not any(v.rule == "column_unexpected" for v in duck)
