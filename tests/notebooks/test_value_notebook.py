"""Smoke tests: notebook 04_value runs on synthetic data and on a bare (id, date, amount) log."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from features import config
from features.data.datasets import ensure_synthetic_dataset

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "04_value.ipynb"
TINY = {"n_customers": 6000, "num_threads": 1, "horizon_days": 180, "training_cutoffs": 2}
KEYS = ("holdout_value_error", "holdout_count_error", "gini_normalised", "spearman",
        "top_decile_capture", "baseline_gini_normalised", "baseline_holdout_value_error",
        "model_name", "component_shares", "oracle_gini_normalised", "n_customers")  # fmt: skip


def test_value_notebook_on_synthetic_data(execute_with_metrics, isolated_lab, check_rendered):
    metrics = execute_with_metrics(NOTEBOOK, isolated_lab, **TINY)
    check_rendered(isolated_lab / "executed" / NOTEBOOK.name, isolated_lab / "out",
                   isolated_lab / "html")  # fmt: skip
    for key in KEYS:
        assert key in metrics, key
    assert metrics["gini_normalised"] > 0.4
    assert 0.3 < metrics["oracle_gini_normalised"] <= 1.0
    assert metrics["gini_normalised"] < metrics["oracle_gini_normalised"] + 0.05
    low, high = metrics["oracle_gini_share_interval"]
    assert 0 < low <= metrics["oracle_gini_share"] <= high
    assert abs(metrics["holdout_value_error"]) < 0.3
    shares = metrics["component_shares"]
    assert shares["usage"] == pytest.approx(0.45, abs=0.07)
    value = pd.read_parquet(isolated_lab / "out" / "value.parquet")
    assert len(value) == metrics["n_customers"] and value["customer_id"].is_unique
    assert {"predicted_value", "value_decile", "reasons"} <= set(value.columns)
    assert not {"full_name", "phone", "realised_value"} & set(value.columns)
    # a fresh process loads the champion and reproduces the notebook's predictions
    features = isolated_lab / "out" / "value_features.parquet"
    code = (
        "import mlflow, pandas as pd, sys; "
        "m = mlflow.pyfunc.load_model('models:/nev-value@champion'); "
        f"f = pd.read_parquet({str(features)!r}); "
        "print(float(m.predict(f)['predicted_value'].sum()))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) == pytest.approx(
        value["predicted_value"].sum(), rel=1e-6
    )


def test_value_notebook_on_a_bare_transaction_log(execute_with_metrics, isolated_lab):
    folder = ensure_synthetic_dataset(6000, 42)
    events = pd.read_parquet(folder / "events.parquet")
    money = events[events["value"].notna() & events["event_type"].str.endswith(
        ("_purchase", "_payment", "_order"))]  # fmt: skip
    log = pd.DataFrame({"cust": money["customer_id"], "date": money["ts"].dt.date.astype(str),
                        "amount": money["value"]})  # fmt: skip
    path = isolated_lab / "transactions.csv"
    log.to_csv(path, index=False)
    metrics = execute_with_metrics(NOTEBOOK, isolated_lab, **TINY, data_source=str(path), id_col="cust",
                      time_col="date", amount_col="amount", event_type_col="")  # fmt: skip
    assert metrics["component_shares"] is None and metrics["oracle_gini_normalised"] is None
    assert metrics["oracle_gini_share"] is None and metrics["oracle_gini_share_interval"] is None
    assert metrics["gini_normalised"] > 0.3
    assert metrics["holdout_count_error"] is None or abs(metrics["holdout_count_error"]) < 0.5
