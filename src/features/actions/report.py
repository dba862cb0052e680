"""The actions study's findings in words (the notebook's ``headline`` cell).

May import the ``features.actions`` study.
"""

from __future__ import annotations

from features.actions.study import ActionsResults, headline_metrics

PLAN_LINE_ACCURACY = 0.92  # the plans' cited recommendation accuracy


def headline(results: ActionsResults) -> str:
    """Findings: the chosen learner against the risk ranking, the oracle, policy and lines."""
    m = headline_metrics(results)
    lines = [
        "### Findings",
        "",
        f"- **{m['model_name']}** (best Qini on validation) ranks the {m['n_test']:,} test "
        f"contacts with normalised Qini **{m['qini']:.3f}** (AUUC {m['auuc']:.3f}); ranking by "
        f"risk without contact scores {m['baseline_risk_qini']:.3f}, random targeting 0. "
        f"Difference to the risk ranking: {m['qini_minus_risk']:+.3f} (95% bootstrap interval "
        f"{m['qini_minus_risk_low']:+.3f} to {m['qini_minus_risk_high']:+.3f}).",
        f"- Uplift among the top 10/20/30% by estimated effect: {m['uplift_at_10pct']:+.1%}, "
        f"{m['uplift_at_20pct']:+.1%}, {m['uplift_at_30pct']:+.1%} (success rate of the "
        "contacted minus the others').",
    ]
    if m["oracle_qini"] is not None:
        share = m["qini"] / m["oracle_qini"] if m["oracle_qini"] else float("nan")
        lines.append(
            f"- Oracle (true effects): Qini {m['oracle_qini']:.3f}; the model reaches "
            f"{share:.0%} of it; PEHE {m['pehe']:.3f}."
        )
    lines.append(
        f"- Policy at the budget's share: {m['incremental_per_1000']:+.1f} incremental successes "
        f"per 1,000 contacts vs {m['risk_policy_incremental_per_1000']:+.1f} for the risk-ranked "
        f"list; today {m['n_contact']:,} of {m['n_ranked']:,} customers get a contact and "
        f"{m['n_sleeping_dogs']:,} sleeping dogs are left alone."
    )
    if m["next_line_top1"] is not None:
        lines.append(
            f"- Next model line ({m['next_line_n_lines']} lines): top-1 accuracy "
            f"{m['next_line_top1']:.0%}, top-2 {m['next_line_top2']:.0%}, against "
            f"{m['next_line_baseline_top1']:.0%} for the most popular line per persona and "
            f"budget band (the plans cite {PLAN_LINE_ACCURACY:.0%}, without saying among how "
            "many lines or against which baseline)."
        )
    return "\n".join(lines)
