"""Figures, files and MLflow tracking of the identity study.

Outputs: metrics.json, identity_map.parquet (record_id, source, one_id, match_probability,
cluster_size), threshold_curve.csv, match_weights.csv (m, u and weight per comparison level),
agreement_patterns.csv (how many candidate pairs agree on which fields, with their mean
probability: splink's waterfall without the values), linkage_model.json (the trained model:
column names, levels, m and u) and PNG plots. No name, phone, ID number, address or other
field value leaves the study. MLflow: experiment ``identity``.

May import the foundation, ``features.tracking`` and the ``features.identity`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, tracking
from features.identity import plots
from features.identity.params import IdentityParams
from features.identity.report import PLAN_ASKED_TWICE
from features.identity.study import IdentityResults, headline_metrics

EXPERIMENT = "identity"


def make_figures(results: IdentityResults) -> dict[str, Any]:
    """The study's figures by name (those the data allows)."""
    m = results.metrics
    frame = results.records.frame
    entity = frame["entity"].to_numpy(dtype=object) if results.records.has_entity else None
    labels = pd.factorize(results.identity_map["one_id"])[0]
    figures = {
        "match_weights": plots.plot_match_weights(results.linkage.weights),
        "probabilities": plots.plot_probabilities(results.linkage.pairs, m["match_threshold"],
                                                  entity),
        "cluster_sizes": plots.plot_cluster_sizes(labels, entity),
        "asked_twice": plots.plot_asked_twice(m["asked_twice_before"], m["asked_twice_after"],
                                              PLAN_ASKED_TWICE),
    }  # fmt: skip
    if len(results.curve):
        figures["threshold_curve"] = plots.plot_threshold_curve(
            results.curve, m["match_threshold"], m.get("baseline_pairwise_f1")
        )
    return figures


def result_tables(results: IdentityResults) -> dict[str, pd.DataFrame]:
    """Every table the study saves as CSV, by file stem (no personal values)."""
    tables = {"match_weights": results.linkage.weights, "agreement_patterns": results.patterns}
    if len(results.curve):
        tables["threshold_curve"] = results.curve
    return tables


def resolve_output_dir(params: IdentityParams) -> Path:
    """``output_dir`` (relative paths from the project root) or a new adhoc report folder."""
    return config.output_path(params.output_dir, "identity")


def save_and_track(results: IdentityResults, figures: Mapping[str, Any], params: IdentityParams
                   ) -> tracking.RunRecord:  # fmt: skip
    """Write the outputs and log the run to MLflow (experiment ``identity``)."""
    from features.io import write_json, write_parquet

    def write_extra(out: Path) -> dict[str, Path]:
        return {"identity_map": write_parquet(results.identity_map, out / "identity_map.parquet"),
                "linkage_model": write_json(results.linkage.model, out / "linkage_model.json")}  # fmt: skip

    return tracking.save_study(EXPERIMENT, resolve_output_dir(params), params.as_dict(),
                               headline_metrics(results), figures, result_tables(results),
                               write_extra=write_extra,
                               tracking_uri=params.mlflow_tracking_uri)  # fmt: skip
