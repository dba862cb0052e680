"""Tests of the runner: exit codes, failure handling, run records, locks and concurrent runs.

Runs execute the tiny notebooks of the ``lab`` fixture (a few seconds each) or fake steps
passed to ``run_pipeline``; the tests that start two processes or run the lab's real notebooks
with conf/smoke.yaml are marked ``notebooks``.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from features import config, tracking
from features.pipeline import runner
from features.pipeline.context import RunContext
from features.pipeline.envcheck import EnvironmentCheckError
from features.pipeline.params import (
    DEFAULT_NOTEBOOKS,
    DataSettings,
    ParameterSet,
    load_parameter_file,
    resolve_parameter_set,
)


def run_dirs(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_record(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def fake_notebook(ctx: RunContext, name: str, source: Path) -> str:
    ctx.notebooks[name]["status"] = "OK"
    return f"ran {source.name}"


def no_environment_check() -> dict[str, str]:
    return {"python": sys.version.split()[0]}


# Fast steps: no kernel check, no notebook execution, no MLflow.
FAST = runner.Steps(
    environment=no_environment_check,
    notebook=fake_notebook,
    render=lambda ctx, name: "rendered",
    record=lambda ctx: "not recorded",
)


@pytest.fixture()
def synthetic_params(lab: dict[str, Path]) -> ParameterSet:
    """The lab's parameter set with the synthetic data source: the data steps run."""
    raw = load_parameter_file(lab["conf"])
    raw["common"]["data_source"] = "synthetic"
    return resolve_parameter_set(raw, lab["notebooks"])


# --- command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("ok.horizon_dayz=3", "ok.horizon_dayz"),
        ("no_such_param=3", "common.no_such_param"),
        ("n_customers=many", "ok.n_customers"),
        ("ok.test_size=true", "ok.test_size"),
        ("cutoff=2025-13-45", "ok.cutoff"),
        ("churn.horizon_days=3", "'churn'"),
        ("output_dir=/elsewhere", "'output_dir'"),
        ("pipeline.keep=0", "pipeline.keep"),
        ("pipeline.retries=2", "'retries'"),
    ],
)
def test_bad_parameter_is_named_before_anything_runs(
    lab: dict[str, Path], capsys: pytest.CaptureFixture[str], override: str, named: str
):
    argv = ["--config", str(lab["conf"]), "--notebooks-dir", str(lab["notebooks"])]
    assert runner.main([*argv, "--set", override]) == runner.EXIT_BAD_PARAMETERS
    error = capsys.readouterr().err
    assert error.startswith("parameter error:") and named in error
    assert len(error.strip().splitlines()) == 1
    assert not lab["reports"].exists()


def test_failing_notebook_is_rendered_marked_failed_and_earlier_runs_untouched(
    lab: dict[str, Path],
    with_notebooks: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
):
    argv = ["--notebooks-dir", str(lab["notebooks"])]
    assert runner.main(["--config", str(lab["conf"]), *argv]) == runner.EXIT_OK
    (first,) = run_dirs(lab["reports"])
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}

    conf = with_notebooks({"boom": "boom.ipynb", "ok": "ok.ipynb"})
    assert runner.main(["--config", str(conf), *argv]) == runner.EXIT_FAILED
    out = capsys.readouterr().out
    assert "notebook boom" in out and "FAILED" in out and "ValueError" in out

    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before
    second = next(p for p in run_dirs(lab["reports"]) if p != first)
    record = read_record(second)
    assert record["status"] == "FAILED"
    assert record["notebooks"]["boom"]["status"] == "FAILED"
    assert record["notebooks"]["ok"]["status"] == "SKIPPED"  # stop on error by default
    assert "injected failure" in record["notebooks"]["boom"]["error"]
    for html in ("boom.html", "boom.business.html"):
        assert "injected failure for the runner test" in (second / html).read_text()
    assert "FAILED" in (second / "index.html").read_text()
    index = (lab["reports"] / "index.html").read_text()
    assert first.name in index and second.name in index

    client = MlflowClient(os.environ[config.TRACKING_URI_ENV])
    failed_run = client.get_run(record["notebooks"]["boom"]["mlflow_run_id"])
    assert failed_run.info.status == "FAILED"
    assert failed_run.data.tags[tracking.PIPELINE_RUN_TAG] == second.name
    pipeline_run = client.get_run(record["mlflow"]["pipeline_run"])
    assert pipeline_run.info.status == "FAILED"
    assert pipeline_run.data.tags["step.notebook boom"] == "FAILED"


def test_continue_on_error_runs_the_rest_and_still_fails(
    lab: dict[str, Path], with_notebooks: Callable[..., Path]
):
    conf = with_notebooks({"boom": "boom.ipynb", "ok": "ok.ipynb"})
    argv = ["--config", str(conf), "--notebooks-dir", str(lab["notebooks"])]
    assert runner.main([*argv, "--continue-on-error"]) == runner.EXIT_FAILED
    (run,) = run_dirs(lab["reports"])
    record = read_record(run)
    assert record["notebooks"]["ok"]["status"] == "OK"
    assert record["notebooks"]["ok"]["metrics"]["n_test"] == 100
    assert (run / "ok" / "metrics.json").is_file() and (run / "ok.business.html").is_file()
    # the business version hides code; the full version keeps it
    assert "hl-ipython3" in (run / "ok.html").read_text()
    assert "hl-ipython3" not in (run / "ok.business.html").read_text()


# --- steps passed in ------------------------------------------------------------------------


def test_validation_failure_stops_before_the_notebooks(
    lab: dict[str, Path], synthetic_params: ParameterSet
):
    calls = []
    dataset = lab["root"] / "data" / "raw" / "synthetic_n100_s3"

    def fake_dataset(settings: DataSettings) -> Path:
        calls.append(("dataset", settings.n_customers, settings.seed))
        return dataset

    def fake_validate(dataset_dir: Path) -> None:
        calls.append(("validate", dataset_dir))
        raise ValueError(f"{dataset_dir}: 2 violation(s): events.ts: 3 rows after the window")

    steps = runner.Steps(
        environment=no_environment_check, dataset=fake_dataset, validate=fake_validate
    )
    record = runner.run_pipeline(synthetic_params, steps=steps, echo=False)
    assert record["status"] == "FAILED"
    assert calls == [("dataset", 100, 3), ("validate", dataset)]
    (run,) = run_dirs(lab["reports"])
    assert read_record(run)["status"] == "FAILED"
    steps_run = {step["name"]: step for step in read_record(run)["steps"]}
    assert steps_run["dataset"]["status"] == "OK"
    assert steps_run["validate"]["status"] == "FAILED"
    assert "ValueError: " in steps_run["validate"]["message"]
    assert "2 violation(s): events.ts: 3 rows after" in steps_run["validate"]["message"]
    assert steps_run["features"]["status"] == "SKIPPED"
    assert steps_run["notebook ok"]["status"] == "SKIPPED"
    assert steps_run["mlflow record"]["status"] == "OK"
    assert not (run / "ok.ipynb").exists()


def test_data_steps_get_the_notebooks_settings(
    lab: dict[str, Path], synthetic_params: ParameterSet
):
    seen: dict[str, object] = {}
    dataset = lab["root"] / "data" / "raw" / "synthetic_n100_s3"
    processed = lab["root"] / "data" / "processed"

    def fake_dataset(settings: DataSettings) -> Path:
        seen["dataset"] = settings
        return dataset

    def fake_features(dataset_dir: Path, settings: DataSettings) -> Path:
        seen["features"] = (dataset_dir, settings)
        print("this goes to the log, not the console")
        return processed

    steps = runner.Steps(
        environment=no_environment_check,
        dataset=fake_dataset,
        validate=lambda dataset_dir: None,
        features=fake_features,
        notebook=fake_notebook,
        render=FAST.render,
        record=FAST.record,
    )
    record = runner.run_pipeline(synthetic_params, steps=steps, echo=False)
    assert record["status"] == "SUCCEEDED"
    expected = DataSettings(n_customers=100, seed=3, cutoff="2025-07-01")
    assert seen == {"dataset": expected, "features": (dataset, expected)}
    assert record["dataset"] == {
        "path": str(dataset),
        "validation": "clean",
        "processed": str(processed),
    }
    (run,) = run_dirs(lab["reports"])
    assert "this goes to the log" in (run / "pipeline.log").read_text()


def test_failed_environment_check_skips_every_step(
    lab: dict[str, Path], synthetic_params: ParameterSet
):
    def broken_environment() -> dict[str, str]:
        raise EnvironmentCheckError("cannot import: lightgbm")

    steps = runner.Steps(environment=broken_environment, record=FAST.record)
    record = runner.run_pipeline(synthetic_params, steps=steps, echo=False)
    assert record["status"] == "FAILED"
    status = {step["name"]: step["status"] for step in record["steps"]}
    assert status == {
        "envcheck": "FAILED",
        "dataset": "SKIPPED",
        "validate": "SKIPPED",
        "features": "SKIPPED",
        "notebook ok": "SKIPPED",
        "mlflow record": "OK",
    }
    assert record["notebooks"] == {"ok": {"status": "SKIPPED"}}


def test_scheduled_run_waits_for_the_lock_and_logs_a_line(lab: dict[str, Path]):
    params = resolve_parameter_set(load_parameter_file(lab["conf"]), lab["notebooks"])
    lock = lab["reports"] / ".pipeline.lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            "handle = open(sys.argv[1], 'a+')\n"
            "fcntl.flock(handle.fileno(), fcntl.LOCK_EX)\n"
            "handle.write('pid of the test holder'); handle.flush()\n"
            "print('held', flush=True)\n"
            "time.sleep(1.5)\n",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.perf_counter()
        record = runner.run_pipeline(params, scheduled=True, echo=False, steps=FAST)
        waited = time.perf_counter() - started
    finally:
        holder.wait(timeout=30)
    assert record["status"] == "SUCCEEDED" and waited > 0.5
    (run,) = run_dirs(lab["reports"])
    assert (
        "waiting for the scheduled-run lock: held by pid of the test holder"
        in (run / "pipeline.log").read_text()
    )
    (line,) = (lab["reports"] / "scheduled.log").read_text().splitlines()
    assert f"{run.name} SUCCEEDED" in line
    with open(lock) as handle:  # released: another process could take it now
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_keep_removes_older_runs_after_the_run(lab: dict[str, Path]):
    for old in ("20200101T000000Z-x-1", "20200102T000000Z-x-2"):
        (lab["reports"] / old).mkdir(parents=True)
        record = {"run_id": old, "status": "SUCCEEDED", "pid": -1, "host": "elsewhere"}
        (lab["reports"] / old / "run.json").write_text(json.dumps(record))
    params = resolve_parameter_set(load_parameter_file(lab["conf"]), lab["notebooks"])
    record = runner.run_pipeline(params, keep=2, echo=False, steps=FAST)
    kept = [run.name for run in run_dirs(lab["reports"])]
    assert kept == ["20200102T000000Z-x-2", record["run_id"]]
    assert "20200101T000000Z-x-1" not in (lab["reports"] / "index.html").read_text()


# --- two processes ---------------------------------------------------------------------------


@pytest.mark.notebooks
def test_two_runs_at_once_both_succeed(lab: dict[str, Path], with_notebooks: Callable[..., Path]):
    """A scheduled and an interactive run start together and share one SQLite MLflow store."""
    conf = with_notebooks({"ok": "ok.ipynb"}, keep=5)
    command = [sys.executable, "-m", "features.pipeline", "--config", str(conf)]
    command += ["--notebooks-dir", str(lab["notebooks"])]
    procs = [
        subprocess.Popen(
            command + extra, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for extra in (["--scheduled"], [])
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    logs = [p.read_text()[-3000:] for p in sorted(lab["reports"].glob("*/pipeline.log"))]
    assert [p.returncode for p in procs] == [0, 0], [e.decode()[-2000:] for _, e in outputs] + logs
    runs = run_dirs(lab["reports"])
    assert len(runs) == 2
    for run in runs:
        assert read_record(run)["status"] == "SUCCEEDED"
    index = (lab["reports"] / "index.html").read_text()
    assert all(run.name in index for run in runs)
    (log_line,) = (lab["reports"] / "scheduled.log").read_text().splitlines()
    assert "SUCCEEDED" in log_line
    client = MlflowClient(os.environ[config.TRACKING_URI_ENV])
    experiments = {e.name: e.experiment_id for e in client.search_experiments()}
    notebook_runs = client.search_runs([experiments["unit-pipeline"]])
    assert len(notebook_runs) == 2 and all(r.info.status == "FINISHED" for r in notebook_runs)
    assert len(client.search_runs([experiments["pipeline"]])) == 2


# --- the lab's notebooks --------------------------------------------------------------------

LAB_NOTEBOOKS = [config.NOTEBOOKS_DIR / name for name in DEFAULT_NOTEBOOKS.values()]


REPEATED = ("value", "conversion", "voice")
# Metrics that count what earlier runs left behind (the score history), not the run's result.
HISTORY_METRICS = ("monitoring.n_stored_lists", "monitoring.n_stored_lists_due")


def _numeric_metrics(run: Path) -> dict[str, float]:
    values = {}
    for name, entry in read_record(run)["notebooks"].items():
        for key, value in (entry.get("metrics") or {}).items():
            if f"{name}.{key}" in HISTORY_METRICS:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[f"{name}.{key}"] = float(value)
    return values


@pytest.mark.notebooks
@pytest.mark.skipif(
    not all(path.is_file() for path in LAB_NOTEBOOKS)
    or importlib.util.find_spec("features.data.datasets") is None,
    reason="lab notebooks or the synthetic dataset module not written yet",
)
def test_smoke_config_runs_end_to_end_and_reproduces_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(config.REPORTS_DIR_ENV, str(tmp_path / "reports"))
    monkeypatch.setenv(config.TRACKING_URI_ENV, f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv(config.ARTIFACTS_DIR_ENV, str(tmp_path / "artifacts"))
    smoke = config.CONF_DIR / "smoke.yaml"
    # The second run repeats the notebooks of REPEATED only (the costly part of the suite is
    # running every notebook; these cover the model, text and value code paths).
    raw = yaml.safe_load(smoke.read_text())
    again = {key: raw[key] for key in ("common", "pipeline", *REPEATED) if key in raw}
    again["notebooks"] = {name: DEFAULT_NOTEBOOKS[name] for name in REPEATED}
    repeat = tmp_path / "repeat.yaml"
    repeat.write_text(yaml.safe_dump(again, allow_unicode=True))
    for config_file in (smoke, repeat):
        code = runner.main(["--config", str(config_file)])
        latest = run_dirs(tmp_path / "reports")[-1]
        steps = read_record(latest)["steps"]
        assert code == runner.EXIT_OK, [s for s in steps if s["status"] != "OK"]
    first, second = run_dirs(tmp_path / "reports")
    for stem in ("01_personas", "02_conversion", "03_churn", "05_actions", "06_voice"):
        assert (first / f"{stem}.html").is_file() and (first / f"{stem}.business.html").is_file()
        assert (first / stem / "metrics.json").is_file()
    a, b = _numeric_metrics(first), _numeric_metrics(second)
    a = {k: v for k, v in a.items() if k.split(".")[0] in REPEATED}
    assert a.keys() == b.keys() and len(a) >= 10
    different = {k: (a[k], b[k]) for k in a if not math.isclose(a[k], b[k], abs_tol=1e-9)}
    assert different == {}
