"""Tests of the run records: the index of runs, run pages and retention."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from features.pipeline import records


def _write_record(reports: Path, record: dict) -> None:
    (reports / record["run_id"]).mkdir(parents=True)
    (reports / record["run_id"] / "run.json").write_text(json.dumps(record))


def test_index_lists_runs_newest_first_escapes_and_marks_abandoned(tmp_path: Path):
    _write_record(tmp_path, {"run_id": "20250101T000000Z-a-1", "status": "SUCCEEDED"})
    _write_record(
        tmp_path,
        {
            "run_id": "20250102T000000Z-b-2",
            "status": "FAILED",
            "notebooks": {"churn": {"status": "FAILED", "metrics": {"roc_auc": 0.81234}}},
            "git_commit": "<script>",
        },
    )
    dead = {"run_id": "20250103T000000Z-c-3", "status": "RUNNING", "pid": -1}
    _write_record(tmp_path, {**dead, "host": socket.gethostname()})
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "not-a-run" / "run.json").write_text("{broken")
    page = records.write_reports_index(tmp_path).read_text()
    assert page.index("20250102T000000Z-b-2") < page.index("20250101T000000Z-a-1")
    assert "ROC AUC (test) 0.812" in page and "<script>" not in page
    assert "ABANDONED" in page and "not-a-run" not in page


def test_retention_keeps_newest_and_running(tmp_path: Path):
    for index, status in enumerate(["SUCCEEDED", "FAILED", "SUCCEEDED", "SUCCEEDED"]):
        record = {"run_id": f"2025010{index}T000000Z-x-0", "status": status}
        _write_record(tmp_path, {**record, "pid": -1, "host": "elsewhere"})
    live = {"run_id": "20240101T000000Z-x-0", "status": "RUNNING", "pid": os.getpid()}
    _write_record(tmp_path, {**live, "host": socket.gethostname()})
    removed = records.apply_retention(tmp_path, keep=2, current_run="20250103T000000Z-x-0")
    assert sorted(removed) == ["20250100T000000Z-x-0", "20250101T000000Z-x-0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "20240101T000000Z-x-0",
        "20250102T000000Z-x-0",
        "20250103T000000Z-x-0",
    ]
