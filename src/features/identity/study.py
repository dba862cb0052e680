"""The identity study of notebook 09: records in, persons (one_ids) out, scored against truth.

Steps: read and normalise the person records (``records``), train the Fellegi–Sunter model
without labels and score the blocked pairs (``linkage``), cluster the links at
``match_threshold`` and give every person a stable one_id (``clusters``), evaluate against
the entity column when there is one, beside the exact-rule baseline (``evaluation``), and on
synthetic data rebuild the event log on one_id (``rebuild``).

May import the foundation and the ``features.identity`` modules.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import config
from features.identity import evaluation
from features.identity.clusters import assign_one_ids, cluster_labels
from features.identity.linkage import Linkage, link
from features.identity.params import IdentityParams
from features.identity.records import IdentityDataError, Records, read_records

# The synthetic exports' columns in the lab's roles.
SYNTHETIC_COLUMNS = {"full_name": "name", "phone": "phone", "birth_date": "birth_date",
                     "id_number": "id_number", "address": "address", "city": "city",
                     "postcode": "postcode"}  # fmt: skip
MAP_COLUMNS = ("record_id", "source", "one_id", "match_probability", "cluster_size")


@dataclass
class IdentityResults:
    """Everything the notebook shows and saves; ``records`` hold personal data (memory only)."""

    params: IdentityParams
    records: Records
    linkage: Linkage
    identity_map: pd.DataFrame  # MAP_COLUMNS: no personal field
    curve: pd.DataFrame  # scores per threshold (with an entity column)
    patterns: pd.DataFrame  # agreement patterns of the candidate pairs: counts, probability
    metrics: dict[str, Any] = field(default_factory=dict)
    state_dir: Path | None = None  # data/processed/identity/<source>: the map kept for re-runs
    events_path: Path | None = None  # the record-keyed event log (synthetic)


def _say(message: str) -> None:
    print(f"[identity] {message}", flush=True)


def source_key(params: IdentityParams) -> str:
    """A folder name per input: the synthetic dataset, or a hash of the files' paths."""
    if params.synthetic:
        return f"identity_n{params.n_customers}_s{params.seed}"
    digest = hashlib.sha256("\n".join(sorted(params.source_paths)).encode()).hexdigest()[:12]
    return f"files_{digest}"


def load_records(params: IdentityParams) -> tuple[Records, Path | None]:
    """The records (with the truth's entity on synthetic data) and the record-keyed log."""
    if not params.synthetic:
        return read_records(params.source_paths, params), None
    from dataclasses import replace

    from features.data.datasets import ensure_identity_sources
    from features.data.synth_identity import CHANNELS, EVENTS_FILE, TRUTH_FILE

    folder = ensure_identity_sources(params.n_customers, params.seed)
    files = tuple(str(folder / f"{c}.parquet") for c in CHANNELS)
    synthetic = replace(params, record_id_col="record_id", entity_col="", source_col="")
    records = read_records(files, synthetic, SYNTHETIC_COLUMNS)
    truth = pd.read_parquet(folder / TRUTH_FILE)
    lookup = truth.set_index(["channel", "record_id"])["person_id"]
    keys = pd.MultiIndex.from_frame(records.frame[["source", "record_id"]])
    records.frame.insert(2, "entity", lookup.reindex(keys).to_numpy())
    records.has_entity = True
    return records, folder / EVENTS_FILE


def _refuse_personal_ids(records: Records) -> None:
    frame = records.frame
    for name in ("phone", "id_number"):
        if name in frame.columns and (frame["record_id"] == frame[name]).any():
            raise IdentityDataError(f"record ids equal the records' {name} (personal data): use "
                                    "a system id as record_id_col")  # fmt: skip


def _record_probability(pairs: pd.DataFrame, labels: np.ndarray, n: int, threshold: float
                        ) -> np.ndarray:  # fmt: skip
    """Each record's strongest link inside its cluster (NaN for a record alone)."""
    kept = pairs[(pairs["match_probability"] >= threshold)]
    both = pd.concat([kept[["unique_id_l", "match_probability"]].set_axis(["u", "p"], axis=1),
                      kept[["unique_id_r", "match_probability"]].set_axis(["u", "p"], axis=1)])  # fmt: skip
    best = both.groupby("u")["p"].max()
    return best.reindex(np.arange(n)).to_numpy()


def _patterns(pairs: pd.DataFrame, entity: np.ndarray | None) -> pd.DataFrame:
    gammas = [c for c in pairs.columns if c.startswith("gamma_")]
    frame = pairs[gammas + ["match_probability"]].copy()
    if entity is not None:
        left = entity[pairs["unique_id_l"].to_numpy()]
        right = entity[pairs["unique_id_r"].to_numpy()]
        frame["true_match"] = (left == right) & pd.notna(left)
    agg = {
        "n_pairs": ("match_probability", "size"),
        "mean_match_probability": ("match_probability", "mean"),
    }
    if entity is not None:
        agg["share_true_matches"] = ("true_match", "mean")
    return (frame.groupby(gammas).agg(**agg).reset_index()
            .sort_values("n_pairs", ascending=False).reset_index(drop=True))  # fmt: skip


def previous_map(state_dir: Path) -> pd.DataFrame | None:
    """The map of the last run on this input (``record_key`` → one_id), if any."""
    path = state_dir / "identity_map.parquet"
    if not path.is_file():
        return None
    old = pd.read_parquet(path)
    return old.assign(record_key=old["source"] + "/" + old["record_id"])


def save_state(identity_map: pd.DataFrame, state_dir: Path, events_path: Path | None
               ) -> dict[str, Any]:  # fmt: skip
    """Keep the map for the next run and, with a record-keyed event log, rebuild it on one_id
    (``data/processed/identity/<source>/``); the rebuild's counts."""
    from features.identity.rebuild import write_rebuilt
    from features.io import write_parquet

    state_dir.mkdir(parents=True, exist_ok=True)
    write_parquet(identity_map, state_dir / "identity_map.parquet")
    if events_path is None:
        return {}
    out = write_rebuilt(events_path, identity_map, state_dir)
    out.pop("files")
    return out


def run_identity_study(params: IdentityParams) -> IdentityResults:
    """Resolve the records into persons; evaluate where the entity is known."""
    start = time.perf_counter()
    _say(f"reading records ({'synthetic' if params.synthetic else len(params.source_paths)} "
         f"{'' if params.synthetic else 'file(s)'})")  # fmt: skip
    records, events_path = load_records(params)
    _refuse_personal_ids(records)
    frame = records.frame
    n = len(frame)
    _say(f"{n:,} records from {frame['source'].nunique()} sources; fields {list(records.fields)}")
    for note in records.notes:
        _say(note)
    linkage = link(records, params.blocking_rules, params.max_pairs, params.seed, say=_say)
    labels = cluster_labels(linkage.pairs, n, params.match_threshold)
    state_dir = config.processed_dir() / "identity" / source_key(params)
    keys = frame["source"] + "/" + frame["record_id"]
    old = previous_map(state_dir)
    one_ids = assign_one_ids(keys, labels, old)
    sizes = pd.Series(labels).map(pd.Series(labels).value_counts()).to_numpy()
    identity_map = pd.DataFrame({
        "record_id": frame["record_id"].to_numpy(), "source": frame["source"].to_numpy(),
        "one_id": one_ids.to_numpy(),
        "match_probability": _record_probability(linkage.pairs, labels, n, params.match_threshold),
        "cluster_size": sizes.astype(np.int64),
    })  # fmt: skip
    entity = frame["entity"].to_numpy(dtype=object) if records.has_entity else None
    metrics: dict[str, Any] = {
        "n_records": n, "n_sources": int(frame["source"].nunique()),
        "n_persons_found": int(one_ids.nunique()), "match_threshold": params.match_threshold,
        "n_candidate_pairs": int(len(linkage.pairs)),
        "n_links": int((linkage.pairs["match_probability"] >= params.match_threshold).sum()),
        "probability_two_random_records_match": linkage.lambda_,
        "blocking_rules": [" + ".join(r) for r in linkage.blocking_rules],
        "fields": list(records.fields),
    }  # fmt: skip
    if old is not None:
        kept = keys.map(old.set_index("record_key")["one_id"])
        known = kept.notna()
        metrics["one_ids_kept_share"] = (
            float((kept[known] == one_ids[known]).mean()) if known.any() else None
        )
        metrics["n_records_new"] = int((~known).sum())
    curve = pd.DataFrame()
    groups = entity if entity is not None else labels
    metrics["asked_twice_before"] = evaluation.asked_twice(frame, groups)
    metrics["asked_twice_after"] = None
    if entity is not None:
        _say("scoring against the entity column")
        scores = evaluation.pair_scores(labels, entity)
        metrics.update(scores)
        base = evaluation.pair_scores(evaluation.baseline_labels(frame), entity)
        metrics.update({f"baseline_{k}": v for k, v in base.items()
                        if k in ("pairwise_precision", "pairwise_recall", "pairwise_f1",
                                 "cluster_f1", "n_persons_found")})  # fmt: skip
        metrics["asked_twice_after"] = evaluation.asked_twice(frame, entity, labels)
        curve = evaluation.threshold_curve(linkage.pairs, n, entity)
        best = curve.loc[curve["pairwise_f1"].idxmax()]
        metrics["best_threshold_on_truth"] = float(best["threshold"])
        metrics["best_pairwise_f1_on_truth"] = float(best["pairwise_f1"])
    else:
        metrics["n_persons_true"] = None
        for key in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "cluster_f1"):
            metrics[key] = None
    metrics.update(save_state(identity_map, state_dir, events_path))
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    _say(f"{n:,} records -> {metrics['n_persons_found']:,} persons in {metrics['seconds']:.0f} s"
         + (f"; pairwise F1 {metrics['pairwise_f1']:.3f}" if entity is not None else ""))  # fmt: skip
    return IdentityResults(params=params, records=records, linkage=linkage,
                           identity_map=identity_map, curve=curve,
                           patterns=_patterns(linkage.pairs, entity), metrics=metrics,
                           state_dir=state_dir, events_path=events_path)  # fmt: skip


def headline_metrics(results: IdentityResults) -> dict[str, Any]:
    """The contract keys of metrics.json and the figures the headline quotes."""
    return dict(results.metrics)
