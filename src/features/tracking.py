"""MLflow tracking helpers: one store, safe logging, and the model registry's champion rule.

The default store is SQLite under ``mlflow/`` with artifacts under ``mlflow/artifacts``. SQLite
allows one writer at a time, so two scheduled runs can meet "database is locked": store
creation, experiment creation and registry writes are serialised by a file lock beside the
database (``features.io.file_lock``) and retried on lock errors. Nothing here runs at import
time: ``mlflow`` is imported inside the functions that use it, because importing it takes
seconds and callers that never log (parameter checks, report pages) should not pay for it.

May import the foundation modules (``config``, ``io``, ``schema``); the notebooks, personas,
propensity and pipeline code import it.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from features import config
from features.io import atomic_path, file_lock, write_csv, write_json
from features.schema import PERSONAL_FIELDS

PIPELINE_RUN_ENV = "NEV_LAB_PIPELINE_RUN_ID"
PIPELINE_RUN_TAG = "pipeline_run_id"
PIPELINE_STEP_ENV = "NEV_LAB_PIPELINE_STEP"
PIPELINE_STEP_TAG = "pipeline_step"
CHALLENGER_ALIAS = "challenger"
CHAMPION_ALIAS = "champion"
EVAL_METRIC_NAME_TAG = "eval_metric_name"
EVAL_METRIC_VALUE_TAG = "eval_metric_value"
EVAL_DATA_HASH_TAG = "eval_data_hash"
# What a registered version holds; a champion of an older format (the raw LightGBM booster,
# not servable as it is) is replaced by the next servable version whatever its metric.
MODEL_FORMAT_TAG = "model_format"
MODEL_FORMAT = "lab-scorer-1"
MAX_PARAM_LENGTH = 6000
MODEL_REQUIREMENTS = ("mlflow", "lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow")

_T = TypeVar("_T")
_TRANSIENT_MARKERS = ("database is locked", "database table is locked", "database is busy")
_ALREADY_EXISTS_MARKERS = ("resource_already_exists", "already exists", "unique constraint failed")


# --- store location -------------------------------------------------------------------------


@dataclass
class RunRecord:
    """Where a notebook's outputs went: folder, metrics, files by stem, MLflow run, model.

    ``registration`` holds the registered model's name, version and aliases (empty when the
    run registers no model).
    """

    output_dir: Path
    metrics: dict[str, Any]
    files: dict[str, Path]
    run_id: str
    registration: dict[str, Any] = field(default_factory=dict)


def sqlite_path(tracking_uri: str) -> Path | None:
    """Database file of a ``sqlite:///`` URI, or None for other stores."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    raw = unquote(tracking_uri[len("sqlite:///") :]).split("?", 1)[0]
    return Path(raw).resolve()


def artifact_root(tracking_uri: str) -> Path | None:
    """Local artifact root for a SQLite store (None: the store or server decides).

    ``$NEV_LAB_MLFLOW_ARTIFACTS`` wins; the project's store uses ``mlflow/artifacts``; any other
    SQLite file keeps its artifacts in an ``artifacts`` folder beside it, never in ``./mlruns``.
    """
    db_path = sqlite_path(tracking_uri)
    if db_path is None:
        return None
    if override := os.environ.get(config.ARTIFACTS_DIR_ENV):
        return Path(override).resolve()
    if db_path == config.mlflow_db_path().resolve():
        return config.mlflow_artifacts_dir().resolve()
    return db_path.parent / "artifacts"


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """``tracking_uri`` unless empty, else the project's default (``config.tracking_uri()``)."""
    return tracking_uri or config.tracking_uri()


@contextmanager
def store_lock(tracking_uri: str | None = None) -> Iterator[None]:
    """Exclusive inter-process lock for writes to a SQLite store (no-op for other stores).

    Re-entrant within a thread; the lock file sits beside the database and the lock is
    released by the kernel if the process dies.
    """
    db_path = sqlite_path(resolve_tracking_uri(tracking_uri))
    if db_path is None:
        yield
        return
    with file_lock(f"{db_path}.lock"):
        yield


def is_transient_error(exc: BaseException) -> bool:
    """True for SQLite lock contention, which succeeds when retried."""
    text = str(exc).lower()
    return any(marker in text for marker in _TRANSIENT_MARKERS)


def retry_on_lock(
    func: Callable[..., _T], *args: Any, attempts: int = 10, base_delay: float = 0.2, **kwargs: Any
) -> _T:
    """Call ``func``; on a SQLite lock error wait (exponential backoff with jitter) and retry."""
    for attempt in range(attempts):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if attempt == attempts - 1 or not is_transient_error(exc):
                raise
            time.sleep(min(5.0, base_delay * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def configure(tracking_uri: str | None = None) -> str:
    """Point MLflow at ``tracking_uri`` (default: the project's store) and return it.

    For a SQLite store the database folder and artifact root are created on demand and the
    schema is initialised under the store lock, so concurrent first runs do not race.
    """
    import mlflow  # deferred: slow to import (module docstring)
    from mlflow import MlflowClient

    uri = resolve_tracking_uri(tracking_uri)
    db_path = sqlite_path(uri)
    if db_path is not None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        root = artifact_root(uri)
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        with store_lock(uri):
            # The first client call creates or migrates the schema; keep it to one process.
            retry_on_lock(MlflowClient(uri).search_experiments, max_results=1)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def get_or_create_experiment(name: str, tracking_uri: str | None = None) -> str:
    """Id of experiment ``name``, created (with a project artifact location) when missing."""
    from mlflow import MlflowClient  # deferred: slow to import (module docstring)

    uri = resolve_tracking_uri(tracking_uri)
    client = MlflowClient(uri)
    root = artifact_root(uri)
    for attempt in range(10):
        experiment = retry_on_lock(client.get_experiment_by_name, name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                retry_on_lock(client.restore_experiment, experiment.experiment_id)
            return experiment.experiment_id
        folder = re.sub(r"[^0-9A-Za-z_.-]", "_", name)
        location = (root / folder).as_uri() if root is not None else None
        try:
            with store_lock(uri):
                return retry_on_lock(client.create_experiment, name, artifact_location=location)
        except Exception as exc:
            # Another process created it between our lookup and create: look it up again.
            if not _already_exists(exc) or attempt == 9:
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


# --- runs -----------------------------------------------------------------------------------


def git_commit() -> str:
    """Commit hash of the project checkout (``-dirty`` when files changed), else "unknown"."""
    try:
        head = subprocess.run(
            ["git", "-C", str(config.PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(config.PROJECT_ROOT),
                "status",
                "--porcelain",
                "--untracked-files=no",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if head and dirty else head or "unknown"


@contextmanager
def start_run(
    experiment: str,
    tracking_uri: str | None = None,
    run_name: str | None = None,
    tags: dict | None = None,
) -> Iterator[Any]:
    """Start an MLflow run in ``experiment`` (created if missing) and yield the ActiveRun.

    Tags the run with ``git_commit`` and, inside a pipeline run, ``pipeline_run_id`` and
    ``pipeline_step`` (so the runner can find and mark a failed notebook's run). The run
    ends FINISHED, or FAILED (KILLED on interrupt) when the block raises.
    """
    import mlflow  # deferred: slow to import (module docstring)

    uri = configure(tracking_uri)
    experiment_id = get_or_create_experiment(experiment, uri)
    run_tags = {"git_commit": git_commit() or "unknown"}
    if pipeline_run := os.environ.get(PIPELINE_RUN_ENV):
        run_tags[PIPELINE_RUN_TAG] = pipeline_run
    if pipeline_step := os.environ.get(PIPELINE_STEP_ENV):
        run_tags[PIPELINE_STEP_TAG] = pipeline_step
    run_tags.update({str(k): _to_param_value(v) for k, v in (tags or {}).items()})
    active = retry_on_lock(
        mlflow.start_run, experiment_id=experiment_id, run_name=run_name, tags=run_tags
    )
    try:
        yield active
    except KeyboardInterrupt:
        _end_run_if_active(active.info.run_id, "KILLED")
        raise
    except BaseException:
        _end_run_if_active(active.info.run_id, "FAILED")
        raise
    else:
        _end_run_if_active(active.info.run_id, "FINISHED")


def _end_run_if_active(run_id: str, status: str) -> None:
    import mlflow  # deferred: slow to import (module docstring)

    current = mlflow.active_run()
    if current is not None and current.info.run_id == run_id:
        retry_on_lock(mlflow.end_run, status=status)


def set_run_status(run_id: str, status: str, tracking_uri: str | None = None) -> None:
    """Terminate run ``run_id`` with ``status`` (FINISHED, FAILED, KILLED) from any process."""
    from mlflow import MlflowClient  # deferred: slow to import (module docstring)

    client = MlflowClient(resolve_tracking_uri(tracking_uri))
    retry_on_lock(client.set_terminated, run_id, status=status)


# --- logging --------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", str(name))


def _to_param_value(value: Any) -> str:
    if value is None:
        text = "None"
    elif isinstance(value, list | tuple | set | dict):
        text = json.dumps(sorted(value, key=str) if isinstance(value, set) else value, default=str)
    else:
        text = str(value)
    if len(text) > MAX_PARAM_LENGTH:
        text = text[: MAX_PARAM_LENGTH - 3] + "..."
    return text


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts become dotted keys; values become strings MLflow accepts."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{_safe_name(key)}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, prefix=f"{name}."))
        else:
            flat[name] = _to_param_value(value)
    return flat


def log_params_flat(params: Mapping[str, Any]) -> dict[str, str]:
    """Log ``params`` to the active run (lists and None stringified, long values truncated)."""
    import mlflow  # deferred: slow to import (module docstring)

    flat = flatten_params(params)
    items = list(flat.items())
    for start in range(0, len(items), 100):  # MLflow batches hold at most 100 params
        retry_on_lock(mlflow.log_params, dict(items[start : start + 100]))
    return flat


def _finite_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    try:  # zero-dimensional arrays and similar
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def log_metrics_safe(metrics: Mapping[str, Any], step: int | None = None) -> dict[str, float]:
    """Log the finite numeric entries of ``metrics``; None, NaN, inf and non-numbers are skipped."""
    import mlflow  # deferred: slow to import (module docstring)

    clean = {}
    for key, value in metrics.items():
        number = _finite_number(value)
        if number is not None:
            clean[_safe_name(key)] = number
    if clean:
        retry_on_lock(mlflow.log_metrics, clean, step=step)
    return clean


def _png_name(name: str) -> str:
    return name if Path(name).suffix else f"{name}.png"


def log_figure(
    fig: Any, name: str, output_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """Save ``fig`` as PNG into ``output_dir`` (if given) and log it to the active run.

    Returns the saved path (None without ``output_dir``). Without an active run only the file
    is written, so the helpers never start a stray run.
    """
    import mlflow  # deferred: slow to import (module docstring)

    file_name = _png_name(name)
    saved = None
    if output_dir is not None:
        saved = Path(output_dir) / file_name
        with atomic_path(saved) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    if mlflow.active_run() is not None:
        retry_on_lock(mlflow.log_figure, fig, f"figures/{file_name}")
    return saved


def log_figures_and_tables(
    output_dir: str | os.PathLike[str], figures: Mapping[str, Any], tables: Mapping[str, Any]
) -> dict[str, Path]:
    """Save each figure as ``<name>.png`` and each table as ``<name>.csv`` in ``output_dir``
    (atomically) and log them to the active run (tables under ``tables/``); the paths by name."""
    import mlflow  # deferred: slow to import (module docstring)

    out = Path(output_dir)
    files: dict[str, Path] = {}
    for name, fig in figures.items():
        saved = log_figure(fig, name, out)
        assert saved is not None
        files[name] = saved
    for name, table in tables.items():
        files[name] = write_csv(table, out / f"{name}.csv")
        if mlflow.active_run() is not None:
            retry_on_lock(mlflow.log_artifact, str(files[name]), "tables")
    return files


def save_study(
    task: str,
    output_dir: Path,
    params: Mapping[str, Any],
    metrics: dict[str, Any],
    figures: Mapping[str, Any],
    tables: Mapping[str, Any],
    *,
    extra_metrics: Mapping[str, Any] | None = None,
    write_extra: Callable[[Path], dict[str, Path]] | None = None,
    tracking_uri: str = "",
) -> RunRecord:
    """What every study notebook's save step does, in one MLflow run (experiment ``task``).

    Logs the parameters and the numeric ``metrics`` (plus ``extra_metrics``), saves and logs
    the figures (PNG) and tables (CSV), lets ``write_extra`` write the study's own files into
    the folder (each one it returns is logged too), then writes ``metrics.json`` with the run
    id. ``output_dir`` is created when missing.
    """
    import mlflow  # deferred: slow to import (module docstring)

    output_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with start_run(task, tracking_uri=tracking_uri or None,
                   run_name=f"{task}-{datetime.now():%Y%m%d-%H%M%S}",
                   tags={"task": task}) as run:  # fmt: skip
        log_params_flat(params)
        numeric = {k: v for k, v in metrics.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}  # fmt: skip
        log_metrics_safe({**numeric, **(extra_metrics or {})})
        files.update(log_figures_and_tables(output_dir, figures, tables))
        extra = write_extra(output_dir) if write_extra is not None else {}
        files.update(extra)
        metrics["mlflow_run_id"] = run.info.run_id
        files["metrics"] = write_json(to_jsonable(metrics), output_dir / "metrics.json")
        for path in [*extra.values(), files["metrics"]]:
            retry_on_lock(mlflow.log_artifact, str(path))
    return RunRecord(output_dir=output_dir, metrics=metrics, files=files,
                     run_id=run.info.run_id, registration={})  # fmt: skip


def to_jsonable(obj: Any) -> Any:
    """``obj`` with numpy/pandas scalars, paths and timestamps turned into plain JSON values."""

    def default(value: Any) -> Any:
        if hasattr(value, "item") and callable(value.item):
            try:
                return value.item()
            except (TypeError, ValueError):
                pass
        if hasattr(value, "tolist"):
            return value.tolist()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value)

    return json.loads(json.dumps(obj, default=default))


def log_dict_artifact(
    obj: Any, name: str, output_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """Write ``obj`` as JSON into ``output_dir`` (if given) and log it to the active run."""
    import mlflow  # deferred: slow to import (module docstring)

    clean = to_jsonable(obj)
    file_name = name if Path(name).suffix else f"{name}.json"
    saved = write_json(clean, Path(output_dir) / file_name) if output_dir is not None else None
    if mlflow.active_run() is not None:
        retry_on_lock(mlflow.log_dict, clean, file_name)
    return saved


# --- models and registry --------------------------------------------------------------------


def pinned_requirements(packages: tuple[str, ...] = MODEL_REQUIREMENTS) -> list[str]:
    """``name==version`` lines for the installed ``packages`` (skips those not installed)."""
    pins = []
    for package in packages:
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def _check_no_personal_fields(X_example: Any) -> None:
    leaked = [c for c in getattr(X_example, "columns", []) if c in PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"input example carries personal fields {leaked}: drop them first")


def _model_signature(model: Any, X_example: Any) -> Any:
    from mlflow.models import infer_signature  # deferred: slow to import (module docstring)

    return infer_signature(X_example, model.predict(X_example))


def log_sklearn_model(
    model: Any,
    name: str,
    X_example: Any,
    skops_trusted_types: list[str] | None = None,
) -> dict[str, str]:
    """Log a scikit-learn model (scaler, clusterer, pipeline) with signature, no registration.

    Raises ValueError when ``X_example`` carries a personal field. ``skops_trusted_types``
    names the non-scikit-learn types the skops format must trust to load the model (e.g. a
    package's own estimator class).

    Returns {"model_uri", "model_id"}.
    """
    import mlflow.sklearn  # deferred: slow to import (module docstring)

    _check_no_personal_fields(X_example)
    signature = _model_signature(model, X_example) if hasattr(model, "predict") else None
    info = retry_on_lock(
        mlflow.sklearn.log_model,
        model,
        name=name,
        signature=signature,
        input_example=X_example if signature is not None else None,
        pip_requirements=pinned_requirements(("mlflow", "scikit-learn", "pandas", "numpy")),
        skops_trusted_types=skops_trusted_types,
    )
    return {"model_uri": info.model_uri, "model_id": str(getattr(info, "model_id", "") or "")}


def _already_exists(exc: BaseException) -> bool:
    code = str(getattr(exc, "error_code", "")).lower()
    return code == "resource_already_exists" or any(
        marker in str(exc).lower() for marker in _ALREADY_EXISTS_MARKERS
    )


def _does_not_exist(exc: BaseException) -> bool:
    code = str(getattr(exc, "error_code", "")).lower()
    return (
        code in {"resource_does_not_exist", "invalid_parameter_value"}
        or "not found" in str(exc).lower()
    )


def _version_metric(version: Any, metric_name: str, data_hash: str) -> float | None:
    """The recorded metric of a model version when it was scored on ``data_hash``."""
    tags = version.tags or {}
    if tags.get(EVAL_DATA_HASH_TAG) != data_hash or tags.get(EVAL_METRIC_NAME_TAG) != metric_name:
        return None
    return _finite_number(tags.get(EVAL_METRIC_VALUE_TAG))


def decide_champion(
    current_champion: Any | None, metric_name: str, metric_value: float, data_hash: str
) -> bool:
    """True when the new version should become champion (higher metric is better).

    Promote when there is no champion, when the champion is of an older model format, or when
    it was scored on the same evaluation data and did worse. A champion scored on other data is
    not comparable and stays.
    """
    if current_champion is None:
        return True
    tags = getattr(current_champion, "tags", None) or {}
    if tags.get(MODEL_FORMAT_TAG) != MODEL_FORMAT:
        return True
    recorded = _version_metric(current_champion, metric_name, data_hash)
    return recorded is not None and recorded < metric_value


def log_and_register_model(
    python_model: Any,
    name: str,
    registered_name: str,
    X_example: Any,
    signature: Any,
    eval_metric_name: str,
    eval_metric_value: float,
    eval_data_hash: str,
) -> dict[str, Any]:
    """Log a pyfunc model (the whole scorer) to the active run, register it, move the aliases.

    Every new version gets alias ``challenger``; it also gets ``champion`` when there is no
    champion yet or the champion's recorded ``eval_metric_name`` on the same
    ``eval_data_hash`` is lower. Returns {"version", "aliases", "champion_replaced",
    "model_uri"}. The model is pickled by reference to its class, so loading it needs this
    package installed (as in the lab's environment and ``mlflow models serve --env-manager
    local``).
    """
    import mlflow.pyfunc  # binds ``mlflow`` too; deferred: slow to import (module docstring)
    from mlflow import MlflowClient

    if mlflow.active_run() is None:
        raise RuntimeError("log_and_register_model needs an active run (use tracking.start_run)")
    _check_no_personal_fields(X_example)
    metric_value = float(eval_metric_value)
    info = retry_on_lock(
        mlflow.pyfunc.log_model,
        name=name,
        python_model=python_model,
        signature=signature,
        input_example=X_example,
        pip_requirements=pinned_requirements(),
    )
    uri = mlflow.get_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version_tags = {
        EVAL_METRIC_NAME_TAG: eval_metric_name,
        EVAL_METRIC_VALUE_TAG: repr(metric_value),
        EVAL_DATA_HASH_TAG: eval_data_hash,
        MODEL_FORMAT_TAG: MODEL_FORMAT,
    }
    # Registration and the champion decision form one critical section across processes.
    with store_lock(uri):
        try:
            retry_on_lock(client.create_registered_model, registered_name)
        except Exception as exc:
            if not _already_exists(exc):
                raise
        version = retry_on_lock(
            client.create_model_version,
            registered_name,
            info.model_uri,
            run_id=mlflow.active_run().info.run_id,
            tags=version_tags,
            model_id=getattr(info, "model_id", None),
        )
        try:
            champion = retry_on_lock(
                client.get_model_version_by_alias, registered_name, CHAMPION_ALIAS
            )
        except Exception as exc:
            if not _does_not_exist(exc):
                raise
            champion = None
        promote = decide_champion(champion, eval_metric_name, metric_value, eval_data_hash)
        retry_on_lock(
            client.set_registered_model_alias, registered_name, CHALLENGER_ALIAS, version.version
        )
        aliases = [CHALLENGER_ALIAS]
        if promote:
            retry_on_lock(
                client.set_registered_model_alias, registered_name, CHAMPION_ALIAS, version.version
            )
            aliases.append(CHAMPION_ALIAS)
    return {
        "version": str(version.version),
        "aliases": aliases,
        "champion_replaced": bool(promote and champion is not None),
        "model_uri": info.model_uri,
    }
