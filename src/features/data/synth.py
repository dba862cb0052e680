"""Synthetic NEV customer data: calibrated, reproducible, with a known ground truth.

``generate_dataset`` writes one folder per dataset::

    customers.parquet  one row per lead (with fake personal fields)
    events.parquet     the journey log, sorted by (customer_id, ts)
    orders.parquet     one row per order
    truth.parquet      latent variables of the simulation (evaluation only)
    manifest.json      generator version, parameters, row counts, sha256 of every file

The latent world (personas, funnels, propensities, owners' hazards) lives in
``features.data.synth_world`` and its parts ``synth_people``, ``synth_funnel`` and
``synth_owners``; the event streams in ``features.data.synth_events``. This module owns the
files: it draws the world, turns it into Arrow tables, writes them with the manifest, and
holds the command line. Same seed and parameters give byte-identical files: every random draw
comes from numpy Generators seeded from the dataset seed, customers are simulated in
fixed-size chunks, and nothing depends on the clock.

May import the foundation modules and the other ``features.data.synth_*`` modules.

Command line::

    python -m features.synth --n-customers 50000 --seed 42 --out data/raw/my_dataset
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from features import defaults, schema
from features.data.synth_campaigns import draw_campaigns
from features.data.synth_events import simulate_events
from features.data.synth_funnel import Journeys, draw_journeys
from features.data.synth_owners import DRIFT_RNG_TAG, Drift, Owners, draw_owners, drift_keep_mask
from features.data.synth_people import CITY_NAMES, Customers, draw_customers
from features.data.synth_value import (
    TRUTH_VALUE_COLUMNS,
    OwnerValue,
    draw_owner_value,
    revenue_events,
)
from features.data.synth_voice import draw_comments
from features.data.synth_world import DAYS_PER_YEAR, WINTER_MONTHS, Window
from features.io import atomic_dir, sha256_file, write_json
from features.params import check_date, check_int

GENERATOR_VERSION = "1.3.0"
CHUNK_CUSTOMERS = 50_000
PROGRESS_MIN_CUSTOMERS = 100_000
SECONDS_PER_DAY = 86_400

# Truth columns added to schema.TRUTH_COLUMNS for the oracle (see features.data.oracle).
TRUTH_EXTRA_COLUMNS = (
    "lead_created_at",
    "journey_end_ts",
    "decision_fast_share",
    "decision_fast_days",
    "decision_slow_days",
    "delivery_ts",
    "activity_rate",
    "winter_activity_rate",
    "winter_hazard_factor",
) + TRUTH_VALUE_COLUMNS  # expected CNY per active year by stream (features.data.synth_value)
TRUTH_ALL_COLUMNS = schema.TRUTH_COLUMNS + TRUTH_EXTRA_COLUMNS

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
MALE_CHARS = list("伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建亮成博文峰晨哲")
FEMALE_CHARS = list(
    "芳娜敏静丽艳娟霞秀玲英慧巧美淑惠雅芝玉萍红月彩春兰凤洁梅琳云莲雪荣婷倩颖欣怡佳璐雯琪"
)
PHONE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182",
    "183", "184", "185", "186", "187", "188", "189", "198", "199",
]  # fmt: skip


class SynthError(ValueError):
    """Parameters the generator cannot use."""


# --- public API ----------------------------------------------------------------------------
def generate_dataset(
    n_customers: int,
    seed: int,
    out: str | os.PathLike[str],
    start: str = defaults.SIM_START,
    end: str = defaults.SIM_END,
    overwrite: bool = False,
    progress: bool = False,
    drift: bool = False,
) -> Path:
    """Simulate ``n_customers`` leads and write the raw dataset folder ``out``.

    Args:
        n_customers: number of leads (customers table rows), at least 1.
        seed: non-negative integer; same seed and parameters give byte-identical files.
        out: dataset folder to create (written to a temporary sibling, then renamed).
        start: first day of the simulation window (ISO date).
        end: last instant of the window (ISO date, midnight); must be after ``start``.
        overwrite: replace an existing ``out`` folder.
        progress: print progress lines to stderr.
        drift: plant the documented drift (``features.data.synth_owners.Drift``: from
            2025-05-01 cold-zone owners churn 3x as readily and use the brand a third as much);
            recorded in the manifest. Off by
            default, and the default files are byte-identical to those of a generator without
            the option.

    Returns:
        The dataset folder.

    Raises:
        SynthError: bad parameters or an unusable output path (nothing is written).
        FileExistsError: ``out`` exists and ``overwrite`` is False.
    """
    window, target = check_generate_args(n_customers, seed, out, start, end, overwrite)
    with atomic_dir(target, overwrite=overwrite) as tmp:
        write_dataset_files(n_customers, seed, window, tmp, progress, drift=drift)
        _share_permissions(tmp)
    return target


def _share_permissions(folder: Path) -> None:
    """Give the folder and its files the usual umask permissions (temp files start private)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        path.chmod(0o666 & ~umask)


def check_generate_args(
    n_customers: int,
    seed: int,
    out: str | os.PathLike[str],
    start: str,
    end: str,
    overwrite: bool,
) -> tuple[Window, Path]:
    """Validate the generator's parameters; return the window and the resolved output path."""
    try:
        check_int("n_customers", n_customers, minimum=1)
        check_int("seed", seed, minimum=0)
        start_ts = check_date("start", start)
        end_ts = check_date("end", end)
    except ValueError as exc:
        raise SynthError(str(exc)) from None
    if end_ts <= start_ts:
        raise SynthError(f"parameter 'end' = {end!r}: must be after start {start!r}")
    target = Path(out).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise SynthError(f"{target}: output path exists and is not a folder")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: already exists (use --overwrite to replace it)")
    ancestor = target.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise SynthError(f"{target}: output folder is not writable ({ancestor})")
    return Window(start_ts, end_ts), target


def write_dataset_files(
    n_customers: int,
    seed: int,
    window: Window,
    folder: Path,
    progress: bool = False,
    drift: bool = False,
) -> dict[str, int]:
    """Simulate the world and write all tables plus the manifest into ``folder``."""
    say = _progress_printer(progress)
    seeds = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(seeds[0])
    say(f"simulating {n_customers:,} customers")
    cust = draw_customers(rng, n_customers, window)
    jour = draw_journeys(rng, cust, window)
    planted = Drift() if drift else None
    owners = draw_owners(rng, cust, jour, window, drift=planted)
    value = draw_owner_value(seed, cust.persona, jour, owners)
    ids = customer_ids(n_customers)

    counts = {}
    folder = Path(folder)
    counts["customers"] = _write_table(
        customers_table(np.random.default_rng(seeds[1]), ids, cust, window),
        folder / "customers.parquet",
    )
    counts["orders"] = _write_table(
        orders_table(ids, cust, jour, window), folder / "orders.parquet"
    )
    truth = truth_table(ids, cust, jour, owners, window, value)
    counts["truth"] = _write_table(truth, folder / "truth.parquet")
    campaigns, campaign_truth = draw_campaigns(
        seed, ids, cust, jour, owners, truth.to_pandas(), window, drift=planted
    )
    counts[schema.CAMPAIGNS_TABLE] = _write_table(campaigns, folder / "campaigns.parquet")
    counts[schema.CAMPAIGN_TRUTH_TABLE] = _write_table(
        campaign_truth, folder / "campaign_truth.parquet"
    )
    comments, comment_truth = draw_comments(seed, ids, cust, jour, owners, window)
    counts[schema.COMMENTS_TABLE] = _write_table(comments, folder / "comments.parquet")
    counts[schema.COMMENT_TRUTH_TABLE] = _write_table(
        comment_truth, folder / "comment_truth.parquet"
    )
    counts["events"] = write_events(
        seeds[2], ids, cust, jour, owners, window, folder / "events.parquet", say,
        drift=planted, drift_seed=seed, value=value,
    )  # fmt: skip
    manifest = build_manifest(n_customers, seed, window, folder, counts, drift=planted)
    write_json(manifest, folder / schema.MANIFEST_FILE)
    say(f"done: {counts['events']:,} events")
    return counts


def customer_ids(n: int) -> np.ndarray:
    """Customer ids ``C0000001``.. (zero-padded so that text order equals number order)."""
    width = max(7, len(str(n)))
    return np.array([f"C{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


# --- tables --------------------------------------------------------------------------------
def _timestamps(window: Window, seconds: np.ndarray) -> pa.Array:
    """Seconds since the window start (NaN/negative = null) as timestamp[us]."""
    seconds = np.asarray(seconds, dtype=np.float64)
    missing = np.isnan(seconds)
    base = window.start.to_datetime64().astype("datetime64[us]")
    micros = np.where(missing, 0, seconds).astype(np.int64) * 1_000_000
    values = base + micros.astype("timedelta64[us]")
    return pa.array(values, type=pa.timestamp("us"), mask=missing)


def _seconds(days: np.ndarray) -> np.ndarray:
    """Float days since the window start to whole seconds (NaN stays NaN)."""
    return np.floor(np.asarray(days, dtype=np.float64) * SECONDS_PER_DAY)


def _labels(codes: np.ndarray, vocabulary: Sequence[str]) -> pa.Array:
    return pa.array(np.asarray(vocabulary, dtype=object)[codes], type=pa.string())


def _floats(values: np.ndarray) -> pa.Array:
    values = np.asarray(values, dtype=np.float64)
    return pa.array(values, type=pa.float64(), mask=np.isnan(values))


def fake_names(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """Realistic Chinese full names (surname + one or two given-name characters)."""
    n = len(female)
    surname = np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    male_c = np.array(MALE_CHARS, dtype=object)
    female_c = np.array(FEMALE_CHARS, dtype=object)
    first = np.where(
        female, female_c[rng.integers(0, len(female_c), n)], male_c[rng.integers(0, len(male_c), n)]
    )
    second = np.where(
        female, female_c[rng.integers(0, len(female_c), n)], male_c[rng.integers(0, len(male_c), n)]
    )
    second = np.where(rng.random(n) < 0.7, second, "")
    return surname + first + second


def fake_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Chinese mobile numbers: 11 digits, carrier prefix + 8 digits."""
    prefix = np.array(PHONE_PREFIXES, dtype=object)[rng.integers(0, len(PHONE_PREFIXES), n)]
    digits = rng.integers(0, 100_000_000, n)
    return np.array([f"{p}{d:08d}" for p, d in zip(prefix, digits, strict=True)], dtype=object)


def customers_table(
    rng: np.random.Generator, ids: np.ndarray, cust: Customers, window: Window
) -> pa.Table:
    """The customers table (schema.CUSTOMER_COLUMNS)."""
    columns = {
        "customer_id": pa.array(ids, type=pa.string()),
        "lead_created_at": _timestamps(window, _seconds(cust.lead_day)),
        "full_name": pa.array(fake_names(rng, cust.female), type=pa.string()),
        "phone": pa.array(fake_phones(rng, len(ids)), type=pa.string()),
        "age": pa.array(cust.age, type=pa.int64()),
        "gender": pa.array(np.where(cust.female, "female", "male").astype(object), pa.string()),
        "city": _labels(cust.city, CITY_NAMES),
        "city_tier": _labels(cust.tier, schema.CITY_TIERS),
        "climate_zone": _labels(cust.climate, schema.CLIMATE_ZONES),
        "income_band": _labels(cust.income, schema.INCOME_BANDS),
        "occupation": _labels(cust.occupation, schema.OCCUPATIONS),
        "married": pa.array(cust.married, type=pa.bool_()),
        "children": pa.array(cust.children, type=pa.int64()),
        "cars_in_household": pa.array(cust.cars, type=pa.int64()),
        "acquisition_channel": _labels(cust.channel, schema.ACQUISITION_CHANNELS),
        "budget": pa.array(cust.budget, type=pa.float64()),
        "sales_model": _labels(np.where(cust.direct, 0, 1), schema.SALES_MODELS),
    }
    return pa.table({name: columns[name] for name in schema.CUSTOMER_COLUMNS})


def orders_table(ids: np.ndarray, cust: Customers, jour: Journeys, window: Window) -> pa.Table:
    """The orders table (schema.ORDER_COLUMNS): one row per buyer with an order in the window."""
    rows = np.flatnonzero(~np.isnan(jour.order_time))
    columns = {
        "customer_id": pa.array(ids[rows], type=pa.string()),
        "order_ts": _timestamps(window, _seconds(jour.order_time[rows])),
        "model_line": _labels(jour.line[rows], schema.MODEL_LINES),
        "price": pa.array(jour.price[rows], type=pa.float64()),
        "financing": _labels(jour.financing[rows], schema.FINANCING),
        "sales_model": _labels(np.where(cust.direct[rows], 0, 1), schema.SALES_MODELS),
    }
    return pa.table({name: columns[name] for name in schema.ORDER_COLUMNS})


def truth_table(
    ids: np.ndarray,
    cust: Customers,
    jour: Journeys,
    owners: Owners,
    window: Window,
    value: OwnerValue,
) -> pa.Table:
    """The evaluation-only truth table (schema.TRUTH_COLUMNS + TRUTH_EXTRA_COLUMNS)."""
    n = len(ids)

    def owner_values(values: np.ndarray) -> np.ndarray:
        full = np.full(n, np.nan)
        full[owners.rows] = values
        return full

    inside = jour.journey_end <= window.days
    columns = {
        "customer_id": pa.array(ids, type=pa.string()),
        "persona": _labels(cust.persona, schema.PERSONAS),
        "purchase_propensity": pa.array(jour.propensity, type=pa.float64()),
        "order_intent_ts": _timestamps(window, _seconds(jour.order_time)),
        "churn_hazard": _floats(owner_values(owners.hazard)),
        "churn_ts": _timestamps(window, owner_values(owners.churn_day) * SECONDS_PER_DAY),
        "lead_created_at": _timestamps(window, _seconds(cust.lead_day)),
        "journey_end_ts": _timestamps(window, _seconds(np.where(inside, jour.journey_end, np.nan))),
        "decision_fast_share": pa.array(jour.fast_share, type=pa.float64()),
        "decision_fast_days": pa.array(jour.fast_days, type=pa.float64()),
        "decision_slow_days": pa.array(jour.slow_days, type=pa.float64()),
        "delivery_ts": _timestamps(window, _seconds(jour.delivery_time)),
        "activity_rate": _floats(owner_values(owners.rates.sum(axis=1) / DAYS_PER_YEAR)),
        "winter_activity_rate": _floats(
            owner_values(owners.winter_rates.sum(axis=1) / DAYS_PER_YEAR)
        ),
        "winter_hazard_factor": _floats(owner_values(owners.winter_factor)),
    }
    for k, name in enumerate(TRUTH_VALUE_COLUMNS):
        columns[name] = _floats(owner_values(value.rates[:, k]))
    return pa.table({name: columns[name] for name in TRUTH_ALL_COLUMNS})


def _write_table(table: pa.Table, path: Path) -> int:
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


# --- events table (simulated and written chunk by chunk) ------------------------------------
EVENTS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("event_type", pa.string()),
        ("channel", pa.string()),
        ("value", pa.float64()),
    ]
)


def write_events(
    seed_seq: np.random.SeedSequence,
    ids: np.ndarray,
    cust: Customers,
    jour: Journeys,
    owners: Owners,
    window: Window,
    path: Path,
    say: Callable[[str], None] | None = None,
    drift: Drift | None = None,
    drift_seed: int = 0,
    value: OwnerValue | None = None,
) -> int:
    """Simulate and write the events table chunk by chunk (sorted by customer_id, ts).

    With a ``drift``, each chunk's events are thinned afterwards (``drift_keep_mask``) with a
    generator of their own, seeded ``(drift_seed, DRIFT_RNG_TAG, chunk)``. With a ``value``,
    the chunk's revenue events (``synth_value.revenue_events``) are added after that.
    """
    n = len(ids)
    n_chunks = -(-n // CHUNK_CUSTOMERS)
    chunk_seeds = seed_seq.spawn(n_chunks)
    winter_of_day = window.winter_days(window.days + 1)
    owner_pos = np.full(n, -1, dtype=np.int64)
    owner_pos[owners.rows] = np.arange(len(owners.rows))
    types = np.asarray(schema.EVENT_TYPES, dtype=object)
    channels = np.asarray(schema.EVENT_CHANNELS, dtype=object)
    total = 0
    with pq.ParquetWriter(path, EVENTS_SCHEMA, compression="zstd") as writer:
        for k in range(n_chunks):
            rng = np.random.default_rng(chunk_seeds[k])
            rows = np.arange(k * CHUNK_CUSTOMERS, min((k + 1) * CHUNK_CUSTOMERS, n))
            ev_rows, days, ev_types, ev_channels, values = simulate_events(
                rng, rows, cust, jour, owners, owner_pos, window, winter_of_day
            )
            if drift is not None:
                thin = np.random.default_rng((drift_seed, DRIFT_RNG_TAG, k))
                keep = drift_keep_mask(thin, ev_rows, days, cust, jour, window, drift)
                ev_rows, days, ev_types, ev_channels, values = (
                    part[keep] for part in (ev_rows, days, ev_types, ev_channels, values)
                )
            if value is not None:
                base = (ev_rows, days, ev_types, ev_channels, values)
                extra = revenue_events(drift_seed, k, base, owner_pos, jour, owners, value,
                                       cust.persona)  # fmt: skip
                ev_rows, days, ev_types, ev_channels, values = (
                    np.concatenate([a, b]) for a, b in zip(base, extra, strict=True)
                )
            seconds = np.clip(_seconds(days), 0, window.days * SECONDS_PER_DAY).astype(np.int64)
            span = window.days * SECONDS_PER_DAY + 1
            order = np.argsort((ev_rows - rows[0]) * span + seconds, kind="stable")
            table = pa.table(
                {
                    "customer_id": pa.array(ids[ev_rows[order]], type=pa.string()),
                    "ts": _timestamps(window, seconds[order]),
                    "event_type": pa.array(types[ev_types[order]], type=pa.string()),
                    "channel": pa.array(channels[ev_channels[order]], type=pa.string()),
                    "value": _floats(values[order]),
                },
                schema=EVENTS_SCHEMA,
            )
            writer.write_table(table)
            total += table.num_rows
            if say is not None:
                say(f"events: {rows[-1] + 1:,}/{n:,} customers, {total:,} events")
    return total


# --- manifest ------------------------------------------------------------------------------
def build_manifest(
    n_customers: int,
    seed: int,
    window: Window,
    folder: Path,
    counts: dict[str, int],
    drift: Drift | None = None,
) -> dict:
    """Manifest: generator, parameters, window, row counts and sha256 of every table file.

    A planted drift adds ``parameters.drift = true`` and a ``drift`` block; without one the
    manifest has neither key (so default manifests stay as they were).
    """
    files = {}
    for table in schema.RAW_TABLES:
        name = f"{table}.parquet"
        files[name] = {
            "rows": counts[table],
            "sha256": sha256_file(Path(folder) / name),
            "role": "evaluation_only" if table in schema.EVALUATION_TABLES else "raw",
        }
    manifest = {
        "generator": "features.data.synth",
        "generator_version": GENERATOR_VERSION,
        "parameters": {
            "n_customers": n_customers,
            "seed": seed,
            "start": window.start.date().isoformat(),
            "end": window.end.date().isoformat(),
        },
        "window": {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "rule": "every timestamp t satisfies start <= t <= end",
        },
        "row_counts": dict(counts),
        "files": files,
        "evaluation_only": [f"{t}.parquet" for t in schema.EVALUATION_TABLES],
        "truth_note": (
            "truth.parquet holds latent variables of the simulation for evaluation (oracle "
            "scores); feature code must never read it"
        ),
        "winter_months": list(WINTER_MONTHS),
    }
    if drift is not None:
        manifest["parameters"]["drift"] = True
        manifest["drift"] = drift.describe()
    return manifest


# --- command line --------------------------------------------------------------------------
def _progress_printer(enabled: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if enabled:
            print(f"synth: {message}", file=sys.stderr, flush=True)

    return say


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad parameters)."""
    parser = _OneLineParser(
        prog="python -m features.synth", description="Generate a synthetic NEV dataset."
    )
    parser.add_argument("--n-customers", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--start", default=defaults.SIM_START)
    parser.add_argument("--end", default=defaults.SIM_END)
    parser.add_argument("--out", required=True)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--drift", action="store_true", help="plant the documented churn drift (off by default)"
    )
    args = parser.parse_args(argv)
    progress = not args.quiet and args.n_customers >= PROGRESS_MIN_CUSTOMERS
    try:
        out = generate_dataset(
            args.n_customers,
            args.seed,
            args.out,
            args.start,
            args.end,
            args.overwrite,
            progress,
            drift=args.drift,
        )
    except (SynthError, FileExistsError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
