"""The generator's randomised campaigns: randomised, consistent with the world, effects known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.data.synth import generate_dataset


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory):
    folder = generate_dataset(5000, 21, tmp_path_factory.mktemp("camp") / "ds")
    table = pd.read_parquet(folder / "campaigns.parquet")
    truth = pd.read_parquet(folder / "campaign_truth.parquet")
    world = pd.read_parquet(folder / "truth.parquet")
    orders = pd.read_parquet(folder / "orders.parquet")
    return table.merge(truth, on=["campaign_id", "customer_id"]), world, orders


def test_both_tasks_run_randomised_monthly_waves(campaigns) -> None:
    rows, _, _ = campaigns
    assert set(rows["task"]) == {"winback", "test_drive"}
    assert rows.groupby("task")["campaign_id"].nunique().min() >= 12
    assert not rows.duplicated(["campaign_id", "customer_id"]).any()
    share = rows.groupby("campaign_id")["treated"].mean()
    assert share.between(0.4, 0.6).all()


def test_the_untreated_outcome_is_the_simulated_world(campaigns) -> None:
    rows, world, orders = campaigns
    control = rows[rows["treated"] == 0]
    win = control[control["task"] == "winback"].merge(world[["customer_id", "churn_ts"]])
    retained = win["churn_ts"].isna() | (win["churn_ts"] >= win["sent_at"] + pd.Timedelta(days=90))
    assert (win["outcome"] == retained.astype(int)).all()
    lead = control[control["task"] == "test_drive"].merge(orders[["customer_id", "order_ts"]],
                                                          how="left")  # fmt: skip
    after = lead["order_ts"] - lead["sent_at"]
    ordered = (after >= pd.Timedelta(0)) & (after < pd.Timedelta(days=60))
    assert (lead["outcome"] == ordered.astype(int)).all()


def test_effects_are_heterogeneous_with_sleeping_dogs_and_not_just_risk(campaigns) -> None:
    rows, _, _ = campaigns
    for task, part in rows.groupby("task"):
        tau = part["true_uplift"]
        assert (tau < 0).mean() > 0.05, task  # sleeping dogs
        assert tau.std() > 0.03, task
        risk = 1 - part["p0"]
        assert abs(np.corrcoef(tau, risk)[0, 1]) < 0.9, task
        # the difference in means estimates the mean true effect (randomisation works)
        t = part["treated"] == 1
        diff = part.loc[t, "outcome"].mean() - part.loc[~t, "outcome"].mean()
        se = np.sqrt(part.loc[t, "outcome"].var() / t.sum()
                     + part.loc[~t, "outcome"].var() / (~t).sum())  # fmt: skip
        assert abs(diff - tau.mean()) < 4 * se, task
