"""Choosing the number of personas: fit every k in a range, score each fit (silhouette,
BIC, bootstrap stability) and pick k with a fixed, documented rule.

May import numpy, pandas, scikit-learn and the clustering, stability and mixture modules of
``features.personas``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

from features.personas.clustering import (
    ClusterSpec,
    Method,
    as_spec,
    predict_labels,
    sample_indices,
)
from features.personas.mixture import one_blas_thread
from features.personas.stability import bootstrap_stability


def kmeans_bic(values: np.ndarray, labels: np.ndarray, inertia: float, k: int) -> float:
    """BIC of a k-means solution read as a spherical Gaussian mixture with one shared variance.

    The X-means criterion (Pelleg & Moore, 2000): hard assignments, mixing weights n_j/n and
    the maximum-likelihood variance ``inertia / (n d)``; parameters are k·d centres, k-1
    weights and one variance. Lower is better, as for ``GaussianMixture.bic``.
    """
    n, d = values.shape
    counts = np.bincount(labels, minlength=k).astype(float)
    counts = counts[counts > 0]
    variance = max(inertia / (n * d), 1e-12)
    log_likelihood = (
        float(np.sum(counts * np.log(counts / n)))
        - n * d / 2 * math.log(2 * math.pi * variance)
        - n * d / 2
    )
    n_parameters = k * d + (k - 1) + 1
    return -2 * log_likelihood + n_parameters * math.log(n)


def _safe_silhouette(values: np.ndarray, labels: np.ndarray) -> float:
    if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(labels):
        return float("nan")
    with one_blas_thread():
        return float(silhouette_score(values, labels))


def score_k_range(
    values: np.ndarray,
    k_min: int,
    k_max: int,
    spec: ClusterSpec | Method,
    seed: int = 0,
    sample_size: int = 5000,
    stability_refits: int = 3,
) -> pd.DataFrame:
    """Fit ``spec`` (a ``ClusterSpec`` or a method name) for every k in [k_min, k_max] and score
    each fit.

    Silhouette is computed on one fixed random sample of ``sample_size`` rows (it costs
    O(n²)); BIC on all rows (the mixtures' own ``bic``; ``kmeans_bic`` for k-means);
    stability is the mean ARI of ``stability_refits`` bootstrap refits (``bootstrap_stability``;
    0 skips it).

    Returns:
        One row per k: k, silhouette, bic, inertia (k-means; NaN for the mixtures),
        smallest_share (share of the smallest cluster), stability_ari.
    """
    if k_min < 2 or k_max < k_min:
        raise ValueError(f"k range [{k_min}, {k_max}]: need 2 <= k_min <= k_max")
    spec = as_spec(spec)
    sample = sample_indices(len(values), sample_size, seed)
    rows = []
    for k in range(k_min, k_max + 1):
        model = spec.fit(values, k, seed)
        labels = predict_labels(model, values)
        if spec.method == "kmeans":
            inertia = float(model.inertia_)
            bic = kmeans_bic(values, labels, inertia, k)
        else:
            inertia = float("nan")
            bic = float(model.bic(values))
        shares = np.bincount(labels, minlength=k) / len(labels)
        stability = (
            bootstrap_stability(values, k, spec, stability_refits, seed, sample_size).mean
            if stability_refits >= 2
            else float("nan")
        )
        rows.append(
            {
                "k": k,
                "silhouette": _safe_silhouette(values[sample], labels[sample]),
                "bic": bic,
                "inertia": inertia,
                "smallest_share": float(shares.min()),
                "stability_ari": stability,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class KChoice:
    """The chosen number of personas and the rule's reasoning in one sentence."""

    k: int
    reason: str
    candidates: tuple[int, ...]


def choose_k(
    curves: pd.DataFrame,
    method: Method = "kmeans",
    silhouette_tolerance: float = 0.02,
    min_share: float = 0.02,
    min_stability: float = 0.9,
) -> KChoice:
    """Pick k from the curves of ``score_k_range`` with a fixed, documented rule.

    1. Actionable: the smallest persona holds at least ``min_share`` of customers.
    2. Reproducible: bootstrap refits agree (``stability_ari`` >= ``min_stability``); BIC
       keeps falling with k on large data, and unstable extra personas are noise, not
       segments. When no k qualifies the step is skipped (and said so).
    3. k-means (a distance method): keep the k whose silhouette is within
       ``silhouette_tolerance`` of the best (differences this small are sampling noise), then
       take the lowest BIC among them. Mixtures (likelihood models): the lowest BIC, their
       own model-selection criterion; silhouette is shown for reference.
    """
    usable = curves.dropna(subset=["bic"])
    if method == "kmeans":
        usable = usable.dropna(subset=["silhouette"])
    if usable.empty:
        raise ValueError("k curves: no k has a silhouette and BIC score")
    notes = []
    pool = usable[usable["smallest_share"] >= min_share]
    if pool.empty:
        pool = usable
        notes.append(f"every k left a persona under {min_share:.0%}")
    elif len(pool) < len(usable):
        dropped = sorted(int(v) for v in set(usable["k"]) - set(pool["k"]))
        notes.append(f"k in {dropped} left a persona under {min_share:.0%}")
    if "stability_ari" in pool.columns and pool["stability_ari"].notna().any():
        stable = pool[pool["stability_ari"] >= min_stability]
        if stable.empty:
            notes.append(f"no k reached bootstrap ARI {min_stability}: stability not used")
        else:
            unstable = sorted(int(v) for v in set(pool["k"]) - set(stable["k"]))
            if unstable:
                notes.append(f"k in {unstable} had bootstrap ARI below {min_stability}")
            pool = stable
    if method == "kmeans":
        best = pool["silhouette"].max()
        best_k = int(pool.loc[pool["silhouette"].idxmax(), "k"])
        near = pool[pool["silhouette"] >= best - silhouette_tolerance]
        chosen = near.sort_values(["bic", "k"]).iloc[0]
        reason = (
            f"k = {int(chosen['k'])}: silhouette {chosen['silhouette']:.3f} is within "
            f"{silhouette_tolerance} of the best ({best:.3f} at k = {best_k}); among k in "
            f"{[int(v) for v in near['k']]} it has the lowest BIC ({chosen['bic']:,.0f})"
        )
    else:
        near = pool
        chosen = pool.sort_values(["bic", "k"]).iloc[0]
        reason = (
            f"k = {int(chosen['k'])}: lowest BIC ({chosen['bic']:,.0f}) among k in "
            f"{[int(v) for v in pool['k']]}"
        )
    if notes:
        reason += "; " + "; ".join(notes)
    return KChoice(k=int(chosen["k"]), reason=reason, candidates=tuple(int(v) for v in near["k"]))
