"""Tests for features.personas.profiles: traits, standardised differences, top traits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.personas.profiles import standardised_differences, top_traits


def test_build_profile_frame_one_hot_names(profiled):
    _, _, profile, _, _ = profiled
    assert "income_band=high" in profile.columns
    assert "acquisition_channel=referral" in profile.columns
    assert profile["income_band=high"].isin([0.0, 1.0]).all()


def test_standardised_differences_sign_and_size(profiled):
    _, _, _, differences, by_truth = profiled
    tech, family = by_truth["tech"], by_truth["family"]
    assert differences.loc[tech, "persona_dim_technology_acceptance"] > 1
    assert differences.loc[tech, "age"] < -1
    assert differences.loc[family, "children"] > 1
    # Balanced groups: the differences of each trait average to zero over personas.
    np.testing.assert_allclose(differences.mean(axis=0), 0, atol=1e-9)


def test_standardised_differences_drops_constant_traits():
    profile = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "flat": 1.0})
    result = standardised_differences(profile, pd.Series([1, 1, 2, 2]))
    assert list(result.columns) == ["a"]
    assert result.loc[1, "a"] == pytest.approx(-1.0 / np.std([1, 2, 3, 4]))


def test_top_traits_orders_by_size_and_skips_absent_categories(profiled):
    _, _, _, differences, by_truth = profiled
    traits = top_traits(differences, n=5)
    for pid in differences.index:
        sizes = [abs(v) for _, v in traits[pid]]
        assert sizes == sorted(sizes, reverse=True)
        assert len(traits[pid]) == 5
        assert all(v > 0 for t, v in traits[pid] if "=" in t)
    assert "persona_dim_technology_acceptance" in dict(traits[by_truth["tech"]])
