"""The channels generator's truth, the media-mix model and the study end to end on synthetic
data: figures scored against the planted world, refusals of bad journeys files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.channels import mmm
from features.channels.data import read_journeys
from features.channels.params import ChannelParamError, validate_channel_params
from features.channels.study import headline_metrics, run_channel_study
from features.data import synth_channels as sc
from features.data.reader import DataError

DEFAULTS = dict(data_source="synthetic", spend_source="", n_customers=20_000, n_weeks=104,
                seed=42, lookback_days=60, budget_change=0.2, half_life_days=7.0,
                id_col="customer_id", time_col="ts", channel_col="channel",
                converted_col="converted", outcome_col="orders", output_dir="",
                mlflow_tracking_uri="")  # fmt: skip


@pytest.fixture(scope="module")
def data() -> sc.ChannelData:
    return sc.simulate_channels(20_000, seed=42)


def test_realised_orders_match_the_expected_orders_and_the_cost_per_customer(data):
    expected = data.world.expected_orders(by="total")
    assert data.weekly["orders"].sum() == pytest.approx(expected, rel=0.03)
    window_spend = data.world.plan[data.world.burn_in :].sum()
    assert window_spend / expected == pytest.approx(sc.COST_PER_CUSTOMER, rel=1e-6)
    assert 0.18 < data.outcomes["converted"].mean() < 0.32  # near the 23.7% lead-to-order rate
    assert data.truth["share"].sum() == pytest.approx(1.0)
    assert (data.truth["incremental_orders"] > 0).all()


def test_more_spend_buys_fewer_orders_per_yuan(data):
    world = data.world
    gains = []
    for factor in (1.2, 1.4):
        plan = world.scaled_plan({c: factor if c == "search" else 1.0 for c in sc.PAID_CHANNELS})
        gains.append(world.expected_orders(plan, by="total"))
    base = world.expected_orders(by="total")
    assert base < gains[0] < gains[1]
    assert gains[1] - gains[0] < gains[0] - base  # saturation: diminishing returns


def test_mmm_recovers_planted_contributions_on_noise_free_data():
    rng = np.random.default_rng(0)
    weeks = 130
    spend = rng.lognormal(0, 0.4, (weeks, 2)) * np.array([100.0, 50.0])
    spend[rng.random(weeks) < 0.3, 1] = 0.0
    truth = mmm.MediaMixModel(("a", "b"), spend, np.ones(weeks - 12))
    n_base = 2 + 2 * mmm.N_FOURIER
    theta = np.zeros(n_base + 3 * 2 + 1)
    theta[0] = 40.0
    theta[n_base : n_base + 2] = np.log([30.0, 20.0])
    theta[n_base + 2 : n_base + 4] = [0.5, -0.5]
    theta[-1] = np.log(1.5)
    base, media = truth.predict(theta)
    y = base + media.sum(axis=1)
    fitted = mmm.MediaMixModel(("a", "b"), spend, y).fit()
    contrib = fitted.contributions(n_draws=50)["contribution"].to_numpy()
    assert contrib == pytest.approx(media.sum(axis=0), rel=0.1)


def test_study_scores_every_method_against_the_truth_and_the_budget_really_lifts():
    results = run_channel_study(validate_channel_params(**DEFAULTS))
    m = headline_metrics(results)
    mae = m["attribution_share_mae"]
    assert set(mae) == {"first_touch", "last_touch", "linear", "time_decay", "position_based",
                        "markov", "shapley"}  # fmt: skip
    assert mae["markov"] < mae["last_touch"]  # walk-ins at the end mislead last touch
    assert results.shares.drop(columns="truth").sum().round(6).eq(1).all()
    assert m["n_weeks"] == 104 and m["mmm_roi_mape"] is not None
    assert 0 <= m["mmm_interval_coverage"] <= 1
    assert m["reallocation_true_lift"] > 0  # the generator re-run with the new budget
    assert m["reallocation_true_lift"] <= m["reallocation_oracle_lift"] + 1e-9
    budget = results.budget
    assert budget["recommended"].sum() == pytest.approx(budget["current"].sum(), rel=1e-6)
    assert (budget["change"].abs() <= 0.2 + 1e-9).all()


def test_bad_journeys_files_are_refused_naming_file_column_and_rule(tmp_path):
    good = pd.DataFrame({"customer_id": ["a", "a", "b"], "ts": ["2025-01-01", "2025-01-03",
                         "2025-01-02"], "channel": ["search", "event", "search"],
                         "converted": [1, 1, 0]})  # fmt: skip
    path = tmp_path / "j.csv"
    good.drop(columns="channel").to_csv(path, index=False)
    with pytest.raises(DataError, match=r"j\.csv: column 'channel' is missing"):
        read_journeys(str(path), "customer_id", "ts", "channel", "converted")
    good.assign(converted=["yes", "maybe", "no"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'converted': 1 values are not a 0/1"):
        read_journeys(str(path), "customer_id", "ts", "channel", "converted")
    good.assign(ts=["soon", "later", "2025-01-02"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'ts': 67% of times unparseable"):
        read_journeys(str(path), "customer_id", "ts", "channel", "converted")
    good.to_csv(path, index=False)
    touches, outcomes, _ = read_journeys(str(path), "customer_id", "ts", "channel", "converted")
    assert len(touches) == 3 and outcomes.set_index("customer_id")["converted"].to_dict() == {
        "a": 1, "b": 0}  # fmt: skip


def test_parameters_are_checked():
    with pytest.raises(ChannelParamError, match="budget_change"):
        validate_channel_params(**{**DEFAULTS, "budget_change": 1.5})
    with pytest.raises(ChannelParamError, match="spend_source"):
        validate_channel_params(**{**DEFAULTS, "spend_source": "x.csv"})
