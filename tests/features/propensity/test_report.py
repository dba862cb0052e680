"""Tests of features.propensity.report: the plain-words verdicts."""

from __future__ import annotations

from features.propensity import report


def test_verdict_says_plainly_when_lightgbm_does_not_win() -> None:
    assert report.verdict("logistic", 0.80, 0.75).startswith("LightGBM beats")
    assert "does NOT beat" in report.verdict("logistic", 0.800, 0.799)
    assert "worse" in report.verdict("logistic", 0.70, 0.75)
