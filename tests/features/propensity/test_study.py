"""Tests of features.propensity.study (training and evaluation) and the package front door."""

from __future__ import annotations

import pandas as pd

from features import propensity

# What notebooks 02 and 03 call on the front door.
NOTEBOOK_NAMES = (
    "PARAMETER_NAMES",
    "validate_params",
    "prepare_study_data",
    "run_study",
    "headline",
    "make_figures",
    "save_and_track",
    "summarise",
)


def test_the_front_door_exposes_what_the_notebooks_call() -> None:
    for name in NOTEBOOK_NAMES:
        assert name in propensity.__all__ and hasattr(propensity, name), name


def test_event_log_study_time_split_is_out_of_time(
    tmp_path, notebook_params, generic_event_log
) -> None:
    path = tmp_path / "log.csv"
    generic_event_log().to_csv(path, index=False)
    params = propensity.validate_params(
        "churn",
        **notebook_params(
            data_source=str(path),
            id_col="user",
            time_col="when",
            amount_col="amount",
            event_type_col="kind",
        ),
    )
    assert params.source_kind == "event_log"
    data = propensity.prepare_study_data(params)
    assert data.train_cutoff == pd.Timestamp("2025-04-02")
    assert data.test_cutoff == pd.Timestamp("2025-07-01")
    assert "recency_days" in data.feature_names
    results = propensity.run_study(data, params)
    assert results.heuristic.feature == "recency_days"
    assert results.metrics["roc_auc"] > 0.75
    assert results.metrics["baseline_heuristic_roc_auc"] > 0.6
    assert results.scores["customer_id"].str.startswith("u").all()
