"""The pipeline's environment, data and scoring steps as plain functions: check the environment,
ensure the synthetic dataset, validate it, build the processed tables, and after the model
notebooks score today's customers into campaign lists.

Each step returns its result or raises; the runner times it, records it in the run and decides
what runs next. A step prints progress to stdout, which the runner sends to the run's log.

May import ``features.data``, ``features.table``, ``features.scoring``,
``features.pipeline.envcheck`` and ``features.pipeline.params``; the runner imports it.
"""

from __future__ import annotations

from pathlib import Path

from features.data.datasets import ensure_synthetic_dataset
from features.data.validate import validate_dataset
from features.pipeline import envcheck
from features.pipeline.params import DataSettings
from features.scoring.cli import read_personas, write_campaign
from features.scoring.live import score_population
from features.scoring.store import append_scores
from features.table.processed import build_processed
from features.table.snapshots import EventSource


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
    return build_processed(dataset_dir, **settings.table_options())


def campaign(
    task: str,
    dataset_dir: Path,
    out: Path,
    personas: Path | None = None,
    engine: str = "duckdb",
) -> str:
    """Score the task's population at the day after the last event with the champion.

    Writes ``campaign.parquet``, ``campaign.csv``, ``score_summary.json`` and ``campaign.html``
    into ``out`` (on Spark also ``campaign_by_decile/``) and appends the list to the score
    history; returns a one-line summary.
    """
    result = score_population(task, EventSource(dataset_dir), engine=engine)
    names = read_personas(str(personas)) if personas is not None and personas.is_file() else None
    write_campaign(result, out, names)
    append_scores(result.campaign, result.summary)
    counts = result.summary["bucket_counts"]
    return (
        f"{result.summary['n_scored']:,} scored at {result.summary['as_of']} (model version "
        f"{result.summary['model_version']}), high {counts['high']:,}"
        + (f", on {engine}" if engine != "duckdb" else "")
    )
