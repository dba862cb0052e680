"""The persona notebook's parameters, checked into a frozen ``PersonaParams``.

May import the foundation (config, params) and the population and method names of
``features.personas.inputs`` and ``features.personas.clustering``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from features import config
from features.config import project_path
from features.params import NotebookParams, _fail, check_choice, check_date, check_int
from features.personas.clustering import METHODS
from features.personas.inputs import POPULATIONS


@dataclass(frozen=True)
class PersonaParams(NotebookParams):
    """Validated parameters of notebook 01 (names as in the notebook) with resolved paths.

    Attributes:
        data_path: absolute path of ``data_source`` (None for "synthetic"); derived, so it is
            left out of ``as_dict``.
        cutoff: the ``cutoff`` parameter as a Timestamp.
        output_dir: absolute output folder (``reports/adhoc/personas-<timestamp>`` for "").
    """

    data_source: str
    data_path: Path | None
    n_customers: int
    seed: int
    cutoff: pd.Timestamp
    population: str
    k_min: int
    k_max: int
    method: str
    n_bootstrap: int
    sample_size: int
    output_dir: Path
    mlflow_tracking_uri: str
    value_file: str = ""

    INTERNAL_FIELDS = ("data_path",)


def check_persona_parameters(
    data_source: Any,
    n_customers: Any,
    seed: Any,
    cutoff: Any,
    population: Any,
    k_min: Any,
    k_max: Any,
    method: Any,
    n_bootstrap: Any,
    sample_size: Any,
    output_dir: Any,
    mlflow_tracking_uri: Any = "",
    value_file: Any = "",
) -> PersonaParams:
    """Validate the persona notebook's parameters; return them with resolved paths.

    Raises:
        features.params.ParameterError: naming the first bad parameter and its rule.
    """
    if not isinstance(data_source, str) or not data_source:
        _fail("data_source", data_source, "must be 'synthetic' or a path")
    if data_source != "synthetic" and not project_path(data_source).exists():
        _fail("data_source", data_source, "must be 'synthetic' or an existing path")
    check_int("n_customers", n_customers, minimum=100)
    check_int("seed", seed, minimum=0)
    cutoff_ts = check_date("cutoff", cutoff)
    check_choice("population", population, POPULATIONS)
    check_int("k_min", k_min, minimum=2, maximum=30)
    check_int("k_max", k_max, minimum=k_min, maximum=30)
    check_choice("method", method, METHODS)
    check_int("n_bootstrap", n_bootstrap, minimum=2, maximum=200)
    check_int("sample_size", sample_size, minimum=100)
    for name, value in (("output_dir", output_dir), ("mlflow_tracking_uri", mlflow_tracking_uri)):
        if not isinstance(value, str):
            _fail(name, value, "must be a string ('' for the default)")
    if not isinstance(value_file, str) or (value_file and not project_path(value_file).is_file()):
        _fail("value_file", value_file, "must be '' or an existing value.parquet of notebook 04")
    resolved_output = config.output_path(output_dir, "personas")
    return PersonaParams(
        data_source=data_source,
        data_path=None if data_source == "synthetic" else project_path(data_source),
        n_customers=n_customers,
        seed=seed,
        cutoff=cutoff_ts,
        population=population,
        k_min=k_min,
        k_max=k_max,
        method=method,
        n_bootstrap=n_bootstrap,
        sample_size=sample_size,
        output_dir=resolved_output,
        mlflow_tracking_uri=mlflow_tracking_uri,
        value_file=value_file,
    )
