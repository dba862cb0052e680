"""Alert rules of the monitoring loop: calibration out of its interval, score drift by PSI.

Rules (thresholds are notebook parameters):

- calibration: a bucket alerts when its mean predicted probability lies outside the Wilson 95%
  interval of its realised rate by more than ``margin`` (absolute, default 7 points). The
  margin absorbs the seasonality a model trained ``horizon_days`` earlier meets: on the default
  synthetic dataset (8,000 customers, seed 42, churn, 90 days) the worst miss without drift is
  5.3 points beyond the interval (the January list's high bucket: trained on autumn labels, it
  meets the winter range-loss season), while the planted drift misses by 9-10 points;
- PSI of the score above ``psi_threshold`` (default 0.2, the usual "large shift") alerts.
- PSI of a top feature above the threshold is a warning, not an alert: age-like features (days
  since the lead was created, since the last ad click) shift by PSI ~0.2 every 90 days with
  no drift at all, because the same owners are 90 days older.

May import pandas and ``features.monitoring.replay`` (the score's PSI row name).
"""

from __future__ import annotations

import pandas as pd

from features.monitoring.replay import SCORE_NAME

DEFAULT_MARGIN = 0.07
DEFAULT_PSI_THRESHOLD = 0.2


def outside_by(table: pd.DataFrame) -> pd.Series:
    """How far each row's mean predicted lies outside its interval (0 inside)."""
    below = (table["ci_low"] - table["mean_predicted"]).clip(lower=0)
    above = (table["mean_predicted"] - table["ci_high"]).clip(lower=0)
    return below + above


def calibration_alerts(
    buckets: pd.DataFrame, margin: float = DEFAULT_MARGIN, what: str = "list"
) -> list[str]:
    """One line per bucket and date whose mean predicted misses the interval by > ``margin``."""
    miss = outside_by(buckets)
    lines = []
    for row, by in zip(buckets.itertuples(index=False), miss, strict=True):
        if by > margin:
            side = "under" if row.mean_predicted < row.ci_low else "over"
            lines.append(
                f"{what} {row.as_of}, {row.bucket} bucket: mean predicted {row.mean_predicted:.3f}"
                f" {side}-predicts the realised {row.realised_rate:.3f} (95% interval "
                f"{row.ci_low:.3f}-{row.ci_high:.3f}, missed by {by:.3f} > margin {margin:.3f})"
            )
    return lines


def psi_alerts(psi: pd.DataFrame, threshold: float = DEFAULT_PSI_THRESHOLD) -> list[str]:
    """One line per date whose score PSI against the training snapshot exceeds ``threshold``."""
    rows = psi[(psi["feature"] == SCORE_NAME) & (psi["psi"] > threshold)]
    return [
        f"list {row.as_of}: score PSI {row.psi:.3f} > {threshold:.2f} against the training snapshot"
        for row in rows.itertuples(index=False)
    ]


def psi_warnings(psi: pd.DataFrame, threshold: float = DEFAULT_PSI_THRESHOLD) -> list[str]:
    """One line per date and top feature whose PSI exceeds ``threshold`` (not alerts)."""
    rows = psi[(psi["feature"] != SCORE_NAME) & (psi["psi"] > threshold)]
    return [
        f"list {row.as_of}: feature {row.feature} PSI {row.psi:.3f} > {threshold:.2f}"
        for row in rows.itertuples(index=False)
    ]
