"""Persona-level calibration tables of the generator, read from ``persona_tables.yaml``.

The tables are data, not code: a reviewer reads a row per persona and a named vocabulary per
table, and a change to a figure is a one-line diff. Each table is checked on reading (every
persona present, one value per category, distributions summing to 1), so a typo fails at import
rather than skewing a dataset.

May import the foundation modules only.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import yaml

from features import schema

TABLES_FILE = "persona_tables.yaml"


@cache
def _tables() -> dict:
    text = resources.files("features.data").joinpath(TABLES_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def persona_table(name: str) -> np.ndarray:
    """The table ``name`` as an array: rows in ``schema.PERSONAS`` order, columns in the order
    of the schema vocabulary the table names."""
    where = f"{TABLES_FILE}: table {name!r}"
    try:
        table = _tables()[name]
    except KeyError:
        raise KeyError(f"{where} is missing") from None
    categories = getattr(schema, table["columns"])
    rows = table["rows"]
    if set(rows) != set(schema.PERSONAS):
        raise ValueError(
            f"{where} must have one row per persona {schema.PERSONAS}, got {tuple(rows)}"
        )
    values = np.array([rows[persona] for persona in schema.PERSONAS], dtype=float)
    if values.shape[1] != len(categories):
        raise ValueError(f"{where} needs {len(categories)} values per row ({table['columns']})")
    if table["distribution"] and not np.allclose(values.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError(f"{where}: every row must sum to 1, got {values.sum(axis=1).round(4)}")
    return values
