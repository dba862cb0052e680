"""Smoke test: notebook 10_monitoring runs under papermill, quiet without drift, alarmed with it."""

from __future__ import annotations

import json

import papermill as pm
import pytest

from features import config, monitoring
from features.reports.execute import execute_notebook

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "10_monitoring.ipynb"


def execute(tmp_path, name: str, **parameters):
    executed = tmp_path / "executed" / f"{name}.ipynb"
    execute_notebook(
        NOTEBOOK, executed, parameters, kernel_log=tmp_path / "executed" / "kernel.log"
    )
    return executed


@pytest.mark.parametrize("drift", [False, True])
def test_monitoring_notebook_default_dataset(isolated_lab, drift, check_rendered):
    out = isolated_lab / f"out_{drift}"
    executed = execute(isolated_lab, f"monitoring_{drift}", drift=drift, output_dir=str(out))
    check_rendered(executed, out, isolated_lab / "html")
    metrics = json.loads((out / "metrics.json").read_text())
    for key in monitoring.METRICS_KEYS:
        assert key in metrics, key
    assert metrics["n_lists"] == 10
    assert metrics["n_alerts"] == len(metrics["alerts"])
    assert 0 < metrics["max_abs_calibration_gap"] < 0.5
    # the seasonal reference covers the lists from 2025-07-01 (year-ago date >= 2024-06-29)
    assert metrics["n_lists_with_year_ago"] == 4
    if drift:
        assert metrics["n_alerts"] >= 1
        # an alert within the first two monthly lists from the drift start (2025-05-01, -06-01)
        assert metrics["first_alert_as_of"] <= "2025-06-01"
    else:
        assert metrics["n_alerts"] == 0, metrics["alerts"]


def test_bad_parameter_stops_the_monitoring_notebook_naming_it(isolated_lab):
    with pytest.raises(pm.PapermillExecutionError, match="'as_of_dates'"):
        execute(isolated_lab, "bad", as_of_dates="2025-01-01", output_dir=str(isolated_lab / "o"))
    assert not (isolated_lab / "o").exists()
