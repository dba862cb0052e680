"""Value metrics: aggregate error, ranking (normalised Gini, Spearman), deciles and gains.

May import numpy, pandas and scipy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats


def _arrays(realised: Sequence[float], predicted: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(realised, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if y.shape != p.shape or y.ndim != 1 or len(y) == 0:
        raise ValueError(f"realised {y.shape} and predicted {p.shape}: need two equal 1-d arrays")
    if not np.isfinite(p).all():
        raise ValueError("predicted: values must be finite")
    return y, p


def aggregate_error(realised: Sequence[float], predicted: Sequence[float]) -> float:
    """(predicted total - realised total) / realised total."""
    y, p = _arrays(realised, predicted)
    return float((p.sum() - y.sum()) / y.sum())


def _gini(y: np.ndarray, order_by: np.ndarray) -> float:
    order = np.lexsort((np.arange(len(y)), -order_by))
    cum = np.cumsum(y[order]) / y.sum()
    n = len(y)
    return float(cum.sum() / n - (n + 1) / (2 * n))


def gini_normalised(realised: Sequence[float], predicted: Sequence[float]) -> float:
    """Gini of the realised value ranked by the prediction over the Gini of the perfect rank."""
    y, p = _arrays(realised, predicted)
    perfect = _gini(y, y)
    return float(_gini(y, p) / perfect) if perfect > 0 else float("nan")


def spearman(realised: Sequence[float], predicted: Sequence[float]) -> float:
    """Spearman rank correlation of prediction and realised value."""
    y, p = _arrays(realised, predicted)
    return float(stats.spearmanr(y, p).statistic)


def value_deciles(predicted: Sequence[float], n_groups: int = 10) -> np.ndarray:
    """Decile 1 (highest predicted value) .. 10, equal-sized by rank."""
    p = np.asarray(predicted, dtype=float)
    ranks = np.argsort(np.argsort(-p, kind="stable"), kind="stable")
    return (ranks * n_groups // len(p) + 1).astype(int)


def decile_table(realised: Sequence[float], predicted: Sequence[float]) -> pd.DataFrame:
    """Per predicted-value decile: customers, mean predicted and mean realised value."""
    y, p = _arrays(realised, predicted)
    frame = pd.DataFrame({"decile": value_deciles(p), "predicted": p, "realised": y})
    table = frame.groupby("decile").agg(
        customers=("predicted", "size"),
        mean_predicted=("predicted", "mean"),
        mean_realised=("realised", "mean"),
    )
    table["share_of_value"] = frame.groupby("decile")["realised"].sum() / y.sum()
    return table.reset_index()


def top_decile_capture(realised: Sequence[float], predicted: Sequence[float]) -> float:
    """Share of the realised value held by the 10% with the highest prediction."""
    y, p = _arrays(realised, predicted)
    top = value_deciles(p) == 1
    return float(y[top].sum() / y.sum())


def gains_curve(realised: Sequence[float], predicted: Sequence[float]) -> pd.DataFrame:
    """Cumulative share of value against share of customers, ranked by the prediction."""
    y, p = _arrays(realised, predicted)
    order = np.lexsort((np.arange(len(y)), -p))
    share_customers = np.arange(1, len(y) + 1) / len(y)
    share_value = np.cumsum(y[order]) / y.sum()
    return pd.DataFrame({"share_customers": share_customers, "share_value": share_value})


def gini_share_interval(
    realised: Sequence[float],
    predicted: Sequence[float],
    reference: Sequence[float],
    samples: int = 200,
    seed: int = 0,
) -> tuple[float, float]:
    """95% bootstrap interval (customers resampled) of the Gini of ``predicted`` over that of
    ``reference`` (the oracle): is a shortfall against a bar more than noise?"""
    y, p = _arrays(realised, predicted)
    _, o = _arrays(realised, reference)
    result = stats.bootstrap(
        (y, p, o),
        lambda y, p, o: gini_normalised(y, p) / gini_normalised(y, o),
        paired=True, vectorized=False, n_resamples=samples, method="percentile",
        random_state=np.random.default_rng(seed),
    )  # fmt: skip
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


def value_metrics(
    realised: Sequence[float],
    predicted: Sequence[float],
    realised_count: Sequence[float] | None = None,
    predicted_count: Sequence[float] | None = None,
) -> dict[str, float | None]:
    """Every headline metric of one prediction."""
    count_error = None
    if realised_count is not None and predicted_count is not None:
        count_error = aggregate_error(realised_count, predicted_count)
    return {
        "value_error": aggregate_error(realised, predicted),
        "count_error": count_error,
        "gini_normalised": gini_normalised(realised, predicted),
        "spearman": spearman(realised, predicted),
        "top_decile_capture": top_decile_capture(realised, predicted),
    }
