"""Parameters of the actions study (notebook 05) checked into a frozen ``ActionsParams``.

May import the foundation (``features.config``, ``features.params``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from features import config
from features.params import (
    NotebookParams,
    ParameterError,
    check_choice,
    check_data_source,
    check_date,
    check_float,
    check_int,
    check_parameter_names,
    check_str_list,
)

TASKS = ("winback", "test_drive")


class ActionsParamError(ParameterError):
    """A notebook parameter of the actions study that cannot be used."""


@dataclass(frozen=True)
class ActionsParams(NotebookParams):
    """Validated parameters of notebook 05 (names as in the notebook)."""

    INTERNAL_FIELDS: ClassVar[tuple[str, ...]] = ("source_path", "value_path", "persona_path")

    data_source: str
    n_customers: int
    seed: int
    cutoff: str
    task: str
    treatment_col: str
    outcome_col: str
    id_col: str | None
    drop_cols: tuple[str, ...]
    budget: int
    contact_cost: float
    value_per_success: float
    value_file: str
    persona_file: str
    test_size: float
    output_dir: str
    mlflow_tracking_uri: str
    num_threads: int
    source_path: str = ""
    value_path: str = ""
    persona_path: str = ""


PARAMETER_NAMES = tuple(
    f.name for f in fields(ActionsParams) if f.name not in ActionsParams.INTERNAL_FIELDS
)


def _existing(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ActionsParamError(f"parameter {name!r} = {value!r}: must be a path or ''")
    if not value:
        return ""
    path = config.project_path(value)
    if not path.is_file():
        raise ActionsParamError(f"parameter {name!r} = {value!r}: no such file ({path})")
    return str(path)


def validate_actions_params(**params: Any) -> ActionsParams:
    """Check every notebook parameter; raise ``ActionsParamError`` naming the first bad one."""
    check_parameter_names(params, PARAMETER_NAMES, ActionsParamError)
    p = dict(params)
    try:
        check_int("n_customers", p["n_customers"], minimum=1000, maximum=5_000_000)
        check_int("seed", p["seed"], minimum=0)
        check_date("cutoff", p["cutoff"])
        check_choice("task", p["task"], TASKS)
        check_int("budget", p["budget"], minimum=1)
        check_float("contact_cost", p["contact_cost"], minimum=0)
        check_float("value_per_success", p["value_per_success"], minimum=0)
        check_float("test_size", p["test_size"], minimum=0.1, maximum=0.5)
        check_int("num_threads", p["num_threads"], minimum=1, maximum=256)
        p["drop_cols"] = tuple(check_str_list("drop_cols", p["drop_cols"]))
    except ParameterError as exc:
        raise ActionsParamError(str(exc)) from None
    for name in ("treatment_col", "outcome_col"):
        if not isinstance(p[name], str) or not p[name].strip():
            raise ActionsParamError(f"parameter {name!r} = {p[name]!r}: must be a column name")
    if p["id_col"] is not None and not isinstance(p["id_col"], str):
        raise ActionsParamError(f"parameter 'id_col' = {p['id_col']!r}: must be a column or ''")
    p["id_col"] = p["id_col"] or None
    try:
        source_path = check_data_source(p["data_source"])
    except ParameterError as exc:
        raise ActionsParamError(str(exc)) from None
    for name in ("output_dir", "mlflow_tracking_uri"):
        if not isinstance(p[name], str):
            raise ActionsParamError(f"parameter {name!r} = {p[name]!r}: must be a string")
    return ActionsParams(
        **{n: p[n] for n in PARAMETER_NAMES},
        source_path=source_path,
        value_path=_existing("value_file", p["value_file"]),
        persona_path=_existing("persona_file", p["persona_file"]),
    )
