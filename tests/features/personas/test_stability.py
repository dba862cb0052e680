"""Tests for features.personas.stability: bootstrap agreement and truth comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.personas.clustering import ClusterSpec, assign_personas, fit_clusterer
from features.personas.stability import bootstrap_stability, compare_with_truth


def test_bootstrap_stability_is_high_for_true_k_and_lower_for_wrong_k(matrix):
    good = bootstrap_stability(matrix.values, 3, "kmeans", 4, seed=0, reference_size=100)
    assert good.n_bootstrap == 4
    assert len(good.pairwise_ari) == 6
    assert good.reference_size == 100
    assert good.min > 0.95 and not good.warn
    # Uniform noise has no cluster structure: refits disagree.
    noise = np.random.default_rng(0).uniform(size=(300, 6))
    bad = bootstrap_stability(noise, 6, ClusterSpec("kmeans", n_init=1), 4, seed=0)
    assert bad.mean < good.mean
    assert bad.warn == (bad.mean < 0.8)


def test_bootstrap_stability_needs_two_refits(matrix):
    with pytest.raises(ValueError, match="at least 2 refits"):
        bootstrap_stability(matrix.values, 3, "kmeans", 1)


def test_compare_with_truth_perfect_and_shuffled(blobs, matrix):
    features, truth = blobs
    model = fit_clusterer(matrix.values, 3, "gmm")
    assigned = assign_personas(model, matrix.values, features["customer_id"])
    found = assigned.set_index("customer_id")["persona_id"]
    result = compare_with_truth(found, truth)
    assert result.ari == pytest.approx(1.0)
    assert result.n_customers == 180
    assert int(result.confusion.to_numpy().sum()) == 180
    assert sorted(result.best_match.values()) == ["family", "tech", "wealthy"]
    shuffled = pd.Series(np.random.default_rng(0).permutation(truth.to_numpy()), truth.index)
    assert compare_with_truth(found, shuffled).ari < 0.1


def test_compare_with_truth_requires_overlap():
    with pytest.raises(ValueError, match="no customer_id in common"):
        compare_with_truth(pd.Series([1], index=["a"]), pd.Series(["x"], index=["b"]))
