"""Fixtures of the notebook tests: an isolated lab and the reader's view of an executed notebook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from features import config
from features.reports import render
from features.reports.execute import execute_notebook


@pytest.fixture
def isolated_lab(tmp_path, monkeypatch):
    """Data, reports and the MLflow store under tmp_path (the kernel inherits os.environ)."""
    monkeypatch.setenv("NEV_LAB_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("NEV_LAB_REPORTS_DIR", str(tmp_path / "reports"))
    store = f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    # mlflow.set_registry_uri in an earlier in-process test leaves MLFLOW_REGISTRY_URI behind;
    # kernels and subprocesses would then look models up in that other store.
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", store)
    monkeypatch.setenv("NEV_LAB_MLFLOW_ARTIFACTS", str(tmp_path / "mlflow" / "artifacts"))
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    (tmp_path / "executed").mkdir()
    return tmp_path


EMBEDDED_IMAGE = re.compile(r'<img[^>]*src="data:image/png;base64,')


def _check_rendered(executed: Path, output_dir: Path, html_dir: Path) -> dict[str, int]:
    notebook = nbformat.read(executed, as_version=4)
    shown = sum(
        "image/png" in out.get("data", {})
        for cell in notebook.cells
        for out in cell.get("outputs", [])
    )
    saved = len(list(output_dir.glob("*.png")))
    assert shown == saved > 0, f"{executed.name}: {shown} figures shown, {saved} saved as PNG"
    full, business = render.render_notebook(executed, html_dir)
    counts = {}
    for path in (full, business):
        page = path.read_text()
        counts[path.name] = len(EMBEDDED_IMAGE.findall(page))
        assert counts[path.name] == shown, path.name
        assert "&lt;Figure size" not in page, path.name
    page = business.read_text()
    assert "hl-ipython3" not in page, "business rendering shows code"
    assert "StudyParams(" not in page
    for machine_path in (str(output_dir.parent), str(config.PROJECT_ROOT)):
        assert machine_path not in page, f"business rendering shows {machine_path}"
    assert "Findings" in page and "How this was run" in page
    return counts


def _execute_with_metrics(notebook: Path, lab: Path, **parameters) -> dict:
    """Execute ``notebook`` into ``lab/executed`` with outputs in ``lab/out``; its metrics.json."""
    out = lab / "out"
    executed = lab / "executed" / notebook.name
    execute_notebook(notebook, executed, {**parameters, "output_dir": str(out)},
                     kernel_log=lab / "executed" / "kernel.log")  # fmt: skip
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture
def execute_with_metrics():
    """Execute a notebook into ``lab/executed``, outputs in ``lab/out``; return its metrics."""
    return _execute_with_metrics


@pytest.fixture
def check_rendered():
    """Assert that an executed notebook shows every figure it saved, in both renderings."""
    return _check_rendered
