"""Tests of features.study: parameter validation and end-to-end studies on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from features.params import ParameterError
from features.propensity import study


def base_params(**overrides) -> dict:
    params = {
        "data_source": "synthetic",
        "n_customers": 8000,
        "seed": 7,
        "cutoff": "2025-07-01",
        "horizon_days": 90,
        "lookback_days": 90,
        "split": "time",
        "test_size": 0.25,
        "target": "",
        "positive_label": None,
        "id_col": "customer_id",
        "time_col": "ts",
        "amount_col": "value",
        "event_type_col": "event_type",
        "drop_cols": [],
        "n_trials": 0,
        "output_dir": "",
        "mlflow_tracking_uri": "",
        "min_class_count": 20,
        "contact_cost": 200.0,
        "value_per_positive": 2000.0,
        "num_threads": 1,
    }
    params.update(overrides)
    return params


def ready_table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """A customer table with a text column, blanks in a numeric column and personal fields."""
    rng = np.random.default_rng(seed)
    tenure = rng.uniform(0, 60, n)
    plan = rng.choice(["basic", "plus", "premium"], n)
    logit = -2 + 0.05 * tenure + np.select([plan == "premium", plan == "plus"], [1.5, 0.5], 0)
    y = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    balance = np.round(rng.normal(1000, 300, n), 1).astype(str)
    balance[rng.uniform(size=n) < 0.05] = " "
    return pd.DataFrame(
        {
            "full_name": [f"name {i}" for i in range(n)],
            "phone": [f"138{i:08d}" for i in range(n)],
            "tenure": tenure,
            "plan": plan,
            "balance": balance,
            "call_seconds": np.where(y, 300, 60) + rng.integers(0, 30, n),  # leaks the outcome
            "outcome": np.where(y, "yes", "no"),
        }
    )


def generic_event_log(n: int = 700, seed: int = 0) -> pd.DataFrame:
    """A non-NEV event log (logins and purchases) whose customers stop at random dates."""
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp("2024-06-01"), pd.Timestamp("2025-12-31")
    rows = []
    for i in range(n):
        rate = rng.uniform(0.03, 0.3)
        stop = start + pd.Timedelta(days=float(rng.uniform(60, 700)))
        gaps = rng.exponential(1 / rate, 400).cumsum()
        for day in gaps[gaps < (min(stop, end) - start).days]:
            kind = "purchase" if rng.uniform() < 0.2 else "login"
            amount = f"{rng.uniform(5, 200):.2f}" if kind == "purchase" else ""
            rows.append((f"u{i:04d}", str(start + pd.Timedelta(days=float(day))), kind, amount))
    rows.append(("u9999", "2025-12-31 12:00:00", "login", ""))
    return pd.DataFrame(rows, columns=["user", "when", "kind", "amount"])


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"split": "future"}, "split"),
        ({"test_size": 0.0}, "test_size"),
        ({"cutoff": "July"}, "cutoff"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"n_trials": -1}, "n_trials"),
        ({"drop_cols": "duration"}, "drop_cols"),
        ({"data_source": "no/such/file.csv"}, "data_source"),
        ({"num_threads": 0}, "num_threads"),
        ({"value_per_positive": 0}, "value_per_positive"),
        ({"positive_label": [1]}, "positive_label"),
        ({"id_col": ""}, "id_col"),
    ],
)
def test_validate_params_names_the_bad_parameter(overrides, name) -> None:
    with pytest.raises(ParameterError, match=f"'{name}'"):
        study.validate_params("conversion", **base_params(**overrides))


def test_validate_params_missing_unknown_and_task() -> None:
    params = base_params()
    del params["seed"]
    with pytest.raises(ParameterError, match="'seed' is missing"):
        study.validate_params("churn", **params)
    with pytest.raises(ParameterError, match="'colour' is unknown"):
        study.validate_params("churn", **base_params(colour="red"))
    with pytest.raises(ParameterError, match="'task'"):
        study.validate_params("upsell", **base_params())


def test_validate_params_detects_tables_and_checks_their_columns(tmp_path) -> None:
    path = tmp_path / "table.csv"
    ready_table(50).to_csv(path, index=False)
    params = study.validate_params(
        "conversion", **base_params(data_source=str(path), target="outcome")
    )
    assert params.source_kind == "table" and params.source_path == str(path)
    with pytest.raises(ParameterError, match="'target'"):
        study.validate_params("conversion", **base_params(data_source=str(path), target="y"))
    with pytest.raises(ParameterError, match="'drop_cols'"):
        study.validate_params(
            "conversion",
            **base_params(data_source=str(path), target="outcome", drop_cols=["duration"]),
        )
    with pytest.raises(ParameterError, match="'data_source'"):
        study.validate_params("conversion", **base_params(data_source=str(path)))


def test_relative_sources_resolve_from_the_project_root() -> None:
    from features import config

    assert study.resolve_source_path("data/x.csv") == (config.PROJECT_ROOT / "data/x.csv")


def test_align_to_training_uses_training_columns_and_levels() -> None:
    train = pd.DataFrame({"a": [1.0, 2.0], "c": pd.Categorical(["x", "y"])})
    other = pd.DataFrame({"c": pd.Categorical(["y", "z"]), "extra": [1, 2]})
    aligned = study.align_to_training(other, train)
    assert list(aligned.columns) == ["a", "c"]
    assert aligned["a"].isna().all()
    assert list(aligned["c"].cat.categories) == ["x", "y"]
    assert aligned["c"].astype("object").tolist()[0] == "y" and pd.isna(aligned["c"].iloc[1])


def test_verdict_says_plainly_when_lightgbm_does_not_win() -> None:
    assert study.verdict("logistic", 0.80, 0.75).startswith("LightGBM beats")
    assert "does NOT beat" in study.verdict("logistic", 0.800, 0.799)
    assert "worse" in study.verdict("logistic", 0.70, 0.75)


def test_table_study_end_to_end_with_outputs_and_mlflow(tmp_path) -> None:
    path = tmp_path / "customers.csv"
    ready_table().to_csv(path, sep=";", index=False)
    params = study.validate_params(
        "conversion",
        **base_params(
            data_source=str(path),
            target="outcome",
            positive_label="yes",
            drop_cols=["call_seconds"],
            output_dir=str(tmp_path / "out"),
            mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        ),
    )
    data = study.prepare_study_data(params)
    assert data.split == "random"  # no time column: documented fallback
    assert any("random split" in note for note in data.notes)
    assert set(data.feature_names) == {"tenure", "plan", "balance"}
    assert len(data.y_train) == 900 and len(data.y_test) == 300
    results = study.run_study(data, params)
    m = results.metrics
    assert 0.6 < m["roc_auc"] <= 1.0
    assert m["n_test"] == 300 and m["n_train"] == 900
    assert len(m["fold_best_iterations"]) == study.N_FOLDS
    assert "oracle_roc_auc" not in m
    text = study.summarise(results, params)
    assert "logistic regression baseline" in text

    figures = study.make_figures(results)
    record = study.save_and_track(results, figures, params)
    out = tmp_path / "out"
    saved = json.loads((out / "metrics.json").read_text())
    for key in study.METRICS_KEYS:
        assert key in saved
    assert saved["mlflow_run_id"] == record.run_id
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == list(study.SCORES_COLUMNS)
    assert len(scores) == 300 and scores["probability"].between(0, 1).all()
    assert not {"full_name", "phone"} & set(scores.columns)
    assert (out / "shap_beeswarm.png").stat().st_size > 1000
    assert "champion" in record.registration["aliases"]

    from mlflow import MlflowClient

    uri = params.mlflow_tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(record.run_id)
    assert run.data.params["target"] == "outcome"
    assert run.data.metrics["roc_auc"] == pytest.approx(m["roc_auc"])
    version = client.get_model_version_by_alias("nev-conversion", "champion")
    assert version.run_id == record.run_id


def test_event_log_study_time_split_is_out_of_time(tmp_path) -> None:
    path = tmp_path / "log.csv"
    generic_event_log().to_csv(path, index=False)
    params = study.validate_params(
        "churn",
        **base_params(
            data_source=str(path),
            id_col="user",
            time_col="when",
            amount_col="amount",
            event_type_col="kind",
        ),
    )
    assert params.source_kind == "event_log"
    data = study.prepare_study_data(params)
    assert data.train_cutoff == pd.Timestamp("2025-04-02")
    assert data.test_cutoff == pd.Timestamp("2025-07-01")
    assert "recency_days" in data.feature_names
    results = study.run_study(data, params)
    assert results.heuristic.feature == "recency_days"
    assert results.metrics["roc_auc"] > 0.75
    assert results.metrics["baseline_heuristic_roc_auc"] > 0.6
    assert results.scores["customer_id"].str.startswith("u").all()


def test_output_contracts_match_the_documented_names() -> None:
    assert study.SCORES_COLUMNS == (
        "customer_id",
        "probability",
        "decile",
        "bucket",
        "reason_1",
        "reason_2",
        "reason_3",
    )
    assert set(study.METRICS_KEYS) == {
        "roc_auc",
        "pr_auc",
        "brier",
        "log_loss",
        "ece",
        "lift_at_10pct",
        "baseline_logreg_roc_auc",
        "baseline_heuristic_roc_auc",
        "n_train",
        "n_test",
        "positive_rate",
        "mlflow_run_id",
    }
