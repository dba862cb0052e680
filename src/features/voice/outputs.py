"""Figures, files and MLflow tracking of the voice study.

Outputs: metrics.json, topics.json (top words and glosses per topic), comment_scores.parquet
(comment_id, customer_id, sentiment, probability, top_aspect; no text, no personal fields),
text_features.parquet (per customer at the cutoff), PNG plots and CSV tables. MLflow:
experiment ``voice``.

May import the foundation, ``features.tracking`` and the ``features.voice`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, schema, tracking
from features.io import write_json, write_parquet
from features.voice import plots
from features.voice.features import text_features
from features.voice.params import VoiceParams
from features.voice.study import VoiceResults, aspect_names, headline_metrics

EXPERIMENT = "voice"
SCORES_FILE = "comment_scores.parquet"
SCORE_COLUMNS = ("comment_id", "customer_id", "sentiment", "probability", "top_aspect")


def topic_names(results: VoiceResults) -> list[str]:
    """Each topic's name: its matched true aspect (synthetic data) or its first words."""
    return aspect_names(results.topics, results.recovery)


def make_figures(results: VoiceResults) -> dict[str, Any]:
    """The study's figures by name."""
    figures = {"topics": plots.plot_topics(results.topics, topic_names(results))}
    if results.confusion is not None:
        figures["confusion"] = plots.plot_confusion(results.confusion)
        figures["calibration"] = plots.plot_calibration(results.calibration)
    if results.by_persona is not None:
        figures["aspects_by_persona"] = plots.plot_heatmap(results.by_persona,
                                                           "Aspects by persona (share of comments)")  # fmt: skip
    if results.by_nps is not None:
        figures["aspects_by_nps"] = plots.plot_heatmap(results.by_nps,
                                                       "Aspects of detractors vs promoters")  # fmt: skip
    return figures


def scores_table(results: VoiceResults) -> pd.DataFrame:
    """What comment_scores.parquet holds: no text, no personal fields."""
    table = results.scores[list(SCORE_COLUMNS)]
    leaked = [c for c in table.columns if c in schema.PERSONAL_FIELDS or c == "text"]
    if leaked:
        raise ValueError(f"comment scores carry text or personal fields {leaked}")
    return table


def result_tables(results: VoiceResults) -> dict[str, pd.DataFrame]:
    """Topics, confusion, calibration, error examples (scrubbed) and the aspect shares."""
    tables = {"topics": results.topics.table().assign(name=topic_names(results))}
    for name in ("confusion", "calibration", "errors"):
        table = getattr(results, name)
        if table is not None:
            tables[name] = table.reset_index() if name == "confusion" else table
    for name in ("by_persona", "by_nps"):
        table = getattr(results, name)
        if table is not None:
            tables[f"aspects_{name}"] = table.reset_index()
    return tables


def resolve_output_dir(params: VoiceParams) -> Path:
    """``output_dir`` (relative paths from the project root) or a new adhoc report folder."""
    return config.output_path(params.output_dir, "voice")


def save_and_track(
    results: VoiceResults, figures: Mapping[str, Any], params: VoiceParams
) -> tracking.RunRecord:
    """Write the outputs and log the run to MLflow (experiment ``voice``)."""

    def write_extra(out: Path) -> dict[str, Path]:
        topics = [{"topic": int(r.topic), "name": n, "top_words": r.top_words.split(),
                   "gloss": r.gloss} for r, n in zip(results.topics.table().itertuples(),
                                                     topic_names(results), strict=True)]  # fmt: skip
        files = {"topics_json": write_json(topics, out / "topics.json"),
                 "scores": write_parquet(scores_table(results), out / SCORES_FILE)}  # fmt: skip
        if results.scores["ts"].notna().any():
            feats = text_features(results.scores, results.weights, pd.Timestamp(params.cutoff))
            files["text_features"] = write_parquet(feats, out / "text_features.parquet")
        return files

    return tracking.save_study(EXPERIMENT, resolve_output_dir(params), params.as_dict(),
                               headline_metrics(results), figures, result_tables(results),
                               write_extra=write_extra,
                               tracking_uri=params.mlflow_tracking_uri)  # fmt: skip
