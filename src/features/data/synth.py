"""Synthetic NEV customer data: calibrated, reproducible, with a known ground truth.

``generate_dataset`` writes one folder per dataset::

    customers.parquet  one row per lead (with fake personal fields)
    events.parquet     the journey log, sorted by (customer_id, ts)
    orders.parquet     one row per order
    truth.parquet      latent variables of the simulation (evaluation only)
    manifest.json      generator version, parameters, row counts, sha256 of every file

The latent world (personas, funnels, propensities, owners' hazards) lives in
``features.synth_world``; this module turns it into event streams and files.

Event values: ``content_view`` seconds viewed; ``configurator_session`` minutes;
``store_visit`` the sales team's response time in hours (lead creation to first follow-up) on a
lead's first visit, null on later visits; ``test_drive`` minutes driven; ``quote`` the quoted
price and ``order`` the price (CNY); ``charging_session`` kWh; ``driver_assist_use`` km driven
with assistance; ``service_visit`` wait days; ``nps_response`` the score 0-10; null otherwise.
Channels: marketing touches carry their touchpoint channel (search, short_video, ...), app and
community use ``app``, showroom events ``store``, service visits and complaints
``service_center``, charging sessions ``home``/``public``/``fast``. Same seed and
parameters give byte-identical files: every random draw comes from numpy Generators seeded from
the dataset seed, customers are simulated in fixed-size chunks, and nothing depends on the
clock.

Command line::

    python -m features.synth --n-customers 50000 --seed 42 --out data/raw/my_dataset
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from features import defaults, schema
from features.data import synth_world as world
from features.io import atomic_dir, sha256_file, write_json
from features.params import check_date, check_int

GENERATOR_VERSION = "1.0.0"
CHUNK_CUSTOMERS = 50_000
PROGRESS_MIN_CUSTOMERS = 100_000
SECONDS_PER_DAY = 86_400

# Truth columns added to schema.TRUTH_COLUMNS for the oracle (see features.oracle).
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
)
TRUTH_ALL_COLUMNS = schema.TRUTH_COLUMNS + TRUTH_EXTRA_COLUMNS

_TYPE = {name: i for i, name in enumerate(schema.EVENT_TYPES)}
_CHANNEL = {name: i for i, name in enumerate(schema.EVENT_CHANNELS)}
_ONLINE_CHANNELS = np.array(
    [i for i, c in enumerate(schema.ACQUISITION_CHANNELS) if c != "store_walk_in"]
)
_ACQ_TO_EVENT_CHANNEL = np.array([_CHANNEL[c] for c in schema.ACQUISITION_CHANNELS])
_CAPTURE_TYPE = np.array(
    [
        _TYPE["ad_click"] if c in ("search", "short_video", "vertical_media")
        else _TYPE["store_visit"] if c == "store_walk_in"
        else _TYPE["content_view"]
        for c in schema.ACQUISITION_CHANNELS
    ]
)  # fmt: skip
_OWNER_TYPE = np.array([_TYPE[t] for t, _ in world.OWNER_STREAMS])
_OWNER_CHANNEL = np.array([_CHANNEL[c] for _, c in world.OWNER_STREAMS])

MARKETING_DECAY_DAYS = 25.0
MARKETING_FLOOR_PER_DAY = 0.012
PRE_DELIVERY_APP_PER_DAY = 0.12

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

    Returns:
        The dataset folder.

    Raises:
        SynthError: bad parameters or an unusable output path (nothing is written).
        FileExistsError: ``out`` exists and ``overwrite`` is False.
    """
    window, target = check_generate_args(n_customers, seed, out, start, end, overwrite)
    with atomic_dir(target, overwrite=overwrite) as tmp:
        write_dataset_files(n_customers, seed, window, tmp, progress)
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
) -> tuple[world.Window, Path]:
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
    return world.Window(start_ts, end_ts), target


def write_dataset_files(
    n_customers: int, seed: int, window: world.Window, folder: Path, progress: bool = False
) -> dict[str, int]:
    """Simulate the world and write all tables plus the manifest into ``folder``."""
    say = _progress_printer(progress)
    seeds = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(seeds[0])
    say(f"simulating {n_customers:,} customers")
    cust = world.draw_customers(rng, n_customers, window)
    jour = world.draw_journeys(rng, cust, window)
    owners = world.draw_owners(rng, cust, jour, window)
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
    counts["truth"] = _write_table(
        truth_table(ids, cust, jour, owners, window), folder / "truth.parquet"
    )
    counts["events"] = write_events(
        seeds[2], ids, cust, jour, owners, window, folder / "events.parquet", say
    )
    manifest = build_manifest(n_customers, seed, window, folder, counts)
    write_json(manifest, folder / schema.MANIFEST_FILE)
    say(f"done: {counts['events']:,} events")
    return counts


def customer_ids(n: int) -> np.ndarray:
    """Customer ids ``C0000001``.. (zero-padded so that text order equals number order)."""
    width = max(7, len(str(n)))
    return np.array([f"C{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


# --- tables --------------------------------------------------------------------------------
def _timestamps(window: world.Window, seconds: np.ndarray) -> pa.Array:
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
    rng: np.random.Generator, ids: np.ndarray, cust: world.Customers, window: world.Window
) -> pa.Table:
    """The customers table (schema.CUSTOMER_COLUMNS)."""
    columns = {
        "customer_id": pa.array(ids, type=pa.string()),
        "lead_created_at": _timestamps(window, _seconds(cust.lead_day)),
        "full_name": pa.array(fake_names(rng, cust.female), type=pa.string()),
        "phone": pa.array(fake_phones(rng, len(ids)), type=pa.string()),
        "age": pa.array(cust.age, type=pa.int64()),
        "gender": pa.array(np.where(cust.female, "female", "male").astype(object), pa.string()),
        "city": _labels(cust.city, world.CITY_NAMES),
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


def orders_table(
    ids: np.ndarray, cust: world.Customers, jour: world.Journeys, window: world.Window
) -> pa.Table:
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
    cust: world.Customers,
    jour: world.Journeys,
    owners: world.Owners,
    window: world.Window,
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
        "activity_rate": _floats(owner_values(owners.rates.sum(axis=1) / world.DAYS_PER_YEAR)),
        "winter_activity_rate": _floats(
            owner_values(owners.winter_rates.sum(axis=1) / world.DAYS_PER_YEAR)
        ),
        "winter_hazard_factor": _floats(owner_values(owners.winter_factor)),
    }
    return pa.table({name: columns[name] for name in TRUTH_ALL_COLUMNS})


def _write_table(table: pa.Table, path: Path) -> int:
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


# --- events --------------------------------------------------------------------------------
class _EventParts:
    """Collects event arrays (customer row, time in days, type, channel, value)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        rows: np.ndarray,
        days: np.ndarray,
        types: np.ndarray | int,
        channels: np.ndarray | int,
        values: np.ndarray | None = None,
    ) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        n = len(rows)
        if n == 0:
            return
        self.parts.append(
            (
                rows,
                np.asarray(days, dtype=np.float64),
                np.broadcast_to(np.asarray(types, dtype=np.int16), n),
                np.broadcast_to(np.asarray(channels, dtype=np.int16), n),
                np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64),
            )
        )

    def concat(self) -> tuple[np.ndarray, ...]:
        if not self.parts:
            empty = np.empty(0)
            return (empty.astype(np.int64), empty, empty.astype(np.int16),
                    empty.astype(np.int16), empty)  # fmt: skip
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(5))


def _matrix_events(
    parts: _EventParts,
    rows: np.ndarray,
    times: np.ndarray,
    values: np.ndarray | None,
    type_code: int,
    channel_code: int,
    skip_first: np.ndarray | None = None,
) -> None:
    """Emit the non-NaN cells of an (n, k) time matrix as events."""
    mask = ~np.isnan(times)
    if skip_first is not None:
        mask[:, 0] &= ~skip_first
    r, c = np.nonzero(mask)
    vals = None if values is None else values[r, c]
    parts.add(rows[r], times[r, c], type_code, channel_code, vals)


def _uniform_events(
    rng: np.random.Generator, rate: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Homogeneous Poisson events on [start, stop) per row: (row position, time)."""
    span = np.maximum(stop - start, 0.0)
    n = rng.poisson(rate * span)
    idx = np.repeat(np.arange(len(span)), n)
    return idx, start[idx] + rng.random(len(idx)) * span[idx]


def lead_events(
    rng: np.random.Generator,
    rows: np.ndarray,
    cust: world.Customers,
    jour: world.Journeys,
    window: world.Window,
    parts: _EventParts,
) -> None:
    """Journey events of the leads ``rows``: capture, funnel, marketing, order, delivery."""
    n_days = float(window.days)
    lead = cust.lead_day[rows]
    channel = cust.channel[rows]
    persona = cust.persona[rows]
    interest = jour.interest[rows]
    walk_in = channel == schema.ACQUISITION_CHANNELS.index("store_walk_in")
    response = jour.response_hours[rows]

    # Lead capture: the touchpoint that created the lead.
    cap_type = _CAPTURE_TYPE[channel]
    cap_channel = np.where(walk_in, _CHANNEL["store"], _ACQ_TO_EVENT_CHANNEL[channel])
    dwell = np.round(np.exp(rng.normal(np.log(40.0) + 0.25 * interest, 0.7)))
    cap_value = np.select(
        [cap_type == _TYPE["store_visit"], cap_type == _TYPE["content_view"]],
        [response, dwell],
        np.nan,
    )
    parts.add(rows, lead, cap_type, cap_channel, cap_value)

    # Funnel.
    _matrix_events(
        parts, rows, jour.cfg_times[rows], jour.cfg_minutes[rows],
        _TYPE["configurator_session"], _CHANNEL["app"],
    )  # fmt: skip
    visits = jour.visit_times[rows]
    visit_values = np.full(visits.shape, np.nan)
    visit_values[:, 0] = response  # first visit carries the sales team's response time (hours)
    _matrix_events(
        parts, rows, visits, visit_values, _TYPE["store_visit"], _CHANNEL["store"], walk_in
    )
    td = jour.test_drive[rows]
    parts.add(rows[td], jour.test_drive_time[rows][td], _TYPE["test_drive"], _CHANNEL["store"],
              jour.test_drive_minutes[rows][td])  # fmt: skip
    qt = jour.quote[rows]
    parts.add(rows[qt], jour.quote_time[rows][qt], _TYPE["quote"], _CHANNEL["store"],
              jour.quote_amount[rows][qt])  # fmt: skip

    # Marketing touches: intense during the journey, decaying after it, a low floor until the
    # order (buyers) or the window end.
    order = jour.order_time[rows]
    stop = np.where(np.isnan(order), n_days, order)
    end = np.minimum(jour.journey_end[rows], stop)
    rate = jour.marketing_rate[rows]
    i1, t1 = _uniform_events(rng, rate, lead, end)
    span2 = np.maximum(stop - end, 0.0)
    mass2 = rate * MARKETING_DECAY_DAYS * (1 - np.exp(-span2 / MARKETING_DECAY_DAYS))
    n2 = rng.poisson(mass2)
    i2 = np.repeat(np.arange(len(rows)), n2)
    q = rng.random(len(i2)) * (1 - np.exp(-span2[i2] / MARKETING_DECAY_DAYS))
    t2 = end[i2] - MARKETING_DECAY_DAYS * np.log1p(-q)
    floor_rate = MARKETING_FLOOR_PER_DAY * np.exp(0.3 * interest)
    i3, t3 = _uniform_events(rng, floor_rate, lead, stop)
    idx = np.concatenate([i1, i2, i3])
    times = np.concatenate([t1, t2, t3])
    keep = times < stop[idx]
    idx, times = idx[keep], times[keep]
    app_share = np.where(
        channel == schema.ACQUISITION_CHANNELS.index("private_domain"),
        0.30,
        np.where(persona == world.YOUNG, 0.15, 0.05),
    )
    draw = rng.random(len(idx))
    is_app = draw < app_share[idx]
    is_click = ~is_app & (draw < app_share[idx] + 0.25 * (1 - app_share[idx]))
    types = np.where(is_app, _TYPE["app_login"], np.where(is_click, _TYPE["ad_click"],
                                                           _TYPE["content_view"]))  # fmt: skip
    online_prefs = world.CHANNEL_PROBS[:, _ONLINE_CHANNELS][persona[idx]]
    other_channel = _ONLINE_CHANNELS[world.choose_rows(rng, online_prefs)]
    own = (rng.random(len(idx)) < 0.55) & ~walk_in[idx]
    mk_channel = _ACQ_TO_EVENT_CHANNEL[np.where(own, channel[idx], other_channel)]
    channels = np.where(is_app, _CHANNEL["app"], mk_channel)
    values = np.where(
        types == _TYPE["content_view"],
        np.round(np.exp(rng.normal(np.log(40.0) + 0.25 * interest[idx], 0.7))),
        np.nan,
    )
    parts.add(rows[idx], times, types, channels, values)

    # Order, app use while waiting for the car, delivery.
    has_order = ~np.isnan(order)
    orow = rows[has_order]
    direct = cust.direct[orow]
    order_channel = np.where(
        direct & (rng.random(len(orow)) < 0.5), _CHANNEL["app"], _CHANNEL["store"]
    )
    parts.add(orow, order[has_order], _TYPE["order"], order_channel, jour.price[orow])
    delivery = jour.delivery_time[orow]
    wait_end = np.where(np.isnan(delivery), n_days, delivery)
    rate = np.full(len(orow), PRE_DELIVERY_APP_PER_DAY)
    ia, ta = _uniform_events(rng, rate, order[has_order], wait_end)
    parts.add(orow[ia], ta, _TYPE["app_login"], _CHANNEL["app"])
    delivered = ~np.isnan(delivery)
    parts.add(orow[delivered], delivery[delivered], _TYPE["delivery"], _CHANNEL["store"])


def owner_events(
    rng: np.random.Generator,
    owner_idx: np.ndarray,
    jour: world.Journeys,
    owners: world.Owners,
    window: world.Window,
    winter_of_day: np.ndarray,
    parts: _EventParts,
) -> None:
    """Owner events from delivery until churn (or the window end) for owners ``owner_idx``."""
    if len(owner_idx) == 0:
        return
    rows = owners.rows[owner_idx]
    start = jour.delivery_time[rows]
    churn = owners.churn_day[owner_idx]
    stop = np.where(np.isnan(churn), float(window.days), churn)
    base = owners.rates[owner_idx]
    winter = owners.winter_rates[owner_idx]
    base_total = base.sum(axis=1) / world.DAYS_PER_YEAR
    winter_total = winter.sum(axis=1) / world.DAYS_PER_YEAR
    peak = np.maximum(base_total, winter_total)
    i, t = _uniform_events(rng, peak, start, stop)
    in_winter = winter_of_day[np.floor(t).astype(np.int64)]
    rate_now = np.where(in_winter, winter_total[i], base_total[i])
    keep = rng.random(len(i)) * peak[i] < rate_now
    i, t, in_winter = i[keep], t[keep], in_winter[keep]
    stream = world.choose_rows(rng, np.where(in_winter[:, None], winter[i], base[i]))

    values = np.full(len(i), np.nan)
    draws = {
        world.S_HOME: lambda k: np.round(rng.uniform(8, 45, k), 1),
        world.S_PUBLIC: lambda k: np.round(rng.uniform(15, 55, k), 1),
        world.S_FAST: lambda k: np.round(rng.uniform(20, 65, k), 1),
        world.S_ASSIST: lambda k: np.round(np.exp(rng.normal(np.log(25.0), 0.6, k)), 1),
        world.S_CONTENT: lambda k: np.round(np.exp(rng.normal(np.log(40.0), 0.7, k))),
    }
    for s, draw in draws.items():
        sel = stream == s
        values[sel] = draw(int(sel.sum()))
    sel = stream == world.S_SERVICE
    mean_wait = owners.wait_mean[owner_idx][i[sel]]
    values[sel] = np.round(rng.gamma(2.5, mean_wait / 2.5), 1)
    sel = stream == world.S_NPS
    sat = owners.satisfaction[owner_idx][i[sel]]
    shocked = owners.range_shock[owner_idx][i[sel]] & in_winter[sel]
    score = world.NPS_CENTER + 1.4 * sat + rng.normal(0, 1.2, int(sel.sum())) - 2.0 * shocked
    values[sel] = np.clip(np.rint(score), 0, 10)
    parts.add(rows[i], t, _OWNER_TYPE[stream], _OWNER_CHANNEL[stream], values)


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
    cust: world.Customers,
    jour: world.Journeys,
    owners: world.Owners,
    window: world.Window,
    path: Path,
    say: Callable[[str], None] | None = None,
) -> int:
    """Simulate and write the events table chunk by chunk (sorted by customer_id, ts)."""
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
            parts = _EventParts()
            lead_events(rng, rows, cust, jour, window, parts)
            pos = owner_pos[rows]
            owner_events(rng, pos[pos >= 0], jour, owners, window, winter_of_day, parts)
            ev_rows, days, ev_types, ev_channels, values = parts.concat()
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
    n_customers: int, seed: int, window: world.Window, folder: Path, counts: dict[str, int]
) -> dict:
    """Manifest: generator, parameters, window, row counts and sha256 of every table file."""
    files = {}
    for table in schema.RAW_TABLES:
        name = f"{table}.parquet"
        files[name] = {
            "rows": counts[table],
            "sha256": sha256_file(Path(folder) / name),
            "role": "evaluation_only" if table == schema.TRUTH_TABLE else "raw",
        }
    return {
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
        "evaluation_only": ["truth.parquet"],
        "truth_note": (
            "truth.parquet holds latent variables of the simulation for evaluation (oracle "
            "scores); feature code must never read it"
        ),
        "winter_months": list(world.WINTER_MONTHS),
    }


# --- command line --------------------------------------------------------------------------
def _progress_printer(enabled: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if enabled:
            print(f"synth: {message}", file=sys.stderr, flush=True)

    return say


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
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
    args = parser.parse_args(argv)
    progress = not args.quiet and args.n_customers >= PROGRESS_MIN_CUSTOMERS
    try:
        out = generate_dataset(
            args.n_customers, args.seed, args.out, args.start, args.end, args.overwrite, progress
        )
    except (SynthError, FileExistsError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
