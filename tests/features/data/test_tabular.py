"""Tests of features.tabular: ready customer tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.data import tabular


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client": ["a1", "a2", "a3", "a4", "a5", "a6"],
            "full_name": ["王小明", "李静怡", "张伟", "赵六", "钱七", "孙八"],
            "job": ["admin", "blue-collar", " ", "admin", None, "services"],
            "balance": ["100", " ", "250.5", "", "80", "1e3"],
            "age": [31, 45, 28, 52, 39, 60],
            "call_length": [10, 20, 30, 40, 50, 60],
            "y": ["yes", "no", "no", "yes", "no", "no"],
        }
    )


def test_prepare_ready_table_types_blanks_and_exclusions() -> None:
    ready = tabular.prepare_ready_table(
        _table(), target="y", positive_label="yes", drop_cols=["call_length"], id_col="client"
    )
    X = ready.features
    assert list(X.columns) == ["job", "balance", "age"]
    assert isinstance(X["job"].dtype, pd.CategoricalDtype)
    assert X["job"].isna().tolist() == [False, False, True, False, True, False]
    assert X["balance"].dtype == "float64"
    assert X["balance"].isna().tolist() == [False, True, False, True, False, False]
    assert X["balance"].iloc[5] == 1000.0
    assert X["age"].dtype == "float64"
    assert ready.target.tolist() == [1, 0, 0, 1, 0, 0]
    assert ready.ids.tolist() == ["a1", "a2", "a3", "a4", "a5", "a6"]
    assert any("personal fields" in note for note in ready.notes)


def test_csv_with_semicolons_is_sniffed_and_row_number_is_the_id(tmp_path) -> None:
    path = tmp_path / "table.csv"
    _table().drop(columns=["client"]).to_csv(path, sep=";", index=False)
    ready = tabular.load_ready_table(path, target="y", positive_label="yes", id_col="customer_id")
    assert ready.ids.tolist() == list(range(6))
    assert "full_name" not in ready.features.columns
    assert any("row number" in note for note in ready.notes)


def test_parquet_table_and_numeric_positive_label(tmp_path) -> None:
    path = tmp_path / "table.parquet"
    frame = _table().assign(y=[1, 0, 0, 1, 0, 0])
    frame.to_parquet(path)
    ready = tabular.load_ready_table(path, target="y", positive_label="1")
    assert ready.target.tolist() == [1, 0, 0, 1, 0, 0]
    default = tabular.load_ready_table(path, target="y")
    assert default.target.tolist() == [1, 0, 0, 1, 0, 0]


def test_blank_target_rows_are_dropped_with_a_note() -> None:
    frame = _table()
    frame.loc[2, "y"] = " "
    ready = tabular.prepare_ready_table(frame, target="y", positive_label="yes", id_col="client")
    assert len(ready.features) == len(ready.target) == len(ready.ids) == 5
    assert "a3" not in ready.ids.tolist()
    assert any("blank" in note for note in ready.notes)


def test_identifier_like_text_and_json_characters() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "code": [f"id{i}" for i in range(200)],
            "rate[1]": rng.normal(size=200),
            "y": rng.integers(0, 2, 200),
        }
    )
    ready = tabular.prepare_ready_table(frame, target="y")
    assert list(ready.features.columns) == ["rate_1_"]
    assert any("identifier-like" in note for note in ready.notes)


def test_time_column_is_kept_for_splitting_not_as_a_feature() -> None:
    frame = _table().assign(ts=pd.date_range("2024-01-01", periods=6, freq="D").astype(str))
    ready = tabular.prepare_ready_table(frame, target="y", positive_label="yes", time_col="ts")
    assert "ts" not in ready.features.columns
    assert ready.times is not None and ready.times.is_monotonic_increasing


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "missing"}, "target column 'missing' not found"),
        ({"target": "y", "positive_label": "maybe"}, "positive_label 'maybe' not found"),
        ({"target": "y"}, "set parameter positive_label"),
        ({"target": "y", "positive_label": "yes", "drop_cols": ["nope"]}, "drop_cols"),
    ],
)
def test_bad_table_parameters_raise(kwargs, message) -> None:
    with pytest.raises(tabular.TableError, match=message):
        tabular.prepare_ready_table(_table(), **kwargs)


def test_one_class_and_duplicate_ids_raise() -> None:
    with pytest.raises(tabular.TableError, match="one class only"):
        tabular.prepare_ready_table(_table().assign(y="no"), target="y", positive_label="no")
    frame = _table().assign(client=["a", "a", "b", "c", "d", "e"])
    with pytest.raises(tabular.TableError, match="duplicate ids"):
        tabular.prepare_ready_table(frame, target="y", positive_label="yes", id_col="client")


def test_missing_and_empty_files_raise(tmp_path) -> None:
    with pytest.raises(tabular.TableError, match="file not found"):
        tabular.read_table(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(tabular.TableError, match="file is empty"):
        tabular.read_table(empty)


def test_read_columns_matches_read_table(tmp_path) -> None:
    path = tmp_path / "t.csv"
    _table().to_csv(path, sep="\t", index=False)
    assert tabular.read_columns(path) == list(tabular.read_table(path).columns)
