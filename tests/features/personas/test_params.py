"""Tests for features.personas.params: the notebook's parameters checked into PersonaParams."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from features import config
from features.params import ParameterError
from features.personas.params import PersonaParams, check_persona_parameters

GOOD_PARAMETERS = dict(
    data_source="synthetic",
    n_customers=6000,
    seed=42,
    cutoff="2025-07-01",
    population="all",
    k_min=3,
    k_max=8,
    method="kmeans",
    n_bootstrap=5,
    sample_size=3000,
    output_dir="",
)


def test_check_persona_parameters_resolves_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("NEV_LAB_REPORTS_DIR", str(tmp_path))
    checked = check_persona_parameters(**GOOD_PARAMETERS)
    assert checked.cutoff == pd.Timestamp("2025-07-01")
    assert checked.output_dir.parent == tmp_path / "adhoc"
    assert checked.output_dir.name.startswith("personas-")
    assert checked.data_path is None
    explicit = check_persona_parameters(
        **{**GOOD_PARAMETERS, "output_dir": str(tmp_path / "out"), "data_source": str(tmp_path)}
    )
    assert explicit.output_dir == tmp_path / "out"
    assert explicit.data_path == tmp_path
    relative = check_persona_parameters(**{**GOOD_PARAMETERS, "output_dir": "reports/x"})
    assert relative.output_dir == config.PROJECT_ROOT / "reports" / "x"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data_source": "/no/such/folder"}, "'data_source' .* existing path"),
        ({"n_customers": 10}, "'n_customers' = 10: must be >= 100"),
        ({"cutoff": "July"}, "'cutoff' = 'July': must be an ISO date"),
        ({"population": "fans"}, "'population' = 'fans': must be one of"),
        ({"k_min": 1}, "'k_min' = 1: must be >= 2"),
        ({"k_max": 2}, "'k_max' = 2: must be >= 3"),
        ({"method": "dbscan"}, "'method' = 'dbscan': must be one of"),
        ({"n_bootstrap": 1}, "'n_bootstrap' = 1: must be >= 2"),
        ({"sample_size": 5.0}, "'sample_size' = 5.0: must be an integer"),
        ({"output_dir": None}, "'output_dir' = None: must be a string"),
    ],
)
def test_check_persona_parameters_names_the_bad_one(change, message):
    with pytest.raises(ParameterError, match=message):
        check_persona_parameters(**{**GOOD_PARAMETERS, **change})


def test_persona_params_are_frozen_and_as_dict_holds_the_notebook_parameters(tmp_path):
    checked = check_persona_parameters(
        **{**GOOD_PARAMETERS, "output_dir": str(tmp_path), "mlflow_tracking_uri": "sqlite:///x"}
    )
    assert isinstance(checked, PersonaParams)
    with pytest.raises(dataclasses.FrozenInstanceError):
        checked.seed = 1  # type: ignore[misc]
    values = checked.as_dict()
    assert set(values) == {*GOOD_PARAMETERS, "mlflow_tracking_uri", "value_file"}
    assert values["cutoff"] == "2025-07-01"
    assert values["output_dir"] == str(tmp_path)
    assert values["mlflow_tracking_uri"] == "sqlite:///x"


def test_value_file_must_exist_when_given(tmp_path):
    with pytest.raises(ParameterError, match="value_file"):
        check_persona_parameters(**GOOD_PARAMETERS, value_file=str(tmp_path / "missing.parquet"))
