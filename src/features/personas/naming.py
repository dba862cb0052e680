"""Persona names, marketing themes and one-line marketing angles, from a small lexicon of
how traits read on a card.

May import ``features.personas.matrix`` and ``features.personas.profiles`` (trait naming
conventions) only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from features.personas.matrix import PERSONA_DIM_PREFIX
from features.personas.profiles import TRAIT_SEPARATOR


@dataclass(frozen=True)
class TraitWord:
    """How a trait reads on a card when it sets a persona apart in the given direction.

    ``pattern`` is a regular expression matched against the whole trait name (a feature name
    or ``column=value``); ``direction`` is +1 (above the population) or -1 (below). ``weight``
    scales the trait's pull on the name and theme: acquisition channels describe how a persona
    was reached more than who it is, so they weigh half. ``concept`` groups adjectives that say
    the same thing (default: the theme).
    """

    pattern: str
    direction: int
    adjective: str | None = None
    noun: str | None = None
    theme: str | None = None
    weight: float = 1.0
    concept: str | None = None

    @property
    def idea(self) -> str | None:
        """What the adjective says; a name uses one adjective per idea (default: the theme)."""
        return self.concept or self.theme


_CHANNEL = 0.5
_COUNT = r"(_count|_count_\d+d|_share)"

# First matching entry describes a trait; unmatched categories are left out of names.
TRAIT_LEXICON: tuple[TraitWord, ...] = (
    # persona dimensions (features.table.registry.PERSONA_DIMENSIONS)
    TraitWord(r"persona_dim_demographics", +1, "affluent urban", None, "premium"),
    TraitWord(r"persona_dim_demographics", -1, "small-town", None, "value"),
    TraitWord(r"persona_dim_consumption\w*", +1, "big-budget", None, "premium"),
    TraitWord(r"persona_dim_consumption\w*", -1, "budget-minded", None, "value"),
    TraitWord(r"persona_dim_technology\w*", +1, "tech-first", None, "tech"),
    TraitWord(r"persona_dim_technology\w*", -1, "low-tech", None, None),
    TraitWord(r"persona_dim_social\w*", +1, "community-minded", None, "community"),
    TraitWord(r"persona_dim_social\w*", -1, "independent", None, None, 0.5),
    TraitWord(r"persona_dim_values", +1, "brand-loyal", None, "community"),
    TraitWord(r"persona_dim_values", -1, "wavering", None, None),
    TraitWord(r"persona_dim_lifestyle", +1, "road-tripping", None, "family", 0.5),
    TraitWord(r"persona_dim_lifestyle", -1, "city-bound", None, "commuter", 0.5),
    # customer attributes
    TraitWord(r"age", -1, "young", None, "tech", concept="age"),
    TraitWord(r"age", +1, "mature", None, None, concept="age"),
    TraitWord(r"children", +1, "family", "families", "family"),
    TraitWord(r"children", -1, "child-free", None, None, 0.5),
    TraitWord(r"married", +1, "married", None, "family", 0.5),
    TraitWord(r"married", -1, "single", None, None, 0.5),
    TraitWord(r"cars_in_household", +1, "multi-car", None, "premium", 0.5),
    TraitWord(r"budget", +1, "big-budget", None, "premium"),
    TraitWord(r"budget", -1, "price-conscious", "value seekers", "value"),
    TraitWord(r"income_band=high", +1, "affluent", "high earners", "premium"),
    TraitWord(r"income_band=upper_middle", +1, "well-off", None, "premium", 0.5),
    TraitWord(r"income_band=middle", +1, "middle-income", None, None, 0.5),
    TraitWord(r"income_band=(low|lower_middle)", +1, "modest-income", None, "value"),
    TraitWord(r"income_band", +1, "affluent", None, "premium"),
    TraitWord(r"income_band", -1, "modest-income", None, "value"),
    TraitWord(r"city_tier=tier1", +1, "tier-1", None, "commuter"),
    TraitWord(r"city_tier=new_tier1", +1, "new-tier-1", None, "commuter", 0.5),
    TraitWord(r"city_tier=tier2", +1, "tier-2", None, None, 0.5),
    TraitWord(r"city_tier=tier3_plus", +1, "county-town", None, "value"),
    TraitWord(r"city_tier", -1, "big-city", None, "commuter"),
    TraitWord(r"city_tier", +1, "county-town", None, "value"),
    TraitWord(r"climate_zone=cold", +1, "cold-climate", None, None, 0.5),
    TraitWord(r"gender=female", +1, "women-led", None, None, 0.5),
    TraitWord(r"occupation=student", +1, "student", "students", "value"),
    TraitWord(r"occupation=retired", +1, "retired", "retirees", None),
    TraitWord(r"occupation=(executive|business_owner)", +1, "executive", "executives", "premium"),
    TraitWord(r"occupation=it_engineer", +1, "tech-savvy", "engineers", "tech"),
    TraitWord(r"occupation=office_worker", +1, "office-based", "office workers", "commuter"),
    TraitWord(r"occupation=civil_servant", +1, "civil-service", None, None, 0.5),
    TraitWord(r"occupation=teacher_medical", +1, "professional", None, None, 0.5),
    TraitWord(r"occupation=freelancer", +1, "freelance", "freelancers", None),
    TraitWord(r"acquisition_channel=referral", +1, "referred", None, "community", _CHANNEL),
    TraitWord(r"acquisition_channel=short_video", +1, "short-video", None, "tech", _CHANNEL),
    TraitWord(r"acquisition_channel=private_domain", +1, "app-club", None, "community", _CHANNEL),
    TraitWord(r"acquisition_channel=(store_walk_in|event)", +1, "showroom", None, None, _CHANNEL),
    TraitWord(
        r"acquisition_channel=(search|vertical_media)", +1, "online-research", None, None, _CHANNEL
    ),
    TraitWord(r"acquisition_channel=partner", +1, "partner-sourced", None, None, _CHANNEL),
    TraitWord(r"sales_model=dealer", +1, "dealer-served", None, None, _CHANNEL),
    TraitWord(r"sales_model=direct", +1, "direct-store", None, None, _CHANNEL),
    # behaviour (features.table.registry names); recency columns read the other way round
    TraitWord(r"is_owner", +1, None, "owners", None),
    TraitWord(r"is_owner", -1, None, "prospects", None),
    TraitWord(r"funnel_depth", +1, "ready-to-buy", None, None),
    TraitWord(r"funnel_depth", -1, "early-stage", None, None, 0.5),
    TraitWord(r"engagement_events_\d+d", -1, "disengaged", None, None, 0.5),
    TraitWord(r"order_value_last", +1, "premium-model", None, "premium"),
    TraitWord(
        r"evt_(ota_feature_use|driver_assist_use|configurator_session|app_login)" + _COUNT,
        +1,
        "tech-first",
        None,
        "tech",
    ),
    TraitWord(r"engagement_events_\d+d", +1, "app-active", None, "tech"),
    TraitWord(
        r"evt_(community_post|referral_made)" + _COUNT, +1, "community-minded", None, "community"
    ),
    TraitWord(r"charging_share_(fast|public)", +1, "fast-charging", "commuters", "commuter"),
    TraitWord(r"charging_share_home", +1, "home-charging", None, None, 0.5),
    TraitWord(r"evt_charging_session" + _COUNT, +1, "high-mileage", "commuters", "commuter"),
    TraitWord(
        r"(evt_(service_visit|complaint)" + _COUNT + r"|service_wait_\w+)",
        +1,
        "service-demanding",
        None,
        "premium",
        0.5,
    ),
    TraitWord(r"nps_(last|min)", +1, "enthusiastic", None, "community", 0.5),
    TraitWord(r"nps_(last|min)", -1, "dissatisfied", None, None, 0.5),
    TraitWord(
        r"evt_(store_visit|test_drive|quote)" + _COUNT, +1, "showroom-going", None, None, 0.5
    ),
)

THEME_NOUNS: dict[str, str] = {
    "tech": "tech enthusiasts",
    "family": "families",
    "premium": "premium buyers",
    "community": "community builders",
    "value": "value seekers",
    "commuter": "commuters",
}

# One-line marketing angles in the plan documents' vocabulary, one per theme.
MARKETING_ANGLES: dict[str, str] = {
    "tech": (
        "Lead with the smart cockpit, driver assistance and OTA upgrades: app-first content and "
        "test drives that show the latest OTA features."
    ),
    "family": (
        "Sell 7-seat space, safety and 800V fast charging: weekend family test drives with a "
        "home-charger installation offer."
    ),
    "premium": (
        "Offer clubhouse-style private service and the brand ecosystem: a dedicated advisor, "
        "invitation-only owner events and priority service."
    ),
    "community": (
        "Grow through referral rewards and the owner community: member-get-member offers, "
        "owner clubs and user-generated content."
    ),
    "value": (
        "Make price and financing clear: transparent pricing, low-down-payment loans, leasing "
        "and total-cost-of-ownership comparisons."
    ),
    "commuter": (
        "Promise daily-commute range and a 30-minute charge to 80%: range-confidence content "
        "and public fast-charging packages."
    ),
}
GENERIC_ANGLE = (
    "Nurture with tailored content across the customer's own channels and follow up on the "
    "strongest signal in this profile."
)


def describe_trait(trait: str, difference: float) -> TraitWord | None:
    """The first lexicon entry matching the trait in the direction of its difference."""
    direction = 1 if difference >= 0 else -1
    for word in TRAIT_LEXICON:
        if word.direction == direction and re.fullmatch(word.pattern, trait):
            return word
    return None


def trait_label(trait: str) -> str:
    """Readable trait name: ``persona_dim_technology`` -> ``technology score``."""
    if trait.startswith(PERSONA_DIM_PREFIX):
        return f"{trait[len(PERSONA_DIM_PREFIX) :].replace('_', ' ')} score"
    if TRAIT_SEPARATOR in trait:
        column, value = trait.split(TRAIT_SEPARATOR, 1)
        return f"{column.replace('_', ' ')}: {value.replace('_', ' ')}"
    return trait.replace("_", " ")


def _fallback_adjective(trait: str, difference: float) -> str:
    return f"{'high' if difference >= 0 else 'low'}-{trait_label(trait).replace(' ', '-')}"


def persona_theme(traits: Sequence[tuple[str, float]], min_difference: float = 0.2) -> str | None:
    """Dominant marketing theme: the theme whose lexicon traits add up the largest weighted
    |difference| (traits below ``min_difference`` ignored)."""
    scores: dict[str, float] = {}
    for trait, difference in traits:
        if abs(difference) < min_difference:
            continue
        word = describe_trait(trait, difference)
        if word is not None and word.theme is not None:
            scores[word.theme] = scores.get(word.theme, 0.0) + word.weight * abs(difference)
    if not scores:
        return None
    return max(scores, key=lambda t: (scores[t], t))


def _naming_order(traits: Sequence[tuple[str, float]]) -> list[tuple[str, float, TraitWord | None]]:
    described = [(t, d, describe_trait(t, d)) for t, d in traits]
    return sorted(described, key=lambda item: -abs(item[1]) * (item[2].weight if item[2] else 1))


def _stems(words: str) -> set[str]:
    return {w.lower()[:5] for w in re.split(r"[-\s]+", words) if len(w) >= 4}


def _restates(adjective: str, noun: str) -> bool:
    """True when the adjective repeats a word of the noun ("tech-first tech enthusiasts")."""
    return bool(_stems(adjective) & _stems(noun))


def name_persona(
    traits: Sequence[tuple[str, float]], n_adjectives: int = 2, theme: str | None = None
) -> str:
    """A name built from the top traits, e.g. "Young tech-first commuters".

    Adjectives come from the strongest traits (weighted by the lexicon; distinct words, one per
    idea, at most ``n_adjectives``); the noun from the strongest trait that has one, else from the theme
    (``persona_theme`` when not given), else "customers". Traits missing from the lexicon are
    skipped; only when no trait is in it does the strongest read "high-<feature>".
    """
    adjectives: list[str] = []
    noun: str | None = None
    ordered = _naming_order(traits)
    if all(word is None for _, _, word in ordered):
        numeric = [(t, d) for t, d, _ in ordered if TRAIT_SEPARATOR not in t]
        adjectives = [_fallback_adjective(*numeric[0])] if numeric else []
    used_ideas: set[str] = set()
    for _trait, _difference, word in ordered:
        if word is None:
            continue
        adjective = word.adjective
        if noun is None and word.noun is not None:
            # The trait that gives the noun is said once ("engineers", not "tech-savvy
            # engineers"; "families", not "family families").
            noun = word.noun
            continue
        # One adjective per idea: "budget-minded price-conscious" says the same thing twice.
        if word.idea is not None and word.idea in used_ideas:
            continue
        if adjective and adjective not in adjectives and len(adjectives) < n_adjectives:
            adjectives.append(adjective)
            if word.idea is not None:
                used_ideas.add(word.idea)
    if noun is None:
        noun = THEME_NOUNS.get(theme or persona_theme(traits) or "", "customers")
    adjectives = [a for a in adjectives if not _restates(a, noun)]
    words = " ".join([*adjectives, noun])
    return words[:1].upper() + words[1:]


def name_personas(
    traits_by_persona: Mapping[Any, Sequence[tuple[str, float]]],
    themes: Mapping[Any, str | None] | None = None,
) -> dict[Any, str]:
    """Unique names for all personas.

    Personas whose names collide get one more adjective from their next traits; if that is
    not enough a number is appended ("Young tech-first commuters 2").
    """
    themes = themes or {}
    names = {p: name_persona(t, 2, themes.get(p)) for p, t in traits_by_persona.items()}
    for n_adjectives in (3, 4):
        clashes = _clashing(names)
        if not clashes:
            break
        for persona in clashes:
            names[persona] = name_persona(
                traits_by_persona[persona], n_adjectives, themes.get(persona)
            )
    for name in set(_clashing(names).values()):
        tied = sorted((p for p in names if names[p] == name), key=str)
        for number, persona in enumerate(tied[1:], start=2):
            names[persona] = f"{name} {number}"
    return names


def _clashing(names: Mapping[Any, str]) -> dict[Any, str]:
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {p: n for p, n in names.items() if counts[n] > 1}


def marketing_angle(theme: str | None) -> str:
    """The one-line marketing angle of a theme (a generic nurture line when none fits)."""
    return MARKETING_ANGLES.get(theme or "", GENERIC_ANGLE)
