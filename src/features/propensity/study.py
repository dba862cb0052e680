"""The conversion and churn studies: one orchestration shared by notebooks 02 and 03.

A study goes: validate parameters -> prepare train / test data from a synthetic dataset, an
event log or a ready table -> train LightGBM (early stopping and any search on k-fold validation
parts of the training data, then a refit on all training rows) -> calibrate on out-of-fold
scores -> baselines -> evaluate on the test part -> explain with exact TreeSHAP -> save outputs
and track in MLflow.

The notebooks only call these functions, so the two studies cannot drift apart.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import config, schema
from features.data import tabular
from features.params import (
    ParameterError,
    check_choice,
    check_date,
    check_float,
    check_int,
    check_str_list,
)
from features.propensity import evaluation, explain, modeling

TASKS = ("conversion", "churn")
SPLITS = ("time", "random")
REGISTERED_MODELS = {"conversion": "nev-conversion", "churn": "nev-churn"}
HEURISTIC_FEATURES = {"conversion": ("funnel_depth",), "churn": ("recency_days",)}
HEURISTIC_WORDS = {"funnel_depth": "funnel depth", "recency_days": "recency"}
SEGMENT_COLUMNS = ("persona", "acquisition_channel")
N_FOLDS = 5
SHAP_PLOT_ROWS = 2000
N_REASONS = 3
# Differences in ROC AUC below this are reported as a tie, not a win.
AUC_TIE = 0.002
# Keys every model notebook's metrics.json carries (a contract: scripts read them).
METRICS_KEYS = (
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "ece",
    "lift_at_10pct",
    "baseline_logreg_roc_auc",
    "baseline_heuristic_roc_auc",
    "n_train",
    "n_test",
    "positive_rate",
    "mlflow_run_id",
)
# Columns of scores.parquet (a contract: downstream scripts read them).
SCORES_COLUMNS = (
    schema.ID_COL,
    "probability",
    "decile",
    "bucket",
    "reason_1",
    "reason_2",
    "reason_3",
)

PARAMETER_NAMES = (
    "data_source",
    "n_customers",
    "seed",
    "cutoff",
    "horizon_days",
    "lookback_days",
    "split",
    "test_size",
    "target",
    "positive_label",
    "id_col",
    "time_col",
    "amount_col",
    "event_type_col",
    "drop_cols",
    "n_trials",
    "output_dir",
    "mlflow_tracking_uri",
    "min_class_count",
    "contact_cost",
    "value_per_positive",
    "num_threads",
)


# --- parameters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyParams:
    """Validated notebook parameters of one study (names as in the notebooks)."""

    task: str
    data_source: str
    n_customers: int
    seed: int
    cutoff: str
    horizon_days: int
    lookback_days: int
    split: str
    test_size: float
    target: str
    positive_label: Any
    id_col: str
    time_col: str
    amount_col: str | None
    event_type_col: str | None
    drop_cols: tuple[str, ...]
    n_trials: int
    output_dir: str
    mlflow_tracking_uri: str
    min_class_count: int
    contact_cost: float
    value_per_positive: float
    num_threads: int
    source_kind: str = "synthetic"
    source_path: str = ""

    def as_dict(self) -> dict[str, Any]:
        """All parameters as plain values (for MLflow and metrics.json)."""
        values = asdict(self)
        values["drop_cols"] = list(self.drop_cols)
        return values


def resolve_source_path(data_source: str) -> Path:
    """An absolute path as it is; a relative one from the project root (never the cwd)."""
    path = Path(data_source).expanduser()
    return path if path.is_absolute() else (config.PROJECT_ROOT / path).resolve()


def detect_source_kind(path: Path, target: str, id_col: str, time_col: str) -> str:
    """``event_log`` or ``table`` from the file's columns (a folder is a dataset: event log)."""
    if path.is_dir():
        return "event_log"
    columns = tabular.read_columns(path)
    if target and target in columns:
        return "table"
    if id_col in columns and time_col in columns:
        return "event_log"
    if target:
        raise ParameterError(
            f"parameter 'target' = {target!r}: column not found in {path} "
            f"(columns: {', '.join(columns[:15])})"
        )
    raise ParameterError(
        f"parameter 'data_source' = {str(path)!r}: neither an event log (needs columns "
        f"{id_col!r} and {time_col!r}) nor a ready table (set parameter 'target')"
    )


def _optional_column(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParameterError(f"parameter {name!r} = {value!r}: must be a column name or ''")
    return value


def _column_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"parameter {name!r} = {value!r}: must be a non-empty column name")
    return value


def validate_params(task: str, **params: Any) -> StudyParams:
    """Check every notebook parameter; raise ``ParameterError`` naming the first bad one."""
    check_choice("task", task, TASKS)
    missing = [name for name in PARAMETER_NAMES if name not in params]
    if missing:
        raise ParameterError(f"parameter {missing[0]!r} is missing")
    unknown = sorted(set(params) - set(PARAMETER_NAMES))
    if unknown:
        raise ParameterError(f"parameter {unknown[0]!r} is unknown")
    p = params
    data_source = p["data_source"]
    if not isinstance(data_source, str) or not data_source.strip():
        raise ParameterError(
            f"parameter 'data_source' = {data_source!r}: must be 'synthetic' or a file path"
        )
    check_int("n_customers", p["n_customers"], minimum=200, maximum=5_000_000)
    check_int("seed", p["seed"], minimum=0)
    check_date("cutoff", p["cutoff"])
    check_int("horizon_days", p["horizon_days"], minimum=1, maximum=730)
    check_int("lookback_days", p["lookback_days"], minimum=1, maximum=730)
    check_choice("split", p["split"], SPLITS)
    check_float("test_size", p["test_size"], minimum=0.0, maximum=0.9, exclusive=True)
    target = p["target"]
    if not isinstance(target, str):
        raise ParameterError(f"parameter 'target' = {target!r}: must be a column name or ''")
    positive_label = p["positive_label"]
    if positive_label is not None and not isinstance(positive_label, str | int | float | bool):
        raise ParameterError(
            f"parameter 'positive_label' = {positive_label!r}: must be a value of the target"
        )
    id_col = _column_name("id_col", p["id_col"])
    time_col = _column_name("time_col", p["time_col"])
    amount_col = _optional_column("amount_col", p["amount_col"])
    event_type_col = _optional_column("event_type_col", p["event_type_col"])
    drop_cols = tuple(check_str_list("drop_cols", p["drop_cols"]))
    check_int("n_trials", p["n_trials"], minimum=0, maximum=500)
    for name in ("output_dir", "mlflow_tracking_uri"):
        if not isinstance(p[name], str):
            raise ParameterError(
                f"parameter {name!r} = {p[name]!r}: must be a string ('' = default)"
            )
    check_int("min_class_count", p["min_class_count"], minimum=1)
    check_float("contact_cost", p["contact_cost"], minimum=0.0)
    check_float("value_per_positive", p["value_per_positive"], minimum=0.0, exclusive=True)
    check_int("num_threads", p["num_threads"], minimum=1, maximum=256)

    source_kind, source_path = "synthetic", ""
    if data_source != "synthetic":
        path = resolve_source_path(data_source)
        if not path.exists():
            raise ParameterError(
                f"parameter 'data_source' = {data_source!r}: no such file or folder ({path})"
            )
        source_kind = detect_source_kind(path, target, id_col, time_col)
        source_path = str(path)
        if source_kind == "table":
            columns = tabular.read_columns(path)
            absent = [c for c in drop_cols if c not in columns]
            if absent:
                raise ParameterError(
                    f"parameter 'drop_cols' = {list(drop_cols)!r}: {absent} not in {path}"
                )
            if target in drop_cols:
                raise ParameterError(f"parameter 'drop_cols': must not contain target {target!r}")
    return StudyParams(
        task=task,
        data_source=data_source,
        n_customers=p["n_customers"],
        seed=p["seed"],
        cutoff=p["cutoff"],
        horizon_days=p["horizon_days"],
        lookback_days=p["lookback_days"],
        split=p["split"],
        test_size=float(p["test_size"]),
        target=target,
        positive_label=positive_label,
        id_col=id_col,
        time_col=time_col,
        amount_col=amount_col,
        event_type_col=event_type_col,
        drop_cols=drop_cols,
        n_trials=p["n_trials"],
        output_dir=p["output_dir"],
        mlflow_tracking_uri=p["mlflow_tracking_uri"],
        min_class_count=p["min_class_count"],
        contact_cost=float(p["contact_cost"]),
        value_per_positive=float(p["value_per_positive"]),
        num_threads=p["num_threads"],
        source_kind=source_kind,
        source_path=source_path,
    )


# --- data -----------------------------------------------------------------------------------


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
    from features.table.processed import check_min_class_count

    check_min_class_count(
        pd.DataFrame({"label": y.to_numpy()}), min_class_count, name=f"{part} part"
    )


def _labels_at(task: str, log: Any, cutoff: pd.Timestamp, params: StudyParams) -> Any:
    from features.table import labels

    if task == "conversion":
        return labels.conversion_labels(
            log.events, cutoff, params.horizon_days, customers=log.customers
        )
    return labels.churn_labels(
        log.events,
        cutoff,
        params.horizon_days,
        lookback_days=params.lookback_days,
        customers=log.customers,
    )


def build_snapshot(
    task: str, log: Any, cutoff: pd.Timestamp, params: StudyParams
) -> tuple[pd.DataFrame, pd.Series, pd.Series, str]:
    """Features (events before ``cutoff``), labels (events from ``cutoff``), ids, population.

    The population is the label set's (open leads, active owners or active customers).
    """
    from features.table.build import build_features

    label_set = _labels_at(task, log, cutoff, params)
    label_frame = label_set.labels[[schema.ID_COL, "label"]].copy()
    label_frame[schema.ID_COL] = label_frame[schema.ID_COL].astype("str")
    feats = build_features(log.events, cutoff, customers=log.customers)
    table = label_frame.merge(feats, on=schema.ID_COL, how="left", validate="one_to_one")
    table = table.sort_values(schema.ID_COL, kind="stable", ignore_index=True)
    ids = table.pop(schema.ID_COL)
    y = table.pop("label").astype("int8")
    leaked = [c for c in table.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"features carry personal fields {leaked}")
    return table, y, ids, label_set.population.replace("_", " ")


def _segments(X: pd.DataFrame, truth_persona: pd.Series | None) -> pd.DataFrame:
    columns = {}
    if truth_persona is not None:
        columns["persona"] = truth_persona.to_numpy()
    if "acquisition_channel" in X.columns:
        columns["acquisition_channel"] = X["acquisition_channel"].to_numpy()
    return pd.DataFrame(columns, index=X.index)


def _prepare_event_study(params: StudyParams) -> StudyData:
    from features.data.eventlog import load_event_log

    notes: list[str] = []
    truth = None
    if params.source_kind == "synthetic":
        from features.data import datasets, oracle

        dataset_dir = datasets.ensure_synthetic_dataset(params.n_customers, params.seed)
        log = load_event_log(dataset_dir)
        truth = oracle.load_truth(dataset_dir)
        source = str(dataset_dir)
    else:
        log = load_event_log(
            params.source_path,
            id_col=params.id_col,
            time_col=params.time_col,
            event_type_col=params.event_type_col,
            amount_col=params.amount_col,
        )
        source = params.source_path
    test_cutoff = pd.Timestamp(params.cutoff)
    X_test_full, y_test_full, ids_test_full, population = build_snapshot(
        params.task, log, test_cutoff, params
    )
    if params.split == "time":
        train_cutoff = test_cutoff - pd.Timedelta(days=params.horizon_days)
        X_train_full, y_train_full, _, _ = build_snapshot(params.task, log, train_cutoff, params)
        X_test, y_test, ids_test = X_test_full, y_test_full, ids_test_full
    else:
        train_cutoff = test_cutoff
        train_pos, test_pos = modeling.stratified_holdout(
            y_test_full, params.test_size, params.seed
        )
        X_train_full = X_test_full.iloc[train_pos].reset_index(drop=True)
        y_train_full = y_test_full.iloc[train_pos].reset_index(drop=True)
        X_test = X_test_full.iloc[test_pos].reset_index(drop=True)
        y_test = y_test_full.iloc[test_pos].reset_index(drop=True)
        ids_test = ids_test_full.iloc[test_pos].reset_index(drop=True)
    check_class_counts(y_train_full, "train", params.min_class_count)
    check_class_counts(y_test, "test", params.min_class_count)
    X_train, y_train = X_train_full, y_train_full
    X_test = align_to_training(X_test, X_train)
    X_train, X_test = drop_uninformative(X_train, X_test, notes)

    persona = oracle_test = oracle_auc = None
    if truth is not None:
        from features.data import oracle

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
        source=source,
        split=params.split,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        ids_test=ids_test,
        segments_test=_segments(X_test, persona),
        train_cutoff=train_cutoff,
        test_cutoff=test_cutoff,
        heuristic_preferred=preferred,
        population=population,
        oracle_test=oracle_test,
        oracle_roc_auc=oracle_auc,
        data_hashes=dict(log.input_hashes),
        eval_data_hash=hash_frame(ids_test.astype("str"), y_test),
        notes=notes,
    )


def _prepare_table_study(params: StudyParams) -> StudyData:
    from features.io import sha256_file

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
    check_class_counts(y_train, "train", params.min_class_count)
    check_class_counts(y_test, "test", params.min_class_count)
    X_train = X.iloc[train_pos].reset_index(drop=True)
    X_test = align_to_training(X.iloc[test_pos].reset_index(drop=True), X_train)
    X_train, X_test = drop_uninformative(X_train, X_test, notes)
    ids_test = ids.iloc[test_pos].reset_index(drop=True)
    path = Path(params.source_path)
    notes.append(
        "ready table: the one-feature baseline is the best single feature on validation data"
    )
    return StudyData(
        task=params.task,
        source_kind="table",
        source=str(path),
        split=split,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        ids_test=ids_test,
        segments_test=_segments(X_test, None),
        data_hashes={path.name: sha256_file(path)},
        eval_data_hash=hash_frame(ids_test.astype("str"), y_test),
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


# --- training and evaluation ----------------------------------------------------------------


@dataclass
class StudyResults:
    """Everything a study produced: models, scores, tables, explanations and headline metrics."""

    task: str
    model: Any
    model_params: dict[str, Any]
    search_trials: pd.DataFrame
    calibrator: modeling.ProbabilityCalibrator
    logreg: Any
    heuristic: modeling.HeuristicBaseline
    probability_test: np.ndarray
    raw_test: np.ndarray
    baseline_scores: dict[str, np.ndarray]
    metrics: dict[str, Any]
    comparison: pd.DataFrame
    calibration_tables: dict[str, pd.DataFrame]
    lift_tables: dict[str, pd.DataFrame]
    buckets: pd.DataFrame
    segments: pd.DataFrame
    thresholds: pd.DataFrame
    importance: pd.DataFrame
    shap_sample: explain.ShapValues
    X_shap_sample: pd.DataFrame
    scores: pd.DataFrame
    data: StudyData
    timings: dict[str, float] = field(default_factory=dict)


def _column_name_only(name: str) -> str:
    raise KeyError(name)


def feature_describer(data: StudyData) -> Callable[[str], str]:
    """Registry meanings for event-log features; plain column names for ready tables.

    A ready table's "age" or "budget" need not mean what the NEV registry says.
    """
    if data.source_kind == "table":
        return _column_name_only
    return explain.safe_describe


def _heuristic_label(heuristic: modeling.HeuristicBaseline) -> str:
    words = HEURISTIC_WORDS.get(heuristic.feature, heuristic.feature)
    return f"heuristic ({words})"


def run_study(data: StudyData, params: StudyParams) -> StudyResults:
    """Train, calibrate, compare with baselines, evaluate on the test part and explain."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    search = modeling.search_lightgbm(
        data.X_train,
        data.y_train,
        n_trials=params.n_trials,
        num_threads=params.num_threads,
        seed=params.seed,
        n_folds=N_FOLDS,
    )
    model = search.model
    timings["train_s"] = time.perf_counter() - start

    raw_test = modeling.predict_positive(model, data.X_test)
    # Out-of-fold scores: every training row scored by a model that did not see it.
    calibrator = modeling.fit_calibrator(search.best.oof_raw, data.y_train, "sigmoid")
    p_test = calibrator.predict(raw_test)

    start = time.perf_counter()
    logreg = modeling.fit_logistic_baseline(data.X_train, data.y_train)
    heuristic = modeling.fit_heuristic_baseline(
        data.X_train, data.y_train, data.heuristic_preferred, seed=params.seed
    )
    baseline_scores = {
        "logistic regression": modeling.predict_positive(logreg, data.X_test),
        _heuristic_label(heuristic): heuristic.predict(data.X_test),
    }
    timings["baselines_s"] = time.perf_counter() - start

    y = data.y_test.to_numpy()
    headline = evaluation.classification_metrics(y, p_test)
    rows = [{"model": "LightGBM (calibrated)", **headline}]
    for name, score in baseline_scores.items():
        rows.append({"model": name, **evaluation.classification_metrics(y, score)})
    if data.oracle_test is not None:
        rows.append(
            {
                "model": "oracle (true propensity)",
                **evaluation.classification_metrics(y, data.oracle_test),
            }
        )
    comparison = pd.DataFrame(rows)
    # Heuristic scores are band rates and the logistic model is unweighted: their Brier, log
    # loss and ECE are comparable; only ROC AUC, PR AUC and lift matter for ranking.

    deciles = evaluation.assign_deciles(p_test)
    buckets = evaluation.assign_buckets(p_test)
    calibration_tables = {
        "LightGBM calibrated": evaluation.calibration_table(y, p_test),
        "LightGBM raw (class-weighted)": evaluation.calibration_table(y, raw_test),
    }
    lift_tables = {"LightGBM": evaluation.lift_table(y, p_test)}
    lift_tables.update({name: evaluation.lift_table(y, s) for name, s in baseline_scores.items()})
    if data.oracle_test is not None:
        lift_tables["oracle"] = evaluation.lift_table(y, data.oracle_test)

    start = time.perf_counter()
    shap_values = explain.tree_shap(model, data.X_test, num_threads=params.num_threads)
    reasons = explain.top_reasons(
        shap_values, data.X_test, k=N_REASONS, describe=feature_describer(data)
    )
    timings["shap_s"] = time.perf_counter() - start
    rng = np.random.default_rng(params.seed)
    sample = np.arange(len(data.X_test))
    if len(sample) > SHAP_PLOT_ROWS:
        sample = np.sort(rng.choice(sample, SHAP_PLOT_ROWS, replace=False))
    shap_sample = explain.ShapValues(
        values=shap_values.values[sample],
        base_values=None if shap_values.base_values is None else shap_values.base_values[sample],
        feature_names=shap_values.feature_names,
    )

    scores = pd.DataFrame(
        {
            schema.ID_COL: data.ids_test.to_numpy(),
            "probability": p_test,
            "decile": deciles,
            "bucket": buckets.astype("str"),
        }
    )
    scores = pd.concat([scores, reasons.reset_index(drop=True)], axis=1)[list(SCORES_COLUMNS)]

    metrics = _headline_metrics(data, headline, comparison, search, calibrator, heuristic)
    return StudyResults(
        task=data.task,
        model=model,
        model_params=search.params,
        search_trials=search.trials,
        calibrator=calibrator,
        logreg=logreg,
        heuristic=heuristic,
        probability_test=p_test,
        raw_test=raw_test,
        baseline_scores=baseline_scores,
        metrics=metrics,
        comparison=comparison,
        calibration_tables=calibration_tables,
        lift_tables=lift_tables,
        buckets=evaluation.bucket_table(y, p_test, buckets),
        segments=evaluation.segment_metrics(y, p_test, data.segments_test),
        thresholds=evaluation.threshold_table(
            y, p_test, params.contact_cost, params.value_per_positive
        ),
        importance=explain.global_importance(shap_values),
        shap_sample=shap_sample,
        X_shap_sample=data.X_test.iloc[sample].reset_index(drop=True),
        scores=scores,
        data=data,
        timings=timings,
    )


def _headline_metrics(
    data: StudyData,
    headline: dict[str, float],
    comparison: pd.DataFrame,
    search: modeling.SearchResult,
    calibrator: modeling.ProbabilityCalibrator,
    heuristic: modeling.HeuristicBaseline,
) -> dict[str, Any]:
    by_model = comparison.set_index("model")
    logreg_auc = float(by_model.loc["logistic regression", "roc_auc"])
    heuristic_auc = float(by_model.loc[_heuristic_label(heuristic), "roc_auc"])
    metrics: dict[str, Any] = {
        "roc_auc": headline["roc_auc"],
        "pr_auc": headline["pr_auc"],
        "brier": headline["brier"],
        "log_loss": headline["log_loss"],
        "ece": headline["ece"],
        "lift_at_10pct": headline["lift_at_10pct"],
        "baseline_logreg_roc_auc": logreg_auc,
        "baseline_heuristic_roc_auc": heuristic_auc,
        "baseline_logreg_pr_auc": float(by_model.loc["logistic regression", "pr_auc"]),
        "baseline_heuristic_pr_auc": float(by_model.loc[_heuristic_label(heuristic), "pr_auc"]),
        "baseline_heuristic_feature": heuristic.feature,
        "n_train": int(len(data.y_train)),
        "n_test": int(len(data.y_test)),
        "n_features": len(data.feature_names),
        "positive_rate": headline["positive_rate"],
        "positive_rate_train": float(data.y_train.mean()),
        "n_folds": N_FOLDS,
        "n_trees": int(search.model.n_estimators),
        "fold_best_iterations": search.best.best_iterations,
        "cv_roc_auc": search.best.cv_roc_auc,
        "split": data.split,
        "beats_logreg": bool(headline["roc_auc"] > logreg_auc + AUC_TIE),
        "beats_heuristic": bool(headline["roc_auc"] > heuristic_auc + AUC_TIE),
        **calibrator.describe(),
    }
    if data.oracle_roc_auc is not None:
        metrics["oracle_roc_auc"] = data.oracle_roc_auc
        metrics["model_to_oracle_ratio"] = headline["roc_auc"] / data.oracle_roc_auc
    if data.train_cutoff is not None:
        metrics["train_cutoff"] = str(data.train_cutoff.date())
        metrics["test_cutoff"] = str(data.test_cutoff.date())
    return metrics


# --- report ---------------------------------------------------------------------------------


def verdict(name: str, model_auc: float, baseline_auc: float) -> str:
    """One sentence: does LightGBM beat baseline ``name`` (ties within ``AUC_TIE`` do not)?"""
    gap = model_auc - baseline_auc
    if gap > AUC_TIE:
        return f"LightGBM beats the {name} baseline ({model_auc:.3f} vs {baseline_auc:.3f})."
    if gap >= -AUC_TIE:
        return (
            f"LightGBM does NOT beat the {name} baseline: a tie within {AUC_TIE} "
            f"({model_auc:.3f} vs {baseline_auc:.3f}); prefer the simpler model."
        )
    return (
        f"LightGBM does NOT beat the {name} baseline: it is worse "
        f"({model_auc:.3f} vs {baseline_auc:.3f}); prefer the baseline."
    )


def summarise(results: StudyResults, params: StudyParams) -> str:
    """Plain-words report of the study, generated from the results."""
    m = results.metrics
    data = results.data
    population = data.population
    if data.split == "time" and data.train_cutoff is not None:
        split_words = (
            f"out of time: trained on the snapshot at {data.train_cutoff.date()}, "
            f"tested on {data.test_cutoff.date()}"
        )
    else:
        split_words = f"stratified random holdout of {params.test_size:.0%}"
    outcome = {"conversion": "orders within", "churn": "churn within"}[data.task]
    lines = [
        f"{data.task.capitalize()} model on {m['n_test']:,} test {population} ({split_words}).",
    ]
    if data.source_kind != "table":
        lines.append(
            f"Target: {outcome} {params.horizon_days} days after the cutoff; "
            f"positive rate {m['positive_rate']:.1%} on the test part."
        )
    else:
        label = 1 if params.positive_label is None else params.positive_label
        lines.append(
            f"Target: {params.target} = {label!r}; positive rate "
            f"{m['positive_rate']:.1%} on the test part."
        )
    lines.append(
        f"LightGBM ROC AUC {m['roc_auc']:.3f}, PR AUC {m['pr_auc']:.3f}, top-decile lift "
        f"{m['lift_at_10pct']:.2f}x."
    )
    lines.append(verdict("logistic regression", m["roc_auc"], m["baseline_logreg_roc_auc"]))
    heuristic_name = (
        f"one-feature ({HEURISTIC_WORDS.get(results.heuristic.feature, results.heuristic.feature)})"
    )
    lines.append(verdict(heuristic_name, m["roc_auc"], m["baseline_heuristic_roc_auc"]))
    if "oracle_roc_auc" in m:
        lines.append(
            f"The oracle (the simulation's true propensities) reaches ROC AUC "
            f"{m['oracle_roc_auc']:.3f}; the model gets {m['model_to_oracle_ratio']:.1%} of it."
        )
    lines.append(
        f"Calibration (Platt scaling on out-of-fold training scores): Brier {m['brier']:.4f}, "
        f"ECE {m['ece']:.3f}."
    )
    high = results.buckets.set_index("bucket")
    if {"high", "low"} <= set(high.index):
        lines.append(
            f"High bucket (top {high.loc['high', 'share']:.0%}) realised rate "
            f"{high.loc['high', 'realised_rate']:.1%} vs low bucket "
            f"{high.loc['low', 'realised_rate']:.1%}."
        )
    best = results.thresholds.loc[results.thresholds["realised_profit"].idxmax()]
    lines.append(
        f"With contact cost {params.contact_cost:,.0f} and value {params.value_per_positive:,.0f} "
        f"per positive, the best threshold on the test part is {best['threshold']:.2f} "
        f"(contact {best['share_contacted']:.0%}, profit {best['realised_profit']:,.0f})."
    )
    top = ", ".join(results.importance["feature"].head(5))
    lines.append(f"Top features by mean |SHAP|: {top}.")
    return "\n".join(lines)


def headline(results: StudyResults, params: StudyParams) -> str:
    """The finding in a few sentences of Markdown, key figures in bold (the report's top)."""
    m = results.metrics
    data = results.data
    goal = {
        "conversion": f"order within {params.horizon_days} days",
        "churn": f"go silent (no contact) within {params.horizon_days} days",
    }[data.task]
    if data.source_kind == "table":
        goal = f"have {params.target} = {1 if params.positive_label is None else params.positive_label!r}"
    where = (
        f"out of time, on the snapshot of {data.test_cutoff.date()}"
        if data.split == "time" and data.test_cutoff is not None
        else "on a random holdout"
    )
    lines = [
        "### Findings\n",
        f"**Who will {goal}?** LightGBM ranks {m['n_test']:,} {data.population} {where} with "
        f"**ROC AUC {m['roc_auc']:.3f}** (positive rate {m['positive_rate']:.1%}).",
    ]
    heuristic = HEURISTIC_WORDS.get(results.heuristic.feature, results.heuristic.feature)
    comparisons = (
        f"logistic regression {m['baseline_logreg_roc_auc']:.3f}, "
        f"one-feature rule ({heuristic}) {m['baseline_heuristic_roc_auc']:.3f}"
    )
    beats = m["beats_logreg"] and m["beats_heuristic"]
    lines.append(
        ("- It beats both baselines: " if beats else "- It does **not** beat every baseline: ")
        + comparisons
        + "."
    )
    if "oracle_roc_auc" in m:
        lines.append(
            f"- It reaches **{m['model_to_oracle_ratio']:.0%} of the best achievable** score "
            f"(oracle ROC AUC {m['oracle_roc_auc']:.3f}, from the simulation's true propensities)."
        )
    lines.append(
        f"- The top 10% of scores hold **{m['lift_at_10pct']:.1f}×** the average rate; "
        f"probabilities are calibrated (expected calibration error {m['ece']:.3f})."
    )
    buckets = results.buckets.set_index("bucket")
    if {"high", "low"} <= set(buckets.index):
        lines.append(
            f"- High bucket (top {buckets.loc['high', 'share']:.0%}): realised rate "
            f"**{buckets.loc['high', 'realised_rate']:.1%}**; low bucket (bottom "
            f"{buckets.loc['low', 'share']:.0%}): {buckets.loc['low', 'realised_rate']:.1%}."
        )
    best = results.thresholds.loc[results.thresholds["realised_profit"].idxmax()]
    lines.append(
        f"- At ¥{params.contact_cost:,.0f} per contact and ¥{params.value_per_positive:,.0f} per "
        f"success, contact scores above {best['threshold']:.2f} ({best['share_contacted']:.0%} "
        f"of customers): realised profit ¥{best['realised_profit']:,.0f} on the test part."
    )
    top = ", ".join(
        explain.safe_describe(name, feature_describer(data))
        for name in results.importance["feature"].head(3)
    )
    lines.append(f"- Strongest drivers (mean |SHAP|): {top}.")
    return "\n".join(lines)


# --- figures, outputs, tracking -------------------------------------------------------------


def make_figures(results: StudyResults, n_dependence: int = 3) -> dict[str, Any]:
    """All study figures by file stem (ROC/PR, calibration, lift, buckets, SHAP)."""
    from features.propensity import plots as model_plots

    y = results.data.y_test.to_numpy()
    scores = {"LightGBM": results.probability_test, **results.baseline_scores}
    if results.data.oracle_test is not None:
        scores["oracle"] = results.data.oracle_test
    top = list(results.importance["feature"].head(n_dependence))
    return {
        "roc_pr": model_plots.plot_roc_pr(y, scores),
        "calibration": model_plots.plot_calibration(results.calibration_tables),
        "lift_gains": model_plots.plot_lift_gains(results.lift_tables),
        "score_buckets": model_plots.plot_score_buckets(results.buckets),
        "shap_bar": model_plots.plot_shap_bar(results.shap_sample, results.X_shap_sample),
        "shap_beeswarm": model_plots.plot_shap_beeswarm(results.shap_sample, results.X_shap_sample),
        "shap_dependence": model_plots.plot_dependence(
            results.shap_sample, results.X_shap_sample, top
        ),
    }


def resolve_output_dir(params: StudyParams) -> Path:
    """``output_dir`` (relative paths from the project root) or a new adhoc report folder."""
    if params.output_dir:
        return resolve_source_path(params.output_dir)
    stamp = pd.Timestamp.now().strftime("%Y%m%d-%H%M%S")
    return config.reports_dir() / "adhoc" / f"{params.task}-{stamp}"


def model_feature_table(data: StudyData) -> pd.DataFrame:
    """The features the model saw, with their registry meaning and dtype."""
    from features.table.registry import REGISTRY_VERSION

    return pd.DataFrame(
        {
            "name": data.feature_names,
            "meaning": [
                explain.safe_describe(n, feature_describer(data)) for n in data.feature_names
            ],
            "dtype": [str(data.X_train[n].dtype) for n in data.feature_names],
            "registry_version": REGISTRY_VERSION,
        }
    )


def result_tables(results: StudyResults) -> dict[str, pd.DataFrame]:
    """Every table of the study by file stem (written as CSV)."""
    tables = {
        "model_comparison": results.comparison,
        "buckets": results.buckets,
        "segments": results.segments,
        "thresholds": results.thresholds,
        "shap_importance": results.importance,
        "search_trials": results.search_trials,
        "feature_registry": model_feature_table(results.data),
    }
    for name, table in results.lift_tables.items():
        tables[f"lift_{_stem(name)}"] = table
    for name, table in results.calibration_tables.items():
        tables[f"calibration_{_stem(name)}"] = table
    return tables


def _stem(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    from features.io import write_text

    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return write_text(buffer.getvalue(), path)


@dataclass
class RunRecord:
    """Where a study's outputs went: folder, files, MLflow run and model version."""

    output_dir: Path
    metrics: dict[str, Any]
    files: dict[str, Path]
    run_id: str
    registration: dict[str, Any]


def save_and_track(
    results: StudyResults, figures: Mapping[str, Any], params: StudyParams
) -> RunRecord:
    """Write outputs to ``output_dir`` and log the run, model and artifacts to MLflow.

    Outputs: metrics.json, scores.parquet (no personal fields), one PNG per figure and one CSV
    per table. MLflow: parameters, data hashes, git commit (tag), metrics, figures, tables, the
    feature registry and the LightGBM model registered as nev-conversion / nev-churn.
    """
    import mlflow

    from features import tracking
    from features.io import write_json, write_parquet

    out = resolve_output_dir(params)
    out.mkdir(parents=True, exist_ok=True)
    data = results.data
    leaked = [c for c in results.scores.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"scores carry personal fields {leaked}")
    files: dict[str, Path] = {}
    run_name = f"{params.task}-{params.source_kind}-{pd.Timestamp.now():%Y%m%d-%H%M%S}"
    with tracking.start_run(
        params.task,
        tracking_uri=params.mlflow_tracking_uri or None,
        run_name=run_name,
        tags={"task": params.task, "source_kind": params.source_kind, "split": data.split},
    ) as run:
        logged = {
            **params.as_dict(),
            "effective_split": data.split,
            "train_cutoff": str(data.train_cutoff.date()) if data.train_cutoff is not None else "",
            "test_cutoff": str(data.test_cutoff.date()) if data.test_cutoff is not None else "",
            "lightgbm": {
                **results.model_params,
                "n_trees": results.metrics["n_trees"],
                "imbalance": modeling.DEFAULT_IMBALANCE,
                "scale_pos_weight": results.model.get_params().get("scale_pos_weight"),
            },
            "calibration": results.calibrator.describe(),
            "heuristic_feature": results.heuristic.feature,
            "data_hash": data.data_hashes,
            "eval_data_hash": data.eval_data_hash,
            "n_features": len(data.feature_names),
        }
        tracking.log_params_flat(logged)
        tracking.log_metrics_safe(results.metrics)
        for name, fig in figures.items():
            files[name] = tracking.log_figure(fig, name, out)
        for name, table in result_tables(results).items():
            path = _write_csv(table, out / f"{name}.csv")
            files[name] = path
            tracking.retry_on_lock(mlflow.log_artifact, str(path), "tables")
        registration = tracking.log_and_register_lgbm(
            results.model,
            name="model",
            registered_name=REGISTERED_MODELS[params.task],
            X_example=data.X_test.head(5),
            eval_metric_name="roc_auc",
            eval_metric_value=results.metrics["roc_auc"],
            eval_data_hash=data.eval_data_hash,
        )
        metrics = {
            **results.metrics,
            "mlflow_run_id": run.info.run_id,
            "model_version": registration["version"],
            "model_aliases": registration["aliases"],
            "registered_model": REGISTERED_MODELS[params.task],
            "timings_s": {k: round(v, 2) for k, v in results.timings.items()},
        }
        files["scores"] = write_parquet(results.scores, out / "scores.parquet")
        files["metrics"] = write_json(tracking.to_jsonable(metrics), out / "metrics.json")
        files["report"] = _write_report(summarise(results, params), out / "report.txt")
        for name in ("scores", "metrics", "report"):
            tracking.retry_on_lock(mlflow.log_artifact, str(files[name]))
    return RunRecord(out, metrics, files, run.info.run_id, registration)


def _write_report(text: str, path: Path) -> Path:
    from features.io import write_text

    return write_text(text + "\n", path)
