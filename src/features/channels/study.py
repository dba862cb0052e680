"""The channels study of notebook 07: path attribution, the media-mix model and the budget.

Path attribution (``features.channels.attribution``) credits conversions to the channels on
each journey's path; the media-mix model (``features.channels.mmm``) reads the weekly series
of spend and orders; the budget optimiser moves spend between paid channels within
``budget_change`` at the same total. On synthetic data every figure is scored against the
generator's truth: each method's error in channel shares of incremental orders, the MMM's
ROI error and interval coverage, and the true lift of the recommended budget (the
generator's expected orders under that budget, not the model's promise).

May import the foundation, ``features.data`` and the ``features.channels`` modules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.channels import attribution
from features.channels.data import ChannelInputs, read_journeys, read_spend
from features.channels.mmm import MediaMixModel, optimise_budget
from features.channels.params import ChannelParams
from features.data import synth_channels

CURVE_FACTORS = np.round(np.linspace(0.0, 2.0, 21), 2)
ROI_UNIT = 10_000.0  # ROI as incremental orders per 10,000 CNY of spend


@dataclass
class ChannelResults:
    """Everything the notebook shows and saves."""

    params: ChannelParams
    inputs: ChannelInputs
    paths: pd.DataFrame
    credit: pd.DataFrame  # channel x method, conversions
    shares: pd.DataFrame  # channel x method (+ truth), shares of conversions
    by_segment: pd.DataFrame | None
    transitions: pd.DataFrame
    removal: pd.Series
    path_table: pd.DataFrame
    share_mae: dict[str, float] = field(default_factory=dict)
    mmm: MediaMixModel | None = None
    mmm_seconds: float | None = None
    roi: pd.DataFrame | None = None
    curves: pd.DataFrame | None = None
    weekly_parts: pd.DataFrame | None = None
    budget: pd.DataFrame | None = None
    predicted_lift: float | None = None
    true_lift: float | None = None
    best_true_lift: float | None = None
    world: synth_channels.ChannelWorld | None = None
    truth: pd.DataFrame | None = None


def _synthetic_inputs(params: ChannelParams) -> tuple[ChannelInputs, synth_channels.ChannelData]:
    data = synth_channels.simulate_channels(params.n_customers, params.seed, params.n_weeks)
    outcomes = data.outcomes.rename(columns={"persona": "segment"})
    weeks = pd.DatetimeIndex(data.weekly["week"])
    inputs = ChannelInputs(data.touches, outcomes, data.world.plan,
                           data.weekly["orders"].to_numpy(dtype=float), weeks,
                           synth_channels.PAID_CHANNELS)  # fmt: skip
    return inputs, data


def load_inputs(params: ChannelParams) -> tuple[ChannelInputs, synth_channels.ChannelData | None]:
    """The study's inputs (and the synthetic data with their truth, when synthetic)."""
    if params.synthetic:
        return _synthetic_inputs(params)
    touches, outcomes, notes = read_journeys(params.source_path, params.id_col,
                                             params.time_col, params.channel_col,
                                             params.converted_col)  # fmt: skip
    inputs = ChannelInputs(touches, outcomes, notes=notes)
    if params.spend_path:
        inputs.spend, inputs.orders, inputs.weeks, inputs.paid_channels = read_spend(
            params.spend_path, params.channel_col, params.outcome_col
        )
    return inputs, None


def share_errors(shares: pd.DataFrame, truth: pd.Series) -> dict[str, float]:
    """Mean absolute error of each method's channel shares against the true shares, in
    percentage points, over the union of channels."""
    idx = shares.index.union(truth.index)
    t = truth.reindex(idx).fillna(0.0)
    return {m: round(float((shares[m].reindex(idx).fillna(0.0) - t).abs().mean() * 100), 3)
            for m in shares.columns}  # fmt: skip


def _mmm_part(results: ChannelResults, data: synth_channels.ChannelData | None) -> None:
    inp, p = results.inputs, results.params
    start = time.perf_counter()
    model = MediaMixModel(inp.paid_channels, inp.spend, inp.orders).fit(seed=p.seed)
    results.mmm, results.mmm_seconds = model, time.perf_counter() - start
    roi = model.contributions()
    for col in ("orders_per_cny", "orders_per_cny_low", "orders_per_cny_high"):
        roi[col.replace("orders_per_cny", "roi")] = roi[col] * ROI_UNIT
    results.curves = model.response_curves(CURVE_FACTORS)
    base, media = model.predict()
    parts = pd.DataFrame(media, columns=list(inp.paid_channels), index=inp.weeks)
    parts.insert(0, "base", base)
    parts["observed"] = inp.orders
    results.weekly_parts = parts
    factors = optimise_budget(model, p.budget_change)
    window = inp.spend[-len(inp.orders) :].sum(axis=0)
    now = model.channel_response(model.theta).sum(axis=0)
    new = model.channel_response(model.theta, inp.spend * factors[None, :]).sum(axis=0)
    results.budget = pd.DataFrame({
        "channel": list(inp.paid_channels), "current": window, "recommended": window * factors,
        "change": factors - 1, "current_orders": now, "predicted_orders": new,
    })  # fmt: skip
    results.predicted_lift = (
        model.total_orders(factors) / model.total_orders(np.ones(len(factors))) - 1
    )
    if data is not None:
        world = data.world
        truth = data.truth.loc[list(inp.paid_channels)]
        roi["true_roi"] = truth["incremental_orders"].to_numpy() / window * ROI_UNIT
        roi["true_contribution"] = truth["incremental_orders"].to_numpy()
        roi["covered"] = (roi["roi_low"] <= roi["true_roi"]) & (roi["true_roi"] <= roi["roi_high"])
        base_orders = world.expected_orders(by="total")
        results.true_lift = world.expected_orders(world.scaled_plan(factors), by="total") / (
            base_orders) - 1  # fmt: skip
        results.best_true_lift = _best_true_lift(world, p.budget_change, base_orders)
        results.curves = results.curves.merge(_true_curves(world), on=["channel", "factor"])
    results.roi = roi


def _true_curves(world: synth_channels.ChannelWorld) -> pd.DataFrame:
    rows = []
    for c, name in enumerate(synth_channels.PAID_CHANNELS):
        off = world.expected_orders(removed=name, by="total")
        for f in CURVE_FACTORS:
            factors = np.ones(len(synth_channels.PAID_CHANNELS))
            factors[c] = f
            rows.append({"channel": name, "factor": f, "true_orders":
                         world.expected_orders(world.scaled_plan(factors), by="total") - off})  # fmt: skip
    return pd.DataFrame(rows)


def _best_true_lift(world: synth_channels.ChannelWorld, change: float, base: float) -> float:
    """The lift an oracle reallocation (optimised on the truth itself) reaches."""
    from scipy import optimize

    spend = world.plan[world.burn_in :].sum(axis=0)
    sol = optimize.minimize(
        lambda f: -world.expected_orders(world.scaled_plan(f), by="total") / base,
        np.ones(len(spend)), method="SLSQP", bounds=[(1 - change, 1 + change)] * len(spend),
        constraints=[{"type": "eq", "fun": lambda f: float(f @ spend / spend.sum() - 1)}],
    )  # fmt: skip
    return float(-sol.fun - 1)


def run_channel_study(params: ChannelParams) -> ChannelResults:
    """Load, attribute, fit the MMM and optimise the budget; score against truth."""
    inputs, data = load_inputs(params)
    print(f"{len(inputs.outcomes):,} journeys, {len(inputs.touches):,} touches", flush=True)
    paths = attribution.build_paths(inputs.touches, inputs.outcomes, params.lookback_days)
    if paths["converted"].sum() == 0:
        raise ValueError(f"{params.data_source}: no converting journey within lookback_days = "
                         f"{params.lookback_days}: nothing to attribute")  # fmt: skip
    credit = attribution.attribute(paths, half_life_days=params.half_life_days)
    shares = attribution.credit_shares(credit)
    by_segment = (attribution.attribute_by_segment(paths, half_life_days=params.half_life_days)
                  if "segment" in paths else None)  # fmt: skip
    results = ChannelResults(params, inputs, paths, credit, shares, by_segment,
                             attribution.markov_transitions(paths),
                             attribution.removal_effects(paths),
                             attribution.path_table(paths))  # fmt: skip
    if data is not None:
        results.world, results.truth = data.world, data.truth
        results.share_mae = share_errors(shares, data.truth["share"])
        results.shares["truth"] = data.truth["share"].reindex(shares.index).fillna(0.0)
    if inputs.spend is not None:
        print("fitting the media-mix model", flush=True)
        _mmm_part(results, data)
    return results


def headline_metrics(results: ChannelResults) -> dict[str, Any]:
    """metrics.json: attribution errors, MMM figures, the budget's lifts."""
    paths = results.paths
    mae = results.share_mae
    out: dict[str, Any] = {
        "n_journeys": int(len(paths)),
        "n_conversions": int(paths["converted"].sum()),
        "conversion_rate": round(float(paths["converted"].mean()), 4),
        "n_weeks": None if results.inputs.orders is None else int(len(results.inputs.orders)),
        "attribution_share_mae": mae or None,
        "best_attribution_method": min(mae, key=mae.get) if mae else None,
        "mmm_roi_mape": None,
        "mmm_interval_coverage": None,
        "mmm_fit_seconds": None if results.mmm_seconds is None else round(results.mmm_seconds, 2),
        "reallocation_predicted_lift": None if results.predicted_lift is None
        else round(float(results.predicted_lift), 5),
        "reallocation_true_lift": None if results.true_lift is None
        else round(float(results.true_lift), 5),
        "reallocation_oracle_lift": None if results.best_true_lift is None
        else round(float(results.best_true_lift), 5),
        "budget_change": results.params.budget_change,
    }  # fmt: skip
    if results.roi is not None and "true_roi" in results.roi:
        roi = results.roi
        out["mmm_roi_mape"] = round(float((roi["roi"] / roi["true_roi"] - 1).abs().mean()), 4)
        out["mmm_interval_coverage"] = round(float(roi["covered"].mean()), 4)
    if results.inputs.spend is not None and results.inputs.orders is not None:
        window = results.inputs.spend[-len(results.inputs.orders) :].sum()
        out["cost_per_order"] = round(float(window / results.inputs.orders.sum()), 1)
    if mae:
        out["last_touch_share_mae"] = mae.get("last_touch")
    return out


def channel_credit_table(results: ChannelResults) -> pd.DataFrame:
    """attribution.csv: per channel, conversions credited by each method, shares and truth."""
    credit = results.credit.add_suffix("_credit")
    shares = results.shares.add_suffix("_share")
    table = pd.concat([credit, shares], axis=1)
    table.index.name = schema.CHANNEL_COL
    return table.reset_index()
