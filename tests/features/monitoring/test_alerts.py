import pandas as pd

from features.monitoring.alerts import calibration_alerts, outside_by, psi_alerts, psi_warnings
from features.monitoring.metrics import bucket_calibration


def _row(mean, low, high):
    return pd.DataFrame(
        [
            {"as_of": "2025-05-01", "bucket": "high", "n": 200, "positives": 80,
             "mean_predicted": mean, "realised_rate": (low + high) / 2, "ci_low": low,
             "ci_high": high, "calibration_gap": mean - (low + high) / 2}
        ]
    )  # fmt: skip


def test_alert_needs_a_miss_beyond_the_margin():
    assert calibration_alerts(_row(0.30, 0.32, 0.40), margin=0.05) == []
    [line] = calibration_alerts(_row(0.20, 0.32, 0.40), margin=0.05)
    assert "2025-05-01" in line and "high bucket" in line and "under-predicts" in line
    [line] = calibration_alerts(_row(0.50, 0.32, 0.40), margin=0.05)
    assert "over-predicts" in line
    assert outside_by(_row(0.35, 0.32, 0.40)).iloc[0] == 0


def test_the_under_predicted_list_alerts_and_the_calibrated_one_does_not(scored_lists):
    lines = calibration_alerts(bucket_calibration(scored_lists), margin=0.02)
    assert lines and all("2025-02-01" in line for line in lines)


def test_score_psi_alerts_and_feature_psi_warns():
    psi = pd.DataFrame(
        {
            "as_of": ["2025-01-01", "2025-01-01", "2025-02-01"],
            "feature": ["score", "recency_days", "score"],
            "psi": [0.05, 0.3, 0.25],
        }
    )
    [alert] = psi_alerts(psi, 0.2)
    assert "2025-02-01" in alert and "score PSI 0.250" in alert
    [warning] = psi_warnings(psi, 0.2)
    assert "recency_days" in warning
