"""Sentiment, topics and point-in-time text features on comments written by the generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.data.synth_voice import ASPECTS, write_comment
from features.voice import sentiment as sent
from features.voice.features import text_features
from features.voice.topics import aspect_recovery, fit_topics


@pytest.fixture(scope="module")
def comments():
    rng = np.random.default_rng(4)
    rows = []
    for _ in range(1500):
        aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
        polarity = "neg" if rng.random() < 0.4 else "pos"
        text, _ = write_comment(rng, aspect, None, polarity, pii=False)
        rows.append((text, aspect, int(polarity == "pos")))
    return pd.DataFrame(rows, columns=["text", "aspect", "label"])


def test_the_trained_model_beats_the_lexicon_and_the_plans_figure(comments) -> None:
    train, test = comments.iloc[:1000], comments.iloc[1000:]
    model = sent.sentiment_model(0).fit(train["text"].tolist(), train["label"])
    p = model.predict_proba(test["text"].tolist())[:, 1]
    trained = sent.sentiment_metrics(test["label"].to_numpy(), (p >= 0.5).astype(int))
    lexicon = sent.lexicon_positive_probability(test["text"].tolist())
    base = sent.sentiment_metrics(test["label"].to_numpy(), (lexicon >= 0.5).astype(int))
    assert trained["accuracy"] >= 0.88 and trained["accuracy"] > base["accuracy"]
    assert 0.5 < base["accuracy"] < 1.0  # the lexicon knows Chinese sentiment, imperfectly
    table = sent.calibration_table(test["label"].to_numpy(), p)
    assert table["comments"].sum() == len(test)


def test_topics_recover_most_true_aspects(comments) -> None:
    topics = fit_topics(comments["text"].tolist(), len(ASPECTS), seed=0)
    top = topics.weights(comments["text"].tolist()).argmax(axis=1)
    recovery = aspect_recovery(top, comments["aspect"])
    assert recovery["aspect_accuracy"] > 0.5 and recovery["aspect_ari"] > 0.3
    assert set(recovery["topic_aspect"].values()) == set(ASPECTS)
    assert len(topics.table()) == len(ASPECTS)


def test_text_features_use_only_comments_before_the_cutoff() -> None:
    cutoff = pd.Timestamp("2025-01-01")
    scores = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                           "ts": pd.to_datetime(["2024-06-01", "2025-02-01", "2024-12-31 23:59:59",
                                                 "2025-01-01"], format="ISO8601"),
                           "probability": [0.9, 0.0, 0.2, 0.1]})  # fmt: skip
    weights = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.0, 1.0]])
    feats = text_features(scores, weights, cutoff).set_index("customer_id")
    assert list(feats.index) == ["a", "b"]  # c's comment is at the cutoff: not before it
    assert feats.loc["a", "voice_n_comments"] == 1
    assert feats.loc["a", "voice_mean_negative"] == pytest.approx(0.1)
    assert feats.loc["a", "voice_topic_1_share"] == 0.0
    assert feats.loc["b", "voice_last_negative"] == pytest.approx(0.8)
