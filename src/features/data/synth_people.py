"""Who the synthetic leads are: persona, demographics, city, channel, budget and sales model.

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

Lead intake declines slowly over the window (a fixed budget buys fewer leads as acquisition
costs rise).

May import numpy, the foundation modules and ``features.data.synth_world``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features import schema
from features.data.synth_tables import persona_table
from features.data.synth_world import DAYS_PER_YEAR, FAMILY, HNW, YOUNG, Window, choose_rows

# A fixed marketing budget buys fewer leads every year (acquisition cost +20-40% a year).
LEAD_INTAKE_DECLINE_PER_YEAR = 0.2

# --- persona-level parameters (rows follow schema.PERSONAS) -------------------------------
PERSONA_LEAD_SHARE = np.array([0.26, 0.245, 0.115, 0.20, 0.18])
AGE_MEAN = np.array([29.0, 40.0, 44.0, 34.0, 41.0])
AGE_SD = np.array([4.0, 5.0, 7.0, 5.0, 10.0])
FEMALE_SHARE = np.array([0.28, 0.42, 0.30, 0.50, 0.36])
# city tiers: tier1, new_tier1, tier2, tier3_plus
TIER_PROBS = persona_table("city_tier")
# income bands: low .. high
INCOME_PROBS = persona_table("income_band")
# occupations in schema.OCCUPATIONS order
OCCUPATION_PROBS = persona_table("occupation")
MARRIED_SHARE = np.array([0.25, 0.97, 0.85, 0.40, 0.60])
# acquisition channels in schema.ACQUISITION_CHANNELS order
CHANNEL_PROBS = persona_table("acquisition_channel")
BUDGET_MEDIAN = np.array([200_000.0, 235_000.0, 390_000.0, 150_000.0, 105_000.0])
INCOME_BUDGET_FACTOR = np.array([0.75, 0.88, 1.0, 1.12, 1.3])
DIRECT_SHARE_BY_TIER = np.array([0.56, 0.43, 0.26, 0.13])


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
