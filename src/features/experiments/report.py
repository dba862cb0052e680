"""The A/B test study's findings in words (the notebook's ``headline`` cell).

May import the ``features.experiments`` study.
"""

from __future__ import annotations

from features.experiments.study import ExperimentResults, headline_metrics

BING_CUPED_REDUCTION = 0.5  # the variance cut Bing reported for CUPED


def _pct(value: float) -> str:
    return f"{value:.1%}"


def headline(results: ExperimentResults) -> str:
    """Findings: the day's decisions, error rates, CUPED, SRM, sequential, and truth checks."""
    m = headline_metrics(results)
    p = results.params
    aa = results.aa
    d = m["decisions"]
    lines = ["### Findings", "",
             f"- **{m['n_experiments']:,} experiments** ({m['n_units']:,} units, "
             f"{m['n_tests']:,} experiment × metric tests) read at {m['tests_per_second']:,.0f} "
             f"tests a second: **{d['ship']} ship**, {d['no ship']} no ship, "
             f"{d['inconclusive']} inconclusive, {d['guardrail breach']} guardrail breach; "
             f"{m['n_discoveries']} discoveries on the decision metrics "
             f"({', '.join(p.metrics)}) at a false discovery rate of {p.alpha:g}."]  # fmt: skip
    band = f"{aa['alpha_low'].iloc[0]:.1%}–{aa['alpha_high'].iloc[0]:.1%}"
    lines.append(
        f"- A/A self-check ({p.n_aa_simulations:,} random splits per metric): false-positive "
        f"rate {_pct(m['aa_false_positive_rate'])} fixed-horizon, "
        f"{_pct(m['aa_false_positive_rate_cuped'])} with CUPED, "
        f"{_pct(m['aa_false_positive_rate_sequential'])} with always-valid sequential "
        f"monitoring (valid at any look, so below α at the last), against "
        f"**{_pct(m['aa_false_positive_rate_peeking'])} when peeking** daily at a fixed-horizon "
        f"test; a valid rate falls in {band} around α = {p.alpha:g} "
        f"({'all checks pass' if m['aa_within_interval'] else '**a check fails**'})."
    )
    by_metric = ", ".join(
        f"{k} {v:.0%}" for k, v in m["cuped_variance_reduction_by_metric"].items()
    )
    lines.append(
        f"- CUPED's median variance cut per metric: {by_metric} (Bing reported about "
        f"{BING_CUPED_REDUCTION:.0%}). The cut follows the pre-period's correlation with the "
        "metric: large for engagement, close to nothing for rare binary outcomes."
    )
    for row in results.design.itertuples():
        lines.append(
            f"- Design for {row.metric}: detecting a {row.mde_lift:.0%} lift with "
            f"{p.power:.0%} power takes {row.units_per_arm:,} units per arm"
            + (f" ({row.days:,} days of today's traffic)" if row.days == row.days else "")
            + f", {row.units_per_arm_cuped:,} with CUPED."
        )
    lines.append(f"- Sample-ratio mismatch (χ² p < 0.001): {m['srm_flags']} experiment(s) "
                 "flagged and read as inconclusive.")  # fmt: skip
    if "fdr_realised" in m:
        lines += [
            "", "**Against the planted truth** (synthetic data):",
            f"- Realised false discovery rate {_pct(m['fdr_realised'])} "
            f"({m['n_false_discoveries']} of {m['n_discoveries']}); a plain p < {p.alpha:g} "
            f"per test would have had {_pct(m['baseline_naive_fdr'])} "
            f"({m['baseline_naive_discoveries']} 'wins')"
            + (f", and daily peeking {_pct(m['baseline_peeking_fdr'])} "
               f"({m['baseline_peeking_discoveries']} 'wins')"
               if "baseline_peeking_fdr" in m else "") + ".",
            f"- Power at the planted effects {_pct(m['empirical_power'])} (CUPED "
            f"{_pct(m['empirical_power_cuped'])}) against the design's promise of "
            f"{_pct(m['promised_power'])}; CUPED intervals cover the true effect in "
            f"{_pct(m['ci_coverage'])} of the tests.",
            f"- The planted sample-ratio mismatch was {'found' if m['srm_planted_found'] else '**missed**'}"
            + (f"; the planted novelty effect was "
               f"{'found' if m['novelty_planted_found'] else '**missed**'} "
               f"({m['novelty_false_flags']} false novelty flags)" if "novelty_planted" in m
               else "") + ".",
            f"- Decisions agree with the true effects' in {_pct(m['decision_agreement'])} of the "
            f"experiments: {m['ships_truly_better']} ships truly better, "
            f"{m['ships_not_better']} ships not better; {m['guardrail_harms_caught']} of "
            f"{m['guardrail_harms_planted']} planted guardrail harms caught, "
            f"{m['guardrail_false_breaches']} breaches raised on experiments without harm "
            f"(each guardrail is tested at α/2 one-sided, with no FDR control: a cautious rule).",
        ]  # fmt: skip
    for note in results.data.notes:
        lines.append(f"- Note: {note}.")
    return "\n".join(lines)
