"""Figures, files and MLflow tracking of the actions study.

Outputs: metrics.json, actions.parquet (customer_id, action, expected_uplift,
expected_incremental_value, value_of_success, recommended_line, reason_1..reason_3 of the
effect, line_reasons; no personal fields), actions_features.parquet (the features of the ranked customers, what the
registered scorer takes), PNG plots and CSV tables. MLflow: experiment ``actions``; the chosen learner
(with the next-line model) registered as ``nev-actions-<task>`` (alias ``challenger``;
``champion`` when its Qini beats the champion's on the same test data), which the live
campaign lists use for their action and line columns.

May import the foundation, ``features.tracking``, ``features.propensity.data`` (hashing) and
the ``features.actions`` modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, schema, tracking
from features.actions import plots
from features.actions.params import ActionsParams
from features.actions.scorer import ActionsScorer, actions_signature
from features.actions.study import ActionsResults, headline_metrics
from features.io import write_json, write_parquet
from features.propensity.data import hash_frame
from features.propensity.scorer import input_example

EXPERIMENT = "actions"


def registered_model(task: str) -> str:
    """The registry name of a task's actions scorer."""
    return f"nev-actions-{task}"


ACTIONS_FILE = "actions.parquet"
ACTION_COLUMNS = ("customer_id", "action", "expected_uplift", "expected_incremental_value",
                  "value_of_success", "recommended_line", "reason_1", "reason_2", "reason_3",
                  "line_reasons")  # fmt: skip


def _test_arrays(results: ActionsResults):
    rows = results.test_rows
    truth = None if results.data.true_uplift is None else results.data.true_uplift[rows]
    return results.data.treated[rows], results.data.outcome[rows], truth


def decile_table(results: ActionsResults) -> pd.DataFrame:
    """Estimated, observed and (synthetic) true uplift per decile of the chosen model."""
    t, y, truth = _test_arrays(results)
    return plots.uplift_by_decile(results.test_scores[results.model_name], t, y, truth)


def make_figures(results: ActionsResults) -> dict[str, Any]:
    """The study's figures by name."""
    t, y, truth = _test_arrays(results)
    shown = {name: results.test_scores[name]
             for name in (results.model_name, "risk_baseline", "oracle") if name in results.test_scores}  # fmt: skip
    figures = {
        "qini": plots.plot_qini(shown, t, y),
        "deciles": plots.plot_deciles(decile_table(results)),
        "policy": plots.plot_policy(results.policy),
    }
    if truth is not None:
        figures["truth"] = plots.plot_truth(results.test_scores[results.model_name], truth)
    return figures


def actions_table(results: ActionsResults) -> pd.DataFrame:
    """What actions.parquet holds (no personal fields), best expected value first."""
    table = results.actions[list(ACTION_COLUMNS)]
    leaked = [c for c in table.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"actions table carries personal fields {leaked}")
    return table


def result_tables(results: ActionsResults) -> dict[str, pd.DataFrame]:
    """Validation and test comparisons, deciles, policy, balance and the action summary."""
    return {"validation": results.validation, "test": results.test,
            "deciles": decile_table(results), "policy": results.policy,
            "balance": results.balance, "action_summary": results.policy_summary}  # fmt: skip


def resolve_output_dir(params: ActionsParams) -> Path:
    """``output_dir`` (relative paths from the project root) or a new adhoc report folder."""
    return config.output_path(params.output_dir, "actions")


def save_and_track(
    results: ActionsResults, figures: Mapping[str, Any], params: ActionsParams
) -> tracking.RunRecord:
    """Write the outputs and log the run to MLflow (experiment ``actions``)."""
    import mlflow  # deferred: slow to import

    out = resolve_output_dir(params)
    out.mkdir(parents=True, exist_ok=True)
    metrics = headline_metrics(results)
    t, y, _ = _test_arrays(results)
    eval_hash = hash_frame(pd.Series(t), pd.Series(y))
    files: dict[str, Path] = {}
    with tracking.start_run(EXPERIMENT, tracking_uri=params.mlflow_tracking_uri or None,
                            run_name=f"actions-{params.task}-{pd.Timestamp.now():%Y%m%d-%H%M%S}",
                            tags={"task": params.task, "model_name": results.model_name}) as run:  # fmt: skip
        tracking.log_params_flat({**params.as_dict(), "data_hash": results.data.input_hashes,
                                  "eval_data_hash": eval_hash})  # fmt: skip
        tracking.log_metrics_safe({k: v for k, v in metrics.items()
                                   if isinstance(v, int | float) and not isinstance(v, bool)})  # fmt: skip
        files.update(tracking.log_figures_and_tables(out, figures, result_tables(results)))
        reference = results.data.features
        scorer = ActionsScorer(params.task, results.model, reference, results.line,
                               params.contact_cost, params.value_per_success, params.budget)  # fmt: skip
        registration = tracking.log_and_register_model(
            scorer,
            name="model",
            registered_name=registered_model(params.task),
            X_example=input_example(results.data.current),
            signature=actions_signature(scorer.columns),
            eval_metric_name="qini",
            eval_metric_value=float(metrics["qini"] if metrics["qini"] is not None else "nan"),
            eval_data_hash=eval_hash,
        )
        metrics |= {"mlflow_run_id": run.info.run_id, "model_version": registration["version"],
                    "model_aliases": registration["aliases"],
                    "registered_model": registered_model(params.task)}  # fmt: skip
        files["actions"] = write_parquet(actions_table(results), out / ACTIONS_FILE)
        ids = pd.DataFrame({schema.ID_COL: results.data.current_ids.to_numpy()})
        current = pd.concat([ids, results.data.current.reset_index(drop=True)], axis=1)
        files["features"] = write_parquet(current, out / "actions_features.parquet")
        files["metrics"] = write_json(tracking.to_jsonable(metrics), out / "metrics.json")
        for name in ("actions", "metrics"):
            tracking.retry_on_lock(mlflow.log_artifact, str(files[name]))
    return tracking.RunRecord(output_dir=out, metrics=metrics, files=files,
                              run_id=run.info.run_id, registration=registration)  # fmt: skip
