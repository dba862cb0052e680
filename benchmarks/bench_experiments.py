"""Throughput of the A/B analysis: experiments × metrics × units analysed per second.

    python benchmarks/bench_experiments.py --experiments 1000 --units 10000

Prints a markdown table: generation time (not counted), analysis time (grouped sums, plain and
CUPED effects, sample-ratio tests, Benjamini–Hochberg) and tests per second.
"""

from __future__ import annotations

import argparse
import time

from features.data.synth_experiments import METRICS, simulate_experiments
from features.experiments import stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--units", type=int, default=10000)
    args = parser.parse_args()
    metrics = (*METRICS, "complaint")  # three metrics per experiment
    start = time.perf_counter()
    units, _ = simulate_experiments(args.experiments, args.units, seed=0)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    table = stats.analyse(stats.summarise(units, metrics))
    per_exp = table.drop_duplicates("experiment_id")
    stats.sample_ratio_pvalue(per_exp["n_c"], per_exp["n_t"])
    stats.benjamini_hochberg(table["cuped_p_value"])
    analysed = time.perf_counter() - start
    print("| experiments | metrics | units each | rows | generate s | analyse s | tests/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.experiments:,} | {len(metrics)} | {args.units:,} | {len(units):,} | "
          f"{generated:.1f} | {analysed:.1f} | {len(table) / analysed:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
