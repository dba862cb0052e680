"""Figures of the actions study: Qini curves, uplift by decile, the policy, truth recovery.

May import matplotlib, numpy, pandas and ``features.actions.evaluation``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from features.actions.evaluation import qini_curve

DECILES = 10


def plot_qini(scores: Mapping[str, np.ndarray], treated: np.ndarray, outcome: np.ndarray) -> Figure:
    """Incremental successes against the share contacted, per ranking, with random targeting."""
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    n = len(treated)
    share = np.arange(n + 1) / n
    for name, score in scores.items():
        style = {"color": "k", "ls": ":"} if name == "oracle" else {}
        ax.plot(share, qini_curve(score, treated, outcome), label=name, **style)
    end = qini_curve(np.zeros(n), treated, outcome)[-1]
    ax.plot([0, 1], [0, end], color="grey", lw=0.8, label="random")
    ax.set(xlabel="share of customers contacted (ranked by score)",
           ylabel="incremental successes (test part)", title="Qini curves")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def uplift_by_decile(score: np.ndarray, treated: np.ndarray, outcome: np.ndarray,
                     truth: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    """Per decile of the estimated effect: mean estimate, observed uplift, true mean effect."""
    order = np.argsort(-score, kind="stable")
    decile = np.empty(len(score), dtype=int)
    decile[order] = np.arange(len(score)) * DECILES // len(score) + 1
    rows = []
    for d in range(1, DECILES + 1):
        sel = decile == d
        t, y = treated[sel] == 1, outcome[sel]
        observed = y[t].mean() - y[~t].mean() if t.any() and (~t).any() else np.nan
        rows.append({"decile": d, "customers": int(sel.sum()),
                     "mean_estimated": float(score[sel].mean()), "observed_uplift": float(observed),
                     "true_uplift": float(truth[sel].mean()) if truth is not None else np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def plot_deciles(table: pd.DataFrame) -> Figure:
    """Estimated vs observed (and true) uplift per decile of the estimate."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    x = table["decile"].to_numpy()
    ax.bar(x - 0.27, table["mean_estimated"], width=0.27, label="estimated")
    ax.bar(x, table["observed_uplift"], width=0.27, label="observed (contacted - not)")
    if table["true_uplift"].notna().any():
        ax.bar(x + 0.27, table["true_uplift"], width=0.27, label="true (synthetic)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="decile of estimated uplift (1 = highest)", ylabel="effect on P(success)",
           title="Uplift by decile: the bottom deciles are the sleeping dogs", xticks=x)  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_policy(policy: pd.DataFrame) -> Figure:
    """Incremental successes per 1,000 contacts, per policy (estimated on the test part)."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    y = np.arange(len(policy))
    ax.barh(y - 0.2, policy["incremental_per_1000"], height=0.4, label="measured on test")
    if policy["true_incremental_per_1000"].notna().any():
        ax.barh(y + 0.2, policy["true_incremental_per_1000"].astype(float), height=0.4,
                label="true (synthetic)")  # fmt: skip
    ax.set_yticks(y, policy["policy"])
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.8)
    share = float(policy["contacted_share"].iloc[0])
    ax.set(xlabel="incremental successes per 1,000 contacts",
           title=f"Policies at the budget's share ({share:.0%} contacted)")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_truth(estimated: np.ndarray, truth: np.ndarray) -> Figure:
    """Estimated against true individual effect (synthetic data), with the diagonal."""
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.scatter(truth, estimated, s=4, alpha=0.3)
    lo, hi = float(min(truth.min(), estimated.min())), float(max(truth.max(), estimated.max()))
    ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
    corr = float(np.corrcoef(truth, estimated)[0, 1]) if len(truth) > 2 else float("nan")
    ax.set(xlabel="true effect", ylabel="estimated effect",
           title=f"Truth recovery (correlation {corr:.2f})")  # fmt: skip
    fig.tight_layout()
    return fig
