"""Throughput of the A/B analysis: experiments × metrics × units analysed per second.

    python benchmarks/bench_experiments.py --experiments 1000 --units 10000

Prints a markdown table: generation time (not counted); the core read (grouped sums, plain and
CUPED effects, sample-ratio tests, Benjamini–Hochberg) and tests per second; and the full read
of notebook 08 (the core plus day-by-day always-valid p-values, peeking, novelty, guardrails and
decisions).
"""

from __future__ import annotations

import argparse
import time

from features.data.synth_experiments import METRICS, simulate_experiments
from features.experiments import stats
from features.experiments.data import ExperimentData
from features.experiments.params import validate_experiment_params
from features.experiments.study import read_experiments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--units", type=int, default=10000)
    args = parser.parse_args()
    metrics = (*METRICS, "complaint")  # three metrics per experiment
    start = time.perf_counter()
    units, truth = simulate_experiments(args.experiments, args.units, seed=0,
                                        n_customers=max(50_000, args.units))  # fmt: skip
    generated = time.perf_counter() - start
    start = time.perf_counter()
    table = stats.analyse(stats.summarise(units, metrics))
    per_exp = table.drop_duplicates("experiment_id")
    stats.sample_ratio_pvalue(per_exp["n_c"], per_exp["n_t"])
    stats.benjamini_hochberg(table["cuped_p_value"])
    analysed = time.perf_counter() - start
    params = validate_experiment_params(
        data_source="synthetic", n_experiments=args.experiments,
        units_per_experiment=args.units, n_customers=max(50_000, args.units), seed=0,
        alpha=0.05, power=0.8, mde=0.1, sequential=False, n_aa_simulations=1000,
        guardrail_margin=0.5, experiment_col="experiment_id", variant_col="variant",
        unit_col="unit_id", time_col="ts", metrics=list(METRICS), guardrails=["complaint"],
        pre_suffix="_pre", control_label="control", treatment_label="treatment", output_dir="",
        mlflow_tracking_uri="",
    )  # fmt: skip
    data = ExperimentData(units=units, truth=truth, source="synthetic", has_time=True,
                          pre_metrics=metrics)  # fmt: skip
    start = time.perf_counter()
    read, _ = read_experiments(data, params)
    full = time.perf_counter() - start
    print("| experiments | metrics | units each | rows | generate s | core read s | tests/s "
          "| full read s | tests/s |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.experiments:,} | {len(metrics)} | {args.units:,} | {len(units):,} | "
          f"{generated:.1f} | {analysed:.1f} | {len(table) / analysed:,.0f} | {full:.1f} | "
          f"{len(read) / full:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
