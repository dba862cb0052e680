"""Figures of the identity study: scores across thresholds, match weights, person sizes,
the "asked twice" rate and the spread of match probabilities.

May import matplotlib, numpy and pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def plot_threshold_curve(curve: pd.DataFrame, threshold: float, baseline_f1: float | None
                         ) -> Figure:  # fmt: skip
    """Pairwise precision, recall and F1 after clustering at each threshold."""
    fig = Figure(figsize=(8, 4.2))
    ax = fig.subplots()
    for key, color in (("pairwise_precision", "#4c72b0"), ("pairwise_recall", "#dd8452"),
                       ("pairwise_f1", "#55a868"), ("cluster_f1", "#8172b2")):  # fmt: skip
        ax.plot(curve["threshold"], curve[key], marker="o", ms=3, color=color,
                label=key.replace("_", " "))  # fmt: skip
    ax.axvline(threshold, color="black", lw=1, ls=":", label=f"match_threshold {threshold:g}")
    if baseline_f1 is not None:
        ax.axhline(baseline_f1, color="#c44e52", lw=1, ls="--",
                   label=f"exact-rule baseline F1 {baseline_f1:.3f}")  # fmt: skip
    ax.set_xscale("logit")
    ticks = [0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("match probability threshold (logit scale)")
    ax.set_ylabel("score against the true persons")
    ax.set_title("Precision, recall and F1 across thresholds")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def plot_match_weights(weights: pd.DataFrame) -> Figure:
    """Each comparison level's match weight (log2 Bayes factor): what agreement is worth."""
    w = weights.dropna(subset=["match_weight"]).iloc[::-1]
    fig = Figure(figsize=(8, 0.3 * len(w) + 1.2))
    ax = fig.subplots()
    comparisons = list(dict.fromkeys(weights["comparison"]))
    palette = dict(zip(comparisons, [f"C{i}" for i in range(len(comparisons))], strict=True))
    ax.barh(np.arange(len(w)), w["match_weight"].clip(-15, 20),
            color=w["comparison"].map(palette))  # fmt: skip
    ax.set_yticks(np.arange(len(w)), [f"{c}: {lv}" for c, lv in zip(w["comparison"], w["level"],
                                                                     strict=True)], fontsize=8)  # fmt: skip
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("match weight (bits of evidence for the same person; clipped at -15)")
    ax.set_title("What each field's agreement is worth (trained without labels)")
    fig.tight_layout()
    return fig


def plot_cluster_sizes(found: np.ndarray, true: np.ndarray | None) -> Figure:
    """How many persons hold 1, 2, ... records: found and (synthetic) true."""
    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    top = 6

    def counts(labels):
        sizes = pd.Series(labels).value_counts().clip(upper=top)
        return sizes.value_counts().reindex(range(1, top + 1), fill_value=0)

    x = np.arange(1, top + 1)
    ax.bar(x - 0.2, counts(found), 0.4, label="found", color="#4c72b0")
    if true is not None:
        ax.bar(x + 0.2, counts(true[pd.notna(true)]), 0.4, label="true", color="#999999")
    ax.set_xticks(x, [*map(str, range(1, top)), f"{top}+"])
    ax.set_xlabel("records per person")
    ax.set_ylabel("persons")
    ax.set_title("Persons by number of records")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_asked_twice(before: float, after: float | None, plan: float) -> Figure:
    """Share of persons asked for the same field by two channels, before and after One-ID."""
    fig = Figure(figsize=(6, 3.4))
    ax = fig.subplots()
    labels, values = (
        ["separate systems", "with One-ID"],
        [before, after if after is not None else np.nan],
    )
    bars = ax.bar(labels, values, color=["#c44e52", "#55a868"])
    for bar, v in zip(bars, values, strict=True):
        if v == v:
            ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.1%}", ha="center", va="bottom")
    ax.axhline(plan, color="black", ls="--", lw=1, label=f"plans' figure {plan:.1%}")
    ax.set_ylim(0, max(before, plan) * 1.25)
    ax.set_ylabel("persons asked twice for a field")
    ax.set_title("Asked again for what they already gave")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_probabilities(pairs: pd.DataFrame, threshold: float, entity: np.ndarray | None
                       ) -> Figure:  # fmt: skip
    """Candidate pairs by match weight, true and false matches apart where known."""
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    weight = pairs["match_weight"].clip(-10, 30)
    bins = np.linspace(-10, 30, 61)
    if entity is not None:
        same = entity[pairs["unique_id_l"].to_numpy()] == entity[pairs["unique_id_r"].to_numpy()]
        ax.hist(weight[same], bins=bins, color="#55a868", alpha=0.7, label="same person (truth)")
        ax.hist(weight[~same], bins=bins, color="#c44e52", alpha=0.7, label="different persons")
    else:
        ax.hist(weight, bins=bins, color="#4c72b0")
    cut = np.log2(threshold / (1 - threshold))
    ax.axvline(cut, color="black", ls=":", label=f"threshold {threshold:g}")
    ax.set_yscale("log")
    ax.set_xlabel("match weight of a candidate pair")
    ax.set_ylabel("pairs")
    ax.set_title("Candidate pairs: the two humps the model separates")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
