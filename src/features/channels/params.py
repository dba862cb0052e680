"""Parameters of the channels study (notebook 07) checked into ``ChannelParams``.

May import the foundation (``features.config``, ``features.params``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from features import config
from features.params import (
    NotebookParams,
    ParameterError,
    check_data_source,
    check_float,
    check_int,
    check_parameter_names,
)


class ChannelParamError(ParameterError):
    """A notebook parameter of the channels study that cannot be used."""


@dataclass(frozen=True)
class ChannelParams(NotebookParams):
    """Validated parameters of notebook 07 (names as in the notebook)."""

    INTERNAL_FIELDS: ClassVar[tuple[str, ...]] = ("source_path", "spend_path")

    data_source: str
    spend_source: str
    n_customers: int
    n_weeks: int
    seed: int
    lookback_days: int
    budget_change: float
    half_life_days: float
    id_col: str
    time_col: str
    channel_col: str
    converted_col: str
    outcome_col: str
    output_dir: str
    mlflow_tracking_uri: str
    source_path: str = ""
    spend_path: str = ""

    @property
    def synthetic(self) -> bool:
        """True when the study draws its own journeys and spend."""
        return self.data_source == "synthetic"


PARAMETER_NAMES = tuple(
    f.name for f in fields(ChannelParams) if f.name not in ChannelParams.INTERNAL_FIELDS
)


def validate_channel_params(**params: Any) -> ChannelParams:
    """Check every notebook parameter; raise ``ChannelParamError`` naming the first bad one."""
    check_parameter_names(params, PARAMETER_NAMES, ChannelParamError)
    p = dict(params)
    try:
        check_int("n_customers", p["n_customers"], minimum=2_000, maximum=20_000_000)
        check_int("n_weeks", p["n_weeks"], minimum=52, maximum=520)
        check_int("seed", p["seed"], minimum=0)
        check_int("lookback_days", p["lookback_days"], minimum=1, maximum=730)
        check_float("budget_change", p["budget_change"], minimum=0.0, maximum=0.9)
        check_float("half_life_days", p["half_life_days"], minimum=0.1, maximum=365.0)
        source_path = check_data_source(p["data_source"])
    except ParameterError as exc:
        raise ChannelParamError(str(exc)) from None
    for name in ("id_col", "time_col", "channel_col", "converted_col", "outcome_col"):
        if not isinstance(p[name], str) or not p[name].strip():
            raise ChannelParamError(f"parameter {name!r} = {p[name]!r}: must be a column name")
    for name in ("spend_source", "output_dir", "mlflow_tracking_uri"):
        if not isinstance(p[name], str):
            raise ChannelParamError(f"parameter {name!r} = {p[name]!r}: must be a string")
    if p["data_source"] == "synthetic" and p["spend_source"]:
        raise ChannelParamError("parameter 'spend_source': only with a journeys file as "
                                "data_source (synthetic data carry their own spend)")  # fmt: skip
    spend_path = ""
    if p["spend_source"]:
        path = config.project_path(p["spend_source"])
        if not path.is_file():
            raise ChannelParamError(f"parameter 'spend_source' = {p['spend_source']!r}: no such "
                                    f"file ({path})")  # fmt: skip
        spend_path = str(path)
    return ChannelParams(**{n: p[n] for n in PARAMETER_NAMES}, source_path=source_path,
                         spend_path=spend_path)  # fmt: skip
