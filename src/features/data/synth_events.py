"""Event streams of the synthetic world: each lead's journey events and each owner's usage.

Event values: ``content_view`` seconds viewed; ``configurator_session`` minutes;
``store_visit`` the sales team's response time in hours (lead creation to first follow-up) on a
lead's first visit, null on later visits; ``test_drive`` minutes driven; ``quote`` the quoted
price and ``order`` the price (CNY); ``charging_session`` kWh; ``driver_assist_use`` km driven
with assistance; ``service_visit`` wait days; ``nps_response`` the score 0-10; null otherwise.
Channels: marketing touches carry their touchpoint channel (search, short_video, ...), app and
community use ``app``, showroom events ``store``, service visits and complaints
``service_center``, charging sessions ``home``/``public``/``fast``.

Events are numpy arrays (customer row, time in float days since the window start, type and
channel codes into ``schema.EVENT_TYPES`` / ``schema.EVENT_CHANNELS``, value);
``features.data.synth`` writes them to ``events.parquet``.

May import numpy, the foundation modules and the ``features.data`` world modules.
"""

from __future__ import annotations

import numpy as np

from features import schema
from features.data.synth_funnel import Journeys
from features.data.synth_owners import (
    NPS_CENTER,
    OWNER_STREAMS,
    S_ASSIST,
    S_CONTENT,
    S_FAST,
    S_HOME,
    S_NPS,
    S_PUBLIC,
    S_SERVICE,
    Owners,
)
from features.data.synth_people import CHANNEL_PROBS, Customers
from features.data.synth_world import DAYS_PER_YEAR, YOUNG, Window, choose_rows

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
_OWNER_TYPE = np.array([_TYPE[t] for t, _ in OWNER_STREAMS])
_OWNER_CHANNEL = np.array([_CHANNEL[c] for _, c in OWNER_STREAMS])

MARKETING_DECAY_DAYS = 25.0
MARKETING_FLOOR_PER_DAY = 0.012
PRE_DELIVERY_APP_PER_DAY = 0.12


class EventParts:
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
        """Add events; scalar types, channels broadcast, no values means null values."""
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
        """All events added so far as five arrays, in the order they were added."""
        if not self.parts:
            empty = np.empty(0)
            return (empty.astype(np.int64), empty, empty.astype(np.int16),
                    empty.astype(np.int16), empty)  # fmt: skip
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(5))


def _matrix_events(
    parts: EventParts,
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
    cust: Customers,
    jour: Journeys,
    window: Window,
    parts: EventParts,
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
        np.where(persona == YOUNG, 0.15, 0.05),
    )
    draw = rng.random(len(idx))
    is_app = draw < app_share[idx]
    is_click = ~is_app & (draw < app_share[idx] + 0.25 * (1 - app_share[idx]))
    types = np.where(is_app, _TYPE["app_login"], np.where(is_click, _TYPE["ad_click"],
                                                           _TYPE["content_view"]))  # fmt: skip
    online_prefs = CHANNEL_PROBS[:, _ONLINE_CHANNELS][persona[idx]]
    other_channel = _ONLINE_CHANNELS[choose_rows(rng, online_prefs)]
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
    jour: Journeys,
    owners: Owners,
    window: Window,
    winter_of_day: np.ndarray,
    parts: EventParts,
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
    base_total = base.sum(axis=1) / DAYS_PER_YEAR
    winter_total = winter.sum(axis=1) / DAYS_PER_YEAR
    peak = np.maximum(base_total, winter_total)
    i, t = _uniform_events(rng, peak, start, stop)
    in_winter = winter_of_day[np.floor(t).astype(np.int64)]
    rate_now = np.where(in_winter, winter_total[i], base_total[i])
    keep = rng.random(len(i)) * peak[i] < rate_now
    i, t, in_winter = i[keep], t[keep], in_winter[keep]
    stream = choose_rows(rng, np.where(in_winter[:, None], winter[i], base[i]))

    values = np.full(len(i), np.nan)
    draws = {
        S_HOME: lambda k: np.round(rng.uniform(8, 45, k), 1),
        S_PUBLIC: lambda k: np.round(rng.uniform(15, 55, k), 1),
        S_FAST: lambda k: np.round(rng.uniform(20, 65, k), 1),
        S_ASSIST: lambda k: np.round(np.exp(rng.normal(np.log(25.0), 0.6, k)), 1),
        S_CONTENT: lambda k: np.round(np.exp(rng.normal(np.log(40.0), 0.7, k))),
    }
    for s, draw in draws.items():
        sel = stream == s
        values[sel] = draw(int(sel.sum()))
    sel = stream == S_SERVICE
    mean_wait = owners.wait_mean[owner_idx][i[sel]]
    values[sel] = np.round(rng.gamma(2.5, mean_wait / 2.5), 1)
    sel = stream == S_NPS
    sat = owners.satisfaction[owner_idx][i[sel]]
    shocked = owners.range_shock[owner_idx][i[sel]] & in_winter[sel]
    score = NPS_CENTER + 1.4 * sat + rng.normal(0, 1.2, int(sel.sum())) - 2.0 * shocked
    values[sel] = np.clip(np.rint(score), 0, 10)
    parts.add(rows[i], t, _OWNER_TYPE[stream], _OWNER_CHANNEL[stream], values)


def simulate_events(
    rng: np.random.Generator,
    rows: np.ndarray,
    cust: Customers,
    jour: Journeys,
    owners: Owners,
    owner_pos: np.ndarray,
    window: Window,
    winter_of_day: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """All events of the customers ``rows`` (one chunk), unsorted.

    Args:
        rng: the chunk's generator; lead events are drawn first, then owner events.
        rows: customer rows of the chunk.
        cust: the customers.
        jour: their journeys.
        owners: the owners' latent state.
        owner_pos: position of each customer row in ``owners.rows`` (-1 for non-owners).
        window: the simulation window.
        winter_of_day: per day index from the window start, is it a winter day?

    Returns:
        (customer row, time in days, type code, channel code, value) arrays.
    """
    parts = EventParts()
    lead_events(rng, rows, cust, jour, window, parts)
    pos = owner_pos[rows]
    owner_events(rng, pos[pos >= 0], jour, owners, window, winter_of_day, parts)
    return parts.concat()
