"""Tests for features.personas.mixture: the latent class model on mixed data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from features import personas
from features.personas.clustering import ClusterSpec, fit_clusterer
from features.personas.matrix import PersonaColumns, prepare_persona_matrix
from features.personas.mixture import SKOPS_TRUSTED_TYPES, LatentClassMixture
from features.personas.selection import choose_k, score_k_range
from features.personas.stability import bootstrap_stability


def test_latent_class_mixture_recovers_categorical_classes():
    # Two classes that differ only in their categories; the numeric column is pure noise.
    rng = np.random.default_rng(3)
    n = 600
    truth = rng.integers(0, 2, n)
    p_first = np.where(truth == 0, 0.85, 0.1)
    colour = np.where(rng.random(n) < p_first, "red", "blue")
    size = np.where(rng.random(n) < p_first, "small", "large")
    frame = pd.DataFrame(
        {
            "persona_dim_noise": rng.normal(0, 1, n) * 5,
            "colour": colour,
            "size": size,
        }
    )
    columns = PersonaColumns(numeric=("persona_dim_noise",), nominal=("colour", "size"))
    matrix = prepare_persona_matrix(frame, columns)
    model = fit_clusterer(
        matrix.values, 2, "latent_class", seed=0, categorical_blocks=matrix.categorical_blocks
    )
    found = model.predict(matrix.values)
    assert adjusted_rand_score(truth, found) > 0.5
    probabilities = model.predict_proba(matrix.values)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert np.array_equal(probabilities.argmax(axis=1), found)
    assert model.cluster_centers_.shape == (2, matrix.values.shape[1])
    assert model.n_parameters() == 1 + 2 * 2 * 1 + 2 * (1 + 1)
    assert np.isfinite(model.bic(matrix.values))
    assert model.converged_


def test_latent_class_mixture_fits_blobs_through_the_common_api(matrix):
    spec = ClusterSpec("latent_class", categorical_blocks=matrix.categorical_blocks)
    curves = score_k_range(matrix.values, 2, 4, spec, sample_size=120)
    assert choose_k(curves, "latent_class").k == 3
    stability = bootstrap_stability(matrix.values, 3, spec, 3)
    assert stability.mean > 0.95


def test_latent_class_mixture_keeps_its_logged_class_path():
    # Logged persona models name this class path (skops trusted type); it must keep loading.
    assert LatentClassMixture.__module__ == "features.personas"
    assert personas.LatentClassMixture is LatentClassMixture
    assert "features.personas.LatentClassMixture" in SKOPS_TRUSTED_TYPES
