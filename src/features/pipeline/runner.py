"""One-command pipeline: data -> features -> notebooks -> HTML reports -> run index.

``python -m features.pipeline [--config FILE] [--set key=value ...] [--continue-on-error]
[--keep N] [--scheduled] [--notebooks-dir DIR]``

Steps: environment check, synthetic dataset (generated when missing), its validation, processed
features, then each notebook executed with papermill into ``reports/<run_id>/`` and rendered to
HTML twice (full for reviewers, code hidden for business readers), a run summary
(``index.html`` + ``run.json``), a record in the MLflow experiment "pipeline" and the index of
all runs (``reports/index.html``).

Parameter sets are YAML (``conf/default.yaml``): a ``common`` section passed to every notebook
that declares the parameter, one section per notebook, optional ``pipeline`` options and an
optional ``notebooks`` mapping (section name -> notebook file). The whole set is checked against
each notebook's ``parameters`` cell before anything runs; a bad key exits with status 2.

Runs never collide or touch each other: the run id is a UTC timestamp, a hash of the
parameters and a random suffix, and every file is written atomically into the run's own folder.
Data steps are serialised by a file lock; ``--scheduled`` also serialises whole runs (two
LightGBM runs on two cores slow each other far more than they gain), writes progress only to
the log and appends a line per run to ``reports/scheduled.log``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib
import inspect
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from features import config, io, tracking
from features.params import ParameterError, check_date
from features.reports import execute, render

DEFAULT_CONFIG = config.CONF_DIR / "default.yaml"
DEFAULT_NOTEBOOKS = {
    "personas": "01_personas.ipynb",
    "conversion": "02_conversion.ipynb",
    "churn": "03_churn.ipynb",
}
RESERVED_SECTIONS = ("common", "pipeline", "notebooks")
PIPELINE_OPTIONS = {
    "keep": "int or null: keep only the newest N runs",
    "continue_on_error": "bool: run the remaining notebooks after a failure",
    "cell_timeout": "int or null: seconds a single cell may take",
}
RUNNER_PARAMETERS = ("output_dir",)  # set by the runner, never by a parameter set
TRACKING_PARAMETER = "mlflow_tracking_uri"
PIPELINE_EXPERIMENT = "pipeline"
KERNEL_NAME = execute.KERNEL_NAME
EXIT_OK, EXIT_FAILED, EXIT_BAD_PARAMETERS = 0, 1, 2

_LOG = logging.getLogger("features.pipeline.runner")


# --- parameter sets -------------------------------------------------------------------------


@dataclass
class ParameterSet:
    """A validated parameter set: per-notebook parameters and runner options."""

    raw: dict[str, Any]
    notebooks: dict[str, Path]
    notebook_parameters: dict[str, dict[str, Any]]
    options: dict[str, Any]
    output_stems: dict[str, str] = field(default_factory=dict)
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)

    def effective(self, name: str) -> dict[str, Any]:
        """What notebook ``name`` will run with: its literal defaults, then the set's values."""
        values = {k: v for k, v in self.declared.get(name, {}).items() if v is not ...}
        values.update(self.notebook_parameters[name])
        return values

    def output_stem(self, name: str) -> str:
        """File stem of a notebook's outputs: its own stem, or stem.name if it runs twice."""
        return self.output_stems.get(name) or self.notebooks[name].stem

    def digest(self) -> str:
        """Short, stable hash of the parameters (part of the run id)."""
        text = json.dumps(self.notebook_parameters, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


def _normalise(value: Any) -> Any:
    """YAML dates become ISO strings; tuples become lists (the notebooks take plain values)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def load_parameter_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML parameter set; errors name the file."""
    source = Path(path)
    try:
        loaded = yaml.safe_load(source.read_text())
    except OSError as exc:
        raise ParameterError(f"{source}: cannot read parameter set ({exc.strerror})") from exc
    except (yaml.YAMLError, ValueError) as exc:
        raise ParameterError(f"{source}: not valid YAML ({exc})") from exc
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, Mapping):
        raise ParameterError(f"{source}: a parameter set must be a mapping of sections")
    for section, content in loaded.items():
        if content is not None and not isinstance(content, Mapping):
            raise ParameterError(f"{source}: section {section!r} must be a mapping")
    return {str(k): dict(_normalise(v or {})) for k, v in loaded.items()}


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key=value`` (common) and ``section.key=value`` overrides; values parse as YAML."""
    merged = {section: dict(values) for section, values in raw.items()}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--set {item!r}: expected key=value or section.key=value")
        section, dot, name = key.rpartition(".")
        section = section if dot else "common"
        if not name or "." in section:
            raise ParameterError(f"--set {item!r}: expected key=value or section.key=value")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except (yaml.YAMLError, ValueError):  # e.g. an impossible date: keep the text
            value = text
        merged.setdefault(section, {})[name] = _normalise(value)
    return merged


def notebook_declared_parameters(path: Path) -> dict[str, Any]:
    """Parameters of a notebook's ``parameters`` cell with their default values.

    The cell is parsed with Python's own parser (papermill's line-based reader skips lines
    whose comment holds an ``=``). Defaults that are not literals come back as ``...`` (any
    type accepted).
    """
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as exc:  # unreadable JSON or not a notebook
        raise ParameterError(f"{path}: cannot read the notebook ({exc})") from exc
    cells = [
        cell
        for cell in notebook.cells
        if cell.get("cell_type") == "code" and "parameters" in cell.metadata.get("tags", [])
    ]
    if not cells:
        raise ParameterError(f"{path}: no cell tagged 'parameters' (papermill cannot inject)")
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError as exc:
        raise ParameterError(f"{path}: parameters cell line {exc.lineno}: {exc.msg}") from exc
    defaults: dict[str, Any] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    defaults[target.id] = ast.literal_eval(value) if value is not None else None
                except ValueError:
                    defaults[target.id] = ...
    return defaults


def _type_rule(default: Any) -> tuple[Callable[[Any], bool], str] | None:
    if default is None or default is ...:
        return None
    if isinstance(default, bool):
        return (lambda v: isinstance(v, bool)), "true or false"
    if isinstance(default, int):
        return (lambda v: isinstance(v, int) and not isinstance(v, bool)), "an integer"
    if isinstance(default, float):
        return (lambda v: isinstance(v, int | float) and not isinstance(v, bool)), "a number"
    if isinstance(default, str):
        return (lambda v: isinstance(v, str)), "a string"
    if isinstance(default, list | tuple):
        return (lambda v: isinstance(v, list)), "a list"
    if isinstance(default, dict):
        return (lambda v: isinstance(v, dict)), "a mapping"
    return None


def check_parameter(notebook: str, name: str, value: Any, default: Any) -> Any:
    """``value`` must have the type of the notebook's default; dates must be ISO dates."""
    rule = _type_rule(default)
    if rule is not None and not rule[0](value):
        raise ParameterError(
            f"parameter {notebook}.{name} = {value!r}: must be {rule[1]} "
            f"(the notebook's default is {default!r})"
        )
    if name == "cutoff" or name.endswith("_date"):
        check_date(f"{notebook}.{name}", value)
    return value


def resolve_parameter_set(
    raw: dict[str, Any], notebooks_dir: str | os.PathLike[str] | None = None
) -> ParameterSet:
    """Check a raw parameter set against the notebooks and merge common and notebook sections.

    Raises ParameterError naming the first bad key: an unknown section or notebook, a key no
    notebook declares, a runner-owned key, a wrong type, a bad date or a bad pipeline option.
    """
    folder = Path(notebooks_dir) if notebooks_dir else config.NOTEBOOKS_DIR
    mapping = raw.get("notebooks") or DEFAULT_NOTEBOOKS
    notebooks: dict[str, Path] = {}
    for name, file_name in mapping.items():
        if not isinstance(file_name, str) or not file_name.endswith(".ipynb"):
            raise ParameterError(f"notebooks.{name} = {file_name!r}: must be an .ipynb file name")
        path = folder / file_name
        if not path.is_file():
            raise ParameterError(f"notebook {name!r}: {path} not found")
        notebooks[name] = path
    known_sections = (*RESERVED_SECTIONS, *notebooks)
    for section in raw:
        if section not in known_sections:
            raise ParameterError(
                f"unknown notebook or section {section!r} (known: {', '.join(known_sections)})"
            )
    options = dict(raw.get("pipeline") or {})
    _check_options(options)

    declared = {name: notebook_declared_parameters(path) for name, path in notebooks.items()}
    common = raw.get("common") or {}
    for key in list(common) + [k for n in notebooks for k in raw.get(n, {})]:
        if key in RUNNER_PARAMETERS:
            raise ParameterError(f"parameter {key!r} is set by the runner, not a parameter set")
    for key in common:
        if not any(key in params for params in declared.values()):
            raise ParameterError(
                f"parameter common.{key}: no notebook declares it "
                f"(notebooks: {', '.join(notebooks)})"
            )
    resolved: dict[str, dict[str, Any]] = {}
    for name, params in declared.items():
        values = {key: value for key, value in common.items() if key in params}
        for key, value in (raw.get(name) or {}).items():
            if key not in params:
                raise ParameterError(
                    f"parameter {name}.{key}: not a parameter of {notebooks[name].name} "
                    f"(declared: {', '.join(sorted(params))})"
                )
            values[key] = value
        for key, value in values.items():
            check_parameter(name, key, value, params[key])
        resolved[name] = values
    stems = [path.stem for path in notebooks.values()]
    output_stems = {
        name: path.stem if stems.count(path.stem) == 1 else f"{path.stem}.{name}"
        for name, path in notebooks.items()
    }
    return ParameterSet(
        raw=raw,
        notebooks=notebooks,
        notebook_parameters=resolved,
        options=options,
        output_stems=output_stems,
        declared=declared,
    )


def _check_options(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if key not in PIPELINE_OPTIONS:
            raise ParameterError(
                f"unknown pipeline option {key!r} (known: {', '.join(PIPELINE_OPTIONS)})"
            )
        if key == "continue_on_error" and not isinstance(value, bool):
            raise ParameterError(f"pipeline.continue_on_error = {value!r}: must be true or false")
        if key in ("keep", "cell_timeout") and value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"pipeline.{key} = {value!r}: must be a positive integer")


# --- run records and progress ---------------------------------------------------------------


def publish_text(text: str, path: Path) -> Path:
    """Write ``text`` atomically and make it readable by others (reports are shared)."""
    io.write_text(text, path)
    os.chmod(path, 0o644)
    return path


def utc_now() -> str:
    """Current UTC time as ISO text (seconds)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(digest: str) -> str:
    """UTC timestamp + parameter hash + random suffix: sortable and unique across processes."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{digest}-{secrets.token_hex(4)}"


@dataclass
class StepResult:
    """Outcome of one pipeline step."""

    name: str
    status: str  # OK, FAILED, SKIPPED
    seconds: float
    message: str = ""


@dataclass
class RunContext:
    """Mutable state of one run: where it writes, what happened so far."""

    run_id: str
    run_dir: Path
    params: ParameterSet
    scheduled: bool
    echo: bool
    started: float = field(default_factory=time.perf_counter)
    steps: list[StepResult] = field(default_factory=list)
    notebooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    mlflow_info: dict[str, str] = field(default_factory=dict)
    started_at: str = field(default_factory=lambda: utc_now())
    config_file: str | None = None
    overrides: list[str] = field(default_factory=list)
    on_step: Callable[[str, str], None] | None = None
    console: Any = field(default_factory=lambda: sys.stdout)

    @property
    def log_path(self) -> Path:
        return self.run_dir / "pipeline.log"

    def say(self, line: str) -> None:
        """Print a progress line (unless quiet) and append it to the run's log."""
        if self.echo:
            print(line, file=self.console, flush=True)
        with open(self.log_path, "a") as log:
            log.write(f"{utc_now()} {line}\n")

    def failed(self) -> bool:
        return any(step.status == "FAILED" for step in self.steps)


class StepSkipped(Exception):
    """A step has nothing to do (reason in the message)."""


class NotebookFailed(RuntimeError):
    """A notebook cell raised; the executed copy holds the traceback."""


def run_step(ctx: RunContext, name: str, action: Callable[[], str | None]) -> StepResult:
    """Run one step, time it, record and print its outcome; never raises."""
    if ctx.on_step:
        ctx.on_step("start", name)
    started = time.perf_counter()
    try:
        # What a step prints (data generation, validation) goes to the log, not the console.
        with open(ctx.log_path, "a") as log, contextlib.redirect_stdout(log):
            message = action() or ""
        status = "OK"
    except StepSkipped as skip:
        status, message = "SKIPPED", str(skip)
    except Exception as exc:
        status, message = "FAILED", f"{type(exc).__name__}: {exc}"
        with open(ctx.log_path, "a") as log:
            log.write(traceback.format_exc())
    seconds = time.perf_counter() - started
    result = StepResult(name, status, seconds, message.strip().splitlines()[0] if message else "")
    record_step(ctx, result)
    if ctx.on_step:
        ctx.on_step("end", name)
    return result


def record_step(ctx: RunContext, result: StepResult) -> None:
    """Append a step outcome and print its progress line."""
    ctx.steps.append(result)
    total = time.perf_counter() - ctx.started
    detail = f"  {result.message}" if result.message else ""
    ctx.say(
        f"[{total:7.1f} s] {result.name:<22} {result.status:<7} {result.seconds:7.1f} s{detail}"
    )


def skip_step(ctx: RunContext, name: str, reason: str) -> None:
    """Record a step that was not run."""
    record_step(ctx, StepResult(name, "SKIPPED", 0.0, reason))


@contextlib.contextmanager
def exclusive_lock(path: Path, ctx: RunContext | None = None, what: str = "") -> Iterator[None]:
    """Hold an fcntl lock on ``path`` (released by the OS if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            if ctx is not None:
                ctx.say(f"waiting for {what or path.name}: held by {holder}")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- data steps -----------------------------------------------------------------------------


def _package_function(module_name: str, function_name: str) -> Callable[..., Any]:
    """A package function looked up at call time (tests can swap the module)."""
    return getattr(importlib.import_module(module_name), function_name)


def _call_with_accepted(func: Callable[..., Any], **kwargs: Any) -> Any:
    """Call ``func`` with the keyword arguments its signature accepts."""
    accepted = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return func(**kwargs)
    return func(**{k: v for k, v in kwargs.items() if k in accepted})


def data_settings(params: ParameterSet) -> dict[str, Any] | None:
    """The synthetic dataset and processed tables the notebooks read (None: no notebook does)."""
    effective = {name: params.effective(name) for name in params.notebook_parameters}
    synthetic = {
        name: values
        for name, values in effective.items()
        if values.get("data_source", "synthetic") == "synthetic"
    }
    if not synthetic:
        return None
    from features import defaults

    first = next(iter(synthetic.values()))
    settings: dict[str, Any] = {
        "n_customers": first.get("n_customers", defaults.N_CUSTOMERS),
        "seed": first.get("seed", defaults.SEED),
        "cutoff": first.get("cutoff", defaults.CUTOFF),
    }
    for values in synthetic.values():
        for key in ("n_customers", "seed"):
            if key in values and values[key] != settings[key]:
                raise ParameterError(
                    f"parameter {key}: notebooks ask for different synthetic datasets "
                    f"({settings[key]!r} and {values[key]!r}); set it under common"
                )
    # Horizons of the processed tables follow the model notebooks' parameters.
    conversion = synthetic.get("conversion", {})
    churn = synthetic.get("churn", {})
    optional = {
        "conversion_horizon_days": conversion.get("horizon_days"),
        "churn_horizon_days": churn.get("horizon_days"),
        "lookback_days": churn.get("lookback_days"),
        # the processed tables must pass the gate the notebooks apply, not a stricter one
        "min_class_count": min(
            (v["min_class_count"] for v in synthetic.values() if "min_class_count" in v),
            default=None,
        ),
    }
    settings.update({key: value for key, value in optional.items() if value is not None})
    return settings


def step_dataset(ctx: RunContext, settings: dict[str, Any]) -> str:
    ensure = _package_function("features.data.datasets", "ensure_synthetic_dataset")
    path = _call_with_accepted(ensure, n_customers=settings["n_customers"], seed=settings["seed"])
    ctx.dataset["path"] = str(path)
    return f"{path}"


def step_validate(ctx: RunContext) -> str:
    validate = _package_function("features.data.validate", "validate_dataset")
    if "path" not in ctx.dataset:
        raise StepSkipped("no dataset path from the dataset step")
    report = validate(Path(ctx.dataset["path"]))
    problems = validation_problems(report)
    if problems:
        shown = "; ".join(problems[:3])
        raise ValueError(f"{ctx.dataset['path']}: {len(problems)} violation(s): {shown}")
    ctx.dataset["validation"] = "clean"
    return "no violations"


def validation_problems(report: Any) -> list[str]:
    """The violations ``features.validate.validate_dataset`` listed, as text (empty when clean)."""
    return [str(item) for item in report]


def step_features(ctx: RunContext, settings: dict[str, Any]) -> str:
    build = _package_function("features.table.processed", "build_processed")
    if "path" not in ctx.dataset:
        raise StepSkipped("no dataset path from the dataset step")
    result = _call_with_accepted(build, dataset_dir=ctx.dataset["path"], **settings)
    ctx.dataset["processed"] = _summarise(result)
    return ctx.dataset["processed"]


def _summarise(result: Any) -> str:
    if result is None:
        return "ok"
    if isinstance(result, str | Path):
        return str(result)
    if isinstance(result, Mapping):
        return ", ".join(f"{k}={v}" for k, v in list(result.items())[:6])
    return str(result)[:300]


# --- notebooks ------------------------------------------------------------------------------


def _papermill_log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    return handler


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
        entry["error"] = _error_text(exc)
        raise NotebookFailed(entry["error"]) from exc
    finally:
        logging.getLogger("papermill").removeHandler(handler)
        handler.close()
        os.environ.pop(tracking.PIPELINE_STEP_ENV, None)
        os.environ.pop(tracking.PIPELINE_RUN_ENV, None)
        _collect_metrics(entry, output_dir)
    entry["status"] = "OK"
    return _metric_line(entry.get("metrics") or {})


def _error_text(exc: BaseException) -> str:
    """The failing cell and exception in a few lines (the full traceback is in the HTML)."""
    if hasattr(exc, "ename"):
        cell = getattr(exc, "exec_count", None)
        where = f"cell [{cell}]: " if cell is not None else ""
        return f"{where}{exc.ename}: {exc.evalue}"
    lines = [line for line in str(exc).splitlines() if line.strip(" -")]
    return "\n".join(lines[-12:]) if lines else type(exc).__name__


def _collect_metrics(entry: dict[str, Any], output_dir: Path) -> None:
    # Persona cards, score files, figures: listed (relative to the run folder) for the summary.
    entry["files"] = sorted(
        f"{output_dir.name}/{path.relative_to(output_dir)}"
        for path in output_dir.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )[:40]
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


def _metric_line(metrics: Mapping[str, Any]) -> str:
    from features.reports.runs import format_value, headline_metrics

    shown = list(headline_metrics(metrics, limit=4).items())
    return ", ".join(f"{k}={format_value(v)}" for k, v in shown)


def render_notebook(ctx: RunContext, name: str) -> str:
    """Render the executed notebook to HTML twice: full, and a report for business readers."""
    entry = ctx.notebooks[name]
    executed = ctx.run_dir / entry["notebook"]
    if not executed.is_file():
        raise StepSkipped("no executed notebook to render")
    full, business = render.render_notebook(executed, ctx.run_dir)
    entry.update(html=full.name, html_business=business.name)
    return f"{full.name}, {business.name}"


# --- MLflow record --------------------------------------------------------------------------


def mark_failed_notebook_runs(ctx: RunContext, failed: list[str]) -> list[str]:
    """Mark the MLflow runs of failed notebooks FAILED (found by the pipeline tags)."""
    from mlflow import MlflowClient

    if not failed:
        return []
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
    import mlflow

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


# --- reports --------------------------------------------------------------------------------


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
    from features.reports.runs import render_run_page

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
    from features.reports.runs import render_index_page

    records = read_run_records(reports_dir)
    for record in records:
        same_host = record.get("host") == socket.gethostname()
        if (
            record.get("status") == "RUNNING"
            and same_host
            and not _process_alive(record.get("pid"))
        ):
            record["status"] = "ABANDONED"
    page = render_index_page(records)
    return publish_text(page, reports_dir / "index.html")


def _process_alive(pid: Any) -> bool:
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


# --- the run --------------------------------------------------------------------------------


def run_pipeline(
    params: ParameterSet,
    *,
    config_file: str | None = None,
    overrides: list[str] | None = None,
    continue_on_error: bool = False,
    keep: int | None = None,
    scheduled: bool = False,
    echo: bool = True,
    on_step: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """Run every step for a validated parameter set; return the run record (see ``run.json``)."""
    reports_dir = config.reports_dir()
    reports_dir.mkdir(parents=True, exist_ok=True)
    while True:  # the random suffix makes a clash unlikely; mkdir makes it impossible
        run_id = new_run_id(params.digest())
        run_dir = reports_dir / run_id
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    ctx = RunContext(
        run_id,
        run_dir,
        params,
        scheduled=scheduled,
        echo=echo,
        config_file=config_file,
        overrides=list(overrides or []),
        on_step=on_step,
    )
    continue_on_error = continue_on_error or bool(params.options.get("continue_on_error"))
    keep = keep if keep is not None else params.options.get("keep")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    ctx.say(f"run {run_id} -> {run_dir}")
    write_run_reports(ctx, "RUNNING", finished=False)

    run_lock = (
        exclusive_lock(reports_dir / ".pipeline.lock", ctx, "the scheduled-run lock")
        if scheduled
        else contextlib.nullcontext()
    )
    try:
        with run_lock:
            _run_steps(ctx, continue_on_error)
    except (KeyboardInterrupt, SystemExit):
        # Interrupted (Ctrl-C, or SIGTERM from a scheduler): leave an honest record behind.
        ctx.say("interrupted")
        for entry in ctx.notebooks.values():
            if entry.get("status") == "RUNNING":
                entry["status"] = "INTERRUPTED"
        write_run_reports(ctx, "INTERRUPTED", finished=True)
        write_reports_index(reports_dir)
        raise

    run_step(ctx, "mlflow record", lambda: record_in_mlflow(ctx))
    status = "FAILED" if ctx.failed() else "SUCCEEDED"
    write_run_reports(ctx, status, finished=True)
    write_reports_index(reports_dir)
    if keep:
        removed = apply_retention(reports_dir, keep, run_id)
        if removed:
            ctx.say(f"retention: removed {len(removed)} old run(s), keeping the newest {keep}")
            write_reports_index(reports_dir)
    total = time.perf_counter() - ctx.started
    ctx.say(f"{status} in {total:.1f} s: {run_dir / 'index.html'}")
    if scheduled:
        with open(reports_dir / "scheduled.log", "a") as log:
            log.write(f"{utc_now()} {run_id} {status} {total:.1f}s pid={os.getpid()}\n")
    return run_record(ctx, status, finished=True)


def _run_steps(ctx: RunContext, continue_on_error: bool) -> None:
    from features.pipeline import envcheck

    def check_environment() -> str:
        ctx.packages.update(envcheck.run_checks(echo=False))
        return f"{len(ctx.packages) - 1} packages, kernel {KERNEL_NAME!r} ok"

    if run_step(ctx, "envcheck", check_environment).status == "FAILED":
        for name in ("dataset", "validate", "features"):
            skip_step(ctx, name, "not run: environment check failed")
        for name in ctx.params.notebooks:
            ctx.notebooks[name] = {"status": "SKIPPED"}
            skip_step(ctx, f"notebook {name}", "not run: environment check failed")
        return

    settings = data_settings(ctx.params)
    data_steps = ("dataset", "validate", "features")
    if settings is None:
        for name in data_steps:
            skip_step(ctx, name, "no notebook reads the synthetic dataset")
    else:
        lock_path = config.data_root() / ".pipeline-data.lock"
        with exclusive_lock(lock_path, ctx, "the data lock"):
            actions = {
                "dataset": lambda: step_dataset(ctx, settings),
                "validate": lambda: step_validate(ctx),
                "features": lambda: step_features(ctx, settings),
            }
            for name in data_steps:
                if ctx.failed():
                    skip_step(ctx, name, "not run: an earlier step failed")
                else:
                    run_step(ctx, name, actions[name])
    if ctx.failed():
        for name in ctx.params.notebooks:
            ctx.notebooks[name] = {"status": "SKIPPED"}
            skip_step(ctx, f"notebook {name}", "not run: a data step failed")
        return

    for name, source in ctx.params.notebooks.items():
        ctx.notebooks[name] = {"status": "RUNNING"}
        if ctx.failed() and not continue_on_error:
            ctx.notebooks[name]["status"] = "SKIPPED"
            skip_step(ctx, f"notebook {name}", "not run: an earlier notebook failed")
            continue
        run_step(ctx, f"notebook {name}", lambda n=name, s=source: execute_notebook(ctx, n, s))
        run_step(ctx, f"render {name}", lambda n=name: render_notebook(ctx, n))
        write_run_reports(ctx, "RUNNING", finished=False)


# --- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m features.pipeline",
        description="Run the lab end to end: data, features, notebooks, HTML reports, run index.",
    )
    parser.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG),
        help="parameter set (YAML); default conf/default.yaml",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter: key=value (common) or section.key=value; repeatable",
    )
    parser.add_argument(
        "--continue-on-error",
        action="store_true",
        help="run the remaining notebooks after one fails (the run still exits non-zero)",
    )
    parser.add_argument(
        "--keep", type=int, default=None, metavar="N", help="keep the newest N runs"
    )
    parser.add_argument(
        "--scheduled",
        action="store_true",
        help="for cron/systemd: no progress bars, one run at a time, log under reports/",
    )
    parser.add_argument(
        "--notebooks-dir", default=None, help="folder of the notebooks (default: notebooks/)"
    )
    return parser


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, validate the parameter set, run; exit 0 ok, 1 failed step, 2 bad input."""
    args = build_parser().parse_args(argv)
    try:
        if args.keep is not None and args.keep < 1:
            raise ParameterError(f"--keep {args.keep}: must be a positive integer")
        raw = apply_overrides(load_parameter_file(args.config), args.overrides)
        params = resolve_parameter_set(raw, args.notebooks_dir)
        data_settings(params)
    except ParameterError as exc:
        print(f"parameter error: {exc}", file=sys.stderr)
        return EXIT_BAD_PARAMETERS
    # The runner draws nothing on screen; its kernels plot inline (see features.reports.execute).
    import matplotlib

    matplotlib.use("Agg")
    # systemd and timeout(1) stop a job with SIGTERM: end the run like Ctrl-C, with a record.
    signal.signal(signal.SIGTERM, _terminate)
    record = run_pipeline(
        params,
        config_file=args.config,
        overrides=args.overrides,
        continue_on_error=args.continue_on_error,
        keep=args.keep,
        scheduled=args.scheduled,
    )
    return EXIT_OK if record["status"] == "SUCCEEDED" else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
