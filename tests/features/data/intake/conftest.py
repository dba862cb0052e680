"""A corpus of broken and awkward export files, written fresh into a temporary folder.

Each case is a file (or folder) as a user might bring it; the tests say what must happen:
a clear one-line refusal naming file, column and rule, or a load whose counts are right.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

HEADER = "customer_id,ts,event_type,value\n"


def _rows(n: int, start: int = 0) -> str:
    return "".join(
        f"c{i % 7},2025-01-{i % 28 + 1:02d} 10:00,visit,{i}.5\n" for i in range(start, start + n)
    )


def _text(body: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda path: path.write_bytes(body.encode(encoding))


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _quoted_thousands(path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "ts", "value"])
        for i in range(200):
            writer.writerow([f"{i:04d}", "2025-02-01 09:30", f"{1000 + i * 37.25:,.2f}"])


def _parquet(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_parquet(path, index=False)


def _truncated_parquet(path: Path) -> None:
    full = path.with_suffix(".full")
    pd.DataFrame({"customer_id": ["a"] * 50, "ts": pd.Timestamp("2025-01-01")}).to_parquet(full)
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: len(data) // 2])


def _excel(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_excel(path, index=False)


def _folder(path: Path) -> None:
    path.mkdir()


def _ready(n: int = 40, **columns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "client": [f"{i:03d}" for i in range(n)],
            "age": [20 + i % 40 for i in range(n)],
            "job": ["admin", "services", "technician", "retired"] * (n // 4),
            "y": ["yes", "no", "no", "no"] * (n // 4),
        }
    )
    return frame.assign(**columns)


MIXED = b"customer_id,ts,city\n" + "c1,2025-01-01,北京\n".encode()
MIXED += "c2,2025-01-02,上海\n".encode("gb18030")

# name -> (file name, writer)
EVENT_CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "empty_file": ("empty.csv", _text("")),
    "blank_lines_only": ("blank.csv", _text("\n\n  \n")),
    "header_only": ("header.csv", _text(HEADER)),
    "wrong_separator": ("semicolons.csv", _text(HEADER.replace(",", ";") + "c1;2025-01-01;a;1\n")),
    "missing_id_column": ("no_id.csv", _text("user,ts\nu1,2025-01-01\n")),
    "missing_time_column": ("no_time.csv", _text("customer_id,when\nc1,2025-01-01\n")),
    "duplicate_column_names": ("dupes.csv", _text("customer_id,ts,ts\nc1,2025-01-01,x\n")),
    "all_timestamps_unparseable": ("bad_ts.csv", _text("customer_id,ts\nc1,soon\nc2,later\n")),
    "some_timestamps_unparseable": (
        "some_bad_ts.csv", _text(HEADER + _rows(98) + "c1,soon,visit,1\nc2,never,visit,2\n")
    ),
    "many_timestamps_unparseable": (
        "many_bad_ts.csv", _text(HEADER + _rows(50) + "c1,soon,visit,1\n" * 10)
    ),
    "mixed_encodings": ("mixed.csv", _bytes(MIXED)),
    "not_text": ("binary.csv", _bytes(b"customer_id,ts\n\xff\xfe\xff\x80\x81\xff,\xff\n")),
    "truncated_parquet": ("truncated.parquet", _truncated_parquet),
    "non_numeric_amounts": (
        "words.csv", _text(HEADER + "".join(f"c{i},2025-01-01,v,lots\n" for i in range(20)))
    ),
    "nan_inf_amounts": (
        "nan_inf.csv", _text(HEADER + _rows(60) + "c1,2025-01-02,v,inf\nc2,2025-01-02,v,NaN\n")
    ),
    "negative_amounts": ("refunds.csv", _text(HEADER + _rows(5) + "c1,2025-01-03,refund,(12.50)\n")),
    "future_timestamps": ("future.csv", _text(HEADER + _rows(5) + "c1,2031-01-01,visit,1\n")),
    "leading_zero_ids": ("zeros.csv", _text("customer_id,ts\n007,2025-01-01\n7,2025-01-02\n")),
    "one_row": ("one_row.csv", _text("customer_id,ts\nc1,2025-01-01\n")),
    "one_customer": ("one_customer.csv", _text("customer_id,ts\n" + "c1,2025-01-01\n" * 1 + "c1,2025-01-05\n")),
    "utf8_bom_crlf": ("bom.csv", _bytes(b"\xef\xbb\xbf" + HEADER.replace("\n", "\r\n").encode() + b"c1,2025-01-01,v,1\r\n")),
    "gb18030_chinese_headers": (
        "gb.csv", _text("客户编号,时间,金额\n001,2025/03/01 10:00,\"￥1,234.50\"\n002,20250302,88元\n", "gb18030")
    ),
    "quoted_newlines": ("quoted.csv", _text('customer_id,ts,note\nc1,2025-01-01,"a, b\nc"\nc2,2025-01-02,x\n')),
    "quoted_thousands": ("thousands.csv", _quoted_thousands),
    "excel_serial_dates": ("serial.csv", _text("customer_id,ts\nc1,45717.5\nc2,45718\n")),
    "malformed_lines": ("ragged.csv", _text(HEADER + _rows(30) + "c1,2025-01-01\nc1,2025-01-01,a,1,extra\n")),
    "aware_parquet": (
        "aware.parquet",
        _parquet(pd.DataFrame({"customer_id": ["a"], "ts": pd.to_datetime(["2025-01-01T00:00Z"])})),
    ),
    "excel_chinese_headers": (
        "log.xlsx",
        _excel(pd.DataFrame({"会员号": ["0012", "0013"], "下单时间": ["2025-03-01 10:00", "20250302"], "实付金额": ["¥1,234.50", "-3"]})),
    ),
    "folder_for_file": ("folder.csv", _folder),
}  # fmt: skip

READY_CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "ready_one_class": ("one_class.csv", lambda p: _ready(y="no").to_csv(p, index=False)),
    "ready_three_classes": (
        "three.csv", lambda p: _ready(y=["a", "b", "c", "a"] * 10).to_csv(p, index=False)
    ),
    "ready_target_in_drop_cols": ("drop.csv", lambda p: _ready().to_csv(p, index=False)),
    "ready_personal_fields": (
        "personal.xlsx",
        _excel(_ready(姓名=["王小明"] * 40, phone=["13800000000"] * 40, 身份证号=["110101199001011234"] * 40)),
    ),
    "ready_folder_for_file": ("ready_folder.csv", _folder),
    "ready_leading_zero_ids": ("ids.csv", lambda p: _ready().to_csv(p, index=False)),
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """Every corpus case written to its own file; case name -> path."""
    folder = tmp_path_factory.mktemp("intake_corpus")
    paths = {}
    for name, (file_name, write) in {**EVENT_CASES, **READY_CASES}.items():
        path = folder / file_name
        write(path)
        paths[name] = path
    return paths
