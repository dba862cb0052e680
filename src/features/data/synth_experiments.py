"""Synthetic A/B tests with known true effects, pre-period metrics and planted faults.

Each experiment splits its units 50/50 (``control`` / ``treatment``) over ``days`` days of
traffic and records four metrics per unit: ``conversion`` (0/1, e.g. a test drive booked),
``engagement`` (app minutes), and the guardrails ``complaint`` and ``unsubscribe`` (0/1). Every
metric also has its pre-period value (``<metric>_pre``) from the same unit's latent activity,
so CUPED can use it: engagement correlates strongly with its pre-period, conversion weakly.

True effects: a share ``null_share`` of the experiments changes nothing; the others lift
conversion and engagement by a few percent, and some of them also raise complaints (a
guardrail breach). Faults planted on purpose: ``n_srm`` experiments lose a share of their
low-engagement treated units (a logging bug: a sample-ratio mismatch that biases the effect),
``n_novelty`` experiments have an engagement effect that starts five times larger and fades
with a three-day time constant. The truth table (evaluation only) holds each experiment's and
metric's true difference in means over the experiment's traffic.

May import numpy, pandas and ``features.data.synth`` (customer ids).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.data.synth import customer_ids

METRICS = ("conversion", "engagement")
GUARDRAILS = ("complaint", "unsubscribe")
VARIANTS = ("control", "treatment")
SURFACES = ("content", "offer", "test_drive_script", "push_channel")  # what a test changes
NOVELTY_DAYS = 3.0
NOVELTY_BOOST = 4.0  # a novelty effect starts (1 + boost) times its lasting size
SRM_LOSS = 0.15  # share of the low-engagement treated units an SRM experiment loses


def _base_rates(latent: np.ndarray) -> dict[str, np.ndarray]:
    """Each unit's untreated expected value per metric, from its latent activity."""
    return {
        "conversion": 1.0 / (1.0 + np.exp(3.0 - 0.7 * latent)),
        "engagement": np.exp(3.0 + 0.6 * latent),
        "complaint": np.full(latent.shape, 0.01),
        "unsubscribe": 1.0 / (1.0 + np.exp(4.0 + 0.5 * latent)),
    }


def _draw(rng: np.random.Generator, metric: str, mean: np.ndarray) -> np.ndarray:
    if metric == "engagement":  # log-normal noise around the unit's mean (sigma 0.35)
        return mean * np.exp(rng.normal(-0.06, 0.35, mean.shape))
    return (rng.random(mean.shape) < np.clip(mean, 0, 1)).astype(np.float64)


def simulate_experiments(
    n_experiments: int = 200,
    units_per_experiment: int = 4000,
    seed: int = 0,
    null_share: float = 0.7,
    n_srm: int = 1,
    n_novelty: int = 1,
    days: int = 14,
    start: str = "2025-06-02",
    n_customers: int = 50_000,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(units, truth): one row per experiment × unit; one row per experiment × metric.

    Units are customers (ids as in the synthetic dataset) drawn without replacement from a
    population of ``n_customers`` whose latent activity is shared by every experiment they
    enter, as on a platform where one customer sits in many concurrent tests.
    """
    if units_per_experiment > n_customers:
        raise ValueError(f"units_per_experiment ({units_per_experiment:,}) exceeds the "
                         f"population of {n_customers:,} customers")  # fmt: skip
    rng = np.random.default_rng(seed)
    n = units_per_experiment
    population = customer_ids(n_customers)
    activity = rng.normal(size=n_customers)
    ids = [f"exp{i:04d}" for i in range(n_experiments)]
    real = rng.random(n_experiments) >= null_share
    lifts = {
        "conversion": np.where(real, rng.uniform(0.1, 0.4, n_experiments), 0.0),
        "engagement": np.where(real, rng.uniform(0.04, 0.12, n_experiments), 0.0),
        "complaint": np.where(
            real & (rng.random(n_experiments) < 0.2), rng.uniform(0.3, 0.8, n_experiments), 0.0
        ),  # fmt: skip
        "unsubscribe": np.zeros(n_experiments),
    }
    faulty = rng.permutation(n_experiments)
    srm = set(faulty[:n_srm].tolist())
    # a novelty effect needs an effect to fade: planted on experiments with a real one
    novelty = set([e for e in faulty[n_srm:].tolist() if real[e]][:n_novelty])
    surfaces = rng.choice(SURFACES, n_experiments)
    frames, truth = [], []
    for e, exp_id in enumerate(ids):
        members = rng.choice(n_customers, n, replace=False)
        latent = activity[members]
        treated = rng.random(n) < 0.5
        day = rng.integers(0, days, n)
        base = _base_rates(latent)
        row = {"experiment_id": exp_id, "unit_id": population[members],
               "variant": np.where(treated, VARIANTS[1], VARIANTS[0]),
               "ts": pd.Timestamp(start) + pd.to_timedelta(day * 86400 + rng.integers(0, 86400, n),
                                                           unit="s")}  # fmt: skip
        for metric in METRICS + GUARDRAILS:
            lift = np.full(n, lifts[metric][e])
            if metric == "engagement" and e in novelty:
                lift = lift * (1.0 + NOVELTY_BOOST * np.exp(-day / NOVELTY_DAYS))
            mean_t = base[metric] * (1.0 + lift)
            row[f"{metric}_pre"] = _draw(rng, metric, base[metric])
            row[metric] = _draw(rng, metric, np.where(treated, mean_t, base[metric]))
            fault = (
                "srm" if e in srm else "novelty" if e in novelty and metric == "engagement" else ""
            )
            truth.append({"experiment_id": exp_id, "surface": surfaces[e], "metric": metric,
                          "true_effect": float(np.mean(mean_t - base[metric])),
                          "true_lift": float(np.mean(mean_t - base[metric]) / np.mean(base[metric])),
                          "guardrail": metric in GUARDRAILS, "fault": fault})  # fmt: skip
        frame = pd.DataFrame(row)
        if e in srm:
            low = frame["engagement_pre"] < frame["engagement_pre"].quantile(0.5)
            lost = (frame["variant"] == VARIANTS[1]) & low & (rng.random(n) < 2 * SRM_LOSS)
            frame = frame[~lost]
        frames.append(frame)
    units = pd.concat(frames, ignore_index=True)
    units["experiment_id"] = units["experiment_id"].astype("category")
    return units, pd.DataFrame(truth)
