"""Persona inputs read at the edge: the customers of a population at the cutoff with their
features, labels (for rates only), model lines of earlier orders and, on synthetic data, the
true persona (evaluation only).

May import the foundation (config, defaults, schema), ``features.data`` and ``features.table``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from features import defaults, schema
from features.config import project_path
from features.data.datasets import ensure_synthetic_dataset
from features.data.oracle import has_truth, load_truth
from features.table.build import parse_cutoff
from features.table.snapshots import LabelSpec, Snapshot, load_snapshots

POPULATIONS: tuple[str, ...] = ("all", "leads", "owners")
# Columns of the feature table that define the owners and leads populations.
OWNER_COL = "is_owner"
ORDER_COUNT_COL = "evt_order_count"


def read_orders(dataset_dir: str | Path) -> pd.DataFrame | None:
    """customer_id, order_ts and model_line of a dataset folder's orders (None when absent).

    Only these three columns are read; event-log files given by path carry no orders.
    """
    path = Path(dataset_dir) / f"{schema.ORDERS_TABLE}.parquet"
    if not Path(dataset_dir).is_dir() or not path.exists():
        return None
    columns = [schema.ID_COL, "order_ts", "model_line"]
    available = pq.read_schema(path).names
    missing = [c for c in columns if c not in available]
    if missing:
        raise ValueError(f"{path}: column {missing[0]!r} missing (rule: orders carry {columns})")
    return pd.read_parquet(path, columns=columns)


@dataclass
class PersonaData:
    """Customers to segment and what describes them, read at the edge.

    Attributes:
        features: feature table of the chosen population (one row per customer).
        source: where the data came from.
        input_hashes: sha256 of every input file, by file name.
        conversion: 0/1 conversion label by customer_id (open leads), or None.
        churn: 0/1 churn label by customer_id (active owners), or None.
        model_line: model line of orders before the cutoff by customer_id, or None.
        truth: true persona by customer_id (synthetic data; evaluation only), or None.
        notes: what could not be provided, in plain words.
    """

    features: pd.DataFrame
    source: str
    input_hashes: dict[str, str]
    conversion: pd.Series | None = None
    churn: pd.Series | None = None
    model_line: pd.Series | None = None
    truth: pd.Series | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def data_hash(self) -> str:
        """One sha256 over the input files' hashes (identifies the data of a run)."""
        text = json.dumps(self.input_hashes, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _label_series(label_set: Any) -> pd.Series:
    labels = label_set.labels
    return pd.Series(
        labels["label"].to_numpy(), index=labels[schema.ID_COL].astype(str), name=label_set.task
    )


# Label sets behind the conversion and churn rates of the persona cards (default horizons).
RATE_LABELS = {
    "conversion": LabelSpec("conversion", defaults.CONVERSION_HORIZON_DAYS),
    "churn": LabelSpec("churn", defaults.CHURN_HORIZON_DAYS, defaults.CHURN_LOOKBACK_DAYS),
}


def _snapshot_with_rates(location: Path, cutoff: pd.Timestamp, notes: list[str]) -> Snapshot:
    """The processed snapshot at ``cutoff`` with every rate label set the log can supply."""
    try:
        return load_snapshots(location, {cutoff: list(RATE_LABELS.values())})[cutoff]
    except ValueError:  # HorizonError and DataError are ValueErrors: find out which one
        pass
    available = []
    for task, spec in RATE_LABELS.items():
        try:
            load_snapshots(location, {cutoff: [spec]})
            available.append(spec)
        except ValueError as exc:
            notes.append(f"{task} rates left out: {exc}")
    return load_snapshots(location, {cutoff: available})[cutoff]


def load_persona_data(
    data_source: str,
    n_customers: int,
    seed: int,
    cutoff: pd.Timestamp | str,
    population: str,
) -> PersonaData:
    """Read the processed snapshot at ``cutoff`` (built when absent); add orders and truth.

    ``data_source`` is "synthetic" (the dataset is generated when missing) or a dataset folder
    or event-log file (relative paths from the project root). Conversion and churn labels use
    the lab's default horizons; when the log cannot supply them (no orders, log ends before the
    horizon) the rates are left out and a note says why. The truth table is read only through
    ``features.data.oracle`` and only to evaluate.
    """
    notes: list[str] = []
    if data_source == "synthetic":
        location = Path(ensure_synthetic_dataset(n_customers, seed))
    else:
        location = project_path(data_source)
    snapshot = _snapshot_with_rates(location, parse_cutoff(cutoff), notes)
    features = snapshot.features
    features[schema.ID_COL] = features[schema.ID_COL].astype(str)
    selected = select_population(features, population)
    labels: dict[str, pd.Series | None] = {
        task: (_label_series(snapshot.labels[task]) if task in snapshot.labels else None)
        for task in RATE_LABELS
    }

    model_line = None
    orders = read_orders(location) if location.is_dir() else None
    if orders is not None:
        orders = orders.assign(**{schema.ID_COL: orders[schema.ID_COL].astype(str)})
        model_line = latest_model_line(orders, cutoff)
    else:
        notes.append("typical model line left out: the source has no orders table")

    truth = None
    if has_truth(location):
        table = load_truth(location)
        truth = pd.Series(
            table["persona"].astype(str).to_numpy(),
            index=table[schema.ID_COL].astype(str),
            name="true_persona",
        )
    return PersonaData(
        features=selected,
        source=str(location),
        input_hashes=snapshot.input_hashes,
        conversion=labels["conversion"],
        churn=labels["churn"],
        model_line=model_line,
        truth=truth,
        notes=notes,
    )


def select_population(features: pd.DataFrame, population: str) -> pd.DataFrame:
    """Rows of the persona population at the feature table's cutoff.

    all: every customer with a row; leads: no order before the cutoff (the conversion
    population); owners: car delivered before the cutoff (``is_owner`` = 1).

    Raises:
        ValueError: unknown population, a needed column missing, or no row left.
    """
    if population not in POPULATIONS:
        raise ValueError(f"population {population!r}: must be one of {', '.join(POPULATIONS)}")
    if population == "all":
        selected = features
    else:
        column = OWNER_COL if population == "owners" else ORDER_COUNT_COL
        if column not in features.columns:
            raise ValueError(f"features: column {column!r} missing (needed for {population})")
        values = features[column].fillna(0)
        selected = features[values > 0] if population == "owners" else features[values == 0]
    if selected.empty:
        raise ValueError(f"features: no customer in population {population!r}")
    return selected.reset_index(drop=True)


def latest_model_line(orders: pd.DataFrame, cutoff: pd.Timestamp | str) -> pd.Series:
    """Model line of each customer's latest order strictly before ``cutoff``.

    Orders at or after the cutoff are the future of a lead and must not describe it.

    Returns:
        model line indexed by customer_id (customers without an earlier order are absent).
    """
    needed = [schema.ID_COL, "order_ts", "model_line"]
    missing = [c for c in needed if c not in orders.columns]
    if missing:
        raise ValueError(f"orders: column {missing[0]!r} missing")
    cutoff = pd.Timestamp(cutoff)
    before = orders[orders["order_ts"] < cutoff].sort_values("order_ts", kind="stable")
    latest = before.groupby(schema.ID_COL, sort=True).tail(1)
    return latest.set_index(schema.ID_COL)["model_line"].astype(str)


def read_predicted_values(path: str | Path) -> pd.Series:
    """``predicted_value`` by customer_id from notebook 04's value.parquet."""
    table = pd.read_parquet(project_path(path))
    missing = [c for c in (schema.ID_COL, "predicted_value") if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path}: column(s) {', '.join(missing)} missing (rule: value_file is the "
            "value.parquet of notebook 04)"
        )
    ids = table[schema.ID_COL].astype(str)
    return pd.Series(table["predicted_value"].to_numpy(dtype=float), index=ids.to_numpy(),
                     name="predicted_value").rename_axis(schema.ID_COL)  # fmt: skip
