"""The value study's findings in words (the notebook's ``headline`` cell).

May import the ``features.value`` study.
"""

from __future__ import annotations

from features.value.study import ValueResults, headline_metrics


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def headline(results: ValueResults) -> str:
    """Findings: the chosen model's ranking and total error beside the baselines and oracle."""
    m = headline_metrics(results)
    lines = [
        "### Findings",
        "",
        f"- **{m['model_name']}** (best on validation, {m['validation_scheme']}) ranks "
        f"{m['n_customers']:,} customers with normalised Gini **{m['gini_normalised']:.3f}** "
        f"(Spearman {m['spearman']:.3f}); its top decile holds "
        f"{m['top_decile_capture']:.0%} of the realised value over {m['horizon_days']} days.",
        f"- Predicted total vs realised: {_pct(m['holdout_value_error'])} "
        f"({m['predicted_total']:,.0f} vs {m['realised_total']:,.0f} CNY).",
        f"- Naive (value of the previous {m['horizon_days']} days): Gini "
        f"{m['baseline_gini_normalised']:.3f}, total {_pct(m['baseline_holdout_value_error'])}.",
    ]
    if m["bgnbd_gini_normalised"] is not None:
        lines.append(
            f"- BG/NBD + Gamma-Gamma: Gini {m['bgnbd_gini_normalised']:.3f}, total "
            f"{_pct(m['bgnbd_holdout_value_error'])}, purchase days "
            f"{_pct(m['bgnbd_holdout_count_error'])}."
        )
    if m["oracle_gini_normalised"] is not None:
        low, high = m["oracle_gini_share_interval"]
        lines.append(
            f"- Oracle (the simulation's expected value): Gini {m['oracle_gini_normalised']:.3f}; "
            f"the model reaches {m['oracle_gini_share']:.1%} of it (95% bootstrap interval over "
            f"the customers {low:.1%}-{high:.1%})."
        )
    if m["component_shares"]:
        mix = ", ".join(f"{k} {v:.0%}" for k, v in m["component_shares"].items())
        lines.append(f"- Realised value by stream over the data: {mix} (plan: 35/45/15/5).")
    return "\n".join(lines)
