"""How close the resolved persons come to the true ones, and who is asked twice.

Pairwise precision, recall and F1 count the record pairs put in one person (found) against
the pairs that are one person (true), from the cluster × entity contingency table (no pair
list is built). Cluster F1 is the F1 of exact persons: a found cluster counts when it holds
exactly one true person's records. B-cubed F1 is reported beside it. The baseline is what a
practitioner writes first: exact rules (same normalised phone, or same ID-card number, or
same name and birth date) joined transitively.

"Asked twice": a person counts when the same field (name, phone, ...) was collected by two
different channels. After resolution the lab only counts the persons whose such records
still sit under different one_ids (the channel could not see what was already known).

May import numpy, pandas and ``features.identity`` modules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.identity.clusters import cluster_labels

# The personal fields a channel asks for (normalised match fields of the records).
ASKED_FIELDS = ("name", "phone", "birth_date", "id_number", "address", "city", "postcode")
CURVE_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99,
                    0.995, 0.999)  # fmt: skip


def _pairs(sizes: np.ndarray) -> int:
    return int((sizes.astype(np.int64) * (sizes.astype(np.int64) - 1) // 2).sum())


def pair_scores(labels: np.ndarray, entity: np.ndarray) -> dict[str, float]:
    """Pairwise and cluster-level precision/recall/F1 of ``labels`` against ``entity``
    (records without an entity are left out)."""
    known = pd.notna(entity)
    lab, ent = np.asarray(labels)[known], np.asarray(entity, dtype=object)[known]
    joint = pd.DataFrame({"c": lab, "e": ent}).value_counts()
    together = _pairs(joint.to_numpy())
    found = _pairs(pd.Series(lab).value_counts().to_numpy())
    true = _pairs(pd.Series(ent).value_counts().to_numpy())
    precision = together / found if found else 1.0
    recall = together / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # exact persons: clusters whose records are one entity's, all of them
    c_size = pd.Series(lab).value_counts()
    e_size = pd.Series(ent).value_counts()
    j = joint.reset_index(name="n")
    exact = int(((j["n"].to_numpy() == c_size.reindex(j["c"]).to_numpy())
                 & (j["n"].to_numpy() == e_size.reindex(j["e"]).to_numpy())).sum())  # fmt: skip
    c_p, c_r = exact / len(c_size), exact / len(e_size)
    # B-cubed: per record, the share of its cluster that is its entity and vice versa
    n_ce = j["n"].to_numpy(dtype=float)
    b_p = float((n_ce**2 / c_size.reindex(j["c"]).to_numpy()).sum() / len(lab))
    b_r = float((n_ce**2 / e_size.reindex(j["e"]).to_numpy()).sum() / len(lab))
    return {"pairwise_precision": precision, "pairwise_recall": recall, "pairwise_f1": f1,
            "cluster_precision": c_p, "cluster_recall": c_r,
            "cluster_f1": 2 * c_p * c_r / (c_p + c_r) if c_p + c_r else 0.0,
            "bcubed_f1": 2 * b_p * b_r / (b_p + b_r) if b_p + b_r else 0.0,
            "n_persons_found": int(len(c_size)), "n_persons_true": int(len(e_size))}  # fmt: skip


def threshold_curve(pairs: pd.DataFrame, n_records: int, entity: np.ndarray,
                    thresholds=CURVE_THRESHOLDS) -> pd.DataFrame:  # fmt: skip
    """Pairwise and cluster scores after clustering at each threshold."""
    rows = []
    for t in thresholds:
        scores = pair_scores(cluster_labels(pairs, n_records, t), entity)
        rows.append({"threshold": t, **scores})
    return pd.DataFrame(rows)


def baseline_labels(frame: pd.DataFrame) -> np.ndarray:
    """Exact-rule persons: same phone, or same ID-card number, or same name and birth date."""
    n = len(frame)
    edges = []
    rules = [["phone"], ["id_number"], ["name_clean", "birth_date"]]
    for rule in rules:
        if not all(c in frame.columns for c in rule):
            continue
        sub = frame[["unique_id", *rule]].dropna()
        if sub.empty:
            continue
        first = sub.groupby(rule, sort=False)["unique_id"].transform("min")
        edges.append(pd.DataFrame({"unique_id_l": first.to_numpy(),
                                   "unique_id_r": sub["unique_id"].to_numpy()}))  # fmt: skip
    if not edges:
        return np.arange(n)
    pairs = pd.concat(edges, ignore_index=True).assign(match_probability=1.0)
    return cluster_labels(pairs, n, 0.5)


def asked_twice(frame: pd.DataFrame, groups: np.ndarray, clusters: np.ndarray | None = None
                ) -> float:  # fmt: skip
    """Share of persons (``groups``) whose same field was collected by two channels; with
    ``clusters``, only where those records also lie in different clusters (one_ids)."""
    fields = [f for f in ASKED_FIELDS if f in frame.columns]
    known = pd.notna(groups)
    if not fields or not known.any():
        return float("nan")
    hits = pd.Series(False, index=pd.unique(np.asarray(groups, dtype=object)[known]))
    for field in fields:
        has = frame[field].notna().to_numpy() & known
        part = pd.DataFrame({"g": np.asarray(groups, dtype=object)[has],
                             "s": frame["source"].to_numpy()[has]})  # fmt: skip
        stats = part.groupby("g")["s"].nunique() >= 2
        if clusters is not None:
            part["c"] = np.asarray(clusters)[has]
            # two channels and two one_ids: some pair differs in both (see the module note)
            stats &= part.groupby("g")["c"].nunique() >= 2
        hits.loc[stats[stats].index] = True
    return float(hits.mean())
