"""The loop for real runs: stored campaign lists against what happened after them.

Every live scoring appends its list to the score store (``features.scoring.store``). A list
scored at as-of date A is due once the data's last event reaches A + horizon: then its rows are
joined to the labels of [A, A + horizon) from the same event log and compared per bucket.
Lists that are not due yet are named, not compared.

May import the foundation, ``features.table`` (labels), ``features.scoring.store`` and
``features.monitoring.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from features import schema
from features.data.eventlog import EventLog
from features.monitoring.metrics import bucket_calibration
from features.scoring.store import read_scores
from features.table.labels import LABEL_COL, churn_labels, conversion_labels


@dataclass
class StoredComparison:
    """Due lists compared per bucket, and the lists still waiting for their horizon."""

    buckets: pd.DataFrame
    waiting: list[str] = field(default_factory=list)
    n_stored: int = 0

    @property
    def n_due(self) -> int:
        """Number of (as-of, model version) lists compared."""
        return 0 if self.buckets.empty else int(self.buckets["as_of"].nunique())


def realised_labels(
    task: str, log: EventLog, as_of: pd.Timestamp, horizon_days: int, lookback_days: int
) -> pd.DataFrame:
    """customer_id and realised label of [as_of, as_of + horizon) (the task's population)."""
    if task == "conversion":
        labels = conversion_labels(log, as_of, horizon_days)
    else:
        labels = churn_labels(log, as_of, horizon_days, lookback_days)
    frame = labels.labels[[schema.ID_COL, LABEL_COL]].copy()
    frame[schema.ID_COL] = frame[schema.ID_COL].astype(str)
    return frame


def compare_stored(
    task: str,
    log: EventLog,
    log_end: pd.Timestamp,
    horizon_days: int,
    lookback_days: int,
    scores: pd.DataFrame | None = None,
) -> StoredComparison:
    """Compare every due stored list of ``task`` (``scores``: default the score store)."""
    scores = read_scores(task) if scores is None else scores
    if scores.empty:
        return StoredComparison(bucket_calibration(_empty_scored()), [], 0)
    horizon = pd.Timedelta(days=horizon_days)
    frames, waiting = [], []
    for (as_of, version), part in scores.groupby(["as_of", "model_version"], sort=True):
        date = pd.Timestamp(as_of)
        if date + horizon > log_end:
            waiting.append(
                f"{as_of} (model version {version}, {len(part)} customers): due when the data "
                f"reaches {date + horizon:%Y-%m-%d}; it ends {log_end:%Y-%m-%d}"
            )
            continue
        realised = realised_labels(task, log, date, horizon_days, lookback_days)
        joined = part.assign(**{schema.ID_COL: part[schema.ID_COL].astype(str)}).merge(
            realised, on=schema.ID_COL, how="inner"
        )
        frames.append(
            joined.assign(as_of=f"{as_of} v{version}")[
                ["as_of", schema.ID_COL, "probability", "bucket", LABEL_COL]
            ]
        )
    scored = pd.concat(frames, ignore_index=True) if frames else _empty_scored()
    n_lists = scores.groupby(["as_of", "model_version"]).ngroups
    return StoredComparison(bucket_calibration(scored), waiting, n_lists)


def _empty_scored() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "as_of": pd.Series(dtype=str),
            schema.ID_COL: pd.Series(dtype=str),
            "probability": pd.Series(dtype=float),
            "bucket": pd.Series(dtype=str),
            LABEL_COL: pd.Series(dtype="int64"),
        }
    )
