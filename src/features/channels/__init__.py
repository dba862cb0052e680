"""Channels: path attribution, media-mix model and budget reallocation (notebook 07).

What notebook 07 imports: parameters, the study, figures, outputs and the headline; the
methods live in ``features.channels.attribution`` and ``features.channels.mmm``.
"""

from features.channels.outputs import make_figures, result_tables, save_and_track
from features.channels.params import (
    PARAMETER_NAMES,
    ChannelParamError,
    ChannelParams,
    validate_channel_params,
)
from features.channels.report import headline
from features.channels.study import ChannelResults, headline_metrics, run_channel_study

__all__ = ["PARAMETER_NAMES", "ChannelParamError", "ChannelParams", "ChannelResults",
           "headline", "headline_metrics", "make_figures", "result_tables", "run_channel_study",
           "save_and_track", "validate_channel_params"]  # fmt: skip
