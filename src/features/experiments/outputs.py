"""Figures, files and MLflow tracking of the A/B test study.

Outputs: metrics.json, results.csv (one row per experiment × metric: every statistic, plain
and CUPED, sequential and novelty reads, the decision), decisions.csv (one row per
experiment), design.csv, aa_checks.csv and PNG plots. No unit-level rows leave the study.
MLflow: experiment ``experiments``.

May import the foundation, ``features.tracking`` and the ``features.experiments`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, tracking
from features.experiments import plots
from features.experiments.params import ExperimentParams
from features.experiments.study import ExperimentResults, headline_metrics

EXPERIMENT = "experiments"
RESULT_COLUMNS = (
    "experiment_id", "metric", "role", "n_c", "n_t", "mean_c", "mean_t", "effect", "lift",
    "se", "ci_low", "ci_high", "p_value", "cuped_theta", "cuped_effect", "cuped_lift",
    "cuped_se", "cuped_ci_low", "cuped_ci_high", "cuped_lift_ci_low", "cuped_lift_ci_high",
    "cuped_p_value", "variance_reduction",
    "srm_p_value", "srm_flag", "sequential_p_value", "sequential_stop_day",
    "peeking_significant", "peeking_first_day", "effect_early", "effect_late",
    "novelty_p_value", "novelty_flag", "p_decision", "q_value", "discovery",
    "guardrail_status", "decision", "true_effect", "true_lift", "fault",
)  # fmt: skip


def make_figures(results: ExperimentResults) -> dict[str, Any]:
    """The study's figures by name (those the data allows)."""
    alpha = results.params.alpha
    res = results.results
    figures = {"aa_checks": plots.plot_aa(results.aa, alpha),
               "pvalues": plots.plot_pvalues(res, alpha), "cuped": plots.plot_cuped(res),
               "decisions": plots.plot_decisions(results.decisions)}  # fmt: skip
    if "true_effect" in res:
        figures["power"] = plots.plot_power(res, results.design, alpha)
        figures["estimates"] = plots.plot_estimates(res)
    if results.paths:
        figures["sequential"] = plots.plot_paths(results.paths, res, alpha)
    return {name: fig for name, fig in figures.items() if fig is not None}


def results_table(results: ExperimentResults) -> pd.DataFrame:
    """What results.csv holds: statistics per experiment × metric, no unit-level data."""
    res = results.results
    return res[[c for c in RESULT_COLUMNS if c in res.columns]]


def result_tables(results: ExperimentResults) -> dict[str, pd.DataFrame]:
    """Every table the study saves, by file stem."""
    return {"results": results_table(results), "decisions": results.decisions,
            "design": results.design, "aa_checks": results.aa}  # fmt: skip


def resolve_output_dir(params: ExperimentParams) -> Path:
    """``output_dir`` (relative paths from the project root) or a new adhoc report folder."""
    return config.output_path(params.output_dir, "experiments")


def save_and_track(
    results: ExperimentResults, figures: Mapping[str, Any], params: ExperimentParams
) -> tracking.RunRecord:
    """Write the outputs and log the run to MLflow (experiment ``experiments``)."""
    return tracking.save_study(EXPERIMENT, resolve_output_dir(params), params.as_dict(),
                               headline_metrics(results), figures, result_tables(results),
                               tracking_uri=params.mlflow_tracking_uri)  # fmt: skip
