"""The identity study end to end on a small synthetic population: accuracy against truth
beside the exact-rule baseline, stable one_ids on a re-run, the event log rebuilt on one_id,
and no personal value in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from features import config
from features.data.synth_identity import CHANNELS
from features.identity import (
    make_figures,
    run_identity_study,
    save_and_track,
    validate_identity_params,
)

N = 1500


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEV_LAB_DATA_ROOT", str(root / "data"))
        mp.setenv("NEV_LAB_REPORTS_DIR", str(root / "reports"))
        store = f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"
        mp.setenv("MLFLOW_TRACKING_URI", store)
        mp.setenv("MLFLOW_REGISTRY_URI", store)
        mp.setenv("NEV_LAB_MLFLOW_ARTIFACTS", str(root / "mlflow" / "artifacts"))
        params = validate_identity_params(
            data_source="synthetic", n_customers=N, seed=3, record_id_col="record_id",
            entity_col="", source_col="", columns={"full_name": "name"}, blocking_rules=[],
            match_threshold=0.8, max_pairs=200_000, output_dir=str(root / "out"),
            mlflow_tracking_uri="",
        )  # fmt: skip
        first = run_identity_study(params)
        record = save_and_track(first, make_figures(first), params)
        second = run_identity_study(params)
        yield root, first, record, second


def test_beats_the_exact_rules_against_truth(lab):
    _, first, record, _ = lab
    m = record.metrics
    assert m["n_persons_true"] == N and m["n_records"] > N
    assert m["pairwise_f1"] > 0.9 and m["pairwise_precision"] > 0.95
    assert m["pairwise_f1"] > m["baseline_pairwise_f1"]
    assert (
        0.3 < m["asked_twice_before"] < 0.55
        and m["asked_twice_after"] < m["asked_twice_before"] / 3
    )
    saved = json.loads((Path(record.output_dir) / "metrics.json").read_text())
    for key in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "cluster_f1", "n_records",
                "n_persons_found", "n_persons_true", "asked_twice_before", "asked_twice_after",
                "match_threshold"):  # fmt: skip
        assert key in saved, key
    identity_map = pd.read_parquet(Path(record.output_dir) / "identity_map.parquet")
    assert list(identity_map.columns) == ["record_id", "source", "one_id", "match_probability",
                                          "cluster_size"]  # fmt: skip
    assert (
        len(identity_map) == m["n_records"]
        and identity_map["one_id"].nunique() == m["n_persons_found"]
    )


def test_rerun_keeps_one_ids(lab):
    _, first, _, second = lab
    assert second.metrics["one_ids_kept_share"] == 1.0
    assert second.identity_map["one_id"].tolist() == first.identity_map["one_id"].tolist()


def test_event_log_rebuilt_on_one_id(lab, monkeypatch):
    root, first, _, _ = lab
    monkeypatch.setenv("NEV_LAB_DATA_ROOT", str(root / "data"))
    folder = config.processed_dir() / "identity"
    events = pd.read_parquet(next(folder.glob("*/events_one_id.parquet")))
    assert set(events["customer_id"]) <= set(first.identity_map["one_id"])
    assert first.metrics["n_ids_after"] < first.metrics["n_ids_before"]
    assert first.metrics["n_events_unmapped"] == 0


def _personal_values(root: Path) -> set[str]:
    raw = next((root / "data" / "raw").glob("identity_n*"))
    values: set[str] = set()
    for channel in CHANNELS:
        frame = pd.read_parquet(raw / f"{channel}.parquet")
        for column in ("name", "phone", "id_number", "address", "birth_date"):
            if column in frame:
                values |= {v for v in frame[column].dropna().astype(str) if len(v.strip()) >= 4}
        if "phone" in frame:  # the normalised digits too
            values |= {"".join(c for c in v if c.isdigit())[-11:] for v in frame["phone"].dropna()
                       if sum(c.isdigit() for c in v) >= 11}  # fmt: skip
    customers = pd.read_parquet(
        next((root / "data" / "raw").glob("synthetic_n*")) / "customers.parquet"
    )
    values |= set(customers["full_name"].astype(str)) | set(customers["phone"].astype(str))
    return {v for v in values if len(v) >= 4}


def _texts(folder: Path):
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix in (".png", ".db"):
            continue
        if path.suffix == ".parquet":
            yield path, pd.read_parquet(path).to_csv(index=False)
        else:
            yield path, path.read_text(errors="ignore")


def test_no_personal_value_leaves_raw(lab):
    root, _, record, _ = lab
    values = _personal_values(root)
    assert len(values) > 1000
    folders = [Path(record.output_dir), root / "data" / "processed", root / "mlflow" / "artifacts"]
    scanned = 0
    for folder in folders:
        for path, text in _texts(folder):
            scanned += 1
            leaked = [v for v in values if v in text]
            assert not leaked, f"{path}: carries {leaked[:3]}"
    assert scanned >= 10
