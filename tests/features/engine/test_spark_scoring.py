"""The champion scores a Spark DataFrame per partition exactly as it scores on one machine."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from features import schema
from features.propensity import modeling
from features.propensity.evaluation import assign_buckets, assign_deciles
from features.propensity.scorer import PropensityScorer
from features.scoring import distributed
from features.table.build import build_features
from features.table.labels import LABEL_COL, churn_labels

from .conftest import CUTOFF

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def scored_table(source: dict) -> tuple[PropensityScorer, pd.DataFrame]:
    """A churn scorer trained on the parity log's owners, and the feature table it scores."""
    features = build_features(source["path"], CUTOFF, customers=source["customers"])
    labels = churn_labels(source["path"], CUTOFF, 90, 90, source["customers"]).labels
    train = labels.merge(features, on=schema.ID_COL, how="left")
    X = train.drop(columns=[schema.ID_COL, LABEL_COL])
    y = train[LABEL_COL].to_numpy()
    model = lgb.LGBMClassifier(n_estimators=40, num_leaves=15, num_threads=1, verbose=-1)
    model.fit(X, y)
    calibrator = modeling.fit_calibrator(modeling.predict_positive(model, X), y, "sigmoid")
    return PropensityScorer(model, X, calibrator, "churn"), features  # every customer scored


def test_spark_scores_deciles_buckets_and_reasons_equal_the_local_scorer(scored_table, spark):
    scorer, table = scored_table
    local = pd.DataFrame(
        {
            schema.ID_COL: table[schema.ID_COL],
            "probability": scorer.predict_proba(table),
        }
    )
    local["decile"] = assign_deciles(local["probability"])
    local["bucket"] = assign_buckets(local["probability"]).astype("str")
    local = pd.concat([local, scorer.reasons(table, k=3)], axis=1)

    frame = distributed.to_spark(spark, table).repartition(3)  # several partitions
    on_spark = distributed.rank_scores(distributed.score_partitions(scorer, frame)).toArrow()
    on_spark = on_spark.to_pandas().set_index(schema.ID_COL).loc[table[schema.ID_COL]]
    on_spark = on_spark.reset_index()
    assert len(on_spark) == len(local) > 1500
    np.testing.assert_allclose(on_spark["probability"], local["probability"], rtol=1e-12)
    assert (on_spark["decile"].to_numpy() == local["decile"].to_numpy()).all()
    assert (on_spark["bucket"].to_numpy() == local["bucket"].to_numpy()).all()
    for rank in (1, 2, 3):
        name = f"reason_{rank}"
        assert (on_spark[name].to_numpy() == local[name].to_numpy()).all(), name
    assert local["reason_1"].str.contains("odds").all()


def test_scores_are_written_as_parquet_partitioned_by_decile(scored_table, spark, tmp_path):
    scorer, table = scored_table
    frame = distributed.to_spark(spark, table.head(300))
    scores = distributed.rank_scores(distributed.score_partitions(scorer, frame, reasons=False))
    out = distributed.write_scores(scores, tmp_path / "scores")
    parts = sorted(p.name for p in out.iterdir() if p.name.startswith("decile="))
    assert parts == sorted(f"decile={d}" for d in range(1, 11))
    back = pd.read_parquet(out)
    assert len(back) == 300 and (back["reason_1"] == "").all()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_spark_frame_without_the_model_columns_is_refused(scored_table, spark):
    scorer, table = scored_table
    frame = distributed.to_spark(spark, table[[schema.ID_COL]].head(5))
    with pytest.raises(ValueError, match="column\\(s\\) the model needs are missing"):
        distributed.score_partitions(scorer, frame)
