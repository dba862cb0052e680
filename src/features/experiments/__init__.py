"""A/B test analysis: design (sample size, duration), per-test effects with CUPED, sample-ratio
checks, false discovery rate control, always-valid sequential p-values and A/A self-checks.

May import the foundation modules and ``features.data.synth_experiments``.
"""

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

__all__ = ["aa_simulation", "analyse", "benjamini_hochberg", "design", "msprt_pvalues",
           "sample_ratio_pvalue", "sequential_looks", "summarise"]  # fmt: skip
