"""Frame of the synthetic NEV world: the simulation window, the calendar and shared draws.

The latent world is simulated on whole arrays (one row per customer) in three parts, each
returning a plain dataclass of numpy arrays:

- ``synth_people``: who the leads are (persona, demographics, channel, budget, sales model);
- ``synth_funnel``: how their purchase journeys unfold (funnel, propensity, order, delivery);
- ``synth_owners``: how owners use the car and drift away from the brand (rates, churn).

``features.data.synth_events`` turns them into event streams and ``features.data.synth`` into
Parquet tables. Times are float days since the window start. Every constant of these modules
is a calibration knob; ``tests/features/data/test_synth.py`` checks the resulting figures
against the industry plan figures. All noise terms are small next to the observable drivers.

May import numpy, pandas and the foundation modules; nothing else of ``features``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema

WINTER_MONTHS = (12, 1, 2)
DAYS_PER_YEAR = 365.25
# Persona row indices: persona-level parameters have one row per persona, in this order.
YOUNG, FAMILY, HNW, COMMUTER, VALUE = range(len(schema.PERSONAS))


@dataclass(frozen=True)
class Window:
    """Simulation window: every timestamp t satisfies ``start <= t <= end``."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        """Window length in whole days (the end is day ``days`` at midnight)."""
        return int((self.end - self.start) / pd.Timedelta(days=1))

    def epoch_days(self, n_days: int) -> np.ndarray:
        """Days since 1970-01-01 of the day indices ``0..n_days-1`` from the window start."""
        first = int((self.start - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
        return first + np.arange(n_days, dtype=np.int64)

    def winter_days(self, n_days: int) -> np.ndarray:
        """Boolean per day index from the window start: is that day in a winter month?"""
        return is_winter(self.epoch_days(n_days))


def month_of(epoch_days: np.ndarray) -> np.ndarray:
    """Calendar month (1..12) of days counted since 1970-01-01."""
    days = np.asarray(epoch_days, dtype=np.int64).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype(np.int64) % 12 + 1


def is_winter(epoch_days: np.ndarray) -> np.ndarray:
    """Is each day (days since 1970-01-01) in a winter month?"""
    return np.isin(month_of(epoch_days), WINTER_MONTHS)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def choose_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    draws = rng.random(len(probs))[:, None]
    return np.minimum((draws > cum).sum(axis=1), probs.shape[1] - 1)
