"""The parity log of the Spark tests: a seeded synthetic log of 2,000 customers plus planted
edge cases (the session is the ``spark`` fixture of ``tests/conftest.py``)."""

from __future__ import annotations

import pandas as pd
import pytest

from features import schema
from features.data.synth import generate_dataset

CUTOFF = pd.Timestamp("2025-07-01")
US = pd.Timedelta(microseconds=1)
LATE = pd.Timestamp("2025-06-30 23:59:59.999999")


def planted_rows() -> list[tuple]:
    """(customer_id, ts, event_type, channel, value) rows of the edge-case customers."""
    day = pd.Timedelta(days=1)
    return [
        ("Z001", CUTOFF, "app_login", "app", 1.0),  # at the cutoff: not a feature input
        ("Z001", CUTOFF - US, "app_login", "app", 2.0),  # 1 µs before: counted
        ("Z002", LATE, "charging_session", "app", 0.0),  # zero amount at 23:59:59.999999
        ("Z002", LATE, "service_visit", None, None),  # tie in time, NULL channel and amount
        ("Z002", LATE - 40 * day, "order", "store", 250_000.0),
        ("Z002", LATE - 35 * day, "delivery", "store", None),
        ("Z003", CUTOFF - 10 * day, "ad_click", "search", None),  # one event, NULL amount
        ("Z004", CUTOFF - 3 * day, "store_visit", "store", 5.0),  # ties: same stamp, two
        ("Z004", CUTOFF - 3 * day, "store_visit", "app", 5.0),  # channels, same amount
        ("Z004", CUTOFF - 3 * day, "ad_click", None, 5.0),
        ("Z005", CUTOFF - 200 * day, "order", "store", 0.0),  # zero-amount order, long ago
        ("Z005", CUTOFF + 5 * day, "order", "store", 9.0),  # after the cutoff: a label only
        (None, CUTOFF - day, "app_login", "app", 1.0),  # no id: never counted
    ]


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The parity log as a Parquet file (and frame) with its customers, personal fields dropped."""
    root = tmp_path_factory.mktemp("parity")
    data = generate_dataset(2000, 7, root / "data")
    events = pd.read_parquet(data / "events.parquet")
    planted = pd.DataFrame(planted_rows(), columns=list(schema.EVENT_COLUMNS))
    planted[schema.TIME_COL] = planted[schema.TIME_COL].astype("datetime64[us]")
    events = pd.concat([events, planted], ignore_index=True)
    path = root / "events.parquet"
    events.to_parquet(path, index=False)
    customers = pd.read_parquet(data / "customers.parquet").drop(
        columns=list(schema.PERSONAL_FIELDS)
    )
    extra = customers.head(6).copy()
    extra[schema.ID_COL] = ["Z001", "Z002", "Z003", "Z004", "Z005", "Z009"]  # Z009: no events
    extra[schema.LEAD_CREATED_COL] = CUTOFF - pd.Timedelta(days=400)
    customers = pd.concat([customers, extra], ignore_index=True)
    return {"path": path, "events": events, "customers": customers, "dataset": data}
