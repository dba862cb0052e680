"""Sentiment of owner comments: a trained TF-IDF + logistic-regression model and a lexicon
baseline.

The model joins TF-IDF over jieba words (unigrams and bigrams, so that 不太 + 满意 stays
negative) and over character 1-3-grams (robust to typos and unseen words), and fits a
logistic regression; it trains in seconds on CPU. The baseline is snownlp's shipped sentiment
model (a naive Bayes over shopping reviews that ships inside the wheel): positive when its
probability is at least 0.5, no training on the lab's data.

May import numpy, pandas, scikit-learn, snownlp and ``features.voice.text``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.pipeline import FeatureUnion, Pipeline

from features.voice.text import segment

LABELS = ("negative", "positive")
CALIBRATION_BINS = 10


def _words(text: str) -> list[str]:
    return segment(text)


def sentiment_model(seed: int = 0) -> Pipeline:
    """TF-IDF (words 1-2 + characters 1-3) and a logistic regression, unfitted."""
    features = FeatureUnion([
        ("words", TfidfVectorizer(analyzer=_words, ngram_range=(1, 1), min_df=2,
                                  sublinear_tf=True)),
        ("word_pairs", TfidfVectorizer(tokenizer=_words, token_pattern=None, lowercase=False,
                                       ngram_range=(2, 2), min_df=2, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2,
                                  sublinear_tf=True)),
    ])  # fmt: skip
    return Pipeline([("tfidf", features),
                     ("model", LogisticRegression(C=4.0, max_iter=2000, random_state=seed))])  # fmt: skip


def lexicon_positive_probability(texts: Sequence[str]) -> np.ndarray:
    """snownlp's shipped model: P(positive) per text."""
    from snownlp import SnowNLP  # deferred: loads its model files

    return np.array([SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts])


def sentiment_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 of 0/1 (1 = positive) predictions."""
    return {"accuracy": float(accuracy_score(truth, predicted)),
            "macro_f1": float(f1_score(truth, predicted, average="macro"))}  # fmt: skip


def confusion_table(truth: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """Counts: rows true label, columns predicted label."""
    counts = confusion_matrix(truth, predicted, labels=[0, 1])
    return pd.DataFrame(counts, index=[f"true {label}" for label in LABELS],
                        columns=[f"predicted {label}" for label in LABELS])  # fmt: skip


def calibration_table(truth: np.ndarray, probability: np.ndarray) -> pd.DataFrame:
    """Mean predicted P(positive) and the observed positive share per probability bin."""
    bins = np.minimum((probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    frame = pd.DataFrame({"bin": bins, "p": probability, "y": truth})
    table = frame.groupby("bin").agg(comments=("y", "size"), mean_predicted=("p", "mean"),
                                     observed_positive=("y", "mean"))  # fmt: skip
    return table.reset_index(drop=True)
