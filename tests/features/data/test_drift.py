"""The generator's planted drift: off by default (default files unchanged), on by request."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from features.data.datasets import ensure_synthetic_dataset, synthetic_dataset_dir
from features.data.synth import generate_dataset, main
from features.data.synth_owners import DRIFT_START
from features.io import sha256_file

FILES = ("customers.parquet", "events.parquet", "orders.parquet", "truth.parquet")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same world without and with the drift (1,500 customers, seed 5)."""
    root = tmp_path_factory.mktemp("drift")
    return (
        generate_dataset(1500, 5, root / "plain"),
        generate_dataset(1500, 5, root / "drift", drift=True),
        generate_dataset(1500, 5, root / "plain_again", drift=False),
    )


def test_drift_off_is_the_default_and_byte_identical(pair):
    plain, _, again = pair
    for name in (*FILES, "manifest.json"):
        assert sha256_file(plain / name) == sha256_file(again / name), name
    manifest = json.loads((plain / "manifest.json").read_text())
    assert "drift" not in manifest and "drift" not in manifest["parameters"]


def test_drift_changes_only_what_follows_from_it(pair):
    plain, drift, _ = pair
    assert sha256_file(plain / "customers.parquet") == sha256_file(drift / "customers.parquet")
    assert sha256_file(plain / "orders.parquet") == sha256_file(drift / "orders.parquet")
    manifest = json.loads((drift / "manifest.json").read_text())
    assert manifest["parameters"]["drift"] is True
    assert manifest["drift"]["start"] == DRIFT_START
    start = pd.Timestamp(DRIFT_START)
    events = {
        name: pd.read_parquet(f / "events.parquet")
        for name, f in (("plain", plain), ("drift", drift))
    }
    customers = pd.read_parquet(plain / "customers.parquet")[["customer_id", "climate_zone"]]
    delivery = pd.read_parquet(plain / "truth.parquet")[["customer_id", "delivery_ts"]]
    for name, frame in events.items():
        frame = frame.merge(customers, on="customer_id").merge(delivery, on="customer_id")
        events[name] = frame
    before = {n: e[e["ts"] < start] for n, e in events.items()}
    # before the start the world is the same (event draws shift a little: owners who churn
    # earlier after the start consume fewer draws of their chunk's generator)
    assert len(before["drift"]) == pytest.approx(len(before["plain"]), rel=0.01)
    owner = {n: e[(e["ts"] >= start) & (e["ts"] > e["delivery_ts"])] for n, e in events.items()}
    after = {n: e[e["climate_zone"] == "cold"] for n, e in owner.items()}
    assert len(after["drift"]) < 0.4 * len(after["plain"])  # kept 30%, and more churn
    warm = {n: e[e["climate_zone"] != "cold"] for n, e in owner.items()}
    assert len(warm["drift"]) == pytest.approx(len(warm["plain"]), rel=0.1)
    truth = {
        n: pd.read_parquet(f / "truth.parquet") for n, f in (("plain", plain), ("drift", drift))
    }
    churned = {n: int((t["churn_ts"] >= start).sum()) for n, t in truth.items()}
    assert churned["drift"] > 1.3 * churned["plain"]  # cold owners (~40%) churn 3x
    early = {n: t.loc[t["churn_ts"] < start, "customer_id"].tolist() for n, t in truth.items()}
    assert early["plain"] == early["drift"]


def test_datasets_keep_drift_in_its_own_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("NEV_LAB_DATA_ROOT", str(tmp_path))
    assert synthetic_dataset_dir(1000, 1, drift=True).name == "synthetic_n1000_s1_drift"
    plain = ensure_synthetic_dataset(1000, 1)
    drift = ensure_synthetic_dataset(1000, 1, drift=True)
    assert plain.name == "synthetic_n1000_s1" and drift.name == "synthetic_n1000_s1_drift"
    assert ensure_synthetic_dataset(1000, 1, drift=True) == drift  # reused
    manifest = json.loads((drift / "manifest.json").read_text())
    manifest["parameters"].pop("drift")  # a drift folder whose manifest says otherwise
    (drift / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="other generator parameters"):
        ensure_synthetic_dataset(1000, 1, drift=True)


def test_command_line_drift_flag(tmp_path, capsys):
    assert (
        main(
            [
                "--n-customers",
                "300",
                "--seed",
                "2",
                "--out",
                str(tmp_path / "d"),
                "--drift",
                "--quiet",
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "d" / "manifest.json").read_text())["parameters"]["drift"]
