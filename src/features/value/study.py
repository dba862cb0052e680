"""The customer-value study of notebook 04: data, model choice, test scores and the oracle.

Three cutoffs a horizon apart: candidates are fitted at ``cutoff - 2 * horizon`` and compared
on the realised value after ``cutoff - horizon`` (validation, out of time); when the data are
too short for that, on a quarter of the customers held out at ``cutoff - horizon``. The chosen
model is refitted at ``cutoff - horizon`` (the classic pair on the history before ``cutoff``)
and reported on the realised value in ``[cutoff, cutoff + horizon)``. The LightGBM candidates
learn from ``training_cutoffs`` cutoffs a month apart ending at the fitting cutoff (a customer
once per cutoff, every label window closed before the cutoff evaluated next): one cutoff holds
a few thousand owners, too few for a heavy-tailed target.

May import the foundation, ``features.data``, ``features.table``, ``features.propensity``
(helpers) and the ``features.value`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.data import datasets, oracle
from features.propensity.explain import top_reasons, tree_shap
from features.table.snapshots import EventSource, load_snapshots
from features.value import data as vdata
from features.value.data import ValueFrame
from features.value.evaluation import gini_share_interval, value_deciles, value_metrics
from features.value.models import CANDIDATES, ValueModel, fit_candidates
from features.value.params import ValueParamError, ValueParams

MIN_TRAIN_CUSTOMERS = 200
HOLDOUT_SHARE = 0.25
MAX_VALIDATION_ERROR = 0.3
TRAINING_STEP_DAYS = 30
MONEY_COLUMNS = ("predicted_total", "realised_total")  # CNY columns of the metric tables
_DAY = pd.Timedelta(days=1)


@dataclass
class ValueResults:
    """Everything the notebook shows and saves."""

    params: ValueParams
    model_name: str
    validation_scheme: str
    validation: pd.DataFrame
    test: pd.DataFrame
    scored: pd.DataFrame
    model: ValueModel
    test_frame: ValueFrame
    predictions: dict[str, np.ndarray]
    component_shares: dict[str, float] | None = None
    oracle_value: pd.DataFrame | None = None
    persona: pd.Series | None = None
    oracle_share_interval: tuple[float, float] | None = None
    data_hashes: dict[str, str] = field(default_factory=dict)


def _source(params: ValueParams) -> tuple[EventSource, Path | None]:
    """The event source, and the dataset folder whose truth gives the oracle (synthetic data:
    the default dataset, or any generated folder passed as ``data_source``)."""
    if params.data_source == "synthetic":
        folder = datasets.ensure_synthetic_dataset(params.n_customers, params.seed)
        return EventSource(Path(folder)), Path(folder)
    path = Path(params.source_path)
    return (
        EventSource(path, id_col=params.id_col, time_col=params.time_col,
                    event_type_col=params.event_type_col, amount_col=params.amount_col),
        path if oracle.has_truth(path) else None,
    )  # fmt: skip


def subset(frame: ValueFrame, keep: np.ndarray) -> ValueFrame:
    """The customers ``keep`` (boolean) of a frame."""
    streams = None if frame.target_streams is None else frame.target_streams[keep]
    return replace(frame, ids=frame.ids[keep], features=frame.features[keep], rfm=frame.rfm[keep],
                   target=frame.target[keep], target_count=frame.target_count[keep],
                   target_streams=streams)  # fmt: skip


def _metrics_row(name: str, frame: ValueFrame, model: ValueModel, pred: np.ndarray) -> dict:
    count = model.predict_count(frame)
    row = value_metrics(frame.target.to_numpy(), pred,
                        None if count is None else frame.target_count.to_numpy(), count)  # fmt: skip
    return {"model": name, **row, "predicted_total": float(pred.sum()),
            "realised_total": float(frame.target.sum())}  # fmt: skip


def choose_model(validation: pd.DataFrame) -> str:
    """Best normalised Gini on validation among models whose total is within
    ``MAX_VALIDATION_ERROR`` (all models when none is); ties go to the smaller total error.

    A campaign budget is set from the predicted total, so a fine ranking with a total off by
    a third (log-link models extrapolating out of time) is not eligible.
    """
    eligible = validation[validation["value_error"].abs() <= MAX_VALIDATION_ERROR]
    validation = eligible if len(eligible) else validation
    ranked = validation.assign(abs_error=validation["value_error"].abs()).sort_values(
        ["gini_normalised", "abs_error"], ascending=[False, True], kind="stable"
    )
    return str(ranked["model"].iloc[0])


def _validate(frames: dict[str, ValueFrame], params: ValueParams) -> tuple[pd.DataFrame, str]:
    if "train" in frames:
        fit_on, check_on, scheme = frames["train"], frames["val"], "out_of_time"
    else:
        rng = np.random.default_rng(params.seed)
        held = rng.random(len(frames["val"].ids)) < HOLDOUT_SHARE
        fit_on, check_on, scheme = (
            subset(frames["val"], ~held),
            subset(frames["val"], held),
            "holdout",
        )
    models = fit_candidates(fit_on, params.horizon_days, params.seed, params.num_threads)
    rows = []
    for name, model in models.items():
        if name == "bgnbd_gamma_gamma":
            model.fit(check_on)  # the classic pair is fitted on each cutoff's own history
        rows.append(_metrics_row(name, check_on, model, model.predict_total(check_on)))
    return pd.DataFrame(rows), scheme


def _reasons(
    model: ValueModel, frame: ValueFrame, total: np.ndarray, shap_rows: int, num_threads: int
) -> pd.Series:
    """Top-3 plain-word SHAP reasons for the ``shap_rows`` customers of highest ``total``."""
    reasons = pd.Series("", index=range(len(frame.ids)), dtype=object)
    if not model.uses_lightgbm or shap_rows == 0:
        return reasons
    rows = np.sort(np.argsort(-total, kind="stable")[:shap_rows])
    X = model.prepare(frame.features).iloc[rows]
    values = tree_shap(model.explained_booster, X, num_threads=num_threads)
    table = top_reasons(values, X, describe=vdata.describe_value_feature,
                        words=("raises value", "lowers value")).reset_index(drop=True)  # fmt: skip
    reasons.iloc[rows] = table.apply(lambda r: "; ".join(r.astype(str)), axis=1).to_numpy()
    return reasons


def _training_cutoffs(tx: pd.DataFrame, latest: pd.Timestamp, n: int) -> list[pd.Timestamp]:
    """``latest`` and up to ``n - 1`` monthly cutoffs before it with enough customers."""
    cuts = [latest - k * TRAINING_STEP_DAYS * _DAY for k in range(n)]
    first_seen = tx.groupby(schema.ID_COL)[schema.TIME_COL].min()
    keep = [c for c in cuts if c == latest or (first_seen < c).sum() >= MIN_TRAIN_CUSTOMERS]
    return sorted(keep)


def run_value_study(params: ValueParams) -> ValueResults:
    """Load the data, choose the model on validation, score and evaluate at the cutoff."""
    source, dataset_dir = _source(params)
    log = source.load()
    tx = vdata.transactions_from_events(log.events)
    if tx.empty:
        raise ValueError(f"{source.path}: no events with a positive amount (nothing to value)")
    h = params.horizon_days
    test_at = pd.Timestamp(params.cutoff)
    if not vdata.window_is_observed(tx, test_at, h):
        raise ValueParamError(
            f"parameter 'horizon_days' = {h}: cutoff {test_at.date()} + horizon ends after the "
            f"data (last transaction {tx[schema.TIME_COL].max().date()}); use an earlier cutoff "
            "or a shorter horizon"
        )
    cuts = {"val": test_at - h * _DAY, "test": test_at}
    train_at = test_at - 2 * h * _DAY
    if (tx.loc[tx[schema.TIME_COL] < train_at, schema.ID_COL].nunique()) >= MIN_TRAIN_CUSTOMERS:
        cuts = {"train": train_at, **cuts}
    if tx.loc[tx[schema.TIME_COL] < cuts["val"], schema.ID_COL].nunique() < MIN_TRAIN_CUSTOMERS:
        raise ValueParamError(
            f"parameter 'cutoff' = {params.cutoff!r}: fewer than {MIN_TRAIN_CUSTOMERS} customers "
            f"with a transaction before {cuts['val'].date()} (cutoff - horizon) to learn from"
        )
    fit_cuts = {"val_fit": _training_cutoffs(tx, cuts["val"], params.training_cutoffs)}
    if "train" in cuts:
        fit_cuts["train"] = _training_cutoffs(tx, cuts["train"], params.training_cutoffs)
    wanted = sorted({*cuts.values(), *(c for group in fit_cuts.values() for c in group)})
    snapshots = load_snapshots(source, {c: [] for c in wanted}, echo=print, log=log)
    single = {c: vdata.value_frame(tx, snapshots[c].features, c, h) for c in wanted}
    frames = {k: single[c] for k, c in cuts.items() if k != "train"}
    for key, group in fit_cuts.items():
        frames[key] = vdata.stack_frames([single[c] for c in group])
    validation, scheme = _validate(frames, params)
    chosen = choose_model(validation)

    models = fit_candidates(frames["val_fit"], h, params.seed, params.num_threads)
    test = frames["test"]
    models["bgnbd_gamma_gamma"].fit(test)
    predictions = {name: m.predict_total(test) for name, m in models.items()}
    model = models[chosen]
    if model.uses_lightgbm:
        model.fit(frames["val_fit"], streams=True)
        predictions[chosen] = model.predict_total(test)
    total = predictions[chosen]
    rows = [_metrics_row(n, test, m, predictions[n]) for n, m in models.items()]
    scored = pd.DataFrame({schema.ID_COL: test.ids.to_numpy(), "predicted_value": total})
    streams = model.predict_streams(test, total)
    if streams is not None:
        scored = pd.concat([scored, streams], axis=1)
    scored["value_decile"] = value_deciles(total)
    scored["reasons"] = _reasons(
        model, test, total, params.shap_rows, params.num_threads
    ).to_numpy()
    scored["realised_value"] = test.target.to_numpy()

    results = ValueResults(params, chosen, scheme, validation, pd.DataFrame(rows), scored,
                           model, test, predictions, vdata.component_shares(tx),
                           data_hashes=dict(snapshots[test_at].input_hashes))  # fmt: skip
    if dataset_dir is not None:
        truth = oracle.load_truth(dataset_dir)
        results.oracle_value = oracle.expected_value(truth, test.ids, test_at, h)
        oracle_total = results.oracle_value.sum(axis=1).to_numpy()
        oracle_row = value_metrics(test.target.to_numpy(), oracle_total)
        results.test = pd.concat([results.test, pd.DataFrame([
            {"model": "oracle", **oracle_row, "predicted_total": float(oracle_total.sum()),
             "realised_total": float(test.target.sum())}])], ignore_index=True)  # fmt: skip
        results.persona = truth.set_index(schema.ID_COL)["persona"].reindex(test.ids)
        results.oracle_share_interval = gini_share_interval(
            test.target.to_numpy(), total, oracle_total, seed=params.seed
        )
    return results


def headline_metrics(results: ValueResults) -> dict[str, Any]:
    """metrics.json: the chosen model's test figures, baselines, oracle and shares."""
    test = results.test.set_index("model")
    best, naive = test.loc[results.model_name], test.loc["naive"]
    classic = test.loc["bgnbd_gamma_gamma"] if "bgnbd_gamma_gamma" in test.index else None

    def num(v: Any) -> float | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 4)

    out = {
        "model_name": results.model_name,
        "validation_scheme": results.validation_scheme,
        "holdout_value_error": num(best["value_error"]),
        "holdout_count_error": num(best["count_error"]),
        "gini_normalised": num(best["gini_normalised"]),
        "spearman": num(best["spearman"]),
        "top_decile_capture": num(best["top_decile_capture"]),
        "baseline_gini_normalised": num(naive["gini_normalised"]),
        "baseline_holdout_value_error": num(naive["value_error"]),
        "bgnbd_gini_normalised": None if classic is None else num(classic["gini_normalised"]),
        "bgnbd_holdout_value_error": None if classic is None else num(classic["value_error"]),
        "bgnbd_holdout_count_error": None if classic is None else num(classic["count_error"]),
        "component_shares": results.component_shares,
        "oracle_gini_normalised": num(test.loc["oracle", "gini_normalised"])
        if "oracle" in test.index else None,
        "oracle_gini_share": num(best["gini_normalised"] / test.loc["oracle", "gini_normalised"])
        if "oracle" in test.index else None,
        "oracle_gini_share_interval": None if results.oracle_share_interval is None
        else [num(v) for v in results.oracle_share_interval],
        "n_customers": int(len(results.scored)),
        "horizon_days": results.params.horizon_days,
        "cutoff": results.params.cutoff,
        "predicted_total": num(best["predicted_total"]),
        "realised_total": num(best["realised_total"]),
    }  # fmt: skip
    return out


__all__ = [
    "CANDIDATES",
    "MONEY_COLUMNS",
    "ValueResults",
    "choose_model",
    "headline_metrics",
    "run_value_study",
]
