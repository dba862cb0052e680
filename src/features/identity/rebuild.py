"""The lab's event log and customer table keyed by one_id instead of the source systems' ids.

``events_on_one_id`` replaces each event's record id by the one_id of its record (events of
records not in the map are dropped and counted); ``customers_on_one_id`` gives one row per
one_id with what the map knows (records, channels; no personal field). The churn and
conversion notebooks take the rebuilt log as an event-log ``data_source``.

May import pandas and ``features.io``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def events_on_one_id(events: pd.DataFrame, identity_map: pd.DataFrame,
                     id_col: str = "customer_id") -> tuple[pd.DataFrame, int]:  # fmt: skip
    """The events with ``id_col`` holding one_ids, sorted by one_id and time, and the number
    of events whose record is not in the map (dropped)."""
    lookup = identity_map.drop_duplicates("record_id").set_index("record_id")["one_id"]
    one_id = events[id_col].astype(str).map(lookup)
    unknown = int(one_id.isna().sum())
    out = events.loc[one_id.notna()].copy()
    out[id_col] = one_id[one_id.notna()].to_numpy()
    sort = [id_col, "ts"] if "ts" in out.columns else [id_col]
    return out.sort_values(sort, kind="stable").reset_index(drop=True), unknown


def customers_on_one_id(identity_map: pd.DataFrame) -> pd.DataFrame:
    """One row per one_id: its records, channels and the channel it was first seen in."""
    grouped = identity_map.groupby("one_id", sort=True)
    return pd.DataFrame({
        "n_records": grouped.size(),
        "n_sources": grouped["source"].nunique(),
        "sources": grouped["source"].agg(lambda s: ",".join(sorted(set(s)))),
    }).reset_index()  # fmt: skip


def write_rebuilt(events_path: Path, identity_map: pd.DataFrame, folder: Path,
                  id_col: str = "customer_id") -> dict[str, object]:  # fmt: skip
    """Write ``events_one_id.parquet`` and ``customers_one_id.parquet`` under ``folder``."""
    from features.io import write_parquet

    events = pd.read_parquet(events_path)
    rebuilt, unknown = events_on_one_id(events, identity_map, id_col)
    files = {"events": write_parquet(rebuilt, folder / "events_one_id.parquet"),
             "customers": write_parquet(customers_on_one_id(identity_map),
                                        folder / "customers_one_id.parquet")}  # fmt: skip
    return {"files": files, "n_events": len(rebuilt), "n_events_unmapped": unknown,
            "n_ids_before": int(events[id_col].nunique()),
            "n_ids_after": int(rebuilt[id_col].nunique())}  # fmt: skip
