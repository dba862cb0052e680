"""One-command pipeline: data -> features -> notebooks -> HTML reports -> run index.

``python -m features.pipeline [--config FILE] [--set key=value ...] [--continue-on-error]
[--keep N] [--scheduled] [--notebooks-dir DIR]``

Steps: environment check, synthetic dataset (generated when missing), its validation, processed
features, then each notebook executed with papermill into ``reports/<run_id>/`` and rendered to
HTML twice (full for reviewers, code hidden for business readers), a run summary
(``index.html`` + ``run.json``), a record in the MLflow experiment "pipeline" and the index of
all runs (``reports/index.html``). The whole parameter set is checked against each notebook's
``parameters`` cell before anything runs; a bad key exits with status 2.

Runs never collide or touch each other: the run id is a UTC timestamp, a hash of the
parameters and a random suffix, and every file is written atomically into the run's own folder.
Data steps are serialised by a file lock; ``--scheduled`` also serialises whole runs (two
LightGBM runs on two cores slow each other far more than they gain), writes progress only to
the log and appends a line per run to ``reports/scheduled.log``.

This module owns the order of the steps and what a failure skips; the steps themselves are
plain functions handed to ``run_pipeline`` as ``Steps``. Top of the import order: may import
every pipeline module and, through them, every other subpackage; nothing imports it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import matplotlib

from features import config
from features.io import file_lock
from features.params import ParameterError
from features.pipeline import notebooks, records
from features.pipeline import steps as lab_steps
from features.pipeline.context import RunContext, StepResult, StepSkipped, new_run_id
from features.pipeline.envcheck import KERNEL_NAME
from features.pipeline.params import (
    DEFAULT_CONFIG,
    DataSettings,
    ParameterSet,
    apply_overrides,
    data_settings,
    load_parameter_file,
    resolve_parameter_set,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_PARAMETERS = 0, 1, 2
# Model notebooks whose champions score a campaign list after they ran (section names).
CAMPAIGN_TASKS = ("conversion", "churn")
CAMPAIGN_FILES = ("campaign.html", "campaign.csv", "campaign.parquet", "score_summary.json")
DATA_STEPS = ("dataset", "validate", "features")


@dataclass(frozen=True)
class Steps:
    """The functions a run calls, in order; the defaults are the lab's own steps.

    Attributes:
        environment: checks packages and kernel, returns package versions.
        dataset: ensures the synthetic dataset, returns its folder.
        validate: raises when the dataset breaks its contracts.
        features: builds the processed tables, returns their folder.
        notebook: executes one notebook into the run folder, returns a metrics line.
        render: renders one executed notebook to HTML, returns the file names.
        campaign: scores one task's population into a campaign list, returns a message.
        record: logs the run to MLflow, returns a message.
    """

    environment: Callable[[], dict[str, str]] = lab_steps.environment
    dataset: Callable[[DataSettings], Path] = lab_steps.dataset
    validate: Callable[[Path], None] = lab_steps.validate
    features: Callable[[Path, DataSettings], Path] = lab_steps.features
    notebook: Callable[[RunContext, str, Path], str] = notebooks.execute_notebook
    render: Callable[[RunContext, str], str] = notebooks.render_notebook
    campaign: Callable[[str, Path, Path, Path | None, str], str] = lab_steps.campaign
    record: Callable[[RunContext], str] = records.record_in_mlflow


# --- steps ----------------------------------------------------------------------------------


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


def _skip_notebooks(ctx: RunContext, reason: str) -> None:
    for name in ctx.params.notebooks:
        ctx.notebooks[name] = {"status": "SKIPPED"}
        skip_step(ctx, f"notebook {name}", reason)


def _locked(ctx: RunContext, path: Path, what: str) -> contextlib.AbstractContextManager[None]:
    """The file lock at ``path``, saying in the run's log whom it waits for."""
    return file_lock(path, on_wait=lambda holder: ctx.say(f"waiting for {what}: held by {holder}"))


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
    steps: Steps | None = None,
) -> dict[str, Any]:
    """Run every step for a validated parameter set; return the run record (see ``run.json``).

    ``steps`` replaces the lab's own step functions (default ``Steps()``).
    """
    steps = steps or Steps()
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
    records.write_run_reports(ctx, "RUNNING", finished=False)

    run_lock = (
        _locked(ctx, reports_dir / ".pipeline.lock", "the scheduled-run lock")
        if scheduled
        else contextlib.nullcontext()
    )
    try:
        with run_lock:
            _run_steps(ctx, steps, continue_on_error)
    except (KeyboardInterrupt, SystemExit):
        # Interrupted (Ctrl-C, or SIGTERM from a scheduler): leave an honest record behind.
        ctx.say("interrupted")
        for entry in ctx.notebooks.values():
            if entry.get("status") == "RUNNING":
                entry["status"] = "INTERRUPTED"
        records.write_run_reports(ctx, "INTERRUPTED", finished=True)
        records.write_reports_index(reports_dir)
        raise

    run_step(ctx, "mlflow record", lambda: steps.record(ctx))
    status = "FAILED" if ctx.failed() else "SUCCEEDED"
    records.write_run_reports(ctx, status, finished=True)
    records.write_reports_index(reports_dir)
    if keep:
        removed = records.apply_retention(reports_dir, keep, run_id)
        if removed:
            ctx.say(f"retention: removed {len(removed)} old run(s), keeping the newest {keep}")
            records.write_reports_index(reports_dir)
    total = time.perf_counter() - ctx.started
    ctx.say(f"{status} in {total:.1f} s: {run_dir / 'index.html'}")
    if scheduled:
        records.append_scheduled_log(reports_dir, run_id, status, total)
    return records.run_record(ctx, status, finished=True)


def _run_steps(ctx: RunContext, steps: Steps, continue_on_error: bool) -> None:
    """Environment, data and notebook steps in order; a failure skips what depends on it."""

    def check_environment() -> str:
        ctx.packages.update(steps.environment())
        return f"{len(ctx.packages) - 1} packages, kernel {KERNEL_NAME!r} ok"

    if run_step(ctx, "envcheck", check_environment).status == "FAILED":
        for name in DATA_STEPS:
            skip_step(ctx, name, "not run: environment check failed")
        _skip_notebooks(ctx, "not run: environment check failed")
        return

    settings = data_settings(ctx.params)
    if settings is None:
        for name in DATA_STEPS:
            skip_step(ctx, name, "no notebook reads the synthetic dataset")
    else:
        with _locked(ctx, config.data_root() / ".pipeline-data.lock", "the data lock"):
            _run_data_steps(ctx, steps, settings)
    if ctx.failed():
        _skip_notebooks(ctx, "not run: a data step failed")
        return

    for name, source in ctx.params.notebooks.items():
        ctx.notebooks[name] = {"status": "RUNNING"}
        if ctx.failed() and not continue_on_error:
            ctx.notebooks[name]["status"] = "SKIPPED"
            skip_step(ctx, f"notebook {name}", "not run: an earlier notebook failed")
            continue
        run_step(ctx, f"notebook {name}", lambda n=name, s=source: steps.notebook(ctx, n, s))
        run_step(ctx, f"render {name}", lambda n=name: steps.render(ctx, n))
        records.write_run_reports(ctx, "RUNNING", finished=False)
    _run_campaign_steps(ctx, steps)


def _run_campaign_steps(ctx: RunContext, steps: Steps) -> None:
    """Campaign lists of the model notebooks that ran on the synthetic dataset."""
    personas = next(
        (
            ctx.run_dir / entry["output_dir"] / "personas.parquet"
            for name, entry in ctx.notebooks.items()
            if name == "personas" and entry.get("output_dir")
        ),
        None,
    )
    for task in CAMPAIGN_TASKS:
        entry = ctx.notebooks.get(task)
        if entry is None:
            continue
        step = f"campaign {task}"
        if entry.get("status") != "OK":
            skip_step(ctx, step, f"not run: notebook {task} did not succeed")
            continue
        if (
            "path" not in ctx.dataset
            or ctx.params.effective(task).get("data_source", "synthetic") != "synthetic"
        ):
            skip_step(ctx, step, "not run: the notebook did not read the synthetic dataset")
            continue
        out = ctx.run_dir / "campaigns" / task
        engine = ctx.params.effective(task).get("engine", "duckdb")
        result = run_step(
            ctx,
            step,
            lambda t=task, o=out, e=engine: steps.campaign(
                t, Path(ctx.dataset["path"]), o, personas, e
            ),
        )
        if result.status == "OK":
            entry["campaign"] = f"campaigns/{task}/campaign.html"
            entry["campaign_files"] = [f"campaigns/{task}/{n}" for n in CAMPAIGN_FILES]
    records.write_run_reports(ctx, "RUNNING", finished=False)


def _run_data_steps(ctx: RunContext, steps: Steps, settings: DataSettings) -> None:
    """Dataset, validation and processed tables, recording their results in ``ctx.dataset``."""

    def dataset() -> str:
        ctx.dataset["path"] = str(steps.dataset(settings))
        return ctx.dataset["path"]

    def validate() -> str:
        steps.validate(Path(ctx.dataset["path"]))
        ctx.dataset["validation"] = "clean"
        return "no violations"

    def features() -> str:
        ctx.dataset["processed"] = str(steps.features(Path(ctx.dataset["path"]), settings))
        return ctx.dataset["processed"]

    actions = {"dataset": dataset, "validate": validate, "features": features}
    for name in DATA_STEPS:
        if ctx.failed():
            skip_step(ctx, name, "not run: an earlier step failed")
        else:
            run_step(ctx, name, actions[name])


# --- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m features.pipeline``."""
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


def _terminate(signum: int, frame: FrameType | None) -> None:
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
