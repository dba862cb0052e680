"""The generator's comments: owners only, inside ownership, sentiment driven by experience,
personal data only where planted (and the scrubber finds it)."""

from __future__ import annotations

import pandas as pd
import pytest

from features.data.synth import generate_dataset
from features.voice.text import scrub


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    folder = generate_dataset(5000, 23, tmp_path_factory.mktemp("voice") / "ds")
    comments = pd.read_parquet(folder / "comments.parquet")
    truth = pd.read_parquet(folder / "comment_truth.parquet")
    world = pd.read_parquet(folder / "truth.parquet")
    return comments.merge(truth, on="comment_id"), world


def test_comments_come_from_owners_between_delivery_and_churn(voice) -> None:
    rows, world = voice
    joined = rows.merge(world[["customer_id", "delivery_ts", "churn_ts"]], on="customer_id")
    assert len(joined) == len(rows) and joined["delivery_ts"].notna().all()
    assert (joined["ts"] > joined["delivery_ts"]).all()
    churned = joined["churn_ts"].notna()
    assert (joined.loc[churned, "ts"] < joined.loc[churned, "churn_ts"]).all()


def test_churners_write_more_negative_comments(voice) -> None:
    rows, world = voice
    churner = rows["customer_id"].isin(world.loc[world["churn_ts"].notna(), "customer_id"])
    negative = rows["sentiment"] == "negative"
    assert negative[churner].mean() > negative[~churner].mean() + 0.05
    assert set(rows["aspect"]) == {"range", "charging", "service", "infotainment", "ota", "price"}


def test_personal_data_appears_only_where_planted_and_is_scrubbed(voice) -> None:
    rows, _ = voice
    planted = rows[rows["pii"] != ""]
    assert 0.01 < len(planted) / len(rows) < 0.06
    for text, kind in zip(planted["text"], planted["pii"], strict=True):
        clean, found = scrub(text)
        assert kind in found, text
    clean = rows[rows["pii"] == ""].head(500)
    false_alarms = sum(bool(scrub(t)[1]) for t in clean["text"])
    assert false_alarms <= 5
