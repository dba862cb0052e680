"""Exact TreeSHAP explanations of LightGBM models and per-customer reasons in plain words.

LightGBM computes exact TreeSHAP values itself (``predict(..., pred_contrib=True)``); the
``shap`` package's ``TreeExplainer`` calls the same routine. Binary-class SHAP outputs have had
several shapes across versions (a list of two arrays, a 3-D array, an extra base-value column,
an ``Explanation``); ``normalize_shap_output`` is the one place that turns any of them into a
``rows x features`` array in log-odds of the positive class.

May import ``features.table.registry`` (feature meanings) and nothing else from ``features``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.table.registry import describe_feature

RAISES = "raises odds"
LOWERS = "lowers odds"
_DAYS_SINCE = re.compile(r"^days since (?:the )?(.+)$")
_FIRST_LAST = re.compile(r"^(?:last|first) ")


@dataclass
class ShapValues:
    """SHAP values (rows x features, log-odds of the positive class) and base values (rows)."""

    values: np.ndarray
    base_values: np.ndarray | None
    feature_names: list[str]


def normalize_shap_output(
    output: Any, feature_names: list[str], base_values: Any = None
) -> ShapValues:
    """Turn any binary-class SHAP output into ``ShapValues`` for the positive class.

    Accepts: ``shap.Explanation``; a list ``[negative, positive]`` of arrays; an array of shape
    (rows, features, 2); LightGBM ``pred_contrib`` output (rows, features + 1) whose last column
    is the base value, or its two-class form (rows, 2 x (features + 1)); a plain (rows, features)
    array; one row (features,).
    """
    n_features = len(feature_names)
    if (
        hasattr(output, "values")
        and hasattr(output, "base_values")
        and not isinstance(output, pd.DataFrame | np.ndarray)
    ):
        return normalize_shap_output(output.values, feature_names, output.base_values)
    if isinstance(output, pd.DataFrame):
        output = output.to_numpy()
    if isinstance(output, list | tuple):
        if len(output) not in (1, 2):
            raise ValueError(f"SHAP output holds {len(output)} classes; expected a binary model")
        if base_values is not None and np.ndim(base_values) == 1 and len(base_values) == 2:
            base_values = base_values[-1]
        return normalize_shap_output(np.asarray(output[-1]), feature_names, base_values)
    values = np.asarray(output, dtype="float64")
    if values.ndim == 1:
        values = values.reshape(1, -1)
    if values.ndim == 3:
        if values.shape[1] != n_features or values.shape[2] not in (1, 2):
            raise ValueError(
                f"SHAP array of shape {values.shape} does not match {n_features} features"
            )
        values = values[:, :, -1]
        if base_values is not None and np.ndim(base_values) == 2:
            base_values = np.asarray(base_values)[:, -1]
    if values.ndim != 2:
        raise ValueError(f"SHAP array of shape {values.shape} is not rows x features")
    width = values.shape[1]
    if width == 2 * (n_features + 1):
        values = values[:, n_features + 1 :]
        width = values.shape[1]
    if width == n_features + 1:
        base_values = values[:, -1]
        values = values[:, :-1]
    elif width != n_features:
        raise ValueError(f"SHAP array with {width} columns does not match {n_features} features")
    if base_values is not None:
        base_values = np.broadcast_to(np.asarray(base_values, dtype="float64"), (len(values),))
        base_values = np.array(base_values)
    return ShapValues(values=values, base_values=base_values, feature_names=list(feature_names))


def tree_shap(model: Any, X: pd.DataFrame, num_threads: int | None = None) -> ShapValues:
    """Exact TreeSHAP values of a LightGBM model (``LGBMClassifier`` or ``Booster``) on ``X``.

    Uses the model's best iteration when it was trained with early stopping.
    """
    booster = getattr(model, "booster_", model)
    best = getattr(model, "best_iteration_", None) or booster.best_iteration or None
    kwargs: dict[str, Any] = {"pred_contrib": True}
    if best:
        kwargs["num_iteration"] = best
    if num_threads is not None:
        kwargs["num_threads"] = num_threads
    contributions = booster.predict(X, **kwargs)
    return normalize_shap_output(contributions, list(X.columns))


def global_importance(shap: ShapValues) -> pd.DataFrame:
    """Features ranked by mean |SHAP| with their share of the total and mean signed effect."""
    mean_abs = np.abs(shap.values).mean(axis=0)
    total = mean_abs.sum()
    table = pd.DataFrame(
        {
            "feature": shap.feature_names,
            "mean_abs_shap": mean_abs,
            "share": mean_abs / total if total > 0 else np.nan,
            "mean_shap": shap.values.mean(axis=0),
        }
    )
    return table.sort_values("mean_abs_shap", ascending=False, ignore_index=True)


def safe_describe(name: str, describe: Callable[[str], str] | None = None) -> str:
    """Plain words for a feature from the registry; the column name with spaces otherwise."""
    describe = describe or describe_feature
    try:
        return describe(name)
    except (KeyError, ValueError):
        return name.replace("_", " ")


def format_reason_value(value: Any) -> str:
    """A feature value as a reason shows it (integers without decimals, 4 significant digits)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "missing"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def reason_phrase(meaning: str, value: Any) -> str:
    """Feature meaning and value in one phrase.

    "days since last test drive" with 2 reads "last test drive 2 days before cutoff"; a missing
    value of such a feature reads "no test drive before cutoff"; other features read
    "<meaning> is <value>".
    """
    short = meaning.split(":")[0].split(" (")[0].strip()
    shown = format_reason_value(value)
    match = _DAYS_SINCE.match(short)
    if match and " divided " not in short:
        subject = match[1]
        if shown == "missing":
            return f"no {_FIRST_LAST.sub('', subject)} before cutoff"
        days = float(value)
        if days < 1:
            return f"{subject} less than a day before cutoff"
        rounded = round(days)
        unit = "day" if rounded == 1 else "days"
        return f"{subject} {rounded:,} {unit} before cutoff"
    return f"{short} is {shown}"


def top_reasons(
    shap: ShapValues,
    X: pd.DataFrame,
    k: int = 3,
    describe: Callable[[str], str] | None = None,
    words: tuple[str, str] = (RAISES, LOWERS),
) -> pd.DataFrame:
    """The ``k`` features with the largest |SHAP| per row, as plain-word reasons.

    ``words`` says what a positive and a negative contribution do (odds for a classifier,
    value for a regression of value, the effect for an uplift model).

    Returns columns ``reason_1`` .. ``reason_k`` aligned with ``X`` (e.g. "test drive 2 days
    before cutoff: raises odds").
    """
    if shap.values.shape != (len(X), X.shape[1]):
        raise ValueError(f"SHAP values {shap.values.shape} do not match data {X.shape}")
    k = min(k, X.shape[1])
    order = np.argsort(-np.abs(shap.values), axis=1, kind="stable")[:, :k]
    meanings = [safe_describe(name, describe) for name in X.columns]
    columns = [X.iloc[:, j].to_numpy(dtype=object) for j in range(X.shape[1])]
    reasons: dict[str, list[str]] = {f"reason_{r + 1}": [] for r in range(k)}
    for row in range(len(X)):
        for rank in range(k):
            j = order[row, rank]
            contribution = shap.values[row, j]
            direction = words[0] if contribution > 0 else words[1]
            if contribution == 0:
                direction = "no effect"
            phrase = reason_phrase(meanings[j], columns[j][row])
            reasons[f"reason_{rank + 1}"].append(f"{phrase}: {direction}")
    return pd.DataFrame(reasons, index=X.index)
