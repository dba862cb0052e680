"""Study parameters: the notebook parameters of 02/03 checked into one frozen ``StudyParams``.

Owns ``StudyParams``, ``PARAMETER_NAMES`` (derived from the dataclass), ``validate_params``,
the data-source detection and the study's fixed settings (tasks, splits, folds).

May import the foundation (``features.config``, ``features.params``) and ``features.data``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from features import config
from features.data import tabular
from features.engine import ENGINES
from features.params import (
    NotebookParams,
    ParameterError,
    check_choice,
    check_date,
    check_float,
    check_int,
    check_parameter_names,
    check_str_list,
)

TASKS = ("conversion", "churn")
SPLITS = ("time", "random")
# Folds of the training part for early stopping, any search and calibration.
N_FOLDS = 5


@dataclass(frozen=True)
class StudyParams(NotebookParams):
    """Validated notebook parameters of one study (names as in the notebooks).

    ``task`` comes from the notebook itself; ``source_kind`` and ``source_path`` are derived
    from ``data_source``. Every other field is a notebook parameter.
    """

    task: str
    data_source: str
    n_customers: int
    seed: int
    cutoff: str
    horizon_days: int
    lookback_days: int
    split: str
    test_size: float
    target: str
    positive_label: Any
    id_col: str
    time_col: str
    amount_col: str | None
    event_type_col: str | None
    drop_cols: tuple[str, ...]
    n_trials: int
    output_dir: str
    mlflow_tracking_uri: str
    min_class_count: int
    contact_cost: float
    value_per_positive: float
    num_threads: int
    engine: str
    source_kind: str = "synthetic"
    source_path: str = ""


# Fields of ``StudyParams`` that are not notebook parameters.
_NOT_NOTEBOOK_PARAMETERS = ("task", "source_kind", "source_path")
# Names of the notebooks' parameter cells, in their order.
PARAMETER_NAMES = tuple(
    f.name for f in fields(StudyParams) if f.name not in _NOT_NOTEBOOK_PARAMETERS
)


def detect_source_kind(path: Path, target: str, id_col: str, time_col: str) -> str:
    """``event_log`` or ``table`` from the file's columns (a folder is a dataset: event log)."""
    if path.is_dir():
        return "event_log"
    columns = tabular.read_columns(path)
    if target and target in columns:
        return "table"
    if id_col in columns and time_col in columns:
        return "event_log"
    if target:
        raise ParameterError(
            f"parameter 'target' = {target!r}: column not found in {path} "
            f"(columns: {', '.join(columns[:15])})"
        )
    raise ParameterError(
        f"parameter 'data_source' = {str(path)!r}: neither an event log (needs columns "
        f"{id_col!r} and {time_col!r}) nor a ready table (set parameter 'target')"
    )


def _optional_column(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParameterError(f"parameter {name!r} = {value!r}: must be a column name or ''")
    return value


def _column_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"parameter {name!r} = {value!r}: must be a non-empty column name")
    return value


def validate_params(task: str, **params: Any) -> StudyParams:
    """Check every notebook parameter; raise ``ParameterError`` naming the first bad one."""
    check_choice("task", task, TASKS)
    check_parameter_names(params, PARAMETER_NAMES)
    p = params
    data_source = p["data_source"]
    if not isinstance(data_source, str) or not data_source.strip():
        raise ParameterError(
            f"parameter 'data_source' = {data_source!r}: must be 'synthetic' or a file path"
        )
    check_int("n_customers", p["n_customers"], minimum=200, maximum=5_000_000)
    check_int("seed", p["seed"], minimum=0)
    check_date("cutoff", p["cutoff"])
    check_int("horizon_days", p["horizon_days"], minimum=1, maximum=730)
    check_int("lookback_days", p["lookback_days"], minimum=1, maximum=730)
    check_choice("split", p["split"], SPLITS)
    check_float("test_size", p["test_size"], minimum=0.0, maximum=0.9, exclusive=True)
    target = p["target"]
    if not isinstance(target, str):
        raise ParameterError(f"parameter 'target' = {target!r}: must be a column name or ''")
    positive_label = p["positive_label"]
    if positive_label is not None and not isinstance(positive_label, str | int | float | bool):
        raise ParameterError(
            f"parameter 'positive_label' = {positive_label!r}: must be a value of the target"
        )
    id_col = _column_name("id_col", p["id_col"])
    time_col = _column_name("time_col", p["time_col"])
    amount_col = _optional_column("amount_col", p["amount_col"])
    event_type_col = _optional_column("event_type_col", p["event_type_col"])
    drop_cols = tuple(check_str_list("drop_cols", p["drop_cols"]))
    check_int("n_trials", p["n_trials"], minimum=0, maximum=500)
    for name in ("output_dir", "mlflow_tracking_uri"):
        if not isinstance(p[name], str):
            raise ParameterError(
                f"parameter {name!r} = {p[name]!r}: must be a string ('' = default)"
            )
    check_int("min_class_count", p["min_class_count"], minimum=1)
    check_float("contact_cost", p["contact_cost"], minimum=0.0)
    check_float("value_per_positive", p["value_per_positive"], minimum=0.0, exclusive=True)
    check_int("num_threads", p["num_threads"], minimum=1, maximum=256)
    check_choice("engine", p["engine"], ENGINES)

    source_kind, source_path = "synthetic", ""
    if data_source != "synthetic":
        path = config.project_path(data_source)
        if not path.exists():
            raise ParameterError(
                f"parameter 'data_source' = {data_source!r}: no such file or folder ({path})"
            )
        source_kind = detect_source_kind(path, target, id_col, time_col)
        source_path = str(path)
        if source_kind == "table":
            columns = tabular.read_columns(path)
            absent = [c for c in drop_cols if c not in columns]
            if absent:
                raise ParameterError(
                    f"parameter 'drop_cols' = {list(drop_cols)!r}: {absent} not in {path}"
                )
            if target in drop_cols:
                raise ParameterError(f"parameter 'drop_cols': must not contain target {target!r}")
    # Every notebook parameter as given, except those the checks above normalise.
    values = {name: p[name] for name in PARAMETER_NAMES} | {
        "test_size": float(p["test_size"]),
        "amount_col": amount_col,
        "event_type_col": event_type_col,
        "drop_cols": drop_cols,
        "contact_cost": float(p["contact_cost"]),
        "value_per_positive": float(p["value_per_positive"]),
    }
    return StudyParams(task=task, **values, source_kind=source_kind, source_path=source_path)
