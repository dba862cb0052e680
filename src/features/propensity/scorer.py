"""The servable propensity scorer: what ``nev-conversion`` / ``nev-churn`` register.

One MLflow pyfunc model owns the whole path from a feature table to a calibrated probability:
input preparation (column order, the training category vocabularies, numbers as float; missing
columns refused by name), the LightGBM model and the Platt calibration. A plain MLflow client
in any process loads ``models:/nev-churn@champion`` and scores the lab's ``features.parquet``
(category or text columns) with the probabilities the notebook reported.

May import the foundation, ``features.propensity.data`` and ``features.propensity.modeling``;
``features.propensity.outputs`` logs it through ``features.tracking``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, ColSpec, Schema

from features import schema
from features.propensity.data import align_to_training
from features.propensity.explain import top_reasons, tree_shap
from features.propensity.modeling import ProbabilityCalibrator, predict_positive

PROBABILITY_COL = "probability"


class ScoringInputError(ValueError):
    """The input cannot be scored (columns missing, wrong kind of data)."""


class PropensityScorer(mlflow.pyfunc.PythonModel):
    """Input preparation + LightGBM + calibration as one pyfunc model.

    Args:
        model: the fitted LightGBM classifier.
        reference: zero-row frame with the training columns, order and dtypes (categories).
        calibrator: maps raw scores to calibrated probabilities.
        task: "conversion" or "churn" (for messages).
    """

    def __init__(
        self, model: Any, reference: pd.DataFrame, calibrator: ProbabilityCalibrator, task: str
    ) -> None:
        self.model = model
        self.reference = reference.iloc[:0].copy()
        self.calibrator = calibrator
        self.task = task

    @property
    def feature_names(self) -> list[str]:
        """The columns the model needs, in order."""
        return [str(c) for c in self.reference.columns]

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's columns in training order, categories on the training vocabularies."""
        if not isinstance(frame, pd.DataFrame):
            raise ScoringInputError(
                f"{self.task} scorer: input must be a table of features, got {type(frame).__name__}"
            )
        missing = [name for name in self.feature_names if name not in frame.columns]
        if missing:
            shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
            raise ScoringInputError(
                f"{self.task} scorer: {len(missing)} feature column(s) missing: {shown} "
                "(rule: the input carries every feature the model was trained on)"
            )
        for name in self.feature_names:
            if isinstance(self.reference[name].dtype, pd.CategoricalDtype):
                continue
            values = frame[name]
            parsed = pd.to_numeric(values, errors="coerce")
            bad = parsed.isna() & values.notna()
            if bad.any():
                shown = ", ".join(repr(v) for v in values[bad].head(3))
                raise ScoringInputError(
                    f"{self.task} scorer: column {name}: {int(bad.sum())} value(s) are not "
                    f"numbers, first {shown} (rule: numeric features are numbers or missing)"
                )
        return align_to_training(frame, self.reference)

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated LightGBM scores."""
        return predict_positive(self.model, self.prepare(frame))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities of the positive class."""
        return self.calibrator.predict(self.predict_raw(frame))

    def reasons(
        self, frame: pd.DataFrame, k: int = 3, num_threads: int | None = None
    ) -> pd.DataFrame:
        """Top-``k`` plain-word reasons per row from exact TreeSHAP (``reason_1`` ..)."""
        prepared = self.prepare(frame)
        values = tree_shap(self.model, prepared, num_threads=num_threads)
        return top_reasons(values, prepared, k=k).reset_index(drop=True)

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """pyfunc entry point: a one-column frame ``probability`` (calibrated)."""
        return pd.DataFrame({PROBABILITY_COL: self.predict_proba(model_input)})


def scorer_signature(reference: pd.DataFrame) -> ModelSignature:
    """Input columns by name, of any type; the scorer checks and converts them itself.

    MLflow's own type enforcement would refuse the lab's feature table (category columns,
    int64 counts as "double"); ``PropensityScorer.prepare`` accepts text or category and any
    numbers, and refuses missing columns and non-numeric values by name.
    """
    inputs = [ColSpec(AnyType(), str(name)) for name in reference.columns]
    outputs = Schema([ColSpec("double", PROBABILITY_COL)])
    return ModelSignature(inputs=Schema(inputs), outputs=outputs)


def input_example(X: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    """A JSON-friendly example: categories as text, numbers as float, no personal fields."""
    example = X.head(rows).copy()
    leaked = [c for c in example.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ScoringInputError(f"input example carries personal fields {leaked}")
    for name in example.columns:
        if isinstance(example[name].dtype, pd.CategoricalDtype):
            example[name] = example[name].astype("object").where(example[name].notna(), None)
        else:
            example[name] = example[name].astype("float64")
    return example


def feature_columns(model_like: Any) -> Sequence[str]:
    """The feature columns a loaded pyfunc scorer needs (from its signature)."""
    metadata = getattr(model_like, "metadata", None)
    signature = getattr(metadata, "signature", None)
    if signature is None or signature.inputs is None:
        return []
    return [str(name) for name in signature.inputs.input_names()]
