"""The voice study's findings in words (the notebook's ``headline`` cell).

May import the ``features.voice`` study.
"""

from __future__ import annotations

from features.voice.study import VoiceResults, headline_metrics

PLAN_SENTIMENT_ACCURACY = 0.88  # the plans' cited sentiment accuracy


def headline(results: VoiceResults) -> str:
    """Findings: sentiment against the lexicon and the plans, aspects, churn with text."""
    m = headline_metrics(results)
    removed = sum(v for k, v in m.items() if k.startswith("scrubbed_"))
    lines = ["### Findings", "",
             f"- {m['n_comments']:,} comments; the scrubber removed {removed:,} pieces of "
             "personal data (phones, ID-card numbers, plates, names) before anything else read "
             "the text."]  # fmt: skip
    if m["sentiment_accuracy"] is not None:
        lines.append(
            f"- Sentiment (TF-IDF words + characters, logistic regression; {m['n_train']:,} "
            f"train / {m['n_test']:,} test): accuracy **{m['sentiment_accuracy']:.1%}**, "
            f"macro-F1 {m['sentiment_macro_f1']:.3f}; snownlp's shipped lexicon model "
            f"{m['baseline_lexicon_accuracy']:.1%}; the plans cite "
            f"{PLAN_SENTIMENT_ACCURACY:.0%}."
        )
    else:
        lines.append("- No labels: sentiment is snownlp's lexicon model, not evaluated.")
    if m.get("aspect_recovery") is not None:
        lines.append(
            f"- {m['n_topics']} NMF topics; matched one-to-one to the true aspects they label "
            f"{m['aspect_recovery']:.0%} of the comments right (ARI {m['aspect_ari']:.2f})."
        )
    if m.get("churn_auc_with_text") is not None:
        lines.append(
            f"- Churn at the cutoff (LightGBM, same customer split): ROC AUC "
            f"{m['churn_auc_with_text']:.3f} with the text features vs "
            f"{m['churn_auc_without_text']:.3f} without "
            f"({m['churn_customers_with_comments']:,} of the owners wrote before the cutoff)."
        )
    return "\n".join(lines)
