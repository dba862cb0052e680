"""Persona figures: k-selection curves, 2-D projection, profile heat map, share bars.

Each function returns a matplotlib Figure and never saves or shows it: the caller decides
(``tracking.log_figure`` saves a PNG and logs it to MLflow).

May import matplotlib, seaborn and ``features.personas.naming`` (trait labels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from features.personas.naming import trait_label


def plot_k_selection(curves: pd.DataFrame, chosen_k: int, method: str) -> Figure:
    """Silhouette, BIC and bootstrap stability against k, with the chosen k marked."""
    has_stability = "stability_ari" in curves and curves["stability_ari"].notna().any()
    panels = 3 if has_stability else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.8))
    axes[0].plot(curves["k"], curves["silhouette"], marker="o", color="tab:blue")
    axes[0].set_title("Silhouette (sample; higher is better)", fontsize=10)
    axes[1].plot(curves["k"], curves["bic"], marker="o", color="tab:orange")
    bic_kind = " (X-means form)" if method == "kmeans" else ""
    axes[1].set_title(f"BIC{bic_kind} (lower is better)", fontsize=10)
    if has_stability:
        axes[2].plot(curves["k"], curves["stability_ari"], marker="o", color="tab:green")
        axes[2].axhline(0.9, color="tab:red", linestyle=":", label="stable from 0.9")
        axes[2].set_title("Bootstrap stability (mean ARI)", fontsize=10)
        axes[2].set_ylim(min(0.0, float(curves["stability_ari"].min())), 1.02)
    for ax in axes:
        ax.axvline(chosen_k, color="grey", linestyle="--", label=f"chosen k = {chosen_k}")
        ax.set_xlabel("number of personas k")
        ax.set_xticks(list(curves["k"]))
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(f"Choosing the number of personas ({method})")
    fig.tight_layout()
    return fig


def plot_projection(
    coordinates: np.ndarray,
    persona_names: Sequence[str],
    explained_variance: Sequence[float] | None = None,
    max_points: int = 5000,
    seed: int = 0,
) -> Figure:
    """Customers on the first two principal components, coloured by persona."""
    coordinates = np.asarray(coordinates)
    names = np.asarray(persona_names, dtype=object)
    if len(coordinates) > max_points:
        keep = np.random.default_rng(seed).choice(len(coordinates), max_points, replace=False)
        coordinates, names = coordinates[keep], names[keep]
    frame = pd.DataFrame({"PC1": coordinates[:, 0], "PC2": coordinates[:, 1], "persona": names})
    fig, ax = plt.subplots(figsize=(8, 6))
    sns.scatterplot(
        data=frame.sort_values("persona"),
        x="PC1",
        y="PC2",
        hue="persona",
        s=8,
        alpha=0.5,
        linewidth=0,
        ax=ax,
    )
    if explained_variance is not None and len(explained_variance) >= 2:
        ax.set_xlabel(f"PC1 ({explained_variance[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({explained_variance[1]:.0%} of variance)")
    ax.set_title("Personas on the first two principal components")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=2)
    fig.tight_layout()
    return fig


def plot_profile_heatmap(
    differences: pd.DataFrame,
    persona_names: Mapping[int, str],
    traits: Sequence[str] | None = None,
    max_traits: int = 25,
) -> Figure:
    """Standardised differences (persona vs population) as a diverging heat map.

    Args:
        differences: personas (rows) × traits, from ``standardised_differences``.
        persona_names: display name per persona id (row label).
        traits: traits to show; default the ``max_traits`` with the largest spread.
    """
    if traits is None:
        spread = differences.abs().max().sort_values(ascending=False)
        traits = list(spread.index[:max_traits])
    shown = differences[list(traits)].copy()
    shown.index = [persona_names.get(p, str(p)) for p in shown.index]
    shown.columns = [trait_label(t) for t in shown.columns]
    limit = float(np.nanmax(np.abs(shown.to_numpy()))) if shown.size else 1.0
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * shown.shape[1] + 3), 0.6 * len(shown) + 2.5))
    sns.heatmap(
        shown,
        cmap="RdBu_r",
        center=0,
        vmin=-limit,
        vmax=limit,
        annot=shown.shape[1] <= 30,
        fmt=".1f",
        annot_kws={"fontsize": 7},
        cbar_kws={"label": "standardised difference vs all customers"},
        ax=ax,
    )
    ax.set_title("What sets each persona apart")
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    plt.setp(ax.get_xticklabels(), ha="right")
    fig.tight_layout()
    return fig


def plot_share_bars(summary: pd.DataFrame, names: Mapping[int, str], seeds: pd.DataFrame) -> Figure:
    """Persona shares (left) and seed-segment shares beside the industry plan figures (right).

    Args:
        summary: ``summarise_personas`` output (persona_id, share).
        names: display name per persona id.
        seeds: ``compare_seed_shares`` output.
    """
    fig, (ax_personas, ax_seeds) = plt.subplots(
        1, 2, figsize=(12, 0.5 * max(len(summary), 3) + 2), gridspec_kw={"width_ratios": [3, 2]}
    )
    ordered = summary.sort_values("share")
    labels = [names.get(int(p), str(p)) for p in ordered["persona_id"]]
    ax_personas.barh(labels, ordered["share"], color="tab:blue")
    for y, share in enumerate(ordered["share"]):
        ax_personas.text(share, y, f" {share:.0%}", va="center", fontsize=8)
    ax_personas.set_xlabel("share of customers")
    ax_personas.set_title("Persona shares")
    ax_personas.set_xlim(0, float(ordered["share"].max()) * 1.2)

    long = seeds.melt(
        id_vars="label",
        value_vars=["seed_share", "attribute_share", "persona_share"],
        var_name="source",
        value_name="share",
    )
    long["source"] = long["source"].map(
        {
            "seed_share": "industry plan figure",
            "attribute_share": "customers with the attribute",
            "persona_share": "customers in matching personas",
        }
    )
    sns.barplot(data=long, y="label", x="share", hue="source", ax=ax_seeds)
    ax_seeds.set_xlabel("share of customers")
    ax_seeds.set_ylabel("")
    ax_seeds.set_title("Seed segments vs this population")
    ax_seeds.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    fig.tight_layout()
    return fig


def plot_truth_confusion(confusion: pd.DataFrame, persona_names: Mapping[int, str]) -> Figure:
    """Row-normalised confusion table of found personas against true personas."""
    shares = confusion.div(confusion.sum(axis=1), axis=0)
    shares.index = [
        persona_names.get(int(p), str(p)) if str(p).isdigit() else str(p) for p in shares.index
    ]
    fig, ax = plt.subplots(figsize=(1.3 * shares.shape[1] + 4, 0.55 * len(shares) + 2))
    sns.heatmap(shares, cmap="Blues", vmin=0, vmax=1, annot=True, fmt=".0%", ax=ax)
    ax.set_xlabel("true persona (simulation)")
    ax.set_ylabel("found persona")
    ax.set_title("Found vs true personas (share of each found persona)")
    fig.tight_layout()
    return fig
