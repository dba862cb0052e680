"""Processed feature and label tables: minimum-data gate and reproducible, atomic output.

Layout: ``data/processed/<dataset>/<cutoff YYYY-MM-DD>/`` holding ``features.parquet``,
``labels_<task>.parquet`` and ``metadata.json``. The folder is written to a temporary sibling
and renamed into place, and it carries no wall-clock time, so identical inputs give
byte-identical output.

Command line::

    python -m features.processed DATASET_DIR --cutoff 2025-07-01 [--conversion-horizon 90]
        [--churn-horizon 180] [--lookback 90] [--min-class-count 500] [--out-root DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, defaults
from features.data.eventlog import DataError, load_event_log
from features.io import atomic_dir, write_json, write_parquet
from features.table import registry
from features.table.build import build_features, parse_cutoff
from features.table.labels import HorizonError, LabelSet, churn_labels, conversion_labels

FEATURES_FILE = "features.parquet"
METADATA_FILE = "metadata.json"
PROCESSED_FORMAT_VERSION = 1


class InsufficientDataError(ValueError):
    """A label population has too few positives or negatives to train on."""


def check_min_class_count(
    labels: LabelSet | pd.DataFrame,
    min_count: int = defaults.MIN_CLASS_COUNT,
    name: str | None = None,
) -> None:
    """Raise InsufficientDataError if positives or negatives number fewer than ``min_count``.

    Args:
        labels: a LabelSet, or a DataFrame with a 0/1 ``label`` column.
        min_count: minimum number of each class.
        name: how the message names the population (default: from the LabelSet).
    """
    if isinstance(labels, LabelSet):
        frame = labels.labels
        name = name or f"{labels.task} population at {labels.cutoff:%Y-%m-%d}"
    else:
        frame = labels
        name = name or "label population"
    if "label" not in frame:
        raise DataError(f"{name}: column 'label' not found (rule: labels carry a 0/1 label)")
    n_positive = int(frame["label"].sum())
    n_negative = len(frame) - n_positive
    for count, kind in ((n_positive, "positives"), (n_negative, "negatives")):
        if count < min_count:
            raise InsufficientDataError(
                f"{name}: {count} {kind} < {min_count} required; lower min_class_count or use "
                "more data"
            )


def processed_path(dataset_name: str, cutoff: Any, root: str | Path | None = None) -> Path:
    """Folder of the processed tables of a dataset at a cutoff."""
    base = Path(root) if root is not None else config.processed_dir()
    return base / dataset_name / f"{parse_cutoff(cutoff):%Y-%m-%d}"


def write_processed(
    dataset_name: str,
    cutoff: Any,
    features: pd.DataFrame,
    label_sets: Mapping[str, LabelSet] | Sequence[LabelSet],
    metadata_extra: Mapping[str, Any] | None = None,
    *,
    root: str | Path | None = None,
) -> Path:
    """Write features, labels and metadata.json for one dataset and cutoff; return the folder.

    Metadata: cutoff, per-task horizon, population, definition, size and positive rate,
    feature registry version and the feature columns, plus ``metadata_extra`` (input hashes,
    cleaning counts). An existing folder for the same dataset and cutoff is replaced whole.
    """
    if not dataset_name or "/" in dataset_name or dataset_name.startswith("."):
        raise ValueError(f"dataset_name {dataset_name!r}: must be a plain folder name")
    cutoff_ts = parse_cutoff(cutoff)
    sets = dict(label_sets) if isinstance(label_sets, Mapping) else {s.task: s for s in label_sets}
    for task, label_set in sets.items():
        if label_set.cutoff != cutoff_ts:
            raise ValueError(
                f"labels {task!r}: cutoff {label_set.cutoff:%Y-%m-%d} differs from "
                f"{cutoff_ts:%Y-%m-%d}"
            )
    metadata = {
        "format_version": PROCESSED_FORMAT_VERSION,
        "dataset": dataset_name,
        "cutoff": f"{cutoff_ts:%Y-%m-%d}",
        "feature_registry_version": registry.REGISTRY_VERSION,
        "n_customers": len(features),
        "feature_columns": [c for c in features.columns if c != "customer_id"],
        "feature_dtypes": {c: str(t) for c, t in features.dtypes.items()},
        "horizons_days": {task: s.horizon_days for task, s in sorted(sets.items())},
        "populations": {task: s.summary() for task, s in sorted(sets.items())},
        **dict(metadata_extra or {}),
    }
    target = processed_path(dataset_name, cutoff_ts, root)
    with atomic_dir(target, overwrite=True) as tmp:
        write_parquet(features, tmp / FEATURES_FILE)
        for task, label_set in sorted(sets.items()):
            write_parquet(label_set.labels, tmp / f"labels_{task}.parquet")
        write_json(metadata, tmp / METADATA_FILE)
    return target


def build_processed(
    dataset_dir: str | Path,
    cutoff: Any = defaults.CUTOFF,
    conversion_horizon_days: int = defaults.CONVERSION_HORIZON_DAYS,
    churn_horizon_days: int = defaults.CHURN_HORIZON_DAYS,
    lookback_days: int = defaults.CHURN_LOOKBACK_DAYS,
    min_class_count: int = defaults.MIN_CLASS_COUNT,
    *,
    root: str | Path | None = None,
    tasks: Sequence[str] = ("conversion", "churn"),
) -> Path:
    """Load a dataset, build features and labels, apply the gate and write the processed folder.

    Nothing is written when a population fails the minimum-data gate.
    """
    dataset_dir = Path(dataset_dir)
    cutoff_ts = parse_cutoff(cutoff)
    unknown = set(tasks) - {"conversion", "churn"}
    if unknown or not tasks:
        raise ValueError(f"tasks {tuple(tasks)!r}: must be 'conversion' and/or 'churn'")
    print(f"[1/5] loading {dataset_dir}", flush=True)
    log = load_event_log(dataset_dir)
    print(f"[2/5] building features at {cutoff_ts:%Y-%m-%d}", flush=True)
    features = build_features(log, cutoff_ts)
    print(f"      {len(features):,} customers x {features.shape[1] - 1} features", flush=True)
    print("[3/5] building labels", flush=True)
    sets: dict[str, LabelSet] = {}
    if "conversion" in tasks:
        sets["conversion"] = conversion_labels(log, cutoff_ts, conversion_horizon_days)
    if "churn" in tasks:
        sets["churn"] = churn_labels(log, cutoff_ts, churn_horizon_days, lookback_days)
    for label_set in sets.values():
        print(
            f"      {label_set.task}: {label_set.size:,} in population, "
            f"{label_set.n_positive:,} positives ({label_set.positive_rate:.1%})",
            flush=True,
        )
    print(f"[4/5] checking at least {min_class_count} of each class", flush=True)
    for label_set in sets.values():
        check_min_class_count(label_set, min_class_count)
    print("[5/5] writing", flush=True)
    extra = {
        "source": dataset_dir.name,
        "input_sha256": dict(sorted(log.input_hashes.items())),
        "cleaning": dict(sorted(log.cleaning.items())),
        "lookback_days": lookback_days,
        "min_class_count": min_class_count,
    }
    target = write_processed(dataset_dir.name, cutoff_ts, features, sets, extra, root=root)
    print(f"      wrote {target}", flush=True)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 on bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m features.processed", description=build_processed.__doc__
    )
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument("--cutoff", default=defaults.CUTOFF)
    parser.add_argument("--conversion-horizon", type=int, default=defaults.CONVERSION_HORIZON_DAYS)
    parser.add_argument("--churn-horizon", type=int, default=defaults.CHURN_HORIZON_DAYS)
    parser.add_argument("--lookback", type=int, default=defaults.CHURN_LOOKBACK_DAYS)
    parser.add_argument("--min-class-count", type=int, default=defaults.MIN_CLASS_COUNT)
    parser.add_argument("--out-root", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        build_processed(
            args.dataset_dir,
            args.cutoff,
            args.conversion_horizon,
            args.churn_horizon,
            args.lookback,
            args.min_class_count,
            root=args.out_root,
        )
    except (DataError, HorizonError, InsufficientDataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
