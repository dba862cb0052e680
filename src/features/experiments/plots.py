"""Figures of the A/B test study: A/A rates, power, p-values, CUPED, estimates vs truth,
sequential paths and the day's decisions.

May import matplotlib, numpy and pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

METHOD_COLORS = {"fixed": "#4c72b0", "cuped": "#55a868", "sequential": "#8172b2",
                 "peeking": "#c44e52"}  # fmt: skip
DECISION_COLORS = {"ship": "#55a868", "no ship": "#8c8c8c", "inconclusive": "#dd8452",
                   "guardrail breach": "#c44e52"}  # fmt: skip


def plot_aa(aa: pd.DataFrame, alpha: float) -> Figure:
    """A/A false-positive rate per method and metric, with the band a valid test falls in."""
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    methods = [m for m in METHOD_COLORS if aa[m].notna().any()]
    width = 0.8 / len(methods)
    x = np.arange(len(aa))
    for i, method in enumerate(methods):
        ax.bar(x + i * width - 0.4 + width / 2, aa[method], width, label=method,
               color=METHOD_COLORS[method])  # fmt: skip
    ax.axhspan(aa["alpha_low"].min(), aa["alpha_high"].max(), color="#999999", alpha=0.25,
               label=f"95% binomial band around α = {alpha:g}")  # fmt: skip
    ax.axhline(alpha, color="black", lw=1)
    ax.set_xticks(x, aa["metric"])
    ax.set_ylabel("false-positive rate (no true effect)")
    ax.set_title(f"A/A checks: {int(aa['n_simulations'].iloc[0]):,} random splits per metric")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_power(results: pd.DataFrame, design: pd.DataFrame, alpha: float) -> Figure | None:
    """Detected share of the planted effects vs the design's promised power (synthetic)."""
    from features.experiments.stats import power_at

    real = results[(results["role"] == "primary") & (results["true_effect"] != 0)
                   & (results["fault"] == "")]  # fmt: skip
    if real.empty:
        return None
    metrics = list(design["metric"])
    fig = Figure(figsize=(4.2 * len(metrics), 3.8))
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics, strict=True):
        r = real[real["metric"] == metric]
        d = design.set_index("metric").loc[metric]
        n_arm = float(((r["n_c"] + r["n_t"]) / 2).median())
        lifts = np.linspace(0, max(r["true_lift"].max(), 0.01) * 1.1, 60)
        ax.plot(lifts, power_at(lifts * d["control_mean"], d["sd"], n_arm, alpha),
                color="black", label="promised (design)")  # fmt: skip
        bins = pd.qcut(
            r["true_lift"], q=min(5, max(r["true_lift"].nunique(), 1)), duplicates="drop"
        )
        for column, color, label in (
            ("p_value", "#4c72b0", "detected"),
            ("cuped_p_value", "#55a868", "detected with CUPED"),
        ):
            hit = r[column] < alpha
            grouped = hit.groupby(bins, observed=True).mean()
            centres = r["true_lift"].groupby(bins, observed=True).mean()
            ax.plot(centres, grouped, "o", color=color, label=label)
        ax.set_title(f"{metric}: {n_arm:,.0f} units per arm")
        ax.set_xlabel("true relative lift")
        ax.set_ylabel("power")
        ax.set_ylim(0, 1.05)
        ax.xaxis.set_major_formatter("{x:.0%}")
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_pvalues(results: pd.DataFrame, alpha: float) -> Figure:
    """Histogram of the decision metrics' p-values: flat under no effect, a spike of real ones."""
    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    primary = results[results["role"] == "primary"]
    bins = np.linspace(0, 1, 41)
    found = primary["discovery"].astype(bool)
    ax.hist([primary.loc[found, "p_decision"], primary.loc[~found, "p_decision"]], bins=bins,
            stacked=True, color=["#55a868", "#bbbbbb"],
            label=["discovery (Benjamini–Hochberg)", "not a discovery"])  # fmt: skip
    ax.axhline(len(primary) / (len(bins) - 1) * (1 - found.mean()), color="black", lw=1, ls="--",
               label="level of p-values with no effect")  # fmt: skip
    ax.set_xlabel("p-value used for the decision")
    ax.set_ylabel("tests")
    ax.set_title(f"{len(primary):,} decision-metric tests of the day, FDR target {alpha:g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_cuped(results: pd.DataFrame) -> Figure:
    """Interval half-width without vs with CUPED, per metric (points under the line: gain)."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    for metric, r in results.groupby("metric", sort=False):
        plain, cuped = r["se"] / r["mean_c"].abs(), r["cuped_se"] / r["mean_c"].abs()
        ax.scatter(plain, cuped, s=12, label=f"{metric} (median cut "
                   f"{r['variance_reduction'].median():.0%})")  # fmt: skip
    top = float(np.nanmax((results["se"] / results["mean_c"].abs()).replace(np.inf, np.nan)))
    ax.plot([0, top], [0, top], color="black", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("standard error / control mean, plain")
    ax.set_ylabel("with CUPED")
    ax.set_title("CUPED: variance cut where the pre-period correlates")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_estimates(results: pd.DataFrame) -> Figure | None:
    """Estimated vs true lift per decision metric, with the CUPED 95% interval (synthetic)."""
    primary = results[results["role"] == "primary"]
    if "true_lift" not in primary or primary["true_lift"].isna().all():
        return None
    metrics = list(primary["metric"].unique())
    fig = Figure(figsize=(4.2 * len(metrics), 4))
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics, strict=True):
        r = primary[primary["metric"] == metric]
        mean = r["mean_c"].abs()
        err = np.vstack([(r["cuped_effect"] - r["cuped_ci_low"]) / mean,
                         (r["cuped_ci_high"] - r["cuped_effect"]) / mean])  # fmt: skip
        colors = np.where(
            r["fault"] != "", "#c44e52", np.where(r["discovery"], "#55a868", "#8c8c8c")
        )
        ax.errorbar(r["true_lift"], r["cuped_lift"], yerr=err, fmt="none", ecolor="#cccccc", lw=0.8)
        ax.scatter(r["true_lift"], r["cuped_lift"], c=colors, s=14, zorder=3)
        lo, hi = float(r["true_lift"].min()), float(r["true_lift"].max())
        ax.plot([lo, hi], [lo, hi], color="black", lw=1)
        ax.set_title(f"{metric}: green = discovery, red = planted fault", fontsize=10)
        ax.set_xlabel("true lift")
        ax.set_ylabel("estimated lift (CUPED)")
        ax.xaxis.set_major_formatter("{x:.0%}")
        ax.yaxis.set_major_formatter("{x:.0%}")
    fig.tight_layout()
    return fig


def plot_paths(paths: dict[str, pd.DataFrame], results: pd.DataFrame, alpha: float,
               n_shown: int = 6) -> Figure | None:  # fmt: skip
    """Always-valid p-values day by day: the strongest experiments and the borderline ones
    (fixed-horizon p-value near alpha)."""
    primary = [m for m in paths if m in set(results.loc[results["role"] == "primary", "metric"])]
    if not primary:
        return None
    metric = primary[-1]
    p = paths[metric]
    r = results[results["metric"] == metric].set_index("experiment_id")
    fixed_p = r["cuped_p_value"].reindex(p.index)
    shown = fixed_p.nsmallest(n_shown // 2).index.tolist()  # the strongest, and the borderline
    borderline = (np.log(fixed_p) - np.log(alpha)).abs().drop(shown, errors="ignore")
    shown += borderline.nsmallest(n_shown - len(shown)).index.tolist()
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    days = np.arange(1, p.shape[1] + 1)
    for exp in shown:
        ax.plot(days, p.loc[exp].clip(lower=1e-8), marker=".", label=str(exp))
    ax.axhline(alpha, color="black", lw=1, ls="--", label=f"α = {alpha:g}")
    ax.set_yscale("log")
    ax.set_xlabel("day of the test (look)")
    ax.set_ylabel("always-valid p-value (mSPRT)")
    ax.set_title(f"Sequential monitoring of {metric}: stop the first day a path crosses α")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_decisions(decisions: pd.DataFrame) -> Figure:
    """The day's decisions, beside the oracle's (the true effects) on synthetic data."""
    fig = Figure(figsize=(7, 3.4))
    ax = fig.subplots()
    order = list(DECISION_COLORS)
    columns = [c for c in ("decision", "oracle_decision") if c in decisions]
    counts = pd.DataFrame({c: decisions[c].value_counts().reindex(order, fill_value=0)
                           for c in columns})  # fmt: skip
    y = np.arange(len(columns))
    left = np.zeros(len(columns))
    for name in order:
        values = counts.loc[name].to_numpy()
        ax.barh(y, values, left=left, color=DECISION_COLORS[name], label=name)
        for yi, (lo, v) in enumerate(zip(left, values, strict=True)):
            if v:
                ax.text(lo + v / 2, yi, str(int(v)), ha="center", va="center", color="white")
        left = left + values
    ax.set_yticks(y, ["the lab's read", "with the true effects"][: len(columns)])
    ax.set_xlabel("experiments")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.invert_yaxis()
    fig.tight_layout()
    return fig
