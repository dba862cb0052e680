"""The servable value scorer registered as ``nev-value``: features in, value over the horizon out.

One MLflow pyfunc model wraps the chosen ``ValueModel`` (LightGBM with its input preparation,
the classic BG/NBD + Gamma-Gamma pair on the summary columns, or the naive window value);
``predict`` returns ``predicted_value`` and, for LightGBM with streams, ``predicted_<stream>``.

May import the foundation, ``features.propensity.scorer`` and the ``features.value`` modules.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, ColSpec, Schema

from features.propensity.scorer import ScoringInputError
from features.value.data import RFM_COLUMNS, ValueFrame
from features.value.models import ValueModel

PREDICTION_COL = "predicted_value"


class ValueScorer(mlflow.pyfunc.PythonModel):
    """A fitted ``ValueModel`` as a pyfunc over the value study's feature table."""

    def __init__(self, model: ValueModel, columns: list[str]) -> None:
        self.model = model
        self.columns = [str(c) for c in columns]

    def _frame(self, frame: pd.DataFrame) -> ValueFrame:
        if not isinstance(frame, pd.DataFrame):
            raise ScoringInputError(
                f"value scorer: input must be a table, got {type(frame).__name__}"
            )
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ScoringInputError(
                f"value scorer: {len(missing)} feature column(s) missing: {', '.join(missing[:10])}"
            )
        X = frame.reset_index(drop=True)
        rfm = X[list(RFM_COLUMNS)].apply(pd.to_numeric, errors="coerce").astype(float)
        empty = pd.Series(np.zeros(len(X)))
        base = ValueFrame(pd.Timestamp(0), pd.RangeIndex(len(X)), X, rfm, empty, empty, None)
        return replace(base)

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """pyfunc entry point: ``predicted_value`` (+ per-stream columns when modelled)."""
        frame = self._frame(model_input)
        total = self.model.predict_total(frame)
        out = pd.DataFrame({PREDICTION_COL: total})
        streams = self.model.predict_streams(frame, total)
        return out if streams is None else pd.concat([out, streams], axis=1)


def value_signature(columns: list[str]) -> ModelSignature:
    """Input columns by name, of any type (the scorer checks them itself)."""
    inputs = [ColSpec(AnyType(), str(name)) for name in columns]
    return ModelSignature(inputs=Schema(inputs))
