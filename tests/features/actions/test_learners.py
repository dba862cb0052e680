"""Uplift learners recover a planted heterogeneous effect; the policy respects its rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.actions import evaluation as ev
from features.actions.learners import LEARNERS, UpliftLearner, fit_risk_model
from features.actions.study import plan_actions, split_customers


@pytest.fixture(scope="module")
def campaign():
    rng = np.random.default_rng(3)
    n = 12_000
    X = pd.DataFrame({"service_wait": rng.gamma(2, 1.5, n), "app_logins": rng.poisson(5, n),
                      "noise": rng.random(n),
                      "zone": pd.Categorical(rng.choice(["cold", "hot"], n))})  # fmt: skip
    tau = np.where(X["service_wait"] > 4, 0.25, 0.0) - np.where(X["app_logins"] <= 2, 0.15, 0.0)
    p0 = np.where(X["zone"] == "cold", 0.5, 0.3)
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < np.clip(p0 + t * tau, 0, 1)).astype(int)
    return X, t, y, tau


@pytest.mark.parametrize("name", LEARNERS)
def test_each_learner_ranks_the_planted_effect(campaign, name: str) -> None:
    X, t, y, tau = campaign
    fit, test = np.arange(len(y)) < 8_000, np.arange(len(y)) >= 8_000
    model = UpliftLearner(name, seed=0, threads=1).fit(X[fit], t[fit], y[fit])
    estimate = model.predict(X[test])
    assert np.all(np.abs(estimate) <= 1)
    assert np.corrcoef(estimate, tau[test])[0, 1] > 0.4
    oracle = ev.qini_coefficient(tau[test], t[test], y[test])
    assert ev.qini_coefficient(estimate, t[test], y[test]) > 0.5 * oracle


def test_the_risk_baseline_predicts_success_without_contact(campaign) -> None:
    X, t, y, _ = campaign
    risk = fit_risk_model(X, t, y, seed=0, threads=1)
    p = risk.predict_proba(X)[:, 1]
    cold = (X["zone"] == "cold").to_numpy()
    assert p[cold].mean() > p[~cold].mean() + 0.1


def test_a_learner_refuses_a_campaign_without_a_control_group(campaign) -> None:
    X, _, y, _ = campaign
    with pytest.raises(ValueError, match="contacted and not contacted"):
        UpliftLearner("t_learner").fit(X, np.ones(len(y)), y)


def test_the_plan_contacts_the_best_within_budget_and_spares_sleeping_dogs() -> None:
    uplift = np.array([0.3, -0.2, 0.1, 0.001, 0.2, 0.05])
    value = np.full(6, 10_000.0)
    actions = plan_actions(uplift, value, cost=100.0, budget=2)
    assert list(actions) == ["contact", "leave alone (sleeping dog)", "beyond budget",
                             "not worth a contact", "contact", "beyond budget"]  # fmt: skip


def test_the_split_keeps_a_customers_rows_together() -> None:
    groups = np.repeat(np.arange(500), 3)
    part = split_customers(groups, 0.3, seed=1)
    assert all(len(set(part[groups == g])) == 1 for g in range(500))
    assert 0.2 < np.mean(part == 2) < 0.4 and np.mean(part == 1) > 0.1
