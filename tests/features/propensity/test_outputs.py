"""Tests of features.propensity.outputs: output contracts, files and the MLflow run."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from mlflow import MlflowClient

from features import propensity, tracking
from features.propensity import outputs
from features.propensity.params import N_FOLDS


def test_table_study_end_to_end_with_outputs_and_mlflow(
    tmp_path, notebook_params, ready_table
) -> None:
    path = tmp_path / "customers.csv"
    ready_table().to_csv(path, sep=";", index=False)
    params = propensity.validate_params(
        "conversion",
        **notebook_params(
            data_source=str(path),
            target="outcome",
            positive_label="yes",
            drop_cols=["call_seconds"],
            output_dir=str(tmp_path / "out"),
            mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        ),
    )
    data = propensity.prepare_study_data(params)
    assert data.split == "random"  # no time column: documented fallback
    assert any("random split" in note for note in data.notes)
    assert set(data.feature_names) == {"tenure", "plan", "balance"}
    assert len(data.y_train) == 900 and len(data.y_test) == 300
    results = propensity.run_study(data, params)
    m = results.metrics
    assert 0.6 < m["roc_auc"] <= 1.0
    assert m["n_test"] == 300 and m["n_train"] == 900
    assert len(m["fold_best_iterations"]) == N_FOLDS
    assert "oracle_roc_auc" not in m
    text = propensity.summarise(results, params)
    assert "logistic regression baseline" in text

    figures = propensity.make_figures(results)
    record = propensity.save_and_track(results, figures, params)
    assert isinstance(record, tracking.RunRecord)
    out = tmp_path / "out"
    assert record.output_dir == out
    saved = json.loads((out / "metrics.json").read_text())
    for key in propensity.METRICS_KEYS:
        assert key in saved
    assert saved["mlflow_run_id"] == record.run_id
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == list(propensity.SCORES_COLUMNS)
    assert len(scores) == 300 and scores["probability"].between(0, 1).all()
    assert not {"full_name", "phone"} & set(scores.columns)
    assert (out / "shap_beeswarm.png").stat().st_size > 1000
    assert (out / "report.txt").read_text() == text + "\n"
    comparison = pd.read_csv(out / "model_comparison.csv")  # written without the index
    assert list(comparison.columns) == list(results.comparison.columns)
    assert set(outputs.result_tables(results)) <= set(record.files)
    assert "champion" in record.registration["aliases"]

    uri = params.mlflow_tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(record.run_id)
    assert run.data.params["target"] == "outcome"
    assert run.data.metrics["roc_auc"] == pytest.approx(m["roc_auc"])
    version = client.get_model_version_by_alias("nev-conversion", "champion")
    assert version.run_id == record.run_id


def test_output_contracts_match_the_documented_names() -> None:
    assert propensity.SCORES_COLUMNS == (
        "customer_id",
        "probability",
        "decile",
        "bucket",
        "reason_1",
        "reason_2",
        "reason_3",
    )
    assert set(propensity.METRICS_KEYS) == {
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
    }
    assert propensity.REGISTERED_MODELS == {"conversion": "nev-conversion", "churn": "nev-churn"}
