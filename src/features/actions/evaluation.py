"""How well a ranking finds the customers a contact changes: Qini, AUUC, uplift@k, checks.

Curves follow Radcliffe (2007) as implemented in scikit-uplift (``qini_curve``,
``uplift_curve``), written here in numpy because that package is no longer maintained:

- Qini curve at the top ``k`` rows of the ranking: ``Y_t(k) - Y_c(k) * N_t(k) / N_c(k)``,
  the incremental successes had those ``k`` been contacted (counts of successes ``Y`` and rows
  ``N`` among contacted ``t`` and not contacted ``c``).
- uplift curve: ``(Y_t(k) / N_t(k) - Y_c(k) / N_c(k)) * k``.
- ``qini`` (normalised Qini coefficient) and ``auuc``: the area between the curve and the
  random-targeting diagonal, divided by the same area of the perfect ranking (successes of
  the contacted first, successes of the others last); random targeting scores 0 by
  construction. An oracle ranking (true effects) scores below 1: the perfect ranking orders
  by realised outcomes, which no ranking can know.

May import numpy, pandas, scipy and the foundation modules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

TOP_SHARES = (0.1, 0.2, 0.3)
BOOTSTRAP_SAMPLES = 200


def _cumulative(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray):
    order = np.argsort(-score, kind="stable")
    t = treated[order].astype(float)
    y = outcome[order].astype(float)
    return np.cumsum(t), np.cumsum(1 - t), np.cumsum(y * t), np.cumsum(y * (1 - t))


def qini_curve(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Incremental successes among the top k rows, k = 0..n (first value 0)."""
    nt, nc, yt, yc = _cumulative(score, treated, outcome)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = yt - np.where(nc > 0, yc * nt / nc, 0.0)
    return np.concatenate([[0.0], q])


def uplift_curve(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Rate difference among the top k rows times k, k = 0..n (first value 0)."""
    nt, nc, yt, yc = _cumulative(score, treated, outcome)
    k = np.arange(1, len(score) + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(nt > 0, yt / nt, 0.0) - np.where(nc > 0, yc / nc, 0.0)
    return np.concatenate([[0.0], rate * k])


def _perfect_score(treated: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    # contacted successes first, then the failures, then the others' successes last
    return np.where(treated == 1, outcome, -outcome).astype(float)


def _area_over_random(curve: np.ndarray) -> float:
    n = len(curve) - 1
    diagonal = np.linspace(0.0, curve[-1], n + 1)
    return float(np.trapezoid(curve - diagonal) / n)


def qini_coefficient(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> float:
    """Normalised Qini coefficient (0 for random targeting; see the module docstring)."""
    best = _area_over_random(qini_curve(_perfect_score(treated, outcome), treated, outcome))
    return _area_over_random(qini_curve(score, treated, outcome)) / best if best else float("nan")


def auuc(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> float:
    """Normalised area under the uplift curve (0 for random targeting)."""
    best = _area_over_random(uplift_curve(_perfect_score(treated, outcome), treated, outcome))
    return _area_over_random(uplift_curve(score, treated, outcome)) / best if best else float("nan")


def uplift_at(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray, share: float) -> float:
    """Success rate of the contacted minus the others' among the top ``share`` of the ranking."""
    k = max(int(round(share * len(score))), 1)
    top = np.argsort(-score, kind="stable")[:k]
    t, y = treated[top] == 1, outcome[top]
    if t.all() or not t.any():
        return float("nan")
    return float(y[t].mean() - y[~t].mean())


def ranking_metrics(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray) -> dict:
    """Qini, AUUC and uplift at the top 10/20/30% of one ranking."""
    out = {"qini": qini_coefficient(score, treated, outcome), "auuc": auuc(score, treated, outcome)}
    for share in TOP_SHARES:
        out[f"uplift_at_{int(share * 100)}pct"] = uplift_at(score, treated, outcome, share)
    return out


def bootstrap_qini_difference(
    a: np.ndarray, b: np.ndarray, treated: np.ndarray, outcome: np.ndarray, seed: int,
    samples: int = BOOTSTRAP_SAMPLES,
) -> tuple[float, float, float]:  # fmt: skip
    """Qini of ranking ``a`` minus that of ``b`` and its 95% bootstrap interval (rows resampled)."""
    rng = np.random.default_rng(seed)
    n = len(a)
    diffs = []
    for _ in range(samples):
        i = rng.integers(0, n, n)
        diffs.append(qini_coefficient(a[i], treated[i], outcome[i])
                     - qini_coefficient(b[i], treated[i], outcome[i]))  # fmt: skip
    point = qini_coefficient(a, treated, outcome) - qini_coefficient(b, treated, outcome)
    low, high = np.nanpercentile(diffs, [2.5, 97.5])
    return float(point), float(low), float(high)


def pehe(estimated: np.ndarray, true_effect: np.ndarray) -> float:
    """Precision in estimating heterogeneous effects: RMSE of the estimated effects."""
    return float(np.sqrt(np.mean((np.asarray(estimated) - np.asarray(true_effect)) ** 2)))


def sample_ratio_test(treated: np.ndarray, expected_share: float = 0.5) -> dict:
    """Chi-square test of the contacted share against the design's share (sample-ratio check)."""
    n1 = int(np.sum(treated == 1))
    n = len(treated)
    expected = [n * expected_share, n * (1 - expected_share)]
    p = float(stats.chisquare([n1, n - n1], expected).pvalue)
    return {"n_treated": n1, "n_control": n - n1, "treated_share": n1 / n if n else float("nan"),
            "expected_share": expected_share, "p_value": p}  # fmt: skip


def balance_table(features: pd.DataFrame, treated: np.ndarray, max_rows: int = 15) -> pd.DataFrame:
    """Mean of each numeric feature by arm and the standardised difference (|d| < 0.1: balanced).

    The features with the largest imbalance first; a randomised campaign shows none above 0.1.
    """
    t = np.asarray(treated) == 1
    rows = []
    for name in features.columns:
        col = features[name]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        a, b = col[t].astype(float).dropna(), col[~t].astype(float).dropna()
        if len(a) < 2 or len(b) < 2:
            continue
        sd = np.sqrt((a.var() + b.var()) / 2)
        diff = (a.mean() - b.mean()) / sd if sd > 0 else 0.0
        rows.append({"feature": str(name), "mean_contacted": float(a.mean()),
                     "mean_not_contacted": float(b.mean()), "std_difference": float(diff)})  # fmt: skip
    table = pd.DataFrame(rows, columns=["feature", "mean_contacted", "mean_not_contacted",
                                        "std_difference"])  # fmt: skip
    order = table["std_difference"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].head(max_rows).reset_index(drop=True)
