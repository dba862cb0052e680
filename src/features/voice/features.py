"""Point-in-time text features per customer: counts, sentiment and aspect shares of the
comments written before a cutoff (never after it).

May import numpy, pandas and the foundation modules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import schema

PREFIX = "voice_"


def text_features(scores: pd.DataFrame, weights: np.ndarray, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per customer with a comment before ``cutoff``: comment count, mean and last P(negative),
    share of negative comments and mean topic weights (``voice_topic_<k>_share``).

    ``scores`` holds customer_id, ts and probability (P(positive)) per comment, aligned with
    the rows of ``weights`` (topic weights).
    """
    before = (scores["ts"] < cutoff).to_numpy()
    part = scores.loc[before, [schema.ID_COL, "ts", "probability"]].reset_index(drop=True)
    topics = pd.DataFrame(weights[before], columns=[f"{PREFIX}topic_{k}_share"
                                                    for k in range(weights.shape[1])])  # fmt: skip
    frame = pd.concat([part, topics], axis=1)
    frame["negative"] = 1 - frame["probability"]
    frame = frame.sort_values([schema.ID_COL, "ts"], kind="stable")
    grouped = frame.groupby(schema.ID_COL, sort=True)
    out = pd.DataFrame({
        f"{PREFIX}n_comments": grouped.size(),
        f"{PREFIX}mean_negative": grouped["negative"].mean(),
        f"{PREFIX}last_negative": grouped["negative"].last(),
        f"{PREFIX}share_negative": grouped["negative"].agg(lambda s: float((s > 0.5).mean())),
        f"{PREFIX}days_since_last": (cutoff - grouped["ts"].max()) / pd.Timedelta(days=1),
    })  # fmt: skip
    out = out.join(grouped[list(topics.columns)].mean())
    return out.rename_axis(schema.ID_COL).reset_index()
