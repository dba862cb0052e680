"""Fixtures of the propensity tests: notebook parameters, a ready table and a generic event log."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def _ready_table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.uniform(0, 60, n)
    plan = rng.choice(["basic", "plus", "premium"], n)
    logit = -2 + 0.05 * tenure + np.select([plan == "premium", plan == "plus"], [1.5, 0.5], 0)
    y = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    balance = np.round(rng.normal(1000, 300, n), 1).astype(str)
    balance[rng.uniform(size=n) < 0.05] = " "
    return pd.DataFrame(
        {
            "full_name": [f"name {i}" for i in range(n)],
            "phone": [f"138{i:08d}" for i in range(n)],
            "tenure": tenure,
            "plan": plan,
            "balance": balance,
            "call_seconds": np.where(y, 300, 60) + rng.integers(0, 30, n),  # leaks the outcome
            "outcome": np.where(y, "yes", "no"),
        }
    )


def _generic_event_log(n: int = 700, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp("2024-06-01"), pd.Timestamp("2025-12-31")
    rows = []
    for i in range(n):
        rate = rng.uniform(0.03, 0.3)
        stop = start + pd.Timedelta(days=float(rng.uniform(60, 700)))
        gaps = rng.exponential(1 / rate, 400).cumsum()
        for day in gaps[gaps < (min(stop, end) - start).days]:
            kind = "purchase" if rng.uniform() < 0.2 else "login"
            amount = f"{rng.uniform(5, 200):.2f}" if kind == "purchase" else ""
            rows.append((f"u{i:04d}", str(start + pd.Timedelta(days=float(day))), kind, amount))
    rows.append(("u9999", "2025-12-31 12:00:00", "login", ""))
    return pd.DataFrame(rows, columns=["user", "when", "kind", "amount"])


@pytest.fixture
def ready_table() -> Callable[..., pd.DataFrame]:
    """Factory: a customer table with a text column, blanks in a numeric column and personal
    fields; ``call_seconds`` leaks the ``outcome``."""
    return _ready_table


@pytest.fixture
def generic_event_log() -> Callable[..., pd.DataFrame]:
    """Factory: a non-NEV event log (logins and purchases) whose customers stop at random."""
    return _generic_event_log
