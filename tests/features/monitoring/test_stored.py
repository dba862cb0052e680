import pandas as pd

from features.data.datasets import ensure_synthetic_dataset
from features.monitoring.stored import compare_stored
from features.table.snapshots import EventSource


def test_due_lists_are_compared_and_the_others_wait(lab):
    log = EventSource(ensure_synthetic_dataset(1500, 3)).load()
    end = pd.Timestamp("2026-01-01")
    from features.table.labels import population_at

    ids, _ = population_at("churn", log, "2025-06-01")
    n = len(ids)
    scores = pd.DataFrame(
        {
            "customer_id": list(ids["customer_id"]) * 2,
            "probability": [0.2] * (2 * n),
            "decile": [1] * (2 * n),
            "bucket": (["high"] * (n // 2) + ["low"] * (n - n // 2)) * 2,
            "scored_at": "20251201T000000Z",
            "as_of": ["2025-06-01"] * n + ["2025-12-01"] * n,
            "model_version": "3",
        }
    )
    result = compare_stored("churn", log, end, 90, 90, scores=scores)
    assert result.n_stored == 2 and result.n_due == 1
    assert set(result.buckets["bucket"]) == {"high", "low"}
    assert result.buckets["n"].sum() == n
    assert len(result.waiting) == 1 and "2025-12-01" in result.waiting[0]


def test_an_empty_store_compares_nothing(lab):
    log = EventSource(ensure_synthetic_dataset(1500, 3)).load()
    result = compare_stored("churn", log, pd.Timestamp("2026-01-01"), 90, 90)
    assert result.n_stored == 0 and result.n_due == 0 and result.buckets.empty
