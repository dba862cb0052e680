"""Live scoring at scale: 1M customers scored with and without top-3 TreeSHAP reasons.

    python benchmarks/bench_scoring.py [--rows 1000000] [--trees 300] [--leaves 31]
        [--chunk 100000] [--threads 2] [--explain-share 1.0]

The feature table is the churn snapshot of a 50k synthetic dataset (generated when missing),
its rows drawn with replacement up to ``--rows`` (scoring cost depends on rows x trees x
leaves x features, not on whether rows repeat). The model is a LightGBM of exactly ``--trees``
trees and ``--leaves`` leaves wrapped in the lab's scorer with a Platt calibrator. Each mode
runs in a child process so its peak RSS is its own. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _child(args: argparse.Namespace, mode: str) -> dict:
    import lightgbm as lgb
    import numpy as np
    import pandas as pd

    from features.data.datasets import ensure_synthetic_dataset
    from features.propensity import modeling
    from features.propensity.scorer import PropensityScorer
    from features.table.snapshots import LabelSpec, load_snapshots

    dataset = ensure_synthetic_dataset(50_000, 42)
    cutoff = pd.Timestamp("2025-07-01")
    snapshot = load_snapshots(dataset, {cutoff: [LabelSpec("churn", 180, 90)]})[cutoff]
    labels = snapshot.labels["churn"].labels
    table = labels.merge(snapshot.features, on="customer_id")
    y = table.pop("label").to_numpy()
    X = table.drop(columns=["customer_id"])
    X = X[[c for c in X.columns if X[c].notna().any() and X[c].nunique() > 1]]
    model = lgb.LGBMClassifier(
        n_estimators=args.trees,
        num_leaves=args.leaves,
        learning_rate=0.05,
        min_child_samples=5,
        num_threads=args.threads,
        verbose=-1,
    ).fit(X, y)
    calibrator = modeling.fit_calibrator(modeling.predict_positive(model, X), y, "sigmoid")
    scorer = PropensityScorer(model, X, calibrator, "churn")
    rng = np.random.default_rng(0)
    rows = snapshot.features.iloc[rng.integers(0, len(snapshot.features), args.rows)]
    rows = rows.reset_index(drop=True)
    started = time.perf_counter()
    probability = np.concatenate(
        [
            scorer.predict_proba(rows.iloc[i : i + args.chunk])
            for i in range(0, len(rows), args.chunk)
        ]
    )
    score_s = time.perf_counter() - started
    explain_s = 0.0
    explained = 0
    if mode == "reasons":
        order = np.argsort(-probability, kind="stable")
        explained = int(round(args.explain_share * len(rows)))
        chosen = rows.iloc[np.sort(order[:explained])]
        started = time.perf_counter()
        for i in range(0, len(chosen), args.chunk):
            scorer.reasons(chosen.iloc[i : i + args.chunk], k=3, num_threads=args.threads)
        explain_s = time.perf_counter() - started
    return {
        "mode": mode,
        "rows": len(rows),
        "features": X.shape[1],
        "score_s": round(score_s, 1),
        "explained": explained,
        "explain_s": round(explain_s, 1),
        "rows_per_s_explained": round(explained / explain_s) if explain_s else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--leaves", type=int, default=31)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--explain-share", type=float, default=1.0)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args, args.child)))
        return 0
    print(
        f"rows {args.rows:,}, {args.trees} trees x {args.leaves} leaves, chunks of "
        f"{args.chunk:,}, {args.threads} threads, reasons for the top {args.explain_share:.0%}"
    )
    print(
        "| mode | rows | features | score s | explained rows | explain s | rows/s | peak RSS GiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for mode in ("probabilities", "reasons"):
        command = [sys.executable, __file__, "--child", mode] + [
            f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k != "child"
        ]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        if status != 0:
            raise SystemExit(f"{mode}: child failed with status {status}")
        peak = usage.ru_maxrss / 2**20  # KiB -> GiB
        row = json.loads(output.strip().splitlines()[-1])
        print(
            f"| {row['mode']} | {row['rows']:,} | {row['features']} | {row['score_s']} | "
            f"{row['explained']:,} | {row['explain_s']} | {row['rows_per_s_explained'] or ''} | "
            f"{peak:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
