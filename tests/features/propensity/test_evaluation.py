"""Tests of features.propensity.evaluation on hand-checked numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.propensity import evaluation


def test_headline_metrics_of_a_hand_example() -> None:
    y = [0, 0, 1, 1]
    p = [0.1, 0.4, 0.35, 0.8]
    m = evaluation.classification_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    expected_log_loss = -np.mean(np.log([0.9, 0.6, 0.35, 0.8]))
    assert m["log_loss"] == pytest.approx(expected_log_loss)
    assert m["positive_rate"] == 0.5 and m["n"] == 4


def test_ece_is_zero_when_rates_match_and_hand_checked_otherwise() -> None:
    y = np.array([1, 0, 0, 0, 0, 1, 1, 1, 1, 0])
    p = np.array([0.2] * 5 + [0.8] * 5)
    assert evaluation.expected_calibration_error(y, p) == pytest.approx(0.0)
    p_bad = np.array([0.4] * 5 + [0.8] * 5)  # first bin: 0.4 predicted, 0.2 observed
    assert evaluation.expected_calibration_error(y, p_bad) == pytest.approx(0.5 * 0.2)
    table = evaluation.calibration_table(y, p_bad)
    assert table["n"].sum() == 10 and list(table["observed_rate"]) == [0.2, 0.8]


def test_lift_table_and_top_decile_lift() -> None:
    y = np.array([1] * 10 + [0] * 90)
    p = np.linspace(1, 0, 100)  # perfect ranking
    table = evaluation.lift_table(y, p)
    assert list(table["decile"]) == list(range(1, 11))
    assert (table["n"] == 10).all()
    assert table.loc[0, "lift"] == pytest.approx(10.0)
    assert table["cum_gain"].iloc[-1] == pytest.approx(1.0)
    assert table["cum_gain"].is_monotonic_increasing
    assert evaluation.top_share_lift(y, p, 0.1) == pytest.approx(10.0)
    assert evaluation.classification_metrics(y, p)["lift_at_10pct"] == pytest.approx(10.0)


def test_deciles_are_equal_sized_even_with_ties() -> None:
    deciles = evaluation.assign_deciles(np.zeros(50))
    assert np.bincount(deciles)[1:].tolist() == [5] * 10


def test_buckets_follow_the_shares() -> None:
    p = np.linspace(1, 0, 100)
    buckets = evaluation.assign_buckets(p)
    assert (buckets[:20] == "high").all() and (buckets[20:50] == "medium").all()
    assert (buckets[50:] == "low").all()
    y = np.array([1] * 20 + [0] * 80)
    table = evaluation.bucket_table(y, p, buckets)
    assert table["bucket"].tolist() == ["high", "medium", "low"]
    assert table["realised_rate"].tolist() == [1.0, 0.0, 0.0]
    assert table["share"].tolist() == [0.2, 0.3, 0.5]
    with pytest.raises(ValueError, match="bucket shares"):
        evaluation.assign_buckets(p, (0.5, 0.5))


def test_segment_metrics_leave_small_segments_without_auc() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(y * 0.5 + rng.uniform(0, 0.5, 200), 0, 1)
    segments = pd.DataFrame({"persona": ["a"] * 190 + ["b"] * 10, "channel": [None] * 200})
    table = evaluation.segment_metrics(y, p, segments)
    a = table[(table["segment"] == "persona") & (table["value"] == "a")].iloc[0]
    b = table[(table["segment"] == "persona") & (table["value"] == "b")].iloc[0]
    assert a["n"] == 190 and a["roc_auc"] > 0.9
    assert b["n"] == 10 and np.isnan(b["roc_auc"])
    assert table[table["segment"] == "channel"]["value"].tolist() == ["(missing)"]


def test_threshold_table_profit_by_hand() -> None:
    y = [1, 0, 1, 0]
    p = [0.9, 0.6, 0.3, 0.1]
    table = evaluation.threshold_table(
        y, p, contact_cost=10, value_per_positive=100, thresholds=[0.5, 0.2]
    )
    first, second = table.iloc[0], table.iloc[1]
    assert first["contacted"] == 2 and first["positives_reached"] == 1
    assert first["realised_profit"] == 100 - 20
    assert first["expected_profit"] == pytest.approx(100 * 1.5 - 20)
    assert second["recall"] == 1.0 and second["realised_profit"] == 200 - 30
    assert evaluation.break_even_probability(10, 100) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 1], [0.5], "differ in shape"),
        ([0, 2], [0.5, 0.5], "0/1"),
        ([0, 1], [0.5, 1.5], r"\[0, 1\]"),
        ([1, 1], [0.2, 0.4], "both classes"),
    ],
)
def test_bad_inputs_raise(y, p, message) -> None:
    with pytest.raises(ValueError, match=message):
        evaluation.classification_metrics(y, p)
