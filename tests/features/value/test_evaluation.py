"""Value metrics on tiny hand-made examples."""

from __future__ import annotations

import numpy as np
import pytest

from features.value import evaluation as ev


def test_perfect_ranking_has_gini_one_and_random_near_zero() -> None:
    rng = np.random.default_rng(0)
    y = rng.gamma(0.5, 1000, 5000)
    assert ev.gini_normalised(y, y) == pytest.approx(1.0)
    assert abs(ev.gini_normalised(y, rng.random(5000))) < 0.05
    assert ev.gini_normalised(y, -y) < -0.9


def test_aggregate_error_capture_and_deciles() -> None:
    y = np.array([0.0, 0.0, 10.0, 90.0] * 5)
    p = np.array([1.0, 2.0, 3.0, 4.0] * 5)
    assert ev.aggregate_error(y, p) == pytest.approx((50 - 500) / 500)
    assert ev.top_decile_capture(y, p) == pytest.approx(1.0 * 2 * 90 / 500)
    table = ev.decile_table(y, p)
    assert table["customers"].sum() == 20 and table["share_of_value"].sum() == pytest.approx(1)
    assert table["mean_predicted"].is_monotonic_decreasing
    gains = ev.gains_curve(y, p)
    assert gains["share_value"].iloc[-1] == pytest.approx(1.0)
    metrics = ev.value_metrics(y, p, y > 0, p)
    assert set(metrics) == {"value_error", "count_error", "gini_normalised", "spearman",
                            "top_decile_capture"}  # fmt: skip


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="equal 1-d"):
        ev.aggregate_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        ev.gini_normalised([1.0, 2.0], [np.nan, 1.0])


def test_gini_share_interval_covers_the_share_and_narrows_with_more_customers() -> None:
    rng = np.random.default_rng(3)
    widths = []
    for n in (300, 3000):
        truth = rng.gamma(0.5, 1000.0, n)
        realised = rng.poisson(truth / 100.0) * 100.0
        noisy = truth * np.exp(rng.normal(0, 0.8, n))
        share = ev.gini_normalised(realised, noisy) / ev.gini_normalised(realised, truth)
        low, high = ev.gini_share_interval(realised, noisy, truth, seed=1)
        assert low < share < high < 1.0
        widths.append(high - low)
    assert widths[1] < widths[0] / 2
