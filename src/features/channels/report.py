"""The channels study's findings in words (the notebook's ``headline`` cell).

May import the ``features.channels`` study.
"""

from __future__ import annotations

from features.channels.plots import METHOD_LABELS
from features.channels.study import ChannelResults, headline_metrics


def headline(results: ChannelResults) -> str:
    """Findings: journeys, attribution against truth, the MMM and the budget."""
    m = headline_metrics(results)
    lines = ["### Findings", "",
             f"- **{m['n_journeys']:,} journeys**, {m['n_conversions']:,} conversions "
             f"({m['conversion_rate']:.1%}); lookback {results.params.lookback_days} days."]  # fmt: skip
    mae = m["attribution_share_mae"]
    if mae:
        best = m["best_attribution_method"]
        ranked = ", ".join(f"{METHOD_LABELS[k]} {v:.1f}" for k, v in sorted(mae.items(),
                                                                             key=lambda kv: kv[1]))  # fmt: skip
        lines.append(
            f"- Against the true shares of incremental orders, **{METHOD_LABELS[best]}** comes "
            f"closest: mean absolute error {mae[best]:.1f} percentage points per channel, "
            f"against {mae['last_touch']:.1f} for the last-touch report (all methods: {ranked})."
        )
        truth = results.shares["truth"]
        last = results.shares["last_touch"]
        store = "store_walk_in"
        if store in truth:
            lines.append(
                f"- Last touch hands store walk-ins {last[store]:.0%} of the credit for "
                f"{truth[store]:.0%} of the incremental orders: walk-ins come at the end of "
                "journeys that were going to order anyway."
            )
    if results.roi is not None:
        lines.append(f"- Media-mix model fitted in {m['mmm_fit_seconds']:.1f} s (MAP with a "
                     "Laplace approximation for the intervals).")  # fmt: skip
        if m["mmm_roi_mape"] is not None:
            lines.append(
                f"- ROI (incremental orders per 10,000 CNY) off the truth by "
                f"{m['mmm_roi_mape']:.0%} on average over the paid channels; the 90% intervals "
                f"cover the true ROI for {m['mmm_interval_coverage']:.0%} of them."
            )
        if m.get("cost_per_order") is not None:
            lines.append(f"- Paid spend per order: {m['cost_per_order']:,.0f} CNY "
                         "(industry figure 3,872 CNY per acquired customer).")  # fmt: skip
    if results.budget is not None:
        b = results.budget
        moves = ", ".join(f"{r.channel.replace('_', ' ')} {r.change:+.0%}" for r in b.itertuples())
        line = (
            f"- Budget at the same total within ±{results.params.budget_change:.0%} per "
            f"channel: {moves}; the model promises "
            f"{m['reallocation_predicted_lift']:+.1%} orders"
        )
        if m["reallocation_true_lift"] is not None:
            line += (
                f", **the generator re-run with that budget gives "
                f"{m['reallocation_true_lift']:+.1%}** (the best reallocation within "
                f"the bounds, found on the truth itself: "
                f"{m['reallocation_oracle_lift']:+.1%})"
            )
        lines.append(line + ".")
    for note in results.inputs.notes:
        lines.append(f"- Note: {note}.")
    return "\n".join(lines)
