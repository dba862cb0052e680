"""Live scoring: today's open leads or active owners, scored by the registered champion.

``score_population`` loads the event log, takes the as-of date (default: the day after the last
event, "today" for that data), the task's population at that date (no labels needed), the
processed snapshot of features at that date, the model from the registry, and returns the
campaign list: customer_id, calibrated probability, decile (1 = highest), bucket (high = top
20%, medium = next 30%, low = the rest) and three plain-word reasons from exact TreeSHAP. A
churn list also carries each owner's predicted value over the value model's horizon and the
value at risk (probability x value) when a value champion (``nev-value``, notebook 04) is in the
registry, so a win-back budget goes to the owners worth saving. When the task's actions scorer
(``nev-actions-winback`` for churn, ``nev-actions-test_drive`` for conversion; notebook 05) is
registered, the list also carries the estimated effect of a contact, the planned action
(contact within the study's budget, leave alone, not worth it) and the model line to pitch.

May import the foundation, ``features.data``, ``features.table``, ``features.propensity``,
``features.tracking`` and, deferred (optional stages), ``features.value`` and
``features.actions``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import defaults, schema, tracking
from features.propensity.evaluation import DEFAULT_BUCKET_SHARES, assign_buckets, assign_deciles
from features.propensity.scorer import PropensityScorer
from features.propensity.study import SCORES_COLUMNS
from features.table.build import parse_cutoff
from features.table.labels import population_at
from features.table.snapshots import EventSource, load_snapshots

TASKS = ("conversion", "churn")
VALUE_MODEL_URI = f"models:/nev-value@{tracking.CHAMPION_ALIAS}"
VALUE_COLUMNS = ("predicted_value", "value_at_risk")
ACTIONS_TASK = {"churn": "winback", "conversion": "test_drive"}
ACTION_COLUMNS = ("expected_uplift", "action", "recommended_line")
# The same columns as a study's scores.parquet.
CAMPAIGN_COLUMNS = SCORES_COLUMNS
N_REASONS = 3
BUCKETS = ("high", "medium", "low")
REASON_CHUNK = 100_000  # rows explained at once: bounds the SHAP matrix in memory


class ScoringError(ValueError):
    """Live scoring cannot go on: bad model, or data that cannot feed it."""


@dataclass
class CampaignList:
    """A scored population: the list, and what describes it (``score_summary.json``)."""

    campaign: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    spark_scores: Any = None  # the scored Spark DataFrame (engine="spark"), else None


def default_model_uri(task: str) -> str:
    """The champion of the task in the configured registry."""
    return f"models:/nev-{task}@{tracking.CHAMPION_ALIAS}"


def model_version(model_uri: str) -> str:
    """The registry version behind ``models:/name@alias`` or ``models:/name/N`` ("" otherwise)."""
    from mlflow import MlflowClient  # deferred: slow to import

    if not model_uri.startswith("models:/"):
        return ""
    ref = model_uri.removeprefix("models:/")
    uri = tracking.resolve_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return str(client.get_model_version_by_alias(name, alias).version)
    name, _, version = ref.partition("/")
    return version if version.isdigit() else ""


def load_scorer(model_uri: str) -> PropensityScorer:
    """The lab's scorer behind a registry or run URI; refuses other kinds of model."""
    import mlflow.pyfunc  # deferred: slow to import

    tracking.configure()
    try:
        loaded = mlflow.pyfunc.load_model(model_uri)
    except Exception as exc:
        raise ScoringError(f"model {model_uri}: cannot be loaded ({exc})") from exc
    try:
        scorer = loaded.unwrap_python_model()
    except Exception:  # MLflow raises for models of other flavors (e.g. a raw booster)
        scorer = None
    if not isinstance(scorer, PropensityScorer):
        raise ScoringError(
            f"model {model_uri}: not a lab scorer (rule: score with a model registered by the "
            "02_conversion / 03_churn notebooks)"
        )
    return scorer


def default_actions_model_uri(task: str) -> str:
    """The registry URI of the champion actions scorer for a list's task."""
    return f"models:/nev-actions-{ACTIONS_TASK[task]}@{tracking.CHAMPION_ALIAS}"


def _load_optional_scorer(model_uri: str, kind: type, what: str, rule: str) -> Any | None:
    """The ``kind`` scorer behind ``model_uri``; None when nothing is registered there yet.

    A model that is registered but cannot be loaded, or is not a ``kind``, is refused
    (``ScoringError``) rather than leaving the list silently without its columns.
    """
    import mlflow.pyfunc  # deferred: slow to import
    from mlflow.exceptions import MlflowException

    tracking.configure()
    try:
        loaded = mlflow.pyfunc.load_model(model_uri)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise ScoringError(f"{what} model {model_uri}: cannot be loaded ({exc})") from exc
    try:
        scorer = loaded.unwrap_python_model()
    except Exception:  # MLflow raises for models of other flavors
        scorer = None
    if not isinstance(scorer, kind):
        raise ScoringError(f"{what} model {model_uri}: not the {what} scorer (rule: {rule})")
    return scorer


def load_value_scorer(model_uri: str) -> Any | None:
    """The value scorer behind ``model_uri``; None when nothing is registered there yet."""
    from features.value.scorer import ValueScorer

    return _load_optional_scorer(
        model_uri, ValueScorer, "value",
        "register it with notebook 04_value, or pass --value-model-uri '' for a list without value",
    )  # fmt: skip


def load_actions_scorer(model_uri: str) -> Any | None:
    """The actions scorer behind ``model_uri``; None when nothing is registered there yet."""
    from features.actions.scorer import ActionsScorer

    return _load_optional_scorer(
        model_uri, ActionsScorer, "actions",
        "register it with notebook 05_actions, or pass --actions-model-uri '' for none",
    )  # fmt: skip


def planned_actions(scorer: Any, table: pd.DataFrame, values: np.ndarray | None) -> pd.DataFrame:
    """Effect of a contact, action within the scorer's budget, and line per row of ``table``."""
    from features.actions.study import plan_actions  # deferred: the actions stage is optional

    missing = [c for c in scorer.columns if c not in table.columns]
    if missing:
        raise ScoringError(f"actions model: the data cannot provide {len(missing)} feature(s) "
                           f"it needs: {', '.join(missing[:10])}")  # fmt: skip
    out = scorer.predict(table[scorer.columns])
    worth = np.where(np.isfinite(values), values, scorer.value_per_success) if values is not None \
        else np.full(len(out), scorer.value_per_success)  # fmt: skip
    out["action"] = plan_actions(out["expected_uplift"].to_numpy(), worth, scorer.contact_cost,
                                 scorer.budget)  # fmt: skip
    return out


def predicted_values(
    scorer: Any, log: Any, features: pd.DataFrame, as_of: pd.Timestamp
) -> pd.Series:
    """Predicted value over the scorer's horizon per customer with a transaction before as-of."""
    from features.value import data as vdata  # deferred: the value stage is optional here

    tx = vdata.transactions_from_events(log.events)
    frame = vdata.value_frame(tx, features, as_of, scorer.model.horizon_days)
    predicted = scorer.predict(frame.features)["predicted_value"].to_numpy()
    return pd.Series(predicted, index=frame.ids.astype(str), name="predicted_value")


def default_as_of(events: pd.DataFrame) -> pd.Timestamp:
    """The day after the last event of the log."""
    last = events[schema.TIME_COL].max()
    if pd.isna(last):
        raise ScoringError("event log: no timestamps (rule: scoring needs a non-empty log)")
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)


def frame_hash(frame: pd.DataFrame) -> str:
    """sha256 of a table's values (row order included)."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def score_population(
    task: str,
    source: EventSource,
    *,
    as_of: Any = None,
    model_uri: str | None = None,
    lookback_days: int = defaults.CHURN_LOOKBACK_DAYS,
    reasons: bool = True,
    reason_buckets: tuple[str, ...] = BUCKETS,
    value_model_uri: str | None = VALUE_MODEL_URI,
    actions_model_uri: str | None = None,
    echo: Callable[[str], None] = print,
    engine: str = "duckdb",
    spark: Any = None,
) -> CampaignList:
    """Score the task's population at ``as_of`` with the model at ``model_uri``.

    Reasons (exact TreeSHAP, the costly part: about 1,000 rows/s for 300 trees on 2 cores) are
    computed for the rows of ``reason_buckets`` only; other rows get empty reasons. A churn list
    gains ``VALUE_COLUMNS`` from the value model at ``value_model_uri`` when one is registered
    there (None or "": no value columns), and ``ACTION_COLUMNS`` from the actions scorer at
    ``actions_model_uri`` (None: the task's champion, ``default_actions_model_uri``; "": none).

    ``engine="spark"``: population, features and scores are computed on Spark (``spark``, or a
    local session), scores per partition by ``features.scoring.distributed``; the list and its
    summary are the same as on DuckDB, and ``CampaignList.spark_scores`` holds the scored Spark
    DataFrame.
    """
    if task not in TASKS:
        raise ScoringError(f"task {task!r}: must be one of {', '.join(TASKS)}")
    uri = model_uri or default_model_uri(task)
    echo(f"loading {source.path}")
    log = source.load()
    as_of_ts = parse_cutoff(as_of) if as_of is not None else default_as_of(log.events)
    population, population_name = population_at(
        task, log, as_of_ts, lookback_days=lookback_days, engine=engine, spark=spark
    )
    echo(f"{len(population):,} {population_name.replace('_', ' ')} at {as_of_ts:%Y-%m-%d}")
    if population.empty:
        raise ScoringError(
            f"{source.path.name}: no {population_name.replace('_', ' ')} at {as_of_ts:%Y-%m-%d} "
            "(rule: a campaign list needs customers to score)"
        )
    snapshot = load_snapshots(
        source, {as_of_ts: []}, log=log, echo=echo, engine=engine, spark=spark
    )[as_of_ts]
    features = snapshot.features.assign(
        **{schema.ID_COL: snapshot.features[schema.ID_COL].astype("str")}
    )
    table = population.merge(features, on=schema.ID_COL, how="left", validate="one_to_one")
    scorer = load_scorer(uri)
    missing = [name for name in scorer.feature_names if name not in table.columns]
    if missing:
        raise ScoringError(
            f"model {uri}: the data cannot provide {len(missing)} feature(s) it needs: "
            + ", ".join(missing[:10])
            + (", ..." if len(missing) > 10 else "")
        )
    echo(f"scoring with {uri}" + (" on Spark, per partition" if engine == "spark" else ""))
    spark_scores = None
    if engine == "spark":
        campaign, spark_scores = _score_on_spark(scorer, table, reasons, reason_buckets, spark)
        probability = campaign["probability"].to_numpy()
    else:
        probability = scorer.predict_proba(table)
        campaign = pd.DataFrame(
            {
                schema.ID_COL: table[schema.ID_COL].to_numpy(),
                "probability": probability,
                "decile": assign_deciles(probability),
                "bucket": assign_buckets(probability).astype("str"),
            }
        )
        for rank in range(1, N_REASONS + 1):
            campaign[f"reason_{rank}"] = ""
    explain = (  # Spark explained its rows already
        campaign["bucket"].isin(reason_buckets).to_numpy()
        if reasons and engine == "duckdb"
        else None
    )
    if explain is not None and explain.any():
        echo(f"explaining {int(explain.sum()):,} scores (exact TreeSHAP)")
        for start in range(0, len(table), REASON_CHUNK):
            rows = np.flatnonzero(explain[start : start + REASON_CHUNK]) + start
            if len(rows):
                found = scorer.reasons(table.iloc[rows], k=N_REASONS)
                campaign.loc[rows, found.columns] = found.to_numpy()
    columns = list(CAMPAIGN_COLUMNS)
    value_summary: dict[str, Any] = {}
    value_scorer = (
        load_value_scorer(value_model_uri) if task == "churn" and value_model_uri else None
    )
    if value_scorer is not None:
        echo(f"valuing the owners with {value_model_uri}")
        values = predicted_values(value_scorer, log, snapshot.features, as_of_ts)
        campaign["predicted_value"] = campaign[schema.ID_COL].map(values).to_numpy()
        campaign["value_at_risk"] = campaign["probability"] * campaign["predicted_value"]
        columns += list(VALUE_COLUMNS)
        value_summary = {
            "value_model_uri": value_model_uri,
            "value_model_version": model_version(value_model_uri),
            "value_horizon_days": int(value_scorer.model.horizon_days),
            "expected_value_at_risk": float(campaign["value_at_risk"].sum()),
        }
    elif task == "churn" and value_model_uri:
        echo(f"no value model at {value_model_uri}: the list goes without value columns")
    actions_uri = (
        default_actions_model_uri(task) if actions_model_uri is None else actions_model_uri
    )
    actions_scorer = load_actions_scorer(actions_uri) if actions_uri else None
    if actions_scorer is not None:
        echo(f"planning actions with {actions_uri}")
        values = campaign["predicted_value"].to_numpy(dtype=float) if "predicted_value" in campaign \
            else None  # fmt: skip
        planned = planned_actions(actions_scorer, table, values)
        for name in ACTION_COLUMNS:
            campaign[name] = planned[name].to_numpy()
        columns += list(ACTION_COLUMNS)
        value_summary |= {
            "actions_model_uri": actions_uri,
            "actions_model_version": model_version(actions_uri),
            "n_contact": int((campaign["action"] == "contact").sum()),
            "n_sleeping_dogs": int((campaign["expected_uplift"] < 0).sum()),
        }
    elif actions_uri:
        echo(f"no actions model at {actions_uri}: the list goes without action columns")
    campaign = campaign[columns]
    campaign = campaign.sort_values(
        ["probability", schema.ID_COL], ascending=[False, True], kind="stable", ignore_index=True
    )
    leaked = [c for c in campaign.columns if c in schema.PERSONAL_FIELDS]
    if leaked:  # the columns are fixed above; this guards later edits
        raise ScoringError(f"campaign list carries personal fields {leaked}")
    counts = campaign["bucket"].value_counts()
    summary = {
        "task": task,
        "as_of": f"{as_of_ts:%Y-%m-%d}",
        "population": population_name,
        "model_uri": uri,
        "model_version": model_version(uri),
        "n_scored": int(len(campaign)),
        "expected_positives": float(np.sum(probability)),
        "mean_probability": float(np.mean(probability)),
        "bucket_counts": {b: int(counts.get(b, 0)) for b in ("high", "medium", "low")},
        "bucket_shares": list(DEFAULT_BUCKET_SHARES),
        "reason_buckets": list(reason_buckets) if reasons else [],
        "feature_table_hash": frame_hash(table[[schema.ID_COL, *scorer.feature_names]]),
        "feature_registry_version": snapshot.metadata.get("feature_registry_version"),
        "dataset": snapshot.dataset,
        "input_sha256": snapshot.input_hashes,
        "engine": engine,
        **value_summary,
    }
    return CampaignList(campaign, summary, spark_scores)


def _score_on_spark(
    scorer: PropensityScorer,
    table: pd.DataFrame,
    reasons: bool,
    reason_buckets: tuple[str, ...],
    spark: Any,
) -> tuple[pd.DataFrame, Any]:
    """The campaign columns scored on Spark, in ``table``'s row order, and the scored frame."""
    from features.engine.spark import default_session
    from features.scoring import distributed

    session = spark if spark is not None else default_session()
    features = distributed.to_spark(session, table[[schema.ID_COL, *scorer.feature_names]])
    scored = distributed.rank_scores(
        distributed.score_partitions(scorer, features, reasons=reasons)
    ).cache()
    found = scored.toArrow().to_pandas().set_index(schema.ID_COL)
    campaign = found.reindex(table[schema.ID_COL].to_numpy()).reset_index()
    campaign["decile"] = campaign["decile"].astype("int64")
    campaign["bucket"] = campaign["bucket"].astype("str")
    keep = campaign["bucket"].isin(reason_buckets) if reasons else False
    for rank in range(1, N_REASONS + 1):
        campaign[f"reason_{rank}"] = campaign[f"reason_{rank}"].where(keep, "").astype("str")
    columns = [schema.ID_COL, "probability", "decile", "bucket"]
    return campaign[columns + [f"reason_{r}" for r in range(1, N_REASONS + 1)]], scored
