"""Figures of a propensity model: ROC/PR, calibration, lift/gains, SHAP and score buckets.

Every function returns a closed matplotlib Figure (nothing pops up in headless runs); show it
in a notebook with ``display(fig)`` and save it with ``save_figure``.

May import ``features.io`` and ``features.propensity.explain``; ``shap`` is imported inside
the SHAP plots (slow to import, needed only there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from features.io import atomic_path
from features.propensity.explain import ShapValues, safe_describe

_MODEL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#7f7f7f", "#9467bd")


def _finish(fig: Figure) -> Figure:
    fig.tight_layout()
    plt.close(fig)
    return fig


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return Path(path)


def plot_roc_pr(y_true: Sequence, scores: Mapping[str, Sequence[float]]) -> Figure:
    """ROC and precision-recall curves of several scorers on the same labels."""
    y = np.asarray(y_true)
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.5))
    for colour, (name, score) in zip(_MODEL_COLOURS, scores.items(), strict=False):
        fpr, tpr, _ = roc_curve(y, score)
        precision, recall, _ = precision_recall_curve(y, score)
        ax_roc.plot(fpr, tpr, color=colour, label=name)
        ax_pr.plot(recall, precision, color=colour, label=name)
    ax_roc.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="random")
    ax_pr.axhline(y.mean(), ls="--", color="grey", lw=1, label="base rate")
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax_pr.set(xlabel="recall", ylabel="precision", title="Precision-recall curve")
    for ax in (ax_roc, ax_pr):
        ax.legend(loc="best", fontsize=8)
    return _finish(fig)


def plot_calibration(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """Reliability diagram (mean predicted vs observed rate per bin) of one or more tables."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    for colour, (name, table) in zip(_MODEL_COLOURS, tables.items(), strict=False):
        ax.plot(
            table["mean_probability"], table["observed_rate"], marker="o", color=colour, label=name
        )
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed positive rate",
        title="Calibration on the test part",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left", fontsize=8)
    return _finish(fig)


def plot_lift_gains(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """Decile lift bars (first table) and cumulative gains curves (all tables)."""
    fig, (ax_lift, ax_gain) = plt.subplots(1, 2, figsize=(11, 4.5))
    first_name, first = next(iter(tables.items()))
    ax_lift.bar(first["decile"], first["lift"], color=_MODEL_COLOURS[0])
    ax_lift.axhline(1.0, ls="--", color="grey", lw=1)
    ax_lift.set(
        xlabel="decile (1 = highest scores)",
        ylabel="lift",
        title=f"Decile lift: {first_name}",
        xticks=list(first["decile"]),
    )
    ax_gain.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="random")
    for colour, (name, table) in zip(_MODEL_COLOURS, tables.items(), strict=False):
        x = np.concatenate([[0.0], table["cum_share_customers"].to_numpy()])
        y = np.concatenate([[0.0], table["cum_gain"].to_numpy()])
        ax_gain.plot(x, y, marker="o", ms=3, color=colour, label=name)
    ax_gain.set(
        xlabel="share of customers contacted",
        ylabel="share of positives captured",
        title="Cumulative gains",
    )
    ax_gain.legend(loc="lower right", fontsize=8)
    return _finish(fig)


def plot_score_buckets(table: pd.DataFrame) -> Figure:
    """Realised positive rate per score bucket next to the mean predicted probability."""
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["realised_rate"], width=0.4, label="realised rate", color="#1f77b4")
    ax.bar(x + 0.2, table["mean_probability"], width=0.4, label="mean predicted", color="#aec7e8")
    for xi, (rate, n) in enumerate(zip(table["realised_rate"], table["n"], strict=True)):
        ax.text(xi - 0.2, rate, f"{rate:.0%}\nn={n:,}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(
        x, [f"{b} ({s:.0%})" for b, s in zip(table["bucket"], table["share"], strict=True)]
    )
    ax.set(ylabel="positive rate", title="Score buckets on the test part")
    ax.set_ylim(0, min(1.0, float(table["realised_rate"].max()) * 1.3 + 0.05))
    ax.legend(fontsize=8)
    return _finish(fig)


def numeric_view(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with category columns replaced by their codes (missing stays NaN), for colouring."""
    view = X.copy()
    for name in view.columns:
        if isinstance(view[name].dtype, pd.CategoricalDtype):
            view[name] = view[name].cat.codes.astype("float64").where(view[name].notna())
        else:
            view[name] = view[name].astype("float64")
    return view


def shap_explanation(shap_values: ShapValues, X: pd.DataFrame):
    """A ``shap.Explanation`` over ``X`` (categories as codes) for shap's own plots."""
    import shap  # deferred: slow to import, needed only by the SHAP plots

    return shap.Explanation(
        values=shap_values.values,
        base_values=shap_values.base_values,
        data=numeric_view(X).to_numpy(),
        feature_names=list(X.columns),
    )


def plot_shap_bar(shap_values: ShapValues, X: pd.DataFrame, max_display: int = 15) -> Figure:
    """Global importance: mean |SHAP| per feature (shap's bar plot)."""
    import shap  # deferred: slow to import, needed only by the SHAP plots

    fig, ax = plt.subplots(figsize=(8, 0.35 * max_display + 1.5))
    shap.plots.bar(shap_explanation(shap_values, X), max_display=max_display, ax=ax, show=False)
    ax.set_title("Global importance (mean |SHAP|, log-odds)")
    return _finish(fig)


def plot_shap_beeswarm(shap_values: ShapValues, X: pd.DataFrame, max_display: int = 15) -> Figure:
    """Per-customer SHAP values coloured by feature value (shap's beeswarm plot)."""
    import shap  # deferred: slow to import, needed only by the SHAP plots

    fig, ax = plt.subplots(figsize=(8, 0.35 * max_display + 1.5))
    shap.plots.beeswarm(
        shap_explanation(shap_values, X),
        max_display=max_display,
        ax=ax,
        show=False,
        plot_size=None,
    )
    ax.set_title("SHAP values per customer (colour = feature value)")
    return _finish(fig)


def plot_dependence(
    shap_values: ShapValues, X: pd.DataFrame, features: Sequence[str], max_points: int = 5000
) -> Figure:
    """SHAP value against feature value for each of ``features`` (one panel each)."""
    n = len(features)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.8), squeeze=False)
    rng = np.random.default_rng(0)
    rows = np.arange(len(X))
    if len(rows) > max_points:
        rows = np.sort(rng.choice(rows, max_points, replace=False))
    for ax, name in zip(axes[0], features, strict=True):
        j = list(X.columns).index(name)
        values = X[name].iloc[rows]
        contributions = shap_values.values[rows, j]
        if isinstance(values.dtype, pd.CategoricalDtype):
            labels = values.astype("object").where(values.notna(), "(missing)").astype(str)
            order = sorted(labels.unique())
            position = labels.map({v: i for i, v in enumerate(order)}).to_numpy(dtype=float)
            jitter = rng.uniform(-0.25, 0.25, len(position))
            ax.scatter(position + jitter, contributions, s=4, alpha=0.4)
            ax.set_xticks(range(len(order)), order, rotation=45, ha="right", fontsize=7)
        else:
            x = values.to_numpy(dtype="float64")
            present = ~np.isnan(x)
            ax.scatter(x[present], contributions[present], s=4, alpha=0.4)
            if (~present).any():
                ax.set_title(f"{(~present).sum():,} missing not shown", fontsize=7, loc="right")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel(safe_describe(name)[:60], fontsize=8)
        ax.set_ylabel("SHAP value (log-odds)")
    fig.suptitle("Dependence of the top features")
    return _finish(fig)
