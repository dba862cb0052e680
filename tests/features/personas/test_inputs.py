"""Tests for features.personas.inputs: orders, populations, model lines and reading a dataset."""

from __future__ import annotations

import pandas as pd
import pytest

from features.personas.inputs import (
    latest_model_line,
    load_persona_data,
    read_orders,
    select_population,
)


def test_read_orders_reads_three_columns_or_none(tmp_path):
    assert read_orders(tmp_path) is None
    orders = pd.DataFrame(
        {
            "customer_id": ["a"],
            "order_ts": pd.to_datetime(["2025-01-01"]),
            "model_line": ["city_mini"],
            "price": [100_000.0],
        }
    )
    orders.to_parquet(tmp_path / "orders.parquet")
    assert list(read_orders(tmp_path).columns) == ["customer_id", "order_ts", "model_line"]
    orders.drop(columns="model_line").to_parquet(tmp_path / "orders.parquet")
    with pytest.raises(ValueError, match="column 'model_line' missing"):
        read_orders(tmp_path)


def test_select_population_uses_owner_and_order_columns():
    features = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "is_owner": [1, 0, 0],
            "evt_order_count": [1, 1, 0],
        }
    )
    assert select_population(features, "all")["customer_id"].tolist() == ["a", "b", "c"]
    assert select_population(features, "owners")["customer_id"].tolist() == ["a"]
    assert select_population(features, "leads")["customer_id"].tolist() == ["c"]
    with pytest.raises(ValueError, match="column 'is_owner' missing"):
        select_population(features.drop(columns="is_owner"), "owners")
    with pytest.raises(ValueError, match="no customer in population 'leads'"):
        select_population(features.head(2), "leads")
    with pytest.raises(ValueError, match="must be one of all, leads, owners"):
        select_population(features, "fans")


def test_latest_model_line_ignores_orders_at_or_after_cutoff():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "order_ts": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-07-01", "2025-06-30"]),
            "model_line": ["city_mini", "family_suv_7seat", "premium_sedan", "compact_sedan"],
        }
    )
    lines = latest_model_line(orders, "2025-07-01")
    assert lines.to_dict() == {"a": "family_suv_7seat", "c": "compact_sedan"}
    with pytest.raises(ValueError, match="orders: column 'model_line' missing"):
        latest_model_line(orders.drop(columns="model_line"), "2025-07-01")


@pytest.mark.parametrize("population", ["all", "leads", "owners"])
def test_load_persona_data_reads_features_labels_orders_and_truth(tiny_dataset, population):
    data = load_persona_data(str(tiny_dataset), 800, 5, "2025-07-01", population)
    features = data.features
    assert features["customer_id"].is_unique and len(features) > 0
    assert not {"full_name", "phone"} & set(features.columns)
    if population == "owners":
        assert (features["is_owner"] == 1).all()
    if population == "leads":
        assert (features["evt_order_count"].fillna(0) == 0).all()
    assert set(data.conversion.unique()) <= {0, 1} and set(data.churn.unique()) <= {0, 1}
    # Model lines come only from orders before the cutoff: leads have none.
    with_line = data.model_line.reindex(features["customer_id"]).notna()
    assert with_line.sum() == (features["evt_order_count"].fillna(0) > 0).sum()
    assert data.truth.reindex(features["customer_id"]).notna().all()
    assert len(data.data_hash) == 64 and "events.parquet" in data.input_hashes
    assert data.notes == []
