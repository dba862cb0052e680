"""Every emitted feature is described once, in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.table import registry
from features.table.build import build_features
from features.table.registry import (
    REGISTRY_VERSION,
    describe_feature,
    feature_registry,
    feature_registry_for,
)

CUTOFF = pd.Timestamp("2025-07-01")


def test_registry_table_shape_and_uniqueness():
    table = feature_registry()
    assert list(table.columns) == ["name", "meaning", "source", "window"]
    assert table["name"].is_unique
    assert (table["meaning"].str.len() > 5).all()
    assert table.notna().all().all()
    assert isinstance(REGISTRY_VERSION, str) and REGISTRY_VERSION


def test_every_nev_column_is_in_the_registry(nev_events, nev_customers):
    table = build_features(nev_events, CUTOFF, nev_customers)
    names = set(feature_registry()["name"])
    missing = [c for c in table.columns if c != "customer_id" and c not in names]
    assert not missing
    persona = [c for c in table.columns if c.startswith("persona_dim_")]
    assert len(persona) == 6


def test_every_generic_column_is_described(events_frame):
    rows = [
        ("a", "2025-06-01 10:00:00", "Bought Online", "Web Shop", 3.0),
        ("a", "2025-06-02 10:00:00", "refund", "web shop", -3.0),
    ]
    table = build_features(events_frame(rows), CUTOFF, windows=(14, 60))
    for column in table.columns[1:]:
        assert describe_feature(column)
    assert "evt_bought_online_count" in table
    assert "chn_web_shop_share" in table  # "Web Shop" and "web shop" share one column
    assert table["chn_web_shop_share"].iloc[0] == 1.0
    assert describe_feature("n_events_14d") == "number of events in the last 14 days"
    rows = feature_registry_for(table.columns)
    assert list(rows["name"]) == list(table.columns[1:])
    assert rows.set_index("name").loc["evt_refund_share", "source"] == "events: refund"
    assert rows.set_index("name").loc["active_days_60d", "window"] == "last 60 days"


def test_plain_words_for_explanations():
    assert describe_feature("evt_test_drive_days_since_last") == "days since last test drive"
    assert describe_feature("evt_store_visit_count") == "number of store visit events"
    assert "funnel" in describe_feature("funnel_depth")


def test_unknown_feature_raises():
    with pytest.raises(KeyError, match="not a feature"):
        describe_feature("customer_name")
    with pytest.raises(KeyError, match="not a feature"):
        describe_feature("evt_test_drive_count_30d")  # per-type windows are 90 days


def test_slugify():
    assert registry.slugify(" Test Drive ") == "test_drive"
    assert registry.slugify("???") == "blank"
    assert registry.slugify(np.int64(5)) == "5"
