"""The CSV path's cleaning in SQL and Arrow: the sorted-file shortcut, categories, renames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from features.data.eventlog import (
    _grouped_duplicates_and_days,
    _sorted_duplicates_and_days,
    load_event_log,
)

ROWS = [  # sorted by id, then time; exact repeats, near repeats, -0.0 and 0.0, nulls
    ("007", "2025-01-01 08:00:00", "visit", "web", 1.0),
    ("7", "2025-01-01 08:00:00", "visit", "web", 1.0),
    ("C1", "2025-01-01 08:00:00", "visit", None, 0.0),
    ("C1", "2025-01-01 08:00:00", "visit", None, -0.0),
    ("C1", "2025-01-01 08:00:00", "visit", None, None),
    ("C1", "2025-01-01 08:00:00", "visit", None, None),
    ("C1", "2025-01-01 09:00:00", "order", "app", 5.0),
    ("C1", "2025-01-02 09:00:00", "order", "app", 5.0),
    ("C1", "2025-01-02 09:00:00", "order", "app", 5.0),
    ("C2", "2025-01-02 09:00:00", "order", "app", 5.0),
]


def _table(rows) -> pa.Table:
    ids, stamps, types, channels, values = zip(*rows, strict=True)
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "ts": pa.array(pd.to_datetime(list(stamps)).as_unit("us"), pa.timestamp("us")),
            "event_type": pa.array(types, pa.string()),
            "channel": pa.array(channels, pa.string()),
            "value": pa.array(values, pa.float64()),
        }
    )


def test_sorted_shortcut_equals_the_full_grouping() -> None:
    table = _table(ROWS)
    rows, days, zero_padded = _sorted_duplicates_and_days(table)
    expected = _grouped_duplicates_and_days(table)
    assert rows.tolist() == expected[0].tolist()
    assert (days, zero_padded) == expected[1:]
    assert rows.tolist() == [3, 5, 8]  # -0.0 repeats 0.0, as DuckDB groups them


def test_unsorted_rows_take_the_full_grouping() -> None:
    assert _sorted_duplicates_and_days(_table(ROWS[::-1])) is None


def _csv(tmp_path, rows, name="log.csv", header="customer_id,ts,event_type,channel,value"):
    lines = [header] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sorted_and_unsorted_files_count_alike(tmp_path) -> None:
    sorted_log = load_event_log(_csv(tmp_path, ROWS, "a.csv"), verbose=False)
    reversed_log = load_event_log(_csv(tmp_path, ROWS[::-1], "b.csv"), verbose=False)
    counts = {k: v for k, v in sorted_log.cleaning.items() if k != "crlf_line_endings"}
    assert counts == {k: v for k, v in reversed_log.cleaning.items() if k in counts}
    assert sorted_log.cleaning["duplicate_rows"] == 3
    assert sorted_log.cleaning["ids_differing_only_by_leading_zeros"] == 1


def test_categories_follow_first_appearance_of_the_cleaned_values(tmp_path) -> None:
    rows = [
        ("C1", "2025-01-01", "", "n/a", 1),  # blank type first: 'unknown' comes first
        ("C1", "2025-01-02", " visit ", "web", 1),
        ("C1", "2025-01-03", "NA", " web", 1),
        ("C2", "2025-01-01", "visit", "app", 1),
        ("C2", "2025-01-05", "order", "", 1),
    ]
    log = load_event_log(_csv(tmp_path, rows), verbose=False)
    events = log.events
    assert list(events["event_type"].cat.categories) == ["unknown", "visit", "order"]
    assert list(events["channel"].cat.categories) == ["web", "app"]
    assert events["event_type"].tolist() == ["unknown", "visit", "unknown", "visit", "order"]
    assert events["channel"].isna().tolist() == [True, False, False, False, True]
    assert log.cleaning["blank_event_types"] == 2


def test_header_names_duckdb_would_change_are_kept(tmp_path) -> None:
    path = _csv(tmp_path, ROWS[:3], header=' customer_id ,"ts",event_type,channel,value')
    events = load_event_log(path, verbose=False).events
    assert len(events) == 3
    assert np.array_equal(events["customer_id"].to_numpy(), np.array(["007", "7", "C1"]))
