"""Data contracts: generated data passes; each deliberately broken table fails with its rule."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from features.synth import generate_dataset
from features.validate import main, validate_dataset


@pytest.fixture(scope="module")
def clean_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_dataset(400, seed=7, out=tmp_path_factory.mktemp("raw") / "ds")


def _broken_copy(clean: Path, tmp_path: Path, table: str, breaker: Callable) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(clean, folder)
    path = folder / f"{table}.parquet"
    df = pd.read_parquet(path)
    breaker(df).to_parquet(path, index=False)
    return folder


def _drop(col):
    return lambda df: df.drop(columns=[col])


def _set(col, value, rows=slice(0, 2)):
    def breaker(df):
        df = df.copy()
        if not isinstance(value, str | int | float | bool | type(None)) or value is None:
            df[col] = df[col].astype(object)
        df.loc[df.index[rows], col] = value
        return df

    return breaker


def _first_where(col, equals, target, value):
    def breaker(df):
        df = df.copy()
        index = df.index[df[col].eq(equals)][:1]
        df.loc[index, target] = value
        return df

    return breaker


BROKEN = [
    ("customers", _drop("sales_model"), r"customers\.sales_model: column_present"),
    ("customers", lambda df: df.assign(age=df["age"].astype(str)), r"customers\.age: dtype"),
    ("customers", lambda df: pd.concat([df, df.head(1)]), r"customers\.customer_id: unique"),
    ("events", _set("customer_id", "C9999999"), r"events\.customer_id: reference"),
    ("events", _set("customer_id", None), r"events\.customer_id: not_null"),
    ("events", _set("ts", pd.Timestamp("2031-01-01")), r"events\.ts: in_window"),
    ("customers", _set("acquisition_channel", "billboard"), r"acquisition_channel: category"),
    ("orders", _set("price", -5.0), r"orders\.price: range"),
    ("orders", lambda df: df.head(0), r"orders: not_empty"),
    ("events", _first_where("event_type", "nps_response", "value", 11.0), r"nps_range"),
    ("events", _set("event_type", "teleport"), r"events\.event_type: category"),
    ("orders", _set("order_ts", pd.Timestamp("2024-01-01")), r"orders\.order_ts: order_after_lead"),
    ("customers", _set("phone", "12345"), r"customers\.phone: pattern"),
    ("events", _first_where("event_type", "charging_session", "channel", "store"),
     r"charging_channel"),
    ("truth", _set("purchase_propensity", 1.5), r"truth\.purchase_propensity: range"),
]  # fmt: skip


def test_generated_dataset_is_clean(clean_dataset: Path) -> None:
    assert validate_dataset(clean_dataset) == []


@pytest.mark.parametrize(("table", "breaker", "expected"), BROKEN)
def test_broken_table_is_reported(clean_dataset, tmp_path, table, breaker, expected) -> None:
    folder = _broken_copy(clean_dataset, tmp_path, table, breaker)
    messages = [str(v) for v in validate_dataset(folder)]
    assert any(re.search(expected, m) for m in messages), messages


def test_missing_file_is_reported(clean_dataset: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    shutil.copytree(clean_dataset, folder)
    (folder / "orders.parquet").unlink()
    assert any("orders.parquet is missing" in str(v) for v in validate_dataset(folder))


def test_cli_exit_codes(clean_dataset: Path, tmp_path: Path, capsys) -> None:
    assert main([str(clean_dataset)]) == 0
    folder = _broken_copy(clean_dataset, tmp_path, "orders", _set("price", -1.0))
    assert main([str(folder)]) == 1
    out = capsys.readouterr().out
    assert "orders.price: range" in out and "C" in out
    assert main([str(tmp_path / "nowhere")]) == 2
