"""The units of the day's A/B tests: synthetic (with the truth) or a bring-your-own table.

A table has one row per experiment × unit: the experiment id, the variant (control or
treatment label), the unit id, one numeric column per metric and guardrail, optionally
``<metric><pre_suffix>`` pre-period columns (for CUPED) and an assignment timestamp (for
sequential looks and the novelty read). Only those columns are kept: personal fields of the
file go no further.

May import the foundation, ``features.data`` and the ``features.experiments`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.data import reader
from features.data.synth_experiments import GUARDRAILS, METRICS, simulate_experiments
from features.data.tabular import TableError, read_table
from features.experiments.params import ExperimentParams


@dataclass
class ExperimentData:
    """Units (the lab's column names) and, on synthetic data, the truth per experiment × metric."""

    units: pd.DataFrame
    truth: pd.DataFrame | None
    source: str
    has_time: bool
    pre_metrics: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def _synthetic(params: ExperimentParams) -> ExperimentData:
    units, truth = simulate_experiments(params.n_experiments, params.units_per_experiment,
                                        seed=params.seed, n_customers=params.n_customers)  # fmt: skip
    unknown = [m for m in params.all_metrics if m not in units.columns]
    if unknown:
        raise TableError(f"synthetic experiments: metric {unknown[0]!r} does not exist (the "
                         f"generator has {list(METRICS + GUARDRAILS)})")  # fmt: skip
    pre = tuple(m for m in params.all_metrics if f"{m}_pre" in units.columns)
    return ExperimentData(units=units, truth=truth, source="synthetic", has_time=True,
                          pre_metrics=pre)  # fmt: skip


def _numeric(frame: pd.DataFrame, column: str, where: Path) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        first = frame.loc[bad, column].astype(str).unique()[:3].tolist()
        raise TableError(f"{where}: column {column!r}: {int(bad.sum()):,} values are not numbers "
                         f"(first: {first})")  # fmt: skip
    if values.isna().any():
        raise TableError(f"{where}: column {column!r}: {int(values.isna().sum()):,} values are "
                         "missing (a metric needs a value for every unit)")  # fmt: skip
    return values.to_numpy(np.float64)


def _from_file(params: ExperimentParams) -> ExperimentData:
    path = Path(params.source_path)
    keys = (params.experiment_col, params.variant_col, params.unit_col)
    raw = read_table(path, text_cols=keys)
    pre_cols = {m: f"{m}{params.pre_suffix}" for m in params.all_metrics}
    pre = tuple(m for m, c in pre_cols.items() if params.pre_suffix and c in raw.columns)
    needed = [*keys, *params.all_metrics] + ([params.time_col] if params.time_col else [])
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise TableError(f"{path}: column {missing[0]!r} is missing (columns: "
                         f"{list(raw.columns)[:12]})")  # fmt: skip
    if raw.empty:
        raise TableError(f"{path}: no rows")
    for key in keys:
        if raw[key].isna().any():
            raise TableError(f"{path}: column {key!r}: {int(raw[key].isna().sum()):,} values "
                             "are missing")  # fmt: skip
    variants = raw[params.variant_col].astype(str).str.strip()
    known = {params.control_label, params.treatment_label}
    unknown = sorted(set(variants.unique()) - known)
    if unknown:
        raise TableError(f"{path}: column {params.variant_col!r}: values {unknown[:3]} are neither "
                         f"{params.control_label!r} nor {params.treatment_label!r} (set "
                         "control_label and treatment_label)")  # fmt: skip
    units = pd.DataFrame({
        "experiment_id": raw[params.experiment_col].astype(str).astype("category"),
        "variant": np.where(variants == params.treatment_label, "treatment", "control"),
        "unit_id": raw[params.unit_col].astype(str),
    })  # fmt: skip
    duplicated = units.duplicated(["experiment_id", "unit_id"])
    if duplicated.any():
        first = units.loc[duplicated, ["experiment_id", "unit_id"]].head(2).values.tolist()
        raise TableError(f"{path}: columns {params.experiment_col!r} + {params.unit_col!r}: "
                         f"{int(duplicated.sum()):,} units appear twice in one experiment "
                         f"(first: {first})")  # fmt: skip
    for metric in params.all_metrics:
        units[metric] = _numeric(raw, metric, path)
        if metric in pre:
            units[f"{metric}_pre"] = _numeric(raw, pre_cols[metric], path)
    notes = []
    if params.time_col:
        stamps = reader.parse_timestamps(raw[params.time_col])
        lost = stamps.isna() & raw[params.time_col].notna()
        if lost.any():
            first = raw.loc[lost, params.time_col].astype(str).head(3).tolist()
            raise TableError(f"{path}: column {params.time_col!r}: {int(lost.sum()):,} values are "
                             f"not timestamps (first: {first})")  # fmt: skip
        units["ts"] = stamps
    else:
        notes.append("no time column: no sequential looks and no novelty read")
    small = units.groupby("experiment_id", observed=True)["variant"].agg(
        lambda v: min((v == "control").sum(), (v == "treatment").sum())
    )
    if (small < 2).any():
        raise TableError(f"{path}: experiment {small[small < 2].index[0]!r} has fewer than two "
                         "units in an arm")  # fmt: skip
    return ExperimentData(units=units, truth=None, source=path.name, has_time=bool(params.time_col),
                          pre_metrics=pre, notes=notes)  # fmt: skip


def load_experiments(params: ExperimentParams) -> ExperimentData:
    """The day's units: the synthetic experiments or the file of ``data_source``."""
    if params.data_source == "synthetic":
        return _synthetic(params)
    return _from_file(params)
