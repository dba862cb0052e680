"""Data contracts of the raw synthetic tables: columns, dtypes, nulls, categories, ranges, keys.

A contract is plain data so that it can be printed in reports and checked by
``features.data.validate``. Rules that need more than one table or more than one row
(references, the manifest's window and checksums, sort order, orders matching their order
events, values per event type) are listed by name in ``extra`` and implemented in the
validator.

May import the foundation modules only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from features import schema

CUSTOMER_ID_PATTERN = r"C\d{7,}"
PHONE_PATTERN = r"1[3-9]\d{9}"


@dataclass(frozen=True)
class ColumnRule:
    """What one column must look like.

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
    """What one raw table must look like."""

    name: str
    columns: tuple[ColumnRule, ...]
    unique_key: tuple[str, ...] = ()
    references: tuple[tuple[str, str, str], ...] = ()  # (column, other table, other column)
    window_columns: tuple[str, ...] = ()  # timestamps that must lie inside the window
    sorted_by: tuple[str, ...] = ()
    evaluation_only: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # rule name -> plain-words description

    def column(self, name: str) -> ColumnRule:
        """The rule of column ``name``."""
        return next(rule for rule in self.columns if rule.name == name)


CUSTOMERS = TableContract(
    name=schema.CUSTOMERS_TABLE,
    columns=(
        ColumnRule("customer_id", "string", pattern=CUSTOMER_ID_PATTERN),
        ColumnRule("lead_created_at", "datetime"),
        ColumnRule("full_name", "string"),
        ColumnRule("phone", "string", pattern=PHONE_PATTERN),
        ColumnRule("age", "int", minimum=18, maximum=90),
        ColumnRule("gender", "string", categories=schema.GENDERS),
        ColumnRule("city", "string"),
        ColumnRule("city_tier", "string", categories=schema.CITY_TIERS),
        ColumnRule("climate_zone", "string", categories=schema.CLIMATE_ZONES),
        ColumnRule("income_band", "string", categories=schema.INCOME_BANDS),
        ColumnRule("occupation", "string", categories=schema.OCCUPATIONS),
        ColumnRule("married", "bool"),
        ColumnRule("children", "int", minimum=0, maximum=10),
        ColumnRule("cars_in_household", "int", minimum=0, maximum=10),
        ColumnRule("acquisition_channel", "string", categories=schema.ACQUISITION_CHANNELS),
        ColumnRule("budget", "float", minimum=0),
        ColumnRule("sales_model", "string", categories=schema.SALES_MODELS),
    ),
    unique_key=("customer_id",),
    window_columns=("lead_created_at",),
)

EVENTS = TableContract(
    name=schema.EVENTS_TABLE,
    columns=(
        ColumnRule(schema.ID_COL, "string", pattern=CUSTOMER_ID_PATTERN),
        ColumnRule(schema.TIME_COL, "datetime"),
        ColumnRule(schema.EVENT_TYPE_COL, "string", categories=schema.EVENT_TYPES),
        ColumnRule(schema.CHANNEL_COL, "string", categories=schema.EVENT_CHANNELS),
        ColumnRule(schema.AMOUNT_COL, "float", nullable=True, minimum=0),
    ),
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
    columns=(
        ColumnRule("customer_id", "string", pattern=CUSTOMER_ID_PATTERN),
        ColumnRule("order_ts", "datetime"),
        ColumnRule("model_line", "string", categories=schema.MODEL_LINES),
        ColumnRule("price", "float", minimum=0),
        ColumnRule("financing", "string", categories=schema.FINANCING),
        ColumnRule("sales_model", "string", categories=schema.SALES_MODELS),
    ),
    unique_key=("customer_id",),
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
    columns=(
        ColumnRule("customer_id", "string", pattern=CUSTOMER_ID_PATTERN),
        ColumnRule("persona", "string", categories=schema.PERSONAS),
        ColumnRule("purchase_propensity", "float", minimum=0, maximum=1),
        ColumnRule("order_intent_ts", "datetime", nullable=True),
        ColumnRule("churn_hazard", "float", nullable=True, minimum=0),
        ColumnRule("churn_ts", "datetime", nullable=True),
        # Added for the oracle (features.data.oracle); see synth.TRUTH_EXTRA_COLUMNS.
        ColumnRule("lead_created_at", "datetime"),
        ColumnRule("journey_end_ts", "datetime", nullable=True),
        ColumnRule("decision_fast_share", "float", minimum=0, maximum=1),
        ColumnRule("decision_fast_days", "float", minimum=0),
        ColumnRule("decision_slow_days", "float", minimum=0),
        ColumnRule("delivery_ts", "datetime", nullable=True),
        ColumnRule("activity_rate", "float", nullable=True, minimum=0),
        ColumnRule("winter_activity_rate", "float", nullable=True, minimum=0),
        ColumnRule("winter_hazard_factor", "float", nullable=True, minimum=0),
    ),
    unique_key=("customer_id",),
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

CONTRACTS: dict[str, TableContract] = {c.name: c for c in (CUSTOMERS, EVENTS, ORDERS, TRUTH)}

def column_names(contract: TableContract) -> tuple[str, ...]:
    """The contract's columns in order."""
    return tuple(rule.name for rule in contract.columns)
