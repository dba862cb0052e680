"""Model choice and parameter checks of the value study."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from features.data.datasets import ensure_synthetic_dataset
from features.value.params import ValueParamError, validate_value_params
from features.value.study import _source, choose_model

GOOD = dict(data_source="synthetic", n_customers=1000, seed=1, cutoff="2025-07-01",
            horizon_days=180, id_col="customer_id", time_col="ts", amount_col="value",
            event_type_col="", output_dir="", mlflow_tracking_uri="", num_threads=1,
            shap_rows=10, training_cutoffs=3)  # fmt: skip


def test_choice_prefers_gini_among_models_with_a_sound_total() -> None:
    validation = pd.DataFrame({"model": ["a", "b", "c"], "gini_normalised": [0.7, 0.6, 0.6],
                               "value_error": [-0.4, 0.1, -0.05]})  # fmt: skip
    assert choose_model(validation) == "c"
    assert choose_model(validation.assign(value_error=[-0.4, -0.5, 0.6])) == "a"


def test_parameters_are_checked_by_name() -> None:
    params = validate_value_params(**GOOD)
    assert params.event_type_col is None and "source_path" not in params.as_dict()
    with pytest.raises(ValueParamError, match="horizon_days"):
        validate_value_params(**{**GOOD, "horizon_days": 2})
    with pytest.raises(ValueParamError, match="unknown"):
        validate_value_params(**GOOD, extra=1)
    with pytest.raises(ValueParamError, match="data_source"):
        validate_value_params(**{**GOOD, "data_source": "no/such/file.csv"})
    with pytest.raises(ValueParamError, match="training_cutoffs"):
        validate_value_params(**{**GOOD, "training_cutoffs": 0})
    with pytest.raises(ValueParamError, match="amount_col"):
        validate_value_params(**{**GOOD, "amount_col": ""})


def test_a_generated_dataset_folder_brings_its_oracle(tmp_path) -> None:
    generated = ensure_synthetic_dataset(1000, 1)
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(generated / "events.parquet", own / "events.parquet")
    _, truth_dir = _source(validate_value_params(**{**GOOD, "data_source": str(generated)}))
    assert truth_dir == generated
    _, truth_dir = _source(validate_value_params(**{**GOOD, "data_source": str(own)}))
    assert truth_dir is None
