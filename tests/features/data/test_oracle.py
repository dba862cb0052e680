"""Oracle: exact formulas (checked by simulation), API errors, and observable signal at 50k."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from features import defaults
from features.data.datasets import ensure_synthetic_dataset
from features.data.oracle import load_truth, oracle_probabilities, oracle_roc_auc
from features.data.synth import generate_dataset
from features.data.synth_owners import SECOND_YEAR_HAZARD_FACTOR, churn_day_weights
from features.data.synth_world import is_winter
from features.table.labels import LabelSet, churn_labels, conversion_labels

EPOCH = pd.Timestamp("1970-01-01")


def _epoch_day(ts: str | pd.Timestamp) -> int:
    return int((pd.Timestamp(ts) - EPOCH) / pd.Timedelta(days=1))


def _as_series(label_set: LabelSet) -> pd.Series:
    """Official labels as booleans indexed by customer_id (the form the oracle takes)."""
    return label_set.labels.set_index("customer_id")["label"].astype(bool)


def _lead(cid: str, cutoff: pd.Timestamp, *, p: float, journey_end_days: float | None,
          ordered_days: float | None = None, lead_days: float = -200.0) -> dict:  # fmt: skip
    def at(days):
        return pd.NaT if days is None else cutoff + pd.Timedelta(days=days)

    return {
        "customer_id": cid, "purchase_propensity": p, "journey_end_ts": at(journey_end_days),
        "decision_fast_share": 0.6, "decision_fast_days": 18.0, "decision_slow_days": 150.0,
        "lead_created_at": at(lead_days), "order_intent_ts": at(ordered_days),
    }  # fmt: skip


def _owner(cid: str, *, delivery_day: int, last_day: int, hazard: float, factor: float,
           rate: float, winter_rate: float) -> dict:  # fmt: skip
    return {
        "customer_id": cid, "delivery_ts": EPOCH + pd.Timedelta(days=delivery_day, hours=10),
        "churn_hazard": hazard, "winter_hazard_factor": factor, "activity_rate": rate,
        "winter_activity_rate": winter_rate,
        "active_days": np.array(sorted({delivery_day, last_day}), dtype=np.int32),
    }  # fmt: skip


# --- conversion ----------------------------------------------------------------------------
def test_conversion_oracle_matches_a_simulation() -> None:
    cutoff, horizon, p = pd.Timestamp("2025-07-01"), 90, 0.4
    rng = np.random.default_rng(0)
    n = 400_000
    buyer = rng.random(n) < p
    delay = rng.exponential(np.where(rng.random(n) < 0.6, 18.0, 150.0))
    for end in (-40.0, -5.0, 0.0, 12.0):
        order = np.where(buyer, end + delay, np.inf)  # days from the cutoff
        open_ = order >= 0
        simulated = np.mean(order[open_] < horizon)
        truth = pd.DataFrame([_lead("C0000001", cutoff, p=p, journey_end_days=end)])
        oracle = oracle_probabilities(truth, ["C0000001"], cutoff, horizon, "conversion").iloc[0]
        assert oracle == pytest.approx(simulated, abs=0.004), end


def test_conversion_oracle_edge_cases() -> None:
    cutoff = pd.Timestamp("2025-07-01")
    truth = pd.DataFrame(
        [
            _lead("C0000001", cutoff, p=0.0, journey_end_days=-3),
            _lead("C0000002", cutoff, p=0.9, journey_end_days=120),  # journey ends after horizon
            _lead("C0000003", cutoff, p=0.9, journey_end_days=None),  # ends after the window
            _lead("C0000004", cutoff, p=0.9, journey_end_days=-3, lead_days=5),  # lead too late
            _lead("C0000005", cutoff, p=0.9, journey_end_days=-30, ordered_days=-2),  # ordered
            _lead("C0000006", cutoff, p=0.5, journey_end_days=-400),
            _lead("C0000007", cutoff, p=0.5, journey_end_days=-10),
        ]
    )
    probs = oracle_probabilities(truth, truth["customer_id"], cutoff, 90, "conversion")
    assert list(probs.index) == list(truth["customer_id"])
    assert probs.iloc[0] == 0 and probs.iloc[1] == 0 and probs.iloc[2] == 0
    assert np.isnan(probs.iloc[3]) and np.isnan(probs.iloc[4])
    assert 0 < probs.iloc[5] < 0.05 < probs.iloc[6] < 0.5


# --- churn ---------------------------------------------------------------------------------
def _simulate_owners(rng, n, delivery, cutoff, horizon, hazard, factor, rate, winter_rate):
    """Day-by-day simulation of the owner process: (last active day before cutoff, label)."""
    alive = np.ones(n, dtype=bool)
    last = np.full(n, delivery)
    quiet = np.ones(n, dtype=bool)
    for day in range(delivery + 1, cutoff + horizon):
        second_year = SECOND_YEAR_HAZARD_FACTOR if day > delivery + 365 else 1.0
        h = hazard / 365.25 * churn_day_weights(np.array([day]), factor)[0] * second_year
        alive &= rng.random(n) >= -np.expm1(-h)
        lam = winter_rate if is_winter(np.array([day]))[0] else rate
        active = alive & (rng.random(n) < -np.expm1(-lam))
        if day < cutoff:
            last[active] = day
        else:
            quiet &= ~active
    return last, quiet


@pytest.mark.parametrize(
    ("cutoff", "delivery_offset", "horizon", "hazard"),
    [("2025-02-15", 40, 60, 3.0), ("2025-07-01", 380, 30, 0.8)],  # winter + spring; 2nd year
)
def test_churn_oracle_matches_a_simulation(cutoff, delivery_offset, horizon, hazard) -> None:
    c = _epoch_day(cutoff)
    delivery = c - delivery_offset
    params = {"hazard": hazard, "factor": 2.0, "rate": 0.08, "winter_rate": 0.15}
    rng = np.random.default_rng(1)
    last, quiet = _simulate_owners(rng, 250_000, delivery, c, horizon, **params)
    checked = 0
    for gap in (1, 5, 15, 30):
        s = c - gap
        group = last == s
        if group.sum() < 2000:
            continue
        simulated = quiet[group].mean()
        se = np.sqrt(simulated * (1 - simulated) / group.sum())
        truth = pd.DataFrame([_owner("C0000001", delivery_day=delivery, last_day=s, **params)])
        oracle = oracle_probabilities(truth, ["C0000001"], cutoff, horizon, "churn").iloc[0]
        assert oracle == pytest.approx(simulated, abs=4 * se + 0.003), gap
        checked += 1
    assert checked >= 3


def test_churn_oracle_edge_cases() -> None:
    cutoff = pd.Timestamp("2025-07-01")
    c = _epoch_day(cutoff)
    common = {"delivery_day": c - 100, "factor": 1.0}
    truth = pd.DataFrame(
        [
            _owner("C0000001", last_day=c - 1, hazard=0.0, rate=0.01, winter_rate=0.01, **common),
            _owner("C0000002", last_day=c - 50, hazard=0.5, rate=0.0, winter_rate=0.0, **common),
            _owner("C0000003", last_day=c - 1, hazard=0.5, rate=2.0, winter_rate=2.0, **common),
            _owner("C0000004", last_day=c - 60, hazard=0.5, rate=2.0, winter_rate=2.0, **common),
        ]
        + [
            {
                "customer_id": "C0000005",
                "delivery_ts": cutoff + pd.Timedelta(days=3),
                "active_days": None,
            }
        ]  # fmt: skip
    )
    probs = oracle_probabilities(truth, truth["customer_id"], cutoff, 180, "churn")
    assert probs.iloc[0] == pytest.approx(np.exp(-0.01 * 180))
    assert probs.iloc[1] == pytest.approx(1.0)
    assert probs.iloc[2] < 0.01 and probs.iloc[3] > 0.99
    assert np.isnan(probs.iloc[4])


# --- API -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_dataset(3000, seed=9, out=tmp_path_factory.mktemp("raw") / "ds")


def test_load_truth_adds_owner_active_days(small_dataset: Path) -> None:
    truth = load_truth(small_dataset)
    events = pd.read_parquet(small_dataset / "events.parquet")
    owners = truth[truth["delivery_ts"].notna()]
    assert truth.loc[truth["delivery_ts"].isna(), "active_days"].isna().all()
    row = owners.iloc[0]
    expected = np.unique(
        events.loc[events["customer_id"] == row["customer_id"], "ts"].to_numpy()
        .astype("datetime64[D]").astype(np.int64)
    )  # fmt: skip
    assert np.array_equal(row["active_days"], expected)
    assert _epoch_day(row["delivery_ts"].normalize()) in set(row["active_days"])


def test_load_truth_needs_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="truth.parquet: missing"):
        load_truth(tmp_path)


def test_oracle_scores_the_small_dataset(small_dataset: Path) -> None:
    truth = load_truth(small_dataset)
    customers = pd.read_parquet(small_dataset / "customers.parquet")
    events = pd.read_parquet(small_dataset / "events.parquet")
    cutoff = pd.Timestamp(defaults.CUTOFF)
    labels = _as_series(conversion_labels(events, cutoff, 90, customers))
    probs = oracle_probabilities(truth, labels.index, cutoff, 90, "conversion")
    assert probs.notna().all() and probs.between(0, 1).all()
    assert 0.6 < oracle_roc_auc(truth, labels, cutoff, 90, "conversion") < 1.0
    churn = _as_series(churn_labels(events, cutoff, 180, 90))
    assert 0.6 < oracle_roc_auc(truth, churn, cutoff, 180, "churn") < 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "retention"}, "task 'retention': must be one of conversion, churn"),
        ({"horizon_days": 0}, "horizon_days 0: must be a positive integer"),
        ({"horizon_days": 1.5}, "horizon_days 1.5: must be a positive integer"),
        ({"cutoff": "2025-07-01 12:00"}, "must be a midnight"),
        ({"customer_ids": ["C9999999"]}, "1 customer ids not in truth"),
    ],
)
def test_oracle_probabilities_rejects_bad_arguments(small_dataset, kwargs, message) -> None:
    truth = load_truth(small_dataset)
    args = {"truth": truth, "customer_ids": truth["customer_id"][:5],
            "cutoff": defaults.CUTOFF, "horizon_days": 90, "task": "conversion"} | kwargs  # fmt: skip
    with pytest.raises(ValueError, match=message):
        oracle_probabilities(**args)


def test_churn_oracle_needs_active_days(small_dataset: Path) -> None:
    truth = pd.read_parquet(small_dataset / "truth.parquet")
    with pytest.raises(ValueError, match="read it with load_truth"):
        oracle_probabilities(truth, truth["customer_id"][:3], defaults.CUTOFF, 180, "churn")


def test_oracle_roc_auc_rejects_unusable_labels(small_dataset: Path) -> None:
    truth = load_truth(small_dataset)
    ids = truth["customer_id"]
    with pytest.raises(ValueError, match="need both classes"):
        oracle_roc_auc(truth, pd.Series(True, index=ids[:10]), defaults.CUTOFF, 90, "conversion")
    late = truth.loc[truth["lead_created_at"] >= defaults.CUTOFF, "customer_id"][:2]
    labels = pd.Series([True, False], index=late)
    with pytest.raises(ValueError, match="outside the conversion population"):
        oracle_roc_auc(truth, labels, defaults.CUTOFF, 90, "conversion")


# --- observable signal on the default dataset ----------------------------------------------
STREAMS = (
    "configurator_session", "store_visit", "test_drive", "quote", "content_view", "ad_click",
    "app_login", "charging_home", "charging_public", "charging_fast", "community_post",
    "service_visit", "complaint", "referral_made", "nps_response", "ota_feature_use",
    "driver_assist_use",
)  # fmt: skip
ATTRIBUTES = (
    "age", "gender", "city_tier", "climate_zone", "income_band", "married", "children",
    "acquisition_channel", "budget", "sales_model",
)  # fmt: skip


def _observable_features(customers, events, ids, cutoff) -> pd.DataFrame:
    """A compact point-in-time feature table: only events before the cutoff, no truth."""
    ids = pd.Index(ids)
    ev = events[events["ts"] < cutoff]
    row = ids.get_indexer(ev["customer_id"])
    ev, row = ev[row >= 0], row[row >= 0]
    etype = ev["event_type"].to_numpy(dtype=object)
    name = np.where(etype == "charging_session",
                    "charging_" + ev["channel"].to_numpy(dtype=object).astype(str), etype)  # fmt: skip
    key = pd.Index(STREAMS).get_indexer(name)
    age = ((cutoff - ev["ts"]) / pd.Timedelta(days=1)).to_numpy()
    value = ev["value"].to_numpy(dtype=float)
    n, k = len(ids), len(STREAMS)
    cols = {f"n{w}_all": np.bincount(row[age < w], minlength=n) for w in (30, 90, 365)}

    def extreme(mask, values, how):
        out = np.full(n, np.inf if how is np.minimum else -np.inf)
        how.at(out, row[mask], values[mask])
        return np.where(np.isinf(out), np.nan, out)

    cols["recency"] = extreme(np.ones(len(row), bool), age, np.minimum)
    recent = (key >= 0) & (age < 365)
    counts = np.bincount(row[recent] * k + key[recent], minlength=n * k).reshape(n, k)
    cols |= {f"n365_{s}": counts[:, j] for j, s in enumerate(STREAMS)}
    cols["tenure"] = extreme(etype == "delivery", age, np.maximum)
    funnel = np.isin(etype, ["configurator_session", "store_visit", "test_drive", "quote"])
    cols["funnel_recency"] = extreme(funnel, age, np.minimum)

    def stream_value(stream, how):
        mask = (key == STREAMS.index(stream)) & ~np.isnan(value)
        if how in (np.minimum, np.maximum):
            return extreme(mask, value, how)
        total = np.bincount(row[mask], weights=value[mask], minlength=n)
        count = np.bincount(row[mask], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / count if how == "mean" else total

    cols["cfg_minutes"] = stream_value("configurator_session", "sum")
    cols["response_hours"] = stream_value("store_visit", np.minimum)
    cols["max_quote"] = stream_value("quote", np.maximum)
    cols["dwell"] = stream_value("content_view", "mean")
    cols["nps_mean"] = stream_value("nps_response", "mean")
    cols["nps_min"] = stream_value("nps_response", np.minimum)
    cols["wait_mean"] = stream_value("service_visit", "mean")
    winter = ev["ts"].dt.month.isin([12, 1, 2]).to_numpy()
    for stream in ("charging_fast", "complaint"):
        mask = winter & (key == STREAMS.index(stream))
        cols[f"winter_{stream}"] = np.bincount(row[mask], minlength=n)
    out = pd.DataFrame(cols, index=ids)
    out["rate"] = (out["n365_all"] + 1) / (np.minimum(out["tenure"].fillna(365), 365) + 30)
    out["gap_units"] = out["recency"] * out["rate"]
    cust = customers.set_index("customer_id").loc[ids]
    out["lead_age"] = ((cutoff - cust["lead_created_at"]) / pd.Timedelta(days=1)).to_numpy()
    attrs = cust[list(ATTRIBUTES)].copy()
    for column in ATTRIBUTES:
        if pd.api.types.is_string_dtype(attrs[column]):
            attrs[column] = attrs[column].astype("category")
    attrs.index = ids
    out = out.join(attrs)
    out["quote_over_budget"] = out["max_quote"] / out["budget"]
    return out


def _cross_validated_auc(features: pd.DataFrame, labels: np.ndarray) -> float:
    scores = np.zeros(len(labels))
    folds = StratifiedKFold(4, shuffle=True, random_state=0).split(features, labels)
    for train, test in folds:
        model = lgb.LGBMClassifier(
            n_estimators=500, learning_rate=0.03, num_leaves=7, min_child_samples=100,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.7, reg_lambda=5.0,
            random_state=0, num_threads=2, verbose=-1,
        )  # fmt: skip
        model.fit(features.iloc[train], labels[train])
        scores[test] = model.predict_proba(features.iloc[test])[:, 1]
    return float(roc_auc_score(labels, scores))


@pytest.fixture(scope="module")
def default_dataset() -> Path:
    return ensure_synthetic_dataset(defaults.N_CUSTOMERS, defaults.SEED)


@pytest.mark.slow
def test_observable_events_carry_most_of_the_oracle_signal(default_dataset: Path) -> None:
    cutoff = pd.Timestamp(defaults.CUTOFF)
    customers = pd.read_parquet(default_dataset / "customers.parquet")
    events = pd.read_parquet(default_dataset / "events.parquet")
    truth = load_truth(default_dataset)
    tasks = {
        "conversion": (
            _as_series(
                conversion_labels(events, cutoff, defaults.CONVERSION_HORIZON_DAYS, customers)
            ),
            defaults.CONVERSION_HORIZON_DAYS,
        ),
        "churn": (
            _as_series(churn_labels(events, cutoff, defaults.CHURN_HORIZON_DAYS,
                                    defaults.CHURN_LOOKBACK_DAYS)),
            defaults.CHURN_HORIZON_DAYS,
        ),
    }  # fmt: skip
    for task, (labels, horizon) in tasks.items():
        probs = oracle_probabilities(truth, labels.index, cutoff, horizon, task)
        # The oracle is calibrated: its mean probability is the label rate.
        assert probs.mean() == pytest.approx(labels.mean(), rel=0.12), task
        oracle = oracle_roc_auc(truth, labels, cutoff, horizon, task)
        features = _observable_features(customers, events, labels.index, cutoff)
        model = _cross_validated_auc(features, labels.to_numpy(dtype=int))
        print(f"{task}: oracle {oracle:.4f}, LightGBM on events {model:.4f} "
              f"({model / oracle:.1%} of the oracle)")  # fmt: skip
        assert model >= 0.95 * oracle, task
        assert model <= oracle + 0.01, task  # nothing beats the generative model
