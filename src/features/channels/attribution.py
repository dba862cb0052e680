"""Multi-touch path attribution: credit each marketing channel with a share of the conversions.

Journeys are built from a touch log and an outcome per customer (``build_paths``), then credited
by rules (first, last, linear, time decay, position based), by the removal effects of a
first-order Markov chain and by Shapley values over channel sets. Converters with no touch in the
lookback window cannot be credited to any channel: ``unattributed_conversions`` counts them.

Written here rather than taken from ``ChannelAttribution`` (PyPI): that package is GPL-3, builds
a C++ extension and estimates the Markov model by simulation; the Markov and Shapley methods are
a few dozen lines of exact linear algebra here, tested against hand-computed cases.

May import the foundation (``features.schema``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np
import pandas as pd

from features import schema

METHODS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
)
RULE_METHODS = METHODS[:5]

CONVERTED_COL = "converted"
CONVERSION_TS_COL = "conversion_ts"
SEGMENT_COL = "segment"
PATH_COL = "path"
DAYS_BEFORE_COL = "days_before"
N_TOUCHES_COL = "n_touches"

# Markov states besides the channels (bracketed so that no channel name collides with them)
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
MAX_SHAPLEY_CHANNELS = 15  # 2**15 coalitions: exact enumeration stays well under a second

_DAY = pd.Timedelta(days=1)


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"{what}: required column {column!r} is missing")


# --- journeys -------------------------------------------------------------------------------


def build_paths(touches: pd.DataFrame, outcomes: pd.DataFrame, lookback_days: int) -> pd.DataFrame:
    """One row per customer with a touch in the window: time-ordered channels and the outcome.

    A journey ends at ``conversion_ts`` for converters that have one, else at the customer's
    last touch. Touches at or before the end and at most ``lookback_days`` days before it are
    kept (ties in time keep the log's order). Customers absent from ``outcomes`` and touches
    without a time or channel are ignored; ``segment`` is carried through when present.
    """
    id_col, time_col, channel_col = schema.ID_COL, schema.TIME_COL, schema.CHANNEL_COL
    _require(touches, (id_col, time_col, channel_col), "touches")
    _require(outcomes, (id_col, CONVERTED_COL), "outcomes")
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    if not pd.api.types.is_datetime64_any_dtype(touches[time_col]):
        raise ValueError(f"touches: column {time_col!r} must be datetime64")
    if outcomes[id_col].duplicated().any():
        raise ValueError(f"outcomes: column {id_col!r} holds duplicate customers")
    if outcomes[CONVERTED_COL].isna().any():
        raise ValueError(f"outcomes: column {CONVERTED_COL!r} has missing values")

    extra = [c for c in (CONVERSION_TS_COL, SEGMENT_COL) if c in outcomes.columns]
    people = outcomes[[id_col, CONVERTED_COL, *extra]].copy()
    people[CONVERTED_COL] = people[CONVERTED_COL].astype(bool).astype(np.int64)
    log = touches.loc[touches[time_col].notna() & touches[channel_col].notna(),
                      [id_col, time_col, channel_col]]  # fmt: skip
    log = log.merge(people, on=id_col, how="inner", validate="many_to_one")

    end = log.groupby(id_col, sort=False)[time_col].transform("max")
    if CONVERSION_TS_COL in log.columns:
        conversion_ts = log[CONVERSION_TS_COL]
        end = conversion_ts.where((log[CONVERTED_COL] == 1) & conversion_ts.notna(), end)
    days_before = (end - log[time_col]) / _DAY
    kept = log.assign(**{DAYS_BEFORE_COL: days_before})
    kept = kept.loc[(days_before >= 0) & (days_before <= lookback_days)]
    kept = kept.sort_values([id_col, time_col], kind="stable")

    columns = [id_col, PATH_COL, DAYS_BEFORE_COL, CONVERTED_COL, N_TOUCHES_COL]
    if SEGMENT_COL in people.columns:
        columns.append(SEGMENT_COL)
    if kept.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    ids = kept[id_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    channels = np.split(kept[channel_col].astype(str).to_numpy(object), starts[1:])
    days = np.split(kept[DAYS_BEFORE_COL].to_numpy(np.float64), starts[1:])
    first = kept.iloc[starts]
    out = pd.DataFrame({
        id_col: first[id_col].to_numpy(),
        PATH_COL: [tuple(c) for c in channels],
        DAYS_BEFORE_COL: [tuple(d.tolist()) for d in days],
        CONVERTED_COL: first[CONVERTED_COL].to_numpy(np.int64),
        N_TOUCHES_COL: np.diff(np.r_[starts, len(kept)]),
    })  # fmt: skip
    if SEGMENT_COL in people.columns:
        out[SEGMENT_COL] = first[SEGMENT_COL].to_numpy()
    return out[columns]


def unattributed_conversions(outcomes: pd.DataFrame, paths: pd.DataFrame) -> int:
    """Converters in ``outcomes`` with no journey in ``paths`` (no touch in their window)."""
    _require(outcomes, (schema.ID_COL, CONVERTED_COL), "outcomes")
    _require(paths, (schema.ID_COL,), "paths")
    converters = outcomes.loc[outcomes[CONVERTED_COL].astype(bool), schema.ID_COL]
    return int((~converters.isin(paths[schema.ID_COL])).sum())


def _channels(paths: pd.DataFrame) -> list[str]:
    return sorted(set(chain.from_iterable(paths[PATH_COL])))


def _touch_table(paths: pd.DataFrame, converted_only: bool) -> pd.DataFrame:
    """One row per touch: journey number, position, path length, channel, days before the end."""
    _require(paths, (PATH_COL, CONVERTED_COL), "paths")
    rows = paths.loc[paths[CONVERTED_COL].astype(bool)] if converted_only else paths
    lengths = rows[PATH_COL].map(len).to_numpy(np.int64)
    journey = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    table = pd.DataFrame({
        "journey": journey,
        "pos": np.arange(len(journey)) - offsets,
        "n": np.repeat(lengths, lengths),
        "channel": list(chain.from_iterable(rows[PATH_COL])),
    })  # fmt: skip
    if DAYS_BEFORE_COL in rows.columns:
        table["days"] = np.fromiter(chain.from_iterable(rows[DAYS_BEFORE_COL]), np.float64)
    return table


def _credit_series(
    values: pd.Series | dict[str, float], channels: list[str], name: str
) -> pd.Series:
    credit = pd.Series(values, dtype=np.float64).reindex(channels, fill_value=0.0)
    credit.index.name = schema.CHANNEL_COL
    return credit.rename(name)


# --- rule-based credit ----------------------------------------------------------------------


def rule_based(
    paths: pd.DataFrame,
    method: str,
    half_life_days: float = 7.0,
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
) -> pd.Series:
    """Credit per channel (in conversions) from one rule applied to every converting journey.

    ``time_decay`` weighs a touch by ``2 ** (-days_before / half_life_days)``; ``position_based``
    gives (first, middle, last) weights, the middle share spread evenly, a one-touch journey all
    to its touch and a two-touch journey first and last in proportion (50/50 by default).
    """
    if method not in RULE_METHODS:
        raise ValueError(f"unknown rule-based method {method!r}; expected one of {RULE_METHODS}")
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    first_w, middle_w, last_w = position_weights
    if min(position_weights) < 0 or not math.isclose(first_w + middle_w + last_w, 1.0):
        raise ValueError(
            f"position_weights must be non-negative and sum to 1, got {position_weights}"
        )
    if method == "time_decay":
        _require(paths, (DAYS_BEFORE_COL,), "paths")
    channels = _channels(paths)
    touches = _touch_table(paths, converted_only=True)
    pos, n = touches["pos"].to_numpy(), touches["n"].to_numpy()
    is_first, is_last = pos == 0, pos == n - 1
    if method == "first_touch":
        weight = is_first.astype(np.float64)
    elif method == "last_touch":
        weight = is_last.astype(np.float64)
    elif method == "linear":
        weight = 1.0 / n
    elif method == "time_decay":
        raw = pd.Series(2.0 ** (-touches["days"].to_numpy() / half_life_days))
        weight = (raw / raw.groupby(touches["journey"]).transform("sum")).to_numpy()
    else:
        ends = first_w + last_w
        two = (first_w / ends, last_w / ends) if ends > 0 else (0.5, 0.5)
        weight = np.select(
            [n == 1, (n == 2) & is_first, n == 2, is_first, is_last],
            [1.0, two[0], two[1], first_w, last_w],
            default=middle_w / np.maximum(n - 2, 1),
        )
    credit = pd.Series(weight, dtype=np.float64).groupby(touches["channel"].to_numpy()).sum()
    return _credit_series(credit, channels, method)


# --- Markov chain removal effects -----------------------------------------------------------


def _transition_matrix(paths: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Row-stochastic matrix over [start, channels..., conversion, null] and the channel names."""
    channels = _channels(paths)
    k = len(channels)
    touches = _touch_table(paths, converted_only=False)
    state = pd.Categorical(touches["channel"], categories=channels).codes.astype(np.int64) + 1
    previous = np.where(touches["pos"].to_numpy() == 0, 0, np.r_[0, state[:-1]])
    is_last = (touches["pos"] == touches["n"] - 1).to_numpy()
    converted = paths[CONVERTED_COL].astype(bool).to_numpy()[touches["journey"].to_numpy()]
    terminal = np.where(converted[is_last], k + 1, k + 2)
    counts = np.zeros((k + 3, k + 3))
    np.add.at(counts, (previous, state), 1.0)
    np.add.at(counts, (state[is_last], terminal), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        probability = np.where(totals > 0, counts / totals, 0.0)
    return probability, channels


def _conversion_probability(probability: np.ndarray, removed: int | None = None) -> float:
    """P(reach conversion from start), solving the absorbing chain's linear system."""
    transient = probability.shape[0] - 2  # start and the channels
    q = probability[:transient, :transient].copy()
    if removed is not None:
        q[:, removed] = 0.0  # transitions into the removed channel now end in null
    reach = np.linalg.solve(np.eye(transient) - q, probability[:transient, transient])
    return float(reach[0])


def markov_transitions(paths: pd.DataFrame) -> pd.DataFrame:
    """Observed first-order transitions: from_state, to_state, probability (non-zero only)."""
    probability, channels = _transition_matrix(paths)
    names = np.array([START, *channels, CONVERSION, NULL], dtype=object)
    rows, cols = np.nonzero(probability)
    return pd.DataFrame({"from_state": names[rows], "to_state": names[cols],
                         "probability": probability[rows, cols]})  # fmt: skip


def removal_effects(paths: pd.DataFrame) -> pd.Series:
    """Per channel: 1 - P(conversion | channel removed) / P(conversion); 0 if nothing converts."""
    probability, channels = _transition_matrix(paths)
    if not channels:
        return _credit_series({}, channels, "removal_effect")
    base = _conversion_probability(probability)
    if base <= 0:
        return _credit_series({}, channels, "removal_effect")
    effects = {c: 1.0 - _conversion_probability(probability, removed=i + 1) / base
               for i, c in enumerate(channels)}  # fmt: skip
    return _credit_series(effects, channels, "removal_effect")


def markov_removal(paths: pd.DataFrame) -> pd.Series:
    """Removal effects rescaled to sum to the number of converting journeys."""
    effects = removal_effects(paths)
    total = effects.sum()
    conversions = float(paths[CONVERTED_COL].astype(bool).sum())
    credit = effects * (conversions / total) if total > 0 else effects * 0.0
    return credit.rename("markov")


# --- Shapley values over channel sets -------------------------------------------------------


def _shapley_from_game(value: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values of an n-player game given v over all 2**n coalitions (bitmasks)."""
    masks = np.arange(1 << n)
    size = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        size += (masks >> i) & 1
    fact = [math.factorial(s) for s in range(n + 1)]
    weight = np.array([fact[s] * fact[n - s - 1] / fact[n] for s in range(n)])
    out = np.empty(n)
    for i in range(n):
        without = masks[((masks >> i) & 1) == 0]
        out[i] = np.sum(weight[size[without]] * (value[without | (1 << i)] - value[without]))
    return out


def shapley(paths: pd.DataFrame) -> pd.Series:
    """Shapley credit per channel over channel sets (order and repeats ignored).

    Characteristic function (Zhao et al. 2018, after Dalessandro et al. 2012): v(S) = number
    of converting journeys whose set of channels is contained in S, i.e. the sum over subsets
    T of S of the conversions of journeys with exactly the set T. Credits sum to the number of
    conversions. Computed exactly over the channels seen in converting journeys (others are
    null players with 0 credit); more than ``MAX_SHAPLEY_CHANNELS`` of them is refused.
    """
    channels = _channels(paths)
    touches = _touch_table(paths, converted_only=True)
    players = sorted(set(touches["channel"]))
    n = len(players)
    if n > MAX_SHAPLEY_CHANNELS:
        raise ValueError(f"shapley: {n} channels in converting journeys, at most "
                         f"{MAX_SHAPLEY_CHANNELS} can be enumerated exactly")  # fmt: skip
    if n == 0:
        return _credit_series({}, channels, "shapley")
    code = pd.Categorical(touches["channel"], categories=players).codes.astype(np.int64)
    journey_mask = np.zeros(int(touches["journey"].max()) + 1, dtype=np.int64)
    np.bitwise_or.at(journey_mask, touches["journey"].to_numpy(), 1 << code)
    journey_mask = journey_mask[journey_mask > 0]  # a converting journey without touches has no set
    value = np.bincount(journey_mask, minlength=1 << n).astype(np.float64)
    masks = np.arange(1 << n)
    for i in range(n):  # subset sums (zeta transform): v(S) = sum of r(T) over T within S
        with_i = masks[((masks >> i) & 1) == 1]
        value[with_i] += value[with_i ^ (1 << i)]
    return _credit_series(dict(zip(players, _shapley_from_game(value, n), strict=True)),
                          channels, "shapley")  # fmt: skip


# --- tables ---------------------------------------------------------------------------------


def attribute(
    paths: pd.DataFrame,
    methods: Sequence[str] = METHODS,
    *,
    half_life_days: float = 7.0,
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
) -> pd.DataFrame:
    """Credit in conversions: index channel (every channel seen, sorted), one column per method."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown attribution methods {unknown}; expected some of {METHODS}")
    columns = {}
    for method in methods:
        if method == "markov":
            columns[method] = markov_removal(paths)
        elif method == "shapley":
            columns[method] = shapley(paths)
        else:
            columns[method] = rule_based(paths, method, half_life_days, position_weights)
    credit = pd.DataFrame(columns, index=pd.Index(_channels(paths), name=schema.CHANNEL_COL))
    return credit.fillna(0.0).astype(np.float64)


def attribute_by_segment(
    paths: pd.DataFrame,
    methods: Sequence[str] = METHODS,
    *,
    half_life_days: float = 7.0,
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
) -> pd.DataFrame:
    """Long table segment, channel, method, credit: each segment attributed on its own journeys.

    Every segment lists every channel seen overall (0 where it has none) so segments line up.
    """
    _require(paths, (SEGMENT_COL,), "paths")
    channels = pd.Index(_channels(paths), name=schema.CHANNEL_COL)
    parts = []
    for segment, group in paths.groupby(SEGMENT_COL, sort=True, dropna=False):
        credit = attribute(group, methods, half_life_days=half_life_days,
                           position_weights=position_weights)  # fmt: skip
        credit = credit.reindex(channels, fill_value=0.0)
        long = credit.rename_axis(columns="method").stack().rename("credit").reset_index()
        parts.append(long.assign(**{SEGMENT_COL: segment}))
    columns = [SEGMENT_COL, schema.CHANNEL_COL, "method", "credit"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def credit_shares(credit: pd.DataFrame) -> pd.DataFrame:
    """Each column divided by its sum (NaN for a column with no credit at all)."""
    totals = credit.sum(axis=0)
    return credit / totals.where(totals != 0)


def path_table(paths: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """The top conversion paths: path ("a > b"), journeys, conversions, rate, share of conversions."""
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    _require(paths, (PATH_COL, CONVERTED_COL), "paths")
    frame = pd.DataFrame({PATH_COL: paths[PATH_COL].map(" > ".join),
                          "conversions": paths[CONVERTED_COL].astype(bool).astype(np.int64)})  # fmt: skip
    table = frame.groupby(PATH_COL, sort=True).agg(
        journeys=("conversions", "size"), conversions=("conversions", "sum")
    )
    table["conversion_rate"] = table["conversions"] / table["journeys"]
    total = table["conversions"].sum()
    table["share_of_conversions"] = table["conversions"] / total if total > 0 else 0.0
    table = table.reset_index().sort_values(
        ["conversions", "journeys", PATH_COL], ascending=[False, False, True], kind="stable"
    )
    return table.head(top).reset_index(drop=True)
