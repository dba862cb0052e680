"""Plain-words report of a study: baseline verdicts, the summary and the headline findings.

Owns the text the notebooks show and save (report.txt and the "Findings" cell); it reads
``StudyResults`` and computes nothing new.

May import the foundation and ``features.propensity.params``, ``.study`` and ``.explain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from features.propensity import explain
from features.propensity.params import StudyParams
from features.propensity.study import AUC_TIE, HEURISTIC_WORDS, StudyResults, feature_describer


@dataclass(frozen=True)
class _Wording:
    """How one text words the study's closing figures, as ``str.format`` templates.

    Every template may read the metrics, ``contact_cost`` and ``value_per_positive``.

    Attributes:
        oracle: the oracle comparison (used only when the metrics have ``oracle_roc_auc``).
        calibration: the calibration sentence.
        buckets: high versus low bucket; also reads ``high_share``, ``high_rate``,
            ``low_share`` and ``low_rate``.
        threshold: the most profitable threshold; also reads ``threshold``,
            ``share_contacted`` and ``realised_profit``.
    """

    oracle: str
    calibration: str
    buckets: str
    threshold: str


_SUMMARY_WORDING = _Wording(
    oracle=(
        "The oracle (the simulation's true propensities) reaches ROC AUC "
        "{oracle_roc_auc:.3f}; the model gets {model_to_oracle_ratio:.1%} of it."
    ),
    calibration=(
        "Calibration (Platt scaling on out-of-fold training scores): Brier {brier:.4f}, "
        "ECE {ece:.3f}."
    ),
    buckets=(
        "High bucket (top {high_share:.0%}) realised rate {high_rate:.1%} vs low bucket "
        "{low_rate:.1%}."
    ),
    threshold=(
        "With contact cost {contact_cost:,.0f} and value {value_per_positive:,.0f} "
        "per positive, the best threshold on the test part is {threshold:.2f} "
        "(contact {share_contacted:.0%}, profit {realised_profit:,.0f})."
    ),
)
_HEADLINE_WORDING = _Wording(
    oracle=(
        "- It reaches **{model_to_oracle_ratio:.0%} of the best achievable** score "
        "(oracle ROC AUC {oracle_roc_auc:.3f}, from the simulation's true propensities)."
    ),
    calibration=(
        "- The top 10% of scores hold **{lift_at_10pct:.1f}×** the average rate; "
        "probabilities are calibrated (expected calibration error {ece:.3f})."
    ),
    buckets=(
        "- High bucket (top {high_share:.0%}): realised rate **{high_rate:.1%}**; low bucket "
        "(bottom {low_share:.0%}): {low_rate:.1%}."
    ),
    threshold=(
        "- At ¥{contact_cost:,.0f} per contact and ¥{value_per_positive:,.0f} per "
        "success, contact scores above {threshold:.2f} ({share_contacted:.0%} "
        "of customers): realised profit ¥{realised_profit:,.0f} on the test part."
    ),
)


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


def _heuristic_words(results: StudyResults) -> str:
    """Plain words for the one-feature baseline's feature (its name when it has none)."""
    return HEURISTIC_WORDS.get(results.heuristic.feature, results.heuristic.feature)


def _closing_lines(results: StudyResults, params: StudyParams, wording: _Wording) -> list[str]:
    """The sentences both texts close with, in ``wording``.

    Oracle (when known), calibration, high and low bucket (when both exist) and the most
    profitable threshold on the test part.
    """
    m = results.metrics
    figures: dict[str, Any] = {
        **m,
        "contact_cost": params.contact_cost,
        "value_per_positive": params.value_per_positive,
    }
    lines = []
    if "oracle_roc_auc" in m:
        lines.append(wording.oracle.format(**figures))
    lines.append(wording.calibration.format(**figures))
    buckets = results.buckets.set_index("bucket")
    if {"high", "low"} <= set(buckets.index):
        for name in ("high", "low"):
            figures[f"{name}_share"] = buckets.loc[name, "share"]
            figures[f"{name}_rate"] = buckets.loc[name, "realised_rate"]
        lines.append(wording.buckets.format(**figures))
    best = results.thresholds.loc[results.thresholds["realised_profit"].idxmax()]
    for column in ("threshold", "share_contacted", "realised_profit"):
        figures[column] = best[column]
    lines.append(wording.threshold.format(**figures))
    return lines


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
    heuristic_name = f"one-feature ({_heuristic_words(results)})"
    lines.append(verdict(heuristic_name, m["roc_auc"], m["baseline_heuristic_roc_auc"]))
    lines += _closing_lines(results, params, _SUMMARY_WORDING)
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
    comparisons = (
        f"logistic regression {m['baseline_logreg_roc_auc']:.3f}, "
        f"one-feature rule ({_heuristic_words(results)}) {m['baseline_heuristic_roc_auc']:.3f}"
    )
    beats = m["beats_logreg"] and m["beats_heuristic"]
    lines.append(
        ("- It beats both baselines: " if beats else "- It does **not** beat every baseline: ")
        + comparisons
        + "."
    )
    lines += _closing_lines(results, params, _HEADLINE_WORDING)
    top = ", ".join(
        explain.safe_describe(name, feature_describer(data))
        for name in results.importance["feature"].head(3)
    )
    lines.append(f"- Strongest drivers (mean |SHAP|): {top}.")
    return "\n".join(lines)
