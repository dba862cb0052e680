"""Synthetic marketing channels: weekly spend, the journeys it causes, and the truth.

Paid channels (search, short video, vertical media, events, partners) get a weekly budget with
seasonality, promotion bursts and flighting (weeks off). Spend works through adstock
(geometric carry-over, ``ADSTOCK``) and saturation (a Hill curve of the adstocked spend,
half-saturated at ``HALF_SATURATION`` times the reference plan's mean) into a channel's *reach*
in a week. Reach brings new prospects (leads) and touches prospects already in a journey;
organic channels (private domain, store walk-in, referral) bring and touch prospects at
spend-free rates.

A prospect of persona ``p`` arrives in a week through one channel, stays in the journey for
``L`` weeks (about the 45-day online decision cycle) and orders at its end with probability
``1 - (1 - b) * prod_touches (1 - q[p, channel])`` (a noisy-OR: each touch has its own chance
to tip the decision), where ``b`` is the prospect's baseline intent. Store walk-ins happen in
the last week and mostly for prospects with a high intent (selection: a walk-in is as much a
sign of a coming order as a cause of it, the trap of last-touch reports).

Because touches are Poisson and ``E[(1 - q) ** n] = exp(-mu * q)``, the expected orders of any
spend plan are computed exactly (``ChannelWorld.expected_orders``) rather than simulated:
truth (each channel's incremental orders, removal of the channel; response curves; the true
lift of a reallocation) is noise-free. Spend is scaled so that the cost per acquired customer
(paid spend over orders) is ``COST_PER_CUSTOMER`` CNY (3,872, see ../shared/SEED_FACTS.md).

May import numpy, pandas and the foundation (``features.schema``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features import schema

CHANNELS_GENERATOR_VERSION = "1.0.0"
PAID_CHANNELS = ("search", "short_video", "vertical_media", "event", "partner")
ORGANIC_CHANNELS = ("private_domain", "store_walk_in", "referral")
ALL_CHANNELS = PAID_CHANNELS + ORGANIC_CHANNELS
START = pd.Timestamp("2024-01-01")  # a Monday: weeks start on Mondays
COST_PER_CUSTOMER = 3_872.0  # CNY of paid spend per order
ORDER_VALUE = 25_300.0  # CNY of brand margin per order (11% of a ~230k car)
BUDGET_SHARE = np.array([0.30, 0.28, 0.20, 0.10, 0.12])  # of the paid budget
ADSTOCK = np.array([0.15, 0.45, 0.55, 0.30, 0.65])  # weekly carry-over of the spend effect
HALF_SATURATION = np.array([0.7, 1.4, 1.0, 1.3, 2.2])  # x the channel's mean weekly spend
HILL_SHAPE = 1.2
# Reach -> new prospects per week (x PROSPECTS_PER_WEEK) and touches per active prospect-week.
ARRIVALS_PAID = np.array([0.55, 0.60, 0.35, 0.30, 0.20])
ARRIVALS_ORGANIC = np.array([0.25, 0.25, 0.15])  # private domain, store walk-in, referral
TOUCHES_PAID = np.array([0.45, 0.70, 0.45, 0.15, 0.20])
TOUCHES_PRIVATE_DOMAIN = 0.30
TOUCHES_REFERRAL = 0.04
# Per-touch chance to tip the decision, by channel; persona factors below.
LIFT = np.array([0.038, 0.030, 0.047, 0.085, 0.024, 0.030, 0.034, 0.100])
PERSONA_LIFT = np.array([
    # search short vertical event partner private store referral
    [0.9, 1.6, 0.8, 0.9, 0.8, 1.2, 0.8, 1.0],  # young tech enthusiast
    [1.0, 0.8, 1.3, 1.0, 1.0, 1.0, 1.2, 1.2],  # family practical
    [0.8, 0.7, 1.2, 1.7, 0.9, 1.3, 1.3, 1.3],  # high net worth
    [1.2, 1.1, 0.9, 0.7, 1.1, 0.9, 0.9, 0.9],  # urban commuter
    [1.3, 0.9, 1.0, 0.6, 1.5, 0.8, 0.9, 1.0],  # value seeker
])  # fmt: skip
PERSONA_MIX = np.array([
    # young family hnw commuter value: persona shares of the prospects a channel brings
    [0.20, 0.25, 0.10, 0.25, 0.20],  # search
    [0.40, 0.15, 0.08, 0.22, 0.15],  # short video
    [0.15, 0.35, 0.15, 0.20, 0.15],  # vertical media
    [0.15, 0.25, 0.35, 0.15, 0.10],  # event
    [0.15, 0.20, 0.10, 0.20, 0.35],  # partner
    [0.25, 0.20, 0.20, 0.20, 0.15],  # private domain
    [0.15, 0.30, 0.20, 0.20, 0.15],  # store walk-in
    [0.20, 0.25, 0.25, 0.15, 0.15],  # referral
])  # fmt: skip
BASE_INTENT = -4.0  # logit of the baseline order chance at average intent
INTENT_SD = 0.9
STORE_VISIT = (-1.2, 1.6)  # logit of a last-week walk-in: intercept, slope on intent
JOURNEY_WEEKS = np.array([0.10, 0.14, 0.16, 0.16, 0.13, 0.10, 0.08, 0.06, 0.04, 0.03])
PROMOTION_WEEKS = (5, 6, 23, 24, 44, 45)
BURN_IN_WEEKS = 12  # spend before the outcome window: journeys and carry-over already running  # spring festival, 618, double 11 (week of year)
_QUAD_U, _QUAD_W = np.polynomial.hermite_e.hermegauss(16)
_QUAD_W = _QUAD_W / _QUAD_W.sum()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def plan_shape(n_weeks: int, seed: int) -> np.ndarray:
    """Weekly spend (relative units) per paid channel: season, promotions and flighting."""
    rng = np.random.default_rng((seed, 71))
    week = np.arange(n_weeks)
    season = 1.0 + 0.25 * np.sin(2 * np.pi * (week - 8) / 52)
    promo = np.isin(week % 52, PROMOTION_WEEKS)
    shape = np.outer(season, BUDGET_SHARE) * rng.lognormal(0.0, 0.25, (n_weeks, len(PAID_CHANNELS)))
    shape[promo] *= np.array([1.3, 1.8, 1.4, 2.5, 1.2])
    on = np.ones_like(shape, dtype=bool)
    for c, share_off in ((2, 0.25), (3, 0.45), (4, 0.30)):  # vertical media, events, partners
        block = rng.integers(2, 6)
        starts = rng.random(n_weeks // block + 1) < share_off
        on[:, c] = ~np.repeat(starts, block)[:n_weeks]
    on[promo, 3] = True  # events run in every promotion
    return np.where(on, shape, 0.0)


def adstock(spend: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Geometric carry-over per column, normalised so steady spend maps to itself."""
    out = np.zeros_like(spend, dtype=float)
    carry = np.zeros(spend.shape[1])
    for w in range(spend.shape[0]):
        carry = spend[w] + decay * carry
        out[w] = carry
    return out * (1 - decay)


def hill(x: np.ndarray, half: np.ndarray, shape: float = HILL_SHAPE) -> np.ndarray:
    """Saturation: 0 at no spend, 0.5 at ``half``, towards 1."""
    xs = np.maximum(x, 0.0) ** shape
    return xs / (xs + half**shape)


@dataclass
class ChannelWorld:
    """The planted world: reference plan, prospects per week and the response parameters."""

    n_weeks: int  # all weeks of the plan, burn-in included
    burn_in: int
    prospects_per_week: float
    plan: np.ndarray  # CNY per week (rows) and paid channel (columns)
    reference_mean: np.ndarray  # mean weekly spend per paid channel of the reference plan
    season: np.ndarray = field(repr=False)

    def reach(self, plan: np.ndarray) -> np.ndarray:
        """Reach (0-1) per week and paid channel of a plan."""
        relative = plan / self.reference_mean
        return hill(adstock(relative, ADSTOCK), HALF_SATURATION)

    def arrivals(self, plan: np.ndarray, removed: str | None = None) -> np.ndarray:
        """Expected new prospects per week and arrival channel (``ALL_CHANNELS``)."""
        reach = self.reach(plan)
        paid = reach * ARRIVALS_PAID
        organic = np.outer(self.season, ARRIVALS_ORGANIC)
        out = np.column_stack([paid, organic]) * self.prospects_per_week
        if removed is not None:
            out[:, ALL_CHANNELS.index(removed)] = 0.0
        return out

    def _exposure(self, plan: np.ndarray, removed: str | None) -> np.ndarray:
        """Sum over a journey's weeks of the touch-lift exponent: (persona, start week, L)."""
        reach = self.reach(plan)
        if removed in PAID_CHANNELS:
            reach[:, PAID_CHANNELS.index(removed)] = 0.0
        n_l = len(JOURNEY_WEEKS)
        cum = np.vstack([np.zeros(len(PAID_CHANNELS)), np.cumsum(reach, axis=0)])
        cum = np.vstack([cum, np.repeat(cum[-1:], n_l, axis=0)])
        starts = np.arange(self.n_weeks)
        lengths = np.arange(1, n_l + 1)
        window = cum[starts[:, None] + lengths[None, :]] - cum[starts[:, None]]  # (w, L, paid)
        q = LIFT[None, :] * PERSONA_LIFT  # (p, channel)
        paid = np.einsum("wld,pd->pwl", window, q[:, :5] * TOUCHES_PAID)
        pd_rate = 0.0 if removed == "private_domain" else TOUCHES_PRIVATE_DOMAIN
        ref_rate = 0.0 if removed == "referral" else TOUCHES_REFERRAL
        organic = (q[:, 5] * pd_rate + q[:, 7] * ref_rate)[:, None, None] * lengths[None, None, :]
        return paid + organic

    def expected_orders(self, plan: np.ndarray | None = None, removed: str | None = None,
                        by: str = "week") -> np.ndarray:  # fmt: skip
        """Expected orders of a plan (the reference plan by default), ``removed`` channel off.

        ``by="week"``: per conversion week of the outcome window (after the burn-in);
        ``"persona"``: per persona; ``"total"``: a scalar.
        """
        plan = self.plan if plan is None else plan
        if removed in PAID_CHANNELS:
            plan = plan.copy()
            plan[:, PAID_CHANNELS.index(removed)] = 0.0
        arrivals = self.arrivals(plan, removed)  # (w, c)
        exposure = self._exposure(plan, removed)  # (p, w, L)
        q = LIFT[None, :] * PERSONA_LIFT  # (p, c)
        base = _sigmoid(BASE_INTENT + INTENT_SD * _QUAD_U)  # (u,)
        store = _sigmoid(STORE_VISIT[0] + STORE_VISIT[1] * _QUAD_U)
        store_q = 0.0 if removed == "store_walk_in" else q[:, 6]
        # No-order chance = (1 - b)(1 - s q_store) x (1 - q_arrival) x exp(-exposure); intent
        # enters only the first factor, so its expectation over intent is taken alone.
        stay_pu = (1 - base)[None, :] * (1 - store[None, :] * np.asarray(store_q).reshape(-1, 1))
        no_order = np.einsum("pu,u->p", stay_pu, _QUAD_W)
        p_order = (
            1
            - no_order[:, None, None, None]
            * (1 - q)[:, :, None, None]
            * np.exp(-exposure)[:, None, :, :]
        )  # (p, c, w, L)
        weight = PERSONA_MIX.T[:, :, None] * arrivals.T[None, :, :]  # (p, c, w)
        expected = weight[..., None] * p_order * JOURNEY_WEEKS[None, None, None, :]
        end = np.arange(self.n_weeks)[:, None] + np.arange(len(JOURNEY_WEEKS))[None, :]
        inside = (end >= self.burn_in) & (end < self.n_weeks)
        if by == "persona":
            return (expected * inside).sum(axis=(1, 2, 3))
        per_week = np.zeros(self.n_weeks)
        np.add.at(per_week, end[inside], expected.sum(axis=(0, 1))[inside])
        per_week = per_week[self.burn_in :]
        return per_week.sum() if by == "total" else per_week

    def incremental_orders(self, plan: np.ndarray | None = None) -> pd.DataFrame:
        """Each channel's incremental orders per week: orders lost when it is removed."""
        full = self.expected_orders(plan)
        rows = {c: full - self.expected_orders(plan, removed=c) for c in ALL_CHANNELS}
        return pd.DataFrame(rows, index=pd.RangeIndex(self.burn_in, self.n_weeks, name="week"))

    def scaled_plan(self, factors: dict[str, float] | np.ndarray) -> np.ndarray:
        """The reference plan with each paid channel's weekly spend times its factor."""
        f = np.array([factors[c] for c in PAID_CHANNELS]) if isinstance(factors, dict) else factors
        return self.plan * np.asarray(f, dtype=float)[None, :]


def make_world(n_customers: int, n_weeks: int, seed: int) -> ChannelWorld:
    """The world of ``n_weeks`` outcome weeks (after a burn-in) and about ``n_customers``
    prospects arriving over them."""
    total = n_weeks + BURN_IN_WEEKS
    shape = plan_shape(total, seed)
    week = np.arange(total)
    season = 1.0 + 0.15 * np.sin(2 * np.pi * (week - 10) / 52)
    probe = ChannelWorld(total, BURN_IN_WEEKS, 1.0, shape, shape.mean(axis=0), season)
    per_week = n_customers / probe.arrivals(shape)[BURN_IN_WEEKS:].sum()
    world = ChannelWorld(total, BURN_IN_WEEKS, per_week, shape, shape.mean(axis=0), season)
    scale = COST_PER_CUSTOMER * world.expected_orders(by="total") / shape[BURN_IN_WEEKS:].sum()
    world.plan = shape * scale
    world.reference_mean = world.plan.mean(axis=0)
    return world


@dataclass
class ChannelData:
    """What the generator writes: spend, weekly outcomes, touches and outcomes; and truth."""

    spend: pd.DataFrame  # week (date), channel, spend; from the burn-in on
    weekly: pd.DataFrame  # week, leads, orders
    touches: pd.DataFrame  # customer_id, ts, channel
    outcomes: pd.DataFrame  # customer_id, converted, conversion_ts, persona
    truth: pd.DataFrame  # channel: incremental orders, share, spend, roi (evaluation only)
    truth_weekly: pd.DataFrame  # week x channel incremental orders (evaluation only)
    world: ChannelWorld


def _draw_prospects(world: ChannelWorld, rng: np.random.Generator) -> pd.DataFrame:
    arrivals = world.arrivals(world.plan)
    counts = rng.poisson(arrivals)
    week, chan = np.nonzero(counts)
    reps = counts[week, chan]
    week, chan = np.repeat(week, reps), np.repeat(chan, reps)
    n = len(week)
    cum = PERSONA_MIX[chan].cumsum(axis=1)
    persona = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, len(schema.PERSONAS) - 1)
    length = rng.choice(np.arange(1, len(JOURNEY_WEEKS) + 1), size=n, p=JOURNEY_WEEKS)
    return pd.DataFrame({"week": week, "channel": chan, "persona": persona, "weeks": length,
                         "intent": rng.normal(0.0, 1.0, n)})  # fmt: skip


def simulate_channels(n_customers: int = 20_000, seed: int = 0, n_weeks: int = 104) -> ChannelData:
    """Spend, journeys and outcomes over ``n_weeks`` outcome weeks (about ``n_customers``
    prospects arriving in them).

    Spend starts ``BURN_IN_WEEKS`` earlier (carry-over and journeys are running when the
    window opens). Journeys are those that end inside the window; those still open at its
    end are left out (as a CRM export of closed journeys would), here and in the truth.
    """
    world = make_world(n_customers, n_weeks, seed)
    total_weeks = world.n_weeks
    rng = np.random.default_rng((seed, 72))
    pros = _draw_prospects(world, rng)
    end_week = pros["week"] + pros["weeks"] - 1
    pros = pros[(end_week >= world.burn_in) & (end_week < total_weeks)].reset_index(drop=True)
    n = len(pros)
    ids = np.array([f"J{seed:02d}{i:07d}" for i in range(n)])
    reach = world.reach(world.plan)
    q = (LIFT[None, :] * PERSONA_LIFT)[pros["persona"].to_numpy()]  # (n, c)
    rows, chans, days = [np.arange(n)], [pros["channel"].to_numpy()], [rng.random(n) * 6.5]
    starts = pros["week"].to_numpy() * 7.0
    days[0] = starts + days[0]
    weeks_in = pros["weeks"].to_numpy()
    touch_counts = np.zeros((n, len(ALL_CHANNELS)))
    touch_counts[np.arange(n), chans[0]] += 1  # the arrival touch
    for k in range(len(JOURNEY_WEEKS)):
        active = np.flatnonzero(weeks_in > k)
        w = pros["week"].to_numpy()[active] + k
        rates = np.column_stack([
            reach[w] * TOUCHES_PAID,
            np.full(len(active), TOUCHES_PRIVATE_DOMAIN),
            np.zeros(len(active)),
            np.full(len(active), TOUCHES_REFERRAL),
        ])  # fmt: skip
        counts = rng.poisson(rates)
        r, c = np.nonzero(counts)
        rep = counts[r, c]
        r, c = np.repeat(r, rep), np.repeat(c, rep)
        rows.append(active[r])
        chans.append(c)
        days.append(w[r] * 7.0 + rng.random(len(r)) * 6.5)
        np.add.at(touch_counts, (active[r], c), 1)
    intent = pros["intent"].to_numpy()
    walk_in = rng.random(n) < _sigmoid(STORE_VISIT[0] + STORE_VISIT[1] * intent)
    last_week = pros["week"].to_numpy() + weeks_in - 1
    store = ALL_CHANNELS.index("store_walk_in")
    rows.append(np.flatnonzero(walk_in))
    chans.append(np.full(walk_in.sum(), store))
    days.append(last_week[walk_in] * 7.0 + 3.0 + rng.random(walk_in.sum()) * 3.5)
    touch_counts[walk_in, store] += 1
    base = _sigmoid(BASE_INTENT + INTENT_SD * intent)
    p_order = 1 - (1 - base) * np.prod((1 - q) ** touch_counts, axis=1)
    converted = rng.random(n) < p_order
    conv_day = last_week * 7.0 + 6.5 + rng.random(n) * 0.45

    row = np.concatenate(rows)
    day = np.concatenate(days)
    touches = pd.DataFrame({
        schema.ID_COL: ids[row],
        schema.TIME_COL: (START + pd.to_timedelta(day, unit="D")).round("s"),
        schema.CHANNEL_COL: np.array(ALL_CHANNELS)[np.concatenate(chans)],
    }).sort_values([schema.ID_COL, schema.TIME_COL], kind="stable", ignore_index=True)  # fmt: skip
    conversion_ts = pd.Series(START + pd.to_timedelta(conv_day, unit="D")).dt.round("s")
    outcomes = pd.DataFrame({
        schema.ID_COL: ids,
        "converted": converted.astype(int),
        "conversion_ts": conversion_ts.where(converted),
        "persona": np.array(schema.PERSONAS)[pros["persona"].to_numpy()],
    })  # fmt: skip
    all_weeks = START + pd.to_timedelta(7 * np.arange(total_weeks), unit="D")
    week_start = all_weeks[world.burn_in :]
    spend = pd.DataFrame({
        "week": np.repeat(all_weeks, len(PAID_CHANNELS)),
        schema.CHANNEL_COL: np.tile(PAID_CHANNELS, total_weeks),
        "spend": world.plan.round(2).ravel(),
    })  # fmt: skip
    orders = np.bincount(last_week[converted], minlength=total_weeks)[world.burn_in :]
    leads = np.bincount(pros["week"].to_numpy(), minlength=total_weeks)[world.burn_in :]
    weekly = pd.DataFrame({"week": week_start, "leads": leads, "orders": orders})
    truth_weekly = world.incremental_orders()
    truth_weekly.index = pd.Index(week_start, name="week")
    totals = truth_weekly.sum()
    paid_spend = pd.Series(world.plan[world.burn_in :].sum(axis=0), index=list(PAID_CHANNELS))
    truth = pd.DataFrame({
        "incremental_orders": totals,
        "share": totals / totals.sum(),
        "spend": paid_spend.reindex(list(ALL_CHANNELS)).fillna(0.0),
    })  # fmt: skip
    truth["roi"] = (truth["incremental_orders"] * ORDER_VALUE / truth["spend"]).where(
        truth["spend"] > 0
    )
    truth.index.name = schema.CHANNEL_COL
    return ChannelData(spend, weekly, touches, outcomes, truth, truth_weekly, world)
