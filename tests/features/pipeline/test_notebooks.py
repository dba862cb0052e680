"""Tests of the notebook steps' bookkeeping (execution itself runs in test_runner)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from features.pipeline import notebooks
from features.pipeline.context import RunContext, StepSkipped
from features.pipeline.params import ParameterSet


def test_collect_outputs_lists_files_and_reads_metrics(tmp_path: Path):
    output_dir = tmp_path / "02_conversion"
    (output_dir / "figures").mkdir(parents=True)
    (output_dir / "figures" / "roc.png").write_bytes(b"png")
    (output_dir / ".hidden").write_text("x")
    (output_dir / "metrics.json").write_text(json.dumps({"roc_auc": 0.8, "mlflow_run_id": "r1"}))
    entry: dict = {}
    notebooks.collect_outputs(entry, output_dir)
    assert entry["files"] == ["02_conversion/figures/roc.png", "02_conversion/metrics.json"]
    assert entry["metrics"] == {"roc_auc": 0.8, "mlflow_run_id": "r1"}
    assert entry["metrics_file"] == "02_conversion/metrics.json"
    assert entry["mlflow_run_id"] == "r1"
    (output_dir / "metrics.json").write_text("{not json")
    broken: dict = {}
    notebooks.collect_outputs(broken, output_dir)
    assert broken["metrics_error"].startswith("metrics.json: ") and "metrics" not in broken


def test_error_text_names_the_cell_or_keeps_the_last_lines():
    cell_error = SimpleNamespace(ename="ValueError", evalue="bad", exec_count=3)
    assert notebooks.error_text(cell_error) == "cell [3]: ValueError: bad"
    assert notebooks.error_text(RuntimeError("----\nfirst\n\nlast")) == "first\nlast"
    assert notebooks.error_text(RuntimeError()) == "RuntimeError"


def test_metric_line_shows_headline_metrics():
    line = notebooks.metric_line({"roc_auc": 0.81234, "label": "x"})
    assert line.startswith("roc_auc=0.812")


def test_render_is_skipped_without_an_executed_notebook(tmp_path: Path):
    params = ParameterSet(raw={}, notebooks={}, notebook_parameters={}, options={})
    ctx = RunContext("r", tmp_path, params, scheduled=False, echo=False)
    ctx.notebooks["ok"] = {"status": "FAILED", "notebook": "ok.ipynb"}
    with pytest.raises(StepSkipped, match="no executed notebook"):
        notebooks.render_notebook(ctx, "ok")


def test_upstream_file_only_from_a_notebook_that_succeeded(tmp_path: Path):
    (tmp_path / "04_value").mkdir()
    (tmp_path / "04_value" / "value.parquet").write_bytes(b"x")
    ctx = SimpleNamespace(
        run_dir=tmp_path, notebooks={"value": {"status": "OK", "output_dir": "04_value"}}
    )
    assert (
        notebooks.upstream_file(ctx, "value", "value.parquet")
        == tmp_path / "04_value" / "value.parquet"
    )
    ctx.notebooks["value"]["status"] = "FAILED"
    assert notebooks.upstream_file(ctx, "value", "value.parquet") is None
    assert notebooks.upstream_file(ctx, "personas", "value.parquet") is None
