"""The pandera contracts: one declaration read by the column-wise validator and by pandera."""

from __future__ import annotations

import pandas as pd
import pytest

from features.data import contracts
from features.data.validate import main, validate_frame


def test_rules_are_read_from_the_models():
    events = contracts.CONTRACTS["events"]
    assert events.column("value") == contracts.ColumnRule(
        "value", "float", nullable=True, minimum=0
    )
    assert events.column("customer_id").pattern == contracts.CUSTOMER_ID_PATTERN
    assert contracts.CONTRACTS["customers"].unique_key == ("customer_id",)
    assert contracts.CONTRACTS["customers"].column("gender").categories == ("female", "male")


def test_pandera_checks_small_frames_with_counts():
    labels = pd.DataFrame({"customer_id": ["a", "a", "b"], "label": [0, 2, 1]})
    found = {(v.column, v.rule): v for v in validate_frame(labels, contracts.Labels, "labels")}
    assert found[("label", "isin((0, 1))")].examples == ("2",)
    assert found[("customer_id", "field_uniqueness")].message.startswith("2 failing values")


@pytest.fixture
def snapshot(tmp_path):
    folder = tmp_path / "snap"
    folder.mkdir()
    pd.DataFrame({"customer_id": ["a", "b"], "recency_days": [1.0, 2.0]}).to_parquet(
        folder / "features.parquet"
    )
    pd.DataFrame({"customer_id": ["a", "b"], "label": [0, 1]}).to_parquet(
        folder / "labels_churn.parquet"
    )
    return folder


def test_processed_snapshot_cli(snapshot, capsys):
    assert main([str(snapshot)]) == 0
    pd.DataFrame({"customer_id": ["a", "b"], "label": [0, 3], "phone": ["1", "2"]}).to_parquet(
        snapshot / "labels_churn.parquet"
    )
    assert main([str(snapshot)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "labels_churn.label: isin((0, 1)): 1 failing values of isin((0, 1)) (e.g. 3)" in lines
    assert any(line.startswith("labels_churn.phone: no_personal_fields") for line in lines)
