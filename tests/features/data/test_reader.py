"""The reader: encodings, quoting, amount and timestamp formats, the time-zone rule."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from features.data import reader
from features.data.eventlog import DataError, load_event_log


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", 1234.5),
        ("12,5", 12.5),
        ("1.234,50", 1234.5),
        ("¥1,234.50", 1234.5),
        ("￥88", 88.0),
        ("88元", 88.0),
        ("CNY 1 234,50", 1234.5),
        ("(123.45)", -123.45),
        ("-12", -12.0),
        ("12-", -12.0),
        ("1,234,567", 1234567.0),
        ("1e3", 1000.0),
        ("abc", np.nan),
        ("", np.nan),
    ],
)
def test_amount_formats(text, expected):
    amounts, _ = reader.parse_amounts(pd.Series([text, "1,234.50"]))
    assert amounts.iloc[0] == pytest.approx(expected, nan_ok=True)


def test_ambiguous_thousands_follow_the_column():
    decimal, _ = reader.parse_amounts(pd.Series(["1,234", "12,5"]))
    thousands, _ = reader.parse_amounts(pd.Series(["1,234", "2,000.00"]))
    assert decimal.tolist() == [1.234, 12.5]
    assert thousands.tolist() == [1234.0, 2000.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T10:00:00", "2025-03-01 10:00"),
        ("2025/03/01 10:00", "2025-03-01 10:00"),
        ("20250301", "2025-03-01"),
        ("2025年3月1日", "2025-03-01"),
        ("45717.5", "2025-03-01 12:00"),
        ("2025-03-01T02:00:00Z", "2025-03-01 10:00"),
        ("2025-03-01 10:00:00+08:00", "2025-03-01 10:00"),
        ("2025-03-01 10:00:00 UTC", "2025-03-01 18:00"),
    ],
)
def test_timestamp_formats_and_the_time_zone_rule(text, expected):
    parsed = reader.parse_timestamps(pd.Series([text]))
    assert parsed.iloc[0] == pd.Timestamp(expected)
    assert str(parsed.dtype) == "datetime64[us]"


def test_aware_datetimes_become_business_time():
    stamps = pd.Series(pd.to_datetime(["2025-03-01 00:00"]).tz_localize("UTC"))
    assert reader.to_business_time(stamps).iloc[0] == pd.Timestamp("2025-03-01 08:00")
    assert reader.business_timestamp("2025-03-01T00:00Z") == pd.Timestamp("2025-03-01 08:00")
    assert reader.business_timestamp("2025-03-01") == pd.Timestamp("2025-03-01")


def test_quoted_thousands_from_the_csv_module_keep_every_amount(tmp_path):
    rng = np.random.default_rng(3)
    amounts = rng.uniform(1, 5000, 3960).round(2)
    path = tmp_path / "crm_export.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "ts", "value"])
        for i, amount in enumerate(amounts):
            writer.writerow([f"{i % 400:05d}", f"2025-01-{i % 28 + 1:02d} 10:00", f"{amount:,.2f}"])
    log = load_event_log(path, verbose=False)
    assert log.cleaning["unparseable_amounts"] == 0
    assert log.events["value"].notna().all()
    assert sorted(log.events["value"]) == pytest.approx(sorted(amounts))
    assert log.events["customer_id"].str.len().eq(5).all()  # leading zeros kept


def test_quoted_separators_newlines_and_chinese_headers(tmp_path):
    path = tmp_path / "导出.csv"
    text = '客户编号,时间,金额,备注\n"007","2025/03/01 10:00","1,200.00","a, b\nc"\n008,20250302,12,x\n'
    path.write_bytes(text.encode("gb18030"))
    log = load_event_log(path, id_col="客户编号", time_col="时间", amount_col="金额", verbose=False)
    assert log.events["customer_id"].tolist() == ["007", "008"]
    assert log.events["value"].tolist() == [1200.0, 12.0]
    assert "gb18030" in log.source


def test_unparseable_share_above_threshold_is_refused(tmp_path):
    lines = ["customer_id,ts,金额"] + [f"c{i},2025-01-01,{i}" for i in range(60)]
    lines += [f"c{i},2025-01-01,n/a?" for i in range(40)]
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"log\.csv: 40% of amounts unparseable in column '金额'"):
        load_event_log(path, amount_col="金额", verbose=False)
    log = load_event_log(path, amount_col="金额", max_unparseable_share=0.5, verbose=False)
    assert log.cleaning["unparseable_amounts"] == 40


def test_excel_event_log(tmp_path):
    frame = pd.DataFrame(
        {
            "客户": ["001", "002"],
            "时间": pd.to_datetime(["2025-03-01 10:00", "2025-03-02 11:00"]),
            "金额": ["1,234.50", "(5.00)"],
        }
    )
    path = tmp_path / "log.xlsx"
    frame.to_excel(path, index=False)
    log = load_event_log(path, id_col="客户", time_col="时间", amount_col="金额", verbose=False)
    assert log.events["customer_id"].tolist() == ["001", "002"]
    assert log.events["value"].tolist() == [1234.5, -5.0]
    assert log.events["ts"].iloc[0] == pd.Timestamp("2025-03-01 10:00")
