"""The servable actions scorer registered as ``nev-actions-<task>``: features in, the
estimated effect of a contact and the model line to pitch out.

One MLflow pyfunc model wraps the chosen uplift learner and, when there is one, the next-line
model, with the training columns and category levels they were fitted on, and the study's
``contact_cost``, ``value_per_success`` and ``budget`` (what the live lists plan with).

May import the foundation, ``features.propensity`` (helpers) and the ``features.actions``
modules.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, ColSpec, Schema

from features.actions.data import as_model_frame
from features.actions.learners import UpliftLearner
from features.actions.nextline import LineResults, recommend_lines
from features.propensity.data import align_to_training
from features.propensity.scorer import ScoringInputError


class ActionsScorer(mlflow.pyfunc.PythonModel):
    """A fitted uplift learner (and line model) as a pyfunc over the lab's feature table."""

    def __init__(
        self, task: str, learner: UpliftLearner, reference: pd.DataFrame,
        line: LineResults | None, contact_cost: float, value_per_success: float, budget: int,
    ) -> None:  # fmt: skip
        self.task = task
        self.learner = learner
        self.reference = reference.iloc[:0].copy()
        self.line = line
        self.contact_cost = float(contact_cost)
        self.value_per_success = float(value_per_success)
        self.budget = int(budget)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.reference.columns]

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """pyfunc entry point: ``expected_uplift`` and ``recommended_line`` per row."""
        if not isinstance(model_input, pd.DataFrame):
            raise ScoringInputError(
                f"actions scorer: input must be a table, got {type(model_input).__name__}"
            )
        missing = [c for c in self.columns if c not in model_input.columns]
        if missing:
            raise ScoringInputError(f"actions scorer: {len(missing)} feature column(s) missing: "
                                    f"{', '.join(missing[:10])}")  # fmt: skip
        frame = as_model_frame(model_input[self.columns].reset_index(drop=True))
        X = align_to_training(frame, self.reference)
        uplift = self.learner.predict(X)
        line = (recommend_lines(self.line, frame).to_numpy() if self.line is not None
                else np.full(len(X), ""))  # fmt: skip
        return pd.DataFrame({"expected_uplift": uplift, "recommended_line": line})


def actions_signature(columns: list[str]) -> ModelSignature:
    """Input columns by name, of any type (the scorer checks them itself)."""
    return ModelSignature(inputs=Schema([ColSpec(AnyType(), str(name)) for name in columns]))
