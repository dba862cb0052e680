"""Every path of the lab, built from the package's own location (never the working directory).

Kernels started by papermill, nbval and JupyterLab run in different folders; building paths
from this file keeps them all pointing at the same project. Nothing is created or connected
at import time: callers create folders when they write.

Overrides:
    NEV_LAB_DATA_ROOT   folder holding ``raw/`` and ``processed/`` (default ``<root>/data``)
    NEV_LAB_REPORTS_DIR folder for run reports (default ``<root>/reports``)
    MLFLOW_TRACKING_URI MLflow tracking server or store (default SQLite under ``<root>/mlflow``)
    NEV_LAB_MLFLOW_ARTIFACTS artifact root for experiments created by the lab (default: the
                        ``artifacts`` folder beside a SQLite store, else ``<root>/mlflow/artifacts``)
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DATA_ROOT_ENV = "NEV_LAB_DATA_ROOT"
REPORTS_DIR_ENV = "NEV_LAB_REPORTS_DIR"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
ARTIFACTS_DIR_ENV = "NEV_LAB_MLFLOW_ARTIFACTS"

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CONF_DIR = PROJECT_ROOT / "conf"
MLFLOW_DIR = PROJECT_ROOT / "mlflow"


def project_path(path: str | os.PathLike[str]) -> Path:
    """An absolute path as it is; a relative one from the project root (never the cwd)."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (PROJECT_ROOT / candidate).resolve()


def data_root() -> Path:
    """Folder holding ``raw/`` and ``processed/``."""
    return Path(os.environ.get(DATA_ROOT_ENV) or PROJECT_ROOT / "data").resolve()


def raw_dir() -> Path:
    """Immutable raw datasets, one folder per dataset."""
    return data_root() / "raw"


def processed_dir() -> Path:
    """Feature and label tables written by package code."""
    return data_root() / "processed"


def reports_dir() -> Path:
    """Run reports: one folder per run plus ``index.html``."""
    return Path(os.environ.get(REPORTS_DIR_ENV) or PROJECT_ROOT / "reports").resolve()


def output_path(output_dir: str, name: str) -> Path:
    """A notebook's output folder: ``output_dir`` (relative paths from the project root), or a
    new ``reports/adhoc/<name>-<YYYYmmdd-HHMMSS>`` folder when it is ""."""
    if output_dir:
        return project_path(output_dir)
    return reports_dir() / "adhoc" / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"


def mlflow_db_path() -> Path:
    """SQLite file of the default local MLflow store."""
    return MLFLOW_DIR / "mlflow.db"


def mlflow_artifacts_dir() -> Path:
    """Artifact root for experiments the lab creates.

    ``$NEV_LAB_MLFLOW_ARTIFACTS`` if set; else the ``artifacts`` folder beside the SQLite file of
    the tracking URI (``<root>/mlflow/artifacts`` for the default store).
    """
    if os.environ.get(ARTIFACTS_DIR_ENV):
        return Path(os.environ[ARTIFACTS_DIR_ENV]).resolve()
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).resolve().parent / "artifacts"
    return MLFLOW_DIR / "artifacts"


def tracking_uri() -> str:
    """MLflow tracking URI: ``$MLFLOW_TRACKING_URI`` or the project's SQLite store."""
    return os.environ.get(TRACKING_URI_ENV) or f"sqlite:///{mlflow_db_path()}"
