"""Benchmark data intake: validation, CSV loading against DuckDB's own reader, load + features.

Every measurement runs in its own child process, which reports its wall time; its peak
resident memory is the child's ``ru_maxrss`` from ``os.wait4`` (the data are generated in a
child process too, so that no child inherits a large parent's high-water mark):

- ``validate``: ``features.data.validate.validate_dataset`` on a synthetic dataset folder;
- ``csv_load``: ``load_event_log`` on a CSV event log written from that dataset's events (ids,
  ``YYYY-MM-DD HH:MM:SS`` stamps, event types, channels, amounts written ``"1,234.50"`` in
  quotes, the way a CRM export writes them);
- ``duckdb_read_csv``: ``duckdb.read_csv`` of the same file with its own type detection, into
  pandas (the reference: the loader should stay within 2x of it);
- ``load_features``: ``load_event_log`` on the dataset folder then ``build_features`` at the
  cutoff (what a notebook does).

Usage::

    .venv/bin/python benchmarks/bench_intake.py --customers 1000000 --csv-rows 10000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pandas as pd  # noqa: E402

CUTOFF = pd.Timestamp("2025-07-01")
MODES = ("validate", "csv_load", "duckdb_read_csv", "load_features")


def _peak_rss_gb(usage: resource.struct_rusage) -> float:
    return usage.ru_maxrss / 1024**2  # Linux: KiB


def write_csv_log(dataset: Path, path: Path, rows: int) -> None:
    """The first ``rows`` events of the dataset (repeated if needed) as a quoted CSV export."""
    events = pd.read_parquet(dataset / "events.parquet")
    while len(events) < rows:
        events = pd.concat([events, events], ignore_index=True)
    events = events.iloc[:rows]
    values = events["value"].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    frame = pd.DataFrame(
        {
            "customer_id": events["customer_id"],
            "ts": events["ts"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "event_type": events["event_type"].astype("str"),
            "channel": events["channel"].astype("str"),
            "value": values,
        }
    )
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)


def run_mode(mode: str, dataset: Path, csv_path: Path) -> dict:
    """One measurement in this process."""
    start = time.perf_counter()
    if mode == "validate":
        from features.data.validate import validate_dataset

        found = len(validate_dataset(dataset))
    elif mode == "csv_load":
        from features.data.eventlog import load_event_log

        log = load_event_log(csv_path, verbose=False)
        found = len(log.events)
        assert log.cleaning["unparseable_amounts"] == 0
    elif mode == "duckdb_read_csv":
        import duckdb

        found = len(duckdb.read_csv(str(csv_path)).df())
    else:
        from features.data.eventlog import load_event_log
        from features.table.build import build_features

        log = load_event_log(dataset, verbose=False)
        found = len(build_features(log, CUTOFF))
    return {"mode": mode, "seconds": time.perf_counter() - start, "result": found}


def prepare(customers: int, csv_rows: int, work: Path) -> tuple[Path, Path]:
    """Generate (or reuse) the dataset and the CSV export."""
    from features.data.synth import generate_dataset

    work.mkdir(parents=True, exist_ok=True)
    dataset = work / f"synthetic_n{customers}"
    if not (dataset / "manifest.json").exists():
        generate_dataset(customers, seed=11, out=dataset, progress=True)
    csv_path = work / f"events_{csv_rows}.csv"
    if not csv_path.exists():
        write_csv_log(dataset, csv_path, csv_rows)
    return dataset, csv_path


def run_child(command: list[str]) -> tuple[str, float]:
    """Run a child process; its stdout and its peak resident memory in GiB (``os.wait4``)."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command, out)
    return out, _peak_rss_gb(usage)


def main() -> None:
    """Generate or reuse the data, then run each mode in a child process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--csv-rows", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nev-bench-intake"))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per mode (each in a new process); median shown"
    )
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DATASET", "CSV"))
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, dataset, csv_path = args.child
        print(json.dumps(run_mode(mode, Path(dataset), Path(csv_path))))
        return
    if args.prepare:
        dataset, csv_path = prepare(args.customers, args.csv_rows, args.work)
        print(json.dumps({"dataset": str(dataset), "csv": str(csv_path)}))
        return
    common = ["--customers", str(args.customers), "--csv-rows", str(args.csv_rows)]
    out, _ = run_child([sys.executable, __file__, *common, "--work", str(args.work), "--prepare"])
    paths = json.loads(out.strip().splitlines()[-1])
    dataset, csv_path = Path(paths["dataset"]), Path(paths["csv"])
    size_mb = csv_path.stat().st_size / 1e6
    print(
        f"dataset {dataset.name}; CSV {csv_path.name} ({size_mb:,.0f} MB); {os.cpu_count()} cores"
    )
    for mode in args.modes:
        command = [sys.executable, __file__, "--child", mode, str(dataset), str(csv_path)]
        runs = []
        for _ in range(max(args.repeat, 1)):
            out, peak_gb = run_child(command)
            runs.append((json.loads(out.strip().splitlines()[-1]), peak_gb))
        seconds = sorted(row["seconds"] for row, _ in runs)
        row, peak_gb = runs[0][0], max(peak for _, peak in runs)
        spread = f"  (runs: {', '.join(f'{s:.1f}' for s in seconds)})" if len(runs) > 1 else ""
        print(f"{mode:>16}: {statistics.median(seconds):7.1f} s  {peak_gb:5.2f} GiB  "
              f"({row['result']:,}){spread}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
