"""Study data: model-ready train and test parts of a conversion or churn study.

Owns ``StudyData`` and ``prepare_study_data`` with its steps: the point-in-time snapshot at a
cutoff (features before it, labels from it), the time or random split, alignment of the test
part to the training columns, dropping uninformative columns, the class-count gate, the
oracle on synthetic data and the data hashes that identify the evaluation data.

May import the foundation, ``features.data``, ``features.table``,
``features.propensity.params`` and ``features.propensity.modeling``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.data import datasets, oracle, tabular
from features.io import sha256_file
from features.propensity import modeling
from features.propensity.params import N_FOLDS, StudyParams
from features.table.processed import check_min_class_count
from features.table.snapshots import EventSource, LabelSpec, Snapshot, load_snapshots

# Features the one-feature baseline prefers per task (when the data have them).
HEURISTIC_FEATURES = {"conversion": ("funnel_depth",), "churn": ("recency_days",)}


@dataclass
class StudyData:
    """Model-ready train and test parts of one study and what they came from.

    Validation data are folds of the training part (see ``modeling.train_lightgbm_cv``).
    """

    task: str
    source_kind: str
    source: str
    split: str
    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    ids_test: pd.Series
    segments_test: pd.DataFrame
    train_cutoff: pd.Timestamp | None = None
    test_cutoff: pd.Timestamp | None = None
    heuristic_preferred: tuple[str, ...] = ()
    population: str = "customers"
    oracle_test: np.ndarray | None = None
    oracle_roc_auc: float | None = None
    data_hashes: dict[str, str] = field(default_factory=dict)
    eval_data_hash: str = ""
    notes: list[str] = field(default_factory=list)
    cleaning: dict[str, int] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """Model feature columns."""
        return list(self.X_train.columns)

    def describe(self) -> str:
        """A few lines on sizes, classes and the split."""
        parts = [
            f"{self.task} study, source: {self.source_kind} ({self.source})",
            f"split: {self.split}"
            + (
                f" (train snapshot at {self.train_cutoff.date()}, test at "
                f"{self.test_cutoff.date()})"
                if self.split == "time" and self.train_cutoff is not None
                else ""
            ),
        ]
        for name, y in (("train", self.y_train), ("test", self.y_test)):
            parts.append(f"{name}: {len(y):,} rows, {int(y.sum()):,} positives ({y.mean():.1%})")
        parts.append(
            f"validation: {N_FOLDS}-fold cross-validation inside the train part (early "
            "stopping, search, calibration); the test part is for evaluation only"
        )
        parts.append(f"features: {len(self.feature_names)}")
        if self.oracle_roc_auc is not None:
            parts.append(f"oracle ROC AUC on the test part: {self.oracle_roc_auc:.4f}")
        return "\n".join(parts)


def hash_frame(*parts: pd.Series | pd.DataFrame) -> str:
    """SHA-256 over the values of aligned Series/DataFrames (identifies evaluation data)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def as_model_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categories, booleans as numbers (what LightGBM takes)."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if pd.api.types.is_bool_dtype(col):
            out[name] = col.astype(float)
        elif not pd.api.types.is_numeric_dtype(col) and not isinstance(
            col.dtype, pd.CategoricalDtype
        ):
            out[name] = col.astype("string").astype("category")
    return out


def align_to_training(X: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """``X`` with the training columns (absent ones NaN) and the training category levels."""
    aligned = X.reindex(columns=reference.columns)
    for name in reference.columns:
        ref = reference[name]
        if isinstance(ref.dtype, pd.CategoricalDtype):
            values = aligned[name].astype("object").where(aligned[name].notna())
            aligned[name] = pd.Categorical(values, categories=ref.cat.categories)
        else:
            aligned[name] = pd.to_numeric(aligned[name], errors="coerce").astype("float64")
    return aligned


def drop_uninformative(
    X_train: pd.DataFrame, X_test: pd.DataFrame, notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop columns that are all missing or constant in the training data."""
    dropped = modeling.uninformative_columns(X_train)
    if len(dropped) == X_train.shape[1]:
        raise ValueError("every feature is constant or missing in the training data")
    if dropped:
        shown = ", ".join(dropped[:8]) + (", ..." if len(dropped) > 8 else "")
        notes.append(
            f"{len(dropped)} features constant or missing in training data dropped ({shown})"
        )
    return X_train.drop(columns=dropped), X_test.drop(columns=dropped)


def check_class_counts(y: pd.Series, part: str, min_class_count: int) -> None:
    """Both classes need at least ``min_class_count`` rows in ``part`` (processed data gate)."""
    check_min_class_count(
        pd.DataFrame({"label": y.to_numpy()}), min_class_count, name=f"{part} part"
    )


def label_spec(params: StudyParams) -> LabelSpec:
    """The label set a study's snapshots carry (task, horizon, churn lookback)."""
    lookback = params.lookback_days if params.task == "churn" else None
    return LabelSpec(params.task, params.horizon_days, lookback)


def build_snapshot(task: str, snapshot: Snapshot) -> tuple[pd.DataFrame, pd.Series, pd.Series, str]:
    """Features (events before the cutoff) of the task's population, labels, ids, population.

    The population is the label set's (open leads, active owners or active customers).
    """
    label_set = snapshot.labels[task]
    label_frame = label_set.labels[[schema.ID_COL, "label"]].copy()
    label_frame[schema.ID_COL] = label_frame[schema.ID_COL].astype("str")
    table = label_frame.merge(
        snapshot.features, on=schema.ID_COL, how="left", validate="one_to_one"
    )
    table = table.sort_values(schema.ID_COL, kind="stable", ignore_index=True)
    ids = table.pop(schema.ID_COL)
    y = table.pop("label").astype("int8")
    leaked = [c for c in table.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"features carry personal fields {leaked}")
    return table, y, ids, label_set.population.replace("_", " ")


def _segments(X: pd.DataFrame, truth_persona: pd.Series | None) -> pd.DataFrame:
    """Segment columns of the test part: true persona (synthetic data) and channel."""
    columns = {}
    if truth_persona is not None:
        columns["persona"] = truth_persona.to_numpy()
    if "acquisition_channel" in X.columns:
        columns["acquisition_channel"] = X["acquisition_channel"].to_numpy()
    return pd.DataFrame(columns, index=X.index)


def _gate_and_align(
    params: StudyParams,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gate, align and trim the parts; return ``(X_train, X_test)``.

    Both parts must pass the class-count gate; the test part gets the training columns, then
    columns uninformative in training are dropped from both (noted in ``notes``).
    """
    check_class_counts(y_train, "train", params.min_class_count)
    check_class_counts(y_test, "test", params.min_class_count)
    X_test = align_to_training(X_test, X_train)
    return drop_uninformative(X_train, X_test, notes)


def _part_fields(
    split: str,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    ids_test: pd.Series,
    truth_persona: pd.Series | None,
) -> dict[str, Any]:
    """The ``StudyData`` fields of the train and test parts, alike for every source.

    How the parts were split, the parts, the test part's segments and its evaluation hash.
    """
    return {
        "split": split,
        "X_train": X_train,
        "y_train": y_train,
        "X_test": X_test,
        "y_test": y_test,
        "ids_test": ids_test,
        "segments_test": _segments(X_test, truth_persona),
        "eval_data_hash": hash_frame(ids_test.astype("str"), y_test),
    }


def _prepare_event_study(params: StudyParams) -> StudyData:
    """Snapshots of a synthetic dataset or an event log, split by time or at random."""
    notes: list[str] = []
    truth = None
    if params.source_kind == "synthetic":
        dataset_dir = datasets.ensure_synthetic_dataset(params.n_customers, params.seed)
        truth = oracle.load_truth(dataset_dir)
        source = EventSource(Path(dataset_dir))
    else:
        source = EventSource(
            Path(params.source_path),
            id_col=params.id_col,
            time_col=params.time_col,
            event_type_col=params.event_type_col,
            amount_col=params.amount_col,
        )
    test_cutoff = pd.Timestamp(params.cutoff)
    train_at = test_cutoff - pd.Timedelta(days=params.horizon_days)
    requests = {test_cutoff: [label_spec(params)]}
    if params.split == "time":
        requests[train_at] = [label_spec(params)]
    snapshots = load_snapshots(source, requests, echo=print, engine=params.engine)
    test_snapshot = snapshots[test_cutoff]
    cleaned = ", ".join(f"{k} {v}" for k, v in test_snapshot.cleaning.items() if v)
    print(f"event log {source.path.name}: cleaning: {cleaned or 'nothing to clean'}")
    X_test_full, y_test_full, ids_test_full, population = build_snapshot(params.task, test_snapshot)
    if params.split == "time":
        train_cutoff = train_at
        X_train, y_train, _, _ = build_snapshot(params.task, snapshots[train_at])
        X_test, y_test, ids_test = X_test_full, y_test_full, ids_test_full
    else:
        train_cutoff = test_cutoff
        train_pos, test_pos = modeling.stratified_holdout(
            y_test_full, params.test_size, params.seed
        )
        X_train = X_test_full.iloc[train_pos].reset_index(drop=True)
        y_train = y_test_full.iloc[train_pos].reset_index(drop=True)
        X_test = X_test_full.iloc[test_pos].reset_index(drop=True)
        y_test = y_test_full.iloc[test_pos].reset_index(drop=True)
        ids_test = ids_test_full.iloc[test_pos].reset_index(drop=True)
    X_train, X_test = _gate_and_align(params, X_train, y_train, X_test, y_test, notes)

    persona = oracle_test = oracle_auc = None
    if truth is not None:
        persona = (
            truth.assign(**{schema.ID_COL: truth[schema.ID_COL].astype("str")})
            .set_index(schema.ID_COL)["persona"]
            .reindex(ids_test)
        )
        labels_test = pd.Series(y_test.to_numpy(), index=ids_test.to_numpy(), name="label")
        oracle_test = np.asarray(
            oracle.oracle_probabilities(
                truth, ids_test, test_cutoff, params.horizon_days, params.task
            ),
            dtype="float64",
        )
        oracle_auc = float(
            oracle.oracle_roc_auc(truth, labels_test, test_cutoff, params.horizon_days, params.task)
        )
    preferred = HEURISTIC_FEATURES[params.task]
    if not any(name in X_train.columns for name in preferred):
        notes.append(
            f"heuristic feature {preferred[0]!r} not in this data: the baseline uses the best "
            "single feature on validation data"
        )
    return StudyData(
        task=params.task,
        source_kind=params.source_kind,
        source=str(source.path),
        **_part_fields(params.split, X_train, y_train, X_test, y_test, ids_test, persona),
        train_cutoff=train_cutoff,
        test_cutoff=test_cutoff,
        heuristic_preferred=preferred,
        population=population,
        oracle_test=oracle_test,
        oracle_roc_auc=oracle_auc,
        data_hashes=test_snapshot.input_hashes,
        notes=notes,
        cleaning=dict(test_snapshot.cleaning),
    )


def _prepare_table_study(params: StudyParams) -> StudyData:
    """A ready table split by its time column or at random."""
    table = tabular.load_ready_table(
        params.source_path,
        target=params.target,
        positive_label=params.positive_label,
        drop_cols=params.drop_cols,
        id_col=params.id_col,
        time_col=params.time_col,
    )
    notes = list(table.notes)
    split = params.split
    if split == "time" and table.times is None:
        notes.append(
            f"split 'time' needs a time column ({params.time_col!r}); the table has none, so "
            "a stratified random split is used"
        )
        split = "random"
    if split == "time":
        train_pos, test_pos = modeling.split_time_ordered(table.times, params.test_size)
    else:
        train_pos, test_pos = modeling.stratified_holdout(
            table.target, params.test_size, params.seed
        )
    X, y, ids = table.features, table.target, table.ids
    y_train = y.iloc[train_pos].reset_index(drop=True)
    y_test = y.iloc[test_pos].reset_index(drop=True)
    X_train = X.iloc[train_pos].reset_index(drop=True)
    X_test = X.iloc[test_pos].reset_index(drop=True)
    X_train, X_test = _gate_and_align(params, X_train, y_train, X_test, y_test, notes)
    ids_test = ids.iloc[test_pos].reset_index(drop=True)
    path = Path(params.source_path)
    notes.append(
        "ready table: the one-feature baseline is the best single feature on validation data"
    )
    return StudyData(
        task=params.task,
        source_kind="table",
        source=str(path),
        **_part_fields(split, X_train, y_train, X_test, y_test, ids_test, None),
        data_hashes={path.name: sha256_file(path)},
        notes=notes,
    )


def prepare_study_data(params: StudyParams) -> StudyData:
    """Train and test parts for ``params`` (see ``StudyData``)."""
    if params.source_kind == "table":
        data = _prepare_table_study(params)
    else:
        data = _prepare_event_study(params)
    for note in data.notes:
        print(f"note: {note}")
    return data
