"""The campaign rows the uplift study learns from, and the customers it ranks now.

Synthetic data: the dataset's randomised waves of one task (``campaigns.parquet``) whose
outcome window closed before the cutoff, each row joined to the lab's point-in-time features
at its wave's send date (features use events before it only; the outcome is after it), with
the evaluation-only true effects beside them; the customers to rank are the task's population
at the cutoff (owners for win-back, open leads for test drives). A bring-your-own table is one
campaign: a treatment column (0/1), an outcome column (0/1), feature columns (numbers or
text) and optionally an id column; its own rows are the customers to rank.

May import the foundation, ``features.data``, ``features.table``, ``features.propensity``
(helpers) and the ``features.actions`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features import schema
from features.data import datasets
from features.data.synth_campaigns import TEST_DRIVE_DAYS, WINBACK_DAYS
from features.data.tabular import TableError, prepare_ready_table, read_table
from features.propensity.data import align_to_training, as_model_frame
from features.table.labels import population_at
from features.table.snapshots import EventSource, load_snapshots

POPULATION_TASK = {"winback": "churn", "test_drive": "conversion"}
OUTCOME_DAYS = {"winback": WINBACK_DAYS, "test_drive": TEST_DRIVE_DAYS}
LINE_DAYS = 90  # the model line of an order placed within this many days after a wave
_DAY = pd.Timedelta(days=1)


@dataclass
class CampaignData:
    """Rows of past randomised contacts and the customers to rank now."""

    features: pd.DataFrame
    treated: np.ndarray
    outcome: np.ndarray
    ids: pd.Series
    groups: np.ndarray  # split unit: rows of one customer stay in one part
    waves: pd.Series | None
    true_uplift: np.ndarray | None
    current: pd.DataFrame  # features of the customers to rank now
    current_ids: pd.Series
    notes: list[str]
    input_hashes: dict[str, str]


def _wave_features(source: EventSource, waves: pd.DataFrame, extra: list[pd.Timestamp]):
    stamps = sorted({*pd.to_datetime(waves["sent_at"]).unique(), *extra})
    return load_snapshots(source, {pd.Timestamp(s): [] for s in stamps}, echo=print)


def synthetic_campaigns(
    n_customers: int, seed: int, task: str, cutoff: pd.Timestamp
) -> CampaignData:
    """The synthetic dataset's waves of ``task`` closed before ``cutoff``."""
    folder = Path(datasets.ensure_synthetic_dataset(n_customers, seed))
    campaigns = pd.read_parquet(folder / f"{schema.CAMPAIGNS_TABLE}.parquet")
    campaigns = campaigns[campaigns["task"] == task]
    closed = campaigns["sent_at"] + OUTCOME_DAYS[task] * _DAY <= cutoff
    campaigns = campaigns[closed].reset_index(drop=True)
    if campaigns.empty:
        raise ValueError(f"{folder}: no {task} wave closed before the cutoff {cutoff.date()}")
    source = EventSource(folder)
    snapshots = _wave_features(source, campaigns, [cutoff])
    parts = []
    for sent_at, rows in campaigns.groupby("sent_at", sort=True):
        feats = snapshots[pd.Timestamp(sent_at)].features
        feats = feats.assign(**{schema.ID_COL: feats[schema.ID_COL].astype(str)})
        parts.append(rows.merge(feats, on=schema.ID_COL, how="left"))
    table = pd.concat(parts, ignore_index=True)
    truth = pd.read_parquet(folder / f"{schema.CAMPAIGN_TRUTH_TABLE}.parquet")
    table = table.merge(truth[["campaign_id", schema.ID_COL, "true_uplift"]],
                        on=["campaign_id", schema.ID_COL], how="left")  # fmt: skip
    drop = ["campaign_id", "task", "sent_at", "treated", "outcome", "true_uplift", schema.ID_COL]
    features = as_model_frame(table.drop(columns=drop))
    now = snapshots[cutoff]
    log = source.load()
    population, _ = population_at(POPULATION_TASK[task], log, cutoff)
    current = now.features.assign(**{schema.ID_COL: now.features[schema.ID_COL].astype(str)})
    current = current[current[schema.ID_COL].isin(population[schema.ID_COL])]
    current = current.reset_index(drop=True)
    current_X = align_to_training(as_model_frame(current.drop(columns=[schema.ID_COL])), features)
    waves = table["campaign_id"]
    notes = [f"{len(table):,} contacts in {waves.nunique()} waves of {task} "
             f"({int(table['treated'].sum()):,} contacted), {len(current):,} to rank at "
             f"{cutoff.date()}"]  # fmt: skip
    return CampaignData(
        features=features,
        treated=table["treated"].to_numpy(dtype=int),
        outcome=table["outcome"].to_numpy(dtype=int),
        ids=table[schema.ID_COL],
        groups=pd.factorize(table[schema.ID_COL])[0],
        waves=waves,
        true_uplift=table["true_uplift"].to_numpy(dtype=float),
        current=current_X,
        current_ids=current[schema.ID_COL],
        notes=notes,
        input_hashes=dict(now.input_hashes),
    )


def _binary(values: pd.Series, source: str, column: str, parameter: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | ~numbers.isin((0, 1))
    if bad.any():
        first = ", ".join(repr(v) for v in values[bad].head(3))
        raise TableError(f"{source}: column {column!r} (parameter {parameter}) must be 0/1 on "
                         f"every row; {int(bad.sum())} rows are not: {first}")  # fmt: skip
    return numbers.to_numpy(dtype=int)


def table_campaign(
    path: str | Path, treatment_col: str, outcome_col: str, id_col: str | None,
    drop_cols: list[str],
) -> CampaignData:  # fmt: skip
    """A bring-your-own campaign table (one randomised campaign)."""
    source = str(path)
    table = read_table(path, text_cols=[id_col] if id_col else ())
    table.columns = [str(c).strip() for c in table.columns]
    for column, parameter in ((treatment_col, "treatment_col"), (outcome_col, "outcome_col")):
        if column not in table.columns:
            raise TableError(f"{source}: column {column!r} not found (parameter {parameter}); "
                             f"columns: {', '.join(map(str, table.columns[:12]))}")  # fmt: skip
    if treatment_col in drop_cols or outcome_col in drop_cols:
        raise TableError(f"{source}: drop_cols lists the treatment or outcome column "
                         "(parameter drop_cols)")  # fmt: skip
    treated = _binary(table[treatment_col], source, treatment_col, "treatment_col")
    if treated.all() or not treated.any():
        raise TableError(f"{source}: column {treatment_col!r} (parameter treatment_col) has one "
                         "value only; uplift needs contacted and not contacted customers")  # fmt: skip
    outcome = _binary(table[outcome_col], source, outcome_col, "outcome_col")
    ready = prepare_ready_table(table.drop(columns=[treatment_col]), target=outcome_col,
                                positive_label=1, drop_cols=drop_cols, id_col=id_col,
                                source=source)  # fmt: skip
    features = as_model_frame(ready.features)
    ids = ready.ids.astype(str).reset_index(drop=True)
    notes = [*ready.notes, f"{len(table):,} rows ({int(treated.sum()):,} contacted)"]
    return CampaignData(
        features=features, treated=treated, outcome=outcome, ids=ids,
        groups=pd.factorize(ids)[0], waves=None, true_uplift=None, current=features,
        current_ids=ids, notes=notes, input_hashes={},
    )  # fmt: skip
