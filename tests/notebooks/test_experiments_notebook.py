"""Smoke test: notebook 08_experiments on a bring-your-own table (Chinese headers, A/B labels,
no truth) under papermill; the synthetic defaults run under nbval. No unit id reaches an
output."""

from __future__ import annotations

import pandas as pd
import pytest

from features import config
from features.data.synth_experiments import simulate_experiments

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "08_experiments.ipynb"
KEYS = ("aa_false_positive_rate", "aa_false_positive_rate_sequential", "cuped_variance_reduction",
        "empirical_power", "srm_flags", "n_experiments", "n_discoveries", "tests_per_second")  # fmt: skip


def test_experiments_notebook_on_an_own_table(execute_with_metrics, isolated_lab, check_rendered):
    units, _ = simulate_experiments(n_experiments=20, units_per_experiment=4000, seed=11,
                                    n_customers=8000)  # fmt: skip
    table = units.rename(columns={"experiment_id": "实验", "unit_id": "用户编号", "ts": "分组时间"})
    table["variant"] = table["variant"].map({"control": "A", "treatment": "B"})
    path = isolated_lab / "ab_tests.csv"
    stamps = table["分组时间"].dt.strftime("%Y-%m-%d %H:%M:%S")
    table.assign(分组时间=stamps).to_csv(path, index=False, encoding="utf-8-sig")
    metrics = execute_with_metrics(
        NOTEBOOK, isolated_lab, data_source=str(path), experiment_col="实验", unit_col="用户编号",
        time_col="分组时间", control_label="A", treatment_label="B", n_aa_simulations=300,
        sequential=True,
    )  # fmt: skip
    check_rendered(isolated_lab / "executed" / NOTEBOOK.name, isolated_lab / "out",
                   isolated_lab / "html")  # fmt: skip
    for key in KEYS:
        assert key in metrics, key
    assert metrics["n_experiments"] == 20 and metrics["sequential_decisions"]
    assert "fdr_realised" not in metrics  # no truth in a bring-your-own table
    assert metrics["srm_flags"] >= 1  # the generator's planted mismatch is in the table
    results = pd.read_csv(isolated_lab / "out" / "results.csv")
    assert len(results) == 20 * 4
    assert set(results["decision"]) <= {"ship", "no ship", "inconclusive", "guardrail breach"}
    some_ids = set(units["unit_id"].sample(50, random_state=0))
    for written in (isolated_lab / "out").glob("*.csv"):
        text = written.read_text()
        assert not [u for u in some_ids if u in text], written.name
