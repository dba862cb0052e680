"""Distributed scoring: the champion scores a Spark DataFrame of features per partition.

Each partition's rows go through the same ``PropensityScorer`` as on one machine (input
preparation, LightGBM, calibration) inside ``mapInPandas``, and the top reasons come from
LightGBM's own TreeSHAP (``pred_contrib``) in the same worker, so nothing but the scores and
reasons crosses the network. Deciles and buckets are ranks over all rows: one window over the
scores (probability descending, customer_id ascending, as ``assign_deciles`` breaks ties when
rows come sorted by id). ``write_scores`` writes Parquet partitioned by decile, into a
temporary folder renamed into place.

May import the foundation, ``features.engine``, ``features.propensity`` and
``features.scoring.live``.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features import schema
from features.propensity.evaluation import DEFAULT_BUCKET_SHARES
from features.propensity.scorer import PropensityScorer
from features.propensity.study import N_REASONS


def to_spark(spark: Any, table: pd.DataFrame) -> Any:
    """A pandas feature table as a Spark DataFrame (categories as text; Arrow, no pandas-on-Spark)."""
    plain = table.copy()
    for name in plain.columns:
        if isinstance(plain[name].dtype, pd.CategoricalDtype):
            plain[name] = plain[name].astype("object").where(plain[name].notna(), None)
    return spark.createDataFrame(pa.Table.from_pandas(plain, preserve_index=False))


def score_partitions(scorer: PropensityScorer, features: Any, *, reasons: bool = True) -> Any:
    """Spark DataFrame (customer_id, probability, reason_1..3) scored per partition; lazy.

    ``features``: a Spark DataFrame with ``customer_id`` and every column the scorer needs.
    Rows without reasons (``reasons=False``) get empty strings, as on one machine.
    """
    missing = [name for name in scorer.feature_names if name not in features.columns]
    if missing:
        raise ValueError(
            f"Spark features: {len(missing)} column(s) the model needs are missing: "
            + ", ".join(missing[:10])
        )
    columns = [schema.ID_COL, *scorer.feature_names]
    ddl = f"{schema.ID_COL} string, probability double, " + ", ".join(
        f"reason_{r} string" for r in range(1, N_REASONS + 1)
    )

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            batch = batch.reset_index(drop=True)
            out = pd.DataFrame(
                {
                    schema.ID_COL: batch[schema.ID_COL].astype("str"),
                    "probability": scorer.predict_proba(batch),
                }
            )
            found = scorer.reasons(batch, k=N_REASONS, num_threads=1) if reasons else None
            for r in range(1, N_REASONS + 1):
                name = f"reason_{r}"
                out[name] = found[name].astype("str") if found is not None else ""
            yield out

    return features.select(*columns).mapInPandas(score, ddl)


def rank_scores(scores: Any) -> Any:
    """Add decile (1 = highest tenth) and bucket (high / medium / low) over all rows.

    The rules of ``assign_deciles`` and ``assign_buckets`` in integer and double arithmetic,
    so the same rows land in the same groups as on one machine.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    scores = scores.cache()  # counted, then ranked: score each partition once
    n = max(scores.count(), 1)
    order = Window.orderBy(F.col("probability").desc(), F.col(schema.ID_COL).asc())
    ranked = scores.withColumn("_rank", F.row_number().over(order) - 1)
    high, medium = (float(b) for b in np.cumsum(DEFAULT_BUCKET_SHARES)[:-1])
    quantile = (F.col("_rank") + F.lit(0.5)) / F.lit(float(n))
    bucket = F.when(quantile <= high, "high").when(quantile <= medium, "medium").otherwise("low")
    return (
        ranked.withColumn("decile", F.expr(f"_rank * 10 div {n} + 1"))
        .withColumn("bucket", bucket)
        .drop("_rank")
    )


def write_scores(scores: Any, out: Path) -> Path:
    """Write scored rows as Parquet partitioned by decile; all at once (temporary, renamed)."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        scores.write.mode("overwrite").partitionBy("decile").parquet(str(tmp))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
