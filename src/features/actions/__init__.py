"""From risk to action: uplift of win-back and test-drive contacts, a budgeted next best
action, and the next model line per lead.

What notebook 05 imports: parameters, the study, figures, outputs and the headline.
"""

from features.actions.outputs import actions_table, decile_table, make_figures, save_and_track
from features.actions.params import (
    PARAMETER_NAMES,
    ActionsParamError,
    ActionsParams,
    validate_actions_params,
)
from features.actions.report import headline
from features.actions.study import ActionsResults, headline_metrics, run_actions_study

__all__ = [
    "PARAMETER_NAMES",
    "ActionsParamError",
    "ActionsParams",
    "ActionsResults",
    "actions_table",
    "decile_table",
    "headline",
    "headline_metrics",
    "make_figures",
    "run_actions_study",
    "save_and_track",
    "validate_actions_params",
]
