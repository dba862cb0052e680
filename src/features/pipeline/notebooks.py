"""The pipeline's notebook steps: execute a notebook into the run folder with papermill, collect
the metrics and files it wrote, and render it to HTML (full and business versions).

Each step fills the notebook's entry in ``RunContext.notebooks`` (the ``notebooks`` field of
``run.json``) and returns its progress message.

May import ``features.reports``, ``features.tracking`` and the pipeline's ``params`` and
``context``; the runner imports it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from features import tracking
from features.pipeline.context import RunContext, StepSkipped
from features.pipeline.params import TRACKING_PARAMETER, notebook_declared_parameters
from features.reports import execute, render
from features.reports.runs import format_value, headline_metrics

MAX_LISTED_FILES = 40
# Parameters a notebook declares that take an earlier notebook's output of the same run:
# parameter -> (notebook name, file in its output folder).
UPSTREAM_FILES = {
    "value_file": ("value", "value.parquet"),
    "persona_file": ("personas", "personas.parquet"),
}


class NotebookFailed(RuntimeError):
    """A notebook cell raised; the executed copy holds the traceback."""


def execute_notebook(ctx: RunContext, name: str, source: Path) -> str:
    """Execute one notebook into the run folder; raises on a failing cell (copy kept)."""
    entry = ctx.notebooks[name]
    stem = ctx.params.output_stem(name)
    output_dir = ctx.run_dir / stem
    output_dir.mkdir(parents=True, exist_ok=True)
    declared = ctx.params.declared.get(name) or notebook_declared_parameters(source)
    parameters = dict(ctx.params.notebook_parameters[name])
    parameters["output_dir"] = str(output_dir)
    if TRACKING_PARAMETER in declared:
        parameters[TRACKING_PARAMETER] = tracking.resolve_tracking_uri()
    for parameter, (upstream, file_name) in UPSTREAM_FILES.items():
        produced = upstream_file(ctx, upstream, file_name)
        if parameter in declared and not parameters.get(parameter) and produced is not None:
            parameters[parameter] = str(produced)
    entry.update(notebook=f"{stem}.ipynb", output_dir=stem, parameters=parameters)
    os.environ[tracking.PIPELINE_RUN_ENV] = ctx.run_id
    os.environ[tracking.PIPELINE_STEP_ENV] = name
    handler = _papermill_log_to(ctx.log_path)
    try:
        execute.execute_notebook(
            source,
            ctx.run_dir / f"{stem}.ipynb",
            parameters,
            cwd=source.parent,
            kernel_log=ctx.log_path,
            timeout=ctx.params.options.get("cell_timeout"),
            progress_bar=ctx.echo and not ctx.scheduled and sys.stderr.isatty(),
            log_output=True,
        )
    except Exception as exc:
        entry["status"] = "FAILED"
        entry["error"] = error_text(exc)
        raise NotebookFailed(entry["error"]) from exc
    finally:
        logging.getLogger("papermill").removeHandler(handler)
        handler.close()
        os.environ.pop(tracking.PIPELINE_STEP_ENV, None)
        os.environ.pop(tracking.PIPELINE_RUN_ENV, None)
        collect_outputs(entry, output_dir)
    entry["status"] = "OK"
    return metric_line(entry.get("metrics") or {})


def render_notebook(ctx: RunContext, name: str) -> str:
    """Render the executed notebook to HTML twice: full, and a report for business readers."""
    entry = ctx.notebooks[name]
    executed = ctx.run_dir / entry["notebook"]
    if not executed.is_file():
        raise StepSkipped("no executed notebook to render")
    full, business = render.render_notebook(executed, ctx.run_dir)
    entry.update(html=full.name, html_business=business.name)
    return f"{full.name}, {business.name}"


def _papermill_log_to(path: Path) -> logging.Handler:
    """Send papermill's log records to ``path`` (not the console) until the handler is removed."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    return handler


def error_text(exc: BaseException) -> str:
    """The failing cell and exception in a few lines (the full traceback is in the HTML)."""
    if hasattr(exc, "ename"):
        cell = getattr(exc, "exec_count", None)
        where = f"cell [{cell}]: " if cell is not None else ""
        return f"{where}{exc.ename}: {exc.evalue}"
    lines = [line for line in str(exc).splitlines() if line.strip(" -")]
    return "\n".join(lines[-12:]) if lines else type(exc).__name__


def upstream_file(ctx: RunContext, name: str, file_name: str) -> Path | None:
    """``file_name`` written by notebook ``name`` earlier in this run (None if it did not)."""
    entry = ctx.notebooks.get(name) or {}
    if entry.get("status") != "OK" or not entry.get("output_dir"):
        return None
    path = ctx.run_dir / entry["output_dir"] / file_name
    return path if path.is_file() else None


def collect_outputs(entry: dict[str, Any], output_dir: Path) -> None:
    """List the notebook's files and read its ``metrics.json`` into its run entry."""
    # Persona cards, score files, figures: listed (relative to the run folder) for the summary.
    entry["files"] = sorted(
        f"{output_dir.name}/{path.relative_to(output_dir)}"
        for path in output_dir.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )[:MAX_LISTED_FILES]
    metrics_file = output_dir / "metrics.json"
    if not metrics_file.is_file():
        return
    try:
        metrics = json.loads(metrics_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        entry["metrics_error"] = f"{metrics_file.name}: {exc}"
        return
    entry["metrics"] = metrics if isinstance(metrics, dict) else {"value": metrics}
    entry["metrics_file"] = f"{output_dir.name}/metrics.json"
    if isinstance(metrics, dict) and metrics.get("mlflow_run_id"):
        entry["mlflow_run_id"] = str(metrics["mlflow_run_id"])


def metric_line(metrics: Mapping[str, Any]) -> str:
    """The first four headline metrics as ``key=value`` text for the progress line."""
    shown = list(headline_metrics(metrics, limit=4).items())
    return ", ".join(f"{k}={format_value(v)}" for k, v in shown)
