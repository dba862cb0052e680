"""Figures of the monitoring loop: calibration gap per bucket over dates, PSI over dates.

Every function returns a closed matplotlib Figure (nothing pops up in headless runs); show it
in a notebook with ``display(fig)``; ``outputs`` saves it as PNG and logs it to MLflow.

May import matplotlib, pandas and ``features.monitoring`` modules before it (replay, metrics).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from features.monitoring.replay import MONTH_SCORE_NAME, SCORE_NAME
from features.propensity.evaluation import BUCKET_LABELS

BUCKET_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#2e86c1"}


def plot_calibration_gaps(
    buckets: pd.DataFrame,
    margin: float,
    drift_start: str | None = None,
    year_ago: pd.DataFrame | None = None,
) -> Figure:
    """Mean predicted minus realised rate per bucket and date, with the Wilson 95% band.

    The band is the realised rate's interval moved to the gap scale (predicted minus the
    interval's ends); the dotted lines widen it by the alert margin. Without a seasonal
    reference a date alerts when zero lies outside the dotted lines; with one (``year_ago``,
    the same model's gap on the same window a year earlier, drawn as squares) the test is
    whether the gap moved from the year-ago gap by more than both intervals plus the margin.
    """
    fig, axes = plt.subplots(1, len(BUCKET_LABELS), figsize=(13, 4), sharey=True)
    for ax, bucket in zip(axes, BUCKET_LABELS, strict=True):
        part = buckets[buckets["bucket"] == bucket]
        dates = pd.to_datetime(part["as_of"].str[:10])
        colour = BUCKET_COLOURS[bucket]
        low = part["mean_predicted"] - part["ci_high"]
        high = part["mean_predicted"] - part["ci_low"]
        ax.fill_between(dates, low, high, color=colour, alpha=0.18, label="95% interval")
        ax.plot(dates, low - margin, ":", color=colour, lw=1)
        ax.plot(dates, high + margin, ":", color=colour, lw=1, label=f"+/- margin {margin:.2f}")
        ax.plot(dates, part["calibration_gap"], "o-", color=colour, label="gap")
        if year_ago is not None and not year_ago.empty:
            ref = year_ago[year_ago["bucket"] == bucket]
            ax.plot(
                pd.to_datetime(ref["as_of"].str[:10]), ref["calibration_gap"], "s--",
                color="0.45", ms=4, lw=1, label="gap a year earlier",
            )  # fmt: skip
        ax.axhline(0, color="grey", lw=1)
        if drift_start:
            ax.axvline(pd.Timestamp(drift_start), color="black", ls="--", lw=1, label="drift start")
        ax.set_title(f"{bucket} bucket")
        ax.tick_params(axis="x", rotation=45)
    axes[0].set_ylabel("mean predicted - realised rate")
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(
        "Calibration gap per score bucket and as-of date, and the same window a year earlier"
    )
    fig.tight_layout()
    plt.close(fig)
    return fig


N_NAMED_FEATURES = 5


def plot_psi(
    psi: pd.DataFrame,
    threshold: float,
    features: Sequence[str] | None = None,
    month_threshold: float | None = None,
) -> Figure:
    """PSI of the score (thick) and of the top features (thin) per as-of date, with thresholds.

    The score against the training snapshot is solid, against the previous month dashed.
    """
    fig, ax = plt.subplots(figsize=(9, 4.5))
    table = psi.pivot_table(index="as_of", columns="feature", values="psi")
    table.index = pd.to_datetime(table.index)
    shown = [
        c
        for c in (features or table.columns)
        if c in table and c not in (SCORE_NAME, MONTH_SCORE_NAME)
    ]
    # Name only the most shifted features; the others stay as grey context lines.
    named = table[shown].max().sort_values(ascending=False).index[:N_NAMED_FEATURES]
    for name in shown:
        if name in named:
            ax.plot(table.index, table[name], lw=1.0, marker=".", label=name)
        else:
            ax.plot(table.index, table[name], lw=0.6, color="0.75", zorder=1)
    if len(shown) > len(named):
        ax.plot([], [], lw=0.6, color="0.75", label=f"{len(shown) - len(named)} other features")
    if SCORE_NAME in table:
        ax.plot(table.index, table[SCORE_NAME], lw=2.5, color="black", marker="o", label="score")
    if MONTH_SCORE_NAME in table:
        ax.plot(
            table.index, table[MONTH_SCORE_NAME], lw=2.0, ls="--", color="black", marker="s",
            label="score vs previous month",
        )  # fmt: skip
    ax.axhline(threshold, color="red", ls="--", lw=1.2, label=f"PSI {threshold:.2f}")
    if month_threshold is not None:
        ax.axhline(
            month_threshold, color="red", ls=":", lw=1.2,
            label=f"PSI {month_threshold:.2f} (vs previous month)",
        )  # fmt: skip
    ax.set_ylabel("PSI (against the training snapshot)")
    ax.set_title("Population stability: score and each list's top-10 features per as-of date")
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    plt.close(fig)
    return fig
