"""Processed feature and label tables: minimum-data gate, the pipeline's features step, CLI.

Layout: ``data/processed/<dataset>/<cutoff YYYY-MM-DD>/`` holding ``features.parquet``,
``labels_<task>.parquet`` and ``metadata.json`` (see ``features.table.snapshots``, which reads
and writes them). The folder is written to a temporary sibling and renamed into place, and it
carries no wall-clock time, so identical inputs give byte-identical output.

``build_processed`` writes every snapshot the notebooks' time split needs: the cutoff (both
tasks) and, per task, the training snapshot at ``cutoff - horizon``.

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

from features import defaults
from features.data.eventlog import DataError
from features.engine import ENGINES
from features.engine.spark import SparkUnavailable
from features.table.build import parse_cutoff
from features.table.labels import HorizonError, LabelSet
from features.table.snapshots import (
    LabelSpec,
    load_snapshots,
    processed_path,
    snapshot_metadata,
    write_snapshot,
)

__all__ = [
    "InsufficientDataError",
    "build_processed",
    "check_min_class_count",
    "main",
    "processed_path",
    "training_requests",
    "write_processed",
]


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
    metadata = snapshot_metadata(dataset_name, cutoff_ts, features, sets, metadata_extra)
    return write_snapshot(processed_path(dataset_name, cutoff_ts, root), features, sets, metadata)


def training_requests(
    cutoff: Any,
    conversion_horizon_days: int,
    churn_horizon_days: int,
    lookback_days: int,
    tasks: Sequence[str] = ("conversion", "churn"),
    train_snapshots: bool = True,
) -> dict[pd.Timestamp, list[LabelSpec]]:
    """Snapshots a run needs: the cutoff with every task, and each task's training cutoff."""
    cutoff_ts = parse_cutoff(cutoff)
    specs = {
        "conversion": LabelSpec("conversion", conversion_horizon_days),
        "churn": LabelSpec("churn", churn_horizon_days, lookback_days),
    }
    requests: dict[pd.Timestamp, list[LabelSpec]] = {cutoff_ts: [specs[t] for t in tasks]}
    if train_snapshots:
        for task in tasks:
            train = cutoff_ts - pd.Timedelta(days=specs[task].horizon_days)
            requests.setdefault(train, []).append(specs[task])
    return requests


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
    train_snapshots: bool = True,
    engine: str = "duckdb",
) -> Path:
    """Build (or reuse) the snapshots of a dataset and apply the gate; return the cutoff's folder.

    The gate (at least ``min_class_count`` of each class) applies to the populations at the
    cutoff; nothing is written when one fails.
    """
    dataset_dir = Path(dataset_dir)
    cutoff_ts = parse_cutoff(cutoff)
    unknown = set(tasks) - {"conversion", "churn"}
    if unknown or not tasks:
        raise ValueError(f"tasks {tuple(tasks)!r}: must be 'conversion' and/or 'churn'")
    requests = training_requests(
        cutoff_ts,
        conversion_horizon_days,
        churn_horizon_days,
        lookback_days,
        tasks,
        train_snapshots,
    )

    def gate(at: pd.Timestamp, label_set: LabelSet) -> None:
        print(
            f"      {label_set.task} at {at:%Y-%m-%d}: {label_set.size:,} in population, "
            f"{label_set.n_positive:,} positives ({label_set.positive_rate:.1%})",
            flush=True,
        )
        if at == cutoff_ts:
            check_min_class_count(label_set, min_class_count)

    print(
        f"snapshots of {dataset_dir.name} at "
        + ", ".join(f"{c:%Y-%m-%d}" for c in sorted(requests))
        + f"; gate: at least {min_class_count} of each class at {cutoff_ts:%Y-%m-%d}",
        flush=True,
    )
    snapshots = load_snapshots(
        dataset_dir,
        requests,
        root=root,
        check=gate,
        extra_metadata={"lookback_days": lookback_days, "min_class_count": min_class_count},
        echo=lambda line: print(f"      {line}", flush=True),
        engine=engine,
    )
    for snapshot in snapshots.values():  # a reused snapshot must pass the same gate
        if snapshot.cutoff == cutoff_ts:
            for label_set in snapshot.labels.values():
                check_min_class_count(label_set, min_class_count)
    return snapshots[cutoff_ts].path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: exit 0 done, 1 bad data (nothing written), 2 bad parameters."""
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
    parser.add_argument(
        "--engine", default="duckdb", choices=ENGINES, help="spark: a local SparkSession"
    )
    args = parser.parse_args(argv)
    if not args.dataset_dir.exists():
        print(f"error: parameter dataset_dir: {args.dataset_dir} not found", file=sys.stderr)
        return 2
    try:
        build_processed(
            args.dataset_dir,
            args.cutoff,
            args.conversion_horizon,
            args.churn_horizon,
            args.lookback,
            args.min_class_count,
            root=args.out_root,
            engine=args.engine,
        )
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SparkUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (HorizonError, InsufficientDataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
