"""Persona profiles: per-customer traits, standardised differences of each persona from the
population, top traits, and per-persona summaries (size, share, typical channel and model
line, conversion and churn rates, seed-segment shares).

May import numpy, pandas, ``features.schema`` and ``features.personas.clustering``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.personas.clustering import PERSONA_ID_COL

# One-hot traits are named ``column=value`` (e.g. ``income_band=high``).
TRAIT_SEPARATOR = "="

# Traits that describe personas on cards (wider than the clustering inputs).
PROFILE_NUMERIC: tuple[str, ...] = (
    "age",
    "married",
    "children",
    "cars_in_household",
    "budget",
    "is_owner",
    "funnel_depth",
    "engagement_events_90d",
    "evt_configurator_session_count",
    "evt_test_drive_count",
    "evt_community_post_count",
    "evt_referral_made_count",
    "evt_complaint_count",
    "charging_share_home",
    "charging_share_fast",
    "nps_last",
    "order_value_last",
)
PROFILE_CATEGORICAL: tuple[str, ...] = (
    "gender",
    "city_tier",
    "income_band",
    "occupation",
    "acquisition_channel",
    "sales_model",
)


def build_profile_frame(
    features: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> pd.DataFrame:
    """Interpretable per-customer traits: numeric columns as they are, categories as 0/1.

    One-hot columns are named ``column=value`` (e.g. ``income_band=high``).
    """
    missing = [c for c in [*numeric, *categorical] if c not in features.columns]
    if missing:
        raise ValueError(f"features: column {missing[0]!r} missing (persona profile)")
    parts = [features[list(numeric)].astype(float)]
    for column in categorical:
        values = features[column].astype(object)
        dummies = pd.get_dummies(values, prefix=column, prefix_sep=TRAIT_SEPARATOR, dtype=float)
        dummies[values.isna().to_numpy()] = np.nan
        parts.append(dummies)
    profile = pd.concat(parts, axis=1)
    profile.index = features.index
    return profile


def standardised_differences(profile: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Per persona and trait: (persona mean − population mean) / population std.

    Traits without spread in the population are dropped. Rows: personas (sorted), columns:
    traits. Missing values are left out of both means.
    """
    if len(profile) != len(labels):
        raise ValueError(f"labels: {len(labels)} rows, profile has {len(profile)}")
    population_mean = profile.mean()
    population_std = profile.std(ddof=0)
    keep = population_std[population_std > 0].index
    group_means = profile[keep].groupby(np.asarray(labels), sort=True).mean()
    return (group_means - population_mean[keep]) / population_std[keep]


def top_traits(differences: pd.DataFrame, n: int = 5) -> dict[Any, list[tuple[str, float]]]:
    """The ``n`` traits with the largest absolute standardised difference, per persona.

    For one-hot traits only over-representation counts (being "not in tier 1" is implied by
    another category's over-representation and reads badly on a card).
    """
    result: dict[Any, list[tuple[str, float]]] = {}
    for persona, row in differences.iterrows():
        eligible = row[[not (TRAIT_SEPARATOR in t and row[t] < 0) for t in row.index]].dropna()
        ranked = eligible.reindex(eligible.abs().sort_values(ascending=False).index)
        result[persona] = [(str(t), float(v)) for t, v in ranked.head(n).items()]
    return result


def _typical_value(values: pd.Series) -> tuple[str | None, float]:
    counts = values.dropna().astype(str).value_counts(normalize=True)
    if counts.empty:
        return None, float("nan")
    return str(counts.index[0]), float(counts.iloc[0])


def _label_rate(members: pd.Index, labels: pd.Series | None) -> tuple[float, int]:
    if labels is None:
        return float("nan"), 0
    present = labels.reindex(members).dropna()
    if present.empty:
        return float("nan"), 0
    return float(present.astype(float).mean()), int(len(present))


def summarise_personas(
    assignments: pd.DataFrame,
    attributes: pd.DataFrame,
    conversion: pd.Series | None = None,
    churn: pd.Series | None = None,
    model_line: pd.Series | None = None,
    channel_col: str = "acquisition_channel",
) -> pd.DataFrame:
    """Per persona: size, share, typical channel and model line, conversion and churn rates.

    Args:
        assignments: customer_id and persona_id (``assign_personas``).
        attributes: customer attributes indexed by customer_id (channel, age, children,
            income_band when available).
        conversion: 0/1 conversion label indexed by customer_id (leads only).
        churn: 0/1 churn label indexed by customer_id (owners only).
        model_line: model line of orders before the cutoff, indexed by customer_id.

    Returns:
        One row per persona_id with the columns above plus seed-segment shares
        (share_under_35, share_family, share_high_net_worth) when the attributes allow.
    """
    ids = assignments.set_index(schema.ID_COL)[PERSONA_ID_COL]
    total = len(ids)
    seed_flags = seed_segment_flags(attributes.reindex(ids.index))
    rows = []
    for persona_id, members in ids.groupby(ids, sort=True):
        member_ids = members.index
        row: dict[str, Any] = {
            PERSONA_ID_COL: int(persona_id),
            "size": int(len(member_ids)),
            "share": len(member_ids) / total,
        }
        if channel_col in attributes.columns:
            channel, channel_share = _typical_value(attributes[channel_col].reindex(member_ids))
            row["top_channel"], row["top_channel_share"] = channel, channel_share
        if model_line is not None:
            line, line_share = _typical_value(model_line.reindex(member_ids))
            row["top_model_line"], row["top_model_line_share"] = line, line_share
            row["n_with_order"] = int(model_line.reindex(member_ids).notna().sum())
        row["conversion_rate"], row["n_leads_labelled"] = _label_rate(member_ids, conversion)
        row["churn_rate"], row["n_owners_labelled"] = _label_rate(member_ids, churn)
        for segment in seed_flags.columns:
            row[f"share_{segment}"] = float(seed_flags.loc[member_ids, segment].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def seed_segment_flags(attributes: pd.DataFrame) -> pd.DataFrame:
    """0/1 flags for the seed segments the attributes can identify.

    under_35: age < 35; family: at least one child; high_net_worth: income band "high".
    These are attribute proxies for the plan documents' segments, not their definitions.
    """
    flags = pd.DataFrame(index=attributes.index)
    if "age" in attributes.columns:
        flags["under_35"] = (attributes["age"].astype(float) < 35).astype(float)
    if "children" in attributes.columns:
        flags["family"] = (attributes["children"].astype(float) > 0).astype(float)
    if "income_band" in attributes.columns:
        flags["high_net_worth"] = (attributes["income_band"].astype(object) == "high").astype(float)
    return flags
