"""Tests of the run state: run ids and the progress log."""

from __future__ import annotations

import io
from pathlib import Path

from features.pipeline.context import RunContext, StepResult, new_run_id
from features.pipeline.params import ParameterSet


def test_run_ids_are_unique_and_sortable():
    ids = [new_run_id("abcd1234") for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(len(i.split("-")) == 3 and i.split("-")[1] == "abcd1234" for i in ids)


def test_say_prints_unless_quiet_and_always_logs(tmp_path: Path):
    params = ParameterSet(raw={}, notebooks={}, notebook_parameters={}, options={})
    console = io.StringIO()
    ctx = RunContext("r", tmp_path, params, scheduled=False, echo=True, console=console)
    ctx.say("shown")
    ctx.echo = False
    ctx.say("logged only")
    assert console.getvalue() == "shown\n"
    assert ["shown", "logged only"] == [
        line.split(" ", 1)[1] for line in ctx.log_path.read_text().splitlines()
    ]
    assert not ctx.failed()
    ctx.steps.append(StepResult("x", "FAILED", 0.0))
    assert ctx.failed()
