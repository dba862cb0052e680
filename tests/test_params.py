"""Notebook parameter validation names the bad parameter."""

from __future__ import annotations

import pandas as pd
import pytest

from features.params import (
    ParameterError,
    check_choice,
    check_date,
    check_float,
    check_int,
    check_str_list,
)


def test_check_choice_names_parameter_and_choices() -> None:
    assert check_choice("split", "time", ("time", "random")) == "time"
    with pytest.raises(ParameterError, match=r"'split' = 'later'.*'time', 'random'"):
        check_choice("split", "later", ("time", "random"))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_check_int_rejects_non_positive_and_non_integers(bad) -> None:
    with pytest.raises(ParameterError, match="'n_customers'"):
        check_int("n_customers", bad, minimum=1)


def test_check_int_upper_bound() -> None:
    assert check_int("k_max", 8, minimum=2, maximum=12) == 8
    with pytest.raises(ParameterError, match="<= 12"):
        check_int("k_max", 13, minimum=2, maximum=12)


def test_check_float_exclusive_bounds() -> None:
    assert check_float("test_size", 0.25, 0, 1, exclusive=True) == 0.25
    with pytest.raises(ParameterError, match="'test_size' = 1.0: must be < 1"):
        check_float("test_size", 1.0, 0, 1, exclusive=True)


def test_check_date_parses_iso_and_rejects_garbage() -> None:
    assert check_date("cutoff", "2025-07-01") == pd.Timestamp("2025-07-01")
    for bad in ("July", "", None, 20250701, "2025-02-30"):
        with pytest.raises(ParameterError, match="'cutoff'"):
            check_date("cutoff", bad)


def test_check_str_list() -> None:
    assert check_str_list("drop_cols", ["duration"]) == ["duration"]
    with pytest.raises(ParameterError, match="'drop_cols'"):
        check_str_list("drop_cols", "duration")


def test_data_source_is_synthetic_or_an_existing_file(tmp_path):
    from features.params import check_data_source

    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    assert check_data_source("synthetic") == ""
    assert check_data_source(str(table)) == str(table)
    assert check_data_source(str(tmp_path), folders=True) == str(tmp_path)
    for bad, rule in ((str(tmp_path), "no such file"), ("", "'synthetic' or a file"),
                      (3, "'synthetic' or a file"), (str(tmp_path / "x.csv"), "no such file")):  # fmt: skip
        with pytest.raises(ParameterError, match=rule):
            check_data_source(bad)
