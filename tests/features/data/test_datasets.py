"""The synthetic dataset is generated once and reused; mismatched parameters are refused."""

from __future__ import annotations

import json

import pytest

from features import config
from features.data.datasets import ensure_synthetic_dataset, synthetic_dataset_dir


def test_generates_once_then_reuses(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(config.DATA_ROOT_ENV, str(tmp_path))
    folder = ensure_synthetic_dataset(200, seed=3)
    assert folder == tmp_path / "raw" / "synthetic_n200_s3"
    stamp = (folder / "events.parquet").stat().st_mtime_ns
    assert ensure_synthetic_dataset(200, seed=3) == folder
    assert (folder / "events.parquet").stat().st_mtime_ns == stamp


def test_refuses_folder_with_other_parameters(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(config.DATA_ROOT_ENV, str(tmp_path))
    ensure_synthetic_dataset(200, seed=3, end="2025-06-30")
    assert synthetic_dataset_dir(200, 3).is_dir()
    with pytest.raises(ValueError, match="other generator parameters"):
        ensure_synthetic_dataset(200, seed=3)


def test_refuses_dataset_of_another_generator_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv(config.DATA_ROOT_ENV, str(tmp_path))
    folder = ensure_synthetic_dataset(200, seed=3)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["generator_version"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="generator version"):
        ensure_synthetic_dataset(200, seed=3)
