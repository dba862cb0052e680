"""Test-session isolation: every test, notebook kernel and subprocess writes into a temp folder.

Kernels started by papermill and nbval inherit this process's environment, so setting the
variables here keeps test runs out of the project's data/, reports/ and MLflow store.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_SESSION_ROOT: Path | None = None


def pytest_configure(config) -> None:
    global _SESSION_ROOT
    _SESSION_ROOT = Path(tempfile.mkdtemp(prefix="nev-lab-tests-"))
    os.environ.setdefault("NEV_LAB_DATA_ROOT", str(_SESSION_ROOT / "data"))
    os.environ.setdefault("NEV_LAB_REPORTS_DIR", str(_SESSION_ROOT / "reports"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{_SESSION_ROOT / 'mlflow.db'}")
    os.environ.setdefault("NEV_LAB_MLFLOW_ARTIFACTS", str(_SESSION_ROOT / "mlflow-artifacts"))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_unconfigure(config) -> None:
    if _SESSION_ROOT is not None:
        shutil.rmtree(_SESSION_ROOT, ignore_errors=True)
