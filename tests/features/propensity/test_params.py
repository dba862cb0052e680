"""Tests of features.propensity.params: notebook parameters checked into ``StudyParams``."""

from __future__ import annotations

import ast
import dataclasses
import json
import re

import pytest

from features import config
from features.params import ParameterError
from features.propensity import params as study_params


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
        ({"engine": "polars"}, "engine"),
        ({"value_per_positive": 0}, "value_per_positive"),
        ({"positive_label": [1]}, "positive_label"),
        ({"id_col": ""}, "id_col"),
    ],
)
def test_validate_params_names_the_bad_parameter(notebook_params, overrides, name) -> None:
    with pytest.raises(ParameterError, match=f"'{name}'"):
        study_params.validate_params("conversion", **notebook_params(**overrides))


def test_validate_params_missing_unknown_and_task(notebook_params) -> None:
    params = notebook_params()
    del params["seed"]
    with pytest.raises(ParameterError, match="'seed' is missing"):
        study_params.validate_params("churn", **params)
    with pytest.raises(ParameterError, match="'colour' is unknown"):
        study_params.validate_params("churn", **notebook_params(colour="red"))
    with pytest.raises(ParameterError, match="'task'"):
        study_params.validate_params("upsell", **notebook_params())


def test_validate_params_detects_tables_and_checks_their_columns(
    tmp_path, notebook_params, ready_table
) -> None:
    path = tmp_path / "table.csv"
    ready_table(50).to_csv(path, index=False)
    params = study_params.validate_params(
        "conversion", **notebook_params(data_source=str(path), target="outcome")
    )
    assert params.source_kind == "table" and params.source_path == str(path)
    with pytest.raises(ParameterError, match="'target'"):
        study_params.validate_params(
            "conversion", **notebook_params(data_source=str(path), target="y")
        )
    with pytest.raises(ParameterError, match="'drop_cols'"):
        study_params.validate_params(
            "conversion",
            **notebook_params(data_source=str(path), target="outcome", drop_cols=["duration"]),
        )
    with pytest.raises(ParameterError, match="'data_source'"):
        study_params.validate_params("conversion", **notebook_params(data_source=str(path)))


def test_relative_sources_resolve_from_the_project_root(notebook_params) -> None:
    expected = str(config.PROJECT_ROOT / "no" / "such" / "file.csv")
    with pytest.raises(ParameterError, match=re.escape(expected)):
        study_params.validate_params("churn", **notebook_params(data_source="no/such/file.csv"))


def test_parameter_names_are_the_dataclass_fields_set_by_the_notebooks() -> None:
    names = [f.name for f in dataclasses.fields(study_params.StudyParams)]
    assert study_params.PARAMETER_NAMES == tuple(
        n for n in names if n not in ("task", "source_kind", "source_path")
    )
    for notebook in ("02_conversion.ipynb", "03_churn.ipynb"):
        cells = json.loads((config.NOTEBOOKS_DIR / notebook).read_text())["cells"]
        (cell,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
        tree = ast.parse("".join(cell["source"]))
        assigned = tuple(node.targets[0].id for node in tree.body)
        assert assigned == study_params.PARAMETER_NAMES, notebook
