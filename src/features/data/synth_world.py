"""Latent world of the synthetic NEV customer base: who the customers are, how their purchase
journeys unfold and how owners drift away from the brand.

Everything here works on whole arrays (one row per customer) and returns plain dataclasses of
numpy arrays; ``features.synth`` turns them into event streams and Parquet tables. Times are
float days since the window start.

Personas (``schema.PERSONAS``). The first three are the segments named in the industry plan
figures (young tech enthusiasts, family buyers 25%, high-net-worth buyers 18%). The other two
are added because the same figures describe a large part of the market that none of those
three covers:

- ``urban_commuter``: the plans' commuting usage scenario (range for 95% of daily trips,
  30-minute charge to 80%, fast head-unit response) and the rising share of women among
  users (37%, up from 28% in 2020) point at working commuters in big cities, many living in
  flats without a home charger and therefore relying on public and fast charging, buying
  compact or city cars.
- ``value_seeker``: lower-tier cities and counties make up 58.3% of NEV sales, and acquisition
  costs rise 20-40% a year in a "stock" market; these buyers are price-sensitive, buy the
  cheapest lines on loans, research on short-video platforms and decide slowly.

Causal structure (all noise terms are small next to the observable drivers):

- Conversion: a lead's latent interest (persona, channel, persona-model fit, budget gap and
  noise) drives the funnel it goes through (configurator sessions, store visits, test drive,
  quote). Its purchase propensity then depends on that observable funnel, the sales team's
  response time, the sales model (direct store or dealer), the acquisition channel, budget
  versus price, persona-model fit and a small idiosyncratic term. A buyer orders after the
  journey ends, following a two-speed decision delay (fast deciders and slow ones).
- Churn: an owner's service experience (wait days), satisfaction (seen in NPS answers and
  complaints), unexpected winter range loss in cold cities (seen as winter fast-charging spikes,
  complaints and low NPS in winter), app and community engagement, a connected home charger
  and referrals set a churn hazard; churn happens at a midnight and the owner is silent from
  then on. The hazard has a calendar shape (spring and autumn car-sales peaks, winter for
  owners surprised by range loss) and rises after the first year of ownership. Until churn the
  owner's events arrive as a Poisson stream whose daily rate is the sum of the owner's
  event-type rates (higher in winter for cold-city owners); "offline" owners, who barely use
  the brand's digital services, are seen mostly at service visits and surveys.

Lead intake declines slowly over the window (a fixed budget buys fewer leads as acquisition
costs rise). Every constant below is a calibration knob; ``tests/features/test_synth.py``
checks the resulting figures against the industry plan figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema

WINTER_MONTHS = (12, 1, 2)
DAYS_PER_YEAR = 365.25
# A fixed marketing budget buys fewer leads every year (acquisition cost +20-40% a year).
LEAD_INTAKE_DECLINE_PER_YEAR = 0.2
# Churn seasonality (January..December): owners switch brands in the spring and autumn car-
# sales peaks ("golden March, silver April", "golden September, silver October").
CHURN_MONTH_FACTOR = np.array([0.7, 0.8, 1.3, 1.5, 1.4, 1.2, 0.8, 0.8, 1.3, 1.3, 0.8, 0.8])
CHURN_MONTH_FACTOR = CHURN_MONTH_FACTOR / CHURN_MONTH_FACTOR.mean()
# Owners leave the after-sales network more readily once the first year of ownership is over.
SECOND_YEAR_HAZARD_FACTOR = 1.3

# --- persona-level parameters (rows follow schema.PERSONAS) -------------------------------
YOUNG, FAMILY, HNW, COMMUTER, VALUE = range(len(schema.PERSONAS))
PERSONA_LEAD_SHARE = np.array([0.26, 0.245, 0.115, 0.20, 0.18])
AGE_MEAN = np.array([29.0, 40.0, 44.0, 34.0, 41.0])
AGE_SD = np.array([4.0, 5.0, 7.0, 5.0, 10.0])
FEMALE_SHARE = np.array([0.28, 0.42, 0.30, 0.50, 0.36])
# city tiers: tier1, new_tier1, tier2, tier3_plus
TIER_PROBS = np.array(
    [
        [0.22, 0.33, 0.30, 0.15],
        [0.08, 0.20, 0.37, 0.35],
        [0.35, 0.30, 0.22, 0.13],
        [0.33, 0.37, 0.22, 0.08],
        [0.02, 0.08, 0.30, 0.60],
    ]
)
# income bands: low .. high
INCOME_PROBS = np.array(
    [
        [0.05, 0.20, 0.40, 0.28, 0.07],
        [0.05, 0.20, 0.42, 0.28, 0.05],
        [0.00, 0.00, 0.05, 0.30, 0.65],
        [0.08, 0.35, 0.40, 0.15, 0.02],
        [0.35, 0.40, 0.20, 0.05, 0.00],
    ]
)
# occupations in schema.OCCUPATIONS order
OCCUPATION_PROBS = np.array(
    [
        [0.35, 0.25, 0.05, 0.05, 0.05, 0.03, 0.12, 0.00, 0.10],
        [0.10, 0.30, 0.15, 0.20, 0.12, 0.05, 0.06, 0.02, 0.00],
        [0.05, 0.05, 0.05, 0.08, 0.42, 0.33, 0.02, 0.00, 0.00],
        [0.15, 0.45, 0.15, 0.15, 0.02, 0.02, 0.06, 0.00, 0.00],
        [0.03, 0.25, 0.07, 0.10, 0.15, 0.00, 0.22, 0.15, 0.03],
    ]
)
MARRIED_SHARE = np.array([0.25, 0.97, 0.85, 0.40, 0.60])
# acquisition channels in schema.ACQUISITION_CHANNELS order
CHANNEL_PROBS = np.array(
    [
        [0.18, 0.32, 0.22, 0.08, 0.08, 0.04, 0.05, 0.03],
        [0.18, 0.15, 0.25, 0.07, 0.18, 0.03, 0.10, 0.04],
        [0.08, 0.05, 0.10, 0.20, 0.17, 0.15, 0.20, 0.05],
        [0.22, 0.28, 0.15, 0.08, 0.10, 0.02, 0.05, 0.10],
        [0.15, 0.35, 0.15, 0.03, 0.18, 0.02, 0.05, 0.07],
    ]
)
BUDGET_MEDIAN = np.array([200_000.0, 235_000.0, 390_000.0, 150_000.0, 105_000.0])
INCOME_BUDGET_FACTOR = np.array([0.75, 0.88, 1.0, 1.12, 1.3])
DIRECT_SHARE_BY_TIER = np.array([0.56, 0.43, 0.26, 0.13])

# model lines in schema.MODEL_LINES order: compact_sedan, family_suv_7seat, premium_sedan, city_mini
LINE_PRICE = np.array([175_000.0, 265_000.0, 380_000.0, 98_000.0])
LINE_PREFERENCE = np.array(
    [
        [0.55, 0.08, 0.22, 0.15],
        [0.15, 0.70, 0.08, 0.07],
        [0.10, 0.20, 0.68, 0.02],
        [0.42, 0.05, 0.05, 0.48],
        [0.22, 0.10, 0.02, 0.66],
    ]
)
LINE_FIT = np.array(
    [
        [1.0, 0.2, 0.8, 0.4],
        [0.4, 1.0, 0.4, 0.1],
        [0.3, 0.6, 1.0, 0.0],
        [0.8, 0.1, 0.3, 1.0],
        [0.6, 0.3, 0.0, 1.0],
    ]
)
FINANCING_PROBS = np.array(
    [
        [0.30, 0.60, 0.10],
        [0.35, 0.60, 0.05],
        [0.55, 0.25, 0.20],
        [0.25, 0.60, 0.15],
        [0.30, 0.68, 0.02],
    ]
)

# --- conversion ----------------------------------------------------------------------------
PERSONA_INTEREST = np.array([0.1, 0.2, 0.3, -0.1, -0.2])
CHANNEL_INTEREST = np.array([0.0, -0.25, 0.1, 0.2, 0.5, 0.3, 0.5, -0.1])
CHANNEL_PROPENSITY = np.array([0.0, -0.3, 0.0, 0.2, 0.2, 0.2, 0.4, -0.2])
PERSONA_TEST_DRIVE = np.array([0.3, 0.2, -0.1, 0.0, 0.0])
PERSONA_CONFIGURATOR = np.array([0.4, 0.1, 0.0, 0.0, -0.1])
JOURNEY_MEAN_DAYS = np.array([21.0, 28.0, 14.0, 18.0, 35.0])
DECISION_FAST_SHARE = np.array([0.52, 0.48, 0.58, 0.52, 0.40])
DECISION_FAST_DAYS = np.array([18.0, 24.0, 12.0, 18.0, 30.0])
DECISION_SLOW_DAYS = np.array([150.0, 180.0, 120.0, 150.0, 220.0])
PROPENSITY_INTERCEPT = -2.49
PROPENSITY_NOISE_SD = 0.35
PROPENSITY_TEST_DRIVE = 0.45
PROPENSITY_QUOTE = 0.6
TEST_DRIVE_INTERCEPT = 1.5
INTEREST_NOISE_SD = 0.7
MAX_CONFIGURATOR_SESSIONS = 6
MAX_STORE_VISITS = 4

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


@dataclass(frozen=True)
class Window:
    """Simulation window: every timestamp t satisfies ``start <= t <= end``."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        """Window length in whole days (the end is day ``days`` at midnight)."""
        return int((self.end - self.start) / pd.Timedelta(days=1))

    def epoch_days(self, n_days: int) -> np.ndarray:
        """Days since 1970-01-01 of the day indices ``0..n_days-1`` from the window start."""
        first = int((self.start - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
        return first + np.arange(n_days, dtype=np.int64)

    def winter_days(self, n_days: int) -> np.ndarray:
        """Boolean per day index from the window start: is that day in a winter month?"""
        return is_winter(self.epoch_days(n_days))


@dataclass
class Customers:
    """Attributes of every lead (one row per customer)."""

    persona: np.ndarray
    lead_day: np.ndarray
    age: np.ndarray
    female: np.ndarray
    city: np.ndarray
    tier: np.ndarray
    climate: np.ndarray
    income: np.ndarray
    occupation: np.ndarray
    married: np.ndarray
    children: np.ndarray
    cars: np.ndarray
    channel: np.ndarray
    budget: np.ndarray
    direct: np.ndarray


@dataclass
class Journeys:
    """Each lead's funnel, purchase propensity and, for buyers, order and delivery."""

    interest: np.ndarray
    response_hours: np.ndarray
    line: np.ndarray
    fit: np.ndarray
    budget_gap: np.ndarray
    cfg_times: np.ndarray
    cfg_minutes: np.ndarray
    visit_times: np.ndarray
    test_drive: np.ndarray
    test_drive_time: np.ndarray
    test_drive_minutes: np.ndarray
    quote: np.ndarray
    quote_time: np.ndarray
    quote_amount: np.ndarray
    journey_end: np.ndarray
    propensity: np.ndarray
    fast_share: np.ndarray
    fast_days: np.ndarray
    slow_days: np.ndarray
    buyer: np.ndarray
    order_time: np.ndarray
    price: np.ndarray
    financing: np.ndarray
    delivery_time: np.ndarray
    marketing_rate: np.ndarray


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


CITIES = {
    "tier1": [("Beijing", "cold"), ("Shanghai", "temperate"), ("Guangzhou", "hot"), ("Shenzhen", "hot")],
    "new_tier1": [
        ("Chengdu", "temperate"), ("Hangzhou", "temperate"), ("Chongqing", "hot"),
        ("Wuhan", "temperate"), ("Xi'an", "cold"), ("Suzhou", "temperate"), ("Tianjin", "cold"),
        ("Nanjing", "temperate"), ("Changsha", "hot"), ("Zhengzhou", "cold"),
        ("Dongguan", "hot"), ("Qingdao", "cold"), ("Shenyang", "cold"), ("Ningbo", "temperate"),
        ("Kunming", "temperate"),
    ],
    "tier2": [
        ("Harbin", "cold"), ("Changchun", "cold"), ("Dalian", "cold"), ("Jinan", "cold"),
        ("Shijiazhuang", "cold"), ("Taiyuan", "cold"), ("Urumqi", "cold"), ("Hohhot", "cold"),
        ("Lanzhou", "cold"), ("Xiamen", "hot"), ("Fuzhou", "hot"), ("Nanning", "hot"),
        ("Foshan", "hot"), ("Hefei", "temperate"), ("Nanchang", "temperate"),
        ("Guiyang", "temperate"), ("Wuxi", "temperate"),
    ],
    "tier3_plus": [
        ("Daqing", "cold"), ("Jilin", "cold"), ("Baoding", "cold"), ("Handan", "cold"),
        ("Luoyang", "cold"), ("Weifang", "cold"), ("Yantai", "cold"), ("Datong", "cold"),
        ("Baotou", "cold"), ("Zhuzhou", "hot"), ("Zhanjiang", "hot"), ("Liuzhou", "hot"),
        ("Guilin", "hot"), ("Ganzhou", "temperate"), ("Mianyang", "temperate"),
        ("Yichang", "temperate"), ("Shangrao", "temperate"), ("Zunyi", "temperate"),
        ("Qujing", "temperate"), ("Xiangyang", "temperate"),
    ],
}  # fmt: skip
CITY_NAMES = np.array([name for tier in schema.CITY_TIERS for name, _ in CITIES[tier]])
CITY_TIER = np.array([i for i, tier in enumerate(schema.CITY_TIERS) for _ in CITIES[tier]])
CITY_CLIMATE = np.array(
    [schema.CLIMATE_ZONES.index(zone) for tier in schema.CITY_TIERS for _, zone in CITIES[tier]]
)


def month_of(epoch_days: np.ndarray) -> np.ndarray:
    """Calendar month (1..12) of days counted since 1970-01-01."""
    days = np.asarray(epoch_days, dtype=np.int64).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype(np.int64) % 12 + 1


def is_winter(epoch_days: np.ndarray) -> np.ndarray:
    """Is each day (days since 1970-01-01) in a winter month?"""
    return np.isin(month_of(epoch_days), WINTER_MONTHS)


def churn_day_weights(epoch_days: np.ndarray, winter_factor: float | np.ndarray) -> np.ndarray:
    """Calendar part of the churn hazard: month seasonality times the winter factor."""
    season = CHURN_MONTH_FACTOR[month_of(epoch_days) - 1]
    return season * np.where(is_winter(epoch_days), winter_factor, 1.0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def choose_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    draws = rng.random(len(probs))[:, None]
    return np.minimum((draws > cum).sum(axis=1), probs.shape[1] - 1)


def decision_survival(
    days: np.ndarray, fast_share: np.ndarray, fast_days: np.ndarray, slow_days: np.ndarray
) -> np.ndarray:
    """P(decision delay > days) of the two-speed (mixture of exponentials) order delay."""
    days = np.maximum(days, 0.0)
    return fast_share * np.exp(-days / fast_days) + (1 - fast_share) * np.exp(-days / slow_days)


def draw_customers(rng: np.random.Generator, n: int, window: Window) -> Customers:
    """Draw every lead's persona, demographics, channel, budget and sales model."""
    persona = rng.choice(len(schema.PERSONAS), size=n, p=PERSONA_LEAD_SHARE).astype(np.int8)
    decline = np.log(1.0 / (1.0 - LEAD_INTAKE_DECLINE_PER_YEAR)) / DAYS_PER_YEAR
    lead_day = -np.log1p(-rng.random(n) * -np.expm1(-decline * window.days)) / decline
    age = np.clip(np.rint(rng.normal(AGE_MEAN[persona], AGE_SD[persona])), 20, 72).astype(np.int64)
    female = rng.random(n) < FEMALE_SHARE[persona]
    tier = choose_rows(rng, TIER_PROBS[persona])
    city = np.empty(n, dtype=np.int64)
    for t in range(len(schema.CITY_TIERS)):
        in_tier = np.flatnonzero(tier == t)
        options = np.flatnonzero(CITY_TIER == t)
        city[in_tier] = options[rng.integers(0, len(options), size=len(in_tier))]
    climate = CITY_CLIMATE[city]
    income = choose_rows(rng, INCOME_PROBS[persona])
    occupation = choose_rows(rng, OCCUPATION_PROBS[persona])
    occ = list(schema.OCCUPATIONS)
    occupation[(occupation == occ.index("retired")) & (age < 55)] = occ.index("freelancer")
    occupation[(occupation == occ.index("student")) & (age > 26)] = occ.index("office_worker")
    married_p = MARRIED_SHARE[persona] * np.where(age < 25, 0.3, 1.0)
    married = rng.random(n) < married_p
    children = np.where(
        persona == FAMILY,
        1 + rng.binomial(1, 0.5, n) + rng.binomial(1, 0.15, n),
        rng.binomial(2, np.where(persona == HNW, 0.55, 0.35)),
    )
    children = np.where(married | (persona == FAMILY), children, 0).astype(np.int64)
    married = married | (persona == FAMILY) & (rng.random(n) < 0.97)
    cars = np.select(
        [persona == FAMILY, persona == HNW, persona == YOUNG],
        [1 + rng.binomial(1, 0.4, n), 1 + rng.binomial(2, 0.5, n), rng.binomial(1, 0.3, n)],
        rng.binomial(1, 0.35, n),
    ).astype(np.int64)
    channel = choose_rows(rng, CHANNEL_PROBS[persona])
    budget = BUDGET_MEDIAN[persona] * INCOME_BUDGET_FACTOR[income] * np.exp(rng.normal(0, 0.18, n))
    budget = np.round(budget, -3)
    direct_p = np.clip(DIRECT_SHARE_BY_TIER[tier] + 0.1 * (persona == HNW), 0, 1)
    direct = rng.random(n) < direct_p
    return Customers(
        persona=persona,
        lead_day=lead_day,
        age=age,
        female=female,
        city=city,
        tier=tier,
        climate=climate,
        income=income,
        occupation=occupation,
        married=married,
        children=children,
        cars=cars,
        channel=channel,
        budget=budget,
        direct=direct,
    )


def _padded_times(
    rng: np.random.Generator, counts: np.ndarray, width: int, low: np.ndarray, span: np.ndarray
) -> np.ndarray:
    """``counts[i]`` sorted times in ``[low[i], low[i] + span[i]]`` per row, NaN-padded."""
    u = np.sort(rng.random((len(counts), width)), axis=1)
    times = low[:, None] + u * span[:, None]
    times[np.arange(width)[None, :] >= counts[:, None]] = np.nan
    return times


def draw_journeys(rng: np.random.Generator, cust: Customers, window: Window) -> Journeys:
    """Draw each lead's funnel, propensity, decision delay, order and delivery."""
    n = len(cust.persona)
    persona, channel = cust.persona, cust.channel
    walk_in = channel == schema.ACQUISITION_CHANNELS.index("store_walk_in")

    # Considered line: persona taste, pulled towards lines the budget can carry.
    price_gap_all = np.log(LINE_PRICE[None, :] / cust.budget[:, None])
    line_w = LINE_PREFERENCE[persona] * np.exp(-2.0 * np.abs(price_gap_all))
    line = choose_rows(rng, line_w)
    fit = LINE_FIT[persona, line]
    list_price = LINE_PRICE[line] * np.exp(rng.normal(0, 0.07, n))
    budget_gap = np.log(list_price / cust.budget)
    gap_pos = np.maximum(budget_gap, 0.0)

    interest = (
        PERSONA_INTEREST[persona]
        + CHANNEL_INTEREST[channel]
        + 0.8 * (fit - 0.6)
        - 0.8 * gap_pos
        + rng.normal(0, INTEREST_NOISE_SD, n)
    )
    response_hours = np.where(
        walk_in,
        np.exp(rng.normal(np.log(0.15), 0.5, n)),
        np.exp(rng.normal(np.where(cust.direct, np.log(1.5), np.log(9.0)), 0.9, n)),
    )
    response_hours = np.round(response_hours, 2)
    log_response = np.log(np.maximum(response_hours, 0.05) / 2.0)

    journey_span = rng.gamma(2.0, JOURNEY_MEAN_DAYS[persona] / 2.0) * np.where(walk_in, 0.7, 1.0)
    lead = cust.lead_day

    n_cfg = np.minimum(
        rng.poisson(np.exp(-0.1 + 0.5 * interest + PERSONA_CONFIGURATOR[persona])),
        MAX_CONFIGURATOR_SESSIONS,
    )
    cfg_u = rng.beta(1.0, 2.0, (n, MAX_CONFIGURATOR_SESSIONS))
    cfg_times = np.sort(lead[:, None] + cfg_u * journey_span[:, None], axis=1)
    cfg_times[np.arange(MAX_CONFIGURATOR_SESSIONS)[None, :] >= n_cfg[:, None]] = np.nan
    cfg_minutes = np.exp(
        rng.normal(np.log(7.0) + 0.25 * interest[:, None], 0.55, (n, MAX_CONFIGURATOR_SESSIONS))
    )
    cfg_minutes = np.where(np.isnan(cfg_times), np.nan, np.round(cfg_minutes, 1))

    visit_p = sigmoid(0.9 + 1.1 * interest - 0.35 * log_response + 0.2 * cust.direct)
    visitor = walk_in | (rng.random(n) < visit_p)
    n_visits = np.where(
        visitor, np.minimum(1 + rng.poisson(np.exp(-0.6 + 0.3 * interest)), MAX_STORE_VISITS), 0
    )
    first_visit = np.where(
        walk_in,
        lead,
        lead
        + np.minimum(response_hours / 24.0 + rng.uniform(0, 0.3, n) * journey_span, journey_span),
    )
    rest_span = np.maximum(lead + journey_span - first_visit, 0.05)
    visit_times = _padded_times(
        rng, np.maximum(n_visits - 1, 0), MAX_STORE_VISITS - 1, first_visit, rest_span
    )
    visit_times = np.column_stack([np.where(visitor, first_visit, np.nan), visit_times])
    last_visit = np.nanmax(np.where(np.isnan(visit_times), -np.inf, visit_times), axis=1)

    td_p = sigmoid(TEST_DRIVE_INTERCEPT + 0.9 * interest + PERSONA_TEST_DRIVE[persona])
    test_drive = visitor & (rng.random(n) < td_p)
    td_visit = np.minimum(
        (rng.random(n) * np.maximum(n_visits, 1)).astype(np.int64), MAX_STORE_VISITS - 1
    )
    td_base = visit_times[np.arange(n), td_visit]
    test_drive_time = np.where(test_drive, td_base + rng.uniform(15, 45, n) / 1440.0, np.nan)
    test_drive_minutes = np.where(test_drive, np.round(rng.uniform(15, 50, n), 0), np.nan)

    quote_p = sigmoid(-0.5 + 0.8 * interest + 0.9 * test_drive)
    quote = visitor & (rng.random(n) < quote_p)
    quote_time = np.where(quote, last_visit + rng.uniform(50, 100, n) / 1440.0, np.nan)
    quote_amount = np.where(quote, np.round(list_price * (1 - rng.uniform(0, 0.05, n)), -2), np.nan)

    journey_end = np.fmax.reduce(
        [lead, np.nanmax(np.where(np.isnan(cfg_times), -np.inf, cfg_times), axis=1), last_visit,
         np.nan_to_num(test_drive_time, nan=-np.inf), np.nan_to_num(quote_time, nan=-np.inf)]
    )  # fmt: skip

    cfg_total = np.nansum(cfg_minutes, axis=1)
    logit = (
        PROPENSITY_INTERCEPT
        + PROPENSITY_TEST_DRIVE * test_drive
        + 0.25 * np.minimum(np.maximum(n_visits - 1, 0), 2)
        + 0.30 * np.log1p(cfg_total / 15.0)
        + PROPENSITY_QUOTE * quote
        - 0.30 * log_response
        + 0.55 * cust.direct
        + CHANNEL_PROPENSITY[channel]
        + 1.0 * (fit - 0.6)
        - 1.2 * gap_pos
        + rng.normal(0, PROPENSITY_NOISE_SD, n)
    )
    propensity = sigmoid(logit)
    buyer = rng.random(n) < propensity

    fast_share = DECISION_FAST_SHARE[persona]
    fast_days = DECISION_FAST_DAYS[persona]
    slow_days = DECISION_SLOW_DAYS[persona]
    fast = rng.random(n) < fast_share
    delay = rng.exponential(np.where(fast, fast_days, slow_days))
    order_time = np.where(buyer & (journey_end + delay < window.days), journey_end + delay, np.nan)
    has_order = ~np.isnan(order_time)
    price = np.where(
        has_order,
        np.round(np.where(quote, quote_amount, list_price) * (1 - rng.uniform(0, 0.02, n)), -2),
        np.nan,
    )
    financing = choose_rows(rng, FINANCING_PROBS[persona])
    lag = np.clip(np.exp(rng.normal(np.log(18.0), 0.45, n)), 3, 90)
    delivery_time = np.where(has_order & (order_time + lag < window.days), order_time + lag, np.nan)
    marketing_rate = np.exp(-0.15 + 0.45 * interest)
    return Journeys(
        interest=interest,
        response_hours=response_hours,
        line=line,
        fit=fit,
        budget_gap=budget_gap,
        cfg_times=cfg_times,
        cfg_minutes=cfg_minutes,
        visit_times=visit_times,
        test_drive=test_drive,
        test_drive_time=test_drive_time,
        test_drive_minutes=test_drive_minutes,
        quote=quote,
        quote_time=quote_time,
        quote_amount=quote_amount,
        journey_end=journey_end,
        propensity=propensity,
        fast_share=fast_share,
        fast_days=fast_days,
        slow_days=slow_days,
        buyer=buyer,
        order_time=order_time,
        price=price,
        financing=financing,
        delivery_time=delivery_time,
        marketing_rate=marketing_rate,
    )


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
    rng: np.random.Generator, cust: Customers, jour: Journeys, window: Window
) -> Owners:
    """Draw owners' event-stream rates, satisfaction, churn hazard and churn day."""
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
    weight_cum = {
        f: np.concatenate([[0.0], np.cumsum(churn_day_weights(calendar, f))])
        for f in (1.0, WINTER_HAZARD_FACTOR)
    }
    daily = hazard / DAYS_PER_YEAR
    first = np.floor(jour.delivery_time[rows]).astype(np.int64) + 1
    year_end = first - 1 + 365
    threshold = rng.exponential(1.0, m)

    def cum_hazard(last: np.ndarray) -> np.ndarray:
        out = np.empty(m)
        for f, cum in weight_cum.items():
            sel = winter_factor == f
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
