"""Parameters of the voice-of-the-customer study (notebook 06) checked into ``VoiceParams``.

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
    check_date,
    check_float,
    check_int,
    check_parameter_names,
)


class VoiceParamError(ParameterError):
    """A notebook parameter of the voice study that cannot be used."""


@dataclass(frozen=True)
class VoiceParams(NotebookParams):
    """Validated parameters of notebook 06 (names as in the notebook)."""

    INTERNAL_FIELDS: ClassVar[tuple[str, ...]] = ("source_path", "persona_path")

    data_source: str
    n_customers: int
    seed: int
    cutoff: str
    text_col: str
    label_col: str | None
    positive_label: Any
    id_col: str | None
    time_col: str | None
    n_topics: int
    test_size: float
    persona_file: str
    output_dir: str
    mlflow_tracking_uri: str
    num_threads: int
    source_path: str = ""
    persona_path: str = ""


PARAMETER_NAMES = tuple(
    f.name for f in fields(VoiceParams) if f.name not in VoiceParams.INTERNAL_FIELDS
)


def validate_voice_params(**params: Any) -> VoiceParams:
    """Check every notebook parameter; raise ``VoiceParamError`` naming the first bad one."""
    check_parameter_names(params, PARAMETER_NAMES, VoiceParamError)
    p = dict(params)
    try:
        check_int("n_customers", p["n_customers"], minimum=1000, maximum=5_000_000)
        check_int("seed", p["seed"], minimum=0)
        check_date("cutoff", p["cutoff"])
        check_int("n_topics", p["n_topics"], minimum=2, maximum=30)
        check_float("test_size", p["test_size"], minimum=0.1, maximum=0.5)
        check_int("num_threads", p["num_threads"], minimum=1, maximum=256)
    except ParameterError as exc:
        raise VoiceParamError(str(exc)) from None
    if not isinstance(p["text_col"], str) or not p["text_col"].strip():
        raise VoiceParamError(f"parameter 'text_col' = {p['text_col']!r}: must be a column name")
    for name in ("label_col", "id_col", "time_col"):
        if p[name] is not None and not isinstance(p[name], str):
            raise VoiceParamError(f"parameter {name!r} = {p[name]!r}: must be a column or ''")
        p[name] = p[name] or None
    try:
        source_path = check_data_source(p["data_source"])
    except ParameterError as exc:
        raise VoiceParamError(str(exc)) from None
    persona_path = ""
    if p["persona_file"]:
        path = config.project_path(p["persona_file"])
        if not path.is_file():
            raise VoiceParamError(f"parameter 'persona_file' = {p['persona_file']!r}: no such "
                                  f"file ({path})")  # fmt: skip
        persona_path = str(path)
    for name in ("output_dir", "mlflow_tracking_uri", "persona_file"):
        if not isinstance(p[name], str):
            raise VoiceParamError(f"parameter {name!r} = {p[name]!r}: must be a string")
    return VoiceParams(**{n: p[n] for n in PARAMETER_NAMES}, source_path=source_path,
                       persona_path=persona_path)  # fmt: skip
