"""Data contracts of the raw synthetic tables and the processed snapshots, declared once.

Each table is a pandera ``DataFrameModel`` (columns, dtypes, nulls, vocabularies, ranges, text
patterns, unique keys; strict: no other columns). ``features.data.validate`` reads the same
declarations as ``ColumnRule`` rows and checks them column-wise (fast on millions of rows, and
every failure reported as one line; the events file as DuckDB SQL derived from those rows); small frames can be checked by pandera itself
(``model.validate(df, lazy=True)``). Rules that need more than one table or more than one row
(references, the manifest's window and checksums, sort order, orders matching their order
events, values per event type) are listed by name in ``extra`` and implemented in the
validator.

May import the foundation modules only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from features import schema

CUSTOMER_ID_PATTERN = r"C\d{7,}"
PHONE_PATTERN = r"1[3-9]\d{9}"


@dataclass(frozen=True)
class ColumnRule:
    """What one column must look like (read from a pandera model).

    ``kind`` is one of ``string``, ``datetime``, ``int``, ``float``, ``bool``.
    """

    name: str
    kind: str
    nullable: bool = False
    categories: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class TableContract:
    """What one table must look like: its pandera model and the rules beyond one column."""

    name: str
    model: type[pa.DataFrameModel]
    references: tuple[tuple[str, str, str], ...] = ()  # (column, other table, other column)
    window_columns: tuple[str, ...] = ()  # timestamps that must lie inside the window
    sorted_by: tuple[str, ...] = ()
    evaluation_only: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # rule name -> plain-words description

    @property
    def columns(self) -> tuple[ColumnRule, ...]:
        """The model's columns as rules, in order."""
        return column_rules(self.model)

    @property
    def unique_key(self) -> tuple[str, ...]:
        """Columns declared unique in the model."""
        return _unique_key(self.model)

    def column(self, name: str) -> ColumnRule:
        """The rule of column ``name``."""
        return next(rule for rule in self.columns if rule.name == name)


@functools.cache
def _unique_key(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    return tuple(n for n, c in model.to_schema().columns.items() if c.unique)


def _kind(dtype: object) -> str:
    text = str(dtype)
    for kind, markers in (
        ("bool", ("bool",)),
        ("datetime", ("datetime",)),
        ("int", ("int",)),
        ("float", ("float",)),
    ):
        if any(marker in text for marker in markers):
            return kind
    return "string"


@functools.cache
def column_rules(model: type[pa.DataFrameModel]) -> tuple[ColumnRule, ...]:
    """The columns of a pandera model as ``ColumnRule`` rows (for column-wise validation)."""
    rules = []
    for name, column in model.to_schema().columns.items():
        stats = {check.name: check.statistics for check in column.checks}
        allowed = stats.get("isin", {}).get("allowed_values")
        rules.append(
            ColumnRule(
                name=name,
                kind=_kind(column.dtype),
                nullable=column.nullable,
                categories=tuple(allowed) if allowed is not None else None,
                minimum=stats.get("greater_than_or_equal_to", {}).get("min_value"),
                maximum=stats.get("less_than_or_equal_to", {}).get("max_value"),
                pattern=stats.get("str_matches", {}).get("pattern"),
            )
        )
    return tuple(rules)


# --- raw tables --------------------------------------------------------------------------


class Customers(pa.DataFrameModel):
    """One row per customer (personal fields only here)."""

    customer_id: Series[str] = pa.Field(str_matches=CUSTOMER_ID_PATTERN, unique=True)
    lead_created_at: Series[pd.Timestamp]
    full_name: Series[str]
    phone: Series[str] = pa.Field(str_matches=PHONE_PATTERN)
    age: Series[int] = pa.Field(ge=18, le=90)
    gender: Series[str] = pa.Field(isin=schema.GENDERS)
    city: Series[str]
    city_tier: Series[str] = pa.Field(isin=schema.CITY_TIERS)
    climate_zone: Series[str] = pa.Field(isin=schema.CLIMATE_ZONES)
    income_band: Series[str] = pa.Field(isin=schema.INCOME_BANDS)
    occupation: Series[str] = pa.Field(isin=schema.OCCUPATIONS)
    married: Series[bool]
    children: Series[int] = pa.Field(ge=0, le=10)
    cars_in_household: Series[int] = pa.Field(ge=0, le=10)
    acquisition_channel: Series[str] = pa.Field(isin=schema.ACQUISITION_CHANNELS)
    budget: Series[float] = pa.Field(ge=0)
    sales_model: Series[str] = pa.Field(isin=schema.SALES_MODELS)

    class Config:
        name = schema.CUSTOMERS_TABLE
        strict = True


class Events(pa.DataFrameModel):
    """The event log, sorted by customer and time."""

    customer_id: Series[str] = pa.Field(str_matches=CUSTOMER_ID_PATTERN)
    ts: Series[pd.Timestamp]
    event_type: Series[str] = pa.Field(isin=schema.EVENT_TYPES)
    channel: Series[str] = pa.Field(isin=schema.EVENT_CHANNELS)
    value: Series[float] = pa.Field(nullable=True, ge=0)

    class Config:
        name = schema.EVENTS_TABLE
        strict = True


class Orders(pa.DataFrameModel):
    """At most one order per customer."""

    customer_id: Series[str] = pa.Field(str_matches=CUSTOMER_ID_PATTERN, unique=True)
    order_ts: Series[pd.Timestamp]
    model_line: Series[str] = pa.Field(isin=schema.MODEL_LINES)
    price: Series[float] = pa.Field(ge=0)
    financing: Series[str] = pa.Field(isin=schema.FINANCING)
    sales_model: Series[str] = pa.Field(isin=schema.SALES_MODELS)

    class Config:
        name = schema.ORDERS_TABLE
        strict = True


class Truth(pa.DataFrameModel):
    """The simulation's hidden truth (evaluation only; see synth.TRUTH_EXTRA_COLUMNS)."""

    customer_id: Series[str] = pa.Field(str_matches=CUSTOMER_ID_PATTERN, unique=True)
    persona: Series[str] = pa.Field(isin=schema.PERSONAS)
    purchase_propensity: Series[float] = pa.Field(ge=0, le=1)
    order_intent_ts: Series[pd.Timestamp] = pa.Field(nullable=True)
    churn_hazard: Series[float] = pa.Field(nullable=True, ge=0)
    churn_ts: Series[pd.Timestamp] = pa.Field(nullable=True)
    lead_created_at: Series[pd.Timestamp]
    journey_end_ts: Series[pd.Timestamp] = pa.Field(nullable=True)
    decision_fast_share: Series[float] = pa.Field(ge=0, le=1)
    decision_fast_days: Series[float] = pa.Field(ge=0)
    decision_slow_days: Series[float] = pa.Field(ge=0)
    delivery_ts: Series[pd.Timestamp] = pa.Field(nullable=True)
    activity_rate: Series[float] = pa.Field(nullable=True, ge=0)
    winter_activity_rate: Series[float] = pa.Field(nullable=True, ge=0)
    winter_hazard_factor: Series[float] = pa.Field(nullable=True, ge=0)
    # Expected CNY per active year by value stream (features.data.synth_value); owners only.
    value_rate_purchase: Series[float] = pa.Field(nullable=True, ge=0)
    value_rate_usage: Series[float] = pa.Field(nullable=True, ge=0)
    value_rate_vas: Series[float] = pa.Field(nullable=True, ge=0)
    value_rate_social: Series[float] = pa.Field(nullable=True, ge=0)

    class Config:
        name = schema.TRUTH_TABLE
        strict = True


class Campaigns(pa.DataFrameModel):
    """Randomised campaign waves as the CRM recorded them (features.data.synth_campaigns)."""

    campaign_id: Series[str] = pa.Field(str_matches=r"(winback|test_drive)_\d{6}")
    task: Series[str] = pa.Field(isin=("winback", "test_drive"))
    customer_id: Series[str] = pa.Field(str_matches=CUSTOMER_ID_PATTERN)
    sent_at: Series[pd.Timestamp]
    treated: Series[int] = pa.Field(isin=(0, 1))
    outcome: Series[int] = pa.Field(isin=(0, 1))

    class Config:
        name = schema.CAMPAIGNS_TABLE
        strict = True
        unique = ["campaign_id", "customer_id"]


class CampaignTruth(pa.DataFrameModel):
    """Each campaign contact's baseline success probability and true effect (evaluation only)."""

    campaign_id: Series[str] = pa.Field(str_matches=r"(winback|test_drive)_\d{6}")
    customer_id: Series[str] = pa.Field(str_matches=CUSTOMER_ID_PATTERN)
    p0: Series[float] = pa.Field(ge=0, le=1)
    true_uplift: Series[float] = pa.Field(ge=-1, le=1)
    save_share: Series[float] = pa.Field(ge=0, le=1)
    push_share: Series[float] = pa.Field(ge=0, le=1)

    class Config:
        name = schema.CAMPAIGN_TRUTH_TABLE
        strict = True
        unique = ["campaign_id", "customer_id"]


class Comments(pa.DataFrameModel):
    """Owners' comments (features.data.synth_voice); the text is raw data."""

    comment_id: Series[str] = pa.Field(str_matches=r"M\d{8,}", unique=True)
    customer_id: Series[str] = pa.Field(str_matches=CUSTOMER_ID_PATTERN)
    ts: Series[pd.Timestamp]
    source: Series[str] = pa.Field(isin=("nps", "service", "app_review"))
    text: Series[str] = pa.Field(str_length={"min_value": 1})

    class Config:
        name = schema.COMMENTS_TABLE
        strict = True


class CommentTruth(pa.DataFrameModel):
    """Each comment's true sentiment, aspects and planted personal data (evaluation only)."""

    comment_id: Series[str] = pa.Field(str_matches=r"M\d{8,}", unique=True)
    sentiment: Series[str] = pa.Field(isin=("positive", "negative"))
    aspect: Series[str] = pa.Field(isin=("range", "charging", "service", "infotainment", "ota",
                                         "price"))  # fmt: skip
    second_aspect: Series[str] = pa.Field(isin=("", "range", "charging", "service",
                                                "infotainment", "ota", "price"))  # fmt: skip
    pii: Series[str] = pa.Field(isin=("", "phone", "id_number", "plate", "name"))

    class Config:
        name = schema.COMMENT_TRUTH_TABLE
        strict = True


# --- processed snapshot tables -------------------------------------------------------------


class Labels(pa.DataFrameModel):
    """``labels_<task>.parquet``: one 0/1 label per customer of the population."""

    customer_id: Series[str] = pa.Field(unique=True)
    label: Series[int] = pa.Field(isin=(0, 1))

    class Config:
        name = "labels"
        strict = True


class Features(pa.DataFrameModel):
    """``features.parquet``: one row per customer; the feature columns are the registry's."""

    customer_id: Series[str] = pa.Field(unique=True)

    class Config:
        name = "features"
        strict = False


CUSTOMERS = TableContract(
    name=schema.CUSTOMERS_TABLE,
    model=Customers,
    window_columns=("lead_created_at",),
)

EVENTS = TableContract(
    name=schema.EVENTS_TABLE,
    model=Events,
    references=((schema.ID_COL, schema.CUSTOMERS_TABLE, "customer_id"),),
    window_columns=(schema.TIME_COL,),
    sorted_by=(schema.ID_COL, schema.TIME_COL),
    extra={
        "nps_range": "nps_response value is a whole score from 0 to 10",
        "service_wait": "service_visit value (wait days) is present and not negative",
        "order_value": "order value (the price) is present and positive",
        "charging_channel": "charging_session channel is home, public or fast, and only they are",
        "event_after_lead": "no event before the customer's lead_created_at",
        "sorted": "rows are sorted by customer_id, then ts",
    },
)

ORDERS = TableContract(
    name=schema.ORDERS_TABLE,
    model=Orders,
    references=(("customer_id", schema.CUSTOMERS_TABLE, "customer_id"),),
    window_columns=("order_ts",),
    extra={
        "order_after_lead": "order_ts is not before the customer's lead_created_at",
        "order_event": "each order has one 'order' event at order_ts with value = price, and "
        "each 'order' event has its order",
        "sales_model_match": "an order's sales_model is its customer's sales_model",
    },
)

TRUTH = TableContract(
    name=schema.TRUTH_TABLE,
    model=Truth,
    references=(("customer_id", schema.CUSTOMERS_TABLE, "customer_id"),),
    window_columns=(
        "order_intent_ts",
        "churn_ts",
        "lead_created_at",
        "journey_end_ts",
        "delivery_ts",
    ),
    evaluation_only=True,
    extra={
        "coverage": "one truth row for every customer",
        "quiet_after_churn": "no event at or after an owner's churn_ts",
    },
)

CAMPAIGNS = TableContract(
    name=schema.CAMPAIGNS_TABLE,
    model=Campaigns,
    references=(("customer_id", schema.CUSTOMERS_TABLE, "customer_id"),),
    window_columns=("sent_at",),
)

CAMPAIGN_TRUTH = TableContract(
    name=schema.CAMPAIGN_TRUTH_TABLE,
    model=CampaignTruth,
    references=(("customer_id", schema.CUSTOMERS_TABLE, "customer_id"),),
    evaluation_only=True,
)

COMMENTS = TableContract(
    name=schema.COMMENTS_TABLE,
    model=Comments,
    references=(("customer_id", schema.CUSTOMERS_TABLE, "customer_id"),),
    window_columns=("ts",),
)

COMMENT_TRUTH = TableContract(
    name=schema.COMMENT_TRUTH_TABLE,
    model=CommentTruth,
    evaluation_only=True,
)

CONTRACTS: dict[str, TableContract] = {
    c.name: c
    for c in (CUSTOMERS, EVENTS, ORDERS, TRUTH, CAMPAIGNS, CAMPAIGN_TRUTH, COMMENTS, COMMENT_TRUTH)
}
PROCESSED_MODELS: dict[str, type[pa.DataFrameModel]] = {"features": Features, "labels": Labels}


def column_names(contract: TableContract) -> tuple[str, ...]:
    """The contract's columns in order."""
    return tuple(rule.name for rule in contract.columns)
