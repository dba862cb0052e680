"""A dataset folder's events counted by DuckDB: the same cleaning, sizes and features as pandas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.data import eventlog, eventlog_parquet
from features.data.eventlog import DataError, ParquetEvents, event_source, load_event_log
from features.table.build import build_features


def _eager(folder: Path, **options) -> tuple[pd.DataFrame, dict[str, int]]:
    """The pandas reading of the folder's events (what ``log.events`` materialises)."""
    opts = eventlog._Options(
        drop_zero_amounts=options.get("drop_zero_amounts", False),
        as_of=None if options.get("as_of") is None else pd.Timestamp(options["as_of"]),
    )
    return eventlog._read_dataset_events(folder / "events.parquet", opts)


def _awkward(events: pd.DataFrame) -> pd.DataFrame:
    """Every cleaning rule triggered: missing and blank ids, missing stamps, non-finite and
    zero amounts, blank types, leading zeros, duplicates next to each other and apart."""
    df = events.copy()
    df["customer_id"] = df["customer_id"].astype(object)
    df["event_type"] = df["event_type"].astype(object)
    df["value"] = df["value"].astype("float64")
    df.loc[df.index[1], "customer_id"] = None
    df.loc[df.index[2], "customer_id"] = " \u3000"
    df.loc[df.index[3], "ts"] = pd.NaT
    df.loc[df.index[4], "value"] = np.inf
    df.loc[df.index[5], "value"] = -np.inf
    df.loc[df.index[6], "value"] = 0.0
    df.loc[df.index[7], "value"] = -3.0
    df.loc[df.index[8], "event_type"] = None
    zero_padded = df.iloc[[9]].assign(customer_id="0" + str(df["customer_id"].iloc[9]))
    repeated = df.iloc[[10, 10, 12, 6, 8]]
    return pd.concat([df, zero_padded, repeated], ignore_index=True)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["customer_id", "ts"], kind="stable", na_position="first")


@pytest.fixture
def folder(raw_dataset: Path) -> Path:
    return raw_dataset


@pytest.mark.parametrize("order", ["as_written", "sorted", "sorted_small_row_groups"])
@pytest.mark.parametrize(
    "options",
    [{}, {"as_of": "2025-03-01"}, {"drop_zero_amounts": True}],
    ids=["default", "as_of", "drop_zero"],
)
def test_counts_sizes_and_features_equal_pandas(folder, order, options) -> None:
    path = folder / "events.parquet"
    events = _awkward(pd.read_parquet(path))
    if order != "as_written":
        events = _sorted(events)
    # Row groups of 7 rows: the parallel sorted pass joins its parts inside runs of rows.
    row_group_size = 7 if order == "sorted_small_row_groups" else None
    events.to_parquet(path, index=False, row_group_size=row_group_size)
    log = load_event_log(folder, verbose=False, **options)
    lazy = event_source(log)
    assert isinstance(lazy, ParquetEvents)
    frame, cleaning = _eager(folder, **options)
    assert log.cleaning == cleaning and list(log.cleaning) == list(cleaning)
    assert log.cleaning["duplicate_rows"] > 0
    assert lazy.n_events == len(frame) and log.n_customers == frame["customer_id"].nunique()
    summary = log.summary()
    from_file = build_features(log, "2025-04-01")
    pd.testing.assert_frame_equal(log.events, frame)  # materialised on demand
    assert event_source(log) is log.events
    assert log.summary() == summary
    pd.testing.assert_frame_equal(from_file, build_features(log, "2025-04-01"))


def test_generated_dataset_counts_equal_pandas(tmp_path) -> None:
    from features.data.synth import generate_dataset

    folder = generate_dataset(300, seed=5, out=tmp_path / "ds")
    log = load_event_log(folder, verbose=False)
    frame, cleaning = _eager(folder)
    assert log.cleaning == cleaning
    features = build_features(log, "2025-07-01")
    pd.testing.assert_frame_equal(log.events, frame)
    pd.testing.assert_frame_equal(features, build_features(log, "2025-07-01"))


def test_changed_file_is_refused(folder) -> None:
    log = load_event_log(folder, verbose=False)
    events = pd.read_parquet(folder / "events.parquet")
    events.iloc[:-1].to_parquet(folder / "events.parquet", index=False)
    with pytest.raises(DataError, match="changed since the event log was loaded"):
        build_features(log, "2025-04-01")


def test_assigned_events_replace_the_file(folder) -> None:
    log = load_event_log(folder, verbose=False)
    log.events = log.events.iloc[:3]
    assert event_source(log) is log.events and len(log.events) == 3


def test_other_types_take_the_pandas_reader(folder) -> None:
    path = folder / "events.parquet"
    events = pd.read_parquet(path)
    events.assign(ts=events["ts"].dt.tz_localize("UTC")).to_parquet(path, index=False)
    log = load_event_log(folder, verbose=False)
    assert isinstance(event_source(log), pd.DataFrame)


def test_no_usable_rows_is_refused(folder) -> None:
    path = folder / "events.parquet"
    events = pd.read_parquet(path)
    events.assign(customer_id=pd.Series([None] * len(events), dtype=object)).to_parquet(path)
    with pytest.raises(DataError, match="no usable rows after cleaning"):
        load_event_log(folder, verbose=False)


def test_copy_of_folder_reads_the_same(folder, tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert load_event_log(copy, verbose=False).cleaning == load_event_log(folder).cleaning


def test_eager_reading_gives_the_same_log(folder) -> None:
    lazy, eager = load_event_log(folder, verbose=False), load_event_log(folder, lazy=False)
    assert isinstance(event_source(lazy), ParquetEvents)
    assert isinstance(event_source(eager), pd.DataFrame)
    assert lazy.cleaning == eager.cleaning and lazy.summary() == eager.summary()
    pd.testing.assert_frame_equal(lazy.events, eager.events)


def test_sorted_pass_gives_the_same_counts_in_any_number_of_parts(folder) -> None:
    path = folder / "events.parquet"
    events = _sorted(_awkward(pd.read_parquet(path)))
    # Every row repeated: each boundary between row groups of 3 falls inside a run.
    events = _sorted(pd.concat([events, events], ignore_index=True))
    events.to_parquet(path, index=False, row_group_size=3)
    one = eventlog_parquet._ordered_runs(path, None, workers=1)
    assert one is not None and len(one[3]) > 0
    for workers in (2, 3, 5, 64):
        parts = eventlog_parquet._ordered_runs(path, None, workers=workers)
        assert parts is not None
        assert parts[:3] == one[:3]
        np.testing.assert_array_equal(parts[3], one[3])
    events.iloc[::-1].to_parquet(path, index=False, row_group_size=3)
    assert eventlog_parquet._ordered_runs(path, None, workers=3) is None
