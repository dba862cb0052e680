"""Plain-words report of a study: baseline verdicts, the summary and the headline findings.

Owns the text the notebooks show and save (report.txt and the "Findings" cell); it reads
``StudyResults`` and computes nothing new.

May import the foundation and ``features.propensity.params``, ``.study`` and ``.explain``.
"""

from __future__ import annotations

from features.propensity import explain
from features.propensity.params import StudyParams
from features.propensity.study import AUC_TIE, HEURISTIC_WORDS, StudyResults, feature_describer


def verdict(name: str, model_auc: float, baseline_auc: float) -> str:
    """One sentence: does LightGBM beat baseline ``name`` (ties within ``AUC_TIE`` do not)?"""
    gap = model_auc - baseline_auc
    if gap > AUC_TIE:
        return f"LightGBM beats the {name} baseline ({model_auc:.3f} vs {baseline_auc:.3f})."
    if gap >= -AUC_TIE:
        return (
            f"LightGBM does NOT beat the {name} baseline: a tie within {AUC_TIE} "
            f"({model_auc:.3f} vs {baseline_auc:.3f}); prefer the simpler model."
        )
    return (
        f"LightGBM does NOT beat the {name} baseline: it is worse "
        f"({model_auc:.3f} vs {baseline_auc:.3f}); prefer the baseline."
    )


def summarise(results: StudyResults, params: StudyParams) -> str:
    """Plain-words report of the study, generated from the results."""
    m = results.metrics
    data = results.data
    population = data.population
    if data.split == "time" and data.train_cutoff is not None:
        split_words = (
            f"out of time: trained on the snapshot at {data.train_cutoff.date()}, "
            f"tested on {data.test_cutoff.date()}"
        )
    else:
        split_words = f"stratified random holdout of {params.test_size:.0%}"
    outcome = {"conversion": "orders within", "churn": "churn within"}[data.task]
    lines = [
        f"{data.task.capitalize()} model on {m['n_test']:,} test {population} ({split_words}).",
    ]
    if data.source_kind != "table":
        lines.append(
            f"Target: {outcome} {params.horizon_days} days after the cutoff; "
            f"positive rate {m['positive_rate']:.1%} on the test part."
        )
    else:
        label = 1 if params.positive_label is None else params.positive_label
        lines.append(
            f"Target: {params.target} = {label!r}; positive rate "
            f"{m['positive_rate']:.1%} on the test part."
        )
    lines.append(
        f"LightGBM ROC AUC {m['roc_auc']:.3f}, PR AUC {m['pr_auc']:.3f}, top-decile lift "
        f"{m['lift_at_10pct']:.2f}x."
    )
    lines.append(verdict("logistic regression", m["roc_auc"], m["baseline_logreg_roc_auc"]))
    heuristic_name = (
        f"one-feature ({HEURISTIC_WORDS.get(results.heuristic.feature, results.heuristic.feature)})"
    )
    lines.append(verdict(heuristic_name, m["roc_auc"], m["baseline_heuristic_roc_auc"]))
    if "oracle_roc_auc" in m:
        lines.append(
            f"The oracle (the simulation's true propensities) reaches ROC AUC "
            f"{m['oracle_roc_auc']:.3f}; the model gets {m['model_to_oracle_ratio']:.1%} of it."
        )
    lines.append(
        f"Calibration (Platt scaling on out-of-fold training scores): Brier {m['brier']:.4f}, "
        f"ECE {m['ece']:.3f}."
    )
    high = results.buckets.set_index("bucket")
    if {"high", "low"} <= set(high.index):
        lines.append(
            f"High bucket (top {high.loc['high', 'share']:.0%}) realised rate "
            f"{high.loc['high', 'realised_rate']:.1%} vs low bucket "
            f"{high.loc['low', 'realised_rate']:.1%}."
        )
    best = results.thresholds.loc[results.thresholds["realised_profit"].idxmax()]
    lines.append(
        f"With contact cost {params.contact_cost:,.0f} and value {params.value_per_positive:,.0f} "
        f"per positive, the best threshold on the test part is {best['threshold']:.2f} "
        f"(contact {best['share_contacted']:.0%}, profit {best['realised_profit']:,.0f})."
    )
    top = ", ".join(results.importance["feature"].head(5))
    lines.append(f"Top features by mean |SHAP|: {top}.")
    return "\n".join(lines)


def headline(results: StudyResults, params: StudyParams) -> str:
    """The finding in a few sentences of Markdown, key figures in bold (the report's top)."""
    m = results.metrics
    data = results.data
    goal = {
        "conversion": f"order within {params.horizon_days} days",
        "churn": f"go silent (no contact) within {params.horizon_days} days",
    }[data.task]
    if data.source_kind == "table":
        goal = f"have {params.target} = {1 if params.positive_label is None else params.positive_label!r}"
    where = (
        f"out of time, on the snapshot of {data.test_cutoff.date()}"
        if data.split == "time" and data.test_cutoff is not None
        else "on a random holdout"
    )
    lines = [
        "### Findings\n",
        f"**Who will {goal}?** LightGBM ranks {m['n_test']:,} {data.population} {where} with "
        f"**ROC AUC {m['roc_auc']:.3f}** (positive rate {m['positive_rate']:.1%}).",
    ]
    heuristic = HEURISTIC_WORDS.get(results.heuristic.feature, results.heuristic.feature)
    comparisons = (
        f"logistic regression {m['baseline_logreg_roc_auc']:.3f}, "
        f"one-feature rule ({heuristic}) {m['baseline_heuristic_roc_auc']:.3f}"
    )
    beats = m["beats_logreg"] and m["beats_heuristic"]
    lines.append(
        ("- It beats both baselines: " if beats else "- It does **not** beat every baseline: ")
        + comparisons
        + "."
    )
    if "oracle_roc_auc" in m:
        lines.append(
            f"- It reaches **{m['model_to_oracle_ratio']:.0%} of the best achievable** score "
            f"(oracle ROC AUC {m['oracle_roc_auc']:.3f}, from the simulation's true propensities)."
        )
    lines.append(
        f"- The top 10% of scores hold **{m['lift_at_10pct']:.1f}×** the average rate; "
        f"probabilities are calibrated (expected calibration error {m['ece']:.3f})."
    )
    buckets = results.buckets.set_index("bucket")
    if {"high", "low"} <= set(buckets.index):
        lines.append(
            f"- High bucket (top {buckets.loc['high', 'share']:.0%}): realised rate "
            f"**{buckets.loc['high', 'realised_rate']:.1%}**; low bucket (bottom "
            f"{buckets.loc['low', 'share']:.0%}): {buckets.loc['low', 'realised_rate']:.1%}."
        )
    best = results.thresholds.loc[results.thresholds["realised_profit"].idxmax()]
    lines.append(
        f"- At ¥{params.contact_cost:,.0f} per contact and ¥{params.value_per_positive:,.0f} per "
        f"success, contact scores above {best['threshold']:.2f} ({best['share_contacted']:.0%} "
        f"of customers): realised profit ¥{best['realised_profit']:,.0f} on the test part."
    )
    top = ", ".join(
        explain.safe_describe(name, feature_describer(data))
        for name in results.importance["feature"].head(3)
    )
    lines.append(f"- Strongest drivers (mean |SHAP|): {top}.")
    return "\n".join(lines)
