"""What synthetic owners are worth to the brand: revenue events in CNY, by stream.

Revenue comes in the plans' four parts of lifetime value:

- purchase: the brand's margin on the car at delivery, and on a second car (repurchase);
- usage: paid public and fast charging (home charging is not brand revenue), service and
  repair bills, software (OTA features, driver-assist packages, connectivity);
- value-added services: insurance, extended warranty and financing margin at delivery,
  accessories and insurance renewals at service visits;
- social: a credit for each referral that leads to a new order (credited to the referrer).

Every revenue event is stamped at the time of an owner event the generator already drew
(a charging session, a service visit, an OTA use, the delivery, or the first owner event
after a repurchase or referral moment), so no revenue event fires after an owner has churned
and the churn label ("no event at all within the horizon") is unchanged. The draws come from
generators of their own (``VALUE_RNG_TAG``), so the other events of a seed are untouched.
Amounts are calibrated so that on the default 50k dataset the realised value over the window
splits about 35/45/15/5 and the top decile of owners holds about 3.6x the average owner's
value (``tests/features/data/test_synth_value.py``).

May import numpy, the foundation modules and the ``features.data`` world modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features import schema
from features.data.synth_funnel import Journeys
from features.data.synth_owners import (
    S_COMMUNITY,
    S_FAST,
    S_OTA,
    S_PUBLIC,
    S_SERVICE,
    Owners,
)
from features.data.synth_world import DAYS_PER_YEAR, WINTER_MONTHS

VALUE_RNG_TAG = 9_173
VALUE_STREAMS = ("purchase", "usage", "vas", "social")
# Revenue event types and the stream each belongs to.
REVENUE_EVENT_STREAMS = {
    "vehicle_purchase": "purchase",
    "charging_payment": "usage",
    "service_payment": "usage",
    "software_purchase": "usage",
    "vas_purchase": "vas",
    "referral_order": "social",
}
# Spend level by persona (young, family, high-net-worth, commuter, value seeker).
SPEND_FACTOR = np.array([1.0, 1.0, 2.6, 0.8, 0.55])
SPEND_SD = 0.7
PURCHASE_MARGIN = 0.11  # brand margin on the car price
CHARGING_PRICE = {S_PUBLIC: 1.6, S_FAST: 2.2}  # CNY per kWh-equivalent unit of the session
CHARGING_UNITS_MEAN = {S_PUBLIC: 35.0, S_FAST: 42.5}  # mean of the session values
SERVICE_BILL_MEAN = 11_500.0
SERVICE_BILL_SD = 0.8
SOFTWARE_BUY_SHARE = np.array([0.85, 0.3, 0.7, 0.45, 0.15])  # OTA uses that are purchases
SOFTWARE_PRICE_MEAN = 14_000.0
SOFTWARE_PRICE_SD = 0.9
DELIVERY_VAS_MEAN = 4_000.0
FINANCING_MARGIN = np.array([0.0, 0.015, 0.02])  # cash, loan, lease: share of the price
SERVICE_VAS_SHARE = 0.5
SERVICE_VAS_MEAN = 2_400.0
VAS_SD = 0.6
REPURCHASE_PER_YEAR = np.array([0.23, 0.27, 0.53, 0.19, 0.13])
REFERRAL_ORDERS_PER_YEAR = 0.13
REFERRAL_MEMBER_FACTOR = 2.0
WINTER_SHARE = len(WINTER_MONTHS) / 12
_LOGNORMAL_MEAN = {sd: np.exp(sd * sd / 2) for sd in (SERVICE_BILL_SD, SOFTWARE_PRICE_SD, VAS_SD)}
TRUTH_VALUE_COLUMNS = tuple(f"value_rate_{s}" for s in VALUE_STREAMS)


@dataclass
class OwnerValue:
    """Owner-level value state (rows aligned with ``Owners.rows``)."""

    spend: np.ndarray
    repurchase_day: np.ndarray
    referral_rate: np.ndarray
    rates: np.ndarray  # expected CNY per active year, columns VALUE_STREAMS


def _lognormal(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    return mean * np.exp(rng.normal(-sd * sd / 2, sd, n))


def draw_owner_value(seed: int, persona: np.ndarray, jour: Journeys, owners: Owners) -> OwnerValue:
    """Draw each owner's spend level, repurchase moment and referral rate; expected rates."""
    rng = np.random.default_rng((seed, VALUE_RNG_TAG))
    rows = owners.rows
    m = len(rows)
    pers = persona[rows]
    spend = SPEND_FACTOR[pers] * np.exp(rng.normal(-(SPEND_SD**2) / 2, SPEND_SD, m))
    rep_rate = REPURCHASE_PER_YEAR[pers] * np.exp(0.4 * owners.satisfaction)
    repurchase_day = jour.delivery_time[rows] + rng.exponential(DAYS_PER_YEAR / rep_rate)
    member = owners.rates[:, S_COMMUNITY] > 0
    referral_rate = REFERRAL_ORDERS_PER_YEAR * np.exp(0.6 * owners.satisfaction)
    referral_rate = referral_rate * np.where(member, REFERRAL_MEMBER_FACTOR, 1.0)

    yearly = owners.rates * (1 - WINTER_SHARE) + owners.winter_rates * WINTER_SHARE
    charging = sum(
        yearly[:, s] * CHARGING_PRICE[s] * CHARGING_UNITS_MEAN[s] for s in CHARGING_PRICE
    )
    service = yearly[:, S_SERVICE] * SERVICE_BILL_MEAN * spend
    software = yearly[:, S_OTA] * SOFTWARE_BUY_SHARE[pers] * SOFTWARE_PRICE_MEAN * spend
    vas = yearly[:, S_SERVICE] * SERVICE_VAS_SHARE * SERVICE_VAS_MEAN * spend
    purchase = rep_rate * PURCHASE_MARGIN * jour.price[rows]
    rates = np.column_stack([purchase, charging + service + software, vas,
                             referral_rate * PURCHASE_MARGIN * jour.price[rows]])  # fmt: skip
    return OwnerValue(spend, repurchase_day, referral_rate, rates)


def _first_event_after(
    keys_row: np.ndarray, keys_day: np.ndarray, rows: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Index (into the sorted owner events) of each (row, day)'s first event at or after it.

    ``keys_row``/``keys_day`` are owner events sorted by (row, day); -1 where none exists.
    """
    big = 1e5
    keys = keys_row * big + keys_day
    pos = np.searchsorted(keys, rows * big + days, side="left")
    ok = pos < len(keys)
    ok[ok] &= keys_row[pos[ok]] == rows[ok]
    return np.where(ok, pos, -1)


def revenue_events(
    seed: int,
    chunk: int,
    events: tuple[np.ndarray, ...],
    owner_pos: np.ndarray,
    jour: Journeys,
    owners: Owners,
    value: OwnerValue,
    persona: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Revenue events of one chunk, stamped at its owner events' times.

    Args:
        seed: dataset seed; the chunk's draws come from ``(seed, VALUE_RNG_TAG, chunk)``.
        chunk: chunk number.
        events: the chunk's (row, day, type code, channel code, value) arrays.
        owner_pos: position of each customer row in ``owners.rows`` (-1 for non-owners).
        jour: the journeys (price, financing, delivery).
        owners: the owners' latent state.
        value: the owners' value state (``draw_owner_value``).
        persona: persona code per customer row.

    Returns:
        (row, day, type code, channel code, amount in CNY) arrays of the revenue events.
    """
    rng = np.random.default_rng((seed, VALUE_RNG_TAG, chunk))
    ev_rows, days, types, channels, amounts = events
    t = {name: i for i, name in enumerate(schema.EVENT_TYPES)}
    c = {name: i for i, name in enumerate(schema.EVENT_CHANNELS)}
    pos = owner_pos[ev_rows]
    delivery = jour.delivery_time[ev_rows]
    owner_ev = (pos >= 0) & (days > delivery)
    out_rows, out_days, out_types, out_channels, out_amounts = [], [], [], [], []

    def emit(sel_rows, sel_days, type_name, channel_name, amount) -> None:
        out_rows.append(sel_rows)
        out_days.append(sel_days)
        out_types.append(np.full(len(sel_rows), t[type_name], dtype=np.int16))
        out_channels.append(np.full(len(sel_rows), c[channel_name], dtype=np.int16))
        out_amounts.append(np.round(np.asarray(amount, dtype=np.float64), 2))

    # Delivery: margin on the car, value-added services and financing margin.
    sel = np.flatnonzero((types == t["delivery"]) & (pos >= 0))
    r = ev_rows[sel]
    price = jour.price[r]
    emit(r, days[sel], "vehicle_purchase", "store", PURCHASE_MARGIN * price)
    vas = _lognormal(rng, DELIVERY_VAS_MEAN, VAS_SD, len(r)) * value.spend[pos[sel]]
    emit(r, days[sel], "vas_purchase", "store", vas + FINANCING_MARGIN[jour.financing[r]] * price)

    # Paid charging at public and fast chargers.
    for stream, name in ((S_PUBLIC, "public"), (S_FAST, "fast")):  # paid in the app
        sel = np.flatnonzero(owner_ev & (types == t["charging_session"]) & (channels == c[name]))
        emit(ev_rows[sel], days[sel], "charging_payment", "app",
             amounts[sel] * CHARGING_PRICE[stream])  # fmt: skip

    # Service bills, and accessories or insurance renewals at some visits.
    sel = np.flatnonzero(owner_ev & (types == t["service_visit"]))
    spend = value.spend[pos[sel]]
    bill = _lognormal(rng, SERVICE_BILL_MEAN, SERVICE_BILL_SD, len(sel)) * spend
    emit(ev_rows[sel], days[sel], "service_payment", "service_center", bill)
    extra = sel[rng.random(len(sel)) < SERVICE_VAS_SHARE]
    amount = _lognormal(rng, SERVICE_VAS_MEAN, VAS_SD, len(extra)) * value.spend[pos[extra]]
    emit(ev_rows[extra], days[extra], "vas_purchase", "service_center", amount)

    # Software: some OTA uses are purchases or subscriptions.
    sel = np.flatnonzero(owner_ev & (types == t["ota_feature_use"]))
    buy = sel[rng.random(len(sel)) < SOFTWARE_BUY_SHARE[persona[ev_rows[sel]]]]
    amount = _lognormal(rng, SOFTWARE_PRICE_MEAN, SOFTWARE_PRICE_SD, len(buy))
    emit(ev_rows[buy], days[buy], "software_purchase", "app", amount * value.spend[pos[buy]])

    # Repurchase and referral orders: at the first owner event after the moment.
    idx = np.flatnonzero(owner_ev)
    order = np.lexsort((days[idx], ev_rows[idx]))
    idx = idx[order]
    key_rows, key_days = ev_rows[idx].astype(np.float64), days[idx]
    chunk_owners = np.unique(ev_rows[idx])
    opos = owner_pos[chunk_owners]
    rep_day = value.repurchase_day[opos]
    hit = _first_event_after(key_rows, key_days, chunk_owners.astype(np.float64), rep_day)
    got = idx[hit[hit >= 0]]
    new_price = jour.price[ev_rows[got]] * np.exp(rng.normal(0.05, 0.15, len(got)))
    emit(ev_rows[got], days[got], "vehicle_purchase", "store", PURCHASE_MARGIN * new_price)

    start = jour.delivery_time[chunk_owners]
    span = np.maximum(np.nanmax(key_days, initial=0.0) + 1 - start, 0.0)
    n_ref = rng.poisson(value.referral_rate[opos] * span / DAYS_PER_YEAR)
    ref_owner = np.repeat(np.arange(len(chunk_owners)), n_ref)
    ref_day = start[ref_owner] + rng.random(len(ref_owner)) * span[ref_owner]
    hit = _first_event_after(
        key_rows, key_days, chunk_owners[ref_owner].astype(np.float64), ref_day
    )
    got = idx[hit[hit >= 0]]
    referred_price = jour.price[ev_rows[got]] * np.exp(rng.normal(-0.02, 0.2, len(got)))
    credit = PURCHASE_MARGIN * referred_price
    emit(ev_rows[got], days[got], "referral_order", "referral", credit)

    return (
        np.concatenate(out_rows).astype(np.int64),
        np.concatenate(out_days),
        np.concatenate(out_types),
        np.concatenate(out_channels),
        np.concatenate(out_amounts),
    )
