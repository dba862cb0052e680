"""Transactions, RFM summaries and realised value on a tiny hand-made log."""

from __future__ import annotations

import pandas as pd
import pytest

from features.value import data as vd


def _log() -> pd.DataFrame:
    rows = [
        ("A", "2025-01-01", "vehicle_purchase", 20000.0),
        ("A", "2025-01-15", "service_payment", 1000.0),
        ("A", "2025-01-15", "app_login", None),
        ("A", "2025-03-01", "software_purchase", 3000.0),
        ("A", "2025-04-10", "service_payment", 500.0),
        ("B", "2025-02-01", "vehicle_purchase", 15000.0),
        ("B", "2025-04-20", "referral_order", 2000.0),
        ("C", "2025-03-20", "vas_purchase", 800.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "ts", "event_type", "value"])
    return frame.assign(ts=pd.to_datetime(frame["ts"]))


def test_transactions_keep_money_events_in_their_streams() -> None:
    tx = vd.transactions_from_events(_log())
    assert len(tx) == 7 and vd.has_streams(tx)
    assert tx.loc[tx["value"] == 3000.0, "stream"].item() == "usage"
    generic = vd.transactions_from_events(_log().assign(event_type="purchase"))
    assert len(generic) == 7 and not vd.has_streams(generic)
    assert vd.component_shares(generic) is None


def test_rfm_and_targets_are_point_in_time() -> None:
    tx = vd.transactions_from_events(_log())
    cutoff = pd.Timestamp("2025-04-01")
    rfm = vd.rfm_summary(tx, cutoff, horizon_days=60)
    assert list(rfm.index) == ["A", "B", "C"]
    a = rfm.loc["A"]
    assert a["frequency"] == 2 and a["monetary"] == pytest.approx(2000.0)
    assert a["recency"] == pytest.approx(59 / 7) and a["T"] == pytest.approx(90 / 7)
    assert a["naive_value"] == pytest.approx(3000.0)  # in the 60 days before the cutoff
    assert rfm.loc["B", "frequency"] == 0 and rfm.loc["B", "monetary"] == 0
    total, count, streams = vd.realised_value(tx, rfm.index, cutoff, 30, True)
    assert total.to_dict() == {"A": 500.0, "B": 2000.0, "C": 0.0}
    assert count.to_dict() == {"A": 1.0, "B": 1.0, "C": 0.0}
    assert streams.loc["B", "social"] == 2000.0
    assert vd.window_is_observed(tx, cutoff, 20) and not vd.window_is_observed(tx, cutoff, 60)
