"""Propensity models (conversion, churn): study parameters, data, LightGBM training and
calibration, baselines, evaluation, SHAP explanations, plots, outputs and MLflow records.

This package is the front door of notebooks 02 and 03; a study runs in five calls::

    from features import propensity

    params = propensity.validate_params("churn", **notebook_parameters)  # params.py
    data = propensity.prepare_study_data(params)  # data.py
    results = propensity.run_study(data, params)  # study.py
    figures = propensity.make_figures(results)  # outputs.py
    record = propensity.save_and_track(results, figures, params)  # outputs.py

with ``propensity.headline`` and ``propensity.summarise`` (report.py) for the text. Modules, in
import order: ``params`` (StudyParams) -> ``modeling``, ``evaluation``, ``explain`` (building
blocks) -> ``data`` (StudyData) -> ``study`` (StudyResults) -> ``report`` -> ``plots`` ->
``outputs``; each imports only modules before it.

May import the foundation, ``features.data``, ``features.table`` and ``features.tracking``.
"""

from features.propensity.data import StudyData, prepare_study_data
from features.propensity.outputs import (
    METRICS_KEYS,
    REGISTERED_MODELS,
    make_figures,
    save_and_track,
)
from features.propensity.params import PARAMETER_NAMES, StudyParams, validate_params
from features.propensity.report import headline, summarise
from features.propensity.study import SCORES_COLUMNS, StudyResults, run_study

__all__ = [
    "METRICS_KEYS",
    "PARAMETER_NAMES",
    "REGISTERED_MODELS",
    "SCORES_COLUMNS",
    "StudyData",
    "StudyParams",
    "StudyResults",
    "headline",
    "make_figures",
    "prepare_study_data",
    "run_study",
    "save_and_track",
    "summarise",
    "validate_params",
]
