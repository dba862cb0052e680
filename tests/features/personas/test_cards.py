"""Tests for features.personas.cards: seed-share comparison, persona cards, describe_personas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from features.personas.cards import build_persona_cards, compare_seed_shares, describe_personas
from features.personas.clustering import assign_personas, fit_clusterer
from features.personas.inputs import load_persona_data
from features.personas.matrix import default_persona_columns, prepare_persona_matrix
from features.personas.naming import name_personas, persona_theme
from features.personas.profiles import seed_segment_flags, summarise_personas, top_traits


def test_summary_and_cards_are_complete_and_serialisable(profiled):
    features, assigned, profile, differences, by_truth = profiled
    attributes = features.set_index("customer_id")
    ids = attributes.index
    conversion = pd.Series((attributes["children"] > 0).astype(int).to_numpy(), index=ids)
    churn = pd.Series(0, index=ids[:30])
    model_line = pd.Series("family_suv_7seat", index=ids[attributes["children"] > 0])
    summary = summarise_personas(
        assigned, attributes, conversion=conversion, churn=churn, model_line=model_line
    )
    assert summary["size"].sum() == 180
    assert summary["share"].sum() == pytest.approx(1.0)
    family = summary.set_index("persona_id").loc[by_truth["family"]]
    tech = summary.set_index("persona_id").loc[by_truth["tech"]]
    assert family["conversion_rate"] == 1.0 and tech["conversion_rate"] == 0.0
    assert family["top_channel"] == "store_walk_in" and family["top_channel_share"] == 1.0
    assert family["top_model_line"] == "family_suv_7seat"
    assert tech["share_under_35"] == 1.0 and family["share_family"] == 1.0
    assert summary["n_owners_labelled"].sum() == 30

    traits = top_traits(differences)
    themes = {p: persona_theme(t) for p, t in traits.items()}
    names = name_personas(traits, themes)
    labels = assigned.set_index("customer_id")["persona_id"]
    flags = seed_segment_flags(attributes)
    seeds = compare_seed_shares(summary, themes, flags)
    assert list(seeds["segment"]) == ["under_35", "family", "high_net_worth"]
    assert seeds["seed_share"].tolist() == [0.42, 0.25, 0.18]
    assert seeds.set_index("segment").loc["family", "attribute_share"] == pytest.approx(2 / 3)
    means = profile.groupby(labels.reindex(attributes.index).to_numpy()).mean()
    cards = build_persona_cards(
        summary, traits, names, themes, profile_means=means, population_means=profile.mean()
    )
    assert [c["persona_id"] for c in cards] == [1, 2, 3]
    assert len({c["name"] for c in cards}) == 3
    json.loads(json.dumps(cards))
    tech_card = cards[by_truth["tech"] - 1]
    assert themes[by_truth["tech"]] == "tech"
    assert tech_card["seed_segment"] == "under_35"
    assert "OTA" in tech_card["marketing_angle"]
    assert len(tech_card["top_traits"]) == 5
    assert {"trait", "label", "direction", "standardised_difference", "persona_mean"} <= set(
        tech_card["top_traits"][0]
    )
    assert themes[by_truth["family"]] == "family"
    assert themes[by_truth["wealthy"]] == "premium"


def test_describe_personas_on_a_dataset_gives_complete_cards(tiny_dataset):
    data = load_persona_data(str(tiny_dataset), 800, 5, "2025-07-01", "all")
    matrix = prepare_persona_matrix(data.features, default_persona_columns(data.features))
    model = fit_clusterer(
        matrix.values, 4, "latent_class", seed=0, categorical_blocks=matrix.categorical_blocks
    )
    assignments = assign_personas(model, matrix.values, data.features["customer_id"])
    profiles = describe_personas(
        data.features, assignments, data.conversion, data.churn, data.model_line
    )
    assert len(profiles.cards) == 4 and len(set(profiles.names.values())) == 4
    card = profiles.cards[0]
    assert card["typical_model_line"] in {
        "compact_sedan",
        "family_suv_7seat",
        "premium_sedan",
        "city_mini",
    }
    assert 0 <= card["conversion_rate"] <= 1 and 0 <= card["churn_rate"] <= 1
    assert card["n_leads_labelled"] > 0 and card["n_owners_labelled"] > 0
    assert card["mean_predicted_value"] is None  # no value predictions given
    ids = assignments["customer_id"].astype(str)
    first = assignments["persona_id"].min()
    value = pd.Series(np.where(assignments["persona_id"] == first, 1000.0, 10.0), index=ids)
    valued = describe_personas(data.features, assignments, predicted_value=value.iloc[::2])
    by_id = {c["persona_id"]: c["mean_predicted_value"] for c in valued.cards}
    assert by_id[first] == 1000 and all(v == 10 for p, v in by_id.items() if p != first)
    with pytest.raises(ValueError, match="rows must match"):
        describe_personas(data.features.iloc[::-1], assignments)
