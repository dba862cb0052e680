"""How synthetic owners use their car and drift away from the brand: event rates and churn.

An owner's service experience (wait days), satisfaction (seen in NPS answers and complaints),
unexpected winter range loss in cold cities (seen as winter fast-charging spikes, complaints
and low NPS in winter), app and community engagement, a connected home charger and referrals
set a churn hazard; churn happens at a midnight and the owner is silent from then on. The
hazard has a calendar shape (spring and autumn car-sales peaks, winter for owners surprised
by range loss) and rises after the first year of ownership. Until churn the owner's events
arrive as a Poisson stream whose daily rate is the sum of the owner's event-type rates
(higher in winter for cold-city owners); "offline" owners, who barely use the brand's digital
services, are seen mostly at service visits and surveys.

May import numpy, pandas, the foundation modules and the ``features.data`` world modules
(``synth_world``, ``synth_people``, ``synth_funnel``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema
from features.data.synth_funnel import Journeys
from features.data.synth_people import Customers
from features.data.synth_world import DAYS_PER_YEAR, Window, is_winter, month_of

# Churn seasonality (January..December): owners switch brands in the spring and autumn car-
# sales peaks ("golden March, silver April", "golden September, silver October").
CHURN_MONTH_FACTOR = np.array([0.7, 0.8, 1.3, 1.5, 1.4, 1.2, 0.8, 0.8, 1.3, 1.3, 0.8, 0.8])
CHURN_MONTH_FACTOR = CHURN_MONTH_FACTOR / CHURN_MONTH_FACTOR.mean()
# Owners leave the after-sales network more readily once the first year of ownership is over.
SECOND_YEAR_HAZARD_FACTOR = 1.3

# --- owners --------------------------------------------------------------------------------
# Owner event streams; rates are events per year.
OWNER_STREAMS = (
    ("charging_session", "home"),
    ("charging_session", "public"),
    ("charging_session", "fast"),
    ("app_login", "app"),
    ("ota_feature_use", "app"),
    ("driver_assist_use", "app"),
    ("service_visit", "service_center"),
    ("complaint", "service_center"),
    ("community_post", "app"),
    ("referral_made", "app"),
    ("nps_response", "app"),
    ("content_view", "private_domain"),
)
(
    S_HOME,
    S_PUBLIC,
    S_FAST,
    S_APP,
    S_OTA,
    S_ASSIST,
    S_SERVICE,
    S_COMPLAINT,
    S_COMMUNITY,
    S_REFERRAL,
    S_NPS,
    S_CONTENT,
) = range(len(OWNER_STREAMS))
WALLBOX_SHARE = np.array([0.30, 0.42, 0.50, 0.10, 0.16])
WALLBOX_TIER_FACTOR = np.array([0.8, 0.9, 1.0, 1.1])
HOME_CHARGING_PER_YEAR = 14.0
PUBLIC_CHARGING_PER_YEAR = np.array([4.0, 3.0, 1.5, 6.0, 3.0])
FAST_CHARGING_PER_YEAR = np.array([1.5, 2.0, 1.0, 2.5, 1.5])
APP_LOGINS_MEDIAN = np.array([10.0, 3.0, 3.0, 4.0, 1.5])
OTA_PER_YEAR = np.array([3.0, 0.8, 1.0, 0.8, 0.4])
ASSIST_PER_YEAR = np.array([5.0, 1.5, 1.5, 4.0, 1.0])
COMMUNITY_SHARE = np.array([0.35, 0.15, 0.35, 0.10, 0.08])
COMMUNITY_POSTS_PER_YEAR = 8.0
SERVICE_VISITS_PER_YEAR = 2.2
NPS_PER_YEAR = 2.0
NPS_CENTER = 8.35
CONTENT_PER_YEAR = 1.0
COMPLAINTS_PER_YEAR = 0.25
REFERRALS_PER_YEAR = 0.10
MEAN_WAIT_DAYS = 2.3
RANGE_LOSS_UNAWARE_SHARE = 0.738
WINTER_FAST_FACTOR = 3.0
WINTER_HOME_FACTOR = 1.3
WINTER_COMPLAINT_FACTOR = 4.0
WINTER_HAZARD_FACTOR = 2.5
CHURN_BASE_HAZARD = 0.52
HAZARD_NOISE_SD = 0.15
APP_SPREAD = 0.5
SATISFACTION_NOISE_SD = 0.3
WAIT_NOISE_SD = 0.12
HAZARD_WAIT = 0.35
HAZARD_SATISFACTION = 0.4
HAZARD_WALLBOX = 0.6
HAZARD_APP = 0.3
HAZARD_COMMUNITY = 0.5
# Owners who barely use the brand's digital services (no app habit, charge at third-party
# networks): the brand sees them mostly at service visits and surveys.
OFFLINE_SHARE = np.array([0.05, 0.25, 0.15, 0.20, 0.45])
OFFLINE_FACTOR = 0.15
# Planted drift (off by default; ``generate_dataset(..., drift=True)``): from DRIFT_START a
# range-loss wave in cold zones (say, after a battery-management update) makes every cold-zone
# owner churn DRIFT_HAZARD_FACTOR times as readily, and those who stay use the brand's services
# far less (they charge at third-party networks): each of their owner events after the start is
# kept with probability DRIFT_ACTIVITY_KEEP. It exists to prove the monitoring alarms (notebook
# 10): models trained before it under-predict churn after it. The hazard part draws no random
# numbers; the thinning draws from its own generator, ``np.random.default_rng((seed,
# DRIFT_RNG_TAG, chunk))``, so every draw of the default world is untouched.
DRIFT_START = "2025-05-01"
DRIFT_HAZARD_FACTOR = 3.0
DRIFT_ACTIVITY_KEEP = 0.3
DRIFT_ZONE = "cold"
DRIFT_RNG_TAG = 7_341


@dataclass(frozen=True)
class Drift:
    """A planted change from ``start`` for owners in ``zone``: churn hazard and activity."""

    start: str = DRIFT_START
    factor: float = DRIFT_HAZARD_FACTOR
    activity_keep: float = DRIFT_ACTIVITY_KEEP
    zone: str = DRIFT_ZONE

    def describe(self) -> dict[str, object]:
        """Plain values for the manifest."""
        return {
            "kind": "cold_zone_range_loss_churn_surge",
            "start": self.start,
            "churn_hazard_factor": self.factor,
            "owner_event_keep_share": self.activity_keep,
            "climate_zone": self.zone,
            "rule": (
                f"from {self.start} the churn hazard of owners in {self.zone} cities is multiplied "
                f"by {self.factor} and each of their owner events is kept with probability "
                f"{self.activity_keep}"
            ),
        }


@dataclass
class Owners:
    """Owner-level latent state; rows are customers with a delivery inside the window."""

    rows: np.ndarray
    rates: np.ndarray
    winter_rates: np.ndarray
    wait_mean: np.ndarray
    satisfaction: np.ndarray
    range_shock: np.ndarray
    hazard: np.ndarray
    winter_factor: np.ndarray
    churn_day: np.ndarray


def churn_day_weights(epoch_days: np.ndarray, winter_factor: float | np.ndarray) -> np.ndarray:
    """Calendar part of the churn hazard: month seasonality times the winter factor."""
    season = CHURN_MONTH_FACTOR[month_of(epoch_days) - 1]
    return season * np.where(is_winter(epoch_days), winter_factor, 1.0)


def cumulative_hazard(
    daily: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    year_end: np.ndarray,
    weight_cum: np.ndarray,
) -> np.ndarray:
    """Churn hazard summed over day indices ``first..last`` (inclusive; 0 if ``last < first``).

    ``weight_cum[k]`` sums the calendar weights (``churn_day_weights``) of day indices
    ``0..k-1``; days after ``year_end`` (the last day of the first year of ownership) count
    ``SECOND_YEAR_HAZARD_FACTOR`` times.
    """

    def weight(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return np.where(hi >= lo, weight_cum[np.maximum(hi + 1, lo)] - weight_cum[lo], 0.0)

    first_year = weight(first, np.minimum(last, year_end))
    later = weight(np.maximum(first, year_end + 1), last)
    return daily * (first_year + SECOND_YEAR_HAZARD_FACTOR * later)


def draw_owners(
    rng: np.random.Generator,
    cust: Customers,
    jour: Journeys,
    window: Window,
    drift: Drift | None = None,
) -> Owners:
    """Draw owners' event-stream rates, satisfaction, churn hazard and churn day.

    ``drift`` (None: no drift) multiplies the daily churn hazard of the drift zone's owners from
    its start day on; it changes churn days only, with the same random draws.
    """
    rows = np.flatnonzero(~np.isnan(jour.delivery_time))
    m = len(rows)
    persona = cust.persona[rows]
    tier = cust.tier[rows]
    cold = cust.climate[rows] == schema.CLIMATE_ZONES.index("cold")
    direct = cust.direct[rows]

    wallbox = rng.random(m) < np.clip(WALLBOX_SHARE[persona] * WALLBOX_TIER_FACTOR[tier], 0, 0.95)
    member = rng.random(m) < COMMUNITY_SHARE[persona]
    z_app = rng.normal(0, 1, m)
    tech_use = np.exp(rng.normal(0, 0.5, m))
    range_shock = cold & (rng.random(m) < RANGE_LOSS_UNAWARE_SHARE)
    wait_factor = np.where(direct, 0.8, 1.1) * np.array([0.9, 1.0, 1.05, 1.2])[tier]
    wait_mean = MEAN_WAIT_DAYS * wait_factor * np.exp(rng.normal(0, WAIT_NOISE_SD, m)) / 1.05
    z_wait = np.log(wait_mean / MEAN_WAIT_DAYS) / 0.35
    satisfaction = (
        -0.45 * z_wait
        - 0.8 * range_shock
        + 0.6 * (jour.fit[rows] - 0.6)
        + 0.25 * wallbox
        + rng.normal(0, SATISFACTION_NOISE_SD, m)
    )

    rates = np.zeros((m, len(OWNER_STREAMS)))
    rates[:, S_HOME] = wallbox * HOME_CHARGING_PER_YEAR * np.exp(rng.normal(0, 0.4, m))
    rates[:, S_PUBLIC] = PUBLIC_CHARGING_PER_YEAR[persona] * np.where(wallbox, 0.3, 1.0)
    rates[:, S_PUBLIC] *= np.exp(rng.normal(0, 0.5, m))
    rates[:, S_FAST] = FAST_CHARGING_PER_YEAR[persona] * np.where(wallbox, 0.6, 1.0)
    rates[:, S_APP] = APP_LOGINS_MEDIAN[persona] * np.exp(APP_SPREAD * z_app + 0.3 * satisfaction)
    rates[:, S_OTA] = OTA_PER_YEAR[persona] * tech_use
    rates[:, S_ASSIST] = ASSIST_PER_YEAR[persona] * tech_use
    rates[:, S_SERVICE] = SERVICE_VISITS_PER_YEAR
    rates[:, S_COMPLAINT] = COMPLAINTS_PER_YEAR * np.exp(-0.9 * satisfaction)
    rates[:, S_COMMUNITY] = member * COMMUNITY_POSTS_PER_YEAR * np.exp(rng.normal(0, 0.7, m))
    rates[:, S_REFERRAL] = REFERRALS_PER_YEAR * np.exp(0.8 * satisfaction + 0.6 * member)
    rates[:, S_NPS] = NPS_PER_YEAR
    rates[:, S_CONTENT] = CONTENT_PER_YEAR
    offline = rng.random(m) < OFFLINE_SHARE[persona]
    digital = [S_HOME, S_PUBLIC, S_FAST, S_APP, S_OTA, S_ASSIST, S_COMMUNITY, S_CONTENT]
    rates[:, digital] *= np.where(offline, OFFLINE_FACTOR, 1.0)[:, None]
    winter_rates = rates.copy()
    winter_rates[:, S_FAST] *= np.where(cold, WINTER_FAST_FACTOR, 1.0)
    winter_rates[:, S_HOME] *= np.where(cold, WINTER_HOME_FACTOR, 1.0)
    winter_rates[:, S_COMPLAINT] *= np.where(range_shock, WINTER_COMPLAINT_FACTOR, 1.0)

    log_hazard = (
        HAZARD_WAIT * z_wait
        - HAZARD_SATISFACTION * satisfaction
        - HAZARD_WALLBOX * wallbox
        - HAZARD_APP * z_app
        - HAZARD_COMMUNITY * member
        + rng.normal(0, HAZARD_NOISE_SD, m)
    )
    hazard = CHURN_BASE_HAZARD * np.exp(log_hazard)
    winter_factor = np.where(range_shock, WINTER_HAZARD_FACTOR, 1.0)

    # Churn happens at the midnight starting day j (j > delivery day) with probability
    # 1 - exp(-h_j): the first day whose cumulative hazard passes an Exp(1) draw.
    n_days = window.days
    horizon = n_days + 400  # room for first-year ends beyond the window
    calendar = window.epoch_days(horizon + 1)
    # groups of owners sharing one calendar: (selection, cumulative calendar weights)
    groups = [
        (winter_factor == f, np.concatenate([[0.0], np.cumsum(churn_day_weights(calendar, f))]))
        for f in (1.0, WINTER_HAZARD_FACTOR)
    ]
    if drift is not None:
        groups = drift_groups(groups, calendar, window, drift, cust.climate[rows])
    daily = hazard / DAYS_PER_YEAR
    first = np.floor(jour.delivery_time[rows]).astype(np.int64) + 1
    year_end = first - 1 + 365
    threshold = rng.exponential(1.0, m)

    def cum_hazard(last: np.ndarray) -> np.ndarray:
        out = np.empty(m)
        for sel, cum in groups:
            out[sel] = cumulative_hazard(daily[sel], first[sel], last[sel], year_end[sel], cum)
        return out

    lo = first - 1
    hi = np.full(m, n_days, dtype=np.int64)
    churns = cum_hazard(hi) >= threshold
    for _ in range(int(np.ceil(np.log2(n_days + 2))) + 1):
        mid = (lo + hi) // 2
        passed = cum_hazard(mid) >= threshold
        hi = np.where(passed, mid, hi)
        lo = np.where(passed, lo, mid)
    churn_day = np.where(churns & (hi >= first), hi, np.nan).astype(np.float64)
    return Owners(
        rows=rows,
        rates=rates,
        winter_rates=winter_rates,
        wait_mean=wait_mean,
        satisfaction=satisfaction,
        range_shock=range_shock,
        hazard=hazard,
        winter_factor=winter_factor,
        churn_day=churn_day,
    )


def drift_groups(
    groups: list[tuple[np.ndarray, np.ndarray]],
    calendar: np.ndarray,
    window: Window,
    drift: Drift,
    climate: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split each calendar group into owners outside and inside the drift zone.

    Inside, every day from the drift start weighs ``drift.factor`` times more.
    """
    start_day = int((pd.Timestamp(drift.start) - window.start) / pd.Timedelta(days=1))
    multiplier = np.where(np.arange(len(calendar)) >= start_day, drift.factor, 1.0)
    zone = climate == schema.CLIMATE_ZONES.index(drift.zone)
    split = []
    for sel, cum in groups:
        weights = np.diff(cum)
        drifted = np.concatenate([[0.0], np.cumsum(weights * multiplier)])
        split += [(sel & ~zone, cum), (sel & zone, drifted)]
    return split


def drift_keep_mask(
    rng: np.random.Generator,
    ev_rows: np.ndarray,
    days: np.ndarray,
    cust: Customers,
    jour: Journeys,
    window: Window,
    drift: Drift,
) -> np.ndarray:
    """Which events survive the drift's thinning (owner events in the zone after the start)."""
    start_day = (pd.Timestamp(drift.start) - window.start) / pd.Timedelta(days=1)
    zone = cust.climate[ev_rows] == schema.CLIMATE_ZONES.index(drift.zone)
    delivery = jour.delivery_time[ev_rows]
    owner_event = ~np.isnan(delivery) & (days > delivery)
    hit = zone & owner_event & (days >= start_day)
    return ~hit | (rng.random(len(ev_rows)) < drift.activity_keep)
