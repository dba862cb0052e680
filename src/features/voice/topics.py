"""Aspects of owner comments as NMF topics over jieba words, and their recovery against truth.

Topics are fitted over the comments' words without sentiment words and everyday filler
(``STOP_WORDS``). Each topic is named by its top words in Chinese with English glosses from
``features.voice.text.GLOSSARY``; a comment's top aspect is its largest topic weight. On
synthetic data, recovery is the adjusted Rand index between top topics and the true aspects
and, through the best one-to-one matching of topics to aspects (Hungarian algorithm), the
share of comments whose matched aspect is right.

May import numpy, pandas, scikit-learn, scipy and ``features.voice.text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score

from features.voice.text import gloss, segment

TOP_WORDS = 8
# Words that carry sentiment or filler, not an aspect: left out of the topic vocabulary.
STOP_WORDS = frozenset("很 太 真的 非常 特别 的 了 都 也 就 还 有点 不 没 并 不太 没有 说实话 吐槽 "
                       "一下 总体 来说 推荐 满意 失望 希望 改进 点赞 nice 不推荐 一 个 是 我 得 "
                       "又 好 行 那么 "
                       # everyday context that says nothing about the car's aspects
                       "开 开了 半年 平时 通勤 周末 带娃 出去 提车 三个 月 跑 一万 公里 比 人 用 "
                       "越来越 每次 经常 一到 就 总 还是".split())  # fmt: skip


@dataclass
class TopicModel:
    """Fitted NMF topics: the vectoriser, the model and each topic's top words."""

    vectorizer: TfidfVectorizer
    nmf: NMF
    top_words: list[list[str]]

    def weights(self, texts: Sequence[str]) -> np.ndarray:
        """Topic weights per text (rows sum to 1; all-zero rows stay zero)."""
        w = self.nmf.transform(self.vectorizer.transform(texts))
        total = w.sum(axis=1, keepdims=True)
        return np.divide(w, total, out=np.zeros_like(w), where=total > 0)

    def table(self) -> pd.DataFrame:
        """Topic number, top words (Chinese) and their English gloss."""
        return pd.DataFrame({"topic": range(len(self.top_words)),
                             "top_words": [" ".join(w) for w in self.top_words],
                             "gloss": [gloss(w) for w in self.top_words]})  # fmt: skip


def _aspect_words(text: str) -> list[str]:
    return [w for w in segment(text) if w not in STOP_WORDS and not w.startswith("[")]


def fit_topics(texts: Sequence[str], n_topics: int, seed: int) -> TopicModel:
    """NMF with ``n_topics`` topics over TF-IDF of the comments' aspect words."""
    vectorizer = TfidfVectorizer(analyzer=_aspect_words, min_df=2, sublinear_tf=True)
    X = vectorizer.fit_transform(texts)
    nmf = NMF(n_components=n_topics, init="nndsvda", random_state=seed, max_iter=400)
    nmf.fit(X)
    vocab = np.asarray(vectorizer.get_feature_names_out())
    top = [list(vocab[np.argsort(-row)[:TOP_WORDS]]) for row in nmf.components_]
    return TopicModel(vectorizer, nmf, top)


def aspect_recovery(topic: np.ndarray, aspect: Sequence[str]) -> dict[str, object]:
    """ARI, matched accuracy and the topic -> aspect matching of top topics vs true aspects."""
    labels, codes = np.unique(np.asarray(aspect), return_inverse=True)
    k = max(int(topic.max()) + 1, len(labels))
    counts = np.zeros((k, len(labels)))
    np.add.at(counts, (topic, codes), 1)
    rows, cols = linear_sum_assignment(-counts)
    matched = {int(r): str(labels[c]) for r, c in zip(rows, cols, strict=True)}
    return {"aspect_ari": float(adjusted_rand_score(codes, topic)),
            "aspect_accuracy": float(counts[rows, cols].sum() / len(topic)),
            "topic_aspect": matched}  # fmt: skip
