"""The A/B test study of notebook 08: design, the day's reads, decisions and self-checks.

Every experiment × metric is read with the Welch difference in means and with CUPED (pooled
theta, the metric's own pre-period); the sample-ratio test runs per experiment; decision
metrics are controlled for the false discovery rate (Benjamini–Hochberg at ``alpha``) across
all tests of the day. With timestamps, every experiment is also read day by day: mixture-SPRT
always-valid p-values on the CUPED-adjusted values, what naive peeking at a fixed-horizon
test would have concluded, and the early-vs-late effect (novelty). ``sequential=True`` makes
the always-valid p-value the one the decision uses. A/A simulations on control units check
the false-positive rates; on synthetic data every figure is compared with the planted truth.

May import the foundation and the ``features.experiments`` modules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from features.experiments import stats
from features.experiments.data import ExperimentData, load_experiments
from features.experiments.decisions import decide, guardrail_status, oracle_decisions
from features.experiments.params import ExperimentParams

NOVELTY_ALPHA = 0.001  # early-vs-late difference flagged as novelty (strict: many tests a day)
AA_UNITS = 10_000  # control units each A/A simulation re-splits


@dataclass
class ExperimentResults:
    """Everything the notebook shows and saves."""

    params: ExperimentParams
    data: ExperimentData
    results: pd.DataFrame  # one row per experiment × metric
    decisions: pd.DataFrame  # one row per experiment
    design: pd.DataFrame  # one row per decision metric
    aa: pd.DataFrame  # one row per decision metric
    paths: dict[str, pd.DataFrame] = field(default_factory=dict)  # metric -> (exp × day) p
    metrics: dict[str, Any] = field(default_factory=dict)


def _say(message: str) -> None:
    print(f"[experiments] {message}", flush=True)


def _adjusted_values(units: pd.DataFrame, res: pd.DataFrame, metric: str) -> np.ndarray:
    """The metric minus theta × (pre − the experiment's pre mean): CUPED per unit row."""
    y = units[metric].to_numpy(np.float64)
    pre = f"{metric}_pre"
    if pre not in units.columns:
        return y
    rows = res[res["metric"] == metric].set_index("experiment_id")
    theta = units["experiment_id"].map(rows["cuped_theta"]).to_numpy(np.float64)
    x = units[pre].to_numpy(np.float64)
    x_mean = units.groupby("experiment_id", observed=True)[pre].transform("mean").to_numpy()
    return y - theta * (x - x_mean)


def _sequential(units: pd.DataFrame, res: pd.DataFrame, params: ExperimentParams
                ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:  # fmt: skip
    """Per experiment × metric: always-valid p, stop day, naive peeking and the novelty read."""
    parts, paths = [], {}
    z = norm.ppf(1 - params.alpha / 2)
    for metric in params.all_metrics:
        experiments, days, sums = stats.daily_sums(
            units, _adjusted_values(units, res, metric), experiment_col="experiment_id",
            variant_col="variant", time_col="ts", treatment="treatment")  # fmt: skip
        effect, var = stats.cumulative_looks(sums)
        rows = res[res["metric"] == metric].set_index("experiment_id").reindex(experiments)
        tau2 = (params.mde * rows["mean_c"].abs().to_numpy()) ** 2
        seq_p = stats.msprt_pvalues(effect, var, np.maximum(tau2, 1e-12)[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            peek = np.abs(effect) > z * np.sqrt(var)
        crossed = seq_p < params.alpha
        stop = np.where(crossed.any(axis=1), crossed.argmax(axis=1) + 1, 0)
        novelty = stats.early_late(sums)
        parts.append(pd.DataFrame({
            "experiment_id": experiments, "metric": metric, "sequential_p_value": seq_p[:, -1],
            "sequential_stop_day": stop, "peeking_significant": peek.any(axis=1),
            "peeking_first_day": np.where(peek.any(axis=1), peek.argmax(axis=1) + 1, 0),
            "effect_early": novelty["effect_early"], "effect_late": novelty["effect_late"],
            "novelty_p_value": novelty["p_value"],
            "novelty_flag": (novelty["p_value"] < NOVELTY_ALPHA)
            & (np.abs(novelty["effect_early"]) > np.abs(novelty["effect_late"])),
        }))  # fmt: skip
        paths[metric] = pd.DataFrame(seq_p, index=experiments, columns=days)
    return pd.concat(parts, ignore_index=True), paths


def read_experiments(data: ExperimentData, params: ExperimentParams) -> tuple[pd.DataFrame, float]:
    """The per experiment × metric table with its statistics, and the tests read per second."""
    units = data.units
    start = time.perf_counter()
    summary = stats.summarise(units, params.all_metrics)
    res = stats.analyse(summary, alpha=params.alpha)
    per_exp = res.drop_duplicates("experiment_id").set_index("experiment_id")
    srm_p = pd.Series(stats.sample_ratio_pvalue(per_exp["n_c"], per_exp["n_t"]),
                      index=per_exp.index)  # fmt: skip
    res["srm_p_value"] = res["experiment_id"].map(srm_p).astype(float)
    res["srm_flag"] = res["srm_p_value"] < stats.SRM_ALPHA
    elapsed = time.perf_counter() - start
    res["role"] = np.where(res["metric"].isin(params.metrics), "primary", "guardrail")
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(res["mean_c"] != 0, 1 / res["mean_c"].abs(), np.nan)
        res["cuped_lift"] = res["cuped_effect"] * scale
        res["cuped_lift_ci_low"] = res["cuped_ci_low"] * scale
        res["cuped_lift_ci_high"] = res["cuped_ci_high"] * scale  # fmt: skip
    if data.has_time:
        seq, paths = _sequential(units, res, params)
        res = res.merge(seq, on=["experiment_id", "metric"], how="left")
        res.attrs["paths"] = paths
    use_seq = params.sequential and data.has_time
    res["p_decision"] = res["sequential_p_value"] if use_seq else res["cuped_p_value"]
    res["p_effect"] = res["cuped_effect"]
    primary = res["role"] == "primary"
    flags, adjusted = stats.benjamini_hochberg(res.loc[primary, "p_decision"], q=params.alpha)
    res["q_value"] = np.nan
    res.loc[primary, "q_value"] = adjusted
    res["discovery"] = False
    res.loc[primary, "discovery"] = flags
    res["guardrail_status"] = guardrail_status(res, params.alpha, params.guardrail_margin)
    decisions = decide(res)
    res["decision"] = res["experiment_id"].map(decisions)
    return res, len(res) / max(elapsed, 1e-9)


def design_table(res: pd.DataFrame, units: pd.DataFrame, params: ExperimentParams,
                 has_time: bool) -> pd.DataFrame:  # fmt: skip
    """Per decision metric: units per arm and days of traffic to detect a lift of ``mde``,
    without and with CUPED (its variance cut shrinks the sample), at the day's traffic."""
    per_day = np.nan
    if has_time:
        days = units.groupby("experiment_id", observed=True)["ts"].agg(
            lambda t: max(t.dt.floor("D").nunique(), 1)
        )
        sizes = units.groupby("experiment_id", observed=True).size()
        per_day = float((sizes / days).median())
    rows = []
    for metric in params.metrics:
        r = res[(res["metric"] == metric) & ~res["srm_flag"]]
        if r.empty:
            r = res[res["metric"] == metric]
        mean, sd = float(r["mean_c"].median()), float(np.sqrt(r["var_c"].median()))
        reduction = float(np.clip(r["variance_reduction"].median(), 0, 0.99))
        daily = 0.0 if np.isnan(per_day) else per_day
        plain = stats.design(params.mde * abs(mean), sd, params.alpha, params.power, daily)
        cuped = stats.design(params.mde * abs(mean), sd * np.sqrt(1 - reduction), params.alpha,
                             params.power, daily)  # fmt: skip
        n_arm = float(((r["n_c"] + r["n_t"]) / 2).median())
        rows.append({"metric": metric, "control_mean": mean, "sd": sd, "mde_lift": params.mde,
                     "mde_absolute": params.mde * abs(mean), "units_per_arm": plain["units_per_arm"],
                     "days": plain["days"], "units_per_arm_cuped": cuped["units_per_arm"],
                     "days_cuped": cuped["days"], "daily_units": per_day if np.isnan(per_day) else round(per_day),
                     "units_per_arm_observed": round(n_arm),
                     "power_at_mde_observed": float(stats.power_at(params.mde * abs(mean), sd,
                                                                   n_arm, params.alpha))})  # fmt: skip
    return pd.DataFrame(rows)


def aa_checks(data: ExperimentData, res: pd.DataFrame, params: ExperimentParams) -> pd.DataFrame:
    """A/A simulations per decision metric on control units (in arrival order)."""
    units = data.units
    clean = res.loc[~res["srm_flag"], "experiment_id"].unique()
    pool = units[(units["variant"] == "control") & units["experiment_id"].isin(clean)]
    rng = np.random.default_rng(params.seed)
    if len(pool) > AA_UNITS:
        pool = pool.iloc[np.sort(rng.choice(len(pool), AA_UNITS, replace=False))]
    if data.has_time:
        pool = pool.sort_values("ts", kind="stable")
    n_looks = 14 if not data.has_time else max(pool["ts"].dt.floor("D").nunique(), 2)
    rows = []
    for i, metric in enumerate(params.metrics):
        y = pool[metric].to_numpy(np.float64)
        pre = pool[f"{metric}_pre"].to_numpy(np.float64) if metric in data.pre_metrics else None
        tau2 = max((params.mde * abs(y.mean())) ** 2, 1e-12)
        out = stats.aa_simulation(y, pre, params.n_aa_simulations, alpha=params.alpha,
                                  n_looks=n_looks, tau2=tau2, seed=params.seed + i)  # fmt: skip
        low, high = out["interval"]
        effect = params.mde * abs(y.mean())
        detected = stats.power_simulation(y, params.n_aa_simulations, effect, params.alpha,
                                          seed=params.seed + 100 + i)  # fmt: skip
        promised = float(stats.power_at(effect, y.std(ddof=1), len(y) / 2, params.alpha))
        rows.append({"metric": metric, "n_units": len(y), "n_simulations": params.n_aa_simulations,
                     "fixed": out["false_positive_rate"],
                     "cuped": out.get("false_positive_rate_cuped", np.nan),
                     "sequential": out["false_positive_rate_sequential"],
                     "peeking": out["false_positive_rate_peeking"], "n_looks": n_looks,
                     "interval_low": low, "interval_high": high,
                     "power_at_mde": detected, "promised_power_at_mde": promised})  # fmt: skip
    aa = pd.DataFrame(rows)
    # the intervals are around the nominal alpha: where a valid test's rate should fall
    nominal = [stats.binomial_interval(round(params.alpha * n), n) for n in aa["n_simulations"]]
    aa["alpha_low"], aa["alpha_high"] = zip(*nominal, strict=True)
    aa["fixed_within"] = aa["fixed"].between(aa["alpha_low"], aa["alpha_high"])
    aa["cuped_within"] = aa["cuped"].between(aa["alpha_low"], aa["alpha_high"])
    aa["sequential_valid"] = aa["sequential"] <= aa["alpha_high"]
    return aa


def with_truth(res: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The read with each test's true effect, lift and planted fault beside it."""
    return res.merge(truth[["experiment_id", "metric", "true_effect", "true_lift", "fault"]],
                     on=["experiment_id", "metric"], how="left")  # fmt: skip


def truth_figures(res: pd.DataFrame, decisions: pd.DataFrame, truth: pd.DataFrame,
                  design: pd.DataFrame, params: ExperimentParams) -> dict[str, Any]:  # fmt: skip
    """Realised FDR, power vs promise, interval coverage and decision agreement (synthetic);
    ``res`` carries the truth's columns (``with_truth``)."""
    t = res
    primary = t[t["role"] == "primary"]
    found = primary[primary["discovery"]]
    false = found[(found["true_effect"] == 0) | (np.sign(found["p_effect"])
                                                  != np.sign(found["true_effect"]))]  # fmt: skip
    naive = primary[primary["p_value"] < params.alpha]
    naive_false = naive[naive["true_effect"] == 0]
    clean = primary[primary["fault"] == ""]
    real = clean[clean["true_effect"] != 0]
    sd = real["metric"].map(design.set_index("metric")["sd"])
    promised = stats.power_at(real["true_effect"], sd, (real["n_c"] + real["n_t"]) / 2,
                              params.alpha)  # fmt: skip
    detected = (real["p_value"] < params.alpha) & (
        np.sign(real["effect"]) == np.sign(real["true_effect"])
    )
    detected_cuped = (real["cuped_p_value"] < params.alpha) & (
        np.sign(real["cuped_effect"]) == np.sign(real["true_effect"]))  # fmt: skip
    covered = clean["cuped_ci_low"].le(clean["true_effect"]) & clean["cuped_ci_high"].ge(
        clean["true_effect"])  # fmt: skip
    oracle = oracle_decisions(truth).reindex(decisions.index)
    planted_srm = set(truth.loc[truth["fault"] == "srm", "experiment_id"])
    planted_novelty = set(truth.loc[truth["fault"] == "novelty", "experiment_id"])
    flagged_srm = set(t.loc[t["srm_flag"], "experiment_id"])
    out = {
        "fdr_realised": len(false) / len(found) if len(found) else 0.0,
        "n_false_discoveries": len(false),
        "baseline_naive_discoveries": len(naive),
        "baseline_naive_fdr": len(naive_false) / len(naive) if len(naive) else 0.0,
        "empirical_power": float(detected.mean()) if len(real) else float("nan"),
        "empirical_power_cuped": float(detected_cuped.mean()) if len(real) else float("nan"),
        "promised_power": float(np.mean(promised)) if len(real) else float("nan"),
        "ci_coverage": float(covered.mean()),
        "srm_planted_found": len(planted_srm & flagged_srm),
        "srm_planted": len(planted_srm),
        "decision_agreement": float((decisions["decision"] == oracle).mean()),
        "ships_truly_better": int(((decisions["decision"] == "ship") & (oracle == "ship")).sum()),
        "ships_not_better": int(((decisions["decision"] == "ship") & (oracle != "ship")).sum()),
        "guardrail_harms_planted": int((oracle == "guardrail breach").sum()),
        "guardrail_false_breaches": int(((oracle != "guardrail breach")
                                         & (decisions["decision"] == "guardrail breach")).sum()),
        "guardrail_harms_caught": int(((oracle == "guardrail breach")
                                       & (decisions["decision"] == "guardrail breach")).sum()),
    }  # fmt: skip
    if "novelty_flag" in t:
        flagged = set(t.loc[t["novelty_flag"].fillna(False).astype(bool), "experiment_id"])
        out["novelty_planted"] = len(planted_novelty)
        out["novelty_planted_found"] = len(planted_novelty & flagged)
        out["novelty_false_flags"] = len(flagged - planted_novelty - planted_srm)
    if "peeking_significant" in t:
        peeked = primary[primary["peeking_significant"].fillna(False).astype(bool)]
        out["baseline_peeking_discoveries"] = len(peeked)
        out["baseline_peeking_fdr"] = (float((peeked["true_effect"] == 0).mean())
                                       if len(peeked) else 0.0)  # fmt: skip
    return out


def headline_metrics(results: ExperimentResults) -> dict[str, Any]:
    """The contract keys of metrics.json and the figures the headline quotes."""
    return dict(results.metrics)


def run_experiment_study(params: ExperimentParams) -> ExperimentResults:
    """Load the day's tests, read them, decide, self-check; on synthetic data, score vs truth."""
    _say(f"loading experiments ({params.data_source})")
    data = load_experiments(params)
    n_exp = data.units["experiment_id"].nunique()
    _say(f"{n_exp:,} experiments, {len(data.units):,} units; reading "
         f"{n_exp * len(params.all_metrics):,} tests")  # fmt: skip
    res, per_second = read_experiments(data, params)
    paths = res.attrs.pop("paths", {})
    decisions = (res.drop_duplicates("experiment_id").set_index("experiment_id")[["decision"]]
                 .assign(srm_flag=res.groupby("experiment_id", observed=True)["srm_flag"].any()))  # fmt: skip
    design = design_table(res, data.units, params, data.has_time)
    _say(f"A/A checks: {params.n_aa_simulations:,} simulations per metric")
    aa = aa_checks(data, res, params)
    primary = res[res["role"] == "primary"]
    metrics: dict[str, Any] = {
        "n_experiments": int(n_exp),
        "n_units": int(len(data.units)),
        "n_tests": int(len(res)),
        "aa_false_positive_rate": float(aa["fixed"].mean()),
        "aa_false_positive_rate_cuped": float(aa["cuped"].mean()),
        "aa_false_positive_rate_sequential": float(aa["sequential"].mean()),
        "aa_false_positive_rate_peeking": float(aa["peeking"].mean()),
        "aa_within_interval": bool(aa["fixed_within"].all() and aa["sequential_valid"].all()),
        # the typical cut on a decision metric: median over metrics of each one's median
        "cuped_variance_reduction": float(primary.groupby("metric")["variance_reduction"]
                                          .median().median()),
        "cuped_variance_reduction_by_metric": res.groupby("metric")["variance_reduction"]
        .median().round(4).to_dict(),
        "srm_flags": int(decisions["srm_flag"].sum()),
        "n_discoveries": int(primary["discovery"].sum()),
        "decisions": decisions["decision"].value_counts().reindex(
            ["ship", "no ship", "inconclusive", "guardrail breach"], fill_value=0).to_dict(),
        "tests_per_second": float(per_second),
        "empirical_power": float(aa["power_at_mde"].mean()),  # synthetic: replaced by the truth's
        "empirical_power_at_mde": float(aa["power_at_mde"].mean()),
        "promised_power_at_mde": float(aa["promised_power_at_mde"].mean()),
        "sequential_decisions": bool(params.sequential and data.has_time),
    }  # fmt: skip
    if "novelty_flag" in res:
        metrics["novelty_flags"] = int(res.groupby("experiment_id", observed=True)["novelty_flag"]
                                       .any().sum())  # fmt: skip
    if data.truth is not None:
        res = with_truth(res, data.truth)
        metrics.update(truth_figures(res, decisions, data.truth, design, params))
        decisions["oracle_decision"] = oracle_decisions(data.truth).reindex(decisions.index)
    _say(f"{metrics['n_discoveries']} discoveries, {metrics['srm_flags']} sample-ratio flags, "
         f"{per_second:,.0f} tests/s")  # fmt: skip
    return ExperimentResults(params=params, data=data, results=res,
                             decisions=decisions.reset_index(), design=design, aa=aa,
                             paths=paths, metrics=metrics)  # fmt: skip
