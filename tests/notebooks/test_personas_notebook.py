"""Smoke test: notebooks/01_personas.ipynb runs under papermill with tiny parameters."""

from __future__ import annotations

import json

import pandas as pd
import papermill as pm
import pytest

from features import config
from features.reports.execute import execute_notebook

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "01_personas.ipynb"
TINY = {"n_customers": 1500, "k_min": 2, "k_max": 4, "n_bootstrap": 3, "sample_size": 600}


def execute(tmp_path, **parameters):
    executed = tmp_path / "executed"
    return execute_notebook(
        NOTEBOOK, executed / NOTEBOOK.name, parameters, kernel_log=executed / "kernel.log"
    )


def test_personas_notebook_writes_outputs_and_tracks_the_run(isolated_lab, check_rendered):
    out = isolated_lab / "out"
    execute(isolated_lab, **TINY, method="latent_class", output_dir=str(out))
    check_rendered(isolated_lab / "executed" / NOTEBOOK.name, out, isolated_lab / "html")

    metrics = json.loads((out / "metrics.json").read_text())
    assert TINY["k_min"] <= metrics["k"] <= TINY["k_max"]
    assert -1 <= metrics["silhouette"] <= 1
    assert -0.5 <= metrics["stability_ari_min"] <= metrics["stability_ari_mean"] <= 1
    assert metrics["truth_ari"] is not None and -0.5 <= metrics["truth_ari"] <= 1
    assert len(metrics["shares"]) == metrics["k"]
    assert sum(metrics["shares"].values()) == pytest.approx(1.0, abs=1e-3)
    assert set(metrics["seed_shares"]) == {"under_35", "family", "high_net_worth"}

    table = pd.read_parquet(out / "personas.parquet")
    assert list(table.columns) == [
        "customer_id",
        "persona_id",
        "persona_name",
        "membership_probability",
        "centroid_distance",
    ]
    assert len(table) == metrics["n_customers"] > 0
    assert table["customer_id"].is_unique
    assert set(table["persona_id"]) == set(range(1, metrics["k"] + 1))
    assert table["membership_probability"].between(0, 1).all()
    assert not {"full_name", "phone"} & set(table.columns)

    cards = json.loads((out / "persona_cards.json").read_text())
    assert len(cards) == metrics["k"]
    assert len({card["name"] for card in cards}) == metrics["k"]
    assert all(1 <= len(card["top_traits"]) <= 5 and card["marketing_angle"] for card in cards)
    for figure in ("k_selection", "projection_pca", "profile_heatmap", "persona_shares"):
        assert (out / f"{figure}.png").stat().st_size > 0

    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{isolated_lab / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("personas")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == metrics["mlflow_run_id"]
    assert run.info.status == "FINISHED"
    assert run.data.params["method"] == "latent_class"
    assert len(run.data.params["data_hash"]) == 64
    assert run.data.metrics["k"] == metrics["k"]
    assert "git_commit" in run.data.tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"persona_cards.json", "metrics.json", "personas.parquet", "figures"} <= artifacts


def test_personas_notebook_rejects_a_bad_parameter(isolated_lab):
    with pytest.raises(pm.PapermillExecutionError, match="'method' = 'dbscan'"):
        execute(isolated_lab, method="dbscan")
