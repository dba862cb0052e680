"""Outputs of a study: figures, result tables, files in ``output_dir`` and the MLflow run.

Owns the output contracts (``METRICS_KEYS`` of metrics.json, the registered-model names), the
figures by file stem, the tables written as CSV and ``save_and_track``, which writes every
file atomically and logs parameters, metrics, artifacts and the registered LightGBM model.

May import the foundation, ``features.table.registry``, ``features.tracking`` and the other
``features.propensity`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, schema, tracking
from features.io import write_json, write_parquet, write_text
from features.propensity import explain, modeling
from features.propensity import plots as model_plots
from features.propensity.data import StudyData
from features.propensity.params import StudyParams
from features.propensity.report import summarise
from features.propensity.scorer import PropensityScorer, input_example, scorer_signature
from features.propensity.study import StudyResults, feature_describer
from features.table.registry import REGISTRY_VERSION

REGISTERED_MODELS = {"conversion": "nev-conversion", "churn": "nev-churn"}
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


def make_figures(results: StudyResults, n_dependence: int = 3) -> dict[str, Any]:
    """All study figures by file stem (ROC/PR, calibration, lift, buckets, SHAP)."""
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
    return config.output_path(params.output_dir, params.task)


def model_feature_table(data: StudyData) -> pd.DataFrame:
    """The features the model saw, with their registry meaning and dtype."""
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


def save_and_track(
    results: StudyResults, figures: Mapping[str, Any], params: StudyParams
) -> tracking.RunRecord:
    """Write outputs to ``output_dir`` and log the run, model and artifacts to MLflow.

    Outputs: metrics.json, scores.parquet (no personal fields), one PNG per figure and one CSV
    per table. MLflow: parameters, data hashes, git commit (tag), metrics, figures, tables, the
    feature registry and the LightGBM model registered as nev-conversion / nev-churn.
    """
    import mlflow  # deferred: mlflow is slow to import and needed only when saving

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
        # What the reader cleaned stays visible beside the model (event logs; counts per rule).
        tracking.log_metrics_safe({f"cleaning_{k}": v for k, v in data.cleaning.items()})
        files.update(tracking.log_figures_and_tables(out, figures, result_tables(results)))
        scorer = PropensityScorer(results.model, data.X_train, results.calibrator, params.task)
        registration = tracking.log_and_register_model(
            scorer,
            name="model",
            registered_name=REGISTERED_MODELS[params.task],
            X_example=input_example(data.X_test),
            signature=scorer_signature(data.X_train),
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
        files["report"] = write_text(summarise(results, params) + "\n", out / "report.txt")
        for name in ("scores", "metrics", "report"):
            tracking.retry_on_lock(mlflow.log_artifact, str(files[name]))
    return tracking.RunRecord(
        output_dir=out,
        metrics=metrics,
        files=files,
        run_id=run.info.run_id,
        registration=registration,
    )
