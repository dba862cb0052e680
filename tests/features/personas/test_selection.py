"""Tests for features.personas.selection: k-range scores, k-means BIC and the choice of k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.personas.clustering import fit_clusterer
from features.personas.selection import choose_k, kmeans_bic, score_k_range


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_score_k_range_prefers_three_blobs(matrix, method):
    curves = score_k_range(matrix.values, 2, 5, method, seed=1, sample_size=120)
    assert list(curves["k"]) == [2, 3, 4, 5]
    assert set(curves.columns) >= {
        "k",
        "silhouette",
        "bic",
        "inertia",
        "smallest_share",
        "stability_ari",
    }
    assert int(curves.loc[curves["silhouette"].idxmax(), "k"]) == 3
    assert int(curves.loc[curves["bic"].idxmin(), "k"]) >= 3
    assert curves.set_index("k").loc[3, "stability_ari"] > 0.95
    assert choose_k(curves, method).k == 3


def test_score_k_range_validates_range(matrix):
    with pytest.raises(ValueError, match="need 2 <= k_min <= k_max"):
        score_k_range(matrix.values, 1, 3, "kmeans")
    with pytest.raises(ValueError, match="must be one of kmeans, gmm, latent_class"):
        score_k_range(matrix.values, 2, 3, "dbscan")


def test_kmeans_bic_penalises_needless_clusters():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(400, 2))
    bics = {}
    for k in (1, 2, 6):
        labels = np.zeros(400, dtype=int) if k == 1 else None
        if k == 1:
            inertia = float(((values - values.mean(axis=0)) ** 2).sum())
        else:
            model = fit_clusterer(values, k, "kmeans")
            labels, inertia = model.labels_, float(model.inertia_)
        bics[k] = kmeans_bic(values, labels, inertia, k)
    assert bics[1] < bics[6]


def test_choose_k_breaks_near_ties_by_bic_and_skips_tiny_clusters():
    curves = pd.DataFrame(
        {
            "k": [2, 3, 4, 5],
            "silhouette": [0.40, 0.39, 0.30, 0.45],
            "bic": [900.0, 800.0, 700.0, 100.0],
            "inertia": np.nan,
            "smallest_share": [0.3, 0.2, 0.1, 0.001],
        }
    )
    choice = choose_k(curves, silhouette_tolerance=0.02, min_share=0.02)
    assert choice.k == 3
    assert choice.candidates == (2, 3)
    assert "lowest BIC" in choice.reason and "[5]" in choice.reason


def test_choose_k_keeps_stable_k_and_mixtures_follow_bic():
    curves = pd.DataFrame(
        {
            "k": [3, 4, 5, 6],
            "silhouette": [0.12, 0.11, 0.08, 0.06],
            "bic": [1000.0, 900.0, 800.0, 700.0],
            "inertia": np.nan,
            "smallest_share": 0.1,
            "stability_ari": [0.97, 0.95, 0.96, 0.7],
        }
    )
    mixture = choose_k(curves, "latent_class")
    assert mixture.k == 5
    assert "[6] had bootstrap ARI below 0.9" in mixture.reason
    assert choose_k(curves, "kmeans").k == 4
    unstable = curves.assign(stability_ari=0.5)
    assert choose_k(unstable, "gmm").k == 6
    assert "stability not used" in choose_k(unstable, "gmm").reason


def test_choose_k_needs_a_silhouette_for_kmeans():
    curves = pd.DataFrame(
        {"k": [2], "silhouette": [np.nan], "bic": [1.0], "inertia": [1.0], "smallest_share": [0.5]}
    )
    with pytest.raises(ValueError, match="no k has a silhouette"):
        choose_k(curves, "kmeans")
    assert choose_k(curves, "gmm").k == 2
