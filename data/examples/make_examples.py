"""Rebuild the example exports from the public UCI bank-marketing table.

Usage: ``python data/examples/make_examples.py /path/to/bank_marketing.csv``. Writes a GB18030
CSV (gzip) and an Excel workbook, each a 3,000-row sample with Chinese column headers, a text
customer id with leading zeros and the target as 是/否, the way a CRM export looks.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROWS = 3000
CHINESE_HEADERS = {
    "age": "年龄",
    "job": "职业",
    "marital": "婚姻状况",
    "education": "教育程度",
    "default": "信用违约",
    "housing": "住房贷款",
    "loan": "个人贷款",
    "duration": "通话时长",
    "campaign": "本次联系次数",
    "pdays": "距上次联系天数",
    "previous": "此前联系次数",
    "emp.var.rate": "就业变化率",
    "cons.price.idx": "消费价格指数",
    "cons.conf.idx": "消费信心指数",
    "euribor3m": "三月期利率",
    "nr.employed": "就业人数",
    "y": "是否认购",
}


def make_export(source: Path, seed: int) -> pd.DataFrame:
    """A sample of the public table dressed as a Chinese CRM export."""
    table = pd.read_csv(source, sep=";").sample(ROWS, random_state=seed).reset_index(drop=True)
    table = table.rename(columns=CHINESE_HEADERS)
    table["是否认购"] = table["是否认购"].map({1: "是", 0: "否"})
    ids = pd.Series([f"0{seed}{i:05d}" for i in range(ROWS)], name="客户编号")
    return pd.concat([ids, table], axis=1)


def main(source: Path) -> None:
    """Write both example files next to this script."""
    csv_text = make_export(source, seed=1).to_csv(index=False)
    with open(HERE / "bank_marketing_gb18030.csv.gz", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write(csv_text.encode("gb18030"))
    make_export(source, seed=2).to_excel(HERE / "bank_marketing.xlsx", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
