"""Voice of the customer: Chinese comments -> scrubbed text, sentiment, aspects and text
features for churn.

What notebook 06 imports: parameters, the study, figures, outputs and the headline.
"""

from features.voice.outputs import make_figures, save_and_track, scores_table, topic_names
from features.voice.params import (
    PARAMETER_NAMES,
    VoiceParamError,
    VoiceParams,
    validate_voice_params,
)
from features.voice.report import headline
from features.voice.study import VoiceResults, headline_metrics, run_voice_study

__all__ = [
    "PARAMETER_NAMES",
    "VoiceParamError",
    "VoiceParams",
    "VoiceResults",
    "headline",
    "headline_metrics",
    "make_figures",
    "run_voice_study",
    "save_and_track",
    "scores_table",
    "topic_names",
    "validate_voice_params",
]
