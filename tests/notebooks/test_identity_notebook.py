"""Notebook 09_identity under papermill: two plain files of person records with Chinese
headers, a column mapping and an entity column, end to end; and the churn and conversion
notebooks on the event log rebuilt on one_id (the synthetic defaults: 8,000 persons). The
synthetic defaults run under nbval."""

from __future__ import annotations

import pandas as pd
import pytest

from features import config
from features.data.datasets import ensure_identity_sources
from features.data.synth_identity import TRUTH_FILE

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "09_identity.ipynb"
HEADERS = {"record_id": "记录编号", "name": "姓名", "phone": "手机号", "city": "城市",
           "address": "地址"}  # fmt: skip


def test_identity_notebook_on_two_own_files(execute_with_metrics, isolated_lab, check_rendered):
    folder = ensure_identity_sources(2000, 5)
    truth = pd.read_parquet(folder / TRUTH_FILE).set_index("record_id")["person_id"]
    paths = []
    for channel, encoding in (("app", "utf-8-sig"), ("store_visit", "gb18030")):
        frame = pd.read_parquet(folder / f"{channel}.parquet")
        frame["客户"] = frame["record_id"].map(truth)
        path = isolated_lab / f"{channel}.csv"
        frame.rename(columns=HEADERS).to_csv(path, index=False, encoding=encoding)
        paths.append(str(path))
    before = [open(p, "rb").read() for p in paths]
    metrics = execute_with_metrics(
        NOTEBOOK, isolated_lab, data_source=paths, record_id_col="记录编号", entity_col="客户",
        columns={"full_name": "姓名", "phone": "手机号", "city": "城市", "address": "地址",
                 "id_number": "身份证号"},  # not in these files: left out
        max_pairs=200_000,
    )  # fmt: skip
    check_rendered(isolated_lab / "executed" / NOTEBOOK.name, isolated_lab / "out",
                   isolated_lab / "html")  # fmt: skip
    assert metrics["n_sources"] == 2 and metrics["n_persons_true"] < metrics["n_records"]
    assert (
        metrics["pairwise_f1"] > 0.85 and metrics["pairwise_f1"] > metrics["baseline_pairwise_f1"]
    )
    assert "id_number" not in metrics["fields"]
    assert [open(p, "rb").read() for p in paths] == before
    written = pd.read_parquet(isolated_lab / "out" / "identity_map.parquet")
    phones = set(pd.read_parquet(folder / "app.parquet")["phone"].dropna())
    assert not phones & set(written.astype(str).to_numpy().ravel())


def test_churn_and_conversion_notebooks_on_the_log_rebuilt_on_one_id(
    execute_with_metrics, isolated_lab
):
    identity = execute_with_metrics(NOTEBOOK, isolated_lab, max_pairs=200_000)
    assert identity["n_ids_after"] < identity["n_ids_before"]
    log = next((isolated_lab / "data" / "processed" / "identity").glob("*/events_one_id.parquet"))
    for name, floor in (("03_churn.ipynb", 0.6), ("02_conversion.ipynb", 0.6)):
        (isolated_lab / "out" / "metrics.json").unlink()
        study = execute_with_metrics(config.NOTEBOOKS_DIR / name, isolated_lab,
                                     data_source=str(log), min_class_count=20, num_threads=1)  # fmt: skip
        assert study["n_train"] > 0 and study["roc_auc"] > floor, name
