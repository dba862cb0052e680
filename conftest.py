"""Test-session isolation: every test, notebook kernel and subprocess writes into a temp folder.

Kernels started by papermill and nbval inherit this process's environment, so setting the
variables here keeps test runs out of the project's data/, reports/ and MLflow store.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def pytest_configure(config) -> None:  # noqa: ARG001 - pytest hook signature
    root = Path(tempfile.mkdtemp(prefix="nev-lab-tests-"))
    os.environ.setdefault("NEV_LAB_DATA_ROOT", str(root / "data"))
    os.environ.setdefault("NEV_LAB_REPORTS_DIR", str(root / "reports"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    os.environ.setdefault("NEV_LAB_MLFLOW_ARTIFACTS", str(root / "mlflow-artifacts"))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("MPLBACKEND", "Agg")
