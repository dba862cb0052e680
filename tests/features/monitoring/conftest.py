"""Fixtures of the monitoring tests: tiny scored lists and a small synthetic lab."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def scored_lists() -> pd.DataFrame:
    """Two as-of dates, 300 customers each, calibrated on the first and under-predicting on the
    second (realised rates three times the predictions)."""
    rng = np.random.default_rng(0)
    frames = []
    for as_of, factor in (("2025-01-01", 1.0), ("2025-02-01", 3.0)):
        p = rng.uniform(0.01, 0.3, 300)
        y = (rng.random(300) < np.clip(p * factor, 0, 1)).astype("int64")
        bucket = np.where(
            p > np.quantile(p, 0.8), "high", np.where(p > np.quantile(p, 0.5), "medium", "low")
        )
        frames.append(
            pd.DataFrame(
                {
                    "as_of": as_of,
                    "customer_id": [f"C{i:07d}" for i in range(300)],
                    "probability": p,
                    "bucket": bucket,
                    "label": y,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """Data, reports and MLflow under tmp_path."""
    monkeypatch.setenv("NEV_LAB_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("NEV_LAB_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("NEV_LAB_MLFLOW_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    return tmp_path


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A real two-list replay on 6,000 synthetic customers (with the planted drift); the second
    list (2025-07-01) is the first with a year-ago reference."""
    from features import monitoring

    root = tmp_path_factory.mktemp("monitoring-lab")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEV_LAB_DATA_ROOT", str(root / "data"))
        patch.setenv("NEV_LAB_REPORTS_DIR", str(root / "reports"))
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        patch.setenv("NEV_LAB_MLFLOW_ARTIFACTS", str(root / "artifacts"))
        patch.setenv("OMP_WAIT_POLICY", "PASSIVE")
        params = monitoring.validate_params(
            n_customers=6000,
            as_of_dates=["2025-04-01", "2025-07-01"],
            drift=True,
            num_threads=1,
            output_dir=str(root / "out"),
        )
        run = monitoring.run_monitoring(params)
        figures = monitoring.make_figures(run, params)
        record = monitoring.save_and_track(run, figures, params)
        yield {"root": root, "params": params, "run": run, "figures": figures, "record": record}
