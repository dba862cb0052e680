"""Next model line per lead: a multiclass LightGBM of the line a lead orders, against the
practitioners' baseline (the most popular line for the lead's persona and budget band).

Rows: the leads in the market at each test-drive wave's send date who ordered within
``LINE_DAYS`` after it, with the lab's features at that date and the line of that order.
Customers are split into train and test parts (a customer's rows stay in one part).

May import numpy, pandas, lightgbm, scikit-learn, the foundation, ``features.data``,
``features.table``, ``features.propensity`` (helpers) and the ``features.actions`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss

from features import schema
from features.actions.data import LINE_DAYS, as_model_frame
from features.propensity.data import align_to_training
from features.propensity.explain import ShapValues, top_reasons
from features.table.snapshots import EventSource, load_snapshots

LINE_WORDS = ("points to this line", "points away from this line")
LINE_SETTINGS = {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 15,
                 "min_child_samples": 30, "subsample": 0.8, "subsample_freq": 1,
                 "colsample_bytree": 0.8, "verbose": -1}  # fmt: skip
BUDGET_BANDS = 4  # budget quartiles of the training leads
MIN_LINE_ROWS = 100


@dataclass
class LineResults:
    """The line model, its test figures and the baseline's."""

    model: lgb.LGBMClassifier
    lines: list[str]
    metrics: dict[str, float | int]
    columns: pd.Index
    reference: pd.DataFrame


def line_rows(folder: Path, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.Series]:
    """Features at each closed test-drive wave of the leads who then ordered, and the line."""
    campaigns = pd.read_parquet(folder / f"{schema.CAMPAIGNS_TABLE}.parquet")
    waves = campaigns[(campaigns["task"] == "test_drive")
                      & (campaigns["sent_at"] + LINE_DAYS * pd.Timedelta(days=1) <= cutoff)]  # fmt: skip
    orders = pd.read_parquet(folder / f"{schema.ORDERS_TABLE}.parquet",
                             columns=[schema.ID_COL, "order_ts", "model_line"])  # fmt: skip
    joined = waves[[schema.ID_COL, "sent_at"]].merge(orders, on=schema.ID_COL)
    after = joined["order_ts"] - joined["sent_at"]
    joined = joined[(after >= pd.Timedelta(0)) & (after < LINE_DAYS * pd.Timedelta(days=1))]
    joined = joined.sort_values("order_ts").drop_duplicates([schema.ID_COL, "sent_at"])
    stamps = sorted(pd.to_datetime(joined["sent_at"]).unique())
    snapshots = load_snapshots(EventSource(folder), {pd.Timestamp(s): [] for s in stamps})
    parts = []
    for sent_at, rows in joined.groupby("sent_at"):
        feats = snapshots[pd.Timestamp(sent_at)].features
        feats = feats.assign(**{schema.ID_COL: feats[schema.ID_COL].astype(str)})
        parts.append(rows.merge(feats, on=schema.ID_COL, how="left"))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return table, table.get("model_line", pd.Series(dtype=str))


def budget_band(budget: pd.Series, edges: np.ndarray) -> pd.Series:
    """Budget quartile (0..3) from the training leads' quartile edges; -1 when unknown."""
    band = np.searchsorted(edges, budget.to_numpy(dtype=float), side="right")
    return pd.Series(np.where(budget.isna(), -1, band), index=budget.index)


def popular_line_baseline(train_keys: pd.DataFrame, train_line: pd.Series,
                          test_keys: pd.DataFrame) -> pd.Series:  # fmt: skip
    """Most popular line per (persona, budget band) in training; per band, then overall."""
    overall = train_line.mode().iloc[0]
    frame = train_keys.assign(line=train_line.to_numpy())
    by_both = frame.groupby(["persona", "band"])["line"].agg(lambda s: s.mode().iloc[0])
    by_band = frame.groupby("band")["line"].agg(lambda s: s.mode().iloc[0])
    both = pd.MultiIndex.from_frame(test_keys[["persona", "band"]])
    guess = pd.Series(by_both.reindex(both).to_numpy(), index=test_keys.index)
    guess = guess.fillna(pd.Series(by_band.reindex(test_keys["band"]).to_numpy(),
                                   index=test_keys.index))  # fmt: skip
    return guess.fillna(overall)


def fit_next_line(
    table: pd.DataFrame, line: pd.Series, personas: pd.Series | None, seed: int, threads: int,
    test_share: float,
) -> LineResults | None:  # fmt: skip
    """Fit the line model on a customer split and score it and the baseline on the test part."""
    if len(table) < MIN_LINE_ROWS or line.nunique() < 2:
        return None
    ids = table[schema.ID_COL].astype(str)
    rng = np.random.default_rng(seed)
    unique = ids.unique()
    test_ids = set(rng.choice(unique, size=max(int(len(unique) * test_share), 1), replace=False))
    test = ids.isin(test_ids).to_numpy()
    drop = [c for c in (schema.ID_COL, "sent_at", "order_ts", "model_line") if c in table]
    X = as_model_frame(table.drop(columns=drop))
    lines = sorted(line.unique())
    y = pd.Categorical(line, categories=lines).codes
    model = lgb.LGBMClassifier(**LINE_SETTINGS, random_state=seed, n_jobs=threads)
    model.fit(X[~test], y[~test])
    proba = model.predict_proba(X[test])
    top = np.argsort(-proba, axis=1)
    truth = y[test]
    budget = table["budget"] if "budget" in table else pd.Series(np.nan, index=table.index)
    edges = np.nanquantile(budget[~test], np.linspace(0, 1, BUDGET_BANDS + 1)[1:-1]) \
        if budget[~test].notna().any() else np.array([])  # fmt: skip
    persona = personas.reindex(ids).fillna("unknown").to_numpy() if personas is not None \
        else np.full(len(ids), "unknown")  # fmt: skip
    keys = pd.DataFrame({"persona": persona, "band": budget_band(budget, edges).to_numpy()})
    guess = popular_line_baseline(keys[~test].reset_index(drop=True),
                                  pd.Series(np.asarray(lines)[y[~test]]),
                                  keys[test].reset_index(drop=True))  # fmt: skip
    metrics = {
        "next_line_top1": float(np.mean(top[:, 0] == truth)),
        "next_line_top2": float(np.mean((top[:, 0] == truth) | (top[:, 1] == truth))),
        "next_line_log_loss": float(log_loss(truth, proba, labels=range(len(lines)))),
        "next_line_baseline_top1": float(np.mean(guess.to_numpy() == np.asarray(lines)[truth])),
        "next_line_n_lines": len(lines),
        "next_line_n_train": int((~test).sum()),
        "next_line_n_test": int(test.sum()),
        "next_line_baseline_uses_personas": personas is not None,
    }
    share = pd.Series(np.asarray(lines)[y[~test]]).value_counts(normalize=True)
    metrics["next_line_majority_share"] = float(share.iloc[0])
    return LineResults(model, lines, metrics, X.columns, X.iloc[:0])


def recommend_lines(results: LineResults, X: pd.DataFrame) -> pd.Series:
    """The most likely line per row of ``X`` (aligned to the line model's columns)."""
    aligned = align_to_training(X.reindex(columns=results.columns), results.reference)
    codes = results.model.predict_proba(aligned).argmax(axis=1)
    return pd.Series(np.asarray(results.lines)[codes], index=X.index)


def line_reasons(results: LineResults, X: pd.DataFrame, threads: int) -> pd.Series:
    """Per row: the line and the three features that push the model most towards it
    (exact TreeSHAP contributions to the recommended line's raw score)."""
    aligned = align_to_training(X.reindex(columns=results.columns), results.reference)
    if aligned.empty:
        return pd.Series([], dtype=object)
    booster = results.model.booster_
    raw = booster.predict(aligned, pred_contrib=True, num_threads=threads)
    k, width = len(results.lines), aligned.shape[1] + 1
    blocks = np.asarray(raw).reshape(len(aligned), k, width)
    chosen = results.model.predict_proba(aligned).argmax(axis=1)
    values = blocks[np.arange(len(aligned)), chosen, :-1]
    shap = ShapValues(values, blocks[np.arange(len(aligned)), chosen, -1], list(aligned.columns))
    table = top_reasons(shap, aligned, words=LINE_WORDS)
    lines = np.asarray(results.lines)[chosen]
    text = table.apply(lambda r: "; ".join(r.astype(str)), axis=1).to_numpy()
    return pd.Series([f"{line}: {why}" for line, why in zip(lines, text, strict=True)],
                     index=X.index)  # fmt: skip
