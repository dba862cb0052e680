"""Inputs of the channels study: touches and outcomes, and the weekly spend and outcome.

Synthetic data come from ``features.data.synth_channels``. A journeys file (CSV/TSV/TXT,
Excel or Parquet) has one row per touch: customer id, time, channel and the journey's
conversion flag (1 on any row of a converting customer counts for the journey); the journey
ends at its last touch. A weekly spend file has one row per week and paid channel: week,
channel, spend and the week's outcome (orders; the same value on every row of a week).

May import the foundation and ``features.data``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema
from features.data.reader import DataError, parse_timestamps
from features.data.tabular import read_table

FLAG_VALUES = {"1": 1, "0": 0, "true": 1, "false": 0, "yes": 1, "no": 0, "y": 1, "n": 0}
MAX_BAD_TIMES = 0.05  # share of unparseable touch times dropped (counted) before refusing


@dataclass
class ChannelInputs:
    """Touches, outcomes (``segment`` where known) and, when there is spend, the weekly series."""

    touches: pd.DataFrame
    outcomes: pd.DataFrame
    spend: np.ndarray | None = None  # CNY per week (rows) and paid channel (columns)
    orders: np.ndarray | None = None  # outcome per week of the last len(orders) weeks
    weeks: pd.DatetimeIndex | None = None  # the outcome weeks
    paid_channels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _require(frame: pd.DataFrame, path: str, columns: list[str]) -> None:
    for col in columns:
        if col not in frame.columns:
            raise DataError(f"{path}: column {col!r} is missing (columns: "
                            f"{', '.join(map(str, frame.columns[:12]))})")  # fmt: skip


def _flags(values: pd.Series, path: str, col: str) -> pd.Series:
    text = values.astype(str).str.strip().str.lower().str.removesuffix(".0")
    mapped = text.map(FLAG_VALUES)
    bad = mapped.isna()
    if bad.any():
        first = ", ".join(repr(v) for v in values[bad].astype(str).unique()[:3])
        raise DataError(f"{path}: column {col!r}: {int(bad.sum())} values are not a 0/1 "
                        f"conversion flag: first {first}")  # fmt: skip
    return mapped.astype(int)


def read_journeys(path: str, id_col: str, time_col: str, channel_col: str,
                  converted_col: str) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:  # fmt: skip
    """(touches, outcomes, notes) from a journeys file; refuses naming file, column and rule."""
    raw = read_table(path, text_cols=[id_col, channel_col])
    _require(raw, path, [id_col, time_col, channel_col, converted_col])
    if raw.empty:
        raise DataError(f"{path}: no rows")
    ts = parse_timestamps(raw[time_col])
    bad = ts.isna() & raw[time_col].notna()
    notes = []
    if bad.mean() > MAX_BAD_TIMES:
        first = ", ".join(repr(v) for v in raw.loc[bad, time_col].astype(str).unique()[:3])
        raise DataError(f"{path}: column {time_col!r}: {bad.mean():.0%} of times unparseable "
                        f"(over {MAX_BAD_TIMES:.0%}): first {first}")  # fmt: skip
    if bad.any():
        notes.append(f"{int(bad.sum())} touches with an unparseable time dropped")
    touches = pd.DataFrame({schema.ID_COL: raw[id_col].astype(str).str.strip(),
                            schema.TIME_COL: ts,
                            schema.CHANNEL_COL: raw[channel_col].astype(str).str.strip()})  # fmt: skip
    flag = _flags(raw[converted_col], path, converted_col)
    keep = touches[schema.TIME_COL].notna()
    touches, flag = touches[keep], flag[keep]
    outcomes = flag.groupby(touches[schema.ID_COL]).max().rename("converted").reset_index()
    outcomes["conversion_ts"] = pd.NaT
    return touches.reset_index(drop=True), outcomes, tuple(notes)


def read_spend(path: str, channel_col: str, outcome_col: str):
    """(spend matrix, outcome per week, weeks, channels) from a long weekly spend file."""
    raw = read_table(path, text_cols=[channel_col])
    _require(raw, path, ["week", channel_col, "spend", outcome_col])
    week = parse_timestamps(raw["week"])
    if week.isna().any():
        raise DataError(f"{path}: column 'week': {int(week.isna().sum())} unparseable weeks")
    spend = pd.to_numeric(raw["spend"], errors="coerce")
    if spend.isna().any() or (spend < 0).any() or not np.isfinite(spend).all():
        raise DataError(f"{path}: column 'spend': must be a non-negative number on every row")
    frame = pd.DataFrame({"week": week.dt.normalize(), "channel": raw[channel_col].astype(str),
                          "spend": spend, "outcome": pd.to_numeric(raw[outcome_col],
                                                                   errors="coerce")})  # fmt: skip
    per_week = frame.groupby("week")["outcome"].agg(["min", "max"])
    if (per_week["min"] != per_week["max"]).any() or per_week["min"].isna().any():
        raise DataError(f"{path}: column {outcome_col!r}: one number per week (the same on "
                        "every row of the week) is the rule")  # fmt: skip
    wide = frame.pivot_table(index="week", columns="channel", values="spend", aggfunc="sum")
    wide = wide.fillna(0.0).sort_index()
    if len(wide) < 52:
        raise DataError(f"{path}: {len(wide)} weeks; the media-mix model needs at least 52")
    orders = per_week["min"].reindex(wide.index).to_numpy(dtype=float)
    return (wide.to_numpy(dtype=float), orders, pd.DatetimeIndex(wide.index),
            tuple(map(str, wide.columns)))  # fmt: skip
