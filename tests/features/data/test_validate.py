"""Data contracts: generated data passes; each deliberately broken table fails with its rule."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from features import schema
from features.data import contracts
from features.data.synth import TRUTH_ALL_COLUMNS, generate_dataset
from features.data.validate import DatasetUnreadable, main, validate_dataset
from features.io import sha256_file


@pytest.fixture(scope="module")
def clean_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_dataset(400, seed=7, out=tmp_path_factory.mktemp("raw") / "ds")


def _refresh_manifest(folder: Path, table: str, rows: int) -> None:
    """Record the broken file's hash and rows so that only the intended rule fires."""
    path = folder / schema.MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["files"][f"{table}.parquet"]["sha256"] = sha256_file(folder / f"{table}.parquet")
    manifest["row_counts"][table] = rows
    path.write_text(json.dumps(manifest))


def _broken_copy(
    clean: Path, tmp_path: Path, table: str, breaker: Callable, refresh: bool = True
) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(clean, folder)
    path = folder / f"{table}.parquet"
    broken = breaker(pd.read_parquet(path))
    broken.to_parquet(path, index=False)
    if refresh:
        _refresh_manifest(folder, table, len(broken))
    return folder


def _drop(col):
    return lambda df: df.drop(columns=[col])


def _set(col, value, rows=slice(0, 2)):
    def breaker(df):
        df = df.copy()
        if value is None:
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


def _swap_first_two_events(df):
    first = df[schema.ID_COL].iloc[0]
    rows = df.index[df[schema.ID_COL].eq(first)][:2]
    return pd.concat([df.loc[[rows[1], rows[0]]], df.drop(index=rows)])


def _event_before_lead(df):
    df = df.copy()
    df.loc[df.index[0], schema.TIME_COL] = df[schema.TIME_COL].iloc[0] - pd.Timedelta(hours=1)
    return df


def _drop_first_order_event(df):
    return df.drop(index=df.index[df[schema.EVENT_TYPE_COL].eq("order")][:1])


def _flip_sales_model(df):
    df = df.copy()
    df.loc[df.index[0], "sales_model"] = (
        "dealer" if df["sales_model"].iloc[0] == "direct" else "direct"
    )
    return df


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
    ("events", _first_where("event_type", "nps_response", "value", 7.5), r"nps_range"),
    ("events", _set("event_type", "teleport"), r"events\.event_type: category"),
    ("orders", _set("order_ts", pd.Timestamp("2024-01-01")), r"orders\.order_ts: order_after_lead"),
    ("customers", _set("phone", "12345"), r"customers\.phone: pattern"),
    ("events", _first_where("event_type", "charging_session", "channel", "store"),
     r"charging_channel"),
    ("events", _first_where("event_type", "app_login", "channel", "fast"), r"charging_channel"),
    ("truth", _set("purchase_propensity", 1.5), r"truth\.purchase_propensity: range"),
    ("events", _swap_first_two_events, r"events\.customer_id,ts: sorted"),
    ("events", _event_before_lead, r"events\.ts: event_after_lead"),
    ("events", _drop_first_order_event, r"orders\.order_ts: order_event"),
    ("events", _first_where("event_type", "service_visit", "value", None), r"service_wait"),
    ("events", _first_where("event_type", "order", "value", 1.0), r"order_event"),
    ("customers", lambda df: df.assign(note="x"), r"customers\.note: column_unexpected"),
    ("truth", lambda df: df.iloc[1:], r"truth\.customer_id: coverage"),
    ("orders", _flip_sales_model, r"orders\.sales_model: sales_model_match"),
    ("customers", _set("lead_created_at", pd.Timestamp("2023-06-01")),
     r"customers\.lead_created_at: in_window"),
]  # fmt: skip


def test_contracts_match_the_generated_columns() -> None:
    for name, columns in (
        (schema.CUSTOMERS_TABLE, schema.CUSTOMER_COLUMNS),
        (schema.EVENTS_TABLE, schema.EVENT_COLUMNS),
        (schema.ORDERS_TABLE, schema.ORDER_COLUMNS),
        (schema.TRUTH_TABLE, TRUTH_ALL_COLUMNS),
    ):
        assert contracts.column_names(contracts.CONTRACTS[name]) == columns


def test_generated_dataset_is_clean(clean_dataset: Path) -> None:
    assert validate_dataset(clean_dataset) == []


@pytest.mark.parametrize(("table", "breaker", "expected"), BROKEN)
def test_broken_table_is_reported(clean_dataset, tmp_path, table, breaker, expected) -> None:
    folder = _broken_copy(clean_dataset, tmp_path, table, breaker)
    violations = validate_dataset(folder)
    messages = [str(v) for v in violations]
    assert any(re.search(expected, m) for m in messages), messages
    assert not any(v.rule in ("checksum", "row_count") for v in violations), messages


def test_single_rule_breaks_report_only_that_rule(clean_dataset: Path, tmp_path: Path) -> None:
    folder = _broken_copy(clean_dataset, tmp_path, "orders", _set("price", -5.0, rows=[0]))
    violations = validate_dataset(folder)
    # The order event still carries the old price, so the orders/events match breaks too.
    assert sorted(v.rule for v in violations) == ["order_event", "range"]
    price = next(v for v in violations if v.rule == "range")
    assert price.table == "orders" and price.column == "price"
    assert price.examples and re.fullmatch(r"C\d{7}", price.examples[0])


def test_event_examples_name_customer_and_time(clean_dataset: Path, tmp_path: Path) -> None:
    folder = _broken_copy(clean_dataset, tmp_path, "events", _set("ts", pd.Timestamp("2031-01-01")))
    window = next(v for v in validate_dataset(folder) if v.rule == "in_window")
    assert window.examples[0].startswith("C0000001@2031-01-01")


def test_changed_file_fails_checksum(clean_dataset: Path, tmp_path: Path) -> None:
    folder = _broken_copy(
        clean_dataset, tmp_path, "customers", lambda df: df.head(len(df) - 1), refresh=False
    )
    rules = {(v.table, v.rule) for v in validate_dataset(folder)}
    assert ("customers", "checksum") in rules and ("customers", "row_count") in rules


def test_events_after_churn_are_reported(clean_dataset: Path, tmp_path: Path) -> None:
    truth = pd.read_parquet(clean_dataset / "truth.parquet")
    events = pd.read_parquet(clean_dataset / "events.parquet")
    owner = events.loc[events["event_type"].eq("delivery"), "customer_id"].iloc[0]

    def churn_at_delivery(df):
        df = df.copy()
        delivered = events.loc[events["customer_id"].eq(owner), "ts"].max()
        df.loc[df["customer_id"].eq(owner), "churn_ts"] = delivered - pd.Timedelta(days=1)
        return df

    assert owner in set(truth["customer_id"])
    folder = _broken_copy(clean_dataset, tmp_path, "truth", churn_at_delivery)
    late = [v for v in validate_dataset(folder) if v.rule == "quiet_after_churn"]
    assert late and late[0].examples[0].startswith(owner)


def test_missing_file_is_reported(clean_dataset: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    shutil.copytree(clean_dataset, folder)
    (folder / "orders.parquet").unlink()
    assert any("orders.parquet is missing" in str(v) for v in validate_dataset(folder))


def test_missing_manifest_is_reported(clean_dataset: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    shutil.copytree(clean_dataset, folder)
    (folder / schema.MANIFEST_FILE).unlink()
    assert [v.rule for v in validate_dataset(folder)] == ["manifest_present"]


def test_unreadable_manifest_makes_the_folder_unusable(clean_dataset: Path, tmp_path) -> None:
    folder = tmp_path / "ds"
    shutil.copytree(clean_dataset, folder)
    (folder / schema.MANIFEST_FILE).write_text("{not json")
    with pytest.raises(DatasetUnreadable, match="manifest.json"):
        validate_dataset(folder)
    assert main([str(folder)]) == 2


def test_cli_exit_codes(clean_dataset: Path, tmp_path: Path, capsys) -> None:
    assert main([str(clean_dataset)]) == 0
    assert "clean" in capsys.readouterr().out
    folder = _broken_copy(clean_dataset, tmp_path, "orders", _set("price", -1.0))
    assert main([str(folder)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert any(line.startswith("orders.price: range:") and "C0" in line for line in lines)
    assert "violation(s)" in captured.err
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "not a dataset folder" in capsys.readouterr().err
