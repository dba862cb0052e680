"""A hand-made transaction log goes through load -> features -> churn labels -> LightGBM.

Customers whose spend declines before they leave are simulated so the signal is real; a quick
LightGBM on the features must rank churners better than "days since last event" alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from features.data.eventlog import load_event_log
from features.table.build import build_features
from features.table.labels import churn_labels

START = pd.Timestamp("2024-01-01")
CUTOFF = pd.Timestamp("2025-01-01")
LOG_END = pd.Timestamp("2025-04-30")
HORIZON_DAYS = 90
LOOKBACK_DAYS = 90


def simulate_transactions(n_customers: int, seed: int) -> tuple[pd.DataFrame, set[str]]:
    """Daily-grained purchases; leavers' spend and frequency fade over ~4 months before they stop.

    Returns the rows (customer_id, date, amount) and the ids of the leavers.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, pd.Timestamp, float]] = []
    leavers: set[str] = set()
    total_days = (LOG_END - START).days
    for i in range(n_customers):
        cid = f"K{i:04d}"
        weekly_rate = rng.lognormal(mean=np.log(0.6), sigma=0.7)  # heterogeneous frequency
        base_amount = rng.lognormal(mean=np.log(60), sigma=0.5)
        leaves = rng.random() < 0.4
        stop_day = total_days
        if leaves:
            leavers.add(cid)
            stop_day = (CUTOFF - START).days - int(rng.integers(0, 21))
        for day in range(total_days):
            fade = 1.0
            if leaves:
                # linear fade over the 120 days before leaving: spend to 50%, visits to 70%
                progress = np.clip((day - (stop_day - 120)) / 120, 0, 1)
                fade = 1 - 0.3 * progress
            if day >= stop_day or rng.random() > weekly_rate / 7 * fade:
                continue
            spend_fade = 1 - 0.5 * progress if leaves else 1.0
            amount = round(float(base_amount * spend_fade * rng.lognormal(0, 0.25)), 2)
            if rng.random() < 0.03:
                amount = 0.0  # voucher purchase
            rows.append((cid, START + pd.Timedelta(days=day), amount))
            if rng.random() < 0.05:  # a second purchase the same day
                rows.append((cid, START + pd.Timedelta(days=day), round(amount / 2, 2)))
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return frame, leavers


def write_quirky_csv(frame: pd.DataFrame, path, seed: int) -> dict[str, int]:
    """Write ';'-separated CRLF text with decimal commas, duplicates and stray headers."""
    rng = np.random.default_rng(seed)
    duplicates = frame.sample(n=max(len(frame) // 50, 1), random_state=seed)
    rows = pd.concat([frame, duplicates]).sample(frac=1, random_state=seed)
    header = "customer_id;date;amount"
    lines = [header]
    n_headers = 0
    for cid, date, amount in rows.itertuples(index=False):
        if rng.random() < 0.002:
            lines.append(header)
            n_headers += 1
        lines.append(f"{cid};{date:%Y-%m-%d};{amount:.2f}".replace(".", ","))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    all_rows = pd.concat([frame, duplicates])
    return {
        "repeated_header_lines": n_headers,
        "duplicate_rows": len(all_rows) - len(all_rows.drop_duplicates()),
        "zero_amounts": int((frame.drop_duplicates()["amount"] == 0).sum()),
        "crlf_line_endings": len(lines),
    }


def test_transaction_log_features_beat_recency_alone(tmp_path):
    lightgbm = pytest.importorskip("lightgbm")
    frame, _ = simulate_transactions(n_customers=500, seed=7)
    path = tmp_path / "transactions.csv"
    expected = write_quirky_csv(frame, path, seed=7)
    assert 3_000 <= len(frame) <= 40_000

    log = load_event_log(path, time_col="date", amount_col="amount", verbose=False)
    for key, value in expected.items():
        assert log.cleaning[key] == value, key
    assert log.cleaning["rows_sharing_a_customer_day"] > 0
    assert log.cleaning["decimal_comma_amounts"] > 0

    features = build_features(log, CUTOFF)
    labels = churn_labels(log, CUTOFF, HORIZON_DAYS, LOOKBACK_DAYS)
    assert labels.population == "active_customers"
    assert 0.2 < labels.positive_rate < 0.6
    data = labels.labels.merge(features, on="customer_id", how="left", validate="one_to_one")
    y = data["label"].to_numpy()
    x = data.drop(columns=["customer_id", "label"])

    scores = np.zeros(len(data))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in folds.split(x, y):
        model = lightgbm.LGBMClassifier(
            n_estimators=150,
            learning_rate=0.05,
            num_leaves=7,
            min_child_samples=15,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            num_threads=2,
            random_state=0,
            verbose=-1,
        )
        model.fit(x.iloc[train], y[train])
        scores[test] = model.predict_proba(x.iloc[test])[:, 1]
    model_auc = roc_auc_score(y, scores)
    recency_auc = roc_auc_score(y, data["recency_days"])
    print(
        f"churn ROC AUC: LightGBM {model_auc:.3f} vs days since last event {recency_auc:.3f} "
        f"({labels.size} customers, {labels.positive_rate:.1%} churned)"
    )
    assert model_auc > recency_auc + 0.05
