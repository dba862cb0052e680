"""A/B test analysis: design (sample size, duration), per-test effects with CUPED, sample-ratio
checks, false discovery rate control, always-valid sequential p-values, guardrails, decisions
and A/A self-checks.

What notebook 08 imports: parameters, the study, figures, outputs and the headline; the
statistics live in ``features.experiments.stats``.
"""

from features.experiments.outputs import make_figures, result_tables, save_and_track
from features.experiments.params import (
    PARAMETER_NAMES,
    ExperimentParamError,
    ExperimentParams,
    validate_experiment_params,
)
from features.experiments.report import headline
from features.experiments.stats import (
    aa_simulation,
    analyse,
    benjamini_hochberg,
    design,
    msprt_pvalues,
    sample_ratio_pvalue,
    sequential_looks,
    summarise,
)
from features.experiments.study import ExperimentResults, headline_metrics, run_experiment_study

__all__ = ["PARAMETER_NAMES", "ExperimentParamError", "ExperimentParams", "ExperimentResults",
           "aa_simulation", "analyse", "benjamini_hochberg", "design", "headline",
           "headline_metrics", "make_figures", "msprt_pvalues", "result_tables",
           "run_experiment_study", "sample_ratio_pvalue", "save_and_track", "sequential_looks",
           "summarise", "validate_experiment_params"]  # fmt: skip
