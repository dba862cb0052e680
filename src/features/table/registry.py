"""The feature registry: every feature column described once, in plain words.

Feature names are generated here and nowhere else; ``features.table.build`` asks this module
for the names it emits, so the table a report prints and the columns a model sees cannot drift
apart. ``describe_feature`` turns a column name into words for per-customer explanations
("days since last test drive").

May import the foundation modules only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import pandas as pd

from features import schema
from features.defaults import FEATURE_WINDOWS

REGISTRY_VERSION = "1.0.0"

# Fixed windows of some families (independent of the ``windows`` argument of build_features).
TYPE_WINDOW_DAYS = 90
TREND_WINDOW_DAYS = 30

ENGAGEMENT_EVENT_TYPES = ("app_login", "community_post", "ota_feature_use", "driver_assist_use")

# Customer attributes used as features, with their kind. ``city`` is left out on purpose: it is
# high-cardinality and city_tier / climate_zone carry its signal.
CATEGORICAL_ATTRIBUTES = {
    "gender": schema.GENDERS,
    "city_tier": schema.CITY_TIERS,
    "climate_zone": schema.CLIMATE_ZONES,
    "income_band": schema.INCOME_BANDS,
    "occupation": schema.OCCUPATIONS,
    "acquisition_channel": schema.ACQUISITION_CHANNELS,
    "sales_model": schema.SALES_MODELS,
}
NUMERIC_ATTRIBUTES = ("age", "married", "children", "cars_in_household", "budget")
# Customer attributes used as features: everything but keys, timestamps, personal fields and the
# free-text city (city_tier carries its signal).
ATTRIBUTE_ORDER = tuple(
    c
    for c in schema.CUSTOMER_COLUMNS
    if c not in ("customer_id", "lead_created_at", "city", *schema.PERSONAL_FIELDS)
)

PERSONA_DIMENSIONS = {
    "demographics": (
        "demographic profile score 0-1: mean of income band rank, city tier rank (tier 1 = 1) "
        "and youth (age 20 -> 1, age 60 -> 0)"
    ),
    "consumption_behaviour": (
        "consumption score 0-1: mean of budget (100k CNY -> 0, 500k CNY -> 1) and, for owners, "
        "charging intensity (charging sessions in the last 90 days / 36, capped at 1)"
    ),
    "technology_acceptance": (
        "technology acceptance score 0-1: mean of configurator use (sessions / 5), app logins "
        "in the last 90 days / 30 and, for owners, OTA + driver-assist uses in 90 days / 30 "
        "(each capped at 1)"
    ),
    "social_network": (
        "social network score 0-1: mean of community posts in 90 days / 6, referrals made / 2 "
        "(each capped at 1) and acquisition through referral, private domain or events"
    ),
    "values": (
        "values and loyalty score 0-1: mean of last NPS / 10, freedom from complaints "
        "(1 - complaints / 3, floored at 0) and brand content views in 90 days / 20 (capped)"
    ),
    "lifestyle": (
        "trip-scenario score 0-1 (long-distance and family use): mean of public+fast charging "
        "share, driver-assist uses in 90 days / 20 (capped), children / 2 (capped) and owning "
        "two or more cars"
    ),
}


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column: its name, plain-words meaning, data source and time window."""

    name: str
    meaning: str
    source: str
    window: str


def slugify(label: str) -> str:
    """Lower-case identifier form of an event type or channel (``"Test Drive"`` -> ``test_drive``)."""
    slug = re.sub(r"[^0-9a-z]+", "_", str(label).strip().lower()).strip("_")
    return slug or "blank"


def _words(slug: str) -> str:
    return slug.replace("_", " ")


def _window(days: int) -> str:
    return f"last {days} days"


def event_type_feature_names(slug: str) -> dict[str, str]:
    """Column names of the per-event-type family for one event-type slug."""
    return {
        "count": f"evt_{slug}_count",
        "count_window": f"evt_{slug}_count_{TYPE_WINDOW_DAYS}d",
        "recency": f"evt_{slug}_days_since_last",
        "share": f"evt_{slug}_share",
    }


def channel_feature_name(slug: str) -> str:
    """Column name of the channel-mix share for one channel slug."""
    return f"chn_{slug}_share"


def core_specs(windows: Sequence[int] = FEATURE_WINDOWS) -> list[FeatureSpec]:
    """Features every event log supports: recency, frequency, monetary, tenure, gaps, trends."""
    ev = "events"
    history = "all history before cutoff"
    specs = [
        FeatureSpec("recency_days", "days since the last event", ev, history),
        FeatureSpec("tenure_days", "days since the first event", ev, history),
        FeatureSpec("n_events_total", "number of events", ev, history),
        FeatureSpec("active_days_total", "number of distinct days with an event", ev, history),
        FeatureSpec(
            "amount_sum_total",
            "total amount of spend events (all events of a generic log; orders in NEV data)",
            ev,
            history,
        ),
        FeatureSpec("amount_mean", "mean amount per spend event", ev, history),
        FeatureSpec("amount_max", "largest amount of a spend event", ev, history),
    ]
    for days in windows:
        specs += [
            FeatureSpec(
                f"n_events_{days}d", f"number of events in the {_window(days)}", ev, _window(days)
            ),
            FeatureSpec(
                f"amount_sum_{days}d",
                f"amount of spend events in the {_window(days)}",
                ev,
                _window(days),
            ),
            FeatureSpec(
                f"active_days_{days}d",
                f"number of distinct days with an event in the {_window(days)}",
                ev,
                _window(days),
            ),
        ]
    specs += [
        FeatureSpec("first_amount", "amount of the first spend event", ev, history),
        FeatureSpec("last_amount", "amount of the latest spend event", ev, history),
        FeatureSpec("first_event_type", "type of the first event", ev, history),
        FeatureSpec("first_channel", "channel of the first event", ev, history),
        FeatureSpec("gap_mean_days", "mean days between consecutive active days", ev, history),
        FeatureSpec(
            "gap_max_days", "longest gap in days between consecutive active days", ev, history
        ),
        FeatureSpec(
            "gap_std_days", "standard deviation of the gaps between active days", ev, history
        ),
        FeatureSpec(
            "recency_to_gap_mean",
            "days since the last event divided by the mean gap (above 1: overdue)",
            ev,
            history,
        ),
        FeatureSpec(
            "trend_events_30d",
            "events in the last 30 days minus events in the 30 days before",
            ev,
            "last 30 days vs previous 30 days",
        ),
        FeatureSpec(
            "trend_events_ratio_30d",
            "(events in the last 30 days + 1) / (events in the 30 days before + 1)",
            ev,
            "last 30 days vs previous 30 days",
        ),
        FeatureSpec(
            "trend_amount_30d",
            "spend in the last 30 days minus spend in the 30 days before",
            ev,
            "last 30 days vs previous 30 days",
        ),
    ]
    return specs


def event_type_specs(event_types: Iterable[str]) -> list[FeatureSpec]:
    """Per-event-type counts, recency and mix shares."""
    specs: list[FeatureSpec] = []
    for event_type in event_types:
        slug = slugify(event_type)
        names = event_type_feature_names(slug)
        source = f"events: {event_type}"
        words = _words(slug)
        specs += [
            FeatureSpec(
                names["count"], f"number of {words} events", source, "all history before cutoff"
            ),
            FeatureSpec(
                names["count_window"],
                f"number of {words} events in the {_window(TYPE_WINDOW_DAYS)}",
                source,
                _window(TYPE_WINDOW_DAYS),
            ),
            FeatureSpec(
                names["recency"], f"days since last {words}", source, "all history before cutoff"
            ),
            FeatureSpec(
                names["share"],
                f"share of {words} among all events",
                source,
                "all history before cutoff",
            ),
        ]
    return specs


def channel_specs(channels: Iterable[str]) -> list[FeatureSpec]:
    """Channel-mix shares."""
    return [
        FeatureSpec(
            channel_feature_name(slugify(channel)),
            f"share of events through the {_words(slugify(channel))} channel",
            f"events: channel {channel}",
            "all history before cutoff",
        )
        for channel in channels
    ]


def nev_specs() -> list[FeatureSpec]:
    """Families that exist only for NEV data (funnel, service, engagement, charging, NPS)."""
    history = "all history before cutoff"
    return [
        FeatureSpec(
            "funnel_depth",
            "furthest purchase-funnel stage reached: 0 lead, 1 configurator session, "
            "2 store visit, 3 test drive, 4 quote",
            "events: configurator_session, store_visit, test_drive, quote",
            history,
        ),
        FeatureSpec(
            "service_wait_mean_days",
            "mean wait in days per service visit",
            "events: service_visit value",
            history,
        ),
        FeatureSpec(
            "service_wait_max_days",
            "longest wait in days for a service visit",
            "events: service_visit value",
            history,
        ),
        FeatureSpec(
            "engagement_events_30d",
            "app logins, community posts, OTA and driver-assist uses in the last 30 days",
            "events: " + ", ".join(ENGAGEMENT_EVENT_TYPES),
            _window(30),
        ),
        FeatureSpec(
            "engagement_events_90d",
            "app logins, community posts, OTA and driver-assist uses in the last 90 days",
            "events: " + ", ".join(ENGAGEMENT_EVENT_TYPES),
            _window(90),
        ),
        FeatureSpec(
            "engagement_trend_30d",
            "engagement events in the last 30 days minus the 30 days before",
            "events: " + ", ".join(ENGAGEMENT_EVENT_TYPES),
            "last 30 days vs previous 30 days",
        ),
        FeatureSpec(
            "charging_share_home",
            "share of charging sessions at home",
            "events: charging_session channel",
            history,
        ),
        FeatureSpec(
            "charging_share_public",
            "share of charging sessions at public chargers",
            "events: charging_session channel",
            history,
        ),
        FeatureSpec(
            "charging_share_fast",
            "share of charging sessions at fast chargers",
            "events: charging_session channel",
            history,
        ),
        FeatureSpec("nps_last", "latest NPS answer (0-10)", "events: nps_response value", history),
        FeatureSpec("nps_min", "lowest NPS answer (0-10)", "events: nps_response value", history),
        FeatureSpec(
            "is_owner",
            "1 if the car was delivered before the cutoff, else 0",
            "events: delivery",
            history,
        ),
        FeatureSpec(
            "days_since_delivery",
            "days since the first delivery (owner tenure)",
            "events: delivery",
            history,
        ),
        FeatureSpec(
            "order_value_last", "price of the latest order", "events: order value", history
        ),
    ]


def attribute_specs() -> list[FeatureSpec]:
    """Customer attributes (no personal fields) and lead age."""
    meanings = {
        "age": "age in years",
        "gender": "gender",
        "city_tier": "city tier",
        "climate_zone": "climate zone (cold winters cut range)",
        "income_band": "income band",
        "occupation": "occupation",
        "married": "1 if married",
        "children": "number of children",
        "cars_in_household": "cars in the household",
        "acquisition_channel": "channel through which the lead was acquired",
        "budget": "stated budget (CNY)",
        "sales_model": "sales model serving the customer (direct store or dealer)",
    }
    specs = [
        FeatureSpec(name, meanings[name], f"customers: {name}", "static")
        for name in ATTRIBUTE_ORDER
    ]
    specs.append(
        FeatureSpec(
            "days_since_lead_created",
            "days since the lead was created",
            "customers: lead_created_at",
            "all history before cutoff",
        )
    )
    return specs


def persona_specs() -> list[FeatureSpec]:
    """Scores for the six persona dimensions of the industry plans."""
    return [
        FeatureSpec(
            f"persona_dim_{name}", meaning, "derived: customers and events", "mixed (see meaning)"
        )
        for name, meaning in PERSONA_DIMENSIONS.items()
    ]


def feature_specs(
    windows: Sequence[int] = FEATURE_WINDOWS,
    event_types: Iterable[str] = schema.EVENT_TYPES,
    channels: Iterable[str] = schema.EVENT_CHANNELS,
    nev: bool = True,
    attributes: bool = True,
) -> list[FeatureSpec]:
    """All feature specs in the column order of ``build_features``."""
    specs = core_specs(windows) + event_type_specs(event_types) + channel_specs(channels)
    if nev:
        specs += nev_specs()
    if attributes:
        specs += attribute_specs()
    if nev:
        specs += persona_specs()
    return specs


def feature_registry(
    windows: Sequence[int] = FEATURE_WINDOWS,
    event_types: Iterable[str] = schema.EVENT_TYPES,
    channels: Iterable[str] = schema.EVENT_CHANNELS,
) -> pd.DataFrame:
    """Registry table (name, meaning, source, window) of NEV features for the given vocabulary."""
    specs = feature_specs(windows, tuple(event_types), tuple(channels), nev=True, attributes=True)
    return pd.DataFrame(
        [asdict(spec) for spec in specs], columns=["name", "meaning", "source", "window"]
    )


@lru_cache(maxsize=1)
def _default_specs() -> dict[str, FeatureSpec]:
    return {spec.name: spec for spec in feature_specs()}


_EVENT_TYPE_NAME = re.compile(r"^evt_(.+)_(count|count_\d+d|days_since_last|share)$")
_CHANNEL_NAME = re.compile(r"^chn_(.+)_share$")
_WINDOW_NAME = re.compile(r"^(?:n_events|amount_sum|active_days)_(\d+)d$")


def feature_spec(name: str) -> FeatureSpec:
    """Spec of a feature column, including data-dependent names of generic logs.

    Raises:
        KeyError: ``name`` is not a feature this registry version can emit.
    """
    spec = _default_specs().get(name)
    if spec is not None:
        return spec
    candidates: list[FeatureSpec] = []
    if match := _EVENT_TYPE_NAME.match(name):
        candidates = event_type_specs([match[1]])
    elif match := _CHANNEL_NAME.match(name):
        candidates = channel_specs([match[1]])
    elif match := _WINDOW_NAME.match(name):
        candidates = core_specs((int(match[1]),))
    for candidate in candidates:
        if candidate.name == name:
            return candidate
    raise KeyError(f"{name!r} is not a feature of the registry (version {REGISTRY_VERSION})")


def describe_feature(name: str) -> str:
    """Plain-words meaning of a feature column; raises KeyError for an unknown name."""
    return feature_spec(name).meaning


def feature_registry_for(columns: Iterable[str]) -> pd.DataFrame:
    """Registry rows (name, meaning, source, window) of the feature columns of a built table."""
    specs = [feature_spec(c) for c in columns if c != schema.ID_COL]
    return pd.DataFrame([asdict(s) for s in specs], columns=["name", "meaning", "source", "window"])
