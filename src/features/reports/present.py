"""What a reader sees inside a notebook: tables with readable labels and a headline block.

Used by the notebooks (kernel side). Tables come back as pandas Stylers: no index column,
column names in words, shares as percentages, money as CNY, counts with thousands separators.
The business rendering keeps these outputs and hides the code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

# Column-name fragments that mark a share (shown as a percentage) or an amount in CNY.
PERCENT_HINTS = ("rate", "share", "precision", "recall")
MONEY_HINTS = ("profit", "cost", "value_cny", "revenue", "budget_cny", "cny")


ACRONYMS = {
    "auc": "AUC",
    "roc": "ROC",
    "pr": "PR",
    "ece": "ECE",
    "ari": "ARI",
    "shap": "SHAP",
    "cv": "CV",
    "id": "ID",
    "pca": "PCA",
    "bic": "BIC",
    "cny": "CNY",
    "psi": "PSI",
    "ltv": "LTV",
}


def words(name: Any) -> str:
    """``positive_rate`` -> ``positive rate``, ``roc_auc`` -> ``ROC AUC``."""
    return " ".join(ACRONYMS.get(part, part) for part in str(name).split("_"))


def money(value: float) -> str:
    """CNY with thousands separators and no decimals, e.g. ``¥12,300``; negatives keep a minus."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.0f}"


def percent(value: float, digits: int = 1) -> str:
    """A share as a percentage, e.g. ``0.237`` -> ``23.7%``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}%}"


def _matches(name: str, hints: Iterable[str]) -> bool:
    lowered = name.lower()
    return any(hint in lowered for hint in hints)


def table(
    frame: pd.DataFrame | pd.Series,
    *,
    percent_cols: Iterable[str] | None = None,
    money_cols: Iterable[str] | None = None,
    decimals: int = 3,
    max_rows: int | None = 30,
    caption: str | None = None,
) -> Styler:
    """A display-ready table: index hidden, names in words, numbers formatted by kind.

    Shares and money are recognised from the column names (``PERCENT_HINTS``, ``MONEY_HINTS``)
    unless ``percent_cols`` / ``money_cols`` name them. A meaningful index (a named one) is
    kept as a first column.
    """
    data = frame.to_frame() if isinstance(frame, pd.Series) else frame
    if data.index.name is not None or any(n is not None for n in data.index.names[1:]):
        data = data.reset_index()
    if max_rows is not None and len(data) > max_rows:
        data = data.head(max_rows)
    columns = [str(c) for c in data.columns]
    data = data.set_axis(columns, axis=1)
    shares = set(percent_cols) if percent_cols is not None else None
    amounts = set(money_cols) if money_cols is not None else None
    formats: dict[str, Any] = {}
    for name in columns:
        series = data[name]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if (amounts is not None and name in amounts) or (
            amounts is None and _matches(name, MONEY_HINTS)
        ):
            formats[name] = money
        elif (shares is not None and name in shares) or (
            shares is None and _matches(name, PERCENT_HINTS)
        ):
            formats[name] = percent
        elif pd.api.types.is_integer_dtype(series):
            formats[name] = "{:,}"
        else:
            formats[name] = f"{{:,.{decimals}f}}"
    styled = (
        data.style.format(formats, na_rep="–")
        .hide(axis="index")
        .relabel_index([words(c) for c in columns], axis="columns")
    )
    if caption:
        styled = styled.set_caption(caption)
    return styled


def key_values(values: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> Styler:
    """A two-column table (what, value) of already formatted values."""
    rows = [
        {"what": (labels or {}).get(key, words(key)), "value": str(value)}
        for key, value in values.items()
    ]
    return pd.DataFrame(rows).style.hide(axis="index")
