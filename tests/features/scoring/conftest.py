"""A registered churn champion trained on a small synthetic dataset, in a store of its own."""

from __future__ import annotations

import os

import pytest

from features import propensity
from features.data.synth import generate_dataset

ENV_KEYS = ("MLFLOW_TRACKING_URI", "NEV_LAB_MLFLOW_ARTIFACTS", "NEV_LAB_DATA_ROOT")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, notebook_params):
    """Dataset folder, MLflow store and data root with nev-churn@champion registered."""
    root = tmp_path_factory.mktemp("scoring")
    saved = {key: os.environ.get(key) for key in ENV_KEYS}
    os.environ.update(
        {
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
            "NEV_LAB_MLFLOW_ARTIFACTS": str(root / "artifacts"),
            "NEV_LAB_DATA_ROOT": str(root / "data"),
        }
    )
    dataset = generate_dataset(3000, 11, root / "data" / "raw" / "synthetic_n3000_s11")
    params = propensity.validate_params(
        "churn",
        **notebook_params(
            data_source=str(dataset),
            n_customers=3000,
            seed=11,
            horizon_days=180,
            output_dir=str(root / "study"),
            min_class_count=10,
            contact_cost=300.0,
            value_per_positive=1500.0,
        ),
    )
    data = propensity.prepare_study_data(params)
    results = propensity.run_study(data, params)
    propensity.save_and_track(results, propensity.make_figures(results), params)
    yield {"root": root, "dataset": dataset}
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
