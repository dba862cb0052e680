"""Smoke tests: notebook 05_actions runs on the synthetic campaigns and on a bare campaign table."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from features import config

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "05_actions.ipynb"
KEYS = ("qini", "auuc", "uplift_at_10pct", "uplift_at_30pct", "baseline_risk_qini",
        "random_qini", "oracle_qini", "pehe", "incremental_per_1000",
        "risk_policy_incremental_per_1000", "next_line_top1", "next_line_top2",
        "next_line_baseline_top1", "n_train", "n_test")  # fmt: skip


def test_actions_notebook_on_the_synthetic_test_drive_campaign(
    execute_with_metrics, isolated_lab, check_rendered
):
    metrics = execute_with_metrics(NOTEBOOK, isolated_lab, n_customers=6000, num_threads=1, task="test_drive",
                      budget=300)  # fmt: skip
    check_rendered(isolated_lab / "executed" / NOTEBOOK.name, isolated_lab / "out",
                   isolated_lab / "html")  # fmt: skip
    for key in KEYS:
        assert key in metrics, key
    assert metrics["random_qini"] == 0.0
    assert metrics["oracle_qini"] > 0.05 and metrics["qini"] > 0.0
    assert metrics["sample_ratio_p"] > 0.001
    assert metrics["next_line_n_lines"] == 4
    assert metrics["next_line_top1"] > metrics["next_line_baseline_top1"]
    assert metrics["n_contact"] <= 300
    plan = pd.read_parquet(isolated_lab / "out" / "actions.parquet")
    assert len(plan) == metrics["n_ranked"] and plan["customer_id"].is_unique
    assert {"action", "expected_uplift", "expected_incremental_value", "recommended_line",
            "reason_1"} <= set(plan.columns)  # fmt: skip
    assert not {"full_name", "phone", "outcome", "treated"} & set(plan.columns)
    dogs = plan[plan["action"] == "leave alone (sleeping dog)"]
    assert (dogs["expected_uplift"] < 0).all()
    # a fresh process loads the champion and reproduces the notebook's effects
    features = isolated_lab / "out" / "actions_features.parquet"
    code = (
        "import mlflow, pandas as pd; "
        "m = mlflow.pyfunc.load_model('models:/nev-actions-test_drive@champion'); "
        f"f = pd.read_parquet({str(features)!r}); "
        "p = m.predict(f); print(float(p['expected_uplift'].sum()), p['recommended_line'].nunique())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    total, lines = done.stdout.strip().splitlines()[-1].split()
    assert float(total) == pytest.approx(plan["expected_uplift"].sum(), rel=1e-6, abs=1e-9)
    assert int(lines) >= 1


def test_actions_notebook_on_a_bare_campaign_table(execute_with_metrics, isolated_lab):
    rng = np.random.default_rng(5)
    n = 4000
    wait = rng.gamma(2, 1.5, n)
    segment = rng.choice(["app", "store"], n)
    treated = (rng.random(n) < 0.5).astype(int)
    tau = np.where(wait > 4, 0.3, 0.0) - np.where(segment == "store", 0.1, 0.0)
    outcome = (rng.random(n) < np.clip(0.4 + treated * tau, 0, 1)).astype(int)
    table = pd.DataFrame({"cid": [f"{i:06d}" for i in range(n)], "got_offer": treated,
                          "renewed": outcome, "service_wait": wait.round(2),
                          "segment": segment, "later_field": outcome})  # fmt: skip
    path = isolated_lab / "campaign.csv"
    table.to_csv(path, index=False)
    metrics = execute_with_metrics(NOTEBOOK, isolated_lab, data_source=str(path), treatment_col="got_offer",
                      outcome_col="renewed", id_col="cid", drop_cols=["later_field"],
                      num_threads=1, budget=200)  # fmt: skip
    assert metrics["oracle_qini"] is None and metrics["next_line_top1"] is None
    assert metrics["qini"] > 0.1
    plan = pd.read_parquet(isolated_lab / "out" / "actions.parquet")
    assert len(plan) == n and plan["customer_id"].str.len().eq(6).all()
