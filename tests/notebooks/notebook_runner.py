"""Execute a project notebook with papermill the way the pipeline does (kernel python3)."""

from __future__ import annotations

from pathlib import Path

import papermill as pm

from features import config


def execute_notebook(name: str, executed_dir: Path, **parameters):
    """Run ``notebooks/<name>`` with ``parameters``; the executed copy goes to ``executed_dir``."""
    notebook = config.NOTEBOOKS_DIR / name
    return pm.execute_notebook(
        str(notebook),
        str(executed_dir / notebook.name),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(config.NOTEBOOKS_DIR),
        progress_bar=False,
    )
