"""Outputs of a persona run: the personas table, headline metrics and findings, and the one
edge function that writes the files and the MLflow record (``save_and_track_personas``).

May import the foundation (io, schema), ``features.tracking`` and the other modules of
``features.personas``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from features import schema, tracking
from features.io import write_csv, write_json, write_parquet
from features.personas.cards import PersonaProfiles, json_number
from features.personas.clustering import (
    CENTROID_DISTANCE_COL,
    MEMBERSHIP_PROBABILITY_COL,
    PERSONA_ID_COL,
    Clusterer,
)
from features.personas.inputs import PersonaData
from features.personas.matrix import PersonaColumns, PersonaMatrix
from features.personas.mixture import SKOPS_TRUSTED_TYPES
from features.personas.params import PersonaParams
from features.personas.selection import KChoice
from features.personas.stability import StabilityResult, TruthComparison

PERSONA_NAME_COL = "persona_name"
PERSONA_OUTPUT_COLUMNS = (
    schema.ID_COL,
    PERSONA_ID_COL,
    PERSONA_NAME_COL,
    MEMBERSHIP_PROBABILITY_COL,
    CENTROID_DISTANCE_COL,
)


def persona_table(assignments: pd.DataFrame, names: Mapping[int, str]) -> pd.DataFrame:
    """The personas.parquet table: customer_id, persona_id, persona_name, membership columns."""
    table = assignments.assign(
        **{PERSONA_NAME_COL: assignments[PERSONA_ID_COL].map(lambda p: names[int(p)])}
    )
    table = table[list(PERSONA_OUTPUT_COLUMNS)].copy()
    table[schema.ID_COL] = table[schema.ID_COL].astype(str)
    leaked = [c for c in table.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"personas: personal fields {leaked} must not be written")
    return table


def persona_metrics(
    choice: KChoice,
    curves: pd.DataFrame,
    stability: StabilityResult,
    profiles: PersonaProfiles,
    truth: TruthComparison | None,
    n_customers: int,
) -> dict[str, Any]:
    """Headline figures of a segmentation run (metrics.json and MLflow)."""
    chosen = curves.set_index("k").loc[choice.k]
    shares = {
        profiles.names[int(row[PERSONA_ID_COL])]: round(float(row["share"]), 4)
        for _, row in profiles.summary.iterrows()
    }
    seed_rows = profiles.seed_shares.set_index("segment")
    return {
        "k": int(choice.k),
        "k_reason": choice.reason,
        "silhouette": round(float(chosen["silhouette"]), 4),
        "bic": round(float(chosen["bic"]), 1),
        "stability_ari_mean": round(stability.mean, 4),
        "stability_ari_min": round(stability.min, 4),
        "stability_warning": bool(stability.warn),
        "truth_ari": None if truth is None else round(truth.ari, 4),
        "n_customers": int(n_customers),
        "shares": shares,
        "seed_shares": {
            segment: {
                "seed": float(row["seed_share"]),
                "attribute": json_number(row["attribute_share"]),
                "personas": json_number(row["persona_share"]),
            }
            for segment, row in seed_rows.iterrows()
        },
    }


def persona_headline(
    choice: KChoice,
    stability: StabilityResult,
    profiles: PersonaProfiles,
    truth: TruthComparison | None,
    n_customers: int,
) -> str:
    """The finding in a few sentences of Markdown (the report's top)."""
    summary = profiles.summary.sort_values("share", ascending=False)
    listed = "; ".join(
        f"{profiles.names[int(row[PERSONA_ID_COL])]} ({row['share']:.0%})"
        for _, row in summary.iterrows()
    )
    lines = [
        "### Findings\n",
        f"**{choice.k} personas** among {n_customers:,} customers: {listed}.",
        f"- They come back when the data are resampled: bootstrap agreement (ARI) mean "
        f"**{stability.mean:.2f}**, lowest {stability.min:.2f}"
        + (
            " — **below the bar for acting on them**."
            if stability.warn
            else f" (bar: {stability.threshold})."
        ),
    ]
    if truth is not None:
        lines.append(
            f"- Agreement with the simulation's true segments: ARI **{truth.ari:.2f}** "
            "(1 = identical, 0 = chance)."
        )
    biggest = summary.iloc[0]
    card = next(c for c in profiles.cards if c["persona_id"] == int(biggest[PERSONA_ID_COL]))
    lines.append(
        f"- Largest persona: *{card['name']}*, typically from {card['typical_channel']}, "
        f"model line {card['typical_model_line']}; angle: {card['marketing_angle']}"
    )
    return "\n".join(lines)


def _model_example(features: pd.DataFrame, columns: PersonaColumns, rows: int = 5) -> pd.DataFrame:
    # Numbers as float (missing values allowed at inference), categories as plain text.
    example = features[list(columns.all)].head(rows).copy()
    for column in example.columns:
        if pd.api.types.is_numeric_dtype(example[column]):
            example[column] = example[column].astype("float64")
        else:
            example[column] = example[column].astype(str)
    return example


def persona_pipeline(transformer: ColumnTransformer, model: Clusterer) -> Pipeline:
    """The fitted scaler/encoder and clusterer as one pipeline (``predict`` gives cluster index)."""
    return Pipeline([("encode", transformer), ("cluster", model)])


def save_and_track_personas(
    output_dir: str | Path,
    parameters: PersonaParams,
    data: PersonaData,
    matrix: PersonaMatrix,
    model: Clusterer,
    assignments: pd.DataFrame,
    profiles: PersonaProfiles,
    metrics: Mapping[str, Any],
    figures: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    tracking_uri: str = "",
) -> tracking.RunRecord:
    """Write the run's outputs into ``output_dir`` and log the run to MLflow ("personas").

    Files (each written atomically): personas.parquet (no personal fields), persona_cards.json,
    metrics.json, one PNG per figure, one CSV per table (with its index). MLflow: every
    parameter, the input columns, data hash and file hashes, git commit (tag), numeric metrics,
    figures, cards, tables and the fitted encoder+scaler and clusterer as one scikit-learn
    pipeline ("persona_model", logged through ``tracking.log_sklearn_model``).

    Returns:
        The run record: files by stem (a table whose stem a figure also uses is keyed by its
        file name, e.g. ``truth_confusion.csv`` beside the figure ``truth_confusion``), metrics
        as written to metrics.json (with ``mlflow_run_id`` and ``model_uri``), MLflow run id;
        no model registration.
    """
    import mlflow  # deferred: slow to import (features.tracking docstring)

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    values = parameters.as_dict()
    files: dict[str, Path] = {}
    files["personas"] = write_parquet(
        persona_table(assignments, profiles.names), out / "personas.parquet"
    )
    run_name = f"personas-{values.get('method')}-{pd.Timestamp.now():%Y%m%d-%H%M%S}"
    with tracking.start_run(
        "personas",
        tracking_uri=tracking_uri or None,
        run_name=run_name,
        tags={"population": values.get("population"), "method": values.get("method")},
    ) as run:
        tracking.log_params_flat(
            {
                **{
                    k: str(v) if isinstance(v, Path | pd.Timestamp) else v
                    for k, v in values.items()
                },
                "source": data.source,
                "data_hash": data.data_hash,
                "input_hashes": data.input_hashes,
                "input_columns": list(matrix.columns.all),
                "encoded_columns": len(matrix.feature_names),
            }
        )
        numeric = {k: v for k, v in metrics.items() if not isinstance(v, dict | list | str)}
        numeric.update({f"share_{p}": s for p, s in enumerate(profiles.summary["share"], 1)})
        tracking.log_metrics_safe(numeric)
        for name, figure in figures.items():
            files[name] = tracking.log_figure(figure, name, out)
        for name, table in tables.items():
            key = f"{name}.csv" if name in figures else name
            files[key] = write_csv(table, out / f"{name}.csv", index=True)
            tracking.retry_on_lock(mlflow.log_artifact, str(files[key]), "tables")
        files["persona_cards"] = tracking.log_dict_artifact(
            profiles.cards, "persona_cards.json", out
        )
        logged = tracking.log_sklearn_model(
            persona_pipeline(matrix.transformer, model),
            "persona_model",
            _model_example(data.features, matrix.columns),
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )
        record = {
            **metrics,
            "mlflow_run_id": run.info.run_id,
            "model_uri": logged["model_uri"],
            "data_hash": data.data_hash,
        }
        files["metrics"] = write_json(tracking.to_jsonable(record), out / "metrics.json")
        for name in ("personas", "metrics"):
            tracking.retry_on_lock(mlflow.log_artifact, str(files[name]))
    return tracking.RunRecord(out, record, files, run.info.run_id)
