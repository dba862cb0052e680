"""Agreement between partitions: bootstrap refits with each other (are the personas
reproducible?) and, on synthetic data only, found personas with the true ones.

May import numpy, pandas, scikit-learn and ``features.personas.clustering``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from features.personas.clustering import (
    ClusterSpec,
    Method,
    as_spec,
    predict_labels,
    sample_indices,
)

STABILITY_WARN_BELOW = 0.8


@dataclass(frozen=True)
class StabilityResult:
    """Agreement of bootstrap refits, measured on one common reference set."""

    pairwise_ari: tuple[float, ...]
    n_bootstrap: int
    reference_size: int
    threshold: float = STABILITY_WARN_BELOW

    @property
    def mean(self) -> float:
        """Mean ARI over all pairs of refits."""
        return float(np.mean(self.pairwise_ari))

    @property
    def min(self) -> float:
        """Worst pair's ARI."""
        return float(np.min(self.pairwise_ari))

    @property
    def warn(self) -> bool:
        """True when the mean ARI is below the threshold: personas may not be reproducible."""
        return self.mean < self.threshold


def bootstrap_stability(
    values: np.ndarray,
    k: int,
    spec: ClusterSpec | Method,
    n_bootstrap: int,
    seed: int = 0,
    reference_size: int = 5000,
) -> StabilityResult:
    """Refit on ``n_bootstrap`` resamples and compare the refits' labels pairwise.

    Each refit sees a bootstrap resample (rows drawn with replacement, same size as the data)
    and its own random initialisation; all refits then label the same reference rows (a fixed
    random sample), and the adjusted Rand index is computed for every pair of refits. ARI is
    invariant to label permutations, so no cluster matching is needed.
    """
    if n_bootstrap < 2:
        raise ValueError(f"n_bootstrap = {n_bootstrap}: need at least 2 refits to compare")
    spec = as_spec(spec)
    rng = np.random.default_rng(seed)
    reference = values[sample_indices(len(values), reference_size, seed)]
    labellings = []
    for b in range(n_bootstrap):
        rows = rng.integers(0, len(values), size=len(values))
        model = spec.fit(values[rows], k, seed + 1 + b)
        labellings.append(predict_labels(model, reference))
    pairwise = tuple(
        float(adjusted_rand_score(a, b)) for a, b in itertools.combinations(labellings, 2)
    )
    return StabilityResult(
        pairwise_ari=pairwise, n_bootstrap=n_bootstrap, reference_size=len(reference)
    )


@dataclass
class TruthComparison:
    """Agreement between found personas and the simulation's true personas."""

    ari: float
    confusion: pd.DataFrame
    n_customers: int
    best_match: dict[str, str] = field(default_factory=dict)


def compare_with_truth(found: pd.Series, truth: pd.Series) -> TruthComparison:
    """ARI and confusion table of found personas against true personas (evaluation only).

    Args:
        found: persona name or id indexed by customer_id.
        truth: true persona indexed by customer_id (from the truth table).

    Returns:
        ARI on the customers present in both, the count table (found × true) and, for every
        found persona, the true persona most of its members belong to.
    """
    common = found.index.intersection(truth.index)
    if len(common) == 0:
        raise ValueError("truth: no customer_id in common with the persona assignments")
    if found.index.has_duplicates or truth.index.has_duplicates:
        raise ValueError("truth: customer_id must be unique in both series")
    left = found.loc[common]
    right = truth.loc[common].astype(str)
    confusion = pd.crosstab(left.rename("persona"), right.rename("true_persona")).sort_index()
    best_match = {str(p): str(confusion.loc[p].idxmax()) for p in confusion.index}
    return TruthComparison(
        ari=float(adjusted_rand_score(right.to_numpy(), left.to_numpy())),
        confusion=confusion,
        n_customers=len(common),
        best_match=best_match,
    )
