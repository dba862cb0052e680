import numpy as np
import pandas as pd
import pytest

from features.monitoring.metrics import (
    BUCKET_COLUMNS,
    bucket_calibration,
    psi,
    psi_table,
    wilson_interval,
)


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-4)
    assert high == pytest.approx(0.1744, abs=1e-4)
    assert wilson_interval(0, 50)[0] == 0.0
    assert all(np.isnan(wilson_interval(0, 0)))


def test_bucket_calibration_per_date_and_bucket(scored_lists):
    table = bucket_calibration(scored_lists)
    assert list(table.columns) == list(BUCKET_COLUMNS)
    assert len(table) == 6
    assert list(table["bucket"][:3]) == ["high", "medium", "low"]
    assert table.groupby("as_of")["n"].sum().tolist() == [300, 300]
    assert (table["ci_low"] <= table["realised_rate"]).all()
    assert (table["realised_rate"] <= table["ci_high"]).all()
    gap = table["mean_predicted"] - table["realised_rate"]
    assert np.allclose(gap, table["calibration_gap"])
    late = table[table["as_of"] == "2025-02-01"]
    assert (late["calibration_gap"] < 0).all()  # three times the predicted rate happened


def test_psi_is_zero_for_the_same_sample_and_large_for_a_shift():
    rng = np.random.default_rng(1)
    x = rng.normal(size=5000)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)
    assert psi(x, rng.normal(size=5000)) < 0.02
    assert psi(x, rng.normal(1.0, 1.0, size=5000)) > 0.2


def test_psi_handles_categories_and_missing_values():
    ref = pd.Series(pd.Categorical(["a"] * 50 + ["b"] * 50))
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    moved = pd.Series(pd.Categorical(["a"] * 90 + ["c"] * 10))
    assert psi(ref, moved) > 0.2
    with_nan = pd.Series([1.0, 2.0, np.nan, 4.0] * 25)
    assert np.isfinite(psi(with_nan, pd.Series([np.nan] * 100)))


def test_psi_table_skips_absent_columns():
    frame = pd.DataFrame({"x": np.arange(100.0), "y": np.arange(100.0)})
    table = psi_table(frame, frame, ["x", "missing"])
    assert table["feature"].tolist() == ["x"]
