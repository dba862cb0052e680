import pandas as pd
import pytest

from features.monitoring.replay import (
    MONTH_SCORE_NAME,
    SCORED_COLUMNS,
    check_as_of_dates,
    default_as_of_dates,
    previous_month_date,
    year_ago_date,
)
from features.params import ParameterError


def test_default_dates_are_monthly_over_the_last_year_leaving_the_horizon():
    dates = default_as_of_dates(pd.Timestamp("2026-01-01"), 90)
    assert dates[0] == pd.Timestamp("2025-01-01") and dates[-1] == pd.Timestamp("2025-10-01")
    assert len(dates) == 10
    assert all(d + pd.Timedelta(days=90) <= pd.Timestamp("2026-01-01") for d in dates)


def test_dates_without_room_are_refused_naming_the_parameter():
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2026-01-01")
    with pytest.raises(ParameterError, match="'as_of_dates'.*runs past"):
        check_as_of_dates([pd.Timestamp("2025-12-01")], start, end, 90)
    with pytest.raises(ParameterError, match="'as_of_dates'.*nothing to train"):
        check_as_of_dates([pd.Timestamp("2024-02-01")], start, end, 90)
    with pytest.raises(ParameterError, match="'as_of_dates'"):
        check_as_of_dates([], start, end, 90)


def test_the_year_ago_reference_needs_a_full_training_window_before_it():
    start = pd.Timestamp("2024-01-01")
    # 2024-06-29 = start + 90 + 90 days: the first year-ago date the data cover fully
    assert year_ago_date(pd.Timestamp("2025-07-01"), start, 90, 90) == pd.Timestamp("2024-07-01")
    assert year_ago_date(pd.Timestamp("2025-06-01"), start, 90, 90) is None
    assert year_ago_date(pd.Timestamp("2025-06-01"), start, 30, 30) == pd.Timestamp("2024-06-01")
    assert previous_month_date(pd.Timestamp("2025-03-31"), start) == pd.Timestamp("2025-02-28")
    assert previous_month_date(pd.Timestamp("2024-02-01"), start) is None


def test_each_list_trains_before_its_as_of_date_and_scores_at_it(small_run):
    run = small_run["run"]
    assert [f"{item.as_of:%Y-%m-%d}" for item in run.replay.lists] == ["2025-04-01", "2025-07-01"]
    for item in run.replay.lists:
        # training labels end where the scored list begins: nothing after as_of is used
        assert item.train_cutoff + pd.Timedelta(days=90) == item.as_of
        assert set(item.scored["bucket"]) == {"high", "medium", "low"}
        assert item.scored["probability"].between(0, 1).all()
        assert item.scored["customer_id"].is_unique
        assert 0 < len(item.top_features) <= 10
        assert item.psi["feature"].iloc[0] == "score"
    assert list(run.replay.scored.columns) == list(SCORED_COLUMNS)
    first, second = run.replay.lists
    assert MONTH_SCORE_NAME in set(first.psi["feature"]) and MONTH_SCORE_NAME in set(
        second.psi["feature"]
    )
    # the year-ago reference: only the July list's window (2024-07-01) is covered by the data
    assert first.year_ago.empty and len(second.year_ago) > 100
    assert set(run.replay.year_ago["as_of"]) == {"2025-07-01"}
    assert set(run.checks["reference"]) == {"none", "year ago"}
    assert (run.checks.loc[run.checks["as_of"] == "2025-07-01", "reference"] == "year ago").all()
    assert not {"full_name", "phone"} & set(run.replay.scored.columns)


def test_the_drift_dataset_has_its_own_folder(small_run):
    assert small_run["run"].replay.dataset == "synthetic_n6000_s42_drift"
