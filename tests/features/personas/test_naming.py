"""Tests for features.personas.naming: persona names, themes and marketing angles."""

from __future__ import annotations

from features.personas.naming import (
    GENERIC_ANGLE,
    marketing_angle,
    name_persona,
    name_personas,
    persona_theme,
)


def test_name_persona_reads_like_a_marketer_would():
    traits = [
        ("age", -1.5),
        ("persona_dim_technology_acceptance", 1.2),
        ("occupation=office_worker", 0.8),
    ]
    assert name_persona(traits) == "Young tech-first office workers"
    assert persona_theme(traits) == "tech"
    family = [("children", 2.0), ("persona_dim_lifestyle", 0.9)]
    assert name_persona(family) == "Road-tripping families"
    unknown = [("mystery_score", 1.1)]
    assert name_persona(unknown) == "High-mystery-score customers"


def test_name_personas_are_unique():
    traits = {
        1: [("age", -1.0), ("persona_dim_technology_acceptance", 1.0), ("budget", -0.5)],
        2: [("age", -0.9), ("persona_dim_technology_acceptance", 0.8), ("children", 0.4)],
        3: [("age", -0.9), ("persona_dim_technology_acceptance", 0.8)],
        4: [("age", -0.9), ("persona_dim_technology_acceptance", 0.8)],
    }
    names = name_personas(traits)
    assert len(set(names.values())) == 4
    assert names[1] != names[2]
    assert names[4].endswith(" 2")


def test_marketing_angle_uses_seed_vocabulary():
    assert "OTA" in marketing_angle("tech")
    assert "7-seat" in marketing_angle("family")
    assert "clubhouse" in marketing_angle("premium")
    assert "referral" in marketing_angle("community")
    assert "financing" in marketing_angle("value")
    assert marketing_angle(None) == GENERIC_ANGLE
