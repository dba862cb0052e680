"""Personas: inputs, clustering (latent class mixture, k-means, Gaussian mixture), choice of k,
bootstrap stability, profiles, names, cards, plots and outputs.

Modules, in import order: ``mixture`` (the latent class model), ``matrix`` (clustering input),
``inputs`` (data read at the edge), ``clustering`` (fit and assign), ``stability``,
``selection`` (choice of k), ``profiles``, ``naming``, ``cards``, ``params`` (notebook
parameters), ``outputs`` (tables, metrics, files and MLflow) and ``plots``.

Notebook 01 imports what it needs from here. May import the foundation, ``features.data``,
``features.table`` and ``features.tracking``. ``features.personas.LatentClassMixture`` is the
class path stored in logged persona models (skops trusted type): keep it importable here.
"""

from features.personas.cards import describe_personas
from features.personas.clustering import ClusterSpec, assign_personas, fit_clusterer
from features.personas.inputs import load_persona_data, read_predicted_values
from features.personas.matrix import default_persona_columns, prepare_persona_matrix, project_2d
from features.personas.mixture import LatentClassMixture
from features.personas.outputs import persona_headline, persona_metrics, save_and_track_personas
from features.personas.params import check_persona_parameters
from features.personas.selection import choose_k, score_k_range
from features.personas.stability import bootstrap_stability, compare_with_truth

__all__ = [
    "ClusterSpec",
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
    "read_predicted_values",
    "save_and_track_personas",
    "score_k_range",
]
