"""Historical randomised campaigns with known individual effects: win-back and test drive.

Two campaigns ran in monthly waves, each wave randomised anew (``TREATMENT_SHARE`` of the
eligible customers contacted, drawn independently of everything else):

- ``winback``: an offer (service voucher, charging package or software trial) to the owners
  who have not left the brand by the wave's date; success = the owner is still with the brand
  ``WINBACK_DAYS`` later.
- ``test_drive``: an invitation to the leads still in the market at the wave's date (no order
  yet, journey ended at most ``OPEN_LEAD_DAYS`` before); success = an order within
  ``TEST_DRIVE_DAYS``.

Potential outcomes: without contact a customer succeeds as in the simulated world (an owner
retained unless their churn falls in the window; a lead succeeds if they order in it), with
probability ``p0`` given the latent state. A contact converts a share ``s`` of the would-be
failures into successes and turns a share ``d`` of the would-be successes into failures (the
"sleeping dogs" a contact pushes away), so the true individual effect is
``uplift = (1 - p0) * s - p0 * d``. ``s`` and ``d`` follow the customer's latent situation,
not their risk: win-back works on owners with winter range loss (the charging package) and on
long service waits (the voucher), hardly on the most determined leavers (the top decile of
churn hazard), and backfires on quiet, satisfied owners; the invitation works on leads who
have not test-driven yet (families most), and annoys decided young tech buyers who have.

``campaigns.parquet`` holds what a CRM records (campaign, customer, sent_at, treated, outcome);
``campaign_truth.parquet`` (evaluation only) each row's ``p0`` and true uplift. The other
tables are the world without the campaigns' effects (a contacted owner's later events do not
change), which keeps every other file of a seed byte-identical. The draws come from a
generator of their own (``CAMPAIGN_RNG_TAG``).

May import numpy, pandas, pyarrow, the foundation modules, the ``features.data`` world modules
and ``features.data.oracle`` (the leads' order probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from features import schema
from features.data import oracle
from features.data.synth_funnel import Journeys
from features.data.synth_owners import (
    S_APP,
    WINTER_HAZARD_FACTOR,
    Drift,
    Owners,
    churn_day_weights,
    cumulative_hazard,
    drift_groups,
)
from features.data.synth_people import Customers
from features.data.synth_world import DAYS_PER_YEAR, Window

CAMPAIGN_RNG_TAG = 5_281
TASKS = ("winback", "test_drive")
TREATMENT_SHARE = 0.5
WAVE_MONTHS = 1  # a wave every month ...
FIRST_WAVE_MONTHS = 3  # ... from three months into the window (first owners and leads)
WINBACK_DAYS = 90
TEST_DRIVE_DAYS = 60
OPEN_LEAD_DAYS = 90
MIN_TENURE_DAYS = 30  # owners get the win-back offer from a month after delivery
# Win-back: share of would-be leavers kept (s) and of would-be stayers pushed away (d).
WINBACK_BASE_SAVE = 0.08
WINBACK_RANGE_SAVE = 0.55  # winter range loss: the charging package answers it
WINBACK_WAIT_SAVE = 0.45  # long service waits: the voucher answers them
WINBACK_WAIT_QUANTILE = 0.7
WINBACK_LOST_CAUSE_QUANTILE = 0.75  # the most determined leavers (top quarter of hazard) ...
WINBACK_LOST_CAUSE_FACTOR = 0.1  # ... are hardly kept
WINBACK_DOG_PUSH = 0.15  # quiet, satisfied owners reminded to look around
WINBACK_DOG_APP_QUANTILE = 0.3
# Test drive: share of would-be non-buyers converted (s) and of would-be buyers lost (d).
TEST_DRIVE_BASE_SAVE = 0.02
TEST_DRIVE_FIRST_SAVE = 0.10  # not test-driven yet
TEST_DRIVE_PERSONA_FACTOR = np.array([0.6, 1.8, 0.8, 1.2, 1.0])  # schema.PERSONAS order
TEST_DRIVE_DOG_PUSH = 0.35  # decided young tech buyers who already drove: a call annoys
CAMPAIGN_COLUMNS = ("campaign_id", "task", "customer_id", "sent_at", "treated", "outcome")
CAMPAIGN_TRUTH_COLUMNS = ("campaign_id", "customer_id", "p0", "true_uplift", "save_share",
                          "push_share")  # fmt: skip


@dataclass(frozen=True)
class Wave:
    """One randomised wave: the task, its day index from the window start and its id."""

    task: str
    day: int
    campaign_id: str

    @property
    def outcome_days(self) -> int:
        return WINBACK_DAYS if self.task == "winback" else TEST_DRIVE_DAYS


def campaign_waves(window: Window) -> list[Wave]:
    """Monthly waves of both tasks whose outcome window closes inside the data window."""
    first = (window.start + pd.DateOffset(months=FIRST_WAVE_MONTHS)).normalize().replace(day=1)
    waves = []
    for task in TASKS:
        for start in pd.date_range(first, window.end, freq=f"{WAVE_MONTHS}MS"):
            wave = Wave(task, int((start - window.start).days), f"{task}_{start:%Y%m}")
            if wave.day + wave.outcome_days <= window.days:
                waves.append(wave)
    return waves


def _owner_retention(
    owners: Owners, cust: Customers, jour: Journeys, window: Window, day: int,
    drift: Drift | None,
) -> np.ndarray:  # fmt: skip
    """P(an owner alive at ``day`` does not churn before ``day + WINBACK_DAYS``)."""
    rows = owners.rows
    calendar = window.epoch_days(window.days + 401)
    groups = [
        (owners.winter_factor == f,
         np.concatenate([[0.0], np.cumsum(churn_day_weights(calendar, f))]))
        for f in (1.0, WINTER_HAZARD_FACTOR)
    ]  # fmt: skip
    if drift is not None:
        groups = drift_groups(groups, calendar, window, drift, cust.climate[rows])
    first_owned = np.floor(jour.delivery_time[rows]).astype(np.int64) + 1
    year_end = first_owned - 1 + 365
    lo = np.full(len(rows), day + 1, dtype=np.int64)
    hi = np.full(len(rows), day + WINBACK_DAYS - 1, dtype=np.int64)
    h = np.empty(len(rows))
    daily = owners.hazard / DAYS_PER_YEAR
    for sel, cum in groups:
        h[sel] = cumulative_hazard(daily[sel], lo[sel], hi[sel], year_end[sel], cum)
    return np.exp(-h)


def _winback_wave(
    wave: Wave, owners: Owners, cust: Customers, jour: Journeys, window: Window,
    drift: Drift | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Eligible customer rows, p0, s, d and the untreated outcome of a win-back wave."""
    delivered = np.floor(jour.delivery_time[owners.rows])
    churn = owners.churn_day
    alive = np.isnan(churn) | (churn > wave.day)
    keep = (delivered + MIN_TENURE_DAYS <= wave.day) & alive
    p0 = _owner_retention(owners, cust, jour, window, wave.day, drift)
    long_wait = owners.wait_mean >= np.quantile(owners.wait_mean, WINBACK_WAIT_QUANTILE)
    lost = owners.hazard >= np.quantile(owners.hazard, WINBACK_LOST_CAUSE_QUANTILE)
    app = owners.rates[:, S_APP]
    quiet = (app <= np.quantile(app, WINBACK_DOG_APP_QUANTILE)) & (owners.satisfaction > 0)
    save = (WINBACK_BASE_SAVE + WINBACK_RANGE_SAVE * owners.range_shock
            + WINBACK_WAIT_SAVE * long_wait)  # fmt: skip
    save = np.where(lost, save * WINBACK_LOST_CAUSE_FACTOR, save)
    save = np.where(quiet & ~owners.range_shock & ~long_wait, 0.0, np.clip(save, 0, 0.9))
    push = np.where(quiet & ~owners.range_shock & ~long_wait, WINBACK_DOG_PUSH, 0.0)
    success = np.isnan(churn) | (churn >= wave.day + WINBACK_DAYS)
    return owners.rows[keep], p0[keep], save[keep], push[keep], success[keep]


def _test_drive_wave(
    wave: Wave, cust: Customers, jour: Journeys, truth: pd.DataFrame, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Eligible customer rows, p0, s, d and the untreated outcome of a test-drive wave."""
    day = wave.day
    ordered_before = jour.order_time < day  # NaN compares False: never ordered
    in_market = np.isnan(jour.journey_end) | (jour.journey_end >= day - OPEN_LEAD_DAYS)
    keep = (cust.lead_day < day) & ~ordered_before & in_market
    cutoff = window.start + pd.Timedelta(days=day)
    p0 = np.nan_to_num(oracle.conversion_probabilities(truth, cutoff, TEST_DRIVE_DAYS))
    drove = jour.test_drive_time < day
    young = cust.persona == schema.PERSONAS.index("young_tech_enthusiast")
    save = np.where(drove, TEST_DRIVE_BASE_SAVE, TEST_DRIVE_BASE_SAVE + TEST_DRIVE_FIRST_SAVE)
    save = np.clip(save * TEST_DRIVE_PERSONA_FACTOR[cust.persona], 0, 0.9)
    push = np.where(drove & young, TEST_DRIVE_DOG_PUSH, 0.0)
    save = np.where(drove & young, 0.0, save)
    success = (jour.order_time >= day) & (jour.order_time < day + TEST_DRIVE_DAYS)
    rows = np.flatnonzero(keep)
    return rows, p0[rows], save[rows], push[rows], success[rows]


def draw_campaigns(
    seed: int,
    ids: np.ndarray,
    cust: Customers,
    jour: Journeys,
    owners: Owners,
    truth: pd.DataFrame,
    window: Window,
    drift: Drift | None = None,
) -> tuple[pa.Table, pa.Table]:
    """The campaigns table (what the CRM recorded) and its evaluation-only truth."""
    rng = np.random.default_rng((seed, CAMPAIGN_RNG_TAG))
    parts, truths = [], []
    for wave in campaign_waves(window):
        if wave.task == "winback":
            rows, p0, save, push, y0 = _winback_wave(wave, owners, cust, jour, window, drift)
        else:
            rows, p0, save, push, y0 = _test_drive_wave(wave, cust, jour, truth, window)
        n = len(rows)
        treated = rng.random(n) < TREATMENT_SHARE
        flip = rng.random(n)
        y1 = np.where(y0, flip >= push, flip < save)
        sent_at = window.start + pd.Timedelta(days=wave.day)
        parts.append(pd.DataFrame({
            "campaign_id": wave.campaign_id, "task": wave.task, "customer_id": ids[rows],
            "sent_at": sent_at, "treated": treated.astype(np.int8),
            "outcome": np.where(treated, y1, y0).astype(np.int8)}))  # fmt: skip
        truths.append(pd.DataFrame({
            "campaign_id": wave.campaign_id, "customer_id": ids[rows], "p0": p0,
            "true_uplift": (1 - p0) * save - p0 * push, "save_share": save,
            "push_share": push}))  # fmt: skip
    return _campaign_tables(parts, truths)


def _campaign_tables(
    parts: list[pd.DataFrame], truths: list[pd.DataFrame]
) -> tuple[pa.Table, pa.Table]:
    """Both tables with fixed column types (empty when the window holds no wave)."""
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: pd.Series(dtype=object) for c in CAMPAIGN_COLUMNS})  # fmt: skip
    truth = pd.concat(truths, ignore_index=True) if truths else pd.DataFrame(
        {c: pd.Series(dtype=float) for c in CAMPAIGN_TRUTH_COLUMNS})  # fmt: skip
    campaign_schema = pa.schema([("campaign_id", pa.string()), ("task", pa.string()),
                                 ("customer_id", pa.string()), ("sent_at", pa.timestamp("us")),
                                 ("treated", pa.int8()), ("outcome", pa.int8())])  # fmt: skip
    truth_schema = pa.schema([("campaign_id", pa.string()), ("customer_id", pa.string()),
                              *((c, pa.float64()) for c in CAMPAIGN_TRUTH_COLUMNS[2:])])  # fmt: skip
    table["sent_at"] = pd.to_datetime(table["sent_at"]).astype("datetime64[us]")
    for frame, cols in ((table, ("campaign_id", "task", "customer_id")),
                        (truth, ("campaign_id", "customer_id"))):  # fmt: skip
        for c in cols:
            frame[c] = frame[c].astype(object)
    return (
        pa.Table.from_pandas(table[list(CAMPAIGN_COLUMNS)], schema=campaign_schema,
                             preserve_index=False),
        pa.Table.from_pandas(truth[list(CAMPAIGN_TRUTH_COLUMNS)], schema=truth_schema,
                             preserve_index=False),
    )  # fmt: skip
