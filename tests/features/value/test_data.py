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


def test_type_history_uses_only_transactions_before_the_cutoff() -> None:
    tx = vd.transactions_from_events(_log())
    ids = pd.Index(["A", "B", "C", "D"], name="customer_id")
    hist = vd.type_history(tx, ids, pd.Timestamp("2025-04-01"))
    assert hist.loc["A", "tx_service_payment_count"] == 1  # the April bill is after the cutoff
    assert hist.loc["C", "tx_service_payment_count"] == 0
    assert hist.loc["C", "spend_n"] == 1 and hist.loc["C", "spend_log_index"] == 0  # the only vas
    assert hist.loc["D", "spend_n"] == 0 and pd.isna(hist.loc["D", "spend_log_index"])
    # A's purchase is above the purchase mean, B's below: the spend index says so.
    assert hist.loc["A", "spend_log_index"] > 0 > hist.loc["B", "spend_log_index"]
    generic = vd.transactions_from_events(_log().drop(columns="event_type"))
    assert list(vd.type_history(generic, ids, pd.Timestamp("2025-05-01")).columns) == [
        "tx_all_count", "tx_all_log_mean", "spend_log_index", "spend_n"]  # fmt: skip


def test_stacked_frames_keep_each_cutoff_rows_and_targets() -> None:
    tx = vd.transactions_from_events(_log())
    feats = pd.DataFrame({"customer_id": ["A", "B", "C"], "city": ["x", "y", "x"]})
    early = vd.value_frame(tx, feats, pd.Timestamp("2025-02-15"), 30)
    late = vd.value_frame(tx, feats, pd.Timestamp("2025-03-25"), 30)
    both = vd.stack_frames([early, late])
    assert len(both.ids) == len(early.ids) + len(late.ids) == len(both.features)
    assert both.cutoff == late.cutoff
    assert both.target.sum() == early.target.sum() + late.target.sum()
    assert isinstance(both.features["city"].dtype, pd.CategoricalDtype)


def test_every_column_of_a_value_frame_has_plain_words() -> None:
    tx = vd.transactions_from_events(_log())
    feats = pd.DataFrame({"customer_id": ["A", "B", "C"], "n_events_total": [3.0, 2.0, 1.0]})
    frame = vd.value_frame(tx, feats, pd.Timestamp("2025-03-25"), 30)
    meanings = {name: vd.describe_value_feature(name) for name in frame.features.columns}
    assert all("_" not in meaning for meaning in meanings.values()), meanings
    assert meanings["value_vas_all"] == "value-added services value to date (CNY)"
    assert meanings["tx_service_payment_log_mean"] == "typical service payment (log CNY)"
    with pytest.raises(KeyError):
        vd.describe_value_feature("no_such_column")
