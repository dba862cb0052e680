"""Tests for features.personas.clustering: fitting clusterers and assigning personas by size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.personas.clustering import assign_personas, fit_clusterer


def test_fit_clusterer_needs_more_rows_than_clusters():
    with pytest.raises(ValueError, match="need more rows than clusters"):
        fit_clusterer(np.zeros((3, 2)), 3, "kmeans")
    with pytest.raises(ValueError, match="must be >= 2"):
        fit_clusterer(np.zeros((30, 2)), 1, "kmeans")


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_assign_personas_numbers_by_size(blobs, matrix, method):
    features, truth = blobs
    keep = np.r_[0:180][
        ~((truth.to_numpy() == "wealthy") & (np.arange(180) % 3 == 0))
    ]  # make the wealthy group the smallest
    values = matrix.values[keep]
    model = fit_clusterer(values, 3, method, seed=0)
    assigned = assign_personas(model, values, features["customer_id"].iloc[keep])
    assert list(assigned.columns) == [
        "customer_id",
        "cluster_index",
        "persona_id",
        "membership_probability",
        "centroid_distance",
    ]
    sizes = assigned["persona_id"].value_counts().sort_index()
    assert list(sizes.index) == [1, 2, 3]
    assert sizes.is_monotonic_decreasing
    smallest = assigned.loc[assigned["persona_id"] == 3, "customer_id"]
    assert set(truth.loc[smallest]) == {"wealthy"}
    assert (assigned["centroid_distance"] >= 0).all()
    if method == "gmm":
        assert assigned["membership_probability"].between(0, 1).all()
        assert assigned["membership_probability"].min() > 0.9
    else:
        assert assigned["membership_probability"].isna().all()


def test_assign_personas_checks_lengths(matrix):
    model = fit_clusterer(matrix.values, 3, "kmeans")
    with pytest.raises(ValueError, match="customer_ids: 2 rows"):
        assign_personas(model, matrix.values, pd.Series(["a", "b"]))
