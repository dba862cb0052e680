"""Monitoring: does a list's expected rate come true? Replay, calibration, PSI, alerts.

The front door of notebook 10; a run is four calls::

    from features import monitoring

    params = monitoring.validate_params(**notebook_parameters)  # params.py
    run = monitoring.run_monitoring(params)  # outputs.py (replay.py, stored.py, alerts.py)
    figures = monitoring.make_figures(run, params)  # plots.py
    record = monitoring.save_and_track(run, figures, params)  # outputs.py

Modules, in import order: ``params`` -> ``metrics`` (Wilson interval, bucket calibration, PSI)
-> ``replay`` (train at as_of - horizon, score at as_of, realise after) -> ``stored`` (lists of
the score store whose horizon has passed) -> ``alerts`` -> ``plots`` -> ``outputs``; each
imports only modules before it.

May import the foundation, ``features.data``, ``features.table``, ``features.propensity``,
``features.tracking`` and ``features.scoring.store``.
"""

from features.monitoring.outputs import (
    EXPERIMENT,
    METRICS_KEYS,
    MonitoringRun,
    findings,
    headline,
    make_figures,
    run_monitoring,
    save_and_track,
    stored_note,
)
from features.monitoring.params import PARAMETER_NAMES, MonitoringParams, validate_params

__all__ = [
    "EXPERIMENT",
    "METRICS_KEYS",
    "PARAMETER_NAMES",
    "MonitoringParams",
    "MonitoringRun",
    "findings",
    "headline",
    "make_figures",
    "run_monitoring",
    "save_and_track",
    "stored_note",
    "validate_params",
]
