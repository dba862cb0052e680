"""Tests for features.personas.plots: every plot returns a Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from features.personas import plots as persona_plots
from features.personas.cards import compare_seed_shares
from features.personas.matrix import project_2d
from features.personas.profiles import summarise_personas
from features.personas.selection import score_k_range


# seaborn 0.13's heat map calls a colormap method that matplotlib 3.11 marks for deprecation.
@pytest.mark.filterwarnings("ignore:The set_bad function:PendingDeprecationWarning")
def test_plots_return_figures(profiled, matrix):
    features, assigned, profile, differences, _ = profiled
    curves = score_k_range(matrix.values, 2, 4, "kmeans", sample_size=100)
    names = {1: "One", 2: "Two", 3: "Three"}
    coordinates, explained = project_2d(matrix.values)
    summary = summarise_personas(assigned, features.set_index("customer_id"))
    seeds = compare_seed_shares(summary, {1: "tech"}, pd.DataFrame({"under_35": [1.0]}))
    confusion = pd.crosstab(assigned["persona_id"], assigned["persona_id"] % 2)
    figures = [
        persona_plots.plot_k_selection(curves, 3, "kmeans"),
        persona_plots.plot_projection(
            coordinates, assigned["persona_id"].map(names), explained, max_points=50
        ),
        persona_plots.plot_profile_heatmap(differences, names),
        persona_plots.plot_share_bars(summary, names, seeds),
        persona_plots.plot_truth_confusion(confusion, names),
    ]
    for figure in figures:
        assert isinstance(figure, Figure)
        assert figure.axes
        plt.close(figure)
