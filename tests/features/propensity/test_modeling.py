"""Tests of features.propensity.modeling: splits, LightGBM, baselines and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss, roc_auc_score

from features.propensity import modeling


@pytest.fixture(scope="module")
def parts() -> dict[str, object]:
    X, y = make_classification(
        n_samples=3000, n_features=6, n_informative=4, weights=[0.8], random_state=3
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    frame.loc[::7, "x0"] = np.nan
    frame["band"] = pd.Categorical(np.where(frame["x1"] > 0.5, "top", "rest"))
    frame.loc[::11, "band"] = np.nan
    y = pd.Series(y)
    train, test = modeling.stratified_holdout(y, 0.3, seed=0)
    fit, valid = modeling.stratified_holdout(y.iloc[train], 0.25, seed=1)
    X_train, y_train = (
        frame.iloc[train].reset_index(drop=True),
        y.iloc[train].reset_index(drop=True),
    )
    return {
        "X_fit": X_train.iloc[fit],
        "y_fit": y_train.iloc[fit],
        "X_valid": X_train.iloc[valid],
        "y_valid": y_train.iloc[valid],
        "X_test": frame.iloc[test],
        "y_test": y.iloc[test],
    }


def test_stratified_holdout_is_disjoint_and_keeps_the_rate() -> None:
    y = pd.Series([1] * 100 + [0] * 900)
    train, test = modeling.stratified_holdout(y, 0.2, seed=0)
    assert len(set(train) & set(test)) == 0 and len(train) + len(test) == len(y)
    assert y.iloc[test].mean() == pytest.approx(0.1)
    with pytest.raises(modeling.ModelingError, match="each class"):
        modeling.stratified_holdout(pd.Series([1, 0, 0, 0]), 0.5, seed=0)


def test_split_time_ordered_puts_latest_rows_in_test() -> None:
    times = pd.Series(pd.to_datetime(["2024-03-01", "2024-01-01", "2024-04-01", "2024-02-01"]))
    train, test = modeling.split_time_ordered(times, 0.25)
    assert test.tolist() == [2]
    assert train.tolist() == [0, 1, 3]


def test_imbalance_is_handled_by_weights() -> None:
    y = np.array([1, 0, 0, 0, 0])
    assert modeling.imbalance_params(y) == {"scale_pos_weight": 2.0}
    assert modeling.imbalance_params(y, "scale_pos_weight") == {"scale_pos_weight": 4.0}
    assert modeling.imbalance_params(y, "is_unbalance") == {"is_unbalance": True}
    assert modeling.imbalance_params(y, "none") == {}
    with pytest.raises(modeling.ModelingError, match="imbalance method"):
        modeling.imbalance_params(y, "oversample")


def test_lightgbm_learns_and_stops_early(parts) -> None:
    model = modeling.train_lightgbm(
        parts["X_fit"],
        parts["y_fit"],
        parts["X_valid"],
        parts["y_valid"],
        modeling.TrainingSetup(num_threads=1),
    )
    auc = roc_auc_score(parts["y_test"], modeling.predict_positive(model, parts["X_test"]))
    assert auc > 0.85
    assert 0 < model.best_iteration_ < modeling.MAX_BOOSTING_ROUNDS
    assert model.n_features_in_ == parts["X_fit"].shape[1]


def test_cross_validated_training_refits_on_all_rows(parts) -> None:
    X = pd.concat([parts["X_fit"], parts["X_valid"]])
    y = pd.concat([parts["y_fit"], parts["y_valid"]])
    result = modeling.train_lightgbm_cv(X, y, modeling.TrainingSetup(num_threads=1), n_folds=3)
    assert len(result.best_iterations) == 3
    assert result.model.n_estimators == round(np.mean(result.best_iterations))
    assert result.oof_raw.shape == (len(y),) and ((result.oof_raw > 0) & (result.oof_raw < 1)).all()
    assert result.cv_roc_auc == pytest.approx(roc_auc_score(y, result.oof_raw))
    assert result.model.booster_.num_trees() == result.model.n_estimators
    auc = roc_auc_score(parts["y_test"], modeling.predict_positive(result.model, parts["X_test"]))
    assert auc > 0.85
    with pytest.raises(modeling.ModelingError, match="rows of each class"):
        modeling.fold_positions(np.array([1, 1, 0, 0, 0, 0]), 3, seed=0)


def test_search_keeps_the_best_cross_validated_trial(parts) -> None:
    X = pd.concat([parts["X_fit"], parts["X_valid"]])
    y = pd.concat([parts["y_fit"], parts["y_valid"]])
    result = modeling.search_lightgbm(
        X, y, n_trials=2, num_threads=1, seed=5, base_params={"num_leaves": 4}, n_folds=3
    )
    assert len(result.trials) == 3
    assert result.trials.loc[0, "num_leaves"] == 4
    assert result.best.cv_roc_auc == pytest.approx(result.trials["cv_roc_auc"].max())
    assert result.params["num_leaves"] == result.model.get_params()["num_leaves"]
    with pytest.raises(modeling.ModelingError, match="n_trials"):
        modeling.search_lightgbm(X, y, n_trials=-1)


def test_logistic_baseline_handles_missing_and_unseen_categories(parts) -> None:
    model = modeling.fit_logistic_baseline(parts["X_fit"], parts["y_fit"])
    X_new = parts["X_test"].copy()
    X_new["band"] = pd.Categorical(["never-seen"] * len(X_new))
    scores = modeling.predict_positive(model, X_new)
    assert np.isfinite(scores).all()
    assert roc_auc_score(parts["y_test"], modeling.predict_positive(model, parts["X_test"])) > 0.8


def test_heuristic_uses_the_preferred_feature_with_missing_band() -> None:
    X = pd.DataFrame({"depth": [0, 0, 1, 1, 2, 2, np.nan, np.nan] * 10, "noise": range(80)})
    y = pd.Series([0, 0, 0, 1, 1, 1, 1, 1] * 10)
    heuristic = modeling.fit_heuristic_baseline(X, y, preferred=("absent", "depth"))
    assert heuristic.feature == "depth" and heuristic.reason == "domain rule"
    scores = heuristic.predict(X)
    assert scores[4] > scores[2] > scores[0]
    assert scores[6] > heuristic.prior  # missing values form their own (positive) band


def test_heuristic_fallback_picks_the_best_single_feature_on_validation() -> None:
    rng = np.random.default_rng(0)
    signal = rng.normal(size=1000)
    y = pd.Series((signal + 0.3 * rng.normal(size=1000) > 0).astype(int))
    X = pd.DataFrame(
        {
            "noise": rng.normal(size=1000),
            "signal": signal,
            "colour": pd.Categorical(rng.choice(["red", "blue"], 1000)),
        }
    )
    heuristic = modeling.fit_heuristic_baseline(X, y, preferred=("missing",), seed=1)
    assert heuristic.feature == "signal"
    assert heuristic.reason == "best single feature on validation data"


def test_sigmoid_calibration_keeps_ranking_and_fixes_shifted_probabilities() -> None:
    rng = np.random.default_rng(1)
    true_p = rng.uniform(0.02, 0.6, 5000)
    y = (rng.uniform(size=5000) < true_p).astype(int)
    inflated = 1 / (1 + np.exp(-(np.log(true_p / (1 - true_p)) + 1.5)))  # like class weights
    calibrator = modeling.fit_calibrator(inflated[:2500], y[:2500], "sigmoid")
    calibrated = calibrator.predict(inflated[2500:])
    assert np.array_equal(
        np.argsort(calibrated, kind="stable"), np.argsort(inflated[2500:], kind="stable")
    )
    assert log_loss(y[2500:], calibrated) < log_loss(y[2500:], inflated[2500:]) - 0.05
    assert calibrator.describe()["calibration_intercept"] == pytest.approx(-1.5, abs=0.3)
    isotonic = modeling.fit_calibrator(inflated[:2500], y[:2500], "isotonic")
    out = isotonic.predict(inflated[2500:])
    assert ((out > 0) & (out < 1)).all()
    with pytest.raises(modeling.ModelingError, match="calibration method"):
        modeling.fit_calibrator(inflated, y, "beta")
