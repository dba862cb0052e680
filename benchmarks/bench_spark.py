"""DuckDB against local Spark: the feature table at 100k and 1M customers, and scoring throughput.

    python benchmarks/bench_spark.py [--sizes 100000 1000000] [--work DIR]
        [--score-rows 200000] [--modes features scoring] [--engines duckdb spark]

Features: ``build_features`` of a synthetic dataset's ``events.parquet`` (Parquet in, both
engines reading the file themselves) with its customers, at the 2025-07-01 cutoff, on DuckDB
and on a local Spark (``local[2]``; session start-up timed apart). Both tables are compared
(they must be equal: the parity rule of tests/features/engine). Scoring: a 300-tree LightGBM
churn scorer scores ``--score-rows`` rows with top-3 TreeSHAP reasons on one machine
(``PropensityScorer``, 2 threads) and on Spark (``features.scoring.distributed``, one thread
per task). Every measurement runs in a child process; peak memory is the largest sum of the
resident memory of the child and its descendants (the JVM and Python workers for Spark),
sampled every 0.1 s. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from tree_memory import tree_rss  # noqa: E402  (benchmarks/, beside this script)

CUTOFF = "2025-07-01"


def _dataset(work: Path, n: int) -> Path:
    from features.data.synth import generate_dataset

    folder = work / f"synthetic_n{n}"
    if not (folder / "events.parquet").exists():
        print(f"generating {n:,} customers into {folder}", file=sys.stderr, flush=True)
        generate_dataset(n, 42, folder, overwrite=True)
    return folder


def _features_child(work: Path, n: int, engine: str) -> dict:
    import pandas as pd

    from features import schema
    from features.table.build import build_features

    folder = _dataset(work, n)
    customers = pd.read_parquet(folder / "customers.parquet").drop(
        columns=list(schema.PERSONAL_FIELDS)
    )
    result: dict = {"mode": f"features_{engine}", "customers": n}
    spark = None
    if engine == "spark":
        from features.engine.spark import local_session

        start = time.perf_counter()
        spark = local_session()
        result["startup_s"] = time.perf_counter() - start
    start = time.perf_counter()
    table = build_features(
        folder / "events.parquet", CUTOFF, customers=customers, engine=engine, spark=spark
    )
    result["seconds"] = time.perf_counter() - start
    result["rows"], result["columns"] = table.shape
    table.to_parquet(work / f"features_{engine}_{n}.parquet", index=False)
    return result


def _scoring_child(work: Path, rows: int, engine: str) -> dict:
    import lightgbm as lgb
    import numpy as np
    import pandas as pd

    from features import schema
    from features.propensity import modeling
    from features.propensity.scorer import PropensityScorer
    from features.table.labels import churn_labels

    folder = _dataset(work, 100_000)
    features = pd.read_parquet(work / "features_duckdb_100000.parquet")
    labels = churn_labels(folder / "events.parquet", CUTOFF, 180, 90).labels
    train = labels.merge(features, on=schema.ID_COL)
    y = train.pop("label").to_numpy()
    X = train.drop(columns=[schema.ID_COL])
    model = lgb.LGBMClassifier(n_estimators=300, num_leaves=31, verbose=-1, num_threads=2)
    model.fit(X, y)
    calibrator = modeling.fit_calibrator(modeling.predict_positive(model, X), y, "sigmoid")
    scorer = PropensityScorer(model, X, calibrator, "churn")
    picks = np.random.default_rng(0).integers(0, len(features), rows)
    table = features.iloc[picks].reset_index(drop=True)
    table[schema.ID_COL] = [f"R{i:09d}" for i in range(rows)]
    result: dict = {"mode": f"scoring_{engine}", "customers": rows}
    if engine == "duckdb":  # one machine: the live scorer's path
        start = time.perf_counter()
        scorer.predict_proba(table)
        for begin in range(0, rows, 100_000):
            scorer.reasons(table.iloc[begin : begin + 100_000], k=3)
        result["seconds"] = time.perf_counter() - start
    else:
        from features.engine.spark import local_session
        from features.scoring import distributed

        spark = local_session()
        frame = distributed.to_spark(spark, table).repartition(8).cache()
        frame.count()
        start = time.perf_counter()
        scored = distributed.rank_scores(distributed.score_partitions(scorer, frame))
        scored.write.mode("overwrite").parquet(str(work / "scores_spark"))
        result["seconds"] = time.perf_counter() - start
    result["rows_per_s"] = rows / result["seconds"]
    return result


def measure(args: argparse.Namespace, kind: str, size: int, engine: str) -> dict:
    """Run one child; return its figures plus the peak memory of its process tree."""
    command = [sys.executable, __file__, "--child", kind, str(size), engine, "--work", args.work]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{kind} {size} {engine}: child failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_gib"] = peak / 1024**3
    return result


def compare(work: Path, n: int) -> str:
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(work / f"features_duckdb_{n}.parquet")
    b = pd.read_parquet(work / f"features_spark_{n}.parquet")
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return "tables differ in shape"
    worst = 0.0
    for name in a.columns:
        if pd.api.types.is_float_dtype(a[name]):
            x, y = a[name].to_numpy(), b[name].to_numpy()
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                return f"NULLs differ in {name}"
            keep = ~np.isnan(x)
            scale = np.maximum(np.abs(x[keep]), 1e-300)
            worst = max(worst, float(np.max(np.abs(x[keep] - y[keep]) / scale, initial=0.0)))
        elif not a[name].astype("object").equals(b[name].astype("object")):
            return f"values differ in {name}"
    return f"equal (largest relative float difference {worst:.1e})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", default="/tmp/nev-bench-spark")
    parser.add_argument("--score-rows", type=int, default=200_000)
    parser.add_argument("--modes", nargs="+", default=["features", "scoring"])
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    parser.add_argument("--child", nargs=3, metavar=("KIND", "SIZE", "ENGINE"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.child:
        kind, size, engine = args.child
        child = _features_child if kind == "features" else _scoring_child
        print(json.dumps(child(work, int(size), engine)))
        return
    rows = []
    if "features" in args.modes:
        for n in args.sizes:
            for engine in args.engines:
                print(f"features, {n:,} customers, {engine}", file=sys.stderr, flush=True)
                rows.append(measure(args, "features", n, engine))
            if len(args.engines) == 2:
                rows[-1]["check"] = compare(work, n)
    if "scoring" in args.modes:
        if not (work / "features_duckdb_100000.parquet").exists():
            measure(args, "features", 100_000, "duckdb")
        for engine in args.engines:
            print(f"scoring, {args.score_rows:,} rows, {engine}", file=sys.stderr, flush=True)
            rows.append(measure(args, "scoring", args.score_rows, engine))
    print("| job | customers / rows | engine | seconds | Spark start-up s | peak GiB | note |")
    print("|---|---:|---|---:|---:|---:|---|")
    for r in rows:
        kind, engine = r["mode"].split("_")
        note = r.get("check", "") or (f"{r['rows_per_s']:,.0f} rows/s" if "rows_per_s" in r else "")
        print(
            f"| {kind} | {r['customers']:,} | {engine} | {r['seconds']:.1f} | "
            f"{r.get('startup_s', 0):.1f} | {r['peak_gib']:.2f} | {note} |"
        )


if __name__ == "__main__":
    main()
