"""Reusable feature, persona and model code of the NEV marketing analytics lab.

The public API is imported lazily so that ``import features`` stays fast and has no side
effects (no folders created, no MLflow connection).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

# PySpark warns on import that pandas >= 3 is "not fully supported", and pandera imports
# pyspark.pandas whenever pyspark is installed. The lab moves data to and from Spark as Arrow
# tables only (never pandas-on-Spark), and the parity tests check the results; the warning
# would only clutter every report and log.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

__version__ = "0.1.0"

_PUBLIC = {
    "load_event_log": "features.data.eventlog",
    "build_features": "features.table.build",
    "feature_registry": "features.table.registry",
    "conversion_labels": "features.table.labels",
    "churn_labels": "features.table.labels",
    "generate_dataset": "features.data.synth",
    "validate_dataset": "features.data.validate",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'features' has no attribute {name!r}")
