"""How the synthetic leads' purchase journeys unfold: funnel, propensity, order and delivery.

A lead's latent interest (persona, channel, persona-model fit, budget gap and noise) drives
the funnel it goes through (configurator sessions, store visits, test drive, quote). Its
purchase propensity then depends on that observable funnel, the sales team's response time,
the sales model (direct store or dealer), the acquisition channel, budget versus price,
persona-model fit and a small idiosyncratic term. A buyer orders after the journey ends,
following a two-speed decision delay (fast deciders and slow ones, ``decision_survival``).

May import numpy, the foundation modules and the ``features.data`` world modules
(``synth_world``, ``synth_people``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features import schema
from features.data.synth_people import Customers
from features.data.synth_tables import persona_table
from features.data.synth_world import Window, choose_rows, sigmoid

# model lines in schema.MODEL_LINES order: compact_sedan, family_suv_7seat, premium_sedan, city_mini
LINE_PRICE = np.array([175_000.0, 265_000.0, 380_000.0, 98_000.0])
LINE_PREFERENCE = persona_table("model_line_preference")
LINE_FIT = persona_table("model_line_fit")
FINANCING_PROBS = persona_table("financing")

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


def decision_survival(
    days: np.ndarray, fast_share: np.ndarray, fast_days: np.ndarray, slow_days: np.ndarray
) -> np.ndarray:
    """P(decision delay > days) of the two-speed (mixture of exponentials) order delay."""
    days = np.maximum(days, 0.0)
    return fast_share * np.exp(-days / fast_days) + (1 - fast_share) * np.exp(-days / slow_days)


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
