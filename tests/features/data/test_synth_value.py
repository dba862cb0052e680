"""Revenue events of the synthetic generator: calibration, timing and churn rules."""

from __future__ import annotations

import pandas as pd
import pytest

from features import defaults
from features.data.synth import generate_dataset
from features.data.synth_value import REVENUE_EVENT_STREAMS, TRUTH_VALUE_COLUMNS

SHARES = {"purchase": 0.35, "usage": 0.45, "vas": 0.15, "social": 0.05}


@pytest.fixture(scope="module")
def default_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = generate_dataset(
        defaults.N_CUSTOMERS, defaults.SEED, tmp_path_factory.mktemp("value") / "ds"
    )
    return {
        "events": pd.read_parquet(folder / "events.parquet"),
        "truth": pd.read_parquet(folder / "truth.parquet"),
    }


def test_realised_value_matches_the_plan_decomposition(default_world: dict) -> None:
    events = default_world["events"]
    revenue = events[events["event_type"].isin(list(REVENUE_EVENT_STREAMS))]
    totals = revenue.groupby(revenue["event_type"].map(REVENUE_EVENT_STREAMS))["value"].sum()
    shares = totals / totals.sum()
    for stream, target in SHARES.items():
        assert shares[stream] == pytest.approx(target, abs=0.05), stream
    owners = events.loc[events["event_type"] == "delivery", "customer_id"].unique()
    per_owner = revenue.groupby("customer_id")["value"].sum().reindex(owners, fill_value=0.0)
    top = per_owner[per_owner >= per_owner.quantile(0.9)].mean() / per_owner.mean()
    assert top == pytest.approx(3.6, abs=0.6)
    cars = revenue[revenue["event_type"] == "vehicle_purchase"].groupby("customer_id").size()
    assert (cars >= 2).sum() / len(owners) == pytest.approx(0.18, abs=0.03)
    referrers = revenue.loc[revenue["event_type"] == "referral_order", "customer_id"].nunique()
    assert referrers / len(owners) == pytest.approx(0.12, abs=0.03)


def test_revenue_events_are_positive_and_stop_at_churn(default_world: dict) -> None:
    events, truth = default_world["events"], default_world["truth"].set_index("customer_id")
    revenue = events[events["event_type"].isin(list(REVENUE_EVENT_STREAMS))]
    assert (revenue["value"] > 0).all()
    delivered = revenue["customer_id"].map(truth["delivery_ts"])
    assert (revenue["ts"] >= delivered).all()
    churn = revenue["customer_id"].map(truth["churn_ts"])
    assert not (revenue["ts"] >= churn).any()
    # every revenue event shares its time with another event of the same owner
    other = events[~events["event_type"].isin(list(REVENUE_EVENT_STREAMS))]
    stamps = pd.MultiIndex.from_frame(other[["customer_id", "ts"]])
    assert pd.MultiIndex.from_frame(revenue[["customer_id", "ts"]]).isin(stamps).all()
    paid = revenue[revenue["event_type"] == "charging_payment"]
    assert set(paid["channel"]) == {"app"}


def test_truth_holds_expected_value_rates_for_owners(default_world: dict) -> None:
    truth = default_world["truth"]
    owners = truth["delivery_ts"].notna()
    rates = truth.loc[owners, list(TRUTH_VALUE_COLUMNS)]
    assert rates.notna().all().all() and (rates >= 0).all().all()
    assert truth.loc[~owners, list(TRUTH_VALUE_COLUMNS)].isna().all().all()
    assert rates.sum(axis=1).mean() > 10_000
