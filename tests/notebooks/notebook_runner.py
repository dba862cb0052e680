"""Execute a project notebook the way the pipeline does (shared executor, kernel python3)."""

from __future__ import annotations

from pathlib import Path

from features import config
from features.reports.execute import execute_notebook as run_notebook


def execute_notebook(name: str, executed_dir: Path, **parameters):
    """Run ``notebooks/<name>`` with ``parameters``; the executed copy goes to ``executed_dir``."""
    notebook = config.NOTEBOOKS_DIR / name
    return run_notebook(
        notebook,
        executed_dir / notebook.name,
        parameters,
        cwd=config.NOTEBOOKS_DIR,
        kernel_log=executed_dir / "kernel.log",
    )
