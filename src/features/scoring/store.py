"""The score history: every scored list appended as Parquet under ``data/scores/``.

Layout: ``data/scores/task=<task>/as_of=<YYYY-MM-DD>/model_version=<v>/<scored_at>-<id>.parquet``
(hive-style partitions, readable as one dataset by DuckDB, pyarrow or pandas). Files are only
ever added, each atomically; a re-scored list is a new file, and readers take the latest one per
key. Rows hold no personal fields: customer_id, probability, decile, bucket and the keys.

May import the foundation modules.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pandas as pd

from features import config, schema
from features.io import write_parquet

STORE_COLUMNS = (schema.ID_COL, "probability", "decile", "bucket")
KEYS = ("task", "as_of", "model_version")


def store_dir(root: str | Path | None = None) -> Path:
    """Folder of the score history."""
    return Path(root) if root is not None else config.data_root() / "scores"


def append_scores(
    campaign: pd.DataFrame, summary: dict[str, Any], root: str | Path | None = None
) -> Path:
    """Append one scored list to the history; return the new file."""
    scored_at = pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S%fZ")
    version = summary.get("model_version") or "unversioned"
    folder = (
        store_dir(root)
        / f"task={summary['task']}"
        / f"as_of={summary['as_of']}"
        / f"model_version={version}"
    )
    rows = campaign[list(STORE_COLUMNS)].assign(scored_at=scored_at)
    return write_parquet(rows, folder / f"{scored_at}-{secrets.token_hex(4)}.parquet")


def read_scores(task: str, root: str | Path | None = None) -> pd.DataFrame:
    """Every stored list of ``task`` (latest file per as-of date and model version)."""
    base = store_dir(root) / f"task={task}"
    frames = []
    for path in sorted(base.glob("as_of=*/model_version=*/*.parquet")):
        frame = pd.read_parquet(path)
        frame["as_of"] = path.parent.parent.name.removeprefix("as_of=")
        frame["model_version"] = path.parent.name.removeprefix("model_version=")
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*STORE_COLUMNS, "scored_at", "as_of", "model_version"])
    scores = pd.concat(frames, ignore_index=True)
    latest = scores.groupby(["as_of", "model_version"])["scored_at"].transform("max")
    return scores[scores["scored_at"] == latest].reset_index(drop=True)
