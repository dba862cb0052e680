"""Time and peak memory of the synthetic generator at several sizes; prints a markdown table.

Each size runs ``python -m features.synth`` in a child process, so the peak resident memory
(``ru_maxrss`` from ``os.wait4``) is that run's alone.

    python benchmarks/bench_synth.py                       # 10k, 100k, 1M customers
    python benchmarks/bench_synth.py --sizes 10000 100000  # a quicker check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_generator(n_customers: int, seed: int, out: Path) -> dict[str, float]:
    """Generate one dataset in a child process; return wall time, peak RSS and sizes."""
    command = [sys.executable, "-m", "features.data.synth", "--n-customers", str(n_customers),
               "--seed", str(seed), "--out", str(out), "--quiet"]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise RuntimeError(f"generator failed for n={n_customers}: {errors.strip()}")
    manifest = json.loads((out / "manifest.json").read_text())
    size = sum(p.stat().st_size for p in out.iterdir())
    return {
        "customers": n_customers,
        "events": manifest["row_counts"]["events"],
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "size_mb": size / 2**20,
    }


def markdown(rows: list[dict[str, float]]) -> str:
    """The results as a markdown table."""
    lines = [
        "| customers | events | events / customer | wall time (s) | peak RSS (MB) "
        "| events / s | files (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['customers']:,} | {r['events']:,} | {r['events'] / r['customers']:.1f} "
            f"| {r['seconds']:.1f} | {r['peak_rss_mb']:,.0f} | {r['events'] / r['seconds']:,.0f} "
            f"| {r['size_mb']:,.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", help="where datasets are written (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated datasets")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-synth-"))
    rows = []
    try:
        for n in args.sizes:
            out = workdir / f"synthetic_n{n}_s{args.seed}"
            if out.exists():
                shutil.rmtree(out)
            rows.append(run_generator(n, args.seed, out))
            print(f"n={n:,}: {rows[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
            if not args.keep:
                shutil.rmtree(out)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"Synthetic generator, seed {args.seed}; {os.cpu_count()} cores, "
          f"Python {platform.python_version()}\n")  # fmt: skip
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
