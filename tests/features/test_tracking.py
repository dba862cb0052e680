"""Tests of the MLflow helpers against a throw-away SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from mlflow import MlflowClient
from sklearn.preprocessing import StandardScaler

from features import config, tracking
from features.propensity import modeling
from features.propensity.scorer import PropensityScorer, input_example, scorer_signature


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite store in tmp_path; cwd moved there to catch stray ./mlruns folders."""
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    monkeypatch.setenv(config.TRACKING_URI_ENV, uri)
    monkeypatch.delenv(config.ARTIFACTS_DIR_ENV, raising=False)
    monkeypatch.delenv(tracking.PIPELINE_RUN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()


def test_configure_resolves_empty_uri_and_creates_artifact_root(store: str, tmp_path: Path):
    assert tracking.configure("") == store
    assert tracking.configure(None) == store
    assert mlflow.get_tracking_uri() == store
    assert (tmp_path / "store" / "mlflow.db").exists()
    assert (tmp_path / "store" / "artifacts").is_dir()


def test_artifact_root_of_default_store_is_project_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.delenv(config.ARTIFACTS_DIR_ENV, raising=False)
    default_uri = f"sqlite:///{config.mlflow_db_path()}"
    assert tracking.artifact_root(default_uri) == config.mlflow_artifacts_dir().resolve()
    assert tracking.artifact_root("http://127.0.0.1:5000") is None
    monkeypatch.setenv(config.ARTIFACTS_DIR_ENV, str(tmp_path / "elsewhere"))
    assert tracking.artifact_root(default_uri) == tmp_path / "elsewhere"


def test_start_run_tags_and_places_artifacts_outside_mlruns(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(tracking.PIPELINE_RUN_ENV, "20250101T000000Z-abc")
    with tracking.start_run("conversion", run_name="unit", tags={"stage": "test"}) as run:
        run_id = run.info.run_id
        mlflow.log_text("hello", "note.txt")
    finished = MlflowClient(store).get_run(run_id)
    assert finished.info.status == "FINISHED"
    assert finished.data.tags["git_commit"]
    assert finished.data.tags[tracking.PIPELINE_RUN_TAG] == "20250101T000000Z-abc"
    assert finished.data.tags["stage"] == "test"
    location = mlflow.get_experiment_by_name("conversion").artifact_location
    assert location.startswith((tmp_path / "store" / "artifacts").as_uri())
    assert not (tmp_path / "mlruns").exists()


def test_start_run_marks_failed_when_block_raises(store: str):
    with pytest.raises(ValueError, match="boom"):
        with tracking.start_run("churn") as run:
            run_id = run.info.run_id
            raise ValueError("boom")
    assert MlflowClient(store).get_run(run_id).info.status == "FAILED"
    assert mlflow.active_run() is None


def test_log_params_flat_stringifies_and_truncates(store: str):
    params = {
        "drop_cols": ["duration", "x"],
        "target": None,
        "nested": {"k": 3},
        "long": "x" * 7000,
    }
    with tracking.start_run("personas") as run:
        flat = tracking.log_params_flat(params)
    logged = MlflowClient(store).get_run(run.info.run_id).data.params
    assert logged["drop_cols"] == '["duration", "x"]'
    assert logged["target"] == "None"
    assert logged["nested.k"] == "3"
    assert len(logged["long"]) == tracking.MAX_PARAM_LENGTH == len(flat["long"])


def test_log_metrics_safe_skips_missing_values(store: str):
    metrics = {"auc": 0.8, "nan": float("nan"), "none": None, "inf": np.inf, "n": np.int64(5)}
    metrics["text"] = "n/a"
    with tracking.start_run("personas") as run:
        logged = tracking.log_metrics_safe(metrics)
    assert logged == {"auc": 0.8, "n": 5.0}
    assert MlflowClient(store).get_run(run.info.run_id).data.metrics == {"auc": 0.8, "n": 5.0}


def test_log_figure_and_dict_write_files_and_artifacts(store: str, tmp_path: Path):
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [1, 0])
    out = tmp_path / "out"
    with tracking.start_run("personas") as run:
        saved = tracking.log_figure(fig, "curve", output_dir=out)
        tracking.log_dict_artifact({"k": np.int64(4), "share": np.float32(0.5)}, "cards", out)
    assert saved == out / "curve.png" and saved.read_bytes()[:4] == b"\x89PNG"
    assert (out / "cards.json").read_text().count('"k": 4') == 1
    artifacts = MlflowClient(store).list_artifacts(run.info.run_id, "figures")
    assert [a.path for a in artifacts] == ["figures/curve.png"]
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/cards.json") == {
        "k": 4,
        "share": 0.5,
    }


def test_log_figure_without_run_only_saves(tmp_path: Path):
    fig = Figure()
    assert tracking.log_figure(fig, "x.png", tmp_path).exists()
    assert tracking.log_figure(fig, "y") is None


def test_retry_on_lock_retries_only_lock_errors():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")
        return "ok"

    assert tracking.retry_on_lock(flaky, base_delay=0.001) == "ok" and len(calls) == 3
    with pytest.raises(KeyError, match="other"):
        tracking.retry_on_lock(lambda: (_ for _ in ()).throw(KeyError("other")))


def test_store_lock_is_reentrant_and_excludes_other_processes(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    probe = [
        sys.executable,
        "-c",
        "import fcntl, sys\n"
        "handle = open(sys.argv[1], 'a+')\n"
        "try:\n"
        "    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(3)\n",
        str(tmp_path / "x.db.lock"),
    ]
    with tracking.store_lock(uri):
        with tracking.store_lock(uri):
            assert (tmp_path / "x.db.lock").exists()
        assert subprocess.run(probe).returncode == 3  # still held by the outer block
    assert subprocess.run(probe).returncode == 0
    with tracking.store_lock("http://127.0.0.1:1"):
        pass


def _version(tags: dict) -> SimpleNamespace:
    return SimpleNamespace(tags=tags)


@pytest.mark.parametrize(
    ("champion_tags", "new_value", "expected"),
    [
        (None, 0.5, True),
        (
            {"eval_metric_name": "roc_auc", "eval_metric_value": "0.7", "eval_data_hash": "h"},
            0.8,
            True,
        ),
        (
            {"eval_metric_name": "roc_auc", "eval_metric_value": "0.9", "eval_data_hash": "h"},
            0.8,
            False,
        ),
        (
            {"eval_metric_name": "roc_auc", "eval_metric_value": "0.5", "eval_data_hash": "g"},
            0.8,
            False,
        ),
        (
            {"eval_metric_name": "pr_auc", "eval_metric_value": "0.5", "eval_data_hash": "h"},
            0.8,
            False,
        ),
    ],
)
def test_decide_champion(champion_tags, new_value, expected):
    tags = None if champion_tags is None else {**champion_tags, "model_format": "lab-scorer-1"}
    champion = None if tags is None else _version(tags)
    assert tracking.decide_champion(champion, "roc_auc", new_value, "h") is expected


def test_a_champion_of_an_older_model_format_is_replaced():
    old = _version(
        {"eval_metric_name": "roc_auc", "eval_metric_value": "0.9", "eval_data_hash": "h"}
    )
    assert tracking.decide_champion(old, "roc_auc", 0.5, "h") is True


def _tiny_lgbm() -> tuple[object, pd.DataFrame]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "recency_days": rng.normal(size=200),
            "channel": pd.Categorical(rng.choice(["search", "store_walk_in"], 200)),
        }
    )
    y = (X["recency_days"] + rng.normal(size=200) > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=5, num_leaves=4, num_threads=1, verbose=-1)
    return model.fit(X, y), X


def _tiny_scorer():
    model, X = _tiny_lgbm()
    calibrator = modeling.ProbabilityCalibrator("none")
    return PropensityScorer(model, X, calibrator, "conversion"), model, X


def _register(scorer, X, value, data_hash):
    return tracking.log_and_register_model(
        scorer,
        "model",
        "nev-test",
        input_example(X.head(3)),
        scorer_signature(X),
        "roc_auc",
        value,
        data_hash,
    )


def test_log_and_register_model_moves_aliases_by_metric_on_same_data(store: str):
    scorer, model, X = _tiny_scorer()
    results = []
    for value, data_hash in [(0.70, "h1"), (0.65, "h1"), (0.75, "h1"), (0.99, "h2")]:
        with tracking.start_run("conversion"):
            results.append(_register(scorer, X, value, data_hash))
    assert [r["version"] for r in results] == ["1", "2", "3", "4"]
    assert [r["aliases"] for r in results] == [
        ["challenger", "champion"],
        ["challenger"],
        ["challenger", "champion"],
        ["challenger"],
    ]
    assert [r["champion_replaced"] for r in results] == [False, False, True, False]
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias("nev-test", "champion").version) == "3"
    challenger = client.get_model_version_by_alias("nev-test", "challenger")
    assert str(challenger.version) == "4" and challenger.tags["eval_data_hash"] == "h2"
    loaded = mlflow.pyfunc.load_model(results[2]["model_uri"])
    np.testing.assert_allclose(
        loaded.predict(X)["probability"].to_numpy(), model.predict_proba(X)[:, 1]
    )


def test_log_and_register_model_refuses_personal_fields(store: str):
    scorer, _, X = _tiny_scorer()
    with tracking.start_run("conversion"):
        with pytest.raises(ValueError, match="personal fields"):
            tracking.log_and_register_model(
                scorer, "model", "nev-test", X.assign(phone="1"), None, "roc_auc", 0.5, "h"
            )
    with pytest.raises(RuntimeError, match="active run"):
        _register(scorer, X, 0.5, "h")


def test_log_sklearn_model_logs_without_registry(store: str):
    X = pd.DataFrame({"age": [25.0, 40.0, 33.0], "budget": [150.0, 300.0, 220.0]})
    with tracking.start_run("personas"):
        info = tracking.log_sklearn_model(StandardScaler().fit(X), "scaler", X)
    assert info["model_uri"].startswith("models:/")
    assert mlflow.sklearn.load_model(info["model_uri"]).transform(X).shape == (3, 2)
    assert MlflowClient(store).search_registered_models() == []


def test_two_processes_create_the_same_experiment(store: str, tmp_path: Path):
    script = textwrap.dedent(
        """
        from features import tracking
        with tracking.start_run("race") as run:
            tracking.log_metrics_safe({"x": 1.0})
        print(run.info.experiment_id)
        """
    )
    env = {**os.environ, config.TRACKING_URI_ENV: store}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    ids = {out.decode().strip().splitlines()[-1] for out, _ in outputs}
    assert len(ids) == 1
    runs = MlflowClient(store).search_runs(list(ids))
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
