"""Processed snapshots: the feature and label tables every notebook reads.

A snapshot is the feature table of one source at one cutoff plus label sets of the tasks that
need it, stored under ``data/processed/<dataset>/<cutoff>/`` (see ``features.table.processed``
for the files). ``load_snapshots`` is the one way to get them: it reads a stored snapshot when it
fits (same format, feature-registry version, input files and read options, and the label
horizons asked for) and otherwise loads the event log once, builds what is missing and stores
it. The pipeline's features step builds every snapshot of a run up front, so the notebooks only
read; a notebook run on its own builds on demand.

Sources are a dataset folder (synthetic or raw) or an event-log file; a file's snapshots are
keyed by its name and content hash, so an edited export never reuses stale tables.

May import the foundation modules, ``features.data``, ``features.engine`` and the rest of
``features.table``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, schema
from features.data.eventlog import DataError, EventLog, load_event_log
from features.engine import check_engine
from features.io import atomic_dir, file_lock, sha256_file, write_json, write_parquet
from features.table import registry
from features.table.build import build_features, parse_cutoff
from features.table.labels import LabelSet, churn_labels, conversion_labels

FEATURES_FILE = "features.parquet"
METADATA_FILE = "metadata.json"
PROCESSED_FORMAT_VERSION = 2
TASKS = ("conversion", "churn")


@dataclass(frozen=True)
class LabelSpec:
    """A label set a snapshot must carry: task, horizon and (churn) activity lookback."""

    task: str
    horizon_days: int
    lookback_days: int | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task {self.task!r}: must be one of {', '.join(TASKS)}")

    def matches(self, summary: Mapping[str, Any]) -> bool:
        """True when a stored label set (its metadata summary) has this definition."""
        lookback = self.lookback_days if self.task == "churn" else None
        return (
            summary.get("horizon_days") == self.horizon_days
            and summary.get("lookback_days") == lookback
        )


@dataclass(frozen=True)
class EventSource:
    """Where a snapshot's events come from, and how the event log is read.

    ``path`` is a dataset folder or an event-log file; the column names are those of
    ``features.data.eventlog.load_event_log``.
    """

    path: Path
    id_col: str = schema.ID_COL
    time_col: str = schema.TIME_COL
    event_type_col: str | None = schema.EVENT_TYPE_COL
    amount_col: str | None = schema.AMOUNT_COL

    @property
    def read_options(self) -> dict[str, Any]:
        """The column mapping (part of a snapshot's identity)."""
        return {
            "id_col": self.id_col,
            "time_col": self.time_col,
            "event_type_col": self.event_type_col,
            "amount_col": self.amount_col,
        }

    @property
    def dataset_name(self) -> str:
        """Folder name of the source's snapshots: the dataset folder, or file stem + hash."""
        if self.path.is_dir():
            return self.path.name
        return f"{self.path.stem}-{sha256_file(self.path)[:10]}"

    def current_hashes(self, names: Sequence[str]) -> dict[str, str] | None:
        """sha256 now of the named input files (None when one of them is gone)."""
        if not self.path.is_dir():
            return {self.path.name: sha256_file(self.path)} if self.path.is_file() else None
        files = [self.path / name for name in names]
        if not files or not all(f.is_file() for f in files):
            return None
        return {f.name: sha256_file(f) for f in files}

    def load(self, lazy: bool = False) -> EventLog:
        """The cleaned event log (quiet: the summary goes into the snapshot's metadata).

        Callers use its events in pandas, so a dataset's events are read now; ``lazy=True``
        keeps them in the file until used (for features only, see ``load_event_log``).
        """
        return load_event_log(self.path, verbose=False, lazy=lazy, **self.read_options)


@dataclass
class Snapshot:
    """Features at one cutoff and the label sets stored with them."""

    dataset: str
    cutoff: pd.Timestamp
    features: pd.DataFrame
    labels: dict[str, LabelSet]
    metadata: dict[str, Any]
    path: Path
    built: bool = False

    @property
    def input_hashes(self) -> dict[str, str]:
        """sha256 of the source files the snapshot was built from."""
        return dict(self.metadata.get("input_sha256", {}))

    @property
    def cleaning(self) -> dict[str, int]:
        """What the event-log cleaning rules changed or found."""
        return dict(self.metadata.get("cleaning", {}))


@dataclass
class _Plan:
    cutoff: pd.Timestamp
    specs: list[LabelSpec]
    stored: dict[str, Any] | None = None
    reuse: dict[str, LabelSet] = field(default_factory=dict)


def processed_path(dataset_name: str, cutoff: Any, root: str | Path | None = None) -> Path:
    """Folder of the processed tables of a dataset at a cutoff."""
    return _dataset_dir(dataset_name, root) / f"{parse_cutoff(cutoff):%Y-%m-%d}"


def _dataset_dir(dataset_name: str, root: str | Path | None) -> Path:
    return (Path(root) if root is not None else config.processed_dir()) / dataset_name


def _lock_path(folder: Path) -> Path:
    """Lock file of a dataset's processed folder, kept outside the data folders (a failed
    gate leaves nothing there) in a per-user temporary folder."""
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"features-locks-{os.getuid()}" / f"{key}.lock"


def _read_metadata(folder: Path) -> dict[str, Any] | None:
    try:
        metadata = json.loads((folder / METADATA_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return metadata if isinstance(metadata, dict) else None


def _fits(metadata: Mapping[str, Any] | None, source: EventSource, engine: str) -> bool:
    """A stored snapshot fits when format, registry, read options and input files are the same.

    The engines build equal tables (``tests/features/engine``), so a DuckDB request reads a
    snapshot whichever engine built it; a Spark request rebuilds one that DuckDB built, so that
    a run asked to use Spark does.
    """
    if not (
        metadata
        and metadata.get("format_version") == PROCESSED_FORMAT_VERSION
        and engine in ("duckdb", metadata.get("engine", "duckdb"))
        and metadata.get("feature_registry_version") == registry.REGISTRY_VERSION
        and metadata.get("read_options") == source.read_options
    ):
        return False
    stored = dict(metadata.get("input_sha256") or {})
    return bool(stored) and source.current_hashes(sorted(stored)) == stored


def _stored_label_set(folder: Path, summary: Mapping[str, Any]) -> LabelSet:
    return LabelSet(
        task=summary["task"],
        labels=pd.read_parquet(folder / f"labels_{summary['task']}.parquet"),
        population=summary["population"],
        definition=summary["definition"],
        cutoff=parse_cutoff(summary["cutoff"]),
        horizon_days=int(summary["horizon_days"]),
        lookback_days=summary.get("lookback_days"),
    )


def build_label_set(
    log: EventLog, cutoff: pd.Timestamp, spec: LabelSpec, engine: str = "duckdb", spark: Any = None
) -> LabelSet:
    """The label set ``spec`` asks for, from an event log, at ``cutoff``."""
    if spec.task == "conversion":
        return conversion_labels(log, cutoff, spec.horizon_days, engine=engine, spark=spark)
    return churn_labels(
        log, cutoff, spec.horizon_days, spec.lookback_days, engine=engine, spark=spark
    )


def write_snapshot(
    folder: Path,
    features: pd.DataFrame,
    label_sets: Mapping[str, LabelSet],
    metadata: Mapping[str, Any],
) -> Path:
    """Write features, labels and metadata into ``folder`` atomically (replacing it whole)."""
    with atomic_dir(folder, overwrite=True) as tmp:
        write_parquet(features, tmp / FEATURES_FILE)
        for task, label_set in sorted(label_sets.items()):
            write_parquet(label_set.labels, tmp / f"labels_{task}.parquet")
        write_json(dict(metadata), tmp / METADATA_FILE)
    return folder


def snapshot_metadata(
    dataset: str,
    cutoff: pd.Timestamp,
    features: pd.DataFrame,
    label_sets: Mapping[str, LabelSet],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """metadata.json of a snapshot (no wall-clock time: equal inputs give equal bytes)."""
    return {
        "format_version": PROCESSED_FORMAT_VERSION,
        "dataset": dataset,
        "cutoff": f"{cutoff:%Y-%m-%d}",
        "feature_registry_version": registry.REGISTRY_VERSION,
        "n_customers": len(features),
        "feature_columns": [c for c in features.columns if c != schema.ID_COL],
        "feature_dtypes": {c: str(t) for c, t in features.dtypes.items()},
        "horizons_days": {task: s.horizon_days for task, s in sorted(label_sets.items())},
        "populations": {task: s.summary() for task, s in sorted(label_sets.items())},
        **dict(extra or {}),
    }


def load_snapshots(
    source: EventSource | str | os.PathLike[str],
    requests: Mapping[Any, Sequence[LabelSpec]],
    *,
    root: str | Path | None = None,
    check: Callable[[pd.Timestamp, LabelSet], None] | None = None,
    extra_metadata: Mapping[str, Any] | None = None,
    echo: Callable[[str], None] | None = None,
    log: EventLog | None = None,
    engine: str = "duckdb",
    spark: Any = None,
) -> dict[pd.Timestamp, Snapshot]:
    """The snapshots of ``source`` at each requested cutoff, read when stored, else built.

    Args:
        source: an EventSource, or a dataset folder / event-log file path.
        requests: cutoff -> the label sets that snapshot must carry (may be empty).
        root: folder of the processed data (default ``data/processed``).
        check: called with every label set built now, before anything is written (the
            minimum-data gate); raising stops the build and writes nothing.
        extra_metadata: added to metadata.json of snapshots built now.
        echo: progress lines (e.g. ``print``); silent by default.
        log: the source's event log when the caller has already loaded it.
        engine: "duckdb" or "spark": where features and labels are built (``spark``: the
            session; a local one by default).

    A stored snapshot that lacks a requested label set (or holds it with another horizon) is
    rebuilt with the label sets asked for now plus the stored ones that still fit.
    """
    src = source if isinstance(source, EventSource) else EventSource(config.project_path(source))
    say = echo or (lambda line: None)
    if not src.path.exists():
        raise DataError(f"{src.path}: not found (rule: the event log or dataset folder must exist)")
    dataset = src.dataset_name
    # Notebooks running side by side share the processed folder: one process at a time plans,
    # builds, writes and reads a dataset's snapshots, so none overwrites label sets that
    # another has just written, nor reads a folder while it is being replaced.
    folder = _dataset_dir(dataset, root)
    with file_lock(
        _lock_path(folder), on_wait=lambda holder: say(f"waiting for {folder}: held by {holder}")
    ):
        return _load_locked(
            src, dataset, requests, root, check, extra_metadata, say, log, engine, spark
        )


def _load_locked(
    src: EventSource,
    dataset: str,
    requests: Mapping[Any, Sequence[LabelSpec]],
    root: str | Path | None,
    check: Callable[[pd.Timestamp, LabelSet], None] | None,
    extra_metadata: Mapping[str, Any] | None,
    say: Callable[[str], None],
    log: EventLog | None,
    engine: str,
    spark: Any,
) -> dict[pd.Timestamp, Snapshot]:
    """``load_snapshots`` under the dataset's lock."""
    plans: list[_Plan] = []
    for cutoff, specs in requests.items():
        cutoff_ts = parse_cutoff(cutoff)
        plan = _Plan(cutoff_ts, list(specs))
        folder = processed_path(dataset, cutoff_ts, root)
        metadata = _read_metadata(folder)
        if _fits(metadata, src, check_engine(engine)):
            plan.stored = metadata
            populations = metadata.get("populations", {})
            plan.reuse = {
                task: _stored_label_set(folder, summary) for task, summary in populations.items()
            }
        plans.append(plan)

    def complete(plan: _Plan) -> bool:
        return plan.stored is not None and all(
            spec.task in plan.stored.get("populations", {})
            and spec.matches(plan.stored["populations"][spec.task])
            for spec in plan.specs
        )

    pending: list[tuple[_Plan, pd.DataFrame, dict[str, LabelSet], dict[str, Any]]] = []
    for plan in plans:
        if complete(plan):
            continue
        if log is None:
            say(f"loading {src.path}")
            # labels read the events in pandas (then read them once, now); features alone
            # aggregate straight from a dataset's file
            log = src.load(lazy=not any(p.specs for p in plans if not complete(p)))
        say(f"building features at {plan.cutoff:%Y-%m-%d}")
        features = build_features(log, plan.cutoff, engine=engine, spark=spark)
        built = {
            spec.task: build_label_set(log, plan.cutoff, spec, engine, spark) for spec in plan.specs
        }
        if check is not None:
            for label_set in built.values():
                check(plan.cutoff, label_set)
        # stored label sets of other tasks still fit the same inputs: keep them
        label_sets = {**{t: s for t, s in plan.reuse.items() if t not in built}, **built}
        source_metadata = {
            "source": src.path.name,
            "read_options": src.read_options,
            "input_sha256": dict(sorted(log.input_hashes.items())),
            "cleaning": dict(sorted(log.cleaning.items())),
            "engine": engine,
        }
        metadata = snapshot_metadata(
            dataset,
            plan.cutoff,
            features,
            label_sets,
            {**source_metadata, **dict(extra_metadata or {})},
        )
        pending.append((plan, features, label_sets, metadata))
    for plan, features, label_sets, metadata in pending:  # written only after every gate passed
        folder = write_snapshot(
            processed_path(dataset, plan.cutoff, root), features, label_sets, metadata
        )
        plan.stored = metadata
        say(f"wrote {folder}")

    # Read back what was written too: one representation of the data, whoever built it.
    result: dict[pd.Timestamp, Snapshot] = {}
    for plan in plans:
        folder = processed_path(dataset, plan.cutoff, root)
        metadata = plan.stored or {}
        populations = metadata.get("populations", {})
        result[plan.cutoff] = Snapshot(
            dataset,
            plan.cutoff,
            pd.read_parquet(folder / FEATURES_FILE),
            {spec.task: _stored_label_set(folder, populations[spec.task]) for spec in plan.specs},
            dict(metadata),
            folder,
            built=any(p is plan for p, *_ in pending),
        )
        if not result[plan.cutoff].built:
            say(f"read snapshot {dataset} at {plan.cutoff:%Y-%m-%d}")
    return result
