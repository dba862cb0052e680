"""Figures of the channels study: credit by method, removal effects, contributions over time,
response curves and the budget.

May import matplotlib, numpy and pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

METHOD_LABELS = {"first_touch": "first touch", "last_touch": "last touch", "linear": "linear",
                 "time_decay": "time decay", "position_based": "position (40/20/40)",
                 "markov": "Markov removal", "shapley": "Shapley", "truth": "truth"}  # fmt: skip


def plot_credit(shares: pd.DataFrame, mae: dict[str, float]) -> Figure:
    """Share of conversions per channel by method, side by side (truth in black)."""
    order = shares.sort_values(shares.columns[0], ascending=False).index
    methods = [m for m in shares.columns if m != "truth"]
    cols = methods + (["truth"] if "truth" in shares else [])
    fig = Figure(figsize=(11, 4.8))
    ax = fig.subplots()
    width = 0.85 / len(cols)
    x = np.arange(len(order))
    palette = ["#4c72b0", "#dd8452", "#55a868", "#8172b2", "#937860", "#c44e52", "#64b5cd"]
    for i, m in enumerate(cols):
        label = METHOD_LABELS.get(m, m)
        if m in mae:
            label += f" (MAE {mae[m]:.1f} pp)"
        color = "black" if m == "truth" else palette[i % len(palette)]
        ax.bar(x - 0.425 + (i + 0.5) * width, shares.loc[order, m] * 100, width, label=label,
               color=color)  # fmt: skip
    ax.set_xticks(x, [c.replace("_", " ") for c in order])
    ax.set_ylabel("share of conversions credited (%)")
    title = "Credit per channel by attribution method"
    if "truth" in shares:
        title += " (black: true share of incremental orders)"
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def plot_removal(removal: pd.Series) -> Figure:
    """Markov removal effect per channel: the share of conversions lost without it."""
    r = removal.sort_values()
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.barh([c.replace("_", " ") for c in r.index], r.to_numpy() * 100, color="#c44e52")
    for y, v in enumerate(r.to_numpy()):
        ax.text(v * 100, y, f" {v:.0%}", va="center", fontsize=8)
    ax.set_xlabel("conversions lost if the channel is removed from every path (%)")
    ax.set_title("Markov chain removal effects (first order)")
    fig.tight_layout()
    return fig


def plot_contributions(parts: pd.DataFrame, channels: tuple[str, ...]) -> Figure:
    """Weekly orders: the model's base and channel contributions stacked, observed on top."""
    fig = Figure(figsize=(11, 4.5))
    ax = fig.subplots()
    layers = [parts["base"].clip(lower=0)] + [parts[c] for c in channels]
    ax.stackplot(parts.index, *layers, labels=["base (organic, trend, season)"]
                 + [c.replace("_", " ") for c in channels], alpha=0.85)  # fmt: skip
    ax.plot(parts.index, parts["observed"], color="black", lw=1, label="observed orders")
    ax.set_ylabel("orders per week")
    ax.set_title("Media-mix model: what drove each week's orders")
    ax.legend(fontsize=8, ncol=4, loc="upper left")
    fig.tight_layout()
    return fig


def plot_response_curves(curves: pd.DataFrame, channels: tuple[str, ...]) -> Figure:
    """Orders over the window as a channel's spend is scaled, with today's spend marked."""
    n = len(channels)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4 * cols, 3.3 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, name in zip(axes, channels, strict=False):
        c = curves[curves["channel"] == name]
        spend = c["spend"] / 1e6
        ax.fill_between(spend, c["orders_low"], c["orders_high"], color="#4c72b0", alpha=0.2,
                        label="model, 90% interval")  # fmt: skip
        ax.plot(spend, c["orders"], color="#4c72b0", label="model")
        if "true_orders" in c:
            ax.plot(spend, c["true_orders"], color="black", ls="--", label="truth")
        now = c.loc[c["factor"] == 1.0, "spend"].iloc[0] / 1e6
        ax.axvline(now, color="#c44e52", lw=1, label="today's spend")
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlabel("spend over the window (M CNY)")
        ax.set_ylabel("incremental orders")
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.suptitle("Response curves: diminishing returns per channel")
    fig.tight_layout()
    return fig


def plot_budget(budget: pd.DataFrame) -> Figure:
    """Today's and the recommended spend per paid channel."""
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    x = np.arange(len(budget))
    ax.bar(x - 0.2, budget["current"] / 1e6, 0.4, label="current", color="#8c8c8c")
    ax.bar(x + 0.2, budget["recommended"] / 1e6, 0.4, label="recommended", color="#55a868")
    for i, row in enumerate(budget.itertuples()):
        ax.text(i + 0.2, row.recommended / 1e6, f"{row.change:+.0%}", ha="center",
                va="bottom", fontsize=8)  # fmt: skip
    ax.set_xticks(x, [c.replace("_", " ") for c in budget["channel"]])
    ax.set_ylabel("spend over the window (M CNY)")
    ax.set_title("Budget: same total, moved to where the next yuan buys more orders")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
