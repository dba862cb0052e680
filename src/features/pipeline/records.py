"""Records of pipeline runs: ``run.json`` and the run page, the index of all runs, retention,
the scheduled-run log and the run's record in the MLflow experiment "pipeline".

Every file is written atomically and made readable by others (reports are shared); the index
is rebuilt from the ``run.json`` files, so concurrent runs never overwrite each other's rows.

May import ``features.reports``, ``features.tracking``, ``features.io`` and the pipeline's
``context``; the runner imports it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from features import tracking
from features.io import write_text
from features.pipeline.context import RunContext, utc_now
from features.reports.runs import render_index_page, render_run_page

PIPELINE_EXPERIMENT = "pipeline"


def publish_text(text: str, path: Path) -> Path:
    """Write ``text`` atomically and make it readable by others (reports are shared)."""
    write_text(text, path)
    os.chmod(path, 0o644)
    return path


# --- run.json and pages ---------------------------------------------------------------------


def run_record(ctx: RunContext, status: str, finished: bool) -> dict[str, Any]:
    """The machine-readable summary written as ``run.json``."""
    return {
        "run_id": ctx.run_id,
        "status": status,
        "started_at": ctx.started_at,
        "finished_at": utc_now() if finished else None,
        "elapsed_seconds": round(time.perf_counter() - ctx.started, 3),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "scheduled": ctx.scheduled,
        "config_file": ctx.config_file,
        "overrides": ctx.overrides,
        "parameters": ctx.params.raw,
        "notebook_parameters": ctx.params.notebook_parameters,
        "steps": [step.__dict__ for step in ctx.steps],
        "notebooks": ctx.notebooks,
        "dataset": ctx.dataset,
        "mlflow": ctx.mlflow_info,
        "packages": ctx.packages,
        "git_commit": tracking.git_commit(),
    }


def write_run_reports(ctx: RunContext, status: str, finished: bool) -> None:
    """Write ``run.json`` and the run's ``index.html`` atomically."""
    record = run_record(ctx, status, finished)
    publish_text(json.dumps(record, indent=2, default=str) + "\n", ctx.run_dir / "run.json")
    publish_text(render_run_page(record), ctx.run_dir / "index.html")


def read_run_records(reports_dir: Path) -> list[dict[str, Any]]:
    """Every readable ``<run>/run.json`` under ``reports_dir``."""
    records = []
    for path in sorted(reports_dir.glob("*/run.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(record, dict) and record.get("run_id") == path.parent.name:
            records.append(record)
    return records


def write_reports_index(reports_dir: Path) -> Path:
    """Regenerate ``reports/index.html`` from the run records (safe to run concurrently).

    A run still marked RUNNING whose process is gone (killed, machine rebooted) is shown as
    ABANDONED; its folder is left as it is.
    """
    records = read_run_records(reports_dir)
    for record in records:
        if record.get("status") == "RUNNING" and not _still_running(record):
            record["status"] = "ABANDONED"
    return publish_text(render_index_page(records), reports_dir / "index.html")


def _still_running(record: dict[str, Any]) -> bool:
    """False only for a RUNNING record of this host whose process is gone."""
    if record.get("host") != socket.gethostname():
        return True  # another machine's process cannot be checked
    return _process_alive(record.get("pid"))


def _process_alive(pid: Any) -> bool:
    """True when a process with id ``pid`` exists on this machine."""
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def apply_retention(reports_dir: Path, keep: int, current_run: str) -> list[str]:
    """Delete all but the newest ``keep`` runs; never the current run or one still running."""
    records = sorted(read_run_records(reports_dir), key=lambda r: r["run_id"], reverse=True)
    removed = []
    for record in records[keep:]:
        if record["run_id"] == current_run:
            continue
        running = record.get("status") == "RUNNING" and record.get("host") == socket.gethostname()
        if running and _process_alive(record.get("pid")):
            continue
        shutil.rmtree(reports_dir / record["run_id"], ignore_errors=True)
        removed.append(record["run_id"])
    return removed


def append_scheduled_log(reports_dir: Path, run_id: str, status: str, seconds: float) -> None:
    """Append one line per scheduled run to ``reports/scheduled.log``."""
    with open(reports_dir / "scheduled.log", "a") as log:
        log.write(f"{utc_now()} {run_id} {status} {seconds:.1f}s pid={os.getpid()}\n")


# --- MLflow record --------------------------------------------------------------------------


def mark_failed_notebook_runs(ctx: RunContext, failed: list[str]) -> list[str]:
    """Mark the MLflow runs of failed notebooks FAILED (found by the pipeline tags)."""
    if not failed:
        return []
    from mlflow import MlflowClient  # deferred: slow to import, needed only after a failure

    uri = tracking.configure()
    client = MlflowClient(uri)
    experiments = tracking.retry_on_lock(client.search_experiments)
    ids = [e.experiment_id for e in experiments]
    marked = []
    for name in failed:
        runs = tracking.retry_on_lock(
            client.search_runs,
            ids,
            filter_string=(
                f"tags.{tracking.PIPELINE_RUN_TAG} = '{ctx.run_id}' "
                f"and tags.{tracking.PIPELINE_STEP_TAG} = '{name}'"
            ),
        )
        for run in runs:
            # A run left open by the failed cell is closed as FINISHED when the kernel exits,
            # so set FAILED whatever the current status says.
            tracking.retry_on_lock(client.set_tag, run.info.run_id, "pipeline_status", "FAILED")
            tracking.set_run_status(run.info.run_id, "FAILED", uri)
            marked.append(run.info.run_id)
            ctx.notebooks[name].setdefault("mlflow_run_id", run.info.run_id)
    return marked


def record_in_mlflow(ctx: RunContext) -> str:
    """Log the run to the "pipeline" experiment: parameters, step status and headline metrics."""
    import mlflow  # deferred: slow to import; a parameter error exits before any logging

    failed = [name for name, entry in ctx.notebooks.items() if entry.get("status") == "FAILED"]
    marked = mark_failed_notebook_runs(ctx, failed)
    tags = {
        "status": "FAILED" if ctx.failed() else "SUCCEEDED",
        tracking.PIPELINE_RUN_TAG: ctx.run_id,
    }
    tags.update({f"step.{step.name}": step.status for step in ctx.steps})
    with tracking.start_run(PIPELINE_EXPERIMENT, run_name=ctx.run_id, tags=tags) as run:
        tracking.log_params_flat(
            {"run_id": ctx.run_id, **ctx.params.notebook_parameters, "options": ctx.params.options}
        )
        metrics = {f"seconds.{step.name}": step.seconds for step in ctx.steps}
        metrics["seconds.total"] = time.perf_counter() - ctx.started
        for name, entry in ctx.notebooks.items():
            for key, value in (entry.get("metrics") or {}).items():
                metrics[f"{name}.{key}"] = value
        tracking.log_metrics_safe(metrics)
        run_id = run.info.run_id
        if ctx.failed():
            tracking.retry_on_lock(mlflow.end_run, status="FAILED")
    ctx.mlflow_info = {"pipeline_run": run_id, "tracking_uri": mlflow.get_tracking_uri()}
    if marked:
        ctx.mlflow_info["marked_failed"] = ", ".join(marked)
    return f"run {run_id}" + (f"; marked FAILED: {len(marked)} notebook run(s)" if marked else "")
