"""The churn notebook end to end on the example exports shipped in data/examples/:
a GB18030 CSV (gzip) and an Excel workbook, both with Chinese headers and 是/否 targets.

``isolated_lab`` (tests/notebooks/conftest.py) keeps data, reports and MLflow under tmp_path."""

from __future__ import annotations

import json

import pytest

from features import config
from features.reports.execute import execute_notebook

pytestmark = pytest.mark.notebooks

EXAMPLES = config.PROJECT_ROOT / "data" / "examples"


@pytest.mark.parametrize("export", ["bank_marketing_gb18030.csv.gz", "bank_marketing.xlsx"])
def test_churn_notebook_on_a_chinese_export(isolated_lab, export):
    source = EXAMPLES / export
    before = source.read_bytes()
    out = isolated_lab / "out"
    notebook = config.NOTEBOOKS_DIR / "03_churn.ipynb"
    execute_notebook(
        notebook,
        isolated_lab / "executed" / notebook.name,
        {
            "data_source": f"data/examples/{export}",  # relative to the project root
            "target": "是否认购",
            "positive_label": "是",
            "id_col": "客户编号",
            "drop_cols": ["通话时长"],
            "min_class_count": 30,
            "n_trials": 0,
            "num_threads": 1,
            "output_dir": str(out),
        },
        kernel_log=isolated_lab / "executed" / "kernel.log",
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "random"
    assert metrics["n_train"] + metrics["n_test"] == 3000
    assert 0.65 < metrics["roc_auc"] <= 1
    assert metrics["lift_at_10pct"] > 1.5
    assert source.read_bytes() == before
