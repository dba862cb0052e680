"""Parameters of the A/B test study (notebook 08) checked into ``ExperimentParams``.

May import the foundation (``features.config``, ``features.params``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from features.params import (
    NotebookParams,
    ParameterError,
    check_data_source,
    check_float,
    check_int,
    check_parameter_names,
    check_str_list,
)


class ExperimentParamError(ParameterError):
    """A notebook parameter of the A/B test study that cannot be used."""


@dataclass(frozen=True)
class ExperimentParams(NotebookParams):
    """Validated parameters of notebook 08 (names as in the notebook)."""

    INTERNAL_FIELDS: ClassVar[tuple[str, ...]] = ("source_path",)

    data_source: str
    n_experiments: int
    units_per_experiment: int
    n_customers: int
    seed: int
    alpha: float
    power: float
    mde: float
    sequential: bool
    n_aa_simulations: int
    guardrail_margin: float
    experiment_col: str
    variant_col: str
    unit_col: str
    time_col: str | None
    metrics: tuple[str, ...]
    guardrails: tuple[str, ...]
    pre_suffix: str
    control_label: str
    treatment_label: str
    output_dir: str
    mlflow_tracking_uri: str
    source_path: str = ""

    @property
    def all_metrics(self) -> tuple[str, ...]:
        """Decision metrics, then guardrails."""
        return self.metrics + self.guardrails


PARAMETER_NAMES = tuple(
    f.name for f in fields(ExperimentParams) if f.name not in ExperimentParams.INTERNAL_FIELDS
)


def _column(name: str, value: Any, optional: bool = False) -> str | None:
    if optional and (value is None or value == ""):
        return None
    if not isinstance(value, str) or not value.strip():
        raise ExperimentParamError(f"parameter {name!r} = {value!r}: must be a column name"
                                   + (" or ''" if optional else ""))  # fmt: skip
    return value


def validate_experiment_params(**params: Any) -> ExperimentParams:
    """Check every notebook parameter; raise ``ExperimentParamError`` naming the first bad one."""
    check_parameter_names(params, PARAMETER_NAMES, ExperimentParamError)
    p = dict(params)
    try:
        check_int("n_experiments", p["n_experiments"], minimum=5, maximum=100_000)
        check_int("units_per_experiment", p["units_per_experiment"], minimum=200,
                  maximum=10_000_000)  # fmt: skip
        check_int("n_customers", p["n_customers"], minimum=1000, maximum=50_000_000)
        check_int("seed", p["seed"], minimum=0)
        check_float("alpha", p["alpha"], minimum=0.001, maximum=0.2)
        check_float("power", p["power"], minimum=0.5, maximum=0.99)
        check_float("mde", p["mde"], minimum=0.001, maximum=2.0)
        check_int("n_aa_simulations", p["n_aa_simulations"], minimum=100, maximum=100_000)
        check_float("guardrail_margin", p["guardrail_margin"], minimum=0.0, maximum=5.0)
        metrics = tuple(check_str_list("metrics", p["metrics"]))
        guardrails = tuple(check_str_list("guardrails", p["guardrails"]))
    except ParameterError as exc:
        raise ExperimentParamError(str(exc)) from None
    if not isinstance(p["sequential"], bool):
        raise ExperimentParamError(f"parameter 'sequential' = {p['sequential']!r}: must be "
                                   "True or False")  # fmt: skip
    if not metrics:
        raise ExperimentParamError("parameter 'metrics' = []: name at least one metric column")
    overlap = sorted(set(metrics) & set(guardrails))
    if overlap or len(set(metrics + guardrails)) < len(metrics + guardrails):
        raise ExperimentParamError(f"parameters 'metrics' and 'guardrails': each column once "
                                   f"(repeated: {overlap or 'within a list'})")  # fmt: skip
    if p["data_source"] == "synthetic" and p["units_per_experiment"] > p["n_customers"]:
        raise ExperimentParamError(
            f"parameter 'units_per_experiment' = {p['units_per_experiment']}: must be <= "
            f"n_customers ({p['n_customers']}), the population the tests draw from"
        )
    for name in ("experiment_col", "variant_col", "unit_col", "control_label", "treatment_label"):
        _column(name, p[name])
    if p["control_label"] == p["treatment_label"]:
        raise ExperimentParamError("parameters 'control_label' and 'treatment_label' must differ")
    p["time_col"] = _column("time_col", p["time_col"], optional=True)
    for name in ("pre_suffix", "output_dir", "mlflow_tracking_uri"):
        if not isinstance(p[name], str):
            raise ExperimentParamError(f"parameter {name!r} = {p[name]!r}: must be a string")
    try:
        source_path = check_data_source(p["data_source"])
    except ParameterError as exc:
        raise ExperimentParamError(str(exc)) from None
    p["metrics"], p["guardrails"] = metrics, guardrails
    return ExperimentParams(**{n: p[n] for n in PARAMETER_NAMES}, source_path=source_path)
