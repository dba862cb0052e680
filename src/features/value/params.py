"""Parameters of the customer-value study (notebook 04) checked into a frozen ``ValueParams``.

May import the foundation (``features.config``, ``features.params``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from features.params import (
    NotebookParams,
    ParameterError,
    check_data_source,
    check_date,
    check_int,
    check_parameter_names,
)


class ValueParamError(ParameterError):
    """A notebook parameter of the value study that cannot be used."""


@dataclass(frozen=True)
class ValueParams(NotebookParams):
    """Validated parameters of notebook 04 (names as in the notebook)."""

    INTERNAL_FIELDS: ClassVar[tuple[str, ...]] = ("source_path",)

    data_source: str
    n_customers: int
    seed: int
    cutoff: str
    horizon_days: int
    id_col: str
    time_col: str
    amount_col: str
    event_type_col: str | None
    output_dir: str
    mlflow_tracking_uri: str
    num_threads: int
    shap_rows: int
    training_cutoffs: int
    source_path: str = ""


PARAMETER_NAMES = tuple(f.name for f in fields(ValueParams) if f.name != "source_path")


def _column(name: str, value: Any, optional: bool = False) -> str | None:
    if optional and (value is None or value == ""):
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueParamError(f"parameter {name!r} = {value!r}: must be a non-empty column name")
    return value


def validate_value_params(**params: Any) -> ValueParams:
    """Check every notebook parameter; raise ``ValueParamError`` naming the first bad one."""
    check_parameter_names(params, PARAMETER_NAMES, ValueParamError)
    p = dict(params)
    try:
        check_int("n_customers", p["n_customers"], minimum=200, maximum=5_000_000)
        check_int("seed", p["seed"], minimum=0)
        check_date("cutoff", p["cutoff"])
        check_int("horizon_days", p["horizon_days"], minimum=7, maximum=730)
        check_int("num_threads", p["num_threads"], minimum=1, maximum=256)
        check_int("shap_rows", p["shap_rows"], minimum=0)
        check_int("training_cutoffs", p["training_cutoffs"], minimum=1, maximum=24)
    except ParameterError as exc:
        raise ValueParamError(str(exc)) from None
    try:
        source_path = check_data_source(p["data_source"], folders=True)
    except ParameterError as exc:
        raise ValueParamError(str(exc)) from None
    for name in ("output_dir", "mlflow_tracking_uri"):
        if not isinstance(p[name], str):
            raise ValueParamError(f"parameter {name!r} = {p[name]!r}: must be a string")
    p["id_col"] = _column("id_col", p["id_col"])
    p["time_col"] = _column("time_col", p["time_col"])
    p["amount_col"] = _column("amount_col", p["amount_col"])
    p["event_type_col"] = _column("event_type_col", p["event_type_col"], optional=True)
    return ValueParams(**{n: p[n] for n in PARAMETER_NAMES}, source_path=source_path)
