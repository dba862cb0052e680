"""Tests of features.propensity.explain: SHAP shapes, exactness and plain-word reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.propensity import explain, modeling

NAMES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def fitted() -> tuple[object, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 1500
    days = rng.integers(0, 120, n).astype("float64")
    days[rng.uniform(size=n) < 0.1] = np.nan  # never test-drove
    X = pd.DataFrame(
        {
            "evt_test_drive_days_since_last": days,
            "budget": rng.uniform(1e5, 5e5, n),
            "city_tier": pd.Categorical(rng.choice(["tier1", "tier2"], n)),
        }
    )
    logit = np.where(np.isnan(days), -2.0, 1.5 - days / 30) + (X["city_tier"] == "tier1") * 0.5
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int))
    model = modeling.train_lightgbm(
        X.iloc[:1000],
        y.iloc[:1000],
        X.iloc[1000:],
        y.iloc[1000:],
        modeling.TrainingSetup(num_threads=1),
    )
    return model, X, y.to_numpy()


def test_normalize_handles_every_binary_shape() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(4, 3))
    base = np.full(4, 0.25)
    contrib = np.column_stack([values, base])
    cases = [
        values,
        [-values, values],
        np.stack([-values, values], axis=2),
        contrib,
        np.column_stack([-contrib, contrib]),
    ]
    for case in cases:
        out = explain.normalize_shap_output(case, NAMES)
        assert out.values.shape == (4, 3)
        np.testing.assert_allclose(out.values, values)
    assert explain.normalize_shap_output(contrib, NAMES).base_values.tolist() == [0.25] * 4
    single = explain.normalize_shap_output(values[0], NAMES)
    assert single.values.shape == (1, 3)


def test_normalize_accepts_a_shap_explanation_and_rejects_bad_shapes() -> None:
    import shap

    values = np.arange(6.0).reshape(2, 3)
    explanation = shap.Explanation(values=values, base_values=np.array([0.1, 0.1]))
    out = explain.normalize_shap_output(explanation, NAMES)
    np.testing.assert_allclose(out.values, values)
    assert out.base_values.tolist() == [0.1, 0.1]
    with pytest.raises(ValueError, match="does not match 3 features"):
        explain.normalize_shap_output(np.zeros((2, 5)), NAMES)
    with pytest.raises(ValueError, match="binary model"):
        explain.normalize_shap_output([values, values, values], NAMES)


def test_tree_shap_is_exact_and_equals_shap_tree_explainer(fitted) -> None:
    import shap

    model, X, _ = fitted
    result = explain.tree_shap(model, X, num_threads=1)
    margin = model.predict_proba(X, raw_score=True)
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_values, margin, atol=1e-8)
    reference = explain.normalize_shap_output(shap.TreeExplainer(model)(X.iloc[:50]), list(X))
    np.testing.assert_allclose(reference.values, result.values[:50], atol=1e-8)


def test_global_importance_ranks_the_driver_first(fitted) -> None:
    model, X, _ = fitted
    table = explain.global_importance(explain.tree_shap(model, X))
    assert table.loc[0, "feature"] == "evt_test_drive_days_since_last"
    assert table["share"].sum() == pytest.approx(1.0)


def test_top_reasons_speak_plain_words(fitted) -> None:
    model, X, _ = fitted
    shap_values = explain.tree_shap(model, X)
    reasons = explain.top_reasons(shap_values, X, k=3)
    assert list(reasons.columns) == ["reason_1", "reason_2", "reason_3"]
    recent = int(np.flatnonzero(X["evt_test_drive_days_since_last"].to_numpy() == 2)[0])
    assert reasons.loc[recent, "reason_1"] == "last test drive 2 days before cutoff: raises odds"
    never = int(np.flatnonzero(X["evt_test_drive_days_since_last"].isna().to_numpy())[0])
    assert reasons.loc[never, "reason_1"] == "no test drive before cutoff: lowers odds"
    assert reasons.notna().all().all()
    with pytest.raises(ValueError, match="do not match"):
        explain.top_reasons(shap_values, X.iloc[:10])


def test_reason_phrases_and_value_formats() -> None:
    assert explain.reason_phrase("stated budget (CNY)", 250000.0) == "stated budget is 250,000"
    assert explain.reason_phrase("city tier", "tier1") == "city tier is tier1"
    assert explain.reason_phrase("days since the last event", 12.0) == (
        "last event 12 days before cutoff"
    )
    assert explain.reason_phrase("days since the first delivery (owner tenure)", 30) == (
        "first delivery 30 days before cutoff"
    )
    assert explain.reason_phrase("days since last quote", 3.6) == "last quote 4 days before cutoff"
    assert explain.reason_phrase("days since last quote", 0.2) == (
        "last quote less than a day before cutoff"
    )
    ratio = "days since the last event divided by the mean gap (above 1: overdue)"
    assert explain.reason_phrase(ratio, 1.5) == (
        "days since the last event divided by the mean gap is 1.5"
    )
    assert explain.format_reason_value(np.nan) == "missing"
    assert explain.format_reason_value(0.123456) == "0.1235"
    assert explain.safe_describe("not_a_registry_feature") == "not a registry feature"
    assert explain.safe_describe("funnel_depth").startswith("furthest purchase-funnel stage")
