"""Clusterers (k-means, Gaussian mixture, latent class model), fitting, and assigning
customers to personas numbered by size.

May import numpy, pandas, scikit-learn, ``features.schema`` and ``features.personas.mixture``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from features import schema
from features.personas.mixture import LatentClassMixture, one_blas_thread

Method = Literal["kmeans", "gmm", "latent_class"]
METHODS: tuple[str, ...] = ("kmeans", "gmm", "latent_class")
Clusterer = Any  # KMeans | GaussianMixture | LatentClassMixture

# Columns of assign_personas' output (persona ids 1..k, 1 = largest).
PERSONA_ID_COL = "persona_id"
MEMBERSHIP_PROBABILITY_COL = "membership_probability"
CENTROID_DISTANCE_COL = "centroid_distance"


def fit_clusterer(
    values: np.ndarray,
    k: int,
    method: Method,
    seed: int = 0,
    n_init: int = 4,
    categorical_blocks: Sequence[Sequence[int]] = (),
) -> Clusterer:
    """Fit a clusterer with ``k`` clusters on ``values``.

    kmeans: Euclidean k-means. gmm: Gaussian mixture with full covariances and
    ``reg_covar=1e-3`` (one-hot inputs are constant inside some clusters; the ridge keeps
    those covariances invertible). latent_class: ``LatentClassMixture`` (Gaussian numeric
    columns, categorical one-hot blocks), the classic model for mixed-type segmentation data.
    """
    if k < 2:
        raise ValueError(f"k = {k}: must be >= 2")
    if len(values) <= k:
        raise ValueError(f"{len(values)} rows: need more rows than clusters (k = {k})")
    with one_blas_thread():
        if method == "kmeans":
            model = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
        elif method == "gmm":
            model = GaussianMixture(
                n_components=k,
                covariance_type="full",
                reg_covar=1e-3,
                n_init=max(1, n_init // 2),
                max_iter=200,
                random_state=seed,
            )
        elif method == "latent_class":
            model = LatentClassMixture(
                n_components=k,
                categorical_blocks=tuple(tuple(int(i) for i in b) for b in categorical_blocks),
                n_init=max(1, n_init // 2),
                random_state=seed,
            )
        else:
            raise ValueError(f"method {method!r}: must be one of {', '.join(METHODS)}")
        return model.fit(values)


@dataclass(frozen=True)
class ClusterSpec:
    """A clustering method with its settings; ``fit`` fits it for one k and seed.

    ``categorical_blocks`` are the column positions of each one-hot block (latent_class only).
    """

    method: Method
    n_init: int = 4
    categorical_blocks: Sequence[Sequence[int]] = ()

    def fit(self, values: np.ndarray, k: int, seed: int = 0) -> Clusterer:
        """``fit_clusterer`` with this spec's method and settings."""
        return fit_clusterer(values, k, self.method, seed, self.n_init, self.categorical_blocks)


def as_spec(spec: ClusterSpec | Method) -> ClusterSpec:
    """A ``ClusterSpec`` from a spec or a bare method name (default settings)."""
    return spec if isinstance(spec, ClusterSpec) else ClusterSpec(spec)


def sample_indices(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted random row indices (all rows when ``size >= n_rows``)."""
    if size >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def predict_labels(model: Clusterer, values: np.ndarray) -> np.ndarray:
    """Hard cluster index of each row."""
    return np.asarray(model.predict(values), dtype=int)


def cluster_centres(model: Clusterer) -> np.ndarray:
    """Cluster centres in the encoded input space, one row per cluster index."""
    return model.means_ if isinstance(model, GaussianMixture) else model.cluster_centers_


def persona_order(labels: np.ndarray, k: int) -> np.ndarray:
    """``order[cluster_index]`` = persona id 1..k, numbered by size (largest first)."""
    counts = np.bincount(labels, minlength=k)
    ranking = sorted(range(k), key=lambda c: (-counts[c], c))
    order = np.empty(k, dtype=int)
    for rank, cluster in enumerate(ranking, start=1):
        order[cluster] = rank
    return order


def assign_personas(model: Clusterer, values: np.ndarray, customer_ids: pd.Series) -> pd.DataFrame:
    """Persona of every row: id (1 = largest), membership probability and centre distance.

    ``membership_probability`` is the mixture posterior of the assigned class (NaN for
    k-means, which has none); ``centroid_distance`` is the Euclidean distance, in the scaled
    input space, to the assigned cluster's centre.

    Returns:
        customer_id, cluster_index, persona_id, membership_probability, centroid_distance.
    """
    if len(customer_ids) != len(values):
        raise ValueError(f"customer_ids: {len(customer_ids)} rows, matrix has {len(values)}")
    labels = predict_labels(model, values)
    k = len(cluster_centres(model))
    order = persona_order(labels, k)
    centres = cluster_centres(model)
    distance = np.linalg.norm(values - centres[labels], axis=1)
    if hasattr(model, "predict_proba"):
        probability = model.predict_proba(values)[np.arange(len(values)), labels]
    else:
        probability = np.full(len(values), np.nan)
    return pd.DataFrame(
        {
            schema.ID_COL: np.asarray(customer_ids),
            "cluster_index": labels,
            PERSONA_ID_COL: order[labels],
            MEMBERSHIP_PROBABILITY_COL: probability,
            CENTROID_DISTANCE_COL: distance,
        }
    )
