"""Personas: inputs, clustering (latent class mixture, k-means, Gaussian mixture), choice of k,
bootstrap stability, profiles, names, cards, plots and outputs.

Notebook 01 imports what it needs from here. May import the foundation, ``features.data``,
``features.table`` and ``features.tracking``. ``features.personas.LatentClassMixture`` is the
class path stored in logged persona models (skops trusted type): keep it importable here.
"""

from features.personas.core import (
    LatentClassMixture,
    assign_personas,
    bootstrap_stability,
    check_persona_parameters,
    choose_k,
    compare_with_truth,
    default_persona_columns,
    describe_personas,
    fit_clusterer,
    load_persona_data,
    persona_headline,
    persona_metrics,
    prepare_persona_matrix,
    project_2d,
    save_and_track_personas,
    score_k_range,
)

__all__ = [
    "LatentClassMixture",
    "assign_personas",
    "bootstrap_stability",
    "check_persona_parameters",
    "choose_k",
    "compare_with_truth",
    "default_persona_columns",
    "describe_personas",
    "fit_clusterer",
    "load_persona_data",
    "persona_headline",
    "persona_metrics",
    "prepare_persona_matrix",
    "project_2d",
    "save_and_track_personas",
    "score_k_range",
]
