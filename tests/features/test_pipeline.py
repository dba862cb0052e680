"""Tests of the pipeline runner: parameter checks, failure path, reports, concurrency.

Runner tests execute tiny notebooks written into tmp_path (a few seconds each); the test that
runs the lab's real notebooks with conf/smoke.yaml is marked ``notebooks``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml

from features import config, tracking
from features.params import ParameterError
from features.pipeline import envcheck
from features.pipeline import runner as pipeline
from features.reports import runs as report_index

PARAMETERS = (
    'data_source = "synthetic"\n'
    "n_customers = 100\n"
    "seed = 1\n"
    'cutoff = "2025-07-01"\n'
    "horizon_days = 90\n"
    "drop_cols = []\n"
    "test_size = 0.25\n"
    'output_dir = ""\n'
    'mlflow_tracking_uri = ""\n'
)
OK_CELLS = (
    "import json, pathlib, random\nfrom features import tracking\n"
    "random.seed(seed)\nauc = 0.5 + random.random() / 2",
    "with tracking.start_run('unit-pipeline', tracking_uri=mlflow_tracking_uri) as run:\n"
    "    tracking.log_metrics_safe({'roc_auc': auc})\n"
    "metrics = {'roc_auc': auc, 'n_test': n_customers, 'mlflow_run_id': run.info.run_id}\n"
    "(pathlib.Path(output_dir) / 'metrics.json').write_text(json.dumps(metrics))\n"
    "print('roc_auc', auc)",
)
# Leaves its MLflow run open, as a notebook does when a later cell fails.
FAILING_CELLS = (
    "from features import tracking\n"
    "run = tracking.start_run('unit-pipeline', tracking_uri=mlflow_tracking_uri).__enter__()",
    "raise ValueError('injected failure for the runner test')",
)


def write_notebook(path: Path, cells: tuple[str, ...]) -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(PARAMETERS)
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Runner test notebook"),
        parameters,
        *[nbformat.v4.new_code_cell(source) for source in cells],
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


@pytest.fixture()
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Isolated reports dir, data root and MLflow store; tiny notebooks and a parameter set."""
    monkeypatch.setenv(config.REPORTS_DIR_ENV, str(tmp_path / "reports"))
    monkeypatch.setenv(config.DATA_ROOT_ENV, str(tmp_path / "data"))
    monkeypatch.setenv(config.TRACKING_URI_ENV, f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv(config.ARTIFACTS_DIR_ENV, str(tmp_path / "artifacts"))
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    write_notebook(notebooks / "ok.ipynb", OK_CELLS)
    write_notebook(notebooks / "boom.ipynb", FAILING_CELLS)
    conf = tmp_path / "tiny.yaml"
    conf.write_text(
        yaml.safe_dump(
            {
                # a file data source: the data steps have nothing to do
                "common": {"data_source": "tiny.csv", "n_customers": 100, "seed": 3},
                "ok": {"horizon_days": 30},
                "notebooks": {"ok": "ok.ipynb"},
            }
        )
    )
    return {"root": tmp_path, "notebooks": notebooks, "conf": conf, "reports": tmp_path / "reports"}


def with_notebooks(conf: Path, mapping: dict[str, str], **options) -> Path:
    raw = yaml.safe_load(conf.read_text())
    raw["notebooks"] = mapping
    if options:
        raw["pipeline"] = options
    target = conf.with_name(f"conf-{len(mapping)}-{'-'.join(mapping)}.yaml")
    target.write_text(yaml.safe_dump(raw))
    return target


def run_dirs(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith("."))


# --- parameter sets -------------------------------------------------------------------------


def test_apply_overrides_parses_values_and_sections():
    merged = pipeline.apply_overrides(
        {"common": {"seed": 1}},
        [
            "n_customers=2000",
            "cutoff=2025-06-01",
            "churn.horizon_days=120",
            "conversion.drop_cols=[duration, x]",
            "pipeline.keep=3",
        ],
    )
    assert merged["common"] == {"seed": 1, "n_customers": 2000, "cutoff": "2025-06-01"}
    assert merged["churn"] == {"horizon_days": 120}
    assert merged["conversion"] == {"drop_cols": ["duration", "x"]}
    assert merged["pipeline"] == {"keep": 3}


def test_apply_overrides_rejects_malformed_items():
    with pytest.raises(ParameterError, match="expected key=value"):
        pipeline.apply_overrides({}, ["n_customers"])


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
    assert pipeline.main([*argv, "--set", override]) == pipeline.EXIT_BAD_PARAMETERS
    error = capsys.readouterr().err
    assert error.startswith("parameter error:") and named in error
    assert len(error.strip().splitlines()) == 1
    assert not lab["reports"].exists()


def test_missing_notebook_and_bad_config_file_are_named(lab: dict[str, Path], tmp_path: Path):
    conf = with_notebooks(lab["conf"], {"ok": "absent.ipynb"})
    with pytest.raises(ParameterError, match=r"notebook 'ok': .*absent.ipynb not found"):
        pipeline.resolve_parameter_set(pipeline.load_parameter_file(conf), lab["notebooks"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("common: [1, 2\n")
    with pytest.raises(ParameterError, match="broken.yaml: not valid YAML"):
        pipeline.load_parameter_file(broken)
    broken.write_text("common: 3\n")
    with pytest.raises(ParameterError, match="section 'common' must be a mapping"):
        pipeline.load_parameter_file(broken)


def test_resolve_merges_common_into_notebooks_that_declare_it(lab: dict[str, Path]):
    raw = pipeline.load_parameter_file(lab["conf"])
    params = pipeline.resolve_parameter_set(raw, lab["notebooks"])
    assert params.notebook_parameters == {
        "ok": {"data_source": "tiny.csv", "n_customers": 100, "seed": 3, "horizon_days": 30}
    }
    assert pipeline.data_settings(params) is None
    assert params.digest() == pipeline.resolve_parameter_set(raw, lab["notebooks"]).digest()


def test_project_parameter_sets_are_valid_yaml_with_known_sections():
    for name in ("default.yaml", "smoke.yaml"):
        raw = pipeline.load_parameter_file(config.CONF_DIR / name)
        assert set(raw) <= {*pipeline.RESERVED_SECTIONS, *pipeline.DEFAULT_NOTEBOOKS}
        pipeline._check_options(raw.get("pipeline", {}))
    default = pipeline.load_parameter_file(config.CONF_DIR / "default.yaml")
    assert default["common"]["n_customers"] == 50_000


@pytest.mark.skipif(
    not all((config.NOTEBOOKS_DIR / n).is_file() for n in pipeline.DEFAULT_NOTEBOOKS.values()),
    reason="lab notebooks not written yet",
)
@pytest.mark.parametrize("name", ["default.yaml", "smoke.yaml"])
def test_project_parameter_sets_match_the_lab_notebooks(name: str):
    raw = pipeline.load_parameter_file(config.CONF_DIR / name)
    params = pipeline.resolve_parameter_set(raw)
    settings = pipeline.data_settings(params)
    assert settings is not None and settings["n_customers"] == raw["common"]["n_customers"]


def test_declared_parameters_survive_comments_with_equals(tmp_path: Path):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'output_dir = ""  # "" = a default folder\n'
        "n_trials = 0  # 0 = no search\n"
        "threshold: float = 0.5\n"
        "columns = sorted(['b', 'a'])  # not a literal\n"
    )
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    nbformat.write(notebook, tmp_path / "p.ipynb")
    declared = pipeline.notebook_declared_parameters(tmp_path / "p.ipynb")
    assert declared == {"output_dir": "", "n_trials": 0, "threshold": 0.5, "columns": ...}
    notebook.cells[0].metadata["tags"] = []
    nbformat.write(notebook, tmp_path / "q.ipynb")
    with pytest.raises(ParameterError, match="no cell tagged 'parameters'"):
        pipeline.notebook_declared_parameters(tmp_path / "q.ipynb")


def test_run_ids_are_unique_and_sortable():
    ids = [pipeline.new_run_id("abcd1234") for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(len(i.split("-")) == 3 and i.split("-")[1] == "abcd1234" for i in ids)


# --- environment check ----------------------------------------------------------------------


def test_envcheck_names_a_missing_package(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(envcheck.EnvironmentCheckError, match="no_such_module_xyz"):
        envcheck.run_checks({"no_such_module_xyz": "no-such-dist", "yaml": "pyyaml"}, None)
    assert "FAILED" in capsys.readouterr().out


def test_envcheck_passes_in_the_project_environment(capsys: pytest.CaptureFixture[str]):
    assert envcheck.main([]) == 0
    out = capsys.readouterr().out
    assert "environment OK" in out and "lightgbm" in out and "ran 1+1" in out


# --- reports --------------------------------------------------------------------------------


def test_index_page_lists_runs_newest_first_and_escapes():
    records = [
        {"run_id": "20250101T000000Z-a-1", "status": "SUCCEEDED", "notebooks": {}},
        {
            "run_id": "20250102T000000Z-b-2",
            "status": "FAILED",
            "notebooks": {"churn": {"status": "FAILED", "metrics": {"roc_auc": 0.81234}}},
            "git_commit": "<script>",
        },
    ]
    page = report_index.render_index_page(records)
    assert page.index("20250102T000000Z-b-2") < page.index("20250101T000000Z-a-1")
    assert "ROC AUC (test) 0.812" in page and "<script>" not in page


def test_run_pages_show_metrics_in_words_links_and_thumbnails():
    entry = {
        "status": "OK",
        "metrics": {"roc_auc": 0.81234, "positive_rate": 0.0234, "n_test": 3747},
        "html": "02_conversion.html",
        "html_business": "02_conversion.business.html",
        "files": ["02_conversion/calibration.png", "02_conversion/roc_pr.png"],
    }
    record = {"run_id": "20250102T000000Z-b-2", "status": "SUCCEEDED", "notebooks": {"c": entry}}
    page = report_index.render_run_page(record)
    assert "ROC AUC (test)" in page and "0.812" in page and "2.3%" in page and "3,747" in page
    assert 'src="02_conversion/roc_pr.png"' in page
    assert 'href="02_conversion.business.html"' in page and 'href="02_conversion.html"' in page
    index = report_index.render_index_page([record])
    assert 'src="20250102T000000Z-b-2/02_conversion/roc_pr.png"' in index
    assert 'href="20250102T000000Z-b-2/02_conversion.business.html"' in index


def test_headline_metrics_prefers_known_keys():
    metrics = {"zeta": 1.0, "roc_auc": 0.9, "label": "x", "flag": True, "k": 5}
    assert list(report_index.headline_metrics(metrics)) == ["roc_auc", "k", "zeta"]


def test_retention_keeps_newest_and_running(tmp_path: Path):
    for index, status in enumerate(["SUCCEEDED", "FAILED", "SUCCEEDED", "SUCCEEDED"]):
        run_id = f"2025010{index}T000000Z-x-0"
        (tmp_path / run_id).mkdir()
        record = {"run_id": run_id, "status": status, "pid": -1, "host": "elsewhere"}
        (tmp_path / run_id / "run.json").write_text(json.dumps(record))
    live = {"run_id": "20240101T000000Z-x-0", "status": "RUNNING", "pid": os.getpid()}
    live["host"] = __import__("socket").gethostname()
    (tmp_path / live["run_id"]).mkdir()
    (tmp_path / live["run_id"] / "run.json").write_text(json.dumps(live))
    removed = pipeline.apply_retention(tmp_path, keep=2, current_run="20250103T000000Z-x-0")
    assert sorted(removed) == ["20250100T000000Z-x-0", "20250101T000000Z-x-0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "20240101T000000Z-x-0",
        "20250102T000000Z-x-0",
        "20250103T000000Z-x-0",
    ]


# --- runs -----------------------------------------------------------------------------------


def test_failing_notebook_is_rendered_marked_failed_and_earlier_runs_untouched(
    lab: dict[str, Path], capsys: pytest.CaptureFixture[str]
):
    from mlflow import MlflowClient

    argv = ["--notebooks-dir", str(lab["notebooks"])]
    assert pipeline.main(["--config", str(lab["conf"]), *argv]) == pipeline.EXIT_OK
    (first,) = run_dirs(lab["reports"])
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}

    conf = with_notebooks(lab["conf"], {"boom": "boom.ipynb", "ok": "ok.ipynb"})
    assert pipeline.main(["--config", str(conf), *argv]) == pipeline.EXIT_FAILED
    out = capsys.readouterr().out
    assert "notebook boom" in out and "FAILED" in out and "ValueError" in out

    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before
    second = next(p for p in run_dirs(lab["reports"]) if p != first)
    record = json.loads((second / "run.json").read_text())
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


def test_continue_on_error_runs_the_rest_and_still_fails(lab: dict[str, Path]):
    conf = with_notebooks(lab["conf"], {"boom": "boom.ipynb", "ok": "ok.ipynb"})
    argv = ["--config", str(conf), "--notebooks-dir", str(lab["notebooks"])]
    assert pipeline.main([*argv, "--continue-on-error"]) == pipeline.EXIT_FAILED
    (run,) = run_dirs(lab["reports"])
    record = json.loads((run / "run.json").read_text())
    assert record["notebooks"]["ok"]["status"] == "OK"
    assert record["notebooks"]["ok"]["metrics"]["n_test"] == 100
    assert (run / "ok" / "metrics.json").is_file() and (run / "ok.business.html").is_file()
    # the business version hides code; the full version keeps it
    assert "hl-ipython3" in (run / "ok.html").read_text()
    assert "hl-ipython3" not in (run / "ok.business.html").read_text()


def _fake_module(name: str, **functions) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in functions.items():
        setattr(module, key, value)
    return module


def _synthetic_conf(lab: dict[str, Path]) -> Path:
    raw = yaml.safe_load(lab["conf"].read_text())
    raw["common"]["data_source"] = "synthetic"
    target = lab["root"] / "synthetic.yaml"
    target.write_text(yaml.safe_dump(raw))
    return target


def test_validation_failure_stops_before_the_notebooks(
    lab: dict[str, Path], monkeypatch: pytest.MonkeyPatch
):
    calls = []
    dataset = lab["root"] / "data" / "raw" / "synthetic_n100_s3"

    def ensure_synthetic_dataset(n_customers: int, seed: int) -> Path:
        calls.append(("ensure", n_customers, seed))
        return dataset

    def validate_dataset(path: Path) -> list[str]:
        calls.append(("validate", path))
        return ["events.ts: 3 rows after the simulation window", "orders: 1 orphan"]

    monkeypatch.setitem(
        sys.modules,
        "features.data.datasets",
        _fake_module("features.data.datasets", ensure_synthetic_dataset=ensure_synthetic_dataset),
    )
    monkeypatch.setitem(
        sys.modules,
        "features.data.validate",
        _fake_module("features.data.validate", validate_dataset=validate_dataset),
    )
    argv = ["--config", str(_synthetic_conf(lab)), "--notebooks-dir", str(lab["notebooks"])]
    assert pipeline.main(argv) == pipeline.EXIT_FAILED
    assert calls == [("ensure", 100, 3), ("validate", dataset)]
    (run,) = run_dirs(lab["reports"])
    record = json.loads((run / "run.json").read_text())
    steps = {step["name"]: step for step in record["steps"]}
    assert steps["dataset"]["status"] == "OK"
    assert steps["validate"]["status"] == "FAILED"
    assert "2 violation(s): events.ts: 3 rows after" in steps["validate"]["message"]
    assert steps["features"]["status"] == "SKIPPED"
    assert steps["notebook ok"]["status"] == "SKIPPED"
    assert not (run / "ok.ipynb").exists()


def test_data_steps_pass_the_notebooks_settings(
    lab: dict[str, Path], monkeypatch: pytest.MonkeyPatch
):
    seen: dict[str, dict] = {}
    dataset = lab["root"] / "data" / "raw" / "synthetic_n100_s3"

    def ensure_synthetic_dataset(n_customers: int, seed: int) -> Path:
        seen["ensure"] = {"n_customers": n_customers, "seed": seed}
        return dataset

    def build_processed(dataset_dir, cutoff="2025-07-01", min_class_count=500, *, root=None):
        seen["build"] = {"dataset_dir": dataset_dir, "cutoff": cutoff}
        print("this goes to the log, not the console")
        return lab["root"] / "data" / "processed"

    monkeypatch.setitem(
        sys.modules,
        "features.data.datasets",
        _fake_module("features.data.datasets", ensure_synthetic_dataset=ensure_synthetic_dataset),
    )
    monkeypatch.setitem(
        sys.modules,
        "features.data.validate",
        _fake_module("features.data.validate", validate_dataset=lambda path: []),
    )
    monkeypatch.setitem(
        sys.modules,
        "features.table.processed",
        _fake_module("features.table.processed", build_processed=build_processed),
    )
    conf = _synthetic_conf(lab)
    argv = ["--config", str(conf), "--notebooks-dir", str(lab["notebooks"]), "--set", "seed=5"]
    assert pipeline.main(argv) == pipeline.EXIT_OK
    assert seen["ensure"] == {"n_customers": 100, "seed": 5}
    assert seen["build"] == {"dataset_dir": str(dataset), "cutoff": "2025-07-01"}
    (run,) = run_dirs(lab["reports"])
    assert "this goes to the log" in (run / "pipeline.log").read_text()


@pytest.mark.notebooks
def test_two_runs_at_once_both_succeed(lab: dict[str, Path]):
    """A scheduled and an interactive run start together and share one SQLite MLflow store."""
    from mlflow import MlflowClient

    conf = with_notebooks(lab["conf"], {"ok": "ok.ipynb"}, keep=5)
    command = [sys.executable, "-m", "features.pipeline.runner", "--config", str(conf)]
    command += ["--notebooks-dir", str(lab["notebooks"])]
    procs = [
        subprocess.Popen(
            command + extra, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for extra in (["--scheduled"], [])
    ]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], [e.decode()[-3000:] for _, e in outputs]
    runs = run_dirs(lab["reports"])
    assert len(runs) == 2
    for run in runs:
        assert json.loads((run / "run.json").read_text())["status"] == "SUCCEEDED"
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

LAB_NOTEBOOKS = [config.NOTEBOOKS_DIR / name for name in pipeline.DEFAULT_NOTEBOOKS.values()]


def _numeric_metrics(run: Path) -> dict[str, float]:
    record = json.loads((run / "run.json").read_text())
    values = {}
    for name, entry in record["notebooks"].items():
        for key, value in (entry.get("metrics") or {}).items():
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
    smoke = str(config.CONF_DIR / "smoke.yaml")
    for _ in range(2):
        code = pipeline.main(["--config", smoke])
        latest = run_dirs(tmp_path / "reports")[-1]
        steps = json.loads((latest / "run.json").read_text())["steps"]
        assert code == pipeline.EXIT_OK, [s for s in steps if s["status"] != "OK"]
    first, second = run_dirs(tmp_path / "reports")
    for run in (first, second):
        for stem in ("01_personas", "02_conversion", "03_churn"):
            assert (run / f"{stem}.html").is_file() and (run / f"{stem}.business.html").is_file()
            assert (run / stem / "metrics.json").is_file()
    a, b = _numeric_metrics(first), _numeric_metrics(second)
    assert a.keys() == b.keys() and len(a) >= 10
    different = {k: (a[k], b[k]) for k in a if not math.isclose(a[k], b[k], abs_tol=1e-9)}
    assert different == {}
