import pandas as pd

from features.monitoring.alerts import (
    calibration_alerts,
    outside_by,
    psi_alert_dates,
    psi_alerts,
    psi_warnings,
    seasonal_check,
)
from features.monitoring.metrics import bucket_calibration, wilson_interval


def _bucket(as_of, mean, positives, n, bucket="high"):
    low, high = wilson_interval(positives, n)
    return {"as_of": as_of, "bucket": bucket, "n": n, "positives": positives,
            "mean_predicted": mean, "realised_rate": positives / n, "ci_low": low,
            "ci_high": high, "calibration_gap": mean - positives / n}  # fmt: skip


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


def test_a_seasonal_miss_repeated_from_the_year_ago_window_does_not_alert():
    # the list under-predicts by 15 points, as the same model did on the window a year earlier
    now = pd.DataFrame([_bucket("2025-09-01", 0.30, 450, 1000)])
    year_ago = pd.DataFrame([_bucket("2025-09-01", 0.28, 430, 1000)])
    assert calibration_alerts(now, margin=0.05) != []  # the plain test alerts
    check = seasonal_check(now, year_ago)
    assert check["reference"].tolist() == ["year ago"] and check["outside_by"].iloc[0] == 0
    assert calibration_alerts(now, margin=0.05, year_ago=year_ago) == []


def test_drift_since_the_year_ago_window_alerts_and_lists_without_one_keep_the_plain_test():
    now = pd.DataFrame(
        [_bucket("2025-09-01", 0.30, 450, 1000), _bucket("2025-02-01", 0.30, 450, 1000)]
    )
    year_ago = pd.DataFrame([_bucket("2025-09-01", 0.30, 300, 1000)])  # calibrated then
    check = seasonal_check(now, year_ago)
    assert check["reference"].tolist() == ["year ago", "none"]
    # predicted change 0, realised change +0.15 (interval about +0.11 to +0.19)
    assert 0.09 < check["outside_by"].iloc[0] < 0.12
    assert check["outside_by"].iloc[1] == outside_by(now).iloc[1]
    lines = calibration_alerts(now, margin=0.05, year_ago=year_ago)
    assert (
        len(lines) == 2
        and "a year earlier" in lines[0]
        and "under-predicts" in lines[0]
        and "no year-ago" in lines[1]
    )


def test_score_psi_against_the_previous_month_has_its_own_threshold():
    psi = pd.DataFrame(
        {
            "as_of": ["2025-05-01", "2025-06-01", "2025-06-01"],
            "feature": ["score_vs_previous_month"] * 2 + ["score"],
            "psi": [0.05, 0.15, 0.15],
        }
    )
    [alert] = psi_alerts(psi, 0.2, 0.1)
    assert "2025-06-01" in alert and "previous month" in alert
    assert psi_alert_dates(psi, 0.2, 0.1) == {"2025-06-01"}
    assert psi_warnings(psi, 0.1) == []  # score rows are never feature warnings
