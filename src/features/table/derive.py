"""Feature columns from the SQL aggregates, in pandas and numpy, for ``features.table.build``.

Owns the column vocabulary (which event types and channels get their own columns), the pivot
of per-(customer, key) statistics into per-type and per-channel columns, the derived ratios,
trends and NEV columns, customer attributes, the six persona dimensions and the final column
order and dtypes (the registry's).

May import the foundation modules and ``features.table.registry``; nothing runs SQL here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import schema
from features.schema import DELIVERY_EVENT, LEAD_CREATED_COL, ORDER_EVENT
from features.table import registry

MAX_GENERIC_VOCABULARY = 30


# --- vocabulary ----------------------------------------------------------------------------
class Vocabulary:
    """Event types and channels that get their own columns, keyed by slug."""

    def __init__(
        self,
        types: dict[str, list[str]],
        channels: dict[str, list[str]],
        first_type_categories: list[str],
        first_channel_categories: list[str],
    ) -> None:
        self.types = types
        self.channels = channels
        self.first_type_categories = first_type_categories
        self.first_channel_categories = first_channel_categories

    @classmethod
    def build(
        cls, type_counts: dict[str, int], channel_counts: dict[str, int], nev: bool
    ) -> Vocabulary:
        """Fixed schema vocabularies for NEV logs, the most frequent values for generic ones."""
        if nev:
            types = _group_by_slug(schema.EVENT_TYPES, type_counts, fixed=True)
            channels = _group_by_slug(schema.EVENT_CHANNELS, channel_counts, fixed=True)
            type_categories = _fixed_categories(schema.EVENT_TYPES, type_counts)
            channel_categories = _fixed_categories(schema.EVENT_CHANNELS, channel_counts)
        else:
            types = _group_by_slug(_most_frequent(type_counts), type_counts, fixed=False)
            channels = _group_by_slug(_most_frequent(channel_counts), channel_counts, fixed=False)
            type_categories = sorted(type_counts)
            channel_categories = sorted(channel_counts)
        return cls(types, channels, type_categories, channel_categories)


class Codes:
    """Sorted raw event types and channels; a value's code is its position."""

    def __init__(self, types: list[str], channels: list[str]) -> None:
        self.types = types
        self.channels = channels

    def code(self, event_type: str) -> int | None:
        """Code of a raw event type, None if the log has none before the cutoff."""
        return self.types.index(event_type) if event_type in self.types else None

    def present(self, event_types: Sequence[str]) -> list[int]:
        """Codes of those of ``event_types`` that the log has before the cutoff."""
        return [code for t in event_types if (code := self.code(t)) is not None]


def _most_frequent(counts: dict[str, int]) -> list[str]:
    by_slug: dict[str, int] = {}
    for value, count in counts.items():
        slug = registry.slugify(value)
        by_slug[slug] = by_slug.get(slug, 0) + count
    ranked = sorted(by_slug, key=lambda slug: (-by_slug[slug], slug))[:MAX_GENERIC_VOCABULARY]
    return sorted(ranked)


def _group_by_slug(
    labels: Iterable[str], counts: dict[str, int], fixed: bool
) -> dict[str, list[str]]:
    """slug -> raw values in the log with that slug (fixed vocabularies keep empty slugs)."""
    groups: dict[str, list[str]] = {registry.slugify(label): [] for label in labels}
    for value in sorted(counts):
        slug = registry.slugify(value)
        if slug in groups:
            groups[slug].append(value)
    if not fixed:
        groups = {slug: values for slug, values in groups.items() if values}
    return groups


def _fixed_categories(vocabulary: Sequence[str], counts: dict[str, int]) -> list[str]:
    return list(vocabulary) + sorted(set(counts) - set(vocabulary))


# --- pivots of the per-key statistics -----------------------------------------------------
class _Pivot:
    """Per-(customer, raw code) statistics, unpacked into one column per (statistic, slug).

    Raw values sharing a slug (generic logs: "Web Shop" and "web shop") are combined with
    each statistic's rule; raw values outside the vocabulary are left out. Rows are ordered by
    slug once; a column is unpacked only when asked for, straight into its output (a full
    customers x slugs matrix per statistic writes gigabytes at a million customers).
    """

    def __init__(
        self,
        n_rows: int,
        keyed: pd.DataFrame,
        raw_values: list[str],
        groups: dict[str, list[str]],
        stats: dict[str, tuple[str, str]],
    ) -> None:
        self.n_rows = n_rows
        self.position = {slug: i for i, slug in enumerate(groups)}
        slug_of = {raw: i for i, values in enumerate(groups.values()) for raw in values}
        column_of_code = np.array([slug_of.get(raw, -1) for raw in raw_values] + [-1])
        if any(len(values) > 1 for values in groups.values()):
            keyed = keyed.assign(key=column_of_code[keyed["key"].to_numpy("int64")])
            rules = {name: rule for name, (_, rule) in stats.items()}
            keyed = keyed.loc[keyed["key"] >= 0].groupby(["r", "key"], as_index=False).agg(rules)
            column_of_code = np.arange(len(groups))
        cols = column_of_code[keyed["key"].to_numpy("int64")] if len(keyed) else np.array([], int)
        kept = np.flatnonzero(cols >= 0)
        # int16 slugs: numpy's stable sort is then a radix sort
        self.order = kept[np.argsort(cols[kept].astype(np.int16), kind="stable")]
        self.bounds = np.searchsorted(cols[self.order], np.arange(len(groups) + 1))
        self.rows = keyed["r"].to_numpy("int64")[self.order]
        self.keyed = keyed
        self.fill = {name: 0.0 if rule == "sum" else np.nan for name, (_, rule) in stats.items()}

    def _segment(self, name: str, slug: str) -> tuple[np.ndarray, np.ndarray]:
        i = self.position[slug]
        lo, hi = self.bounds[i], self.bounds[i + 1]
        values = self.keyed[name].to_numpy("float64")[self.order[lo:hi]]
        return self.rows[lo:hi], values

    def column(self, name: str, slug: str, out: np.ndarray) -> None:
        """Write statistic ``name`` of one slug for every customer row into ``out``."""
        rows, values = self._segment(name, slug)
        out.fill(self.fill[name])
        out[rows] = values

    def total(self, name: str, slugs: Iterable[str], out: np.ndarray) -> None:
        """Write the sum of a statistic over several slugs into ``out``."""
        out.fill(0.0)
        for slug in slugs:
            rows, values = self._segment(name, slug)
            out[rows] += values  # one row per customer and slug


def keyed_features(
    n_rows: int,
    keyed: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None],
    stats: tuple[dict[str, tuple[str, str]], ...],
    codes: Codes,
    vocab: Vocabulary,
    nev: bool,
) -> pd.DataFrame:
    """Per-type, per-channel and (NEV) service, engagement, charging and NPS columns.

    ``keyed`` and ``stats`` hold the per-type, per-channel and (NEV) per-type value statistics
    and their definitions.
    """
    types = _Pivot(n_rows, keyed[0], codes.types, vocab.types, stats[0])
    channels = _Pivot(n_rows, keyed[1], codes.channels, vocab.channels, stats[1])
    fillers: dict[str, Callable[[np.ndarray], None]] = {}
    for slug in vocab.types:
        names = registry.event_type_feature_names(slug)
        fillers[names["count"]] = partial(types.column, "n", slug)
        fillers[names["count_window"]] = partial(types.column, "n_window", slug)
        fillers[names["recency"]] = partial(types.column, "recency", slug)
    for slug in vocab.channels:
        fillers[f"_channel_{slug}"] = partial(channels.column, "n", slug)
    if nev:
        values = _Pivot(n_rows, keyed[2], codes.types, vocab.types, stats[2])
        engagement = registry.ENGAGEMENT_EVENT_TYPES
        fillers.update(
            {
                "_service_sum": partial(values.column, "value_sum", "service_visit"),
                "_service_n": partial(values.column, "value_n", "service_visit"),
                "service_wait_max_days": partial(values.column, "value_max", "service_visit"),
                "engagement_events_30d": partial(types.total, "n_30", engagement),
                # the per-type window is 90 days (registry.TYPE_WINDOW_DAYS)
                "engagement_events_90d": partial(types.total, "n_window", engagement),
                "_engagement_prev30": partial(types.total, "n_prev30", engagement),
                "_charging_n": partial(types.column, "n", "charging_session"),
                "nps_last": partial(values.column, "value_last", "nps_response"),
                "nps_min": partial(values.column, "value_min", "nps_response"),
                "days_since_delivery": partial(values.column, "oldest", DELIVERY_EVENT),
                "order_value_last": partial(values.column, "value_last", ORDER_EVENT),
            }
        )
        for channel in schema.CHARGING_CHANNELS:
            fillers[f"_charging_{channel}"] = partial(channels.column, "n_charging", channel)
    # One float block, each column written once into its row of it.
    block = np.empty((len(fillers), n_rows))
    for k, fill in enumerate(fillers.values()):
        fill(block[k])
    return pd.DataFrame(block.T, columns=list(fillers), copy=False)


def first_event_columns(customers: pd.DataFrame, codes: Codes, vocab: Vocabulary) -> pd.DataFrame:
    """Type and channel of the first event as categories (codes mapped back to values)."""
    out = {}
    for name, code_col, raw, categories in (
        ("first_event_type", "_first_type_code", codes.types, vocab.first_type_categories),
        ("first_channel", "_first_channel_code", codes.channels, vocab.first_channel_categories),
    ):
        position = {value: i for i, value in enumerate(categories)}
        category_of_code = np.array([position.get(value, -1) for value in raw] + [-1])
        code = customers.pop(code_col).fillna(-1).to_numpy("int64")
        out[name] = pd.Categorical.from_codes(category_of_code[code], categories=categories)
    return pd.DataFrame(out, index=customers.index)


# --- pandas post-processing ----------------------------------------------------------------


def align_population(
    table: pd.DataFrame, customers: pd.DataFrame | None, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Rows: customers with pre-cutoff events or a lead created before the cutoff."""
    if customers is None or LEAD_CREATED_COL not in customers:
        return table
    created = pd.to_datetime(customers[LEAD_CREATED_COL])
    ids = customers[schema.ID_COL].astype("str")
    late = ids[created >= cutoff]
    if len(late):
        table = table[~_isin(table[schema.ID_COL], late)]
    early = ids[created < cutoff]
    missing = early[~_isin(early, table[schema.ID_COL])].drop_duplicates()
    if len(missing):
        table = pd.concat(
            [table, pd.DataFrame({schema.ID_COL: missing.to_numpy()})], ignore_index=True
        )
    return table


def _text(values: pd.Series) -> pa.Array:
    """A text column as one Arrow large-string array (for Arrow's hash lookups)."""
    return pa.array(values, from_pandas=True).cast(pa.large_string())


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` for text ids, through Arrow's hash lookup (pandas' text isin
    loops in Python)."""
    try:
        column, value_set = _text(values), _text(allowed).unique()
    except (pa.ArrowException, TypeError):
        return values.isin(allowed).to_numpy()
    found = pc.is_in(column, value_set=value_set, skip_nulls=False)
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def fill_empty_aggregates(
    table: pd.DataFrame, vocab: Vocabulary, windows: tuple[int, ...], nev: bool
) -> pd.DataFrame:
    """A count or sum over no events is 0 (NULL from SQL or a customer without events)."""
    zero = [
        "n_events_total",
        "active_days_total",
        "_amount_sum",
        "_amount_n",
        "_n_last30",
        "_n_prev30",
        "_amount_last30",
        "_amount_prev30",
    ]
    for days in windows:
        zero += [f"n_events_{days}d", f"amount_sum_{days}d", f"active_days_{days}d"]
    for slug in vocab.types:
        names = registry.event_type_feature_names(slug)
        zero += [names["count"], names["count_window"]]
    zero += [f"_channel_{slug}" for slug in vocab.channels]
    if nev:
        zero += [
            "_service_sum",
            "_service_n",
            "engagement_events_30d",
            "engagement_events_90d",
            "_engagement_prev30",
            "_charging_n",
            *(f"_charging_{c}" for c in schema.CHARGING_CHANNELS),
        ]
    table[zero] = table[zero].fillna(0.0)
    return table


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or missing."""
    return numerator / denominator.where(denominator > 0)


def derive_core(table: pd.DataFrame, vocab: Vocabulary) -> pd.DataFrame:
    """Add the means, gap statistics, trends and per-type and per-channel shares."""
    out = {
        "amount_sum_total": table["_amount_sum"],
        "amount_mean": _ratio(table["_amount_sum"], table["_amount_n"]),
        "gap_mean_days": _ratio(table["_gap_sum"], table["_gap_n"]),
        "trend_events_30d": table["_n_last30"] - table["_n_prev30"],
        "trend_events_ratio_30d": (table["_n_last30"] + 1) / (table["_n_prev30"] + 1),
        "trend_amount_30d": table["_amount_last30"] - table["_amount_prev30"],
    }
    n = table["_gap_n"]
    variance = (table["_gap_sumsq"] - table["_gap_sum"] ** 2 / n.where(n > 0)) / (n - 1).where(
        n > 1
    )
    out["gap_std_days"] = np.sqrt(variance.clip(lower=0))
    out["recency_to_gap_mean"] = _ratio(table["recency_days"], out["gap_mean_days"])
    for slug in vocab.types:
        names = registry.event_type_feature_names(slug)
        out[names["share"]] = _ratio(table[names["count"]], table["n_events_total"])
    for slug in vocab.channels:
        out[registry.channel_feature_name(slug)] = _ratio(
            table[f"_channel_{slug}"], table["n_events_total"]
        )
    return pd.concat([table, pd.DataFrame(out, index=table.index)], axis=1)


def derive_nev(table: pd.DataFrame) -> pd.DataFrame:
    """Add funnel depth, service wait, engagement trend, ownership and the charging mix."""
    depth = pd.Series(0.0, index=table.index)
    for stage_depth, stage in enumerate(schema.FUNNEL_STAGES[1:], start=1):
        reached = table[registry.event_type_feature_names(stage)["count"]] > 0
        depth = depth.where(~reached, float(stage_depth))
    out = {
        "funnel_depth": depth,
        "service_wait_mean_days": _ratio(table["_service_sum"], table["_service_n"]),
        "engagement_trend_30d": table["engagement_events_30d"] - table["_engagement_prev30"],
        "is_owner": (table[registry.event_type_feature_names(DELIVERY_EVENT)["count"]] > 0).astype(
            "float64"
        ),
    }
    for channel in schema.CHARGING_CHANNELS:
        out[f"charging_share_{channel}"] = _ratio(
            table[f"_charging_{channel}"], table["_charging_n"]
        )
    return pd.concat([table, pd.DataFrame(out, index=table.index)], axis=1)


def attach_attributes(
    table: pd.DataFrame, customers: pd.DataFrame, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Add the customer attributes (schema vocabularies) and the days since lead creation.

    Each table row takes the first customers row of its id (none: missing attributes).
    """
    keep = [c for c in registry.ATTRIBUTE_ORDER if c in customers]
    at = _positions(table[schema.ID_COL], customers[schema.ID_COL])

    def take(values: np.ndarray, missing: float) -> np.ndarray:
        return np.append(values, missing)[at]  # position -1: the appended missing value

    columns: dict[str, Any] = {}
    for name in keep:
        values = customers[name]
        if name in registry.CATEGORICAL_ATTRIBUTES:
            codes, categories = _category_codes(values, registry.CATEGORICAL_ATTRIBUTES[name])
            columns[name] = pd.Categorical.from_codes(take(codes, -1), categories=categories)
        elif name in registry.NUMERIC_ATTRIBUTES:
            number = pd.to_numeric(values, errors="coerce").to_numpy("float64", na_value=np.nan)
            columns[name] = take(number, np.nan)
    if LEAD_CREATED_COL in customers:
        created = pd.to_datetime(customers[LEAD_CREATED_COL])
        days = ((cutoff - created) / pd.Timedelta(days=1)).to_numpy("float64", na_value=np.nan)
        columns["days_since_lead_created"] = take(days, np.nan)
    attributes = pd.DataFrame(columns, index=pd.RangeIndex(len(table)))
    return pd.concat([table.reset_index(drop=True), attributes], axis=1)


def _positions(ids: pd.Series, lookup: pd.Series) -> np.ndarray:
    """Position in ``lookup`` of each id's first occurrence, -1 where absent (text ids,
    through Arrow's hash lookup)."""
    found = pc.index_in(
        _text(ids.astype("str")), value_set=_text(lookup.astype("str")), skip_nulls=True
    )
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _category_codes(values: pd.Series, vocabulary: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Codes (-1: missing) and categories: the schema vocabulary, widened (sorted) if the data
    hold other values."""
    if values.dtype != "str":
        values = values.astype("object").where(values.notna())
        present = {str(v) for v in pd.unique(values.dropna())}
        categories = list(vocabulary) + sorted(present - set(vocabulary))
        return pd.Categorical(values, categories=categories).codes.astype(np.int64), categories
    text = _text(values)
    present = set(pc.unique(text.drop_null()).to_pylist())
    categories = list(vocabulary) + sorted(present - set(vocabulary))
    codes = pc.index_in(text, value_set=pa.array(categories, pa.large_string()))
    return codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), categories


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name in table:
        return table[name].astype("float64")
    return pd.Series(np.nan, index=table.index)


def _capped(values: pd.Series, scale: float) -> pd.Series:
    return (values / scale).clip(0, 1)


def _nanmean(parts: list[pd.Series]) -> pd.Series:
    return pd.concat(parts, axis=1).mean(axis=1, skipna=True)


def _rank(values: pd.Series | None, order: Sequence[str], reverse: bool = False) -> pd.Series:
    if values is None:
        return pd.Series(dtype="float64")
    ranks = _mapped(values, {label: i / (len(order) - 1) for i, label in enumerate(order)})
    return 1 - ranks if reverse else ranks


def _mapped(values: pd.Series, mapping: dict[str, float], default: float = np.nan) -> pd.Series:
    """``mapping[str(value)]`` per row (``default`` for other values, NaN where missing);
    a categorical maps its categories only."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = [mapping.get(str(c), default) for c in values.cat.categories]
        codes = values.cat.codes.to_numpy()
        return pd.Series(np.array([*lookup, np.nan])[codes], index=values.index)  # -1: last
    mapped = values.astype("str").map(mapping).astype("float64").fillna(default)
    return mapped.where(values.notna())


def attach_persona_dimensions(table: pd.DataFrame) -> pd.DataFrame:
    """Scores 0-1 for the six persona dimensions (formulas in the registry meanings)."""
    idx = table.index

    def count(event_type: str, windowed: bool = False) -> pd.Series:
        names = registry.event_type_feature_names(event_type)
        return _column(table, names["count_window" if windowed else "count"])

    owner = _column(table, "is_owner") > 0
    income = _rank(table.get("income_band"), schema.INCOME_BANDS).reindex(idx)
    city = _rank(table.get("city_tier"), schema.CITY_TIERS, reverse=True).reindex(idx)
    youth = ((60 - _column(table, "age")) / 40).clip(0, 1)
    budget = ((_column(table, "budget") - 100_000) / 400_000).clip(0, 1)
    charging = _capped(count("charging_session", windowed=True), 36).where(owner)
    smart_use = _capped(
        count("ota_feature_use", windowed=True) + count("driver_assist_use", windowed=True), 30
    ).where(owner)
    channel = table.get("acquisition_channel")
    social_channel = (
        _mapped(channel, dict.fromkeys(("referral", "private_domain", "event"), 1.0), 0.0)
        if channel is not None
        else pd.Series(np.nan, index=idx)
    )
    public_fast = _column(table, "charging_share_public") + _column(table, "charging_share_fast")
    multi_car = (
        (_column(table, "cars_in_household") >= 2)
        .astype("float64")
        .where(_column(table, "cars_in_household").notna())
    )
    scores = {
        "persona_dim_demographics": _nanmean([income, city, youth]),
        "persona_dim_consumption_behaviour": _nanmean([budget, charging]),
        "persona_dim_technology_acceptance": _nanmean(
            [
                _capped(count("configurator_session"), 5),
                _capped(count("app_login", windowed=True), 30),
                smart_use,
            ]
        ),
        "persona_dim_social_network": _nanmean(
            [
                _capped(count("community_post", windowed=True), 6),
                _capped(count("referral_made"), 2),
                social_channel,
            ]
        ),
        "persona_dim_values": _nanmean(
            [
                _column(table, "nps_last") / 10,
                1 - _capped(count("complaint"), 3),
                _capped(count("content_view", windowed=True), 20),
            ]
        ),
        "persona_dim_lifestyle": _nanmean(
            [
                public_fast,
                _capped(count("driver_assist_use", windowed=True), 20).where(owner),
                _capped(_column(table, "children"), 2),
                multi_car,
            ]
        ),
    }
    return pd.concat([table, pd.DataFrame(scores, index=idx)], axis=1)


def finalise(
    table: pd.DataFrame,
    vocab: Vocabulary,
    windows: tuple[int, ...],
    nev: bool,
) -> pd.DataFrame:
    """The registry's columns in registry order, float64 or category, sorted by customer id."""
    specs = registry.feature_specs(
        windows, _labels(vocab.types), _labels(vocab.channels), nev=nev, attributes=True
    )
    names = [s.name for s in specs if s.name in table or not s.source.startswith("customers:")]
    table = table.reindex(columns=[schema.ID_COL, *names])
    table["first_event_type"] = _as_category(table["first_event_type"], vocab.first_type_categories)
    table["first_channel"] = _as_category(table["first_channel"], vocab.first_channel_categories)
    numeric = [
        n
        for n in names
        if not isinstance(table[n].dtype, pd.CategoricalDtype) and table[n].dtype != "float64"
    ]
    if numeric:
        table[numeric] = table[numeric].astype("float64")
    table[schema.ID_COL] = table[schema.ID_COL].astype("str")
    if not table[schema.ID_COL].is_monotonic_increasing:
        table = table.sort_values(schema.ID_COL, kind="stable")
    return table.reset_index(drop=True)


def _as_category(values: pd.Series, categories: list[str]) -> pd.Series:
    """``values`` as a category with exactly ``categories`` (rows added later may be NaN)."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == categories:
        return values
    text = values.astype("object").where(values.notna())
    return pd.Series(pd.Categorical(text, categories=categories), index=values.index)


def _labels(groups: dict[str, list[str]]) -> list[str]:
    """Slugs of a vocabulary: column names depend only on slugs."""
    return list(groups)
