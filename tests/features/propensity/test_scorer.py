"""The registered scorer: input preparation + LightGBM + calibration, servable as it is."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features import tracking
from features.propensity import modeling
from features.propensity.scorer import (
    PropensityScorer,
    ScoringInputError,
    input_example,
    scorer_signature,
)

MLFLOW = Path(sys.executable).with_name("mlflow")


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "recency_days": rng.normal(size=400),
            "n_events_total": rng.integers(0, 30, 400).astype("int64"),
            "channel": pd.Categorical(rng.choice(["search", "store_walk_in", "event"], 400)),
        }
    )
    y = ((X["recency_days"] + (X["channel"] == "event") + rng.normal(size=400)) > 0.5).astype(int)
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=7, num_threads=1, verbose=-1)
    model.fit(X, y)
    calibrator = modeling.fit_calibrator(modeling.predict_positive(model, X), y, "sigmoid")
    scorer = PropensityScorer(model, X, calibrator, "churn")
    expected = calibrator.predict(modeling.predict_positive(model, X))
    return scorer, X, expected


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype("object").where(out[name].notna(), None)
    return out


def test_scores_category_and_text_input_alike(trained):
    scorer, X, expected = trained
    np.testing.assert_array_equal(scorer.predict_proba(X), expected)
    np.testing.assert_array_equal(scorer.predict_proba(_as_text(X)), expected)
    shuffled = X[["channel", "n_events_total", "recency_days"]].assign(extra=1)
    np.testing.assert_array_equal(scorer.predict_proba(shuffled), expected)


def test_missing_columns_and_bad_numbers_are_refused_by_name(trained):
    scorer, X, _ = trained
    with pytest.raises(ScoringInputError, match="missing: recency_days"):
        scorer.predict_proba(X.drop(columns=["recency_days"]))
    bad = X.astype({"recency_days": object})
    bad.loc[3, "recency_days"] = "soon"
    with pytest.raises(ScoringInputError, match="column recency_days: 1 value.*'soon'"):
        scorer.predict_proba(bad)


def test_signature_accepts_text_or_category_and_example_has_no_categories(trained):
    scorer, X, _ = trained
    signature = scorer_signature(X)
    assert signature.inputs.input_names() == ["recency_days", "n_events_total", "channel"]
    example = input_example(X)
    assert example["channel"].dtype == object and example["n_events_total"].dtype == "float64"
    with pytest.raises(ScoringInputError, match="personal fields"):
        input_example(X.assign(phone="138"))


@pytest.fixture(scope="module")
def registered(trained, tmp_path_factory):
    """The scorer registered as nev-test@champion in a store of its own."""
    scorer, X, expected = trained
    root = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    env = {
        "MLFLOW_TRACKING_URI": uri,
        "NEV_LAB_MLFLOW_ARTIFACTS": str(root / "artifacts"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with tracking.start_run("unit-scorer", tracking_uri=uri):
            tracking.log_and_register_model(
                scorer,
                "model",
                "nev-test",
                input_example(X),
                scorer_signature(X),
                "roc_auc",
                0.8,
                "h",
            )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    X.to_parquet(root / "features.parquet")
    np.save(root / "expected.npy", expected)
    return root, uri


def test_a_fresh_process_loads_the_champion_and_scores(registered):
    root, uri = registered
    code = textwrap.dedent(
        f"""
        import mlflow, numpy as np, pandas as pd
        mlflow.set_tracking_uri({uri!r}); mlflow.set_registry_uri({uri!r})
        model = mlflow.pyfunc.load_model("models:/nev-test@champion")
        frame = pd.read_parquet({str(root / "features.parquet")!r})
        got = model.predict(frame)["probability"].to_numpy()
        want = np.load({str(root / "expected.npy")!r})
        print("maxdiff", float(np.abs(got - want).max()))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert float(result.stdout.split("maxdiff")[-1]) <= 1e-9


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_served_champion_answers_invocations(registered, trained):
    root, uri = registered
    _, X, expected = trained
    port = _free_port()
    # the server runs ``uvicorn`` from PATH: the venv's own, as an activated venv would
    path = f"{MLFLOW.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri, PATH=path)
    server = subprocess.Popen(
        [
            str(MLFLOW),
            "models",
            "serve",
            "-m",
            "models:/nev-test@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {server.stderr.read().decode()[-2000:]}")
                time.sleep(0.5)
        body = {"dataframe_split": json.loads(_as_text(X.head(20)).to_json(orient="split"))}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        got = np.array([row["probability"] for row in answer["predictions"]])
        np.testing.assert_allclose(got, expected[:20], rtol=0, atol=1e-9)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
