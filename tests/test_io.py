"""Atomic writes leave either the old file or the complete new one, never a partial file."""

from __future__ import annotations

import pandas as pd
import pytest

from features.io import atomic_dir, atomic_path, sha256_file, write_json, write_parquet


def test_atomic_path_keeps_old_file_when_block_fails(tmp_path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_dir_refuses_existing_without_overwrite(tmp_path) -> None:
    target = tmp_path / "ds"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(FileExistsError, match="already exists"):
        with atomic_dir(target) as tmp:
            (tmp / "new").write_text("y")
    assert sorted(p.name for p in target.iterdir()) == ["keep"]
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "new").write_text("y")
    assert sorted(p.name for p in target.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_parquet_and_json_writes_are_deterministic(tmp_path) -> None:
    df = pd.DataFrame({"customer_id": ["C1", "C2"], "x": [1.0, 2.0]})
    a = write_parquet(df, tmp_path / "a.parquet")
    b = write_parquet(df, tmp_path / "b.parquet")
    assert sha256_file(a) == sha256_file(b)
    write_json({"b": 1, "a": [1, 2]}, tmp_path / "m.json")
    assert (tmp_path / "m.json").read_text().startswith('{\n  "a"')
