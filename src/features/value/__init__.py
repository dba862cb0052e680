"""Customer value: lifetime value over a horizon, by stream, against truth and classic models.

What notebook 04 imports: parameters, the study, figures, outputs and the headline.
"""

from features.value.evaluation import decile_table
from features.value.outputs import make_figures, save_and_track, value_table
from features.value.params import (
    PARAMETER_NAMES,
    ValueParamError,
    ValueParams,
    validate_value_params,
)
from features.value.report import headline
from features.value.study import MONEY_COLUMNS, ValueResults, headline_metrics, run_value_study

__all__ = [
    "MONEY_COLUMNS",
    "PARAMETER_NAMES",
    "ValueParamError",
    "ValueParams",
    "ValueResults",
    "decile_table",
    "headline",
    "headline_metrics",
    "make_figures",
    "run_value_study",
    "save_and_track",
    "validate_value_params",
    "value_table",
]
