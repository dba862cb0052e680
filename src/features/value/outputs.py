"""Figures, files and MLflow tracking of the value study.

Outputs: metrics.json, value.parquet (customer_id, predicted_value, predicted_<stream>,
value_decile, reasons; no personal fields, no realised values), PNG plots and CSV tables.
MLflow: experiment ``value``, the chosen model registered as ``nev-value`` (alias
``challenger``; ``champion`` when it beats the champion's Gini on the same test data).

May import the foundation, ``features.tracking``, ``features.propensity.data`` (hashing) and
the ``features.value`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import config, schema, tracking
from features.io import write_json, write_parquet
from features.propensity.data import hash_frame
from features.propensity.scorer import input_example
from features.value import plots
from features.value.classic import fit_bgnbd
from features.value.evaluation import decile_table
from features.value.params import ValueParams
from features.value.scorer import ValueScorer, value_signature
from features.value.study import ValueResults, headline_metrics

EXPERIMENT = "value"
REGISTERED_MODEL = "nev-value"
VALUE_FILE = "value.parquet"
VALUE_COLUMNS_OUT = ("customer_id", "predicted_value", "value_decile", "reasons")


def churn_risk(results: ValueResults) -> pd.Series:
    """1 - P(alive) from BG/NBD on the history before the cutoff (works on any log)."""
    rfm = results.test_frame.rfm
    return pd.Series(1 - fit_bgnbd(rfm).p_alive(rfm), index=rfm.index, name="churn_risk")


def make_figures(results: ValueResults) -> dict[str, Any]:
    """The study's figures by name."""
    realised = results.test_frame.target.to_numpy()
    best = results.predictions[results.model_name]
    shown = dict(results.predictions)
    if results.oracle_value is not None:
        shown["oracle"] = results.oracle_value.sum(axis=1).to_numpy()
    figures = {
        "deciles": plots.plot_deciles(realised, best),
        "gains": plots.plot_gains(realised, shown),
        "value_risk": plots.plot_value_risk(
            plots.value_risk_matrix(pd.Series(best), churn_risk(results)), "1 - P(alive)"
        ),
    }
    stream_cols = [
        c for c in results.scored.columns if c.startswith("predicted_") and c != "predicted_value"
    ]
    if stream_cols and results.persona is not None:
        mix = plots.stream_mix_by_persona(results.scored[stream_cols], results.persona)
        figures["stream_mix"] = plots.plot_stream_mix(mix)
    return figures


def result_tables(results: ValueResults) -> dict[str, pd.DataFrame]:
    """Validation and test comparisons, the decile table and the stream mix per persona."""
    tables = {
        "validation": results.validation,
        "test": results.test,
        "deciles": decile_table(
            results.test_frame.target.to_numpy(), results.predictions[results.model_name]
        ),  # fmt: skip
    }
    stream_cols = [
        c for c in results.scored.columns if c.startswith("predicted_") and c != "predicted_value"
    ]
    if stream_cols and results.persona is not None:
        mix = plots.stream_mix_by_persona(results.scored[stream_cols], results.persona)
        tables["stream_mix"] = mix.rename_axis("persona").reset_index()
    return tables


def value_table(results: ValueResults) -> pd.DataFrame:
    """What value.parquet holds (no personal fields, no realised values)."""
    streams = [
        c for c in results.scored.columns if c.startswith("predicted_") and c != "predicted_value"
    ]
    cols = ["customer_id", "predicted_value", *streams, "value_decile", "reasons"]
    table = results.scored[cols].sort_values("predicted_value", ascending=False, kind="stable")
    leaked = [c for c in table.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"value table carries personal fields {leaked}")
    return table.reset_index(drop=True)


def resolve_output_dir(params: ValueParams) -> Path:
    """``output_dir`` (relative paths from the project root) or a new adhoc report folder."""
    return config.output_path(params.output_dir, "value")


def save_and_track(
    results: ValueResults, figures: Mapping[str, Any], params: ValueParams
) -> tracking.RunRecord:
    """Write the outputs and log the run and the registered model to MLflow."""
    import mlflow  # deferred: slow to import

    out = resolve_output_dir(params)
    out.mkdir(parents=True, exist_ok=True)
    metrics = headline_metrics(results)
    test = results.test_frame
    eval_hash = hash_frame(pd.Series(test.ids.astype(str)), test.target)
    files: dict[str, Path] = {}
    with tracking.start_run(EXPERIMENT, tracking_uri=params.mlflow_tracking_uri or None,
                            run_name=f"value-{pd.Timestamp.now():%Y%m%d-%H%M%S}",
                            tags={"task": "value", "model_name": results.model_name}) as run:  # fmt: skip
        tracking.log_params_flat({**params.as_dict(), "validation_scheme": results.validation_scheme,
                                  "data_hash": results.data_hashes, "eval_data_hash": eval_hash})  # fmt: skip
        tracking.log_metrics_safe({k: v for k, v in metrics.items() if isinstance(v, int | float)})
        files.update(tracking.log_figures_and_tables(out, figures, result_tables(results)))
        columns = [str(c) for c in test.features.columns]
        registration = tracking.log_and_register_model(
            ValueScorer(results.model, columns),
            name="model",
            registered_name=REGISTERED_MODEL,
            X_example=input_example(test.features),
            signature=value_signature(columns),
            eval_metric_name="gini_normalised",
            eval_metric_value=float(metrics["gini_normalised"] or np.nan),
            eval_data_hash=eval_hash,
        )
        metrics |= {"mlflow_run_id": run.info.run_id, "model_version": registration["version"],
                    "model_aliases": registration["aliases"], "registered_model": REGISTERED_MODEL}  # fmt: skip
        files["value"] = write_parquet(value_table(results), out / VALUE_FILE)
        files["features"] = write_parquet(test.features.reset_index(names=schema.ID_COL),
                                          out / "value_features.parquet")  # fmt: skip
        files["metrics"] = write_json(tracking.to_jsonable(metrics), out / "metrics.json")
        for name in ("value", "metrics"):
            tracking.retry_on_lock(mlflow.log_artifact, str(files[name]))
    return tracking.RunRecord(output_dir=out, metrics=metrics, files=files,
                              run_id=run.info.run_id, registration=registration)  # fmt: skip
