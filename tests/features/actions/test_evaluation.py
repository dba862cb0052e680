"""Uplift metrics and checks on hand-made campaigns with known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.actions import evaluation as ev


def _campaign(n: int = 20_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    tau = np.where(x > 0.7, 0.3, np.where(x < 0.2, -0.15, 0.0))
    p0 = np.full(n, 0.3)
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < p0 + t * tau).astype(int)
    return x, tau, t, y


def test_true_effects_rank_well_and_random_scores_near_zero() -> None:
    x, tau, t, y = _campaign()
    oracle = ev.qini_coefficient(tau, t, y)
    assert 0.1 < oracle < 1.0
    assert ev.qini_coefficient(-tau, t, y) < 0
    rng = np.random.default_rng(1)
    assert abs(ev.qini_coefficient(rng.random(len(t)), t, y)) < 0.05
    perfect = np.where(t == 1, y, -y).astype(float)
    assert ev.qini_coefficient(perfect, t, y) == pytest.approx(1.0)
    assert ev.auuc(tau, t, y) > 0.1


def test_uplift_at_the_top_recovers_the_planted_effect() -> None:
    x, tau, t, y = _campaign()
    assert ev.uplift_at(x, t, y, 0.3) == pytest.approx(0.3, abs=0.04)
    assert ev.uplift_at(-x, t, y, 0.2) == pytest.approx(-0.15, abs=0.04)
    metrics = ev.ranking_metrics(x, t, y)
    assert set(metrics) == {"qini", "auuc", "uplift_at_10pct", "uplift_at_20pct",
                            "uplift_at_30pct"}  # fmt: skip


def test_qini_curve_counts_incremental_successes() -> None:
    t = np.array([1, 0, 1, 0])
    y = np.array([1, 0, 0, 1])
    curve = ev.qini_curve(np.array([4.0, 3.0, 2.0, 1.0]), t, y)
    # top 2: one contacted success, control 0/1 -> +1; all 4: 1 - 1 * 2/2 = 0
    assert curve[0] == 0 and curve[2] == pytest.approx(1.0) and curve[4] == pytest.approx(0.0)


def test_bootstrap_difference_separates_a_good_from_a_useless_ranking() -> None:
    x, tau, t, y = _campaign(8_000)
    point, low, high = ev.bootstrap_qini_difference(tau, np.zeros(len(t)), t, y, seed=0,
                                                    samples=50)  # fmt: skip
    assert low > 0 and low <= point <= high


def test_sample_ratio_and_balance_flag_a_broken_randomisation() -> None:
    rng = np.random.default_rng(2)
    fair = (rng.random(10_000) < 0.5).astype(int)
    skewed = (rng.random(10_000) < 0.55).astype(int)
    assert ev.sample_ratio_test(fair)["p_value"] > 0.001
    assert ev.sample_ratio_test(skewed)["p_value"] < 1e-6
    age = rng.normal(40, 10, 10_000)
    features = pd.DataFrame({"age": age + 5 * skewed, "noise": rng.random(10_000),
                             "city": ["a"] * 10_000})  # fmt: skip
    table = ev.balance_table(features, skewed)
    assert table.iloc[0]["feature"] == "age" and abs(table.iloc[0]["std_difference"]) > 0.3
    assert "city" not in set(table["feature"])


def test_pehe_is_the_rmse_of_the_effects() -> None:
    assert ev.pehe(np.array([0.1, 0.3]), np.array([0.0, 0.0])) == pytest.approx(np.sqrt(0.05))
