"""One-ID: resolving the same person across channels' exports into one pseudonymous id.

Person records are normalised (pinyin names, phones, dates), linked with splink's
Fellegi–Sunter model on DuckDB (trained by EM without labels), clustered into persons with
stable random one_ids, scored against a true person column where there is one, and the
event log is rebuilt on one_id. Personal fields are read in raw and stay in memory.

What notebook 09 imports: parameters, the study, figures, outputs and the headline.
"""

from features.identity.outputs import make_figures, result_tables, save_and_track
from features.identity.params import (
    PARAMETER_NAMES,
    ROLES,
    IdentityParamError,
    IdentityParams,
    validate_identity_params,
)
from features.identity.records import IdentityDataError, read_records
from features.identity.report import headline
from features.identity.study import IdentityResults, headline_metrics, run_identity_study

__all__ = ["PARAMETER_NAMES", "ROLES", "IdentityDataError", "IdentityParamError",
           "IdentityParams", "IdentityResults", "headline", "headline_metrics", "make_figures",
           "read_records", "result_tables", "run_identity_study", "save_and_track",
           "validate_identity_params"]  # fmt: skip
