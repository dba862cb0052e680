"""Processed output: minimum-data gate, layout, reproducibility, atomicity and privacy."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from features import schema
from features.table import registry
from features.table.build import build_features
from features.table.labels import HorizonError, churn_labels, conversion_labels
from features.table.processed import (
    InsufficientDataError,
    build_processed,
    check_min_class_count,
    main,
    write_processed,
)

CUTOFF = pd.Timestamp("2025-07-01")


@pytest.fixture
def label_sets(nev_events, nev_customers):
    return {
        "conversion": conversion_labels(nev_events, CUTOFF, 90, nev_customers),
        "churn": churn_labels(nev_events, CUTOFF, 180, 90, nev_customers),
    }


def test_gate_names_population_cutoff_and_counts(label_sets):
    labels = label_sets["conversion"]
    check_min_class_count(labels, min_count=2)
    with pytest.raises(
        InsufficientDataError,
        match=r"^conversion population at 2025-07-01: 2 positives < 3 required; lower "
        r"min_class_count or use more data$",
    ):
        check_min_class_count(labels, min_count=3)
    frame = pd.DataFrame({"customer_id": list("abcd"), "label": [1, 1, 1, 0]})
    with pytest.raises(InsufficientDataError, match="test set: 1 negatives < 2 required"):
        check_min_class_count(frame, min_count=2, name="test set")


def test_default_gate_is_500_of_each_class(label_sets):
    with pytest.raises(InsufficientDataError, match="< 500 required"):
        check_min_class_count(label_sets["churn"])


def test_write_processed_layout_and_metadata(tmp_path, label_sets, nev_events, nev_customers):
    features = build_features(nev_events, CUTOFF, nev_customers)
    folder = write_processed(
        "tiny",
        "2025-07-01",
        features,
        label_sets,
        {"input_sha256": {"events.parquet": "ab" * 32}},
        root=tmp_path,
    )
    assert folder == tmp_path / "tiny" / "2025-07-01"
    assert sorted(p.name for p in folder.iterdir()) == [
        "features.parquet",
        "labels_churn.parquet",
        "labels_conversion.parquet",
        "metadata.json",
    ]
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["cutoff"] == "2025-07-01"
    assert metadata["feature_registry_version"] == registry.REGISTRY_VERSION
    assert metadata["horizons_days"] == {"churn": 180, "conversion": 90}
    assert metadata["populations"]["conversion"]["positive_rate"] == 0.5
    assert metadata["populations"]["churn"]["size"] == 4
    assert metadata["input_sha256"] == {"events.parquet": "ab" * 32}
    round_trip = pd.read_parquet(folder / "features.parquet")
    pd.testing.assert_frame_equal(round_trip, features)
    assert not any(p.name.startswith(".") for p in folder.parent.iterdir())


def test_identical_inputs_give_identical_bytes(tmp_path, label_sets, nev_events, nev_customers):
    features = build_features(nev_events, CUTOFF, nev_customers)
    outputs = []
    for root in (tmp_path / "one", tmp_path / "two"):
        folder = write_processed("tiny", CUTOFF, features, label_sets, {}, root=root)
        outputs.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    assert outputs[0] == outputs[1]


def test_write_rejects_mismatched_cutoff_and_bad_name(
    tmp_path, label_sets, nev_events, nev_customers
):
    features = build_features(nev_events, CUTOFF, nev_customers)
    with pytest.raises(ValueError, match="differs from 2025-06-01"):
        write_processed("tiny", "2025-06-01", features, label_sets, {}, root=tmp_path)
    with pytest.raises(ValueError, match="plain folder name"):
        write_processed("../up", CUTOFF, features, label_sets, {}, root=tmp_path)
    assert not list(tmp_path.iterdir())


def _all_processed_text(folder) -> str:
    """Bytes of every file plus the decoded cells and names of every Parquet table."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
            if path.suffix == ".parquet":
                table = pd.read_parquet(path)
                parts.append(" ".join(map(str, table.columns)))
                parts.append(table.astype("str").to_csv())
    return "\n".join(parts)


def test_build_processed_end_to_end_without_personal_fields_or_truth(
    tmp_path, capsys, raw_dataset, personal_values, truth_marker
):
    raw = raw_dataset
    folder = build_processed(
        raw, "2025-07-01", 90, 180, 90, min_class_count=2, root=tmp_path / "processed"
    )
    progress = capsys.readouterr().out
    assert "building features at 2025-07-01" in progress and "wrote" in progress
    metadata = json.loads((folder / "metadata.json").read_text())
    assert set(metadata["input_sha256"]) == {"events.parquet", "customers.parquet", "manifest.json"}
    assert metadata["populations"]["conversion"]["n_positive"] == 2
    text = _all_processed_text(folder)
    for secret in (*personal_values, truth_marker, *schema.PERSONAL_FIELDS):
        assert secret not in text, secret
    # the scan itself can see a planted name: it is not blind to compressed Parquet
    planted = tmp_path / "planted"
    planted.mkdir()
    pd.DataFrame({"x": [personal_values[0]]}).to_parquet(planted / "p.parquet")
    assert personal_values[0] in _all_processed_text(planted)


def test_gate_failure_writes_nothing(tmp_path, raw_dataset):
    raw = raw_dataset
    with pytest.raises(InsufficientDataError, match="conversion population at 2025-07-01"):
        build_processed(
            raw, "2025-07-01", 90, 180, 90, min_class_count=3, root=tmp_path / "processed"
        )
    assert not (tmp_path / "processed").exists()


def test_horizon_beyond_log_is_reported(tmp_path, raw_dataset):
    raw = raw_dataset
    with pytest.raises(HorizonError, match="the log ends at"):
        build_processed(raw, "2025-07-01", 90, 365, 90, min_class_count=2, root=tmp_path)


def test_command_line_exit_codes(tmp_path, capsys, raw_dataset):
    raw = raw_dataset
    out = tmp_path / "processed"
    assert (
        main([str(raw), "--cutoff", "2025-07-01", "--min-class-count", "2", "--out-root", str(out)])
        == 0
    )
    assert (out / "tiny" / "2025-07-01" / "metadata.json").exists()
    assert main([str(raw), "--cutoff", "2025-07-01", "--out-root", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: conversion population at 2025-07-01: 2 positives < 500 required; "
        "lower min_class_count or use more data"
    ]
    assert main([str(tmp_path / "missing"), "--out-root", str(out)]) == 2
