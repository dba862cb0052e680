"""The generator's persona tables: read from data, checked on reading."""

import pytest

from features import schema
from features.data import synth_tables


@pytest.mark.parametrize("name", sorted(synth_tables._tables()))
def test_every_table_has_a_row_per_persona_and_a_value_per_category(name):
    table = synth_tables.persona_table(name)
    categories = getattr(schema, synth_tables._tables()[name]["columns"])
    assert table.shape == (len(schema.PERSONAS), len(categories))


def _with_table(monkeypatch, **table):
    tables = {"broken": {"columns": "FINANCING", "distribution": True, **table}}
    monkeypatch.setattr(synth_tables, "_tables", lambda: tables)


def test_a_distribution_that_does_not_sum_to_one_is_refused(monkeypatch):
    _with_table(monkeypatch, rows={p: [0.5, 0.5, 0.5] for p in schema.PERSONAS})
    with pytest.raises(ValueError, match="'broken': every row must sum to 1"):
        synth_tables.persona_table("broken")


def test_a_missing_persona_or_category_is_refused(monkeypatch):
    _with_table(monkeypatch, rows={p: [0.5, 0.5, 0.0] for p in schema.PERSONAS[1:]})
    with pytest.raises(ValueError, match="one row per persona"):
        synth_tables.persona_table("broken")
    _with_table(monkeypatch, rows={p: [0.5, 0.5] for p in schema.PERSONAS})
    with pytest.raises(ValueError, match="needs 3 values per row"):
        synth_tables.persona_table("broken")
