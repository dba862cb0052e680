"""Benchmark build_features (DuckDB) against a straightforward pandas group-by version.

For each size a synthetic dataset is generated once (``features.synth``, cached in the work
folder). Every measurement runs in its own child process, which reports its wall time and its
peak resident memory (``ru_maxrss``):

- ``duckdb_full``: ``build_features`` with all NEV families and customer attributes, on events
  loaded into pandas by ``load_event_log`` (what notebooks do);
- ``duckdb_parquet``: the same features, DuckDB reading ``events.parquet`` itself (out of core);
- ``duckdb_core`` and ``pandas_core``: the generic families only (recency, tenure, frequency,
  monetary and active days per window, first/last values, gaps, trends, event-type and channel
  mix), computed by ``build_features(..., nev=False)`` and by pandas group-bys; their outputs
  are compared cell by cell.

Usage::

    .venv/bin/python benchmarks/bench_features.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from features.data.eventlog import load_event_log  # noqa: E402
from features.table.build import build_features  # noqa: E402

CUTOFF = pd.Timestamp("2025-07-01")
WINDOWS = (7, 30, 90, 365)
MODES = ("duckdb_full", "duckdb_parquet", "duckdb_core", "pandas_core")


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def pandas_core_features(events: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Generic feature families with plain pandas group-bys (the comparison baseline)."""
    ev = events[events["ts"] < cutoff].copy()
    ev["event_type"] = ev["event_type"].astype("str")
    ev["channel"] = ev["channel"].astype("str").where(ev["channel"].notna())
    ev["age"] = (cutoff - ev["ts"]) / pd.Timedelta(days=1)
    ev["day"] = ev["ts"].dt.floor("D")
    by = ev.groupby("customer_id", sort=True)
    out = pd.DataFrame(
        {
            "recency_days": by["age"].min(),
            "tenure_days": by["age"].max(),
            "n_events_total": by.size().astype("float64"),
            "amount_sum_total": by["value"].sum(),
            "amount_mean": by["value"].mean(),
            "amount_max": by["value"].max(),
        }
    )
    days = ev[["customer_id", "day", "age"]].groupby(["customer_id", "day"], sort=True).min()
    days = days.reset_index()
    day_by = days.groupby("customer_id")
    out["active_days_total"] = day_by.size().astype("float64")
    for w in WINDOWS:
        recent = ev[ev["age"] <= w].groupby("customer_id")
        out[f"n_events_{w}d"] = recent.size().reindex(out.index, fill_value=0).astype("float64")
        out[f"amount_sum_{w}d"] = recent["value"].sum().reindex(out.index, fill_value=0.0)
        out[f"active_days_{w}d"] = (
            days[days["age"] <= w].groupby("customer_id").size()
            .reindex(out.index, fill_value=0).astype("float64")
        )  # fmt: skip
    # ties at the same timestamp are broken as build_features does: by amount, by type/channel
    by_amount = ev.dropna(subset=["value"]).sort_values(["customer_id", "ts", "value"])
    with_amount = by_amount.groupby("customer_id")["value"]
    out["first_amount"] = with_amount.first()
    out["last_amount"] = with_amount.last()
    ordered = ev.sort_values(["customer_id", "ts", "event_type", "channel"])
    first = ordered.groupby("customer_id").head(1).set_index("customer_id")
    out["first_event_type"] = first["event_type"]
    out["first_channel"] = first["channel"]
    gaps = day_by["day"].diff() / pd.Timedelta(days=1)
    gap_by = gaps.groupby(days["customer_id"])
    out["gap_mean_days"] = gap_by.mean()
    out["gap_max_days"] = gap_by.max()
    out["gap_std_days"] = gap_by.std()
    out["recency_to_gap_mean"] = out["recency_days"] / out["gap_mean_days"]
    last30 = ev[ev["age"] <= 30].groupby("customer_id")
    prev30 = ev[(ev["age"] > 30) & (ev["age"] <= 60)].groupby("customer_id")
    n_last = last30.size().reindex(out.index, fill_value=0)
    n_prev = prev30.size().reindex(out.index, fill_value=0)
    out["trend_events_30d"] = (n_last - n_prev).astype("float64")
    out["trend_events_ratio_30d"] = (n_last + 1) / (n_prev + 1)
    out["trend_amount_30d"] = last30["value"].sum().reindex(out.index, fill_value=0.0) - prev30[
        "value"
    ].sum().reindex(out.index, fill_value=0.0)
    counts = ev.groupby(["customer_id", "event_type"]).size().unstack(fill_value=0)
    counts_90 = (
        ev[ev["age"] <= 90].groupby(["customer_id", "event_type"]).size()
        .unstack(fill_value=0).reindex(index=out.index, columns=counts.columns, fill_value=0)
    )  # fmt: skip
    recency = ev.groupby(["customer_id", "event_type"])["age"].min().unstack()
    for event_type in counts.columns:
        out[f"evt_{event_type}_count"] = counts[event_type].astype("float64")
        out[f"evt_{event_type}_count_90d"] = counts_90[event_type].astype("float64")
        out[f"evt_{event_type}_days_since_last"] = recency[event_type]
        out[f"evt_{event_type}_share"] = counts[event_type] / out["n_events_total"]
    channels = ev.groupby(["customer_id", "channel"]).size().unstack(fill_value=0)
    channels = channels.reindex(out.index, fill_value=0)
    for channel in channels.columns:
        out[f"chn_{channel}_share"] = channels[channel] / out["n_events_total"]
    return out.reset_index()


def run_worker(mode: str, dataset: Path, out: Path | None) -> dict:
    """One measurement in this process; returns the figures as a dict."""
    result: dict = {"mode": mode}
    if mode == "duckdb_parquet":
        start = time.perf_counter()
        table = build_features(dataset / "events.parquet", CUTOFF)
        result["seconds"] = time.perf_counter() - start
        result["load_seconds"] = 0.0
        result["rss_after_load_gb"] = _peak_rss_gb()
    else:
        start = time.perf_counter()
        log = load_event_log(dataset, verbose=False)
        result["load_seconds"] = time.perf_counter() - start
        result["rss_after_load_gb"] = _peak_rss_gb()
        result["n_events"] = len(log.events)
        start = time.perf_counter()
        if mode == "duckdb_full":
            table = build_features(log.events, CUTOFF, log.customers)
        elif mode == "duckdb_core":
            table = build_features(log.events, CUTOFF, nev=False)
        else:
            table = pandas_core_features(log.events, CUTOFF)
        result["seconds"] = time.perf_counter() - start
    result["peak_rss_gb"] = _peak_rss_gb()
    result["rows"] = len(table)
    result["features"] = table.shape[1] - 1
    if out is not None:
        table.to_parquet(out, index=False)
    return result


def compare_core(duckdb_path: Path, pandas_path: Path) -> str:
    """Largest relative difference between the two core tables over shared columns."""
    a = pd.read_parquet(duckdb_path).set_index("customer_id").sort_index()
    b = pd.read_parquet(pandas_path).set_index("customer_id").sort_index()
    if not a.index.equals(b.index):
        return "row sets differ"
    shared = [c for c in b.columns if c in a.columns]
    worst, mismatched = 0.0, []
    for col in shared:
        x, y = a[col], b[col]
        if isinstance(x.dtype, pd.CategoricalDtype) or x.dtype == "str" or y.dtype == "str":
            same = (x.astype("str") == y.astype("str")) | (x.isna() & y.isna())
            if not same.all():
                mismatched.append(f"{col} ({(~same).sum()} rows)")
            continue
        x, y = x.to_numpy("float64"), y.to_numpy("float64")
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            mismatched.append(f"{col} (NaN pattern)")
            continue
        both = ~np.isnan(x)
        rel = np.abs(x[both] - y[both]) / np.maximum(1.0, np.abs(y[both]))
        worst = max(worst, float(rel.max(initial=0.0)))
    missing = [c for c in b.columns if c not in a.columns]
    text = f"{len(shared)} shared columns, max relative difference {worst:.1e}"
    if mismatched or missing:
        text += f"; mismatched: {mismatched}; missing: {missing}"
    return text


def ensure_dataset(n_customers: int, workdir: Path) -> Path:
    """The cached synthetic dataset for this size (generated on first use)."""
    folder = workdir / f"synthetic_n{n_customers}_s42"
    if not (folder / "events.parquet").exists():
        print(f"generating {n_customers:,} customers ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "features.data.synth", "--n-customers", str(n_customers),
             "--seed", "42", "--out", str(folder), "--overwrite"],
            check=True,
        )  # fmt: skip
        print(f"  generated in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return folder


def measure(mode: str, dataset: Path, out: Path | None) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, "--dataset", str(dataset)]
    if out is not None:
        cmd += ["--out", str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/nev_bench"))
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.dataset, args.out)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    notes = []
    for n in args.sizes:
        dataset = ensure_dataset(n, args.workdir)
        results = {}
        load_before = os.getloadavg()[0]
        for mode in args.modes:
            out = args.workdir / f"core_{mode}_{n}.parquet" if mode.endswith("_core") else None
            print(f"{n:,} customers: {mode} ...", file=sys.stderr, flush=True)
            results[mode] = measure(mode, dataset, out)
        notes.append(
            f"- {n:,}: 1-minute load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after (other processes share the {os.cpu_count()} cores)"
        )
        n_events = next((r["n_events"] for r in results.values() if "n_events" in r), None)
        for mode, r in results.items():
            ratio = ""
            if mode == "pandas_core" and "duckdb_core" in results:
                ratio = f"{r['seconds'] / results['duckdb_core']['seconds']:.1f}x slower"
            rows.append(
                f"| {n:,} | {n_events or 0:,} | {mode} | {r['features']} | {r['rows']:,} | "
                f"{r['seconds']:.1f} | {r['load_seconds']:.1f} | {r['peak_rss_gb']:.2f} | "
                f"{ratio} |"
            )
        if {"duckdb_core", "pandas_core"} <= set(results):
            notes.append(f"- {n:,}: core outputs agree: " + compare_core(
                args.workdir / f"core_duckdb_core_{n}.parquet",
                args.workdir / f"core_pandas_core_{n}.parquet",
            ))  # fmt: skip
    print(f"features at cutoff {CUTOFF:%Y-%m-%d}, windows {WINDOWS}, {os.cpu_count()} cores\n")
    print(
        "| customers | events | mode | features | rows | build s | load s | peak RSS GB | "
        "pandas vs DuckDB |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    if notes:
        print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
