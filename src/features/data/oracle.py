"""Oracle scores: the best achievable prediction of a label, from the simulation's truth.

This is the only module that reads ``truth.parquet``. The oracle probability of a customer is
the generative model's probability of the label given everything latent at the cutoff:

- conversion (order in ``[cutoff, cutoff + horizon)``, leads without an order before the
  cutoff): the lead's purchase propensity, when its journey ends (for a journey still running
  at the cutoff this is the lead's plan) and its two-speed decision delay. The oracle does not
  know the buy/no-buy draw nor the random delay; a lead whose journey ended long ago and who
  has not ordered is probably a non-buyer (Bayes update).
- churn (no event at all in ``[cutoff, cutoff + horizon)``, owners delivered before the
  cutoff): the owner's churn hazard (with its winter factor) and daily event rates, and the
  owner's observable activity before the cutoff. Whether a quiet owner has already churned is
  itself random to the oracle: it is inferred, exactly, from the days since the last event, as
  any model of the event log could. Churn happens at midnights and events are Poisson with
  daily rates, so the probability is an exact sum over days.

The oracle is calibrated (its mean probability over a population equals the label rate) and,
at the default cutoff on 50k customers, a LightGBM on point-in-time event features reaches
about 96-97% of its ROC AUC (``tests/features/data/test_oracle.py``). The oracle uses the
label definitions of ``features.table.labels``. Its formulas are the generator's own: the
decision delay of ``synth_funnel`` and the churn calendar of ``synth_owners``.

May import the foundation modules and the ``features.data`` world modules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

from features import schema
from features.data.synth_funnel import decision_survival
from features.data.synth_owners import SECOND_YEAR_HAZARD_FACTOR, churn_day_weights
from features.data.synth_world import DAYS_PER_YEAR, is_winter

TASKS = ("conversion", "churn")
ACTIVE_DAYS_COL = "active_days"
_DAY = pd.Timedelta(days=1)
_EPOCH = pd.Timestamp("1970-01-01")


def has_truth(location: str | os.PathLike[str]) -> bool:
    """True for a generated dataset folder: one that carries its truth table."""
    folder = Path(location)
    return folder.is_dir() and (folder / f"{schema.TRUTH_TABLE}.parquet").is_file()


def load_truth(dataset_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a dataset's truth table, plus each owner's active days for the churn oracle.

    Returns one row per customer with the truth columns and ``active_days``: for customers
    with a delivery, the sorted distinct days (days since 1970-01-01) with at least one
    event, taken from ``events.parquet``; ``None`` for the others.
    """
    folder = Path(dataset_dir)
    truth_path = folder / f"{schema.TRUTH_TABLE}.parquet"
    events_path = folder / f"{schema.EVENTS_TABLE}.parquet"
    for path in (truth_path, events_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing (not a synthetic dataset folder?)")
    truth = pd.read_parquet(truth_path)
    missing = [c for c in schema.TRUTH_COLUMNS + ("delivery_ts",) if c not in truth.columns]
    if missing:
        raise ValueError(f"{truth_path}: missing truth columns {missing}")
    truth[ACTIVE_DAYS_COL] = owner_active_days(truth, events_path)
    return truth


def owner_active_days(truth: pd.DataFrame, events_path: Path) -> pd.Series:
    """Distinct event days (since 1970-01-01) of each customer with a delivery."""
    owners = truth["delivery_ts"].notna().to_numpy()
    table = pq.read_table(events_path, columns=[schema.ID_COL, schema.TIME_COL])
    owner_ids = truth.loc[owners, schema.ID_COL].to_numpy(dtype=object)
    keep = pc.is_in(table[schema.ID_COL], value_set=pa.array(owner_ids, type=pa.string()))
    table = table.filter(keep)
    row_of_id = pd.Index(owner_ids)
    rows = row_of_id.get_indexer(table[schema.ID_COL].to_numpy(zero_copy_only=False))
    days = table[schema.TIME_COL].to_numpy().astype("datetime64[D]").astype(np.int64)
    keys = np.unique(rows.astype(np.int64) * 1_000_000 + days)
    key_rows = keys // 1_000_000
    key_days = (keys % 1_000_000).astype(np.int32)
    bounds = np.searchsorted(key_rows, np.arange(len(owner_ids) + 1))
    per_owner = [key_days[bounds[i] : bounds[i + 1]] for i in range(len(owner_ids))]
    out = pd.Series([None] * len(truth), index=truth.index, dtype=object)
    out.iloc[np.flatnonzero(owners)] = pd.Series(per_owner, dtype=object).to_numpy()
    return out


def oracle_probabilities(
    truth: pd.DataFrame,
    customer_ids: Iterable[str],
    cutoff: str | pd.Timestamp,
    horizon_days: int,
    task: str,
) -> pd.Series:
    """The generative model's probability of the label, per customer.

    Args:
        truth: the table returned by ``load_truth``.
        customer_ids: the task's population at ``cutoff`` (see ``features.table.labels``).
        cutoff: midnight at which features stop and the label window starts.
        horizon_days: label window length in days.
        task: ``"conversion"`` or ``"churn"``.

    Returns:
        Probabilities indexed by ``customer_id`` in the order given; NaN for customers outside
        the task's population (a lead created at or after the cutoff or already ordered; a
        customer without a delivery before the cutoff).
    """
    if task not in TASKS:
        raise ValueError(f"task {task!r}: must be one of {', '.join(TASKS)}")
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int | np.integer):
        raise ValueError(f"horizon_days {horizon_days!r}: must be a positive integer")
    if horizon_days <= 0:
        raise ValueError(f"horizon_days {horizon_days!r}: must be a positive integer")
    cutoff = pd.Timestamp(cutoff)
    if cutoff != cutoff.normalize():
        raise ValueError(f"cutoff {cutoff}: must be a midnight (a date)")
    ids = pd.Index(customer_ids, name=schema.ID_COL)
    table = truth.set_index(schema.ID_COL)
    unknown = ids.difference(table.index)
    if len(unknown):
        raise ValueError(f"{len(unknown)} customer ids not in truth, e.g. {list(unknown[:3])}")
    rows = table.loc[ids]
    if task == "conversion":
        probs = conversion_probabilities(rows, cutoff, horizon_days)
    else:
        if ACTIVE_DAYS_COL not in rows.columns:
            raise ValueError(f"truth has no {ACTIVE_DAYS_COL!r} column: read it with load_truth")
        probs = churn_probabilities(rows, cutoff, horizon_days)
    return pd.Series(probs, index=ids, name="oracle_probability")


def _days_from(ts: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return ((ts - origin) / _DAY).to_numpy(dtype=np.float64, na_value=np.nan)


def conversion_probabilities(rows: pd.DataFrame, cutoff: pd.Timestamp, horizon: int) -> np.ndarray:
    """P(order in [cutoff, cutoff + horizon) | latent state), NaN outside the population."""
    p = rows["purchase_propensity"].to_numpy(dtype=np.float64)
    end = _days_from(rows["journey_end_ts"], cutoff)  # journey end relative to the cutoff
    share = rows["decision_fast_share"].to_numpy(dtype=np.float64)
    fast = rows["decision_fast_days"].to_numpy(dtype=np.float64)
    slow = rows["decision_slow_days"].to_numpy(dtype=np.float64)

    elapsed = np.maximum(-end, 0.0)  # days since the journey ended (0 while it runs)
    s_now = decision_survival(elapsed, share, fast, slow)
    s_later = decision_survival(elapsed + horizon, share, fast, slow)
    ended = end <= 0
    ended_p = p * (s_now - s_later) / (1 - p + p * s_now)
    running_p = p * (1 - decision_survival(horizon - end, share, fast, slow))
    probs = np.where(ended, ended_p, running_p)
    probs = np.where(np.isnan(end), 0.0, probs)  # journey ends after the window
    lead = _days_from(rows["lead_created_at"], cutoff)
    ordered = _days_from(rows["order_intent_ts"], cutoff) < 0
    return np.where((lead >= 0) | ordered, np.nan, probs)


def _last_active_day(active_days: pd.Series, cutoff_day: int) -> np.ndarray:
    last = np.full(len(active_days), -1, dtype=np.int64)
    for i, days in enumerate(active_days.to_numpy()):
        if days is None or len(days) == 0:
            continue
        k = np.searchsorted(days, cutoff_day) - 1
        if k >= 0:
            last[i] = days[k]
    return last


class _OwnerState:
    """Owners delivered before the cutoff: churn hazard per day and the quiet-owner posterior."""

    def __init__(self, rows: pd.DataFrame, cutoff: pd.Timestamp) -> None:
        self.c = int((cutoff - _EPOCH) / _DAY)
        delivery = rows["delivery_ts"]
        self.eligible = (delivery < cutoff).to_numpy(dtype=bool, na_value=False)
        sub = rows.loc[self.eligible]
        self.sub = sub
        delivery_day = ((sub["delivery_ts"] - _EPOCH) // _DAY).to_numpy(dtype=np.int64)
        self.last = np.maximum(_last_active_day(sub[ACTIVE_DAYS_COL], self.c), delivery_day)
        self.daily_hazard = sub["churn_hazard"].to_numpy(dtype=np.float64) / DAYS_PER_YEAR
        self.factor = sub["winter_hazard_factor"].to_numpy(dtype=np.float64)
        self.base_rate = sub["activity_rate"].to_numpy(dtype=np.float64)
        self.winter_rate = sub["winter_activity_rate"].to_numpy(dtype=np.float64)
        self.year_end = delivery_day + 365  # last day of the first year of ownership

    def hazard(self, day: int) -> np.ndarray:
        calendar = churn_day_weights(np.array([day]), self.factor)
        second = np.where(day > self.year_end, SECOND_YEAR_HAZARD_FACTOR, 1.0)
        return self.daily_hazard * calendar * second

    def rate(self, day: int) -> np.ndarray:
        return self.winter_rate if is_winter(np.array([day]))[0] else self.base_rate

    def p_churned(self) -> np.ndarray:
        """Posterior that the owner churned at a midnight in (last day, cutoff], given no
        event on the days between the last event and the cutoff."""
        n = len(self.sub)
        survive, quiet, churned_w = np.ones(n), np.ones(n), np.zeros(n)
        for day in range(int(self.last.min()) + 1, self.c + 1):
            started = day > self.last
            h = np.where(started, self.hazard(day), 0.0)
            churned_w += started * survive * quiet * -np.expm1(-h)
            survive *= np.exp(-h)
            if day < self.c:
                quiet *= np.exp(-np.where(started, self.rate(day), 0.0))
        alive_w = survive * quiet
        return churned_w / (churned_w + alive_w)


def churn_probabilities(rows: pd.DataFrame, cutoff: pd.Timestamp, horizon: int) -> np.ndarray:
    """P(no event in [cutoff, cutoff + horizon) | latent rates, activity before the cutoff)."""
    state = _OwnerState(rows, cutoff)
    out = np.full(len(rows), np.nan)
    if not state.eligible.any():
        return out
    p_churned = state.p_churned()
    # Alive at the cutoff: no event over the horizon (churn at a midnight before the next
    # event, or simply no event).
    n, c = len(state.sub), state.c
    survive, quiet, p_quiet = np.ones(n), np.ones(n), np.zeros(n)
    for day in range(c, c + horizon):
        if day > c:
            h = state.hazard(day)
            p_quiet += survive * -np.expm1(-h) * quiet
            survive *= np.exp(-h)
        quiet *= np.exp(-state.rate(day))
    p_quiet += survive * quiet
    out[state.eligible] = p_churned + (1 - p_churned) * p_quiet
    return out


def expected_value(
    truth: pd.DataFrame, customer_ids: Iterable[str], cutoff: str | pd.Timestamp, horizon_days: int
) -> pd.DataFrame:
    """Expected value per stream in [cutoff, cutoff + horizon) of owners delivered before it.

    Each stream's expected CNY per active year (truth ``value_rate_*``) times the expected
    active days: the posterior that the owner has not churned yet (as for churn) times the
    survival of the churn hazard over the horizon. Zero outside the owner population.
    """
    cutoff = pd.Timestamp(cutoff)
    ids = pd.Index(customer_ids, name=schema.ID_COL)
    rows = truth.set_index(schema.ID_COL).reindex(ids)
    rate_cols = [c for c in rows.columns if c.startswith("value_rate_")]
    if not rate_cols:
        raise ValueError("truth has no value_rate_* columns (dataset from an older generator?)")
    state = _OwnerState(rows, cutoff)
    out = pd.DataFrame(0.0, index=ids, columns=[c.removeprefix("value_rate_") for c in rate_cols])
    if not state.eligible.any():
        return out
    alive = 1 - state.p_churned()
    survive, days = np.ones(len(state.sub)), np.zeros(len(state.sub))
    for day in range(state.c, state.c + horizon_days):
        if day > state.c:
            survive *= np.exp(-state.hazard(day))
        days += survive
    rates = state.sub[rate_cols].to_numpy(dtype=np.float64)
    out.iloc[state.eligible] = np.nan_to_num(rates) * (alive * days / DAYS_PER_YEAR)[:, None]
    return out


def oracle_roc_auc(
    truth: pd.DataFrame,
    labels: pd.Series,
    cutoff: str | pd.Timestamp,
    horizon_days: int,
    task: str,
) -> float:
    """ROC AUC of the oracle probabilities against ``labels`` (0/1 indexed by customer_id)."""
    y = pd.Series(labels).astype(int)
    if y.nunique() < 2:
        raise ValueError("labels: need both classes to compute a ROC AUC")
    probs = oracle_probabilities(truth, y.index, cutoff, horizon_days, task)
    outside = probs.isna()
    if outside.any():
        raise ValueError(
            f"{int(outside.sum())} labelled customers are outside the {task} population at "
            f"{pd.Timestamp(cutoff).date()}, e.g. {list(probs.index[outside][:3])}"
        )
    return float(roc_auc_score(y.to_numpy(), probs.to_numpy()))
