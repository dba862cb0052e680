"""Alert rules of the monitoring loop: calibration against a seasonal reference, score drift.

Rules (thresholds are notebook parameters):

- calibration, seasonal reference (``seasonal_reference=True``, the default): a model trained
  on the labels of [A - horizon, A) meets another season in [A, A + horizon) (autumn churn
  after summer labels, winter range loss after autumn labels), so its list misses the
  realised rate with no drift at all. The same model therefore also scores the same calendar
  window a year earlier (population at A - 1 year, labels realised long before A), and the
  expected miss of each bucket is the miss it made there. A bucket alerts when the change of
  its mean predicted since the year-ago window lies outside the Newcombe 95% interval of the
  change of its realised rate (the difference of the two Wilson intervals) by more than
  ``margin``; seasonality cancels, drift since last year does not;
- calibration, no reference: lists whose year-ago date leaves less than ``lookback_days`` of
  data before it (the first three lists of the default replay: the data start 2024-01-01)
  keep the plain rule, the mean predicted outside the Wilson 95% interval of the realised
  rate by more than ``margin`` (default 7 points);
- PSI of the score against the training snapshot above ``psi_threshold`` (default 0.2, the
  usual "large shift") alerts;
- PSI of the score against the previous month's population, scored by the same model, above
  ``psi_month_threshold`` (default 0.1, the usual edge of a "moderate shift") alerts: one
  month of ordinary ageing moves the scored population little, a sudden change of behaviour
  moves it at once, before any label of the list is realised;
- PSI of a top feature above ``psi_threshold`` is a warning, not an alert: age-like features
  (days since the lead was created, since the last ad click) shift by PSI ~0.2 every 90 days
  with no drift at all, because the same owners are 90 days older.

Measured (generator 1.1.0, churn, horizon and lookback 90 days, the 10 default monthly lists
2025-01-01 to 2025-10-01, the last four with a year-ago reference; planted drift from
2025-05-01; margin 0.07). Alerts, first alerting list; "before" is the plain test on every list
plus the training-snapshot PSI, on the same models:

=============  ==================  ==================  ==================  ==================
dataset        no drift, before    no drift, now       drift, before       drift, now
=============  ==================  ==================  ==================  ==================
50k, seed 42   1 (09-01, high)     0                   3, 05-01            5, 05-01
8k, seed 42    0                   0                   3, 05-01            4, 05-01
8k, seed 7     0                   0                   1, 05-01            2, 05-01
8k, seed 123   1 (09-01, high)     0                   1, 05-01            2, 05-01
=============  ==================  ==================  ==================  ==================

- without drift the false alerts were September lists (summer labels, autumn churn): the
  high bucket missed its interval by 0.078 (50k) and 0.075 (8k, seed 123); against the year-ago
  window the worst miss of any list is 0.015 (50k) and 0.037 (8k, a list without reference);
- with drift the first alert is the 2025-05-01 list (plain test, no reference yet: 0.129 on
  50k, 0.072-0.171 on 8k); the year-ago test then alerts on later lists (50k: 0.087-0.122 in
  August-October) where the plain test stayed quiet;
- a blind spot once the models have learnt the drift: a model trained on post-drift labels
  misses the year-ago (pre-drift) window as it misses the list, and the two cancel (8k, seed
  42: the 2025-08-01 high bucket over-predicts by 0.23, as it did a year earlier); the rule
  is for catching the start of a change, later lists of a known drift need no alert;
- score PSI against the previous month: at most 0.011 (50k) and 0.058 (8k) without drift;
  0.116-0.117 on the 2025-06-01 list with drift on 8k (a second alert, the first that needs no
  realised label), 0.070 on 50k (under the threshold);
- score PSI against training: at most 0.016 (50k) and 0.085 (8k) without drift, 0.09-0.18
  with drift: under 0.2 everywhere, so it alerts only on larger shifts.

May import numpy, pandas and the ``features.monitoring`` modules before it (replay).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.monitoring.replay import MONTH_SCORE_NAME, SCORE_NAME, SCORE_ROWS

DEFAULT_MARGIN = 0.07
DEFAULT_PSI_THRESHOLD = 0.2
DEFAULT_PSI_MONTH_THRESHOLD = 0.1
REFERENCE_COLUMNS = (
    "as_of",
    "bucket",
    "reference",
    "expected",
    "observed",
    "low",
    "high",
    "outside_by",
)


def outside_by(table: pd.DataFrame) -> pd.Series:
    """How far each row's mean predicted lies outside its interval (0 inside)."""
    below = (table["ci_low"] - table["mean_predicted"]).clip(lower=0)
    above = (table["mean_predicted"] - table["ci_high"]).clip(lower=0)
    return below + above


def seasonal_check(buckets: pd.DataFrame, year_ago: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per row of ``buckets``: the value tested, its interval and how far it lies outside.

    With a year-ago row for the same list and bucket (``reference`` "year ago"): expected is
    the change of mean predicted since the year-ago window, and low-high the Newcombe 95%
    interval of the change of the realised rate (Wilson intervals of both, combined in
    quadrature). Without one (``reference`` "none"): the plain test, mean predicted against
    the Wilson interval of the realised rate. Rows in the order of ``buckets``.
    """
    table = buckets[["as_of", "bucket"]].copy()
    table["reference"] = "none"
    table["expected"] = buckets["mean_predicted"].to_numpy()
    table["observed"] = buckets["realised_rate"].to_numpy()
    table["low"] = buckets["ci_low"].to_numpy()
    table["high"] = buckets["ci_high"].to_numpy()
    if year_ago is not None and not year_ago.empty:
        ya = buckets.merge(
            year_ago, on=["as_of", "bucket"], how="left", suffixes=("", "_ya"), validate="1:1"
        )
        has = ya["n_ya"].notna().to_numpy()
        r, r_ya = ya["realised_rate"], ya["realised_rate_ya"]
        change = r - r_ya
        low = change - np.hypot(r - ya["ci_low"], ya["ci_high_ya"] - r_ya)
        high = change + np.hypot(ya["ci_high"] - r, r_ya - ya["ci_low_ya"])
        expected = ya["mean_predicted"] - ya["mean_predicted_ya"]
        table.loc[has, "reference"] = "year ago"
        table.loc[has, "expected"] = expected.to_numpy()[has]
        table.loc[has, "observed"] = change.to_numpy()[has]
        table.loc[has, "low"] = low.to_numpy()[has]
        table.loc[has, "high"] = high.to_numpy()[has]
    below = (table["low"] - table["expected"]).clip(lower=0)
    above = (table["expected"] - table["high"]).clip(lower=0)
    table["outside_by"] = below + above
    return table[list(REFERENCE_COLUMNS)].reset_index(drop=True)


def calibration_alerts(
    buckets: pd.DataFrame,
    margin: float = DEFAULT_MARGIN,
    what: str = "list",
    year_ago: pd.DataFrame | None = None,
) -> list[str]:
    """One line per bucket and date whose test (``seasonal_check``) misses by > ``margin``."""
    check = seasonal_check(buckets, year_ago)
    lines = []
    for row, test in zip(
        buckets.itertuples(index=False), check.itertuples(index=False), strict=True
    ):
        if test.outside_by <= margin:
            continue
        side = "under" if test.expected < test.low else "over"
        head = f"{what} {row.as_of}, {row.bucket} bucket: "
        if test.reference == "year ago":
            line = head + (
                f"since the same window a year earlier the mean predicted moved by "
                f"{test.expected:+.3f}, the realised rate by {test.observed:+.3f} (95% interval "
                f"{test.low:+.3f} to {test.high:+.3f}): {side}-predicts, missed by "
                f"{test.outside_by:.3f} > margin {margin:.3f} (now predicted "
                f"{row.mean_predicted:.3f}, realised {row.realised_rate:.3f})"
            )
        else:
            line = head + (
                f"mean predicted {row.mean_predicted:.3f} {side}-predicts the realised "
                f"{row.realised_rate:.3f} (95% interval {row.ci_low:.3f}-{row.ci_high:.3f}, missed "
                f"by {test.outside_by:.3f} > margin {margin:.3f}; no year-ago reference)"
            )
        lines.append(line)
    return lines


def _psi_alerting(psi: pd.DataFrame, threshold: float, month_threshold: float) -> pd.Series:
    """True for the score PSI rows above their threshold (training or previous month)."""
    return ((psi["feature"] == SCORE_NAME) & (psi["psi"] > threshold)) | (
        (psi["feature"] == MONTH_SCORE_NAME) & (psi["psi"] > month_threshold)
    )


def psi_alerts(
    psi: pd.DataFrame,
    threshold: float = DEFAULT_PSI_THRESHOLD,
    month_threshold: float = DEFAULT_PSI_MONTH_THRESHOLD,
) -> list[str]:
    """One line per date whose score PSI against the training snapshot exceeds ``threshold``
    or against the previous month's population exceeds ``month_threshold``."""
    rows = psi[_psi_alerting(psi, threshold, month_threshold)]
    return [
        f"list {row.as_of}: score PSI {row.psi:.3f} > "
        + (
            f"{threshold:.2f} against the training snapshot"
            if row.feature == SCORE_NAME
            else f"{month_threshold:.2f} against the previous month's population"
        )
        for row in rows.itertuples(index=False)
    ]


def psi_alert_dates(
    psi: pd.DataFrame,
    threshold: float = DEFAULT_PSI_THRESHOLD,
    month_threshold: float = DEFAULT_PSI_MONTH_THRESHOLD,
) -> set[str]:
    """The as-of dates with a score PSI alert."""
    return set(psi.loc[_psi_alerting(psi, threshold, month_threshold), "as_of"])


def psi_warnings(psi: pd.DataFrame, threshold: float = DEFAULT_PSI_THRESHOLD) -> list[str]:
    """One line per date and top feature whose PSI exceeds ``threshold`` (not alerts)."""
    rows = psi[~psi["feature"].isin(SCORE_ROWS) & (psi["psi"] > threshold)]
    return [
        f"list {row.as_of}: feature {row.feature} PSI {row.psi:.3f} > {threshold:.2f}"
        for row in rows.itertuples(index=False)
    ]
