"""Tests of features.propensity.data: alignment, uninformative columns and the class gate."""

from __future__ import annotations

import pandas as pd
import pytest

from features.propensity import data as study_data


def test_align_to_training_uses_training_columns_and_levels() -> None:
    train = pd.DataFrame({"a": [1.0, 2.0], "c": pd.Categorical(["x", "y"])})
    other = pd.DataFrame({"c": pd.Categorical(["y", "z"]), "extra": [1, 2]})
    aligned = study_data.align_to_training(other, train)
    assert list(aligned.columns) == ["a", "c"]
    assert aligned["a"].isna().all()
    assert list(aligned["c"].cat.categories) == ["x", "y"]
    assert aligned["c"].astype("object").tolist()[0] == "y" and pd.isna(aligned["c"].iloc[1])


def test_drop_uninformative_drops_constant_columns_with_a_note() -> None:
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0], "same": [5, 5, 5], "gone": [None] * 3})
    notes: list[str] = []
    X_train, X_test = study_data.drop_uninformative(train, train.copy(), notes)
    assert list(X_train.columns) == list(X_test.columns) == ["a"]
    assert len(notes) == 1 and notes[0].startswith("2 features")
    with pytest.raises(ValueError, match="every feature"):
        study_data.drop_uninformative(train[["same"]], train[["same"]], [])


def test_check_class_counts_names_the_part() -> None:
    study_data.check_class_counts(pd.Series([0, 1, 0, 1]), "train", 2)
    with pytest.raises(ValueError, match="test part"):
        study_data.check_class_counts(pd.Series([0, 0, 0, 1]), "test", 2)
