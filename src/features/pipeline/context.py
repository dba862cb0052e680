"""State of one pipeline run: its id and folder, the step outcomes so far and the progress log.

Every step module receives the ``RunContext``; only the runner creates one.

May import ``features.pipeline.params``; the other pipeline modules import it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from features.pipeline.params import ParameterSet


def utc_now() -> str:
    """Current UTC time as ISO text (seconds)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(digest: str) -> str:
    """UTC timestamp + parameter hash + random suffix: sortable and unique across processes."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{digest}-{secrets.token_hex(4)}"


class StepSkipped(Exception):
    """A step has nothing to do (reason in the message)."""


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
    started_at: str = field(default_factory=utc_now)
    config_file: str | None = None
    overrides: list[str] = field(default_factory=list)
    on_step: Callable[[str, str], None] | None = None
    console: TextIO = field(default_factory=lambda: sys.stdout)

    @property
    def log_path(self) -> Path:
        """The run's log: progress lines, step output, tracebacks and kernel messages."""
        return self.run_dir / "pipeline.log"

    def say(self, line: str) -> None:
        """Print a progress line (unless quiet) and append it to the run's log."""
        if self.echo:
            print(line, file=self.console, flush=True)
        with open(self.log_path, "a") as log:
            log.write(f"{utc_now()} {line}\n")

    def failed(self) -> bool:
        """True once any step has failed."""
        return any(step.status == "FAILED" for step in self.steps)
