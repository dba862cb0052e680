"""One-ID at scale: raw person records → identity map, time and peak memory.

    python benchmarks/bench_identity.py --records 1000000 --customers /path/to/customers.parquet

Draws the channels' exports from a synthetic customers table (``--customers``, or a dataset
generated under ``--work``) until about ``--records`` records, writes them as Parquet (not
timed), then times reading and normalising, training and scoring (splink on DuckDB),
clustering and one_ids in a child process whose peak RSS comes from ``os.wait4``. Prints a
markdown table row and the pairwise F1 against the truth.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

RECORDS_PER_PERSON = 1.63  # the generator's mean (features.data.synth_identity)


def prepare(customers_path: Path | None, records: int, work: Path) -> Path:
    from features.data.synth import generate_dataset
    from features.data.synth_identity import CHANNELS, draw_people, draw_records

    folder = work / f"records_{records}"
    if (folder / "truth.parquet").is_file():
        return folder
    n_persons = int(records / RECORDS_PER_PERSON)
    if customers_path is None:
        dataset = work / f"synthetic_n{n_persons}"
        if not dataset.is_dir():
            generate_dataset(n_persons, 0, dataset, progress=True)
        customers_path = dataset / "customers.parquet"
    customers = pd.read_parquet(customers_path).head(n_persons)
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    exports, truth = draw_records(draw_people(customers, rng), rng)
    folder.mkdir(parents=True, exist_ok=True)
    for channel in CHANNELS:
        exports[channel].to_parquet(folder / f"{channel}.parquet", index=False)
    truth.to_parquet(folder / "truth.parquet", index=False)
    print(f"prepared {len(truth):,} records of {len(customers):,} persons in "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr)  # fmt: skip
    return folder


def child(folder: Path) -> None:
    from features.data.synth_identity import CHANNELS
    from features.identity import evaluation
    from features.identity.clusters import assign_one_ids, cluster_labels
    from features.identity.linkage import link
    from features.identity.params import validate_identity_params
    from features.identity.records import read_records
    from features.identity.study import SYNTHETIC_COLUMNS

    files = [str(folder / f"{c}.parquet") for c in CHANNELS]
    params = validate_identity_params(
        data_source=files, n_customers=1000, seed=0, record_id_col="record_id", entity_col="",
        source_col="", columns=SYNTHETIC_COLUMNS, blocking_rules=[], match_threshold=0.8,
        max_pairs=2_000_000, output_dir="", mlflow_tracking_uri="",
    )  # fmt: skip
    times = {}
    start = time.perf_counter()
    records = read_records(params.source_paths, params)
    times["read"] = time.perf_counter() - start
    start = time.perf_counter()
    linkage = link(records, max_pairs=params.max_pairs, say=lambda m: print(m, file=sys.stderr))
    times["link"] = time.perf_counter() - start
    start = time.perf_counter()
    frame = records.frame
    labels = cluster_labels(linkage.pairs, len(frame), params.match_threshold)
    one_ids = assign_one_ids(frame["source"] + "/" + frame["record_id"], labels)
    times["cluster"] = time.perf_counter() - start
    truth = pd.read_parquet(folder / "truth.parquet").set_index(["channel", "record_id"])
    entity = truth["person_id"].reindex(pd.MultiIndex.from_frame(frame[["source", "record_id"]]))
    scores = evaluation.pair_scores(labels, entity.to_numpy(dtype=object))
    print(f"{len(frame)}\t{one_ids.nunique()}\t{len(linkage.pairs)}\t{times['read']:.1f}\t"
          f"{times['link']:.1f}\t{times['cluster']:.1f}\t{scores['pairwise_f1']:.4f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--customers", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nev-bench-identity"))
    parser.add_argument("--child", type=Path, default=None)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    folder = prepare(args.customers, args.records, args.work)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(folder)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().strip().split("\t") if proc.stdout else []
    if status != 0 or len(out) != 7:
        raise SystemExit(f"child failed (status {status})")
    n, found, pairs, read, linked, clustered, f1 = out
    print("| records | persons found | candidate pairs | read + normalise s | train + score s "
          "| cluster + one_ids s | total s (with imports) | peak RSS GiB | pairwise F1 |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {int(n):,} | {int(found):,} | {int(pairs):,} | {read} | {linked} | {clustered} | "
          f"{wall:.1f} | {usage.ru_maxrss / 2**20:.2f} | {f1} |")  # fmt: skip


if __name__ == "__main__":
    main()
