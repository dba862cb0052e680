"""Tests for features.personas.outputs: persona table, model pipeline, files and MLflow run."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from features.personas.cards import describe_personas
from features.personas.clustering import assign_personas, fit_clusterer
from features.personas.inputs import PersonaData
from features.personas.matrix import prepare_persona_matrix, select_persona_columns
from features.personas.outputs import (
    PERSONA_OUTPUT_COLUMNS,
    persona_headline,
    persona_metrics,
    persona_pipeline,
    persona_table,
    save_and_track_personas,
)
from features.personas.params import check_persona_parameters
from features.personas.selection import KChoice
from features.personas.stability import StabilityResult, compare_with_truth
from features.tracking import RunRecord


@pytest.fixture(scope="module")
def latent_run(blobs, matrix):
    """A latent class fit of the blobs with its assignments, profiles and truth check."""
    features, truth = blobs
    model = fit_clusterer(
        matrix.values, 3, "latent_class", seed=0, categorical_blocks=matrix.categorical_blocks
    )
    assignments = assign_personas(model, matrix.values, features["customer_id"])
    profiles = describe_personas(features, assignments)
    truth_check = compare_with_truth(assignments.set_index("customer_id")["persona_id"], truth)
    curves = pd.DataFrame(
        {"k": [2, 3], "silhouette": [0.4, 0.6], "bic": [900.0, 800.0], "smallest_share": 0.3}
    )
    choice = KChoice(k=3, reason="k = 3: lowest BIC", candidates=(2, 3))
    stability = StabilityResult(pairwise_ari=(1.0, 0.98, 0.99), n_bootstrap=3, reference_size=180)
    metrics = persona_metrics(choice, curves, stability, profiles, truth_check, len(features))
    return model, assignments, profiles, truth_check, curves, choice, stability, metrics


def _parameters(tmp_path, n_customers: int = 180):
    return check_persona_parameters(
        data_source="synthetic",
        n_customers=n_customers,
        seed=0,
        cutoff="2025-07-01",
        population="all",
        k_min=2,
        k_max=3,
        method="latent_class",
        n_bootstrap=3,
        sample_size=100,
        output_dir=str(tmp_path / "out"),
    )


def test_persona_pipeline_predicts_from_raw_features(blobs, matrix):
    features, _ = blobs
    model = fit_clusterer(matrix.values, 3, "kmeans")
    pipeline = persona_pipeline(matrix.transformer, model)
    predicted = pipeline.predict(features[list(matrix.columns.all)])
    np.testing.assert_array_equal(predicted, model.predict(matrix.values))


def test_persona_table_has_the_output_columns(latent_run):
    _, assignments, profiles, *_ = latent_run
    table = persona_table(assignments, profiles.names)
    assert list(table.columns) == list(PERSONA_OUTPUT_COLUMNS)
    assert table["membership_probability"].between(0, 1).all()
    assert set(table["persona_name"]) == set(profiles.names.values())
    assert table["customer_id"].map(type).eq(str).all()


def test_persona_metrics_and_headline(blobs, latent_run):
    features, _ = blobs
    _, _, profiles, truth_check, _, choice, stability, metrics = latent_run
    assert metrics["k"] == 3 and metrics["silhouette"] == 0.6 and metrics["bic"] == 800.0
    assert metrics["truth_ari"] == pytest.approx(1.0)
    assert sum(metrics["shares"].values()) == pytest.approx(1.0, abs=1e-3)
    assert set(metrics["seed_shares"]) == {"under_35", "family", "high_net_worth"}
    json.dumps(metrics)
    headline = persona_headline(choice, stability, profiles, truth_check, len(features))
    assert headline.startswith("### Findings") and "**3 personas** among 180" in headline


def test_save_and_track_personas_writes_files_and_logs_the_run(tmp_path, blobs, matrix, latent_run):
    features, _ = blobs
    model, assignments, profiles, truth_check, curves, _, _, metrics = latent_run
    parameters = _parameters(tmp_path)
    data = PersonaData(features=features, source="blobs", input_hashes={"blobs.parquet": "0" * 64})
    figure = plt.figure()
    figure.add_subplot().plot([0, 1])
    tables = {"k_curves": curves.set_index("k"), "truth_confusion": truth_check.confusion}
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    saved = save_and_track_personas(
        parameters.output_dir,
        parameters,
        data,
        matrix,
        model,
        assignments,
        profiles,
        metrics,
        {"k_selection": figure, "truth_confusion": figure},  # a figure and a table may share a stem
        tables,
        tracking_uri=uri,
    )
    plt.close(figure)

    assert isinstance(saved, RunRecord)
    assert saved.output_dir == parameters.output_dir and saved.registration == {}
    assert set(saved.files) == {
        "personas",
        "metrics",
        "persona_cards",
        "k_selection",
        "k_curves",
        "truth_confusion",
        "truth_confusion.csv",
    }
    assert {path.parent for path in saved.files.values()} == {parameters.output_dir}
    assert saved.files["personas"].name == "personas.parquet"
    assert saved.files["k_selection"].name == "k_selection.png"
    written = json.loads(saved.files["metrics"].read_text())
    assert written["mlflow_run_id"] == saved.run_id == saved.metrics["mlflow_run_id"]
    assert written["model_uri"] == saved.metrics["model_uri"]
    assert written["data_hash"] == data.data_hash
    # Tables are written with their index (k, persona), as they always were.
    assert saved.files["k_curves"].read_text() == curves.set_index("k").to_csv()
    assert saved.files["truth_confusion"].name == "truth_confusion.png"
    assert saved.files["truth_confusion.csv"].read_text() == truth_check.confusion.to_csv()
    table = pd.read_parquet(saved.files["personas"])
    pd.testing.assert_frame_equal(table, persona_table(assignments, profiles.names))

    run = MlflowClient(uri).get_run(saved.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["method"] == "latent_class"
    assert run.data.params["cutoff"] == "2025-07-01"
    assert "data_path" not in run.data.params
    assert run.data.metrics["k"] == 3
    # The persona model loads (latent class model trusted by its public path) and predicts
    # the cluster index from the raw persona inputs.
    mlflow.set_tracking_uri(uri)
    loaded = mlflow.sklearn.load_model(saved.metrics["model_uri"])
    np.testing.assert_array_equal(
        loaded.predict(features[list(matrix.columns.all)]), model.predict(matrix.values)
    )


def test_persona_model_goes_through_the_personal_field_check(tmp_path, blobs, latent_run):
    features, _ = blobs
    _, assignments, profiles, _, _, _, _, metrics = latent_run
    leaky = features.assign(phone=[f"+86 138 {i:08d}" for i in range(len(features))])
    columns = select_persona_columns(leaky, behaviour=["age"], nominal=["phone"])
    matrix = prepare_persona_matrix(leaky, columns)
    model = fit_clusterer(matrix.values, 3, "kmeans", seed=0)
    parameters = _parameters(tmp_path)
    data = PersonaData(features=leaky, source="blobs", input_hashes={})
    with pytest.raises(ValueError, match=r"personal fields \['phone'\]"):
        save_and_track_personas(
            parameters.output_dir,
            parameters,
            data,
            matrix,
            model,
            assignments,
            profiles,
            metrics,
            {},
            {},
            tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        )
