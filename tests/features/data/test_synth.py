"""Synthetic generator: table shapes, invariants, determinism, CLI errors and calibration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import defaults, schema
from features.data.datasets import ensure_synthetic_dataset
from features.data.oracle import load_truth, oracle_roc_auc
from features.data.synth import GENERATOR_VERSION, TRUTH_ALL_COLUMNS, SynthError, generate_dataset
from features.data.validate import validate_dataset
from features.io import sha256_file
from features.table.labels import LabelSet, churn_labels, conversion_labels

START, END = pd.Timestamp(defaults.SIM_START), pd.Timestamp(defaults.SIM_END)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = generate_dataset(1500, seed=3, out=tmp_path_factory.mktemp("raw") / "ds")
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in schema.RAW_TABLES}
    tables["folder"] = folder
    return tables


def _as_series(label_set: LabelSet) -> pd.Series:
    """Official labels as booleans indexed by customer_id (the form the oracle takes)."""
    return label_set.labels.set_index("customer_id")["label"].astype(bool)


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "features.data.synth", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- shapes and invariants -----------------------------------------------------------------
def test_tables_have_the_contract_columns_and_dtypes(small: dict) -> None:
    assert tuple(small["customers"].columns) == schema.CUSTOMER_COLUMNS
    assert tuple(small["events"].columns) == schema.EVENT_COLUMNS
    assert tuple(small["orders"].columns) == schema.ORDER_COLUMNS
    assert tuple(small["truth"].columns) == TRUTH_ALL_COLUMNS
    customers, events = small["customers"], small["events"]
    assert str(customers["lead_created_at"].dtype) == "datetime64[us]"
    assert str(events["ts"].dtype) == "datetime64[us]"
    assert pd.api.types.is_string_dtype(events["event_type"])
    assert customers["married"].dtype == bool and customers["age"].dtype == np.int64
    assert events["value"].dtype == np.float64
    assert len(customers) == 1500 and customers["customer_id"].is_unique
    assert customers["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert customers["customer_id"].iloc[0] == "C0000001"


def test_categories_come_from_the_schema(small: dict) -> None:
    customers, events, orders = small["customers"], small["events"], small["orders"]
    for column, vocabulary in (
        ("gender", schema.GENDERS),
        ("city_tier", schema.CITY_TIERS),
        ("climate_zone", schema.CLIMATE_ZONES),
        ("income_band", schema.INCOME_BANDS),
        ("occupation", schema.OCCUPATIONS),
        ("acquisition_channel", schema.ACQUISITION_CHANNELS),
        ("sales_model", schema.SALES_MODELS),
    ):
        assert set(customers[column]) <= set(vocabulary), column
    assert set(events["event_type"]) == set(schema.EVENT_TYPES)
    assert set(events["channel"]) <= set(schema.EVENT_CHANNELS)
    assert set(orders["model_line"]) <= set(schema.MODEL_LINES)
    assert set(small["truth"]["persona"]) == set(schema.PERSONAS)


def test_personal_fields_look_real(small: dict) -> None:
    customers = small["customers"]
    assert customers["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert customers["full_name"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()


def test_events_are_sorted_inside_the_window_and_after_the_lead(small: dict) -> None:
    events, customers = small["events"], small["customers"]
    assert events["ts"].between(START, END).all()
    order = events.sort_values(["customer_id", "ts"], kind="stable")
    assert order.index.equals(events.index)
    lead = events["customer_id"].map(customers.set_index("customer_id")["lead_created_at"])
    assert (events["ts"] >= lead).all()
    assert customers["lead_created_at"].between(START, END).all()


def test_event_values_follow_their_type(small: dict) -> None:
    events, orders = small["events"], small["orders"]
    charging = events[events["event_type"] == "charging_session"]
    assert set(charging["channel"]) == set(schema.CHARGING_CHANNELS)
    nps = events.loc[events["event_type"] == "nps_response", "value"]
    assert nps.between(0, 10).all() and (nps == nps.round()).all()
    wait = events.loc[events["event_type"] == "service_visit", "value"]
    assert (wait >= 0).all() and 1.5 < wait.mean() < 3.5
    order_events = events[events["event_type"] == "order"]
    merged = orders.merge(order_events, left_on=["customer_id", "order_ts"],
                          right_on=["customer_id", "ts"])  # fmt: skip
    assert len(merged) == len(orders) == len(order_events)
    assert (merged["price"] == merged["value"]).all()
    store = events[events["event_type"].isin(["store_visit", "test_drive", "quote"])]
    assert set(store["channel"]) == {"store"}
    assert set(events.loc[events["event_type"] == "service_visit", "channel"]) == {"service_center"}


def test_owners_act_after_delivery_and_go_quiet_after_churn(small: dict) -> None:
    events, truth = small["events"], small["truth"].set_index("customer_id")
    owner_types = ["charging_session", "service_visit", "nps_response", "ota_feature_use"]
    owner_events = events[events["event_type"].isin(owner_types)]
    delivered = owner_events["customer_id"].map(truth["delivery_ts"])
    assert (owner_events["ts"] >= delivered).all()
    churn = events["customer_id"].map(truth["churn_ts"])
    assert not (events["ts"] >= churn).any()
    churned = truth["churn_ts"].notna()
    assert churned.sum() > 10
    assert (truth.loc[churned, "churn_ts"] == truth.loc[churned, "churn_ts"].dt.normalize()).all()
    assert (truth.loc[churned, "churn_ts"] > truth.loc[churned, "delivery_ts"]).all()


def test_truth_is_consistent_with_orders(small: dict) -> None:
    truth, orders = small["truth"].set_index("customer_id"), small["orders"]
    assert truth["purchase_propensity"].between(0, 1).all()
    assert (truth.loc[orders["customer_id"], "order_intent_ts"].to_numpy()
            == orders["order_ts"].to_numpy()).all()  # fmt: skip
    assert truth["order_intent_ts"].notna().sum() == len(orders)
    owners = truth["delivery_ts"].notna()
    assert truth.loc[owners, "churn_hazard"].gt(0).all()
    assert truth.loc[~owners, "churn_hazard"].isna().all()
    assert (truth["journey_end_ts"].dropna() >= truth["lead_created_at"].loc[
        truth["journey_end_ts"].notna()]).all()  # fmt: skip


def test_manifest_records_parameters_counts_and_hashes(small: dict) -> None:
    folder = small["folder"]
    manifest = json.loads((folder / schema.MANIFEST_FILE).read_text())
    assert manifest["generator_version"] == GENERATOR_VERSION
    assert manifest["parameters"] == {
        "n_customers": 1500, "seed": 3, "start": defaults.SIM_START, "end": defaults.SIM_END
    }  # fmt: skip
    assert manifest["evaluation_only"] == [
        "truth.parquet", "campaign_truth.parquet", "comment_truth.parquet"
    ]  # fmt: skip
    for name in manifest["evaluation_only"]:
        assert manifest["files"][name]["role"] == "evaluation_only"
    for table in schema.RAW_TABLES:
        entry = manifest["files"][f"{table}.parquet"]
        assert entry["sha256"] == sha256_file(folder / f"{table}.parquet")
        assert entry["rows"] == manifest["row_counts"][table] == len(small[table])
    assert pd.Timestamp(manifest["window"]["start"]) == START
    assert pd.Timestamp(manifest["window"]["end"]) == END


def test_custom_window_is_respected(tmp_path: Path) -> None:
    folder = generate_dataset(300, 1, tmp_path / "ds", start="2024-03-01", end="2024-06-30")
    events = pd.read_parquet(folder / "events.parquet")
    truth = pd.read_parquet(folder / "truth.parquet")
    assert events["ts"].between("2024-03-01", "2024-06-30").all()
    for column in ("order_intent_ts", "churn_ts", "journey_end_ts", "delivery_ts"):
        assert truth[column].dropna().between("2024-03-01", "2024-06-30").all(), column


# --- determinism ---------------------------------------------------------------------------
def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = generate_dataset(700, 11, tmp_path / "a")
    second = generate_dataset(700, 11, tmp_path / "b")
    assert _hashes(first) == _hashes(second)
    other = generate_dataset(700, 12, tmp_path / "c")
    assert _hashes(other)["events.parquet"] != _hashes(first)["events.parquet"]


def test_progress_lines_go_to_stderr(tmp_path: Path, capsys) -> None:
    generate_dataset(200, 1, tmp_path / "ds", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "synth: events: 200/200 customers" in captured.err


# --- bad parameters ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_customers": 0}, r"'n_customers' = 0: must be >= 1"),
        ({"n_customers": -5}, r"'n_customers' = -5"),
        ({"n_customers": True}, r"'n_customers' = True: must be an integer"),
        ({"seed": -1}, r"'seed' = -1: must be >= 0"),
        ({"end": "2023-12-31"}, r"'end' = '2023-12-31': must be after start"),
        ({"end": "2024-01-01"}, r"must be after start"),
        ({"start": "2024-13-01"}, r"'start' = '2024-13-01'"),
    ],
)
def test_bad_parameters_are_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"n_customers": 10, "seed": 1, "out": tmp_path / "ds"} | kwargs
    with pytest.raises(SynthError, match=message):
        generate_dataset(**args)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    folder = generate_dataset(100, 1, tmp_path / "ds")
    before = _hashes(folder)
    with pytest.raises(FileExistsError, match="already exists"):
        generate_dataset(100, 2, folder)
    assert _hashes(folder) == before
    generate_dataset(100, 2, folder, overwrite=True)
    assert _hashes(folder) != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n-customers", "0", "--seed", "1"], "must be >= 1"),
        (["--n-customers", "10", "--seed", "1", "--start", "2025-01-01", "--end", "2024-01-01"],
         "must be after start"),
        (["--n-customers", "ten", "--seed", "1"], "invalid int value"),
        (["--n-customers", "10"], "required"),
    ],
)  # fmt: skip
def test_cli_bad_parameters_exit_2_and_write_nothing(tmp_path, args, message) -> None:
    result = _run_cli(*args, "--out", str(tmp_path / "ds"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_existing_and_unwritable_outputs(tmp_path: Path) -> None:
    existing = tmp_path / "ds"
    existing.mkdir()
    result = _run_cli("--n-customers", "10", "--seed", "1", "--out", str(existing))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert list(existing.iterdir()) == []
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    result = _run_cli("--n-customers", "10", "--seed", "1", "--out", str(blocker / "ds"))
    assert result.returncode == 2 and "not writable" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "file.txt"]


def test_cli_writes_the_dataset(tmp_path: Path) -> None:
    result = _run_cli("--n-customers", "50", "--seed", "4", "--out", str(tmp_path / "ds"))
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == (tmp_path / "ds").resolve()
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [
        "campaign_truth.parquet", "campaigns.parquet", "comment_truth.parquet", "comments.parquet",
        "customers.parquet", "events.parquet", "manifest.json", "orders.parquet", "truth.parquet"
    ]  # fmt: skip


def test_two_processes_ensuring_the_same_dataset_share_one_folder(tmp_path: Path) -> None:
    code = "from features.data.datasets import ensure_synthetic_dataset as e; print(e(4000, 5))"
    env = {**os.environ, "NEV_LAB_DATA_ROOT": str(tmp_path)}
    runs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    folders = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert folders == {str(tmp_path / "raw" / "synthetic_n4000_s5")}
    assert [p.name for p in (tmp_path / "raw").iterdir()] == ["synthetic_n4000_s5"]
    assert validate_dataset(tmp_path / "raw" / "synthetic_n4000_s5") == []


# --- calibration on the default 50k dataset ------------------------------------------------
def measure_calibration(folder: Path) -> dict[str, float]:
    """Calibration figures of a dataset, each defined to match the industry plan figure.

    - under_35, women: shares of buyers (customers with an order) aged under 35 at lead time /
      female ("42% of NEV users are under 35", "women 37% of users").
    - family_buyers, high_net_worth: shares of buyers whose latent persona is
      family_practical / high_net_worth (the plans describe these as buyer segments; a
      demographic proxy such as "married with children" would also count commuters and
      high-net-worth parents).
    - lead_to_order, direct, dealer: among leads created in the window's first 365 days (so
      every lead had at least a year to decide), the share with an order by the window end,
      overall and by sales model.
    - test_drive_rate: among the same leads, the share with a test drive;
      test_drive_to_order: among those, the share with an order.
    - annual_owner_churn: among owners delivered at least 365 days before the window end,
      the share whose churn_ts falls within 365 days of delivery.
    - nps: percent of nps_response scores 9-10 minus percent 0-6, over all responses.
    """
    customers = pd.read_parquet(folder / "customers.parquet")
    events = pd.read_parquet(folder / "events.parquet", columns=["customer_id", "event_type",
                                                                   "value"])  # fmt: skip
    orders = pd.read_parquet(folder / "orders.parquet")
    truth = pd.read_parquet(folder / "truth.parquet").set_index("customer_id")
    buyers = customers[customers["customer_id"].isin(orders["customer_id"])]
    persona = truth.loc[buyers["customer_id"], "persona"]
    early = customers[customers["lead_created_at"] < START + pd.Timedelta(days=365)]
    ordered = early["customer_id"].isin(orders["customer_id"])
    drove = early["customer_id"].isin(events.loc[events["event_type"] == "test_drive",
                                                 "customer_id"])  # fmt: skip
    owners = truth[truth["delivery_ts"] < END - pd.Timedelta(days=365)]
    churned = owners["churn_ts"] < owners["delivery_ts"] + pd.Timedelta(days=365)
    nps = events.loc[events["event_type"] == "nps_response", "value"]
    return {
        "under_35": float((buyers["age"] < 35).mean()),
        "women": float((buyers["gender"] == "female").mean()),
        "family_buyers": float((persona == "family_practical").mean()),
        "high_net_worth": float((persona == "high_net_worth").mean()),
        "lead_to_order": float(ordered.mean()),
        "direct": float(ordered[early["sales_model"] == "direct"].mean()),
        "dealer": float(ordered[early["sales_model"] == "dealer"].mean()),
        "test_drive_rate": float(drove.mean()),
        "test_drive_to_order": float(ordered[drove].mean()),
        "annual_owner_churn": float(churned.mean()),
        "nps": float(100 * ((nps >= 9).mean() - (nps <= 6).mean())),
    }


TARGETS = {  # industry plan figure, tolerance
    "under_35": (0.42, 0.03),
    "women": (0.37, 0.03),
    "family_buyers": (0.25, 0.03),
    "high_net_worth": (0.18, 0.03),
    "lead_to_order": (0.237, 0.03),
    "direct": (0.352, 0.05),
    "dealer": (0.183, 0.05),
    "test_drive_rate": (0.625, 0.03),
    "test_drive_to_order": (0.315, 0.03),
    "annual_owner_churn": (0.342, 0.03),
    "nps": (45.0, 10.0),
}


@pytest.fixture(scope="module")
def default_dataset() -> Path:
    return ensure_synthetic_dataset(defaults.N_CUSTOMERS, defaults.SEED)


@pytest.mark.slow
def test_calibration_matches_the_industry_plan_figures(default_dataset: Path) -> None:
    measured = measure_calibration(default_dataset)
    print(json.dumps(measured, indent=1))
    for name, (target, tolerance) in TARGETS.items():
        assert measured[name] == pytest.approx(target, abs=tolerance), name


@pytest.mark.slow
def test_oracle_auc_at_the_defaults_is_as_hard_as_real_data(default_dataset: Path) -> None:
    cutoff = pd.Timestamp(defaults.CUTOFF)
    customers = pd.read_parquet(default_dataset / "customers.parquet")
    events = pd.read_parquet(default_dataset / "events.parquet")
    truth = load_truth(default_dataset)
    conversion = _as_series(
        conversion_labels(events, cutoff, defaults.CONVERSION_HORIZON_DAYS, customers)
    )
    churn = _as_series(
        churn_labels(events, cutoff, defaults.CHURN_HORIZON_DAYS, defaults.CHURN_LOOKBACK_DAYS)
    )
    auc_conversion = oracle_roc_auc(
        truth, conversion, cutoff, defaults.CONVERSION_HORIZON_DAYS, "conversion"
    )
    auc_churn = oracle_roc_auc(truth, churn, cutoff, defaults.CHURN_HORIZON_DAYS, "churn")
    print(f"oracle ROC AUC: conversion {auc_conversion:.4f}, churn {auc_churn:.4f}")
    assert 0.80 <= auc_conversion <= 0.92
    assert 0.75 <= auc_churn <= 0.90
    for labels in (conversion, churn):  # both classes clear the lab's data gate
        assert min(labels.sum(), (~labels).sum()) >= defaults.MIN_CLASS_COUNT
