"""The identity study's findings in words (the notebook's ``headline`` cell).

May import the ``features.identity`` study.
"""

from __future__ import annotations

from features.identity.study import IdentityResults, headline_metrics

PLAN_ASKED_TWICE = (
    0.426  # consumers asked again for information they gave (../shared/SEED_FACTS.md)
)


def headline(results: IdentityResults) -> str:
    """Records to persons, accuracy against the truth and the baseline, asked twice."""
    m = headline_metrics(results)
    lines = ["### Findings", "",
             f"- **{m['n_records']:,} records** from {m['n_sources']} sources resolved into "
             f"**{m['n_persons_found']:,} persons** at match probability ≥ "
             f"{m['match_threshold']:g} ({m['n_links']:,} links among {m['n_candidate_pairs']:,} "
             f"scored candidate pairs; {m['seconds']:.0f} s)."]  # fmt: skip
    if m.get("pairwise_f1") is not None:
        lines.append(
            f"- Against the true persons ({m['n_persons_true']:,}): pairwise precision "
            f"{m['pairwise_precision']:.3f}, recall {m['pairwise_recall']:.3f}, **F1 "
            f"{m['pairwise_f1']:.3f}**; cluster F1 {m['cluster_f1']:.3f}. The exact-rule "
            f"baseline (same phone, ID card, or name + birth date) gets pairwise F1 "
            f"{m['baseline_pairwise_f1']:.3f} (precision {m['baseline_pairwise_precision']:.3f}, "
            f"recall {m['baseline_pairwise_recall']:.3f}) and finds "
            f"{m['baseline_n_persons_found']:,} persons."
        )
        lines.append(f"- The best threshold on the truth would be {m['best_threshold_on_truth']:g} "
                     f"(F1 {m['best_pairwise_f1_on_truth']:.3f}); the chosen one was set "
                     "without looking at it.")  # fmt: skip
    after = m.get("asked_twice_after")
    lines.append(
        f"- Asked twice: {m['asked_twice_before']:.1%} of persons gave the same field to two "
        f"channels (the plans: {PLAN_ASKED_TWICE:.1%})"
        + (f"; with One-ID only **{after:.1%}** would still be asked again (their records stay "
           "under different one_ids)." if after is not None else
           "; without a true person column the rate after One-ID cannot be measured.")
    )  # fmt: skip
    if m.get("one_ids_kept_share") is not None:
        lines.append(f"- Re-run: {m['one_ids_kept_share']:.1%} of the previous records kept "
                     f"their one_id; {m['n_records_new']:,} records are new.")  # fmt: skip
    if "n_ids_before" in m:
        lines.append(f"- Event log rebuilt on one_id: {m['n_ids_before']:,} record ids became "
                     f"{m['n_ids_after']:,} one_ids ({m['n_events']:,} events).")  # fmt: skip
    return "\n".join(lines)
