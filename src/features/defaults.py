"""Lab-wide defaults: simulation window, cutoff, horizons and data gates.

Notebooks, the runner and conf/ parameter sets start from these values.
"""

from __future__ import annotations

SIM_START = "2024-01-01"
SIM_END = "2025-12-31"
CUTOFF = "2025-07-01"
CONVERSION_HORIZON_DAYS = 90
CHURN_HORIZON_DAYS = 180
CHURN_LOOKBACK_DAYS = 90
FEATURE_WINDOWS = (7, 30, 90, 365)
MIN_CLASS_COUNT = 500
N_CUSTOMERS = 50_000
SEED = 42


def synthetic_dataset_name(n_customers: int, seed: int) -> str:
    """Folder name of a synthetic dataset under ``data/raw``."""
    return f"synthetic_n{n_customers}_s{seed}"
