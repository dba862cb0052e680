"""The monitoring notebook's parameters, checked into a frozen ``MonitoringParams``.

May import the foundation (config, defaults, params).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features import config
from features.params import NotebookParams, _fail, check_choice, check_date, check_float, check_int

TASKS = ("churn", "conversion")
PARAMETER_NAMES = (
    "data_source",
    "n_customers",
    "seed",
    "task",
    "as_of_dates",
    "horizon_days",
    "lookback_days",
    "drift",
    "calibration_margin",
    "seasonal_reference",
    "psi_threshold",
    "psi_month_threshold",
    "output_dir",
    "mlflow_tracking_uri",
    "num_threads",
)


@dataclass(frozen=True)
class MonitoringParams(NotebookParams):
    """Validated parameters of notebook 10 (names as in the notebook) with resolved paths.

    Attributes:
        data_path: absolute path of ``data_source`` (None for "synthetic"); left out of
            ``as_dict``.
        as_of_dates: the requested dates as Timestamps (empty: the default monthly replay).
        output_dir: absolute output folder (``reports/adhoc/monitoring-<task>-<time>`` for "").
    """

    data_source: str
    data_path: Path | None
    n_customers: int
    seed: int
    task: str
    as_of_dates: tuple[pd.Timestamp, ...]
    horizon_days: int
    lookback_days: int
    drift: bool
    calibration_margin: float
    seasonal_reference: bool
    psi_threshold: float
    psi_month_threshold: float
    output_dir: Path
    mlflow_tracking_uri: str
    num_threads: int

    INTERNAL_FIELDS = ("data_path",)


def validate_params(
    data_source: Any = "synthetic",
    n_customers: Any = 8000,
    seed: Any = 42,
    task: Any = "churn",
    as_of_dates: Any = (),
    horizon_days: Any = 90,
    lookback_days: Any = 90,
    drift: Any = False,
    calibration_margin: Any = 0.07,
    seasonal_reference: Any = True,
    psi_threshold: Any = 0.2,
    psi_month_threshold: Any = 0.1,
    output_dir: Any = "",
    mlflow_tracking_uri: Any = "",
    num_threads: Any = 2,
) -> MonitoringParams:
    """Validate the monitoring notebook's parameters; return them with resolved paths.

    Raises:
        features.params.ParameterError: naming the first bad parameter and its rule.
    """
    if not isinstance(data_source, str) or not data_source:
        _fail("data_source", data_source, "must be 'synthetic' or a path")
    if data_source != "synthetic" and not config.project_path(data_source).exists():
        _fail("data_source", data_source, "must be 'synthetic' or an existing path")
    check_int("n_customers", n_customers, minimum=500)
    check_int("seed", seed, minimum=0)
    check_choice("task", task, TASKS)
    if not isinstance(as_of_dates, list | tuple):
        _fail("as_of_dates", as_of_dates, "must be a list of ISO dates ([] for the default)")
    dates = tuple(check_date("as_of_dates", d) for d in as_of_dates)
    if len(set(dates)) != len(dates):
        _fail("as_of_dates", list(as_of_dates), "must not repeat a date")
    check_int("horizon_days", horizon_days, minimum=7, maximum=365)
    check_int("lookback_days", lookback_days, minimum=7, maximum=365)
    if not isinstance(drift, bool):
        _fail("drift", drift, "must be True or False")
    if drift and data_source != "synthetic":
        _fail("drift", drift, "the planted drift exists only for data_source='synthetic'")
    check_float("calibration_margin", calibration_margin, minimum=0.0, maximum=0.5)
    if not isinstance(seasonal_reference, bool):
        _fail("seasonal_reference", seasonal_reference, "must be True or False")
    check_float("psi_threshold", psi_threshold, minimum=0.0, exclusive=True)
    check_float("psi_month_threshold", psi_month_threshold, minimum=0.0, exclusive=True)
    for name, value in (("output_dir", output_dir), ("mlflow_tracking_uri", mlflow_tracking_uri)):
        if not isinstance(value, str):
            _fail(name, value, "must be a string ('' for the default)")
    check_int("num_threads", num_threads, minimum=1, maximum=64)
    resolved = config.output_path(output_dir, f"monitoring-{task}")
    return MonitoringParams(
        data_source=data_source,
        data_path=None if data_source == "synthetic" else config.project_path(data_source),
        n_customers=n_customers,
        seed=seed,
        task=task,
        as_of_dates=tuple(sorted(dates)),
        horizon_days=horizon_days,
        lookback_days=lookback_days,
        drift=drift,
        calibration_margin=float(calibration_margin),
        seasonal_reference=seasonal_reference,
        psi_threshold=float(psi_threshold),
        psi_month_threshold=float(psi_month_threshold),
        output_dir=resolved,
        mlflow_tracking_uri=mlflow_tracking_uri,
        num_threads=num_threads,
    )
