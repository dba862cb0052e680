"""The voice-of-the-customer study of notebook 06: scrub, sentiment, aspects, text features.

Every text is scrubbed of the personal data the scrubber detects before anything else reads
it. With labels (synthetic data, or a labelled file) the sentiment model is trained on a
stratified part and judged on the rest beside snownlp's lexicon model; every comment's
P(positive) for the features comes from 3-fold cross-fitting (no comment is scored by a model
that saw it). NMF topics are fitted on all comments. On synthetic data the topics are matched
to the true aspects, and the churn model of the lab's features at the cutoff is trained with
and without the text features of the comments written before the cutoff (same customer split).

May import the foundation, ``features.data``, ``features.table``, ``features.propensity``
(helpers) and the ``features.voice`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict, train_test_split

from features import defaults, schema
from features.data import datasets
from features.data.tabular import TableError, binary_target, read_table
from features.propensity.data import as_model_frame, build_snapshot
from features.table.snapshots import EventSource, LabelSpec, load_snapshots
from features.voice import sentiment as sent
from features.voice.features import text_features
from features.voice.params import VoiceParams
from features.voice.text import scrub_all
from features.voice.topics import TopicModel, aspect_recovery, fit_topics

ERROR_EXAMPLES = 10
CHURN_SETTINGS = {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 15,
                  "min_child_samples": 50, "verbose": -1}  # fmt: skip
CHURN_TEST_SHARE = 0.3
MIN_LABELLED = 50


@dataclass
class CommentSet:
    """Scrubbed comments, their labels (1 = positive) and, on synthetic data, the truth."""

    frame: pd.DataFrame  # comment_id, customer_id, ts, text (scrubbed)
    label: np.ndarray | None
    truth: pd.DataFrame | None
    removed: dict[str, int]
    dataset_dir: Path | None
    notes: list[str] = field(default_factory=list)


@dataclass
class VoiceResults:
    """Everything the notebook shows and saves."""

    params: VoiceParams
    comments: CommentSet
    metrics: dict[str, Any]
    test_rows: np.ndarray | None
    confusion: pd.DataFrame | None
    calibration: pd.DataFrame | None
    errors: pd.DataFrame | None
    topics: TopicModel
    weights: np.ndarray
    scores: pd.DataFrame
    recovery: dict[str, Any] | None = None
    churn: dict[str, float] | None = None
    by_persona: pd.DataFrame | None = None
    by_nps: pd.DataFrame | None = None


def _synthetic(params: VoiceParams) -> CommentSet:
    folder = Path(datasets.ensure_synthetic_dataset(params.n_customers, params.seed))
    raw = pd.read_parquet(folder / f"{schema.COMMENTS_TABLE}.parquet")
    truth = pd.read_parquet(folder / f"{schema.COMMENT_TRUTH_TABLE}.parquet")
    truth = raw[["comment_id"]].merge(truth, on="comment_id", how="left")
    label = (truth["sentiment"] == "positive").to_numpy(dtype=int)
    texts, removed = scrub_all(raw["text"])
    frame = raw[["comment_id", schema.ID_COL, "ts"]].assign(text=texts)
    return CommentSet(frame, label, truth, removed, folder)


def _from_file(params: VoiceParams) -> CommentSet:
    path = params.source_path
    table = read_table(path, text_cols=[c for c in (params.text_col, params.id_col) if c])
    table.columns = [str(c).strip() for c in table.columns]
    for name, column in (("text_col", params.text_col), ("label_col", params.label_col),
                         ("id_col", params.id_col), ("time_col", params.time_col)):  # fmt: skip
        if column and column not in table.columns:
            raise TableError(f"{path}: column {column!r} not found (parameter {name}); columns: "
                             f"{', '.join(map(str, table.columns[:12]))}")  # fmt: skip
    text = table[params.text_col].astype("string").fillna("").str.strip()
    keep = (text != "").to_numpy()
    notes = [] if keep.all() else [f"{int((~keep).sum())} rows without text left out"]
    table, text = table[keep].reset_index(drop=True), text[keep].reset_index(drop=True)
    label = None
    if params.label_col:
        label = binary_target(table[params.label_col], params.positive_label).to_numpy(dtype=int)
        if len(np.unique(label)) < 2:
            raise TableError(f"{path}: column {params.label_col!r} (parameter label_col) has one "
                             "class only; sentiment needs positive and negative comments")  # fmt: skip
    ids = table[params.id_col].astype(str) if params.id_col else pd.Series(
        [f"row{i + 1}" for i in range(len(table))])  # fmt: skip
    ts = pd.to_datetime(table[params.time_col], errors="coerce") if params.time_col else \
        pd.Series(pd.NaT, index=table.index)  # fmt: skip
    texts, removed = scrub_all(text)
    frame = pd.DataFrame({"comment_id": [f"c{i + 1}" for i in range(len(table))],
                          schema.ID_COL: ids.to_numpy(), "ts": ts.to_numpy(), "text": texts})  # fmt: skip
    return CommentSet(frame, label, None, removed, None, notes)


def load_comments(params: VoiceParams) -> CommentSet:
    """The study's comments, scrubbed (synthetic data or a file of comments)."""
    comments = _synthetic(params) if params.data_source == "synthetic" else _from_file(params)
    if len(comments.frame) < MIN_LABELLED:
        raise TableError(f"{params.data_source}: {len(comments.frame)} comments; at least "
                         f"{MIN_LABELLED} are needed")  # fmt: skip
    removed = ", ".join(f"{n} {k}" for k, n in comments.removed.items() if n) or "nothing"
    comments.notes.append(f"{len(comments.frame):,} comments; scrubbed: {removed}")
    return comments


def _sentiment(params: VoiceParams, c: CommentSet) -> tuple[dict, np.ndarray | None, np.ndarray,
                                                             dict[str, pd.DataFrame | None]]:  # fmt: skip
    texts = c.frame["text"].tolist()
    if c.label is None:  # unlabelled: the lexicon model only
        return {}, None, sent.lexicon_positive_probability(texts), {}
    rows = np.arange(len(texts))
    train, test = train_test_split(rows, test_size=params.test_size, random_state=params.seed,
                                   stratify=c.label)  # fmt: skip
    y = c.label
    model = sent.sentiment_model(params.seed).fit([texts[i] for i in train], y[train])
    p_test = model.predict_proba([texts[i] for i in test])[:, 1]
    pred = (p_test >= 0.5).astype(int)
    lexicon = sent.lexicon_positive_probability([texts[i] for i in test])
    trained = sent.sentiment_metrics(y[test], pred)
    base = sent.sentiment_metrics(y[test], (lexicon >= 0.5).astype(int))
    metrics = {"sentiment_accuracy": trained["accuracy"], "sentiment_macro_f1": trained["macro_f1"],
               "baseline_lexicon_accuracy": base["accuracy"],
               "baseline_lexicon_macro_f1": base["macro_f1"],
               "n_train": int(len(train)), "n_test": int(len(test))}  # fmt: skip
    wrong = np.flatnonzero(pred != y[test])[:ERROR_EXAMPLES]
    errors = pd.DataFrame({"text (scrubbed)": [texts[test[i]] for i in wrong],
                           "label": np.asarray(sent.LABELS)[y[test][wrong]],
                           "predicted": np.asarray(sent.LABELS)[pred[wrong]],
                           "p_positive": p_test[wrong]})  # fmt: skip
    tables = {"confusion": sent.confusion_table(y[test], pred),
              "calibration": sent.calibration_table(y[test], p_test), "errors": errors}  # fmt: skip
    probability = cross_val_predict(sent.sentiment_model(params.seed), texts, y, cv=3,
                                    method="predict_proba")[:, 1]  # fmt: skip
    test_rows = np.zeros(len(texts), dtype=bool)
    test_rows[test] = True
    return metrics, test_rows, probability, tables


def _churn_with_text(params: VoiceParams, c: CommentSet, scores: pd.DataFrame,
                     weights: np.ndarray) -> dict[str, float]:  # fmt: skip
    cutoff = pd.Timestamp(params.cutoff)
    spec = LabelSpec("churn", defaults.CHURN_HORIZON_DAYS, defaults.CHURN_LOOKBACK_DAYS)
    snapshot = load_snapshots(EventSource(c.dataset_dir), {cutoff: [spec]}, echo=print)[cutoff]
    X, y, ids, _ = build_snapshot("churn", snapshot)
    voice = text_features(scores, weights, cutoff).set_index(schema.ID_COL)
    with_text = pd.concat([X.reset_index(drop=True),
                           voice.reindex(ids.to_numpy()).reset_index(drop=True)], axis=1)  # fmt: skip
    rng = np.random.default_rng(params.seed)
    test = rng.random(len(y)) < CHURN_TEST_SHARE
    out = {}
    for name, frame in (("without", X.reset_index(drop=True)), ("with", with_text)):
        frame = as_model_frame(frame)
        model = lgb.LGBMClassifier(**CHURN_SETTINGS, random_state=params.seed,
                                   n_jobs=params.num_threads)  # fmt: skip
        model.fit(frame[~test], y[~test])
        out[f"churn_auc_{name}_text"] = float(
            roc_auc_score(y[test], model.predict_proba(frame[test])[:, 1])
        )
    out["churn_customers_with_comments"] = int(voice.index.isin(ids).sum())
    out["churn_n_test"] = int(test.sum())
    return out


def aspect_names(results_topics: TopicModel, recovery: dict | None) -> list[str]:
    """Topic names: the matched true aspect (synthetic data), else number and first gloss."""
    table = results_topics.table()
    if recovery is not None:
        return [recovery["topic_aspect"].get(k, f"topic {k}") for k in table["topic"]]
    return [f"{k}: {g or w.split()[0]}" for k, w, g in zip(table["topic"], table["top_words"],
                                                           table["gloss"], strict=True)]  # fmt: skip


def _nps_groups(folder: Path, ids: pd.Series) -> pd.Series:
    events = pd.read_parquet(folder / f"{schema.EVENTS_TABLE}.parquet",
                             columns=[schema.ID_COL, "event_type", "value"],
                             filters=[("event_type", "==", "nps_response")])  # fmt: skip
    mean = events.groupby(schema.ID_COL)["value"].mean()
    score = mean.reindex(ids.astype(str)).to_numpy()
    group = np.select([score <= 6, score >= 9], ["detractor (0-6)", "promoter (9-10)"],
                      "passive (7-8)")  # fmt: skip
    return pd.Series(
        np.where(np.isnan(score), "no NPS answer", group), index=ids.index, name="NPS group"
    )


def run_voice_study(params: VoiceParams) -> VoiceResults:
    """Scrub, train and judge sentiment, fit topics, build and test the text features."""
    c = load_comments(params)
    for note in c.notes:
        print(note)
    metrics, test_rows, probability, tables = _sentiment(params, c)
    print(f"fitting {params.n_topics} NMF topics", flush=True)
    topics = fit_topics(c.frame["text"].tolist(), params.n_topics, params.seed)
    weights = topics.weights(c.frame["text"].tolist())
    top = weights.argmax(axis=1)
    recovery = aspect_recovery(top, c.truth["aspect"]) if c.truth is not None else None
    names = np.asarray(aspect_names(topics, recovery))
    scores = pd.DataFrame({"comment_id": c.frame["comment_id"], schema.ID_COL: c.frame[schema.ID_COL],
                           "ts": c.frame["ts"],
                           "sentiment": np.where(probability >= 0.5, "positive", "negative"),
                           "probability": probability, "top_aspect": names[top]})  # fmt: skip
    metrics |= {"n_comments": int(len(scores)), "n_topics": params.n_topics,
                "sentiment_source": "trained" if c.label is not None else "lexicon",
                **{f"scrubbed_{k}": n for k, n in c.removed.items()}}  # fmt: skip
    if recovery is not None:
        metrics |= {"aspect_recovery": recovery["aspect_accuracy"],
                    "aspect_ari": recovery["aspect_ari"]}  # fmt: skip
    results = VoiceResults(params, c, metrics, test_rows, tables.get("confusion"),
                           tables.get("calibration"), tables.get("errors"), topics, weights,
                           scores, recovery)  # fmt: skip
    if c.dataset_dir is not None:
        results.churn = _churn_with_text(params, c, scores, weights)
        metrics |= results.churn
        persona = _personas(params, c)
        results.by_persona = pd.crosstab(persona, scores["top_aspect"], normalize="index")
        nps = _nps_groups(c.dataset_dir, scores[schema.ID_COL])
        results.by_nps = pd.crosstab(nps, scores["top_aspect"], normalize="index")
    return results


def _personas(params: VoiceParams, c: CommentSet) -> pd.Series:
    ids = c.frame[schema.ID_COL].astype(str)
    if params.persona_path:
        frame = pd.read_parquet(params.persona_path)
        names = frame.set_index(frame[schema.ID_COL].astype(str))["persona_name"]
        return ids.map(names).fillna("not profiled").rename("persona")
    truth = pd.read_parquet(c.dataset_dir / f"{schema.TRUTH_TABLE}.parquet",
                            columns=[schema.ID_COL, "persona"])  # fmt: skip
    return ids.map(truth.set_index(schema.ID_COL)["persona"]).rename("persona (true)")


def headline_metrics(results: VoiceResults) -> dict[str, Any]:
    """metrics.json: sentiment, baseline, topics, recovery and the churn figures."""
    keys = ("sentiment_accuracy", "sentiment_macro_f1", "baseline_lexicon_accuracy", "n_train",
            "n_test", "n_topics", "aspect_recovery", "churn_auc_with_text",
            "churn_auc_without_text")  # fmt: skip
    out = {k: results.metrics.get(k) for k in keys}
    out |= {k: v for k, v in results.metrics.items() if k not in out}
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}
