"""Persona cards: profile, name and card every persona (``describe_personas``), and set
persona shares beside the seed segments of the industry plans.

May import numpy, pandas, ``features.schema`` and the matrix, clustering, profiles and naming
modules of ``features.personas``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.personas.clustering import PERSONA_ID_COL
from features.personas.matrix import persona_dimension_columns
from features.personas.naming import marketing_angle, name_personas, persona_theme, trait_label
from features.personas.profiles import (
    PROFILE_CATEGORICAL,
    PROFILE_NUMERIC,
    build_profile_frame,
    seed_segment_flags,
    standardised_differences,
    summarise_personas,
    top_traits,
)

# Seed figures ("industry plan figures") that persona shares are reported against.
SEED_SHARES: dict[str, float] = {"under_35": 0.42, "family": 0.25, "high_net_worth": 0.18}
SEED_SEGMENT_LABELS: dict[str, str] = {
    "under_35": "Under 35 years old",
    "family": "Family buyers",
    "high_net_worth": "High-net-worth buyers",
}
# The seed segment a persona of each marketing theme counts towards.
SEED_SEGMENT_BY_THEME: dict[str, str] = {
    "tech": "under_35",
    "family": "family",
    "premium": "high_net_worth",
}


def compare_seed_shares(
    summary: pd.DataFrame, themes: Mapping[int, str | None], population_flags: pd.DataFrame
) -> pd.DataFrame:
    """Seed segment shares beside the population's attribute shares and persona shares.

    Columns: segment, label, seed_share (industry plan figure), attribute_share (customers
    carrying the attribute proxy, ``seed_segment_flags``), persona_share (customers in personas
    whose theme maps to the segment), personas (their ids).
    """
    rows = []
    for segment, seed_share in SEED_SHARES.items():
        persona_ids = [
            int(p)
            for p, theme in themes.items()
            if SEED_SEGMENT_BY_THEME.get(theme or "") == segment
        ]
        persona_share = float(summary.loc[summary[PERSONA_ID_COL].isin(persona_ids), "share"].sum())
        attribute_share = (
            float(population_flags[segment].mean())
            if segment in population_flags.columns
            else float("nan")
        )
        rows.append(
            {
                "segment": segment,
                "label": SEED_SEGMENT_LABELS[segment],
                "seed_share": seed_share,
                "attribute_share": attribute_share,
                "persona_share": persona_share,
                "personas": sorted(persona_ids),
            }
        )
    return pd.DataFrame(rows)


def json_number(value: Any, digits: int = 4) -> float | int | None:
    """``value`` as a JSON number: ints and bools as int, floats rounded, NaN and None as None."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


MEAN_VALUE_COL = "mean_predicted_value"


def mean_predicted_value_by_persona(
    persona_of_customer: pd.Series, value: pd.DataFrame
) -> pd.Series:
    """Mean ``predicted_value`` (notebook 04's value.parquet) per persona id.

    ``persona_of_customer`` maps customer_id (index) to persona id; customers without a
    prediction are left out. Join the result to the summary as ``MEAN_VALUE_COL``.
    """
    predicted = value.set_index("customer_id")["predicted_value"]
    joined = pd.DataFrame({"persona": persona_of_customer, "value": predicted}).dropna()
    return joined.groupby("persona")["value"].mean().rename(MEAN_VALUE_COL)


def build_persona_cards(
    summary: pd.DataFrame,
    traits: Mapping[int, Sequence[tuple[str, float]]],
    names: Mapping[int, str],
    themes: Mapping[int, str | None],
    profile_means: pd.DataFrame | None = None,
    population_means: pd.Series | None = None,
) -> list[dict[str, Any]]:
    """JSON-serialisable persona cards, one per persona, largest first.

    Args:
        summary: ``summarise_personas`` output.
        traits: top traits (trait, standardised difference) per persona id.
        names: persona name per persona id.
        themes: marketing theme per persona id.
        profile_means: mean of every trait per persona id (rows) to show raw levels.
        population_means: population mean of every trait.
    """
    cards = []
    for row in summary.sort_values(PERSONA_ID_COL).to_dict("records"):
        persona_id = int(row[PERSONA_ID_COL])
        theme = themes.get(persona_id)
        card: dict[str, Any] = {
            PERSONA_ID_COL: persona_id,
            "name": names[persona_id],
            "theme": theme,
            "marketing_angle": marketing_angle(theme),
            "size": int(row["size"]),
            "share": json_number(row["share"]),
            "top_traits": [],
            "typical_channel": row.get("top_channel"),
            "typical_channel_share": json_number(row.get("top_channel_share")),
            "typical_model_line": row.get("top_model_line"),
            "typical_model_line_share": json_number(row.get("top_model_line_share")),
            "conversion_rate": json_number(row.get("conversion_rate")),
            "n_leads_labelled": json_number(row.get("n_leads_labelled")),
            "churn_rate": json_number(row.get("churn_rate")),
            "n_owners_labelled": json_number(row.get("n_owners_labelled")),
            # present when the summary carries it (``mean_predicted_value_by_persona``)
            "mean_predicted_value": json_number(row.get(MEAN_VALUE_COL), 0),
            "seed_segment": SEED_SEGMENT_BY_THEME.get(theme or ""),
            "seed_segment_shares": {
                segment: json_number(row.get(f"share_{segment}"))
                for segment in SEED_SHARES
                if f"share_{segment}" in row
            },
        }
        for trait, difference in traits.get(persona_id, []):
            entry: dict[str, Any] = {
                "trait": trait,
                "label": trait_label(trait),
                "direction": "higher" if difference >= 0 else "lower",
                "standardised_difference": json_number(difference, 3),
            }
            if profile_means is not None and trait in profile_means.columns:
                entry["persona_mean"] = json_number(profile_means.loc[persona_id, trait], 3)
            if population_means is not None and trait in population_means.index:
                entry["population_mean"] = json_number(population_means[trait], 3)
            card["top_traits"].append(entry)
        cards.append(card)
    return cards


@dataclass
class PersonaProfiles:
    """Everything that describes the personas: tables for plots and cards for marketers."""

    differences: pd.DataFrame
    traits: dict[int, list[tuple[str, float]]]
    themes: dict[int, str | None]
    names: dict[int, str]
    summary: pd.DataFrame
    seed_shares: pd.DataFrame
    cards: list[dict[str, Any]]


def describe_personas(
    features: pd.DataFrame,
    assignments: pd.DataFrame,
    conversion: pd.Series | None = None,
    churn: pd.Series | None = None,
    model_line: pd.Series | None = None,
    n_traits: int = 5,
    n_naming_traits: int = 8,
    predicted_value: pd.Series | None = None,
) -> PersonaProfiles:
    """Profile, name and card every persona.

    Args:
        features: the clustered customers (same rows and order as ``assignments``).
        assignments: ``assign_personas`` output.
        conversion, churn, model_line: by customer_id (see ``summarise_personas``).
        n_traits: traits per card.
        n_naming_traits: traits the name is built from (the theme uses the card's traits).
        predicted_value: predicted value by customer_id (notebook 04's value.parquet): the
            summary and cards gain the mean per persona.
    """
    if len(features) != len(assignments) or not np.array_equal(
        features[schema.ID_COL].astype(str).to_numpy(),
        assignments[schema.ID_COL].astype(str).to_numpy(),
    ):
        raise ValueError("assignments: rows must match the feature table's customers in order")
    present = set(features.columns)
    numeric = persona_dimension_columns(features) + [c for c in PROFILE_NUMERIC if c in present]
    categorical = [c for c in PROFILE_CATEGORICAL if c in present]
    profile = build_profile_frame(features, numeric, categorical)
    persona_ids = assignments[PERSONA_ID_COL].to_numpy()
    differences = standardised_differences(profile, pd.Series(persona_ids))
    traits = {int(p): t for p, t in top_traits(differences, n_traits).items()}
    themes = {p: persona_theme(t) for p, t in traits.items()}
    # Names look a little further than the card's traits, so that two personas with similar
    # top traits can still be told apart.
    naming = {int(p): t for p, t in top_traits(differences, n_naming_traits).items()}
    names = name_personas(naming, themes)
    attributes = features.set_index(features[schema.ID_COL].astype(str))
    ids = assignments.assign(**{schema.ID_COL: assignments[schema.ID_COL].astype(str)})
    summary = summarise_personas(ids, attributes, conversion, churn, model_line)
    if predicted_value is not None:
        persona_of = ids.set_index(schema.ID_COL)[PERSONA_ID_COL]
        value_frame = predicted_value.rename("predicted_value").rename_axis(schema.ID_COL)
        means = mean_predicted_value_by_persona(persona_of, value_frame.reset_index())
        summary[MEAN_VALUE_COL] = summary[PERSONA_ID_COL].map(means)
    seed_shares = compare_seed_shares(summary, themes, seed_segment_flags(attributes))
    cards = build_persona_cards(
        summary,
        traits,
        names,
        themes,
        profile_means=profile.groupby(persona_ids).mean(),
        population_means=profile.mean(),
    )
    return PersonaProfiles(differences, traits, themes, names, summary, seed_shares, cards)
