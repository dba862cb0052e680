"""Training and evaluation of one study: LightGBM, calibration, baselines, metrics, SHAP.

Owns ``run_study`` (train with k-fold early stopping and any search on the training part, a
refit on all training rows, Platt scaling on out-of-fold scores, the logistic and one-feature
baselines, evaluation on the test part, exact TreeSHAP and per-customer reasons), its
``StudyResults`` and the headline metrics.

May import the foundation, ``features.propensity.params``, ``.data``, ``.modeling``,
``.evaluation`` and ``.explain``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.propensity import evaluation, explain, modeling
from features.propensity.data import StudyData
from features.propensity.params import N_FOLDS, StudyParams

HEURISTIC_WORDS = {"funnel_depth": "funnel depth", "recency_days": "recency"}
SHAP_PLOT_ROWS = 2000
N_REASONS = 3
# Differences in ROC AUC below this are reported as a tie, not a win.
AUC_TIE = 0.002
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
    """The study's metrics (metrics.json without the MLflow and registry entries)."""
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
