"""Fixtures of the pipeline tests: an isolated lab with tiny notebooks and a parameter set.

The notebooks declare the lab's usual parameters; ``ok.ipynb`` logs a metric to MLflow and
writes ``metrics.json``, ``boom.ipynb`` leaves its MLflow run open and then fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml

from features import config

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


def _write_notebook(path: Path, cells: tuple[str, ...]) -> Path:
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
    _write_notebook(notebooks / "ok.ipynb", OK_CELLS)
    _write_notebook(notebooks / "boom.ipynb", FAILING_CELLS)
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


@pytest.fixture()
def with_notebooks(lab: dict[str, Path]) -> Callable[..., Path]:
    """A copy of the lab's parameter set with another ``notebooks`` mapping and options."""

    def write(mapping: dict[str, str], **options: object) -> Path:
        raw = yaml.safe_load(lab["conf"].read_text())
        raw["notebooks"] = mapping
        if options:
            raw["pipeline"] = options
        target = lab["conf"].with_name(f"conf-{len(mapping)}-{'-'.join(mapping)}.yaml")
        target.write_text(yaml.safe_dump(raw))
        return target

    return write
