"""Figures of the value study: deciles, gains, stream mix per persona, value x churn risk.

May import matplotlib, pandas and ``features.value.evaluation``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from features.value.evaluation import decile_table, gains_curve

PLAN_SHARES = {"purchase": 0.35, "usage": 0.45, "vas": 0.15, "social": 0.05}


def plot_deciles(realised: Sequence[float], predicted: Sequence[float]) -> Figure:
    """Mean predicted and mean realised value per predicted-value decile."""
    table = decile_table(realised, predicted)
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    x = table["decile"].to_numpy()
    ax.bar(x - 0.2, table["mean_predicted"], width=0.4, label="predicted")
    ax.bar(x + 0.2, table["mean_realised"], width=0.4, label="realised")
    ax.set(xlabel="predicted-value decile (1 = highest)", ylabel="mean value (CNY)",
           title="Predicted vs realised value by decile", xticks=x)  # fmt: skip
    ax.legend()
    fig.tight_layout()
    return fig


def plot_gains(realised: Sequence[float], predictions: Mapping[str, Sequence[float]]) -> Figure:
    """Share of realised value captured against share of customers, per model."""
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    for name, pred in predictions.items():
        curve = gains_curve(realised, pred)
        ax.plot(curve["share_customers"], curve["share_value"], label=name)
    perfect = gains_curve(realised, realised)
    ax.plot(perfect["share_customers"], perfect["share_value"], "k:", label="perfect")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, label="random")
    ax.set(xlabel="share of customers (ranked by prediction)", ylabel="share of value",
           title="Gains: value captured")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def stream_mix_by_persona(streams: pd.DataFrame, persona: pd.Series) -> pd.DataFrame:
    """Share of each stream in the (predicted or realised) value per persona, plus the plan."""
    table = streams.groupby(persona.to_numpy()).sum()
    table = table.div(table.sum(axis=1), axis=0)
    table.columns = [str(c).removeprefix("predicted_") for c in table.columns]
    plan = pd.DataFrame([PLAN_SHARES], index=["plan (35/45/15/5)"])
    return pd.concat([table, plan[table.columns]])


def plot_stream_mix(mix: pd.DataFrame) -> Figure:
    """Stacked stream shares per persona against the plans' 35/45/15/5."""
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    left = np.zeros(len(mix))
    for name in mix.columns:
        ax.barh(mix.index, mix[name], left=left, label=name)
        left += mix[name].to_numpy()
    ax.set(xlabel="share of value", title="Value streams per persona vs the plan")
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, -0.35))
    fig.tight_layout()
    return fig


def value_risk_matrix(value: pd.Series, risk: pd.Series, n_groups: int = 3) -> pd.DataFrame:
    """Customers and mean value per (value tercile, churn-risk tercile)."""
    frame = pd.DataFrame({"value": value.to_numpy(), "risk": risk.to_numpy()}).dropna()
    labels = ["low", "medium", "high"][:n_groups]
    frame["value_group"] = pd.qcut(frame["value"].rank(method="first"), n_groups, labels=labels)
    frame["risk_group"] = pd.qcut(frame["risk"].rank(method="first"), n_groups, labels=labels)
    return frame.pivot_table(index="value_group", columns="risk_group", values="value",
                             aggfunc="sum", observed=False) / frame["value"].sum()  # fmt: skip


def plot_value_risk(matrix: pd.DataFrame, risk_name: str) -> Figure:
    """Heat map of the share of predicted value per value x risk cell (save high-high first)."""
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.subplots()
    ax.imshow(matrix.to_numpy(dtype=float), cmap="Reds")
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns])
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index])
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, f"{matrix.iat[i, j]:.0%}", ha="center", va="center")
    ax.set(xlabel=f"churn risk ({risk_name})", ylabel="predicted value",
           title="Share of predicted value: who to save first")  # fmt: skip
    fig.tight_layout()
    return fig
