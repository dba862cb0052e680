"""The A/B statistics against statsmodels and against planted truth: Welch z-test, CUPED,
sample-ratio mismatch, Benjamini–Hochberg, design, mSPRT and A/A false-positive rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from features.data.synth_experiments import GUARDRAILS, METRICS, simulate_experiments
from features.experiments import stats


@pytest.fixture(scope="module")
def analysed() -> pd.DataFrame:
    units, truth = simulate_experiments(n_experiments=120, units_per_experiment=4000, seed=3)
    table = stats.analyse(stats.summarise(units, METRICS + GUARDRAILS))
    return table.merge(truth, on=["experiment_id", "metric"], validate="one_to_one")


def test_welch_effect_and_p_value_match_statsmodels():
    rng = np.random.default_rng(0)
    c, t = rng.normal(10, 3, 900), rng.normal(10.4, 4, 1100)
    units = pd.DataFrame({"experiment_id": "e", "variant": ["control"] * 900 + ["treatment"] * 1100,
                          "m": np.concatenate([c, t])})  # fmt: skip
    row = stats.analyse(stats.summarise(units, ["m"])).iloc[0]
    z, p = CompareMeans(DescrStatsW(t), DescrStatsW(c)).ztest_ind(usevar="unequal")
    assert row["effect"] == pytest.approx(t.mean() - c.mean(), rel=1e-12)
    assert row["p_value"] == pytest.approx(p, rel=1e-9)
    assert row["variance_reduction"] == 0.0  # no pre-period column: CUPED changes nothing


def test_unknown_variant_is_refused():
    units = pd.DataFrame({"experiment_id": "e", "variant": ["control", "B"], "m": [1.0, 2.0]})
    with pytest.raises(ValueError, match="'variant'.*'B'"):
        stats.summarise(units, ["m"])


def test_cuped_cuts_variance_where_the_pre_period_correlates(analysed):
    reduction = analysed.groupby("metric")["variance_reduction"].median()
    assert reduction["engagement"] > 0.35
    assert reduction["conversion"] < 0.05
    # unbiased: the CUPED intervals cover the true effect as often as the plain ones
    for prefix in ("", "cuped_"):
        covered = (analysed[f"{prefix}ci_low"] <= analysed["true_effect"]) & (
            analysed["true_effect"] <= analysed[f"{prefix}ci_high"])  # fmt: skip
        assert 0.92 < covered[analysed["fault"] == ""].mean() < 0.98


def test_planted_sample_ratio_mismatch_is_flagged_and_nothing_else(analysed):
    per_exp = analysed.drop_duplicates("experiment_id")
    flagged = stats.sample_ratio_pvalue(per_exp["n_c"], per_exp["n_t"]) < stats.SRM_ALPHA
    assert set(per_exp.loc[flagged, "experiment_id"]) == set(
        per_exp.loc[per_exp["fault"] == "srm", "experiment_id"])  # fmt: skip


def test_benjamini_hochberg_keeps_false_discoveries_at_target(analysed):
    primary = analysed[analysed["metric"].isin(METRICS)]
    found, adjusted = stats.benjamini_hochberg(primary["cuped_p_value"], q=0.05)
    null = (primary["true_effect"] == 0).to_numpy()
    assert found.sum() > 20
    assert (found & null).sum() / found.sum() <= 0.1
    assert np.all(adjusted >= primary["cuped_p_value"].to_numpy() - 1e-15)


def test_design_matches_the_textbook_formula_and_its_promise():
    out = stats.design(mde=0.5, sd=5.0, alpha=0.05, power=0.8, daily_units=1000)
    textbook = 2 * (1.959964 + 0.841621) ** 2 * 5.0**2 / 0.5**2
    assert abs(out["units_per_arm"] - textbook) <= 2
    assert out["days"] == int(np.ceil(2 * out["units_per_arm"] / 1000))
    assert stats.power_at(0.5, 5.0, out["units_per_arm"]) == pytest.approx(0.8, abs=0.005)
    with pytest.raises(ValueError, match="mde"):
        stats.design(mde=0.0, sd=1.0)


@pytest.mark.parametrize("metric", ["conversion", "engagement"])
def test_aa_false_positive_rates(metric):
    units, _ = simulate_experiments(n_experiments=1, units_per_experiment=6000, seed=5)
    out = stats.aa_simulation(units[metric].to_numpy(), units[f"{metric}_pre"].to_numpy(),
                              n_sims=1000, alpha=0.05, n_looks=14, seed=1)  # fmt: skip
    low, high = stats.binomial_interval(50, 1000)  # where 5% of 1,000 A/A tests may land
    assert low <= out["false_positive_rate"] <= high
    assert low <= out["false_positive_rate_cuped"] <= high
    assert out["false_positive_rate_sequential"] <= high  # always valid: at most alpha
    assert out["false_positive_rate_peeking"] > 0.12  # naive peeking inflates it


def test_msprt_detects_a_real_effect_and_never_rises():
    rng = np.random.default_rng(2)
    treated = rng.random(20000) < 0.5
    y = rng.normal(0, 1, 20000) + 0.08 * treated
    effect, var = stats.sequential_looks(y, treated, n_looks=20)
    p = stats.msprt_pvalues(effect, var, tau2=0.01)[0]
    assert np.all(np.diff(p) <= 0)
    assert p[-1] < 0.05
