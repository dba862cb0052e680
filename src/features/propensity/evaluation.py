"""Evaluation of scored customers: discrimination, calibration, lift, buckets, segments, profit.

Every function takes true 0/1 labels and predicted probabilities (aligned arrays) and returns
numbers or small DataFrames ready for a report, a plot or MLflow.

May import only third-party libraries (scikit-learn); nothing from ``features``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

BUCKET_LABELS = ("high", "medium", "low")
# Shares of customers, best scores first: top 20% high, next 30% medium, bottom 50% low.
DEFAULT_BUCKET_SHARES = (0.2, 0.3, 0.5)
MIN_SEGMENT_ROWS = 30
_EPS = 1e-15


def _arrays(y_true: Sequence, y_prob: Sequence) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype="int64")
    p = np.asarray(y_prob, dtype="float64")
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.shape}) and probabilities ({p.shape}) differ in shape")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("probabilities must lie in [0, 1] without NaN")
    return y, p


def expected_calibration_error(y_true: Sequence, y_prob: Sequence, n_bins: int = 10) -> float:
    """Share-weighted mean |observed rate - mean probability| over equal-width bins."""
    table = calibration_table(y_true, y_prob, n_bins=n_bins, strategy="uniform")
    weights = table["n"] / table["n"].sum()
    return float((weights * (table["observed_rate"] - table["mean_probability"]).abs()).sum())


def calibration_table(
    y_true: Sequence, y_prob: Sequence, n_bins: int = 10, strategy: str = "uniform"
) -> pd.DataFrame:
    """Calibration curve: per bin the count, mean probability and observed positive rate.

    ``strategy`` is ``uniform`` (equal-width probability bins) or ``quantile`` (equal counts).
    Empty bins are left out.
    """
    y, p = _arrays(y_true, y_prob)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)))
    else:
        raise ValueError(f"strategy {strategy!r}: must be 'uniform' or 'quantile'")
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    frame = pd.DataFrame({"bin": bins, "y": y, "p": p})
    table = frame.groupby("bin").agg(
        n=("y", "size"), mean_probability=("p", "mean"), observed_rate=("y", "mean")
    )
    table["bin_lower"] = edges[table.index.to_numpy()]
    table["bin_upper"] = edges[table.index.to_numpy() + 1]
    return table.reset_index()[
        ["bin", "bin_lower", "bin_upper", "n", "mean_probability", "observed_rate"]
    ]


def assign_deciles(y_prob: Sequence, n_groups: int = 10) -> np.ndarray:
    """Decile of every score: 1 = the highest-scored tenth, ``n_groups`` = the lowest.

    Ties are broken by position so the groups have (almost) equal sizes.
    """
    p = np.asarray(y_prob, dtype="float64")
    order = np.argsort(-p, kind="stable")
    ranks = np.empty(len(p), dtype="int64")
    ranks[order] = np.arange(len(p))
    return (ranks * n_groups // max(len(p), 1) + 1).astype("int64")


def lift_table(y_true: Sequence, y_prob: Sequence, n_groups: int = 10) -> pd.DataFrame:
    """Decile lift and cumulative gains (decile 1 = highest scores).

    Columns: decile, n, positives, rate, lift (rate / overall rate), cum_share_customers,
    cum_positives, cum_gain (share of all positives captured so far), cum_lift.
    """
    y, p = _arrays(y_true, y_prob)
    deciles = assign_deciles(p, n_groups)
    frame = pd.DataFrame({"decile": deciles, "y": y, "p": p})
    table = frame.groupby("decile").agg(
        n=("y", "size"), positives=("y", "sum"), mean_probability=("p", "mean")
    )
    overall = y.mean()
    table["rate"] = table["positives"] / table["n"]
    table["lift"] = table["rate"] / overall if overall > 0 else np.nan
    table["cum_share_customers"] = table["n"].cumsum() / len(y)
    table["cum_positives"] = table["positives"].cumsum()
    table["cum_gain"] = table["cum_positives"] / max(int(y.sum()), 1)
    table["cum_lift"] = table["cum_gain"] / table["cum_share_customers"]
    return table.reset_index()


def top_share_lift(y_true: Sequence, y_prob: Sequence, share: float = 0.1) -> float:
    """Positive rate among the top ``share`` of scores divided by the overall rate."""
    y, p = _arrays(y_true, y_prob)
    n_top = max(1, int(round(len(y) * share)))
    top = np.argsort(-p, kind="stable")[:n_top]
    overall = y.mean()
    return float(y[top].mean() / overall) if overall > 0 else float("nan")


def classification_metrics(
    y_true: Sequence, y_prob: Sequence, n_bins: int = 10
) -> dict[str, float]:
    """Headline metrics: ROC AUC, PR AUC, Brier, log loss, ECE, top-decile lift, base rate."""
    y, p = _arrays(y_true, y_prob)
    if np.unique(y).size < 2:
        raise ValueError("metrics need both classes among the labels")
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, _EPS, 1 - _EPS), labels=[0, 1])),
        "ece": expected_calibration_error(y, p, n_bins),
        "lift_at_10pct": top_share_lift(y, p, 0.1),
        "positive_rate": float(y.mean()),
        "n": int(len(y)),
    }


def assign_buckets(y_prob: Sequence, shares: Sequence[float] = DEFAULT_BUCKET_SHARES) -> np.ndarray:
    """``high`` / ``medium`` / ``low`` by score rank (shares of customers, best first)."""
    if len(shares) != len(BUCKET_LABELS) or not np.isclose(sum(shares), 1.0):
        raise ValueError(f"bucket shares {tuple(shares)}: need three shares summing to 1")
    p = np.asarray(y_prob, dtype="float64")
    order = np.argsort(-p, kind="stable")
    quantile_rank = np.empty(len(p), dtype="float64")
    quantile_rank[order] = (np.arange(len(p)) + 0.5) / max(len(p), 1)
    bounds = np.cumsum(shares)[:-1]
    return np.asarray(BUCKET_LABELS, dtype=object)[np.searchsorted(bounds, quantile_rank)]


def bucket_table(y_true: Sequence, y_prob: Sequence, buckets: Sequence[str]) -> pd.DataFrame:
    """Per bucket: customers, share, mean predicted probability, realised rate and lift."""
    y, p = _arrays(y_true, y_prob)
    frame = pd.DataFrame({"bucket": np.asarray(buckets, dtype=object), "y": y, "p": p})
    table = (
        frame.groupby("bucket")
        .agg(n=("y", "size"), positives=("y", "sum"), mean_probability=("p", "mean"))
        .reindex([b for b in BUCKET_LABELS if b in set(frame["bucket"])])
    )
    table["share"] = table["n"] / len(y)
    table["realised_rate"] = table["positives"] / table["n"]
    table["lift"] = table["realised_rate"] / y.mean() if y.mean() > 0 else np.nan
    return table.reset_index()


def segment_metrics(
    y_true: Sequence,
    y_prob: Sequence,
    segments: pd.DataFrame,
    min_rows: int = MIN_SEGMENT_ROWS,
) -> pd.DataFrame:
    """Metrics per value of every segment column (e.g. persona, channel).

    ROC AUC is NaN where a segment has fewer than ``min_rows`` rows or a single class.
    """
    y, p = _arrays(y_true, y_prob)
    if len(segments) != len(y):
        raise ValueError(f"segments ({len(segments)} rows) and labels ({len(y)}) differ in length")
    rows = []
    for column in segments.columns:
        values = segments[column].astype("object").where(segments[column].notna(), "(missing)")
        values = values.to_numpy()
        for value in pd.unique(values):
            mask = values == value
            y_seg, p_seg = y[mask], p[mask]
            auc = (
                float(roc_auc_score(y_seg, p_seg))
                if mask.sum() >= min_rows and np.unique(y_seg).size == 2
                else np.nan
            )
            rows.append(
                {
                    "segment": column,
                    "value": str(value),
                    "n": int(mask.sum()),
                    "positives": int(y_seg.sum()),
                    "positive_rate": float(y_seg.mean()),
                    "mean_probability": float(p_seg.mean()),
                    "roc_auc": auc,
                }
            )
    columns = ["segment", "value", "n", "positives", "positive_rate", "mean_probability", "roc_auc"]
    return pd.DataFrame(rows, columns=columns).sort_values(["segment", "value"], ignore_index=True)


def threshold_table(
    y_true: Sequence,
    y_prob: Sequence,
    contact_cost: float,
    value_per_positive: float,
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Outcome of contacting everyone at or above each probability threshold.

    ``realised_profit`` = value_per_positive x positives reached - contact_cost x contacted, on
    the evaluated customers; ``expected_profit`` uses the predicted probabilities instead of the
    labels (what the plan would have promised). Both assume a contacted positive yields
    ``value_per_positive`` (order margin for conversion, retained value for churn).
    """
    y, p = _arrays(y_true, y_prob)
    if thresholds is None:
        thresholds = np.round(np.linspace(0.05, 0.95, 19), 2)
    total_positives = max(int(y.sum()), 1)
    rows = []
    for threshold in thresholds:
        chosen = p >= threshold
        contacted = int(chosen.sum())
        reached = int(y[chosen].sum())
        rows.append(
            {
                "threshold": float(threshold),
                "contacted": contacted,
                "share_contacted": contacted / len(y),
                "positives_reached": reached,
                "precision": reached / contacted if contacted else np.nan,
                "recall": reached / total_positives,
                "realised_profit": value_per_positive * reached - contact_cost * contacted,
                "expected_profit": float(
                    (value_per_positive * p[chosen]).sum() - contact_cost * contacted
                ),
            }
        )
    return pd.DataFrame(rows)


def break_even_probability(contact_cost: float, value_per_positive: float) -> float:
    """Probability above which contacting a customer pays on average (cost / value)."""
    if value_per_positive <= 0:
        raise ValueError(f"value_per_positive {value_per_positive}: must be > 0")
    return float(contact_cost / value_per_positive)
