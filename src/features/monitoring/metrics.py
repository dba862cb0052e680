"""Monitoring measures: Wilson intervals, calibration per score bucket, population stability.

Pure functions on arrays and DataFrames; no I/O. May import numpy, pandas, scipy and the
bucket names of ``features.propensity.evaluation``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from features.propensity.evaluation import BUCKET_LABELS

CONFIDENCE = 0.95
PSI_BINS = 10
PSI_FLOOR = 1e-4  # share given to an empty bin, so PSI stays finite
MISSING_BIN = "__missing__"
BUCKET_COLUMNS = (
    "as_of",
    "bucket",
    "n",
    "positives",
    "mean_predicted",
    "realised_rate",
    "ci_low",
    "ci_high",
    "calibration_gap",
)


def wilson_interval(positives: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial rate (NaN, NaN for n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    ci = binomtest(int(positives), int(n)).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return float(ci.low), float(ci.high)


def bucket_calibration(scored: pd.DataFrame) -> pd.DataFrame:
    """Per as-of date and bucket: n, mean predicted, realised rate, Wilson interval and gap.

    ``scored`` has columns as_of, bucket, probability and label (realised 0/1). The gap is
    mean predicted minus realised rate (negative: the model under-predicts).
    """
    rows = []
    for (as_of, bucket), part in scored.groupby(["as_of", "bucket"], sort=True):
        n, positives = len(part), int(part["label"].sum())
        low, high = wilson_interval(positives, n)
        mean_predicted = float(part["probability"].mean())
        realised = positives / n
        rows.append(
            (as_of, bucket, n, positives, mean_predicted, realised, low, high,
             mean_predicted - realised)
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=list(BUCKET_COLUMNS))
    order = {b: i for i, b in enumerate(BUCKET_LABELS)}
    table["_order"] = table["bucket"].map(order)
    return table.sort_values(["as_of", "_order"], ignore_index=True).drop(columns="_order")


def _shares(codes: pd.Series, bins: Sequence[str]) -> np.ndarray:
    counts = codes.value_counts().reindex(list(bins), fill_value=0).to_numpy(dtype="float64")
    shares = counts / max(counts.sum(), 1.0)
    return np.maximum(shares, PSI_FLOOR)


def _bin_codes(expected: pd.Series, actual: pd.Series, n_bins: int) -> tuple[pd.Series, pd.Series]:
    """Bin labels of both samples: categories as they are, numbers by the expected quantiles."""
    if isinstance(expected.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
        expected
    ):

        def as_text(s: pd.Series) -> pd.Series:
            return s.astype("object").where(s.notna(), MISSING_BIN).astype(str)

        return as_text(expected), as_text(actual)
    exp = pd.to_numeric(expected, errors="coerce").astype("float64")
    act = pd.to_numeric(actual, errors="coerce").astype("float64")
    edges = np.unique(np.nanquantile(exp, np.linspace(0, 1, n_bins + 1)[1:-1]))

    def code(s: pd.Series) -> pd.Series:
        values = np.searchsorted(edges, s.to_numpy(), side="right").astype(str)
        return pd.Series(np.where(s.isna(), MISSING_BIN, values), index=s.index)

    return code(exp), code(act)


def psi(
    expected: Sequence | pd.Series, actual: Sequence | pd.Series, n_bins: int = PSI_BINS
) -> float:
    """Population stability index of ``actual`` against ``expected``.

    Numbers are cut at the deciles of ``expected`` (ties merge bins); categories and missing
    values get a bin each. PSI = sum (a - e) * ln(a / e) over bins; 0.1-0.2 is usually read as a
    moderate shift and > 0.2 as a large one.
    """
    expected, actual = pd.Series(expected), pd.Series(actual)
    if expected.empty or actual.empty:
        return float("nan")
    exp_codes, act_codes = _bin_codes(expected, actual, n_bins)
    bins = sorted(set(exp_codes) | set(act_codes))
    e, a = _shares(exp_codes, bins), _shares(act_codes, bins)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_table(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], n_bins: int = PSI_BINS
) -> pd.DataFrame:
    """PSI of each of ``columns`` (present in both frames): columns ``feature``, ``psi``."""
    rows = [
        {"feature": name, "psi": psi(reference[name], current[name], n_bins)}
        for name in columns
        if name in reference and name in current
    ]
    return pd.DataFrame(rows, columns=["feature", "psi"])
