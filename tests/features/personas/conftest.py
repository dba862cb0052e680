"""Shared persona fixtures: three well separated customer blobs, their encoded matrix and
k-means profile, and a tiny synthetic dataset on disk (session-scoped: built once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.data.synth import generate_dataset
from features.personas.clustering import assign_personas, fit_clusterer
from features.personas.matrix import PersonaMatrix, prepare_persona_matrix, select_persona_columns
from features.personas.profiles import build_profile_frame, standardised_differences

BLOBS = {
    # name: (technology, family, wealth, age, children, income band, channel)
    "tech": (3.0, -1.0, 0.0, 26, 0, "middle", "short_video"),
    "family": (-1.0, 3.0, 0.0, 38, 2, "upper_middle", "store_walk_in"),
    "wealthy": (0.0, -1.0, 3.0, 48, 1, "high", "referral"),
}


def _make_blobs(n_per_blob: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Three well separated customer groups with named persona dimensions and attributes."""
    rng = np.random.default_rng(seed)
    frames, truth = [], []
    for name, (tech, family, wealth, age, children, income, channel) in BLOBS.items():
        frames.append(
            pd.DataFrame(
                {
                    "persona_dim_technology_acceptance": rng.normal(tech, 0.3, n_per_blob),
                    "persona_dim_lifestyle": rng.normal(family, 0.3, n_per_blob),
                    "persona_dim_consumption_behaviour": rng.normal(wealth, 0.3, n_per_blob),
                    "age": rng.normal(age, 2.0, n_per_blob).round(),
                    "children": np.full(n_per_blob, children),
                    "app_logins_90d": rng.poisson(20 if name == "tech" else 2, n_per_blob),
                    "income_band": [income] * n_per_blob,
                    "acquisition_channel": [channel] * n_per_blob,
                }
            )
        )
        truth += [name] * n_per_blob
    features = pd.concat(frames, ignore_index=True)
    features.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(features))])
    for column in ("income_band", "acquisition_channel"):
        features[column] = features[column].astype("category")
    order = rng.permutation(len(features))
    features = features.iloc[order].reset_index(drop=True)
    truth_series = pd.Series(np.asarray(truth)[order], index=features["customer_id"])
    return features, truth_series


@pytest.fixture(scope="session")
def blobs() -> tuple[pd.DataFrame, pd.Series]:
    """Feature table of 180 customers in three blobs and their true blob by customer_id."""
    return _make_blobs()


@pytest.fixture(scope="session")
def matrix(blobs) -> PersonaMatrix:
    """The blobs encoded with every kind of column (numeric, log, ordinal, nominal)."""
    features, _ = blobs
    columns = select_persona_columns(
        features,
        behaviour=["age", "children"],
        log_behaviour=["app_logins_90d"],
        ordinal=["income_band"],
        nominal=["acquisition_channel"],
    )
    return prepare_persona_matrix(features, columns)


@pytest.fixture(scope="session")
def profiled(blobs, matrix):
    """Blobs, k-means assignments, profile frame, differences and persona id by true blob."""
    features, truth = blobs
    model = fit_clusterer(matrix.values, 3, "kmeans", seed=0)
    assigned = assign_personas(model, matrix.values, features["customer_id"])
    profile = build_profile_frame(
        features,
        [
            "persona_dim_technology_acceptance",
            "persona_dim_lifestyle",
            "persona_dim_consumption_behaviour",
            "age",
            "children",
        ],
        ["income_band", "acquisition_channel"],
    )
    differences = standardised_differences(profile, assigned["persona_id"])
    by_truth = {
        truth.loc[cid]: pid
        for cid, pid in zip(assigned["customer_id"], assigned["persona_id"], strict=True)
    }
    return features, assigned, profile, differences, by_truth


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A generated synthetic dataset folder of 800 customers (seed 5)."""
    return generate_dataset(800, 5, tmp_path_factory.mktemp("raw") / "synthetic_n800_s5")
