"""Shared fixtures: tiny hand-made event logs and raw datasets in the schema's format.

``nev_events`` and ``nev_customers`` are module-scoped (module fixtures and Hypothesis tests
can use them): the tests of a module share one frame, so derive new frames from it and never
change it in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features import schema


@pytest.fixture(scope="session")
def spark() -> Any:
    """One local SparkSession for the ``spark``-marked tests (``local[2]``, UTC, UI off).

    The marker keeps them on one pytest-xdist worker and so on one session. Without Java they
    are skipped with the reason, unless ``NEV_REQUIRE_SPARK=1`` (set by ``make test``, which
    installs Java first): then a missing Java fails the run.
    """
    from features.engine.spark import SparkUnavailable, local_session

    try:
        return local_session()
    except SparkUnavailable as exc:
        if os.environ.get("NEV_REQUIRE_SPARK") == "1":
            pytest.fail(f"Spark is required here: {exc}")
        pytest.skip(str(exc))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``): the tests of one file stay on one worker, so
    module fixtures are built once (``make test`` runs nbval in a process of its own)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:  # the Spark tests share one worker and so one SparkSession
        group = "spark" if item.get_closest_marker("spark") else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))


PERSONAL_VALUES = ("王小明", "13812345678", "李静怡", "13998765432", "张伟", "15011112222")
TRUTH_MARKER = "TRUTH-FILE-MUST-NOT-BE-READ"


def _events_frame(rows: list[tuple]) -> pd.DataFrame:
    """Canonical events from (customer_id, ts, event_type, channel, value) tuples."""
    frame = pd.DataFrame(rows, columns=list(schema.EVENT_COLUMNS))
    frame[schema.ID_COL] = frame[schema.ID_COL].astype("str")
    frame[schema.TIME_COL] = pd.to_datetime(frame[schema.TIME_COL], format="ISO8601").astype(
        "datetime64[us]"
    )
    frame[schema.EVENT_TYPE_COL] = frame[schema.EVENT_TYPE_COL].astype("str")
    frame[schema.CHANNEL_COL] = frame[schema.CHANNEL_COL].astype("str")
    frame[schema.AMOUNT_COL] = frame[schema.AMOUNT_COL].astype("float64")
    return frame


def _monthly(
    cid: str, event_type: str, channel: str, start: str, end: str, value: float = np.nan
) -> list[tuple]:
    return [
        (cid, ts.strftime("%Y-%m-%d 09:00:00"), event_type, channel, value)
        for ts in pd.date_range(start, end, freq="MS")
    ]


def _nev_events() -> pd.DataFrame:
    """A small NEV journey: four leads, four owners, one lead created after the cutoff."""
    rows = [
        # c01: lead, configurator, test drive; orders after the cutoff (conversion positive)
        ("c01", "2025-01-10 10:00:00", "ad_click", "search", np.nan),
        ("c01", "2025-02-01 10:00:00", "configurator_session", "app", np.nan),
        ("c01", "2025-06-01 10:00:00", "test_drive", "store", np.nan),
        ("c01", "2025-07-15 10:00:00", "order", "store", 230000.0),
        # c02: browsing lead, never orders
        ("c02", "2025-02-01 10:00:00", "ad_click", "short_video", np.nan),
        ("c02", "2025-03-01 10:00:00", "content_view", "short_video", np.nan),
        # c03: store visit and quote, orders in September
        ("c03", "2025-03-01 10:00:00", "content_view", "vertical_media", np.nan),
        ("c03", "2025-04-01 10:00:00", "store_visit", "store", np.nan),
        ("c03", "2025-04-02 10:00:00", "quote", "store", np.nan),
        ("c03", "2025-09-01 10:00:00", "order", "store", 310000.0),
        # c04: one click
        ("c04", "2025-04-01 10:00:00", "ad_click", "search", np.nan),
        # c05: happy owner, active after the cutoff
        ("c05", "2024-02-10 10:00:00", "store_visit", "store", np.nan),
        ("c05", "2024-03-01 10:00:00", "order", "store", 250000.0),
        ("c05", "2024-04-01 10:00:00", "delivery", "store", np.nan),
        ("c05", "2025-03-01 10:00:00", "nps_response", "app", 9.0),
        ("c05", "2025-06-20 10:00:00", "referral_made", "app", np.nan),
        *_monthly("c05", "charging_session", "home", "2024-05-01", "2025-12-01", 40.0),
        *_monthly("c05", "app_login", "app", "2024-05-01", "2025-12-01"),
        # c06: unhappy owner in a cold zone, silent after May 2025
        ("c06", "2024-03-01 10:00:00", "order", "store", 200000.0),
        ("c06", "2024-05-01 10:00:00", "delivery", "store", np.nan),
        ("c06", "2025-01-10 10:00:00", "service_visit", "service_center", 5.0),
        ("c06", "2025-01-12 10:00:00", "complaint", "service_center", np.nan),
        ("c06", "2025-02-01 10:00:00", "nps_response", "app", 3.0),
        *_monthly("c06", "charging_session", "fast", "2024-06-01", "2025-05-01", 55.0),
        # c07: owner active after the cutoff
        ("c07", "2024-06-01 10:00:00", "order", "store", 180000.0),
        ("c07", "2024-07-01 10:00:00", "delivery", "store", np.nan),
        ("c07", "2025-05-05 10:00:00", "service_visit", "service_center", 1.0),
        *_monthly("c07", "charging_session", "public", "2024-08-01", "2025-12-01", 30.0),
        # c08: owner who goes quiet after the cutoff
        ("c08", "2024-01-15 10:00:00", "order", "store", 400000.0),
        ("c08", "2024-02-15 10:00:00", "delivery", "store", np.nan),
        ("c08", "2025-06-10 10:00:00", "ota_feature_use", "app", np.nan),
        ("c08", "2025-06-11 10:00:00", "driver_assist_use", "app", np.nan),
        # c09: lead created after the cutoff (its events are all after it too)
        ("c09", "2025-08-01 10:00:00", "ad_click", "search", np.nan),
        ("c09", "2025-12-30 10:00:00", "store_visit", "store", np.nan),
    ]
    return _events_frame(rows)


def _nev_customers() -> pd.DataFrame:
    """Customers of ``_nev_events`` with every schema column, personal fields included."""
    ids = [f"c0{i}" for i in range(1, 10)]
    lead_created = [
        "2025-01-10",
        "2025-02-01",
        "2025-03-01",
        "2025-04-01",
        "2024-02-10",
        "2024-02-20",
        "2024-05-20",
        "2024-01-10",
        "2025-08-01",
    ]
    names = ["王小明", "李静怡", "张伟", "赵磊", "陈芳", "刘洋", "杨娜", "黄强", "周杰"]
    phones = [
        "13812345678",
        "13998765432",
        "15011112222",
        "13700001111",
        "13600002222",
        "13500003333",
        "13400004444",
        "13300005555",
        "13200006666",
    ]
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "lead_created_at": pd.to_datetime(lead_created).astype("datetime64[us]"),
            "full_name": names,
            "phone": phones,
            "age": [28, 35, 42, 24, 38, 45, 31, 52, 29],
            "gender": [
                "male",
                "female",
                "male",
                "female",
                "female",
                "male",
                "female",
                "male",
                "male",
            ],
            "city": [
                "Beijing",
                "Chengdu",
                "Shanghai",
                "Luoyang",
                "Hangzhou",
                "Harbin",
                "Guangzhou",
                "Shenzhen",
                "Wuhan",
            ],
            "city_tier": [
                "tier1",
                "new_tier1",
                "tier1",
                "tier3_plus",
                "new_tier1",
                "tier2",
                "tier1",
                "tier1",
                "new_tier1",
            ],
            "climate_zone": [
                "temperate",
                "temperate",
                "temperate",
                "temperate",
                "temperate",
                "cold",
                "hot",
                "hot",
                "hot",
            ],
            "income_band": [
                "upper_middle",
                "middle",
                "high",
                "low",
                "middle",
                "lower_middle",
                "upper_middle",
                "high",
                "middle",
            ],
            "occupation": [
                "it_engineer",
                "teacher_medical",
                "executive",
                "student",
                "office_worker",
                "civil_servant",
                "freelancer",
                "business_owner",
                "it_engineer",
            ],
            "married": [False, True, True, False, True, True, False, True, False],
            "children": [0, 1, 2, 0, 2, 1, 0, 3, 0],
            "cars_in_household": [0, 1, 2, 0, 1, 1, 1, 2, 0],
            "acquisition_channel": [
                "search",
                "short_video",
                "vertical_media",
                "search",
                "store_walk_in",
                "referral",
                "event",
                "private_domain",
                "search",
            ],
            "budget": [
                250000.0,
                180000.0,
                400000.0,
                120000.0,
                260000.0,
                200000.0,
                190000.0,
                450000.0,
                220000.0,
            ],
            "sales_model": [
                "direct",
                "dealer",
                "direct",
                "dealer",
                "direct",
                "dealer",
                "direct",
                "direct",
                "dealer",
            ],
        }
    )
    frame["customer_id"] = frame["customer_id"].astype("str")
    return frame[list(schema.CUSTOMER_COLUMNS)]


def _write_raw_dataset(folder: Path) -> Path:
    """Write the tiny NEV dataset in the raw format, with an unreadable truth file."""
    folder.mkdir(parents=True, exist_ok=True)
    events = _nev_events()
    events.to_parquet(folder / "events.parquet", index=False)
    _nev_customers().to_parquet(folder / "customers.parquet", index=False)
    orders = events[events["event_type"] == "order"].rename(
        columns={"ts": "order_ts", "value": "price"}
    )
    orders = orders.assign(model_line="compact_sedan", financing="loan", sales_model="direct")
    orders[list(schema.ORDER_COLUMNS)].to_parquet(folder / "orders.parquet", index=False)
    # Not Parquet: any attempt to read it fails loudly, and its marker must never reach outputs.
    (folder / "truth.parquet").write_text(f"{TRUTH_MARKER} {PERSONAL_VALUES[0]}\n")
    (folder / "manifest.json").write_text(json.dumps({"generator": "hand-made fixture"}))
    return folder


def _notebook_params(**overrides: Any) -> dict[str, Any]:
    params = {
        "data_source": "synthetic",
        "n_customers": 8000,
        "seed": 7,
        "cutoff": "2025-07-01",
        "horizon_days": 90,
        "lookback_days": 90,
        "split": "time",
        "test_size": 0.25,
        "target": "",
        "positive_label": None,
        "id_col": "customer_id",
        "time_col": "ts",
        "amount_col": "value",
        "event_type_col": "event_type",
        "drop_cols": [],
        "n_trials": 0,
        "output_dir": "",
        "mlflow_tracking_uri": "",
        "min_class_count": 20,
        "contact_cost": 200.0,
        "value_per_positive": 2000.0,
        "num_threads": 1,
        "engine": "duckdb",
    }
    params.update(overrides)
    return params


@pytest.fixture(scope="session")
def notebook_params() -> Callable[..., dict[str, Any]]:
    """Factory: the study notebooks' parameters (tiny synthetic study) with keyword overrides."""
    return _notebook_params


@pytest.fixture(scope="session")
def events_frame() -> Callable[[list[tuple]], pd.DataFrame]:
    """Factory: canonical events from (customer_id, ts, event_type, channel, value) tuples."""
    return _events_frame


@pytest.fixture(scope="module")
def nev_events() -> pd.DataFrame:
    """A small NEV journey: four leads, four owners, one lead created after the cutoff."""
    return _nev_events()


@pytest.fixture(scope="module")
def nev_customers() -> pd.DataFrame:
    """Customers of ``nev_events`` with every schema column, personal fields included."""
    return _nev_customers()


@pytest.fixture
def raw_dataset(tmp_path: Path) -> Path:
    """The tiny NEV dataset written in the raw format to ``tmp_path/raw/tiny``.

    Its truth file is not Parquet (any attempt to read it fails loudly) and holds
    ``truth_marker`` and a personal value, which must never reach any output.
    """
    return _write_raw_dataset(tmp_path / "raw" / "tiny")


@pytest.fixture(scope="session")
def personal_values() -> tuple[str, ...]:
    """Personal field values (names, phone numbers) of ``nev_customers``."""
    return PERSONAL_VALUES


@pytest.fixture(scope="session")
def truth_marker() -> str:
    """Text planted in the raw dataset's truth file."""
    return TRUTH_MARKER
