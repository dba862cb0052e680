"""Value study data: transactions, per-customer summaries and targets at one cutoff.

A transaction is an event with a positive amount; in a log with the lab's revenue event types
(``features.data.synth_value.REVENUE_EVENT_STREAMS``) only those count, each in its stream.
At a cutoff the population is every customer with a transaction before it; features come from
events before the cutoff only, the realised value from transactions in
``[cutoff, cutoff + horizon)``.

May import the foundation, ``features.data`` and ``features.table``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema
from features.data.synth_value import REVENUE_EVENT_STREAMS, VALUE_STREAMS
from features.table import registry
from features.table.snapshots import EventSource, load_snapshots

STREAM_COL = "stream"
TYPE_COL = "kind"  # the transaction's event type ("all" in a log without event types)
MAX_TYPE_FEATURES = 12  # transaction types given columns of their own (the most frequent)
_DAY = pd.Timedelta(days=1)
# Per-customer summary columns (the classic models' inputs, also LightGBM features).
RFM_COLUMNS = ("frequency", "recency", "T", "monetary", "value_before", "naive_value")


@dataclass
class ValueFrame:
    """One cutoff: population ids, features, RFM summary and (when observable) targets."""

    cutoff: pd.Timestamp
    ids: pd.Index
    features: pd.DataFrame
    rfm: pd.DataFrame
    target: pd.Series
    target_count: pd.Series
    target_streams: pd.DataFrame | None


def transactions_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """Money events (customer_id, ts, value, stream or None) from a canonical event log."""
    types = events[schema.EVENT_TYPE_COL].astype(str) if schema.EVENT_TYPE_COL in events else None
    if types is not None and types.isin(list(REVENUE_EVENT_STREAMS)).any():
        keep = types.isin(list(REVENUE_EVENT_STREAMS)).to_numpy()
        out = events.loc[keep, [schema.ID_COL, schema.TIME_COL, schema.AMOUNT_COL]].copy()
        out[STREAM_COL] = types[keep].map(REVENUE_EVENT_STREAMS).to_numpy()
        out[TYPE_COL] = types[keep].to_numpy()
    else:
        out = events[[schema.ID_COL, schema.TIME_COL, schema.AMOUNT_COL]].copy()
        out[STREAM_COL] = None
        out[TYPE_COL] = types.to_numpy() if types is not None else "all"
    out = out[out[schema.AMOUNT_COL].fillna(0) > 0]
    out[schema.ID_COL] = out[schema.ID_COL].astype(str)
    return out.reset_index(drop=True)


def has_streams(transactions: pd.DataFrame) -> bool:
    """True when the transactions carry the lab's value streams."""
    return bool(transactions[STREAM_COL].notna().any())


def rfm_summary(tx: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
    """Frequency (repeat purchase days), recency and age in weeks, mean repeat-day spend.

    ``value_before`` is all value before the cutoff, ``naive_value`` the value in the
    ``horizon_days`` before it (the naive forecast of the next window).
    """
    before = tx[tx[schema.TIME_COL] < cutoff]
    day = before[schema.TIME_COL].dt.normalize()
    daily = (
        before.assign(day=day)
        .groupby([schema.ID_COL, "day"], observed=True)[schema.AMOUNT_COL]
        .sum()
        .reset_index()
    )
    grouped = daily.groupby(schema.ID_COL)
    first = grouped["day"].min()
    last = grouped["day"].max()
    n_days = grouped.size()
    total = grouped[schema.AMOUNT_COL].sum()
    first_value = daily.sort_values("day").groupby(schema.ID_COL)[schema.AMOUNT_COL].first()
    repeat = n_days - 1
    monetary = ((total - first_value) / repeat.where(repeat > 0)).fillna(0.0)
    recent = before[before[schema.TIME_COL] >= cutoff - horizon_days * _DAY]
    naive = recent.groupby(schema.ID_COL)[schema.AMOUNT_COL].sum().reindex(total.index)
    frame = pd.DataFrame(
        {
            "frequency": repeat.astype(float),
            "recency": (last - first) / _DAY / 7.0,
            "T": (cutoff - first) / _DAY / 7.0,
            "monetary": monetary,
            "value_before": total,
            "naive_value": naive.fillna(0.0),
        }
    )
    frame.index.name = schema.ID_COL
    return frame


def realised_value(
    tx: pd.DataFrame, ids: pd.Index, start: pd.Timestamp, horizon_days: int, streams: bool
) -> tuple[pd.Series, pd.Series, pd.DataFrame | None]:
    """Value, transaction days and value per stream in ``[start, start + horizon)``."""
    window = tx[
        (tx[schema.TIME_COL] >= start) & (tx[schema.TIME_COL] < start + horizon_days * _DAY)
    ]
    total = window.groupby(schema.ID_COL)[schema.AMOUNT_COL].sum().reindex(ids, fill_value=0.0)
    days = window[schema.TIME_COL].dt.normalize()
    count = window.assign(day=days).groupby(schema.ID_COL)["day"].nunique()
    count = count.reindex(ids, fill_value=0).astype(float)
    per_stream = None
    if streams:
        per_stream = (
            window.pivot_table(
                index=schema.ID_COL, columns=STREAM_COL, values=schema.AMOUNT_COL, aggfunc="sum"
            )  # fmt: skip
            .reindex(index=ids, columns=list(VALUE_STREAMS))
            .fillna(0.0)
        )
    return total.rename("value"), count.rename("count"), per_stream


def stream_history(tx: pd.DataFrame, ids: pd.Index, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Value per stream before the cutoff: mean amount, count, sum (all and last 180 days)."""
    before = tx[tx[schema.TIME_COL] < cutoff]
    out = {}
    means = before.pivot_table(index=schema.ID_COL, columns=STREAM_COL,
                               values=schema.AMOUNT_COL, aggfunc=["mean", "count"])  # fmt: skip
    for stream in VALUE_STREAMS:
        for how in ("mean", "count"):
            key = (how, stream)
            col = means[key] if key in means.columns else pd.Series(dtype=float)
            out[f"value_{stream}_{how}"] = col.reindex(ids)
    for label, part in (
        ("all", before),
        ("180d", before[before[schema.TIME_COL] >= cutoff - 180 * _DAY]),
    ):
        table = part.pivot_table(index=schema.ID_COL, columns=STREAM_COL,
                                 values=schema.AMOUNT_COL, aggfunc="sum")  # fmt: skip
        for stream in VALUE_STREAMS:
            col = table[stream] if stream in table else pd.Series(dtype=float)
            out[f"value_{stream}_{label}"] = col.reindex(ids).fillna(0.0)
    return pd.DataFrame(out, index=ids)


def type_history(tx: pd.DataFrame, ids: pd.Index, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per transaction type before the cutoff: count and mean log amount; a spend index.

    ``spend_log_index`` is the customer's mean log amount relative to each type's mean log
    amount over all customers before the cutoff (bills of every type scale with how much a
    customer spends, so pooling the types estimates that level from few transactions), and
    ``spend_n`` the number of transactions it averages.
    """
    before = tx[tx[schema.TIME_COL] < cutoff]
    log_amount = np.log(before[schema.AMOUNT_COL].to_numpy(dtype=float))
    kinds = before[TYPE_COL].astype(str).to_numpy()
    frame = pd.DataFrame({"id": before[schema.ID_COL].to_numpy(), "kind": kinds, "log": log_amount})
    grouped = frame.groupby(["id", "kind"])["log"].agg(["size", "mean"]).unstack("kind")
    out = {}
    frequent = pd.Series(kinds).value_counts().index[:MAX_TYPE_FEATURES]
    for kind in sorted(frequent):
        out[f"tx_{kind}_count"] = grouped[("size", kind)].reindex(ids).fillna(0.0)
        out[f"tx_{kind}_log_mean"] = grouped[("mean", kind)].reindex(ids)
    relative = frame["log"] - frame.groupby("kind")["log"].transform("mean")
    by_id = relative.groupby(frame["id"])
    out["spend_log_index"] = by_id.mean().reindex(ids)
    out["spend_n"] = by_id.size().reindex(ids).fillna(0.0)
    return pd.DataFrame(out, index=ids)


_STREAM_WORDS = {"purchase": "car purchase", "usage": "usage (charging, service, software)",
                 "vas": "value-added services", "social": "referral"}  # fmt: skip
_SUMMARY_MEANINGS = {
    "frequency": "repeat purchase days before cutoff",
    "recency": "weeks from first to last purchase day",
    "T": "weeks since the first transaction",
    "monetary": "mean spend of a repeat purchase day (CNY)",
    "value_before": "value to date (CNY)",
    "naive_value": "value in the previous window (CNY)",
    "value_rate": "value per week to date (CNY)",
    "repeat_rate": "repeat purchase days per week",
    "repeat_value_rate": "repeat spend per week (CNY)",
    "spend_log_index": "spend level against other customers (log ratio)",
    "spend_n": "transactions behind the spend level",
}
_STREAM_FEATURE = re.compile(
    r"^value_(" + "|".join(VALUE_STREAMS) + r")_(mean|count|all|180d|rate)$"
)
_STREAM_PART = {"mean": "mean {} transaction (CNY)", "count": "{} transactions to date",
                "all": "{} value to date (CNY)", "180d": "{} value in the last 180 days (CNY)",
                "rate": "{} value per week (CNY)"}  # fmt: skip
_TYPE_FEATURE = re.compile(r"^tx_(.+)_(count|log_mean)$")


def describe_value_feature(name: str) -> str:
    """Plain words for a column of a value frame (its own summaries, else the registry's)."""
    if name in _SUMMARY_MEANINGS:
        return _SUMMARY_MEANINGS[name]
    if match := _STREAM_FEATURE.match(name):
        return _STREAM_PART[match[2]].format(_STREAM_WORDS[match[1]])
    if match := _TYPE_FEATURE.match(name):
        kind = match[1].replace("_", " ")
        return (
            f"{kind} transactions to date" if match[2] == "count" else f"typical {kind} (log CNY)"
        )
    return registry.describe_feature(name)


def value_frame(
    tx: pd.DataFrame, features: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int
) -> ValueFrame:
    """Population, point-in-time features and targets at ``cutoff``."""
    rfm = rfm_summary(tx, cutoff, horizon_days)
    ids = rfm.index
    streams = has_streams(tx)
    feats = features.assign(**{schema.ID_COL: features[schema.ID_COL].astype(str)})
    feats = feats.set_index(schema.ID_COL).reindex(ids)
    weeks = np.maximum(rfm["T"], 4.0)
    rates = pd.DataFrame(
        {"value_rate": rfm["value_before"] / weeks,
         "repeat_rate": rfm["frequency"] / weeks,
         "repeat_value_rate": rfm["monetary"] * rfm["frequency"] / weeks},
        index=ids,
    )  # fmt: skip
    extra = [rfm, rates, type_history(tx, ids, cutoff)]
    if streams:
        history = stream_history(tx, ids, cutoff)
        for stream in VALUE_STREAMS:
            history[f"value_{stream}_rate"] = history[f"value_{stream}_all"] / weeks
        extra.append(history)
    X = pd.concat([feats.drop(columns=[c for c in rfm.columns if c in feats]), *extra], axis=1)
    for name in X.columns:
        if X[name].dtype == object or str(X[name].dtype).startswith("str"):
            X[name] = X[name].astype("category")
    total, count, per_stream = realised_value(tx, ids, cutoff, horizon_days, streams)
    return ValueFrame(cutoff, ids, X, rfm, total, count, per_stream)


def stack_frames(frames: list[ValueFrame]) -> ValueFrame:
    """One training frame from several cutoffs' frames (a customer once per cutoff).

    The cutoff is the latest one; columns missing at a cutoff are missing values.
    """
    streams = [f.target_streams for f in frames]
    ids = pd.Index(np.concatenate([f.ids.to_numpy() for f in frames]), name=schema.ID_COL)
    features = pd.concat([f.features for f in frames], ignore_index=True)
    for name in features.columns:
        if not isinstance(features[name].dtype, pd.CategoricalDtype) and any(
            isinstance(f.features[name].dtype, pd.CategoricalDtype)
            for f in frames if name in f.features
        ):  # fmt: skip
            features[name] = features[name].astype("category")
    return ValueFrame(
        cutoff=max(f.cutoff for f in frames),
        ids=ids,
        features=features,
        rfm=pd.concat([f.rfm for f in frames], ignore_index=True),
        target=pd.concat([f.target for f in frames], ignore_index=True),
        target_count=pd.concat([f.target_count for f in frames], ignore_index=True),
        target_streams=None
        if any(s is None for s in streams)
        else pd.concat(streams, ignore_index=True),
    )


def load_value_frames(
    source: EventSource, cutoffs: list[pd.Timestamp], horizon_days: int
) -> tuple[dict[pd.Timestamp, ValueFrame], pd.DataFrame]:
    """Value frames at each cutoff (features from the lab's snapshots) and the transactions."""
    log = source.load()
    snapshots = load_snapshots(source, {c: [] for c in cutoffs}, echo=print, log=log)
    tx = transactions_from_events(log.events)
    if tx.empty:
        raise ValueError(f"{source.path}: no events with a positive amount (nothing to value)")
    frames = {c: value_frame(tx, snapshots[c].features, c, horizon_days) for c in cutoffs}
    return frames, tx


def data_end(tx: pd.DataFrame) -> pd.Timestamp:
    """The day after the last transaction."""
    return tx[schema.TIME_COL].max().normalize() + _DAY


def window_is_observed(tx: pd.DataFrame, start: pd.Timestamp, horizon_days: int) -> bool:
    """True when ``[start, start + horizon)`` ends by the last day of the data."""
    return bool(start + horizon_days * _DAY <= data_end(tx) + _DAY)


def component_shares(tx: pd.DataFrame) -> dict[str, float] | None:
    """Share of all realised value per stream (None without streams)."""
    if not has_streams(tx):
        return None
    totals = tx.groupby(STREAM_COL)[schema.AMOUNT_COL].sum().reindex(list(VALUE_STREAMS))
    shares = totals.fillna(0.0) / float(totals.sum())
    return {k: round(float(v), 4) for k, v in shares.items()}


def top_decile_ratio(values: pd.Series) -> float:
    """Mean value of the top decile over the mean value."""
    cut = np.quantile(values.to_numpy(), 0.9)
    return float(values[values >= cut].mean() / values.mean())
