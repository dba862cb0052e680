"""The pipeline's environment and data steps as plain functions: check the environment, ensure
the synthetic dataset, validate it, build the processed tables.

Each step returns its result or raises; the runner times it, records it in the run and decides
what runs next. A step prints progress to stdout, which the runner sends to the run's log.

May import ``features.data``, ``features.table``, ``features.pipeline.envcheck`` and
``features.pipeline.params``; the runner imports it.
"""

from __future__ import annotations

from pathlib import Path

from features.data.datasets import ensure_synthetic_dataset
from features.data.validate import validate_dataset
from features.pipeline import envcheck
from features.pipeline.params import DataSettings
from features.table.processed import build_processed


def environment() -> dict[str, str]:
    """Import every package the lab needs and start the kernel; return the versions.

    Raises ``EnvironmentCheckError`` naming what is missing.
    """
    return envcheck.run_checks(echo=False)


def dataset(settings: DataSettings) -> Path:
    """The synthetic dataset folder the notebooks read, generated when missing."""
    return ensure_synthetic_dataset(n_customers=settings.n_customers, seed=settings.seed)


def validate(dataset_dir: Path) -> None:
    """Check the raw dataset against its contracts.

    Raises:
        ValueError: listing the number of violations and the first three.
    """
    violations = validate_dataset(dataset_dir)
    if violations:
        shown = "; ".join(str(violation) for violation in violations[:3])
        raise ValueError(f"{dataset_dir}: {len(violations)} violation(s): {shown}")


def features(dataset_dir: Path, settings: DataSettings) -> Path:
    """Build the processed feature and label tables of the dataset; return their folder."""
    return build_processed(
        dataset_dir,
        cutoff=settings.cutoff,
        conversion_horizon_days=settings.conversion_horizon_days,
        churn_horizon_days=settings.churn_horizon_days,
        lookback_days=settings.lookback_days,
        min_class_count=settings.min_class_count,
    )
