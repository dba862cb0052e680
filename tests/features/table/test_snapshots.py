"""Processed snapshots: read when they fit, built once when not, identical either way."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd
import pytest

from features.data.eventlog import load_event_log
from features.data.synth import generate_dataset
from features.table import snapshots
from features.table.build import build_features
from features.table.labels import HorizonError, conversion_labels
from features.table.snapshots import EventSource, LabelSpec, load_snapshots

CUTOFF = pd.Timestamp("2025-07-01")
TRAIN = pd.Timestamp("2025-04-02")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate_dataset(800, 3, tmp_path_factory.mktemp("raw") / "synthetic_n800_s3")


def _requests():
    return {
        CUTOFF: [LabelSpec("conversion", 90), LabelSpec("churn", 180, 90)],
        TRAIN: [LabelSpec("conversion", 90)],
    }


def test_built_snapshots_equal_the_in_memory_tables(dataset, tmp_path):
    built = load_snapshots(dataset, _requests(), root=tmp_path)
    assert all(s.built for s in built.values())
    log = load_event_log(dataset, verbose=False)
    for cutoff, snapshot in built.items():
        expected = build_features(log.events, cutoff, customers=log.customers)
        pd.testing.assert_frame_equal(snapshot.features, expected, check_exact=True)
    labels = conversion_labels(log.events, TRAIN, 90, customers=log.customers)
    pd.testing.assert_frame_equal(built[TRAIN].labels["conversion"].labels, labels.labels)
    assert built[TRAIN].labels["conversion"].population == labels.population


def test_second_call_reads_and_gives_the_same_tables(dataset, tmp_path):
    first = load_snapshots(dataset, _requests(), root=tmp_path)
    second = load_snapshots(dataset, _requests(), root=tmp_path)
    assert not any(s.built for s in second.values())
    for cutoff in first:
        pd.testing.assert_frame_equal(first[cutoff].features, second[cutoff].features)
        assert first[cutoff].input_hashes == second[cutoff].input_hashes


def test_other_horizon_rebuilds_and_keeps_the_other_task(dataset, tmp_path):
    load_snapshots(dataset, _requests(), root=tmp_path)
    again = load_snapshots(dataset, {CUTOFF: [LabelSpec("conversion", 60)]}, root=tmp_path)
    assert again[CUTOFF].built
    metadata = json.loads((again[CUTOFF].path / "metadata.json").read_text())
    assert metadata["horizons_days"] == {"churn": 180, "conversion": 60}


def test_changed_input_or_registry_version_rebuilds(dataset, tmp_path, monkeypatch):
    load_snapshots(dataset, _requests(), root=tmp_path)
    monkeypatch.setattr(snapshots.registry, "REGISTRY_VERSION", "0.0.0-other")
    assert load_snapshots(dataset, _requests(), root=tmp_path)[CUTOFF].built


def test_event_log_file_is_keyed_by_name_and_content(dataset, tmp_path):
    events = pd.read_parquet(dataset / "events.parquet")
    path = tmp_path / "export.parquet"
    events.to_parquet(path)
    source = EventSource(path)
    name = source.dataset_name
    assert name.startswith("export-") and len(name) == len("export-") + 10
    snap = load_snapshots(source, {CUTOFF: []}, root=tmp_path / "processed")[CUTOFF]
    assert snap.path == tmp_path / "processed" / name / "2025-07-01"
    events.head(len(events) // 2).to_parquet(path)
    assert EventSource(path).dataset_name != name


def test_failed_gate_or_horizon_writes_nothing(dataset, tmp_path):
    def refuse(cutoff, label_set):
        raise ValueError(f"gate: {label_set.task}")

    with pytest.raises(ValueError, match="gate: conversion"):
        load_snapshots(dataset, _requests(), root=tmp_path, check=refuse)
    with pytest.raises(HorizonError):
        load_snapshots(dataset, {CUTOFF: [LabelSpec("churn", 900, 90)]}, root=tmp_path)
    assert not tmp_path.joinpath(dataset.name).exists()


def test_side_by_side_builds_keep_each_others_label_sets(dataset, tmp_path):
    # One build is held at its gate while another asks for a second task at the same cutoff;
    # the second must wait and then keep the first one's labels, not overwrite them.
    gate_reached, results = threading.Event(), {}

    def held(cutoff, label_set):
        gate_reached.set()
        time.sleep(1.0)

    def conversion():
        results["conversion"] = load_snapshots(
            dataset, {CUTOFF: [LabelSpec("conversion", 90)]}, root=tmp_path, check=held
        )

    first = threading.Thread(target=conversion)
    first.start()
    assert gate_reached.wait(60)
    results["churn"] = load_snapshots(
        dataset, {CUTOFF: [LabelSpec("churn", 180, 90)]}, root=tmp_path
    )
    first.join()
    assert set(results["conversion"][CUTOFF].labels) == {"conversion"}
    assert set(results["churn"][CUTOFF].labels) == {"churn"}
    stored = json.loads(
        (snapshots.processed_path(dataset.name, CUTOFF, tmp_path) / "metadata.json").read_text()
    )
    assert set(stored["populations"]) == {"conversion", "churn"}
