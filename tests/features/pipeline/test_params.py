"""Tests of the pipeline's parameter sets: YAML loading, overrides, checks, data settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from features import config, defaults
from features.params import ParameterError
from features.pipeline import params


def test_apply_overrides_parses_values_and_sections():
    merged = params.apply_overrides(
        {"common": {"seed": 1}},
        [
            "n_customers=2000",
            "cutoff=2025-06-01",
            "churn.horizon_days=120",
            "conversion.drop_cols=[duration, x]",
            "pipeline.keep=3",
        ],
    )
    assert merged["common"] == {"seed": 1, "n_customers": 2000, "cutoff": "2025-06-01"}
    assert merged["churn"] == {"horizon_days": 120}
    assert merged["conversion"] == {"drop_cols": ["duration", "x"]}
    assert merged["pipeline"] == {"keep": 3}


def test_apply_overrides_rejects_malformed_items():
    with pytest.raises(ParameterError, match="expected key=value"):
        params.apply_overrides({}, ["n_customers"])


def test_missing_notebook_and_bad_config_file_are_named(
    lab: dict[str, Path], with_notebooks: Callable[..., Path], tmp_path: Path
):
    conf = with_notebooks({"ok": "absent.ipynb"})
    with pytest.raises(ParameterError, match=r"notebook 'ok': .*absent.ipynb not found"):
        params.resolve_parameter_set(params.load_parameter_file(conf), lab["notebooks"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("common: [1, 2\n")
    with pytest.raises(ParameterError, match="broken.yaml: not valid YAML"):
        params.load_parameter_file(broken)
    broken.write_text("common: 3\n")
    with pytest.raises(ParameterError, match="section 'common' must be a mapping"):
        params.load_parameter_file(broken)


def test_resolve_merges_common_into_notebooks_that_declare_it(lab: dict[str, Path]):
    raw = params.load_parameter_file(lab["conf"])
    resolved = params.resolve_parameter_set(raw, lab["notebooks"])
    assert resolved.notebook_parameters == {
        "ok": {"data_source": "tiny.csv", "n_customers": 100, "seed": 3, "horizon_days": 30}
    }
    assert params.data_settings(resolved) is None
    assert resolved.digest() == params.resolve_parameter_set(raw, lab["notebooks"]).digest()


def test_data_settings_follow_the_model_notebooks(lab: dict[str, Path]):
    raw = {
        "common": {"n_customers": 300, "seed": 4},
        "conversion": {"horizon_days": 30},
        "churn": {"horizon_days": 120},
        "notebooks": {"conversion": "ok.ipynb", "churn": "ok.ipynb"},
    }
    settings = params.data_settings(params.resolve_parameter_set(raw, lab["notebooks"]))
    assert settings == params.DataSettings(
        n_customers=300,
        seed=4,
        cutoff="2025-07-01",
        conversion_horizon_days=30,
        churn_horizon_days=120,
        lookback_days=defaults.CHURN_LOOKBACK_DAYS,
        min_class_count=defaults.MIN_CLASS_COUNT,
    )
    raw.update(common={}, conversion={"seed": 1}, churn={"seed": 2})
    with pytest.raises(ParameterError, match="different synthetic datasets"):
        params.data_settings(params.resolve_parameter_set(raw, lab["notebooks"]))


def test_project_parameter_sets_are_valid_yaml_with_known_sections():
    for name in ("default.yaml", "smoke.yaml"):
        raw = params.load_parameter_file(config.CONF_DIR / name)
        assert set(raw) <= {*params.RESERVED_SECTIONS, *params.DEFAULT_NOTEBOOKS}
        params.check_options(raw.get("pipeline", {}))
    default = params.load_parameter_file(config.CONF_DIR / "default.yaml")
    assert default["common"]["n_customers"] == 50_000


@pytest.mark.skipif(
    not all((config.NOTEBOOKS_DIR / n).is_file() for n in params.DEFAULT_NOTEBOOKS.values()),
    reason="lab notebooks not written yet",
)
@pytest.mark.parametrize("name", ["default.yaml", "smoke.yaml"])
def test_project_parameter_sets_match_the_lab_notebooks(name: str):
    raw = params.load_parameter_file(config.CONF_DIR / name)
    settings = params.data_settings(params.resolve_parameter_set(raw))
    assert settings is not None and settings.n_customers == raw["common"]["n_customers"]


@pytest.mark.skipif(
    not all((config.NOTEBOOKS_DIR / n).is_file() for n in params.DEFAULT_NOTEBOOKS.values()),
    reason="lab notebooks not written yet",
)
def test_set_engine_spark_reaches_the_features_step_and_the_model_notebooks():
    raw = params.load_parameter_file(config.CONF_DIR / "smoke.yaml")
    resolved = params.resolve_parameter_set(params.apply_overrides(raw, ["engine=spark"]))
    assert params.data_settings(resolved).engine == "spark"
    assert params.data_settings(params.resolve_parameter_set(raw)).engine == "duckdb"
    for name in ("conversion", "churn"):
        assert resolved.effective(name)["engine"] == "spark"


def test_declared_parameters_survive_comments_with_equals(tmp_path: Path):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'output_dir = ""  # "" = a default folder\n'
        "n_trials = 0  # 0 = no search\n"
        "threshold: float = 0.5\n"
        "columns = sorted(['b', 'a'])  # not a literal\n"
    )
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    nbformat.write(notebook, tmp_path / "p.ipynb")
    declared = params.notebook_declared_parameters(tmp_path / "p.ipynb")
    assert declared == {"output_dir": "", "n_trials": 0, "threshold": 0.5, "columns": ...}
    notebook.cells[0].metadata["tags"] = []
    nbformat.write(notebook, tmp_path / "q.ipynb")
    with pytest.raises(ParameterError, match="no cell tagged 'parameters'"):
        params.notebook_declared_parameters(tmp_path / "q.ipynb")
