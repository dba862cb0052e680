"""Figures, files and MLflow tracking of the channels study.

Outputs: metrics.json, attribution.csv (channel: credit and share per method, truth on
synthetic data), budget.csv (channel, current, recommended, predicted orders), paths.csv (the
top conversion paths), roi.csv and PNG plots. No customer-level rows leave the study.
MLflow: experiment ``channels``.

May import the foundation, ``features.tracking`` and the ``features.channels`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, tracking
from features.channels import plots
from features.channels.params import ChannelParams
from features.channels.study import ChannelResults, channel_credit_table, headline_metrics

EXPERIMENT = "channels"


def make_figures(results: ChannelResults) -> dict[str, Any]:
    """The study's figures by name (those the data allow)."""
    figures = {"credit": plots.plot_credit(results.shares, results.share_mae),
               "removal": plots.plot_removal(results.removal)}  # fmt: skip
    channels = results.inputs.paid_channels
    if results.weekly_parts is not None:
        figures["contributions"] = plots.plot_contributions(results.weekly_parts, channels)
    if results.curves is not None:
        figures["response_curves"] = plots.plot_response_curves(results.curves, channels)
    if results.budget is not None:
        figures["budget"] = plots.plot_budget(results.budget)
    return figures


def result_tables(results: ChannelResults) -> dict[str, pd.DataFrame]:
    """Every table the study saves, by file stem."""
    tables = {"attribution": channel_credit_table(results), "paths": results.path_table}
    if results.budget is not None:
        tables["budget"] = results.budget
    if results.roi is not None:
        tables["roi"] = results.roi.reset_index()
    if results.by_segment is not None:
        tables["attribution_by_segment"] = results.by_segment
    return tables


def resolve_output_dir(params: ChannelParams) -> Path:
    """``output_dir`` (relative paths from the project root) or a new adhoc report folder."""
    return config.output_path(params.output_dir, "channels")


def save_and_track(
    results: ChannelResults, figures: Mapping[str, Any], params: ChannelParams
) -> tracking.RunRecord:
    """Write the outputs and log the run to MLflow (experiment ``channels``)."""
    metrics = headline_metrics(results)
    per_method = {f"attribution_share_mae_{k}": v
                  for k, v in (metrics["attribution_share_mae"] or {}).items()}  # fmt: skip
    return tracking.save_study(EXPERIMENT, resolve_output_dir(params), params.as_dict(), metrics,
                               figures, result_tables(results), extra_metrics=per_method,
                               tracking_uri=params.mlflow_tracking_uri)  # fmt: skip
