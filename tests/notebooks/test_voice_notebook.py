"""Smoke tests: notebook 06_voice on the synthetic comments (privacy checked on every output)
and on a labelled GB18030 CSV and an unlabelled Excel file with Chinese headers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from features import config
from features.data.datasets import ensure_synthetic_dataset
from features.data.synth_voice import ASPECTS, write_comment

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "06_voice.ipynb"
KEYS = ("sentiment_accuracy", "sentiment_macro_f1", "baseline_lexicon_accuracy", "n_train",
        "n_test", "n_topics", "aspect_recovery", "churn_auc_with_text", "churn_auc_without_text")  # fmt: skip
SECRETS = re.compile(r"1[3-9]\d-\d{4}-\d{4}|\d{17}[\dX]|[京沪粤苏浙川渝鄂][A-K]D\d{4}")


def test_voice_notebook_on_synthetic_comments(execute_with_metrics, isolated_lab, check_rendered):
    metrics = execute_with_metrics(NOTEBOOK, isolated_lab, n_customers=6000, num_threads=1)
    check_rendered(isolated_lab / "executed" / NOTEBOOK.name, isolated_lab / "out",
                   isolated_lab / "html")  # fmt: skip
    for key in KEYS:
        assert key in metrics, key
    assert metrics["sentiment_accuracy"] >= 0.88
    assert metrics["sentiment_accuracy"] > metrics["baseline_lexicon_accuracy"]
    assert 0.3 < metrics["aspect_recovery"] <= 1.0
    assert 0.5 < metrics["churn_auc_without_text"] < 1.0
    assert sum(metrics[f"scrubbed_{k}"] for k in ("phone", "id_number", "plate", "name")) > 0
    scores = pd.read_parquet(isolated_lab / "out" / "comment_scores.parquet")
    assert list(scores.columns) == ["comment_id", "customer_id", "sentiment", "probability",
                                    "top_aspect"]  # fmt: skip
    # the planted personal data of the raw comments reaches no output, log or report
    raw = pd.read_parquet(ensure_synthetic_dataset(6000, 42) / "comments.parquet")
    planted = {m.group(0) for text in raw["text"] for m in SECRETS.finditer(text)}
    assert planted
    written = [p for p in isolated_lab.rglob("*") if p.is_file() and p.suffix in
               {".json", ".csv", ".html", ".ipynb", ".txt", ".yaml", ".parquet"}
               and "raw" not in p.parts]  # fmt: skip
    for path in written:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        leaked = [s for s in planted if s in text]
        assert not leaked, (path, leaked[:3])


def _comments(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        polarity = "neg" if rng.random() < 0.4 else "pos"
        text, _ = write_comment(rng, ASPECTS[i % len(ASPECTS)], None, polarity, pii=i % 50 == 0)
        rows.append({"用户编号": f"{i:05d}", "日期": f"2025/03/{1 + i % 28:02d} 10:00",
                     "评论": text, "情感": "正面" if polarity == "pos" else "负面"})  # fmt: skip
    return pd.DataFrame(rows)


def test_voice_notebook_on_a_labelled_gb18030_csv_with_chinese_headers(
    execute_with_metrics, isolated_lab
):
    path = isolated_lab / "评论.csv"
    _comments(600, 1).to_csv(path, index=False, encoding="gb18030")
    metrics = execute_with_metrics(NOTEBOOK, isolated_lab, data_source=str(path), text_col="评论",
                                   label_col="情感", positive_label="正面", id_col="用户编号",
                                   time_col="日期", num_threads=1)  # fmt: skip
    assert metrics["sentiment_source"] == "trained" and metrics["sentiment_accuracy"] >= 0.85
    assert metrics["aspect_recovery"] is None and metrics["churn_auc_with_text"] is None
    assert metrics["scrubbed_phone"] + metrics["scrubbed_id_number"] + metrics["scrubbed_plate"] \
        + metrics["scrubbed_name"] > 0  # fmt: skip


def test_an_unlabelled_excel_file_gets_topics_and_lexicon_sentiment(tmp_path):
    from features import voice

    excel = tmp_path / "reviews.xlsx"
    _comments(300, 2).drop(columns=["情感"]).to_excel(excel, index=False)
    params = voice.validate_voice_params(
        data_source=str(excel), n_customers=8000, seed=1, cutoff="2025-07-01", text_col="评论",
        label_col="", positive_label="positive", id_col="", time_col="", n_topics=6,
        test_size=0.3, persona_file="", output_dir=str(tmp_path / "out"),
        mlflow_tracking_uri="", num_threads=1)  # fmt: skip
    results = voice.run_voice_study(params)
    metrics = voice.headline_metrics(results)
    assert metrics["sentiment_source"] == "lexicon" and metrics["sentiment_accuracy"] is None
    scores = voice.scores_table(results)
    assert len(scores) == 300 and scores["sentiment"].isin(["positive", "negative"]).all()
    assert "text" not in scores and results.churn is None
