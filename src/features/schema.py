"""Column names, table names and category vocabularies shared by every module.

One place for names that appear in more than one module: the synthetic generator writes
these columns, the validator checks them, feature code reads them.
"""

from __future__ import annotations

# --- generic event log (the one input form of feature code) -------------------------------
ID_COL = "customer_id"
TIME_COL = "ts"
EVENT_TYPE_COL = "event_type"
CHANNEL_COL = "channel"
AMOUNT_COL = "value"

# --- raw synthetic dataset: one Parquet file per table -------------------------------------
CUSTOMERS_TABLE = "customers"
EVENTS_TABLE = "events"
ORDERS_TABLE = "orders"
TRUTH_TABLE = "truth"  # evaluation only: feature code never reads it
CAMPAIGNS_TABLE = "campaigns"  # randomised campaign waves: who was contacted, who succeeded
CAMPAIGN_TRUTH_TABLE = "campaign_truth"  # evaluation only: each contact's true effect
COMMENTS_TABLE = "comments"  # owners' comments in Chinese (raw text: may hold personal data)
COMMENT_TRUTH_TABLE = "comment_truth"  # evaluation only: each comment's sentiment and aspects
RAW_TABLES = (CUSTOMERS_TABLE, EVENTS_TABLE, ORDERS_TABLE, TRUTH_TABLE, CAMPAIGNS_TABLE,
              CAMPAIGN_TRUTH_TABLE, COMMENTS_TABLE, COMMENT_TRUTH_TABLE)  # fmt: skip
EVALUATION_TABLES = (TRUTH_TABLE, CAMPAIGN_TRUTH_TABLE, COMMENT_TRUTH_TABLE)
MANIFEST_FILE = "manifest.json"

# Time-zone rule: naive stamps are local business time; aware stamps are converted to this
# zone and made naive (features.data.reader). Cutoffs and as-of dates are business time too.
BUSINESS_TZ = "Asia/Shanghai"

# Personal fields exist only in raw customers; nothing downstream may carry them.
PERSONAL_FIELDS = ("full_name", "phone")

CUSTOMER_COLUMNS = (
    "customer_id",
    "lead_created_at",
    "full_name",
    "phone",
    "age",
    "gender",
    "city",
    "city_tier",
    "climate_zone",
    "income_band",
    "occupation",
    "married",
    "children",
    "cars_in_household",
    "acquisition_channel",
    "budget",
    "sales_model",
)
EVENT_COLUMNS = (ID_COL, TIME_COL, EVENT_TYPE_COL, CHANNEL_COL, AMOUNT_COL)
# Names that feature and label code look for in any log (NEV data or not).
LEAD_CREATED_COL = "lead_created_at"
ORDER_EVENT = "order"
DELIVERY_EVENT = "delivery"
ORDER_COLUMNS = ("customer_id", "order_ts", "model_line", "price", "financing", "sales_model")
TRUTH_COLUMNS = (
    "customer_id",
    "persona",
    "purchase_propensity",
    "order_intent_ts",
    "churn_hazard",
    "churn_ts",
)

GENDERS = ("female", "male")
CITY_TIERS = ("tier1", "new_tier1", "tier2", "tier3_plus")
CLIMATE_ZONES = ("cold", "temperate", "hot")
INCOME_BANDS = ("low", "lower_middle", "middle", "upper_middle", "high")
# Vocabularies written as one string each: read left to right, split on spaces.
OCCUPATIONS = tuple(
    "it_engineer office_worker civil_servant teacher_medical business_owner executive "
    "freelancer retired student".split()
)
ACQUISITION_CHANNELS = tuple(
    "search short_video vertical_media private_domain store_walk_in event referral partner".split()
)
SALES_MODELS = ("direct", "dealer")
MODEL_LINES = ("compact_sedan", "family_suv_7seat", "premium_sedan", "city_mini")
FINANCING = ("cash", "loan", "lease")

EVENT_TYPES = (
    "ad_click",
    "content_view",
    "app_login",
    "configurator_session",
    "store_visit",
    "test_drive",
    "quote",
    "order",
    "delivery",
    "charging_session",
    "ota_feature_use",
    "driver_assist_use",
    "service_visit",
    "complaint",
    "community_post",
    "referral_made",
    "nps_response",
    # revenue events: the amount in CNY is the event value (features.data.synth_value)
    "vehicle_purchase",
    "charging_payment",
    "service_payment",
    "software_purchase",
    "vas_purchase",
    "referral_order",
)
# Channel values used by charging sessions; other events carry a marketing/touchpoint channel.
CHARGING_CHANNELS = ("home", "public", "fast")
EVENT_CHANNELS = ACQUISITION_CHANNELS + CHARGING_CHANNELS + ("app", "store", "service_center")

# Funnel stages in order; a lead's depth is the furthest stage reached before the cutoff.
FUNNEL_STAGES = ("lead", "configurator_session", "store_visit", "test_drive", "quote")

# Persona names of the simulation's latent segments (truth file only).
PERSONAS = (
    "young_tech_enthusiast",
    "family_practical",
    "high_net_worth",
    "urban_commuter",
    "value_seeker",
)
