"""What a monitoring run shows and keeps: alerts, headline, metrics.json, CSVs, PNGs, MLflow.

``summarise_run`` turns a replay (and the stored-list comparison) into the run's alerts and
metrics; ``make_figures`` draws them; ``save_and_track`` writes ``output_dir`` and logs the
run to the MLflow experiment "monitoring". Nothing written holds personal fields: tables are
per bucket, date and feature, never per customer.

May import the foundation, ``features.data`` (the planted drift's start), ``features.tracking``
and the ``features.monitoring`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from features import schema, tracking
from features.data.synth_owners import DRIFT_START
from features.io import write_json
from features.monitoring import alerts, plots
from features.monitoring.params import MonitoringParams
from features.monitoring.replay import MONTH_SCORE_NAME, SCORE_NAME, SCORE_ROWS, Replay, run_replay
from features.monitoring.stored import StoredComparison, compare_stored

EXPERIMENT = "monitoring"
METRICS_KEYS = (
    "n_lists",
    "max_abs_calibration_gap",
    "psi_score_max",
    "n_alerts",
    "alerts",
    "mlflow_run_id",
)


@dataclass
class MonitoringRun:
    """Everything a monitoring run found: replay tables, stored comparison, alerts, metrics."""

    replay: Replay
    stored: StoredComparison
    buckets: pd.DataFrame
    psi: pd.DataFrame
    alerts: list[str]
    warnings: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    drift_start: str | None = None
    year_ago_buckets: pd.DataFrame = field(default_factory=pd.DataFrame)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)


def summarise_run(
    replay: Replay,
    stored: StoredComparison,
    params: MonitoringParams,
    drift_start: str | None = None,
) -> MonitoringRun:
    """Alerts and headline metrics of a replay and the comparison of stored lists."""
    buckets, psi, year_ago = replay.buckets, replay.psi, replay.year_ago_buckets
    margin = params.calibration_margin
    checks = alerts.seasonal_check(buckets, year_ago)
    found = alerts.calibration_alerts(buckets, margin, "list", year_ago)
    found += alerts.psi_alerts(psi, params.psi_threshold, params.psi_month_threshold)
    if not stored.buckets.empty:
        found += alerts.calibration_alerts(stored.buckets, margin, "stored list")
    warnings = alerts.psi_warnings(psi, params.psi_threshold)
    score_psi = psi.loc[psi["feature"] == SCORE_NAME, "psi"]
    month_psi = psi.loc[psi["feature"] == MONTH_SCORE_NAME, "psi"]
    missed = set(checks.loc[checks["outside_by"] > margin, "as_of"])
    dates = sorted(
        missed | alerts.psi_alert_dates(psi, params.psi_threshold, params.psi_month_threshold)
    )
    with_reference = sorted(set(checks.loc[checks["reference"] == "year ago", "as_of"]))
    metrics = {
        "n_lists": len(replay.lists),
        "max_abs_calibration_gap": float(buckets["calibration_gap"].abs().max()),
        "psi_score_max": float(score_psi.max()),
        "psi_score_month_max": float(month_psi.max()) if len(month_psi) else None,
        "psi_feature_max": float(psi.loc[~psi["feature"].isin(SCORE_ROWS), "psi"].max()),
        "max_calibration_miss": float(checks["outside_by"].max()),
        "n_lists_with_year_ago": len(with_reference),
        "seasonal_reference": params.seasonal_reference,
        "n_alerts": len(found),
        "alerts": found,
        "n_warnings": len(warnings),
        "first_alert_as_of": dates[0] if dates else None,
        "n_stored_lists": stored.n_stored,
        "n_stored_lists_due": stored.n_due,
        "task": params.task,
        "drift": params.drift,
        "drift_start": drift_start,
        "as_of_dates": [f"{item.as_of:%Y-%m-%d}" for item in replay.lists],
        "horizon_days": params.horizon_days,
        "dataset": replay.dataset,
    }
    return MonitoringRun(
        replay, stored, buckets, psi, found, warnings, metrics, drift_start, year_ago, checks
    )


def run_monitoring(params: MonitoringParams, echo=None) -> MonitoringRun:
    """Replay the loop, compare the due stored lists, and find the alerts."""
    replay, log, _ = run_replay(params, echo=echo)
    stored = compare_stored(
        params.task, log, replay.log_end, params.horizon_days, params.lookback_days
    )
    return summarise_run(replay, stored, params, DRIFT_START if params.drift else None)


def headline(run: MonitoringRun) -> str:
    """The result in words: lists replayed, worst gap, score drift, alerts."""
    m = run.metrics
    worst = run.buckets.loc[run.buckets["calibration_gap"].abs().idxmax()]
    lines = [
        f"**{m['n_lists']} monthly {m['task']} lists replayed** ({m['as_of_dates'][0]} to "
        f"{m['as_of_dates'][-1]}, each realised over {m['horizon_days']} days). The worst "
        f"calibration gap is {worst['calibration_gap']:+.3f} ({worst['bucket']} bucket, "
        f"{worst['as_of']}: predicted {worst['mean_predicted']:.3f}, realised "
        f"{worst['realised_rate']:.3f}); the score's PSI peaks at {m['psi_score_max']:.3f}.",
    ]
    if run.alerts:
        shown = [f"- {line}" for line in run.alerts[:8]]
        if len(run.alerts) > 8:
            shown.append(f"- ... and {len(run.alerts) - 8} more (metrics.json)")
        lines.append(
            "\n".join(
                [
                    f"**{len(run.alerts)} alert(s)**, the first on the list of "
                    f"{m['first_alert_as_of']}"
                    + (f" (planted drift from {run.drift_start})" if run.drift_start else "")
                    + ":",
                    *shown,
                ]
            )
        )
    else:
        lines.append(
            "**No alerts**: every bucket's prediction stays within the margin of its realised "
            "rate's 95% interval (against the same window a year earlier where the data allow), "
            "and the score's PSI stays under both thresholds."
        )
    if m["n_stored_lists"] == 0:
        lines.append("No stored campaign lists of this task in the score store yet.")
    elif m["n_stored_lists_due"] == 0:
        lines.append(
            f"None of the {m['n_stored_lists']} stored campaign lists is due yet (their "
            "horizon has not passed in the data)."
        )
    # Paragraphs apart: a sentence right after a bullet would join the last bullet.
    return "\n\n".join(lines)


def findings(run: MonitoringRun) -> str:
    """Markdown "Findings": what the loop shows, list by list, in plain words."""
    m = run.metrics
    missed = run.checks[run.checks["outside_by"] > 0]
    lines = [
        "### Findings",
        "",
        f"- {m['n_lists']} lists of the {m['task']} model were replayed on {m['dataset']}; "
        f"each was realised {m['horizon_days']} days after its as-of date.",
        f"- {m['n_lists_with_year_ago']} of {m['n_lists']} lists were tested against the same "
        "window a year earlier (the seasonal reference); the others, too early for one, against "
        "the realised rate alone.",
        f"- {len(missed)} of {len(run.buckets)} bucket-dates missed their 95% interval; "
        f"{m['n_alerts']} alert(s) in all (misses beyond the margin, score PSI over a threshold).",
        f"- Largest absolute calibration gap: {m['max_abs_calibration_gap']:.3f}; largest score "
        f"PSI: {m['psi_score_max']:.3f} against training, "
        f"{m['psi_score_month_max'] or 0:.3f} against the previous month; largest top-feature "
        f"PSI: {m['psi_feature_max']:.3f} ({m['n_warnings']} feature warning(s)).",
    ]
    if run.drift_start:
        first = m["first_alert_as_of"] or "none"
        lines.append(f"- Planted drift from {run.drift_start}: first alerting list {first}.")
    lines.append(
        "- Stored campaign lists: "
        + (
            f"{m['n_stored_lists_due']} of {m['n_stored_lists']} due and compared."
            if m["n_stored_lists"]
            else "none in the score store."
        )
    )
    return "\n".join(lines)


def stored_note(stored: StoredComparison) -> str:
    """Markdown on the stored lists: compared, waiting, or none."""
    if stored.n_stored == 0:
        return "No stored campaign lists for this task: nothing to compare yet."
    parts = [f"{stored.n_stored} stored list(s); {stored.n_due} due and compared below."]
    if stored.waiting:
        parts.append("Not due yet (horizon not passed in the data):")
        parts += [f"- {line}" for line in stored.waiting]
    return "\n".join(parts)


def make_figures(run: MonitoringRun, params: MonitoringParams) -> dict[str, Any]:
    """The run's figures by file stem."""
    top = [f for f in run.psi["feature"].unique() if f not in SCORE_ROWS]
    return {
        "calibration_gaps": plots.plot_calibration_gaps(
            run.buckets, params.calibration_margin, run.drift_start, run.year_ago_buckets
        ),
        "psi": plots.plot_psi(run.psi, params.psi_threshold, top, params.psi_month_threshold),
    }


def result_tables(run: MonitoringRun) -> dict[str, pd.DataFrame]:
    """The CSV tables (per bucket, date and feature: no customer rows)."""
    return {
        "buckets": run.buckets,
        "year_ago_buckets": run.year_ago_buckets,
        "calibration_checks": run.checks,
        "psi": run.psi,
        "models": run.replay.models,
        "stored_buckets": run.stored.buckets,
    }


def save_and_track(
    run: MonitoringRun, figures: dict[str, Any], params: MonitoringParams
) -> tracking.RunRecord:
    """Write metrics.json, CSVs and PNGs to ``output_dir``; log them to MLflow "monitoring"."""
    import mlflow  # deferred: slow to import

    out = Path(params.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = result_tables(run)
    for name, table in tables.items():
        leaked = [c for c in table.columns if c in (*schema.PERSONAL_FIELDS, schema.ID_COL)]
        if leaked:
            raise ValueError(f"table {name} carries customer-level fields {leaked}")
    files: dict[str, Path] = {}
    run_name = f"monitoring-{params.task}-{pd.Timestamp.now():%Y%m%d-%H%M%S}"
    with tracking.start_run(
        EXPERIMENT,
        tracking_uri=params.mlflow_tracking_uri or None,
        run_name=run_name,
        tags={"task": params.task, "drift": params.drift},
    ) as active:
        tracking.log_params_flat({**params.as_dict(), "dataset": run.replay.dataset})
        tracking.log_metrics_safe(
            {k: v for k, v in run.metrics.items() if not isinstance(v, list | str | bool)}
        )
        files.update(tracking.log_figures_and_tables(out, figures, tables))
        metrics = {**run.metrics, "warnings": run.warnings, "mlflow_run_id": active.info.run_id}
        files["metrics"] = write_json(tracking.to_jsonable(metrics), out / "metrics.json")
        tracking.retry_on_lock(mlflow.log_artifact, str(files["metrics"]))
    run.metrics = metrics
    return tracking.RunRecord(
        output_dir=out, metrics=metrics, files=files, run_id=active.info.run_id
    )
