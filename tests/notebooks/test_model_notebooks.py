"""Smoke tests: notebooks 02_conversion and 03_churn run under papermill with tiny parameters."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from features import config, propensity
from features.reports.execute import execute_notebook

pytestmark = pytest.mark.notebooks

NOTEBOOKS = {"conversion": "02_conversion.ipynb", "churn": "03_churn.ipynb"}
REGISTERED = {"conversion": "nev-conversion", "churn": "nev-churn"}
TINY = {"n_customers": 6000, "min_class_count": 20, "num_threads": 1}
BANK_MARKETING = config.PROJECT_ROOT.parent / "shared" / "data" / "real" / "bank_marketing.csv"
HEADLINE_KEYS = propensity.METRICS_KEYS


def execute(tmp_path, task: str, **parameters) -> None:
    notebook = config.NOTEBOOKS_DIR / NOTEBOOKS[task]
    executed = tmp_path / "executed"
    execute_notebook(
        notebook, executed / notebook.name, parameters, kernel_log=executed / "kernel.log"
    )


def check_outputs(out, metrics: dict) -> None:
    for key in HEADLINE_KEYS:
        assert key in metrics, key
    assert 0 <= metrics["ece"] <= 0.2
    assert 0 < metrics["brier"] < 0.25
    assert metrics["lift_at_10pct"] > 1.5
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == list(propensity.SCORES_COLUMNS)
    assert len(scores) == metrics["n_test"] and scores["customer_id"].is_unique
    assert scores["probability"].between(0, 1).all()
    assert set(scores["bucket"]) == {"high", "medium", "low"}
    assert scores["reason_1"].str.contains("odds").all()
    assert not {"full_name", "phone"} & set(scores.columns)
    for figure in (
        "roc_pr",
        "calibration",
        "lift_gains",
        "score_buckets",
        "shap_bar",
        "shap_beeswarm",
        "shap_dependence",
    ):
        assert (out / f"{figure}.png").stat().st_size > 1000, figure
    assert "LightGBM" in (out / "report.txt").read_text()


@pytest.mark.parametrize("task", ["conversion", "churn"])
def test_model_notebook_on_synthetic_data(isolated_lab, task, check_rendered):
    out = isolated_lab / "out"
    execute(isolated_lab, task, **TINY, output_dir=str(out))
    check_rendered(isolated_lab / "executed" / NOTEBOOKS[task], out, isolated_lab / "html")
    metrics = json.loads((out / "metrics.json").read_text())
    check_outputs(out, metrics)
    assert metrics["roc_auc"] > 0.7
    assert metrics["split"] == "time"
    assert 0.5 < metrics["oracle_roc_auc"] <= 1.0
    assert metrics["model_to_oracle_ratio"] > 0.85
    assert metrics["baseline_heuristic_roc_auc"] > 0.55

    from mlflow import MlflowClient

    uri = f"sqlite:///{isolated_lab / 'mlflow' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(metrics["mlflow_run_id"])
    assert run.data.params["cutoff"] == "2025-07-01"
    assert run.data.tags["git_commit"]
    assert any(key.startswith("data_hash.") for key in run.data.params)
    version = client.get_model_version_by_alias(REGISTERED[task], "champion")
    assert version.run_id == metrics["mlflow_run_id"]
    assert score_in_fresh_process(uri, task, isolated_lab / "data", out) <= 1e-9


FRESH_CLIENT = """
import glob, sys
import mlflow, numpy as np, pandas as pd
uri, task, data_root, out = sys.argv[1:]
mlflow.set_tracking_uri(uri); mlflow.set_registry_uri(uri)
model = mlflow.pyfunc.load_model(f"models:/nev-{task}@champion")
path = glob.glob(f"{data_root}/processed/*/2025-07-01/features.parquet")[0]
scores = pd.read_parquet(f"{out}/scores.parquet")
features = pd.read_parquet(path).set_index("customer_id").loc[scores["customer_id"]]
got = model.predict(features.reset_index())["probability"].to_numpy()
print("maxdiff", float(np.abs(got - scores["probability"].to_numpy()).max()))
"""


def score_in_fresh_process(uri: str, task: str, data_root, out) -> float:
    """A plain MLflow client in a new process scores the processed features with the champion.

    Returns the largest difference from the probabilities the notebook wrote.
    """
    result = subprocess.run(
        [sys.executable, "-c", FRESH_CLIENT, uri, task, str(data_root), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return float(result.stdout.split("maxdiff")[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def tracking_server(tmp_path):
    """A real ``mlflow server`` on 127.0.0.1 (HTTP tracking and registry, proxied artifacts)."""
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("mlflow")),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start: {server.stderr.read()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_model_notebook_against_a_shared_tracking_server(
    isolated_lab, tracking_server, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server)
    monkeypatch.delenv("NEV_LAB_MLFLOW_ARTIFACTS", raising=False)  # the server decides
    out = isolated_lab / "out"
    execute(isolated_lab, "churn", **TINY, output_dir=str(out), mlflow_tracking_uri=tracking_server)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_aliases"] == ["challenger", "champion"]
    assert score_in_fresh_process(tracking_server, "churn", isolated_lab / "data", out) <= 1e-9


@pytest.mark.skipif(
    not BANK_MARKETING.exists(), reason=f"real data set not present: {BANK_MARKETING}"
)
def test_conversion_notebook_on_a_ready_table(isolated_lab):
    table = pd.read_csv(BANK_MARKETING, sep=";").sample(6000, random_state=0)
    path = isolated_lab / "bank_slice.csv"
    table.to_csv(path, sep=";", index=False)
    out = isolated_lab / "out"
    execute(
        isolated_lab,
        "conversion",
        data_source=str(path),
        target="y",
        positive_label=1,
        drop_cols=["duration"],
        min_class_count=100,
        num_threads=1,
        output_dir=str(out),
    )
    metrics = json.loads((out / "metrics.json").read_text())
    check_outputs(out, metrics)
    assert metrics["roc_auc"] > 0.7
    assert metrics["split"] == "random"  # the table has no time column
    assert "oracle_roc_auc" not in metrics
    assert metrics["n_train"] + metrics["n_test"] == 6000


def test_bad_parameter_stops_the_notebook_naming_it(isolated_lab):
    with pytest.raises(pm.PapermillExecutionError, match="'split'"):
        execute(isolated_lab, "churn", split="sideways", output_dir=str(isolated_lab / "out"))
    assert not (isolated_lab / "out").exists()
