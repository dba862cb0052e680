"""Wall time and peak memory per step of the pipeline (default: conf/default.yaml, 50k customers).

Runs the pipeline in this process with outputs in a scratch folder (reports, MLflow store and,
unless --project-data, the data root), samples the resident memory of this process plus its
children (the notebook kernels) every 0.1 s, and prints a markdown table per run. The first run
on fresh data includes generating the dataset, as a fresh clone's ``make run`` does; ``--runs 2``
adds a run on warm data.

    python benchmarks/bench_pipeline.py [--config conf/default.yaml] [--set key=value ...]
        [--runs 1] [--project-data] [--keep-outputs]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from tree_memory import tree_rss  # benchmarks/, beside this script

# The lab reads its folders and MLflow store from the environment when it uses them, not at
# import, so main() can still point them at the scratch folder.
from features.params import ParameterError
from features.pipeline.params import (
    DEFAULT_CONFIG,
    apply_overrides,
    load_parameter_file,
    resolve_parameter_set,
)
from features.pipeline.runner import run_pipeline

TARGET_SECONDS = 300


class MemorySampler:
    """Peak RSS (this process + children) per step, sampled in a background thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.current: str | None = None
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> float:
        return tree_rss() / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            step = self.current
            if step is not None:
                try:
                    rss = self._tree_rss()
                except psutil.Error:
                    rss = 0.0
                self.peaks[step] = max(self.peaks.get(step, 0.0), rss)
            time.sleep(self.interval)

    def on_step(self, event: str, name: str) -> None:
        if event == "start":
            self.current = name
            self.peaks[name] = self._tree_rss()
        else:
            self.peaks[name] = max(self.peaks.get(name, 0.0), self._tree_rss())
            self.current = None

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def print_table(record: dict, peaks: dict[str, float], label: str) -> None:
    print(f"\n### {label}: {record['status']} in {record['elapsed_seconds']:.1f} s\n")
    print("| step | status | wall s | peak RSS MiB (runner + kernel) |")
    print("|---|---|---:|---:|")
    for step in record["steps"]:
        peak = peaks.get(step["name"])
        shown = f"{peak:,.0f}" if peak else ""
        print(f"| {step['name']} | {step['status']} | {step['seconds']:.1f} | {shown} |")
    total = record["elapsed_seconds"]
    verdict = "within" if total <= TARGET_SECONDS else "OVER"
    print(f"| **total** | | **{total:.1f}** | {max(peaks.values(), default=0):,.0f} |")
    print(f"\nTarget {TARGET_SECONDS} s on this machine: {verdict} target.")
    for name, entry in record["notebooks"].items():
        metrics = entry.get("metrics") or {}
        keys = ("roc_auc", "baseline_logreg_roc_auc", "oracle_roc_auc", "k", "truth_ari")
        shown = ", ".join(
            f"{k}={metrics[k]:.4f}" for k in keys if isinstance(metrics.get(k), float)
        )
        print(f"- {name}: {entry.get('status')} {shown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="parameter set (default conf/default.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--runs", type=int, default=1, help="runs (the first on fresh data)")
    parser.add_argument("--project-data", action="store_true", help="use data/ (may be warm)")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    os.environ["NEV_LAB_REPORTS_DIR"] = str(scratch / "reports")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{scratch / 'mlflow.db'}"
    os.environ["NEV_LAB_MLFLOW_ARTIFACTS"] = str(scratch / "artifacts")
    if not args.project_data:
        os.environ["NEV_LAB_DATA_ROOT"] = str(scratch / "data")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    config_file = args.config or str(DEFAULT_CONFIG)
    try:
        raw = apply_overrides(load_parameter_file(config_file), args.overrides)
        params = resolve_parameter_set(raw)
    except ParameterError as exc:
        print(f"parameter error: {exc}", file=sys.stderr)
        return 2
    print(
        f"Machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.platform()}, Python {platform.python_version()}"
    )
    print(f"Parameter set: {config_file} {' '.join(args.overrides)}; scratch {scratch}")
    failed = False
    for index in range(args.runs):
        with MemorySampler() as sampler:
            record = run_pipeline(
                params, config_file=config_file, overrides=args.overrides, on_step=sampler.on_step
            )
        label = "run 1 (fresh data)" if index == 0 and not args.project_data else f"run {index + 1}"
        print_table(record, sampler.peaks, label)
        failed = failed or record["status"] != "SUCCEEDED"
    if not args.keep_outputs:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
