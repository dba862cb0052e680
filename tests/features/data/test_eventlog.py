"""Loading event logs: every cleaning rule counted, every bad input named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import schema
from features.data.eventlog import DataError, load_event_log

QUIRKY_CSV = (
    "customer_id;date;amount\r\n"
    "c1;2024-01-05;10,5\r\n"
    "c1;2024-01-05;10,5\r\n"  # exact duplicate
    "customer_id;date;amount\r\n"  # stray header from a concatenated export
    "c1;2024-01-05;3\r\n"  # second row on the same day
    "c2;2024/01/07;0\r\n"  # zero amount, other date format
    "\r\n"
    "c3;not a date;4\r\n"
    ";2024-01-01;5\r\n"  # no id
    "c2;2024-02-01 10:00;\r\n"  # no amount
    "c4;2024-02-03;¥1.234,00\r\n"
)


def _write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_quirky_csv_is_cleaned_and_counted(tmp_path, capsys):
    path = _write(tmp_path, "log.csv", QUIRKY_CSV)
    log = load_event_log(path, time_col="date", amount_col="amount")
    counts = log.cleaning
    assert counts["crlf_line_endings"] == 11
    assert counts["repeated_header_lines"] == 1
    assert counts["blank_lines"] == 1
    assert counts["duplicate_rows"] == 1
    assert counts["null_ids"] == 1
    assert counts["unparseable_timestamps"] == 1
    assert counts["zero_amounts"] == 1
    assert counts["missing_amounts"] == 1
    assert counts["rows_sharing_a_customer_day"] == 1
    assert counts["decimal_comma_amounts"] == 3
    assert counts["unparseable_amounts"] == 0
    events = log.events
    assert list(events.columns) == list(schema.EVENT_COLUMNS)
    assert str(events["ts"].dtype) == "datetime64[us]"
    assert events["customer_id"].dtype == "str"
    assert isinstance(events["event_type"].dtype, pd.CategoricalDtype)
    assert events["value"].dtype == "float64"
    assert len(events) == 5
    assert sorted(events["value"].dropna()) == [0.0, 3.0, 10.5, 1234.0]
    assert set(events["event_type"]) == {"event"}
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "duplicate_rows 1" in out and "';'" in out


@pytest.mark.parametrize("sep", [",", "\t", "|", ";"])
def test_separator_is_sniffed(tmp_path, sep):
    text = sep.join(["uid", "when", "kind", "spend"]) + "\n"
    text += sep.join(["u1", "2024-03-01 10:00:00", "buy", "12.5"]) + "\n"
    text += sep.join(["u2", "2024-03-02T11:00:00", "view", ""]) + "\n"
    path = _write(tmp_path, "log.txt", text)
    log = load_event_log(
        path,
        id_col="uid",
        time_col="when",
        event_type_col="kind",
        amount_col="spend",
        verbose=False,
    )
    assert list(log.events["customer_id"]) == ["u1", "u2"]
    assert list(log.events["event_type"].astype("str")) == ["buy", "view"]
    assert log.events["value"].iloc[0] == 12.5 and np.isnan(log.events["value"].iloc[1])


def test_gb18030_text_and_timezones(tmp_path):
    text = "customer_id,ts,event_type\n客户1,2024-03-01T10:00:00+08:00,下单\n"
    path = _write(tmp_path, "log.csv", text, encoding="gb18030")
    log = load_event_log(path, verbose=False)
    assert log.events["customer_id"].iloc[0] == "客户1"
    # time-zone rule: aware stamps become naive business time (Asia/Shanghai by default)
    assert log.events["ts"].iloc[0] == pd.Timestamp("2024-03-01 10:00:00")
    utc = load_event_log(path, business_tz="UTC", verbose=False)
    assert utc.events["ts"].iloc[0] == pd.Timestamp("2024-03-01 02:00:00")


def test_missing_configured_column_names_file_column_and_rule(tmp_path):
    path = _write(tmp_path, "log.csv", "customer_id,date,amount\nc1,2024-01-01,3\n")
    with pytest.raises(DataError, match=r"log\.csv: column 'amt' not found \(rule: amount_col"):
        load_event_log(path, time_col="date", amount_col="amt", verbose=False)
    with pytest.raises(DataError, match=r"log\.csv: column 'ts' not found \(rule: time_col"):
        load_event_log(path, verbose=False)
    with pytest.raises(DataError, match="column 'user' not found"):
        load_event_log(path, id_col="user", time_col="date", verbose=False)


def test_default_optional_columns_may_be_absent(tmp_path):
    path = _write(tmp_path, "log.csv", "customer_id,ts\nc1,2024-01-01\n")
    events = load_event_log(path, verbose=False).events
    assert events["channel"].isna().all() and events["value"].isna().all()


def test_missing_file_and_empty_log(tmp_path):
    with pytest.raises(DataError, match="nope.csv: file not found"):
        load_event_log(tmp_path / "nope.csv")
    path = _write(tmp_path, "log.csv", "customer_id,ts\n,2024-01-01\nc2,never\n")
    with pytest.raises(DataError, match="no usable rows"):
        load_event_log(path, verbose=False)


def test_drop_zero_amounts_is_explicit(tmp_path):
    path = _write(tmp_path, "log.csv", "customer_id,ts,value\nc1,2024-01-01,0\nc1,2024-01-02,5\n")
    kept = load_event_log(path, verbose=False)
    dropped = load_event_log(path, drop_zero_amounts=True, verbose=False)
    assert len(kept.events) == 2 and len(dropped.events) == 1
    assert dropped.cleaning["zero_amounts_dropped"] == 1


def test_parquet_event_log_with_own_column_names(tmp_path):
    frame = pd.DataFrame(
        {
            "user": ["a", "a", "b", None],
            "time": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01"]),
            "amount": [1.0, 1.0, 0.0, 2.0],
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path, index=False)
    log = load_event_log(path, id_col="user", time_col="time", amount_col="amount", verbose=False)
    assert log.cleaning["duplicate_rows"] == 1 and log.cleaning["null_ids"] == 1
    assert len(log.events) == 2
    assert set(log.input_hashes) == {"log.parquet"}


def test_dataset_folder_drops_personal_fields_and_never_reads_truth(
    raw_dataset, nev_events, personal_values
):
    # truth.parquet is not Parquet: reading it would fail
    log = load_event_log(raw_dataset, verbose=False)
    assert log.customers is not None
    assert not set(schema.PERSONAL_FIELDS) & set(log.customers.columns)
    text = log.customers.astype("str").to_csv() + log.events.astype("str").to_csv()
    assert not any(value in text for value in personal_values)
    assert set(log.input_hashes) == {"events.parquet", "customers.parquet", "manifest.json"}
    assert len(log.events) == len(nev_events)
    assert str(log.customers["lead_created_at"].dtype) == "datetime64[us]"


def test_dataset_folder_missing_table(raw_dataset):
    (raw_dataset / "events.parquet").unlink()
    with pytest.raises(DataError, match=r"events\.parquet: file not found"):
        load_event_log(raw_dataset)


def test_dataframe_source_and_summary(nev_events):
    log = load_event_log(nev_events, verbose=False)
    assert log.n_customers == 9
    assert "events DataFrame" in log.summary()
    assert len(next(iter(log.input_hashes.values()))) == 64
