"""Figures of the voice study with Chinese labels: topics, confusion, calibration, heat maps.

Chinese text needs a CJK font: ``cjk_font`` finds an installed one (Noto Sans CJK, Source Han
Sans, WenQuanYi, ...; Debian's fonts-noto-cjk, which ``make fonts`` installs) and every
figure here uses it, so labels never turn into empty boxes.

May import matplotlib, numpy, pandas and the ``features.voice`` modules.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from features.voice.topics import TopicModel

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei")  # fmt: skip


class MissingCJKFont(RuntimeError):
    """No font with Chinese glyphs is installed."""


@cache
def cjk_font() -> str:
    """The family name of an installed CJK font (first of ``CJK_FAMILIES`` found)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    font_manager.fontManager.__init__()  # a font installed after matplotlib built its cache
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise MissingCJKFont("no CJK font installed (rule: Chinese labels need one; run `make fonts`, "
                         "which installs Debian's fonts-noto-cjk)")  # fmt: skip


def _figure(width: float, height: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    return fig, ax


def _cjk(ax) -> None:
    family = cjk_font()
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_fontfamily(family)


def plot_topics(topics: TopicModel, names: list[str]) -> Figure:
    """Each topic's top words (Chinese) by weight, one panel per topic."""
    k = len(topics.top_words)
    cols = 3
    rows = int(np.ceil(k / cols))
    fig = Figure(figsize=(4 * cols, 2.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    vocab = list(topics.vectorizer.get_feature_names_out())
    family = cjk_font()
    for i, ax in enumerate(axes):
        if i >= k:
            ax.set_visible(False)
            continue
        words = topics.top_words[i][:6]
        weights = [topics.nmf.components_[i][vocab.index(w)] for w in words]
        ax.barh(range(len(words)), weights, color="#4c72b0")
        ax.set_yticks(range(len(words)), words, fontfamily=family)
        ax.invert_yaxis()
        ax.set_title(f"topic {i}: {names[i]}", fontsize=9, fontfamily=family)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle("Aspects found in the comments (NMF topics, top words)")
    fig.tight_layout()
    return fig


def plot_confusion(table: pd.DataFrame) -> Figure:
    """Counts of true vs predicted sentiment on the test part."""
    fig, ax = _figure(4.5, 3.8)
    values = table.to_numpy()
    ax.imshow(values, cmap="Blues")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:,}", ha="center", va="center",
                color="white" if v > values.max() / 2 else "black")  # fmt: skip
    ax.set_xticks(range(values.shape[1]), table.columns)
    ax.set_yticks(range(values.shape[0]), table.index)
    ax.set_title("Sentiment: confusion matrix (test part)")
    fig.tight_layout()
    return fig


def plot_calibration(table: pd.DataFrame) -> Figure:
    """Observed positive share against mean predicted P(positive), per bin."""
    fig, ax = _figure(4.5, 4.2)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.plot(table["mean_predicted"], table["observed_positive"], "o-")
    ax.set(xlabel="predicted P(positive)", ylabel="observed share positive",
           title="Sentiment calibration (test part)")  # fmt: skip
    fig.tight_layout()
    return fig


def plot_heatmap(table: pd.DataFrame, title: str) -> Figure:
    """Share of comments per aspect (columns) for each row group."""
    fig, ax = _figure(1.2 * table.shape[1] + 3, 0.5 * table.shape[0] + 2)
    image = ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, f"{v:.0%}", ha="center", va="center", color="white", fontsize=8)
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=30,
                  ha="right")  # fmt: skip
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    _cjk(ax)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig
