"""Clustering, stable one_ids and the scores against truth on hand-made examples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.identity.clusters import ONE_ID_PREFIX, assign_one_ids, cluster_labels
from features.identity.evaluation import asked_twice, baseline_labels, pair_scores


def _pairs(edges, p=0.99):
    return pd.DataFrame({"unique_id_l": [a for a, _ in edges], "unique_id_r": [b for _, b in edges],
                         "match_probability": p})  # fmt: skip


def test_components_at_threshold():
    pairs = pd.concat([_pairs([(0, 1), (1, 2)]), _pairs([(3, 4)], p=0.5)])
    assert len(set(cluster_labels(pairs, 5, 0.9))) == 3  # {0,1,2} {3} {4}
    assert len(set(cluster_labels(pairs, 5, 0.4))) == 2


def test_one_ids_are_random_and_stable():
    keys = pd.Series([f"app/{i}" for i in range(5)])
    labels = np.array([0, 0, 1, 2, 2])
    first = assign_one_ids(keys, labels)
    assert first.str.startswith(ONE_ID_PREFIX).all() and first.nunique() == 3
    assert first[0] == first[1] and first[3] == first[4]
    previous = pd.DataFrame({"record_key": keys, "one_id": first})
    assert assign_one_ids(keys, labels, previous).tolist() == first.tolist()
    # a new record linking to person 1 joins its one_id; a new person gets a fresh one
    more = pd.concat([keys, pd.Series(["wecom/9", "wecom/10"])], ignore_index=True)
    again = assign_one_ids(more, np.array([0, 0, 1, 2, 2, 0, 3]), previous)
    assert again.iloc[:5].tolist() == first.tolist()
    assert again[5] == first[0] and again[6] not in set(first)
    # a merge keeps one of the old one_ids for everyone; a split keeps it for the larger part
    merged = assign_one_ids(keys, np.array([0, 0, 0, 2, 2]), previous)
    assert merged[2] in (first[0], first[2]) and merged[0] == merged[2]
    split = assign_one_ids(keys, np.array([0, 0, 1, 2, 3]), previous)
    assert split[3] == first[3] and split[4] != first[3]


def test_pair_scores_by_hand():
    entity = np.array(["a", "a", "a", "b", "b", "c"], dtype=object)
    perfect = pair_scores(np.array([0, 0, 0, 1, 1, 2]), entity)
    assert perfect["pairwise_f1"] == 1 and perfect["cluster_f1"] == 1
    # split a's three records into 2 + 1: 1 of 3 a-pairs found; all found pairs right
    split = pair_scores(np.array([0, 0, 5, 1, 1, 2]), entity)
    assert split["pairwise_precision"] == 1 and split["pairwise_recall"] == 2 / 4
    assert split["cluster_recall"] == 2 / 3 and split["n_persons_found"] == 4
    # merge b and c: 1 wrong pair among 3 + 3 found
    merged = pair_scores(np.array([0, 0, 0, 1, 1, 1]), entity)
    assert merged["pairwise_precision"] == 4 / 6 and merged["pairwise_recall"] == 1


def test_asked_twice_before_and_after():
    frame = pd.DataFrame({"source": ["app", "store", "app", "app", "wecom"],
                          "phone": ["1", "1", "2", "3", None], "name": ["x", None, "y", "z", "z"]})  # fmt: skip
    persons = np.array(["p", "p", "q", "r", "r"], dtype=object)
    assert asked_twice(frame, persons) == 2 / 3  # p (phone), r (name)
    assert asked_twice(frame, persons, np.array([0, 0, 1, 2, 2])) == 0
    assert asked_twice(frame, persons, np.array([0, 1, 2, 3, 3])) == 1 / 3


def test_baseline_joins_exact_phones():
    frame = pd.DataFrame({"unique_id": range(4), "phone": ["1", "1", None, "2"],
                          "name_clean": ["a", "b", "a", "a"], "birth_date": [None, None, "d", "d"]})  # fmt: skip
    labels = baseline_labels(frame)
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]
