"""The intake corpus: every broken file is refused in one line naming file, column and rule;
every awkward one loads with the right counts; no raw file is ever changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from features.data import tabular
from features.data.eventlog import DataError, load_event_log


def tree_digest(path: Path) -> str:
    """sha256 over a file, or over every file under a folder."""
    digest = hashlib.sha256()
    for item in sorted([path] if path.is_file() else path.rglob("*")):
        if item.is_file():
            digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()


REFUSED = {
    "empty_file": r"empty\.csv: file is empty \(rule: the event log starts with a header",
    "blank_lines_only": r"blank\.csv: file is empty",
    "header_only": r"header\.csv: no usable rows",
    "wrong_separator": r"semicolons\.csv: column 'customer_id' not found .*wrong separator",
    "missing_id_column": r"no_id\.csv: column 'customer_id' not found \(rule: id_col is required",
    "missing_time_column": r"no_time\.csv: column 'ts' not found \(rule: time_col is required",
    "duplicate_column_names": r"dupes\.csv: duplicate column names \['ts'\]",
    "all_timestamps_unparseable": r"bad_ts\.csv: no usable rows: every timestamp in column "
    r"'ts' is unparseable .*first values 'soon', 'later'",
    "many_timestamps_unparseable": r"many_bad_ts\.csv: 17% of timestamps unparseable in column "
    r"'ts' \(10 of 60; rule: at most 5%.*first values 'soon'",
    "mixed_encodings": r"mixed\.csv: mixed encodings \(rule: one encoding per file\): 1 lines "
    r"are UTF-8, 1 are not \(first at line 3\)",
    "not_text": r"binary\.csv: not UTF-8 or GB18030 text",
    "truncated_parquet": r"truncated\.parquet: cannot be read as Parquet",
    "non_numeric_amounts": r"words\.csv: 100% of amounts unparseable in column 'value'.*'lots'",
    "folder_for_file": r"folder\.csv/events\.parquet: file not found \(rule: a dataset folder",
}
LOADS = {
    "some_timestamps_unparseable": {"unparseable_timestamps": 2},
    "nan_inf_amounts": {"non_finite_amounts": 1, "missing_amounts": 1},
    "negative_amounts": {"negative_amounts": 1},
    "leading_zero_ids": {"ids_differing_only_by_leading_zeros": 1},
    "malformed_lines": {"malformed_lines": 2},
    "utf8_bom_crlf": {"crlf_line_endings": 2},
    "one_row": {},
    "one_customer": {},
    "quoted_newlines": {},
    "excel_serial_dates": {},
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_broken_event_log_is_refused_in_one_line(corpus, case):
    path = corpus[case]
    before = tree_digest(path) if path.exists() else ""
    kwargs = {"sep": ","} if case == "wrong_separator" else {}
    with pytest.raises(DataError, match=REFUSED[case]) as raised:
        load_event_log(path, verbose=False, **kwargs)
    assert "\n" not in str(raised.value)
    assert (tree_digest(path) if path.exists() else "") == before


@pytest.mark.parametrize("case", sorted(LOADS))
def test_awkward_event_log_loads_and_counts(corpus, case):
    path = corpus[case]
    before = tree_digest(path)
    log = load_event_log(path, verbose=False)
    for key, value in LOADS[case].items():
        assert log.cleaning[key] == value, key
    assert len(log.events) >= 1 and log.events["ts"].notna().all()
    assert tree_digest(path) == before


def test_every_corpus_case_is_tested(corpus):
    tested = set(REFUSED) | set(LOADS) | set(READY_REFUSED)
    tested |= {"ready_personal_fields", "ready_leading_zero_ids"}
    tested |= {"future_timestamps", "gb18030_chinese_headers", "quoted_thousands"}
    tested |= {"aware_parquet", "excel_chinese_headers"}
    assert tested == set(corpus)
    assert len(tested) >= 30


def test_sniffed_separator_finds_the_columns(corpus):
    log = load_event_log(corpus["wrong_separator"], verbose=False)
    assert "';'" in log.source and log.events["value"].tolist() == [1.0]


def test_future_timestamps_past_as_of_are_counted_and_dropped(corpus):
    log = load_event_log(corpus["future_timestamps"], as_of="2025-06-30", verbose=False)
    assert log.cleaning["events_after_as_of"] == 1
    assert log.events["ts"].max() < pd.Timestamp("2025-06-30")


def test_chinese_exports_in_gb18030_and_excel(corpus):
    gb = load_event_log(corpus["gb18030_chinese_headers"], id_col="客户编号", time_col="时间",
                        amount_col="金额", verbose=False)  # fmt: skip
    assert gb.events["customer_id"].tolist() == ["001", "002"]
    assert gb.events["value"].tolist() == [1234.5, 88.0]
    xl = load_event_log(corpus["excel_chinese_headers"], id_col="会员号", time_col="下单时间",
                        amount_col="实付金额", verbose=False)  # fmt: skip
    assert xl.events["customer_id"].tolist() == ["0012", "0013"]
    assert xl.events["value"].tolist() == [1234.5, -3.0]
    assert xl.events["ts"].tolist() == [
        pd.Timestamp("2025-03-01 10:00"),
        pd.Timestamp("2025-03-02"),
    ]


def test_quoted_thousands_and_aware_parquet(corpus):
    log = load_event_log(corpus["quoted_thousands"], verbose=False)
    assert log.events["value"].notna().all() and log.events["value"].min() == 1000.0
    assert log.events["customer_id"].iloc[0] == "0000"
    aware = load_event_log(corpus["aware_parquet"], verbose=False)
    assert aware.events["ts"].iloc[0] == pd.Timestamp("2025-01-01 08:00")  # Asia/Shanghai


READY_REFUSED = {
    "ready_one_class": ({"positive_label": "no"}, r"one_class\.csv: column 'y' holds one class"),
    "ready_three_classes": ({}, r"column 'y': target values \['a', 'b', 'c'\] are not 0/1; set "
                                r"parameter positive_label"),
    "ready_target_in_drop_cols": ({"positive_label": "yes", "drop_cols": ["y"]},
                                  r"drop\.csv: target column 'y' is also listed in drop_cols"),
    "ready_folder_for_file": ({"positive_label": "yes"},
                              r"ready_folder\.csv: is a folder \(rule: the table is a file"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(READY_REFUSED))
def test_broken_ready_table_is_refused_in_one_line(corpus, case):
    kwargs, message = READY_REFUSED[case]
    path = corpus[case]
    before = tree_digest(path)
    with pytest.raises(tabular.TableError, match=message) as raised:
        tabular.load_ready_table(path, target="y", id_col="client", **kwargs)
    assert "\n" not in str(raised.value)
    assert tree_digest(path) == before


def test_ready_table_personal_fields_are_dropped_and_said(corpus):
    ready = tabular.load_ready_table(
        corpus["ready_personal_fields"], target="y", positive_label="yes", id_col="client"
    )
    assert not {"姓名", "phone", "身份证号"} & set(ready.features.columns)
    assert any("personal fields" in n and "身份证号" in n for n in ready.notes)


def test_ready_table_ids_keep_leading_zeros(corpus):
    ready = tabular.load_ready_table(
        corpus["ready_leading_zero_ids"], target="y", positive_label="yes", id_col="client"
    )
    assert ready.ids.iloc[:2].tolist() == ["000", "001"]
    assert ready.features["age"].dtype == "float64"
