"""Tests of the data steps against the real dataset, validation and processed-table code."""

from __future__ import annotations

from pathlib import Path

import pytest

from features import config
from features.pipeline import steps
from features.pipeline.params import DataSettings


def test_validate_lists_the_first_violations(tmp_path: Path):
    with pytest.raises(ValueError, match=r"violation\(s\): manifest: manifest_present"):
        steps.validate(tmp_path)


def test_data_steps_build_a_tiny_dataset_and_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(config.DATA_ROOT_ENV, str(tmp_path / "data"))
    settings = DataSettings(n_customers=200, seed=1, min_class_count=1)
    dataset = steps.dataset(settings)
    assert dataset.is_relative_to(config.raw_dir()) and dataset.is_dir()
    assert steps.dataset(settings) == dataset  # reused, not generated again
    steps.validate(dataset)
    processed = steps.features(dataset, settings)
    assert processed.is_relative_to(config.processed_dir()) and processed.is_dir()
