"""Hand-computed fixtures for every feature family of build_features."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from features import schema
from features.data.eventlog import DataError, load_event_log
from features.table import aggregate, registry
from features.table.build import build_features, is_nev_log, parse_cutoff

CUTOFF = pd.Timestamp("2025-07-01")

GENERIC_ROWS = [
    ("a", "2025-06-30 12:00:00", "purchase", "web", 10.0),
    ("a", "2025-06-30 18:00:00", "purchase", "web", 0.0),
    ("a", "2025-06-21 00:00:00", "visit", "app", np.nan),
    ("a", "2025-05-22 00:00:00", "purchase", "store", 30.0),
    ("a", "2025-01-02 00:00:00", "purchase", "store", 5.0),
    ("a", "2025-07-01 00:00:00", "purchase", "web", 999.0),  # at the cutoff: excluded
    ("b", "2024-07-01 00:00:00", "visit", "web", np.nan),  # exactly 365 days before
    ("b", "2024-06-30 00:00:00", "purchase", "store", 50.0),
    ("c", "2025-08-01 00:00:00", "purchase", "web", 20.0),  # only after the cutoff: no row
]


@pytest.fixture(scope="module")
def generic(events_frame) -> pd.DataFrame:
    return build_features(events_frame(GENERIC_ROWS), CUTOFF).set_index("customer_id")


@pytest.fixture(scope="module")
def nev(nev_events, nev_customers) -> pd.DataFrame:
    return build_features(nev_events, CUTOFF, nev_customers).set_index("customer_id")


def test_rows_are_customers_with_events_before_cutoff_sorted(generic):
    assert list(generic.index) == ["a", "b"]


def test_recency_tenure_and_totals(generic):
    a, b = generic.loc["a"], generic.loc["b"]
    assert a["recency_days"] == pytest.approx(0.25)
    assert a["tenure_days"] == pytest.approx(180.0)
    assert a["n_events_total"] == 5
    assert a["active_days_total"] == 4
    assert a["amount_sum_total"] == pytest.approx(45.0)
    assert a["amount_mean"] == pytest.approx(45.0 / 4)  # the visit has no amount
    assert a["amount_max"] == pytest.approx(30.0)
    assert b["recency_days"] == pytest.approx(365.0)
    assert b["tenure_days"] == pytest.approx(366.0)


@pytest.mark.parametrize(
    ("days", "n_events", "amount", "active_days"),
    [(7, 2, 10.0, 1), (30, 3, 10.0, 2), (90, 4, 40.0, 3), (365, 5, 45.0, 4)],
)
def test_frequency_and_monetary_windows(generic, days, n_events, amount, active_days):
    a = generic.loc["a"]
    assert a[f"n_events_{days}d"] == n_events
    assert a[f"amount_sum_{days}d"] == pytest.approx(amount)
    assert a[f"active_days_{days}d"] == active_days


def test_window_includes_an_event_exactly_window_days_before(generic):
    b = generic.loc["b"]
    assert b["n_events_365d"] == 1
    assert b["amount_sum_365d"] == 0.0  # the only event in the window has no amount
    assert b["n_events_90d"] == 0


def test_first_and_last_values(generic):
    a = generic.loc["a"]
    assert a["first_amount"] == pytest.approx(5.0)
    assert a["last_amount"] == 0.0  # zero amount of the latest purchase is kept
    assert a["first_event_type"] == "purchase"
    assert a["first_channel"] == "store"


def test_inter_event_gaps(generic):
    a, b = generic.loc["a"], generic.loc["b"]
    gaps = np.array([140.0, 30.0, 9.0])  # between distinct active days
    assert a["gap_mean_days"] == pytest.approx(gaps.mean())
    assert a["gap_max_days"] == 140
    assert a["gap_std_days"] == pytest.approx(gaps.std(ddof=1))
    assert a["recency_to_gap_mean"] == pytest.approx(0.25 / gaps.mean())
    assert b["gap_mean_days"] == 1 and np.isnan(b["gap_std_days"])


def test_trends_last_30_vs_previous_30(generic):
    a, b = generic.loc["a"], generic.loc["b"]
    assert a["trend_events_30d"] == 2  # 3 events in the last 30 days, 1 in the 30 before
    assert a["trend_events_ratio_30d"] == pytest.approx(4 / 2)
    assert a["trend_amount_30d"] == pytest.approx(10.0 - 30.0)
    assert b["trend_events_30d"] == 0 and b["trend_events_ratio_30d"] == 1


def test_event_type_and_channel_mix(generic):
    a = generic.loc["a"]
    assert a["evt_purchase_count"] == 4
    assert a["evt_purchase_count_90d"] == 3
    assert a["evt_purchase_days_since_last"] == pytest.approx(0.25)
    assert a["evt_visit_days_since_last"] == pytest.approx(10.0)
    assert a["evt_purchase_share"] == pytest.approx(0.8)
    assert a["chn_web_share"] == pytest.approx(0.4)
    assert a["chn_app_share"] == pytest.approx(0.2)
    assert a["chn_store_share"] == pytest.approx(0.4)


def test_generic_columns_follow_the_registry_order(generic):
    expected = [
        s.name
        for s in registry.feature_specs(
            event_types=["purchase", "visit"], channels=["app", "store", "web"], nev=False
        )
        if not s.source.startswith("customers:")
    ]
    assert list(generic.columns) == expected


def test_dtypes_are_float64_or_category(generic, nev):
    for table in (generic, nev):
        for name, dtype in table.dtypes.items():
            assert dtype == "float64" or isinstance(dtype, pd.CategoricalDtype), name
    assert list(nev["gender"].cat.categories) == list(schema.GENDERS)
    assert list(nev["first_event_type"].cat.categories) == list(schema.EVENT_TYPES)


def test_nev_detection():
    assert is_nev_log(["ad_click", "test_drive"])
    assert not is_nev_log(["ad_click", "content_view"])  # marketing events alone
    assert is_nev_log(["ad_click"], ["customer_id", "lead_created_at", "sales_model", "city_tier"])
    assert not is_nev_log(["purchase", "test_drive"])
    assert not is_nev_log([])


def test_funnel_stage_reached(nev):
    assert nev.loc["c01", "funnel_depth"] == 3  # test drive
    assert nev.loc["c02", "funnel_depth"] == 0  # lead only
    assert nev.loc["c03", "funnel_depth"] == 4  # quote
    assert nev.loc["c01", "evt_test_drive_days_since_last"] == pytest.approx(29 + 14 / 24)
    assert nev.loc["c01", "evt_configurator_session_count"] == 1


def test_service_complaints_and_nps(nev):
    c06 = nev.loc["c06"]
    assert c06["service_wait_mean_days"] == 5 and c06["service_wait_max_days"] == 5
    assert c06["evt_complaint_count"] == 1
    assert c06["nps_last"] == 3 and c06["nps_min"] == 3
    assert np.isnan(nev.loc["c01", "service_wait_mean_days"])


def test_owner_tenure_and_order_value(nev):
    c06 = nev.loc["c06"]
    assert c06["is_owner"] == 1 and nev.loc["c01", "is_owner"] == 0
    expected = (CUTOFF - pd.Timestamp("2024-05-01 10:00")) / pd.Timedelta(days=1)
    assert c06["days_since_delivery"] == pytest.approx(expected)
    assert c06["order_value_last"] == 200000
    # NEV spend features count orders only (not charging or NPS values)
    assert c06["amount_sum_total"] == 200000


def test_engagement_counts_and_trend(nev):
    c05, c08 = nev.loc["c05"], nev.loc["c08"]
    assert c05["engagement_events_90d"] == 2  # app logins on May 1 and June 1
    assert c05["engagement_events_30d"] == 1
    assert c05["engagement_trend_30d"] == 1  # May 1, 09:00 lies 60.6 days back: outside
    assert c08["engagement_events_30d"] == 2  # OTA and driver assist


def test_charging_mix_and_nps_order(events_frame):
    rows = [
        ("o1", "2025-01-01 10:00:00", "delivery", "store", np.nan),
        ("o1", "2025-02-01 10:00:00", "charging_session", "home", 20.0),
        ("o1", "2025-02-02 10:00:00", "charging_session", "home", 20.0),
        ("o1", "2025-02-03 10:00:00", "charging_session", "fast", 50.0),
        ("o1", "2025-02-04 10:00:00", "charging_session", "public", 30.0),
        ("o1", "2025-03-01 10:00:00", "nps_response", "app", 2.0),
        ("o1", "2025-05-01 10:00:00", "nps_response", "app", 8.0),
    ]
    o1 = build_features(events_frame(rows), CUTOFF).iloc[0]
    assert (o1["charging_share_home"], o1["charging_share_fast"], o1["charging_share_public"]) == (
        0.5,
        0.25,
        0.25,
    )
    assert o1["nps_last"] == 8 and o1["nps_min"] == 2
    assert o1["amount_sum_total"] == 0  # charging values are not spend in NEV data


def test_customer_attributes(nev):
    c06 = nev.loc["c06"]
    assert c06["age"] == 45 and c06["climate_zone"] == "cold"
    assert c06["married"] == 1.0 and c06["children"] == 1
    assert c06["days_since_lead_created"] == (CUTOFF - pd.Timestamp("2024-02-20")).days
    assert "city" not in nev and not set(schema.PERSONAL_FIELDS) & set(nev.columns)


def test_persona_dimensions_hand_computed(nev):
    c05 = nev.loc["c05"]
    # income 'middle' 2/4, city 'new_tier1' 2/3, youth (60-38)/40
    assert c05["persona_dim_demographics"] == pytest.approx((0.5 + 2 / 3 + 0.55) / 3)
    # budget (260k-100k)/400k and 2 charging sessions in 90 days / 36
    assert c05["persona_dim_consumption_behaviour"] == pytest.approx((0.4 + 2 / 36) / 2)
    # configurator 0/5, app logins 2/30, OTA + driver assist 0/30
    assert c05["persona_dim_technology_acceptance"] == pytest.approx((0 + 2 / 30 + 0) / 3)
    # community 0/6, referrals 1/2, store walk-in acquisition 0
    assert c05["persona_dim_social_network"] == pytest.approx((0 + 0.5 + 0) / 3)
    # NPS 9/10, no complaints, no content views
    assert c05["persona_dim_values"] == pytest.approx((0.9 + 1 + 0) / 3)
    # home charging only, no driver assist, 2 children, one car
    assert c05["persona_dim_lifestyle"] == pytest.approx((0 + 0 + 1 + 0) / 4)
    for name in registry.PERSONA_DIMENSIONS:
        assert nev[f"persona_dim_{name}"].between(0, 1).all()


def test_population_follows_lead_creation_not_events(nev_events, nev_customers, events_frame):
    events = nev_events
    customers = nev_customers
    late = events_frame([("c10", "2025-06-15 10:00:00", "ad_click", "search", np.nan)])
    customers = pd.concat(
        [
            customers,
            customers.iloc[[0]].assign(
                customer_id="c10", lead_created_at=pd.Timestamp("2025-07-02")
            ),
            customers.iloc[[0]].assign(
                customer_id="c11", lead_created_at=pd.Timestamp("2025-06-30")
            ),
        ],
        ignore_index=True,
    )
    table = build_features(pd.concat([events, late], ignore_index=True), CUTOFF, customers)
    ids = list(table["customer_id"])
    assert "c10" not in ids  # lead created after the cutoff: dropped despite its event
    assert "c09" not in ids
    c11 = table.set_index("customer_id").loc["c11"]  # no events yet, lead before the cutoff
    assert c11["n_events_total"] == 0 and c11["evt_test_drive_count"] == 0
    assert np.isnan(c11["recency_days"]) and c11["funnel_depth"] == 0
    assert c11["days_since_lead_created"] == 1


def test_event_log_input_and_parquet_path_give_the_same_table(tmp_path, nev_events):
    events = nev_events
    path = tmp_path / "events.parquet"
    events.to_parquet(path, index=False)
    from_frame = build_features(events, CUTOFF)
    from_path = build_features(path, CUTOFF)
    from_log = build_features(load_event_log(events, verbose=False), CUTOFF)
    pd.testing.assert_frame_equal(from_frame, from_path)
    pd.testing.assert_frame_equal(from_frame, from_log)


def test_same_inputs_same_bytes(nev_events, nev_customers):
    first = build_features(nev_events, CUTOFF, nev_customers)
    second = build_features(nev_events.sample(frac=1, random_state=3), CUTOFF, nev_customers)
    digest = [
        hashlib.sha256(pd.util.hash_pandas_object(t).values.tobytes()).hexdigest()
        for t in (first, second)
    ]
    assert digest[0] == digest[1]


def test_ids_sharing_a_hash_give_the_same_table(monkeypatch, nev_events, nev_customers):
    hashed = build_features(nev_events, CUTOFF, nev_customers)
    # Every id of the same length shares a "hash": the customer key falls back to the row.
    monkeypatch.setitem(aggregate.HASH64, "duckdb", "length({})")
    pd.testing.assert_frame_equal(build_features(nev_events, CUTOFF, nev_customers), hashed)


def test_generic_vocabulary_is_capped_at_the_most_frequent_types(events_frame):
    rows = [
        ("x", f"2025-0{1 + i % 5}-0{1 + i % 9} 10:00:00", f"type_{i:02d}", "web", 1.0)
        for i in range(35)
    ]
    rows += [("x", "2025-06-01 10:00:00", "type_34", "web", 1.0)] * 3
    table = build_features(events_frame(rows), CUTOFF)
    type_columns = [c for c in table if c.startswith("evt_") and c.endswith("_count")]
    assert len(type_columns) == 30
    assert "evt_type_34_count" in table


def test_bad_arguments(nev_events, nev_customers):
    with pytest.raises(ValueError, match="cutoff 'soon'"):
        build_features(nev_events, "soon")
    with pytest.raises(ValueError, match="windows"):
        build_features(nev_events, CUTOFF, windows=(30, 0))
    with pytest.raises(DataError, match="events DataFrame: column 'ts' not found"):
        build_features(nev_events.drop(columns="ts"), CUTOFF)
    with pytest.raises(DataError, match="column 'customer_id' not found"):
        build_features(nev_events, CUTOFF, nev_customers.drop(columns="customer_id"))


def test_an_aware_cutoff_is_converted_to_business_time():
    assert parse_cutoff("2025-07-01T00:00:00Z") == pd.Timestamp("2025-07-01 08:00")
    assert parse_cutoff("2025-07-01") == pd.Timestamp("2025-07-01")
