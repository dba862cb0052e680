"""Links into persons, and persons into stable pseudonymous one_ids.

Clustering: the connected components of the pairs at or above the match threshold (what
splink's own ``cluster_pairwise_predictions_at_threshold`` computes), with scipy's sparse
graph routine so that the precision–recall curve can re-cluster at many thresholds at once.

One-ids: ``oid_`` + 16 random hex digits (``secrets``): not derived from any personal field,
so nothing can be recovered from them. Stability: given the previous map (record → one_id),
every new cluster holding records of the previous map takes the one_id most of those records
had (the smallest one_id on a tie), unless a larger share of that one_id's records went to another
cluster; a cluster of new records only, or one that lost the vote, gets a fresh one_id. A
re-run on the same records with the same links therefore returns the same map, and new
records join the one_id of the person they link to.

May import numpy, pandas and scipy.
"""

from __future__ import annotations

import secrets

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ONE_ID_PREFIX = "oid_"


def cluster_labels(pairs: pd.DataFrame, n_records: int, threshold: float) -> np.ndarray:
    """A cluster number per record (0..n-1 by unique_id): components of links ≥ threshold."""
    kept = pairs[pairs["match_probability"] >= threshold]
    graph = coo_matrix((np.ones(len(kept), dtype=np.int8),
                        (kept["unique_id_l"].to_numpy(), kept["unique_id_r"].to_numpy())),
                       shape=(n_records, n_records))  # fmt: skip
    _, labels = connected_components(graph, directed=False)
    return labels


def new_one_ids(n: int) -> list[str]:
    """``n`` fresh random one_ids."""
    return [f"{ONE_ID_PREFIX}{secrets.token_hex(8)}" for _ in range(n)]


def assign_one_ids(keys: pd.Series, labels: np.ndarray, previous: pd.DataFrame | None = None
                   ) -> pd.Series:  # fmt: skip
    """One one_id per record (aligned with ``keys``, the records' "source/record_id" keys),
    keeping the previous map's one_ids where the clusters carry them on."""
    labels = pd.Series(labels, index=keys.index)
    chosen: dict[int, str] = {}
    if previous is not None and len(previous):
        old = keys.map(previous.set_index("record_key")["one_id"])
        held = pd.DataFrame({"cluster": labels, "one_id": old}).dropna()
        if len(held):
            votes = held.value_counts(["one_id", "cluster"]).rename("n").reset_index()
            # a one_id stays with the cluster holding most of its records ...
            votes = votes.sort_values(["one_id", "n", "cluster"], ascending=[True, False, True])
            owners = votes.drop_duplicates("one_id")
            # ... and a cluster keeps the one_id most of its old records had
            owners = owners.sort_values(["cluster", "n", "one_id"], ascending=[True, False, True])
            chosen = dict(owners.drop_duplicates("cluster")[["cluster", "one_id"]].to_numpy())
    clusters = np.unique(labels.to_numpy())
    fresh = [c for c in clusters if c not in chosen]
    chosen.update(zip(fresh, new_one_ids(len(fresh)), strict=True))
    return labels.map(chosen).rename("one_id")
