"""Persona segmentation: input matrix, clustering, k selection, stability, profiles and cards.

Functions over DataFrames and arrays, plus two edge functions that read the data
(``load_persona_data``) and write outputs and MLflow records (``save_and_track_personas``).
The flow of ``notebooks/01_personas.ipynb``::

    data = load_persona_data(data_source, n_customers, seed, cutoff, population)
    matrix = prepare_persona_matrix(data.features, default_persona_columns(data.features))
    blocks = matrix.categorical_blocks
    curves = score_k_range(matrix.values, k_min, k_max, method, categorical_blocks=blocks)
    choice = choose_k(curves, method)
    model = fit_clusterer(matrix.values, choice.k, method, categorical_blocks=blocks)
    assignments = assign_personas(model, matrix.values, data.features["customer_id"])
    stability = bootstrap_stability(matrix.values, choice.k, method, n_bootstrap, ...)
    profiles = describe_personas(data.features, assignments, data.conversion, data.churn, ...)

Methods: k-means, a Gaussian mixture and a latent class model (``LatentClassMixture``:
Gaussian numeric inputs, categorical attributes). Truth comparison (``compare_with_truth``)
is for evaluation on synthetic data only: the true persona never enters the clustering.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import ThreadpoolController

from features import config, params, schema

Method = Literal["kmeans", "gmm", "latent_class"]
METHODS: tuple[str, ...] = ("kmeans", "gmm", "latent_class")
Clusterer = Any  # KMeans | GaussianMixture | LatentClassMixture


@lru_cache(maxsize=1)
def _thread_pools() -> ThreadpoolController:
    return ThreadpoolController()


def _one_blas_thread() -> Any:
    """Context limiting BLAS to one thread: the persona matrices are thin, and on a shared
    two-core machine competing BLAS threads made the matrix products 10-100x slower."""
    return _thread_pools().limit(limits=1, user_api="blas")


POPULATIONS: tuple[str, ...] = ("all", "leads", "owners")

PERSONA_DIM_PREFIX = "persona_dim_"
PERSONA_ID_COL = "persona_id"
PERSONA_NAME_COL = "persona_name"
MEMBERSHIP_PROBABILITY_COL = "membership_probability"
CENTROID_DISTANCE_COL = "centroid_distance"
PERSONA_OUTPUT_COLUMNS = (
    schema.ID_COL,
    PERSONA_ID_COL,
    PERSONA_NAME_COL,
    MEMBERSHIP_PROBABILITY_COL,
    CENTROID_DISTANCE_COL,
)

# Categories with a natural order are encoded as one scaled ordinal column; the rest one-hot.
ORDERED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "income_band": schema.INCOME_BANDS,
    "city_tier": schema.CITY_TIERS,
}
STABILITY_WARN_BELOW = 0.8

# Seed figures ("industry plan figures") that persona shares are reported against.
SEED_SHARES: dict[str, float] = {"under_35": 0.42, "family": 0.25, "high_net_worth": 0.18}
SEED_SEGMENT_LABELS: dict[str, str] = {
    "under_35": "Under 35 years old",
    "family": "Family buyers",
    "high_net_worth": "High-net-worth buyers",
}


# --------------------------------------------------------------------------------------------
# Parameters and inputs at the edge
# --------------------------------------------------------------------------------------------


def project_path(path: str) -> Path:
    """An absolute path as it is; a relative one from the project root (never the cwd)."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (config.PROJECT_ROOT / candidate).resolve()


def _bad_parameter(name: str, value: Any, rule: str) -> None:
    raise params.ParameterError(f"parameter {name!r} = {value!r}: {rule}")


def check_persona_parameters(
    data_source: Any,
    n_customers: Any,
    seed: Any,
    cutoff: Any,
    population: Any,
    k_min: Any,
    k_max: Any,
    method: Any,
    n_bootstrap: Any,
    sample_size: Any,
    output_dir: Any,
    mlflow_tracking_uri: Any = "",
) -> dict[str, Any]:
    """Validate the persona notebook's parameters; return them with resolved paths.

    Raises:
        features.params.ParameterError: naming the first bad parameter and its rule.
    """
    if not isinstance(data_source, str) or not data_source:
        _bad_parameter("data_source", data_source, "must be 'synthetic' or a path")
    if data_source != "synthetic" and not project_path(data_source).exists():
        _bad_parameter("data_source", data_source, "must be 'synthetic' or an existing path")
    params.check_int("n_customers", n_customers, minimum=100)
    params.check_int("seed", seed, minimum=0)
    cutoff_ts = params.check_date("cutoff", cutoff)
    params.check_choice("population", population, POPULATIONS)
    params.check_int("k_min", k_min, minimum=2, maximum=30)
    params.check_int("k_max", k_max, minimum=k_min, maximum=30)
    params.check_choice("method", method, METHODS)
    params.check_int("n_bootstrap", n_bootstrap, minimum=2, maximum=200)
    params.check_int("sample_size", sample_size, minimum=100)
    for name, value in (("output_dir", output_dir), ("mlflow_tracking_uri", mlflow_tracking_uri)):
        if not isinstance(value, str):
            _bad_parameter(name, value, "must be a string ('' for the default)")
    stamp = pd.Timestamp.now().strftime("%Y%m%d-%H%M%S")
    resolved_output = (
        project_path(output_dir)
        if output_dir
        else config.reports_dir() / "adhoc" / f"personas-{stamp}"
    )
    return {
        "data_source": data_source,
        "data_path": None if data_source == "synthetic" else project_path(data_source),
        "n_customers": n_customers,
        "seed": seed,
        "cutoff": cutoff_ts,
        "population": population,
        "k_min": k_min,
        "k_max": k_max,
        "method": method,
        "n_bootstrap": n_bootstrap,
        "sample_size": sample_size,
        "output_dir": resolved_output,
        "mlflow_tracking_uri": mlflow_tracking_uri,
    }


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


def load_persona_data(
    data_source: str,
    n_customers: int,
    seed: int,
    cutoff: pd.Timestamp | str,
    population: str,
) -> PersonaData:
    """Load the event log, build features at ``cutoff`` and gather labels, orders and truth.

    ``data_source`` is "synthetic" (the dataset is generated when missing) or a dataset folder
    or event-log file (relative paths from the project root). Conversion and churn labels use
    the lab's default horizons; when the log cannot supply them (no orders, log ends before the
    horizon) the rates are left out and a note says why. The truth table is read only through
    ``features.oracle`` and only to evaluate.
    """
    from features import defaults
    from features.data.eventlog import load_event_log
    from features.table.build import build_features
    from features.table.labels import churn_labels, conversion_labels

    notes: list[str] = []
    if data_source == "synthetic":
        from features.data.datasets import ensure_synthetic_dataset

        location = Path(ensure_synthetic_dataset(n_customers, seed))
    else:
        location = project_path(data_source)
    log = load_event_log(location, verbose=False)
    features = build_features(log, cutoff)
    features[schema.ID_COL] = features[schema.ID_COL].astype(str)
    selected = select_population(features, population)

    labels: dict[str, pd.Series | None] = {}
    for task, make in (
        ("conversion", lambda: conversion_labels(log, cutoff, defaults.CONVERSION_HORIZON_DAYS)),
        (
            "churn",
            lambda: churn_labels(
                log, cutoff, defaults.CHURN_HORIZON_DAYS, defaults.CHURN_LOOKBACK_DAYS
            ),
        ),
    ):
        try:
            labels[task] = _label_series(make())
        except ValueError as exc:  # HorizonError and DataError are ValueErrors
            labels[task] = None
            notes.append(f"{task} rates left out: {exc}")

    model_line = None
    orders = read_orders(location) if location.is_dir() else None
    if orders is not None:
        orders = orders.assign(**{schema.ID_COL: orders[schema.ID_COL].astype(str)})
        model_line = latest_model_line(orders, cutoff)
    else:
        notes.append("typical model line left out: the source has no orders table")

    truth = None
    if location.is_dir() and (location / f"{schema.TRUTH_TABLE}.parquet").exists():
        from features.data.oracle import load_truth

        table = load_truth(location)
        truth = pd.Series(
            table["persona"].astype(str).to_numpy(),
            index=table[schema.ID_COL].astype(str),
            name="true_persona",
        )
    return PersonaData(
        features=selected,
        source=str(location),
        input_hashes=dict(log.input_hashes),
        conversion=labels["conversion"],
        churn=labels["churn"],
        model_line=model_line,
        truth=truth,
        notes=notes,
    )


OWNER_COL = "is_owner"
ORDER_COUNT_COL = "evt_order_count"


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


# --------------------------------------------------------------------------------------------
# Input matrix
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonaColumns:
    """Columns feeding the clustering, by how they are encoded.

    Attributes:
        numeric: imputed (median) and standardised as they are.
        log_numeric: non-negative, heavy-tailed counts; ``log1p`` before standardising.
        ordinal: ordered categories (``ORDERED_CATEGORIES``); rank, then standardised.
        nominal: unordered categories; one-hot (0/1 columns are left unscaled so that a
            categorical weighs about as much as one standardised numeric column).
    """

    numeric: tuple[str, ...]
    log_numeric: tuple[str, ...] = ()
    ordinal: tuple[str, ...] = ()
    nominal: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        """Every input column, in encoding order."""
        return self.numeric + self.log_numeric + self.ordinal + self.nominal


@dataclass
class PersonaMatrix:
    """Encoded clustering input and the transformer that produced it."""

    values: np.ndarray
    feature_names: list[str]
    transformer: ColumnTransformer
    columns: PersonaColumns
    categorical_blocks: tuple[tuple[int, ...], ...] = ()


def persona_dimension_columns(features: pd.DataFrame) -> list[str]:
    """The ``persona_dim_*`` score columns of a feature table, in table order."""
    return [c for c in features.columns if c.startswith(PERSONA_DIM_PREFIX)]


def select_persona_columns(
    features: pd.DataFrame,
    dimensions: Sequence[str] | None = None,
    behaviour: Sequence[str] = (),
    log_behaviour: Sequence[str] = (),
    ordinal: Sequence[str] = (),
    nominal: Sequence[str] = (),
) -> PersonaColumns:
    """Choose clustering inputs: persona dimensions plus the named extra columns.

    Args:
        features: customer feature table with ``persona_dim_*`` columns.
        dimensions: persona dimension columns to use (None: all of them; at least one).
        behaviour: numeric columns used as they are.
        log_behaviour: non-negative, heavy-tailed columns, ``log1p``-transformed before scaling.
        ordinal: ordered categories (keys of ``ORDERED_CATEGORIES``), ranked and scaled.
        nominal: categories (or small integer counts) encoded one-hot.

    Raises:
        ValueError: no persona dimension, a named column missing, a non-numeric numeric column
            or an ordinal column without a known order.
    """
    dims = persona_dimension_columns(features) if dimensions is None else list(dimensions)
    if not dims:
        raise ValueError(f"features: no '{PERSONA_DIM_PREFIX}*' column (persona input)")
    numeric = tuple(dims) + tuple(c for c in behaviour if c not in dims)
    requested = [*numeric, *log_behaviour, *ordinal, *nominal]
    missing = [c for c in requested if c not in features.columns]
    if missing:
        raise ValueError(f"features: column {missing[0]!r} missing (persona input)")
    for column in [*numeric, *log_behaviour]:
        if not pd.api.types.is_numeric_dtype(features[column]):
            raise ValueError(f"features: column {column!r} must be numeric (persona input)")
    unordered = [c for c in ordinal if c not in ORDERED_CATEGORIES]
    if unordered:
        raise ValueError(f"features: column {unordered[0]!r} has no known category order")
    return PersonaColumns(
        numeric=numeric,
        log_numeric=tuple(log_behaviour),
        ordinal=tuple(ordinal),
        nominal=tuple(nominal),
    )


def build_persona_transformer(columns: PersonaColumns) -> ColumnTransformer:
    """Unfitted transformer turning the persona columns into a numeric, scaled matrix."""
    steps: list[tuple[str, Any, list[str]]] = []
    if columns.numeric:
        steps.append(
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                list(columns.numeric),
            )
        )
    if columns.log_numeric:
        steps.append(
            (
                "log",
                make_pipeline(
                    SimpleImputer(strategy="median"),
                    FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                    StandardScaler(),
                ),
                list(columns.log_numeric),
            )
        )
    if columns.ordinal:
        steps.append(
            (
                "ord",
                make_pipeline(
                    OrdinalEncoder(
                        categories=[list(ORDERED_CATEGORIES[c]) for c in columns.ordinal],
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                    ),
                    SimpleImputer(strategy="median"),
                    StandardScaler(),
                ),
                list(columns.ordinal),
            )
        )
    if columns.nominal:
        steps.append(
            (
                "cat",
                make_pipeline(
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                list(columns.nominal),
            )
        )
    return ColumnTransformer(steps, remainder="drop", verbose_feature_names_out=True)


def prepare_persona_matrix(features: pd.DataFrame, columns: PersonaColumns) -> PersonaMatrix:
    """Fit the persona transformer on ``features`` and return the encoded matrix."""
    missing = [c for c in columns.all if c not in features.columns]
    if missing:
        raise ValueError(f"features: column {missing[0]!r} missing (persona input)")
    if len(features) == 0:
        raise ValueError("features: no rows to cluster")
    transformer = build_persona_transformer(columns)
    values = np.asarray(transformer.fit_transform(features[list(columns.all)]), dtype=float)
    return PersonaMatrix(
        values=values,
        feature_names=[str(n) for n in transformer.get_feature_names_out()],
        transformer=transformer,
        columns=columns,
        categorical_blocks=one_hot_blocks(transformer),
    )


def one_hot_blocks(transformer: ColumnTransformer) -> tuple[tuple[int, ...], ...]:
    """Column positions of each nominal input's one-hot block in the encoded matrix."""
    if "cat" not in transformer.named_transformers_:
        return ()
    encoder = transformer.named_transformers_["cat"][-1]
    names = [str(n) for n in transformer.get_feature_names_out()]
    start = next(i for i, n in enumerate(names) if n.startswith("cat__"))
    blocks = []
    for categories in encoder.categories_:
        blocks.append(tuple(range(start, start + len(categories))))
        start += len(categories)
    return tuple(blocks)


# --------------------------------------------------------------------------------------------
# Clustering and k selection
# --------------------------------------------------------------------------------------------


def make_clusterer(
    method: Method,
    k: int,
    seed: int = 0,
    n_init: int = 4,
    categorical_blocks: Sequence[Sequence[int]] = (),
) -> Clusterer:
    """Unfitted clusterer with ``k`` clusters.

    kmeans: Euclidean k-means. gmm: Gaussian mixture with full covariances and
    ``reg_covar=1e-3`` (one-hot inputs are constant inside some clusters; the ridge keeps
    those covariances invertible). latent_class: ``LatentClassMixture`` (Gaussian numeric
    columns, categorical one-hot blocks), the classic model for mixed-type segmentation data.
    """
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    if method == "gmm":
        return GaussianMixture(
            n_components=k,
            covariance_type="full",
            reg_covar=1e-3,
            n_init=max(1, n_init // 2),
            max_iter=200,
            random_state=seed,
        )
    if method == "latent_class":
        return LatentClassMixture(
            n_components=k,
            categorical_blocks=tuple(tuple(int(i) for i in b) for b in categorical_blocks),
            n_init=max(1, n_init // 2),
            random_state=seed,
        )
    raise ValueError(f"method {method!r}: must be one of {', '.join(METHODS)}")


def fit_clusterer(
    values: np.ndarray,
    k: int,
    method: Method,
    seed: int = 0,
    n_init: int = 4,
    categorical_blocks: Sequence[Sequence[int]] = (),
) -> Clusterer:
    """Fit a clusterer (``make_clusterer``) with ``k`` clusters on ``values``."""
    if k < 2:
        raise ValueError(f"k = {k}: must be >= 2")
    if len(values) <= k:
        raise ValueError(f"{len(values)} rows: need more rows than clusters (k = {k})")
    with _one_blas_thread():
        return make_clusterer(method, k, seed, n_init, categorical_blocks).fit(values)


def logsumexp(values: np.ndarray, axis: int = 1) -> np.ndarray:
    """log(sum(exp(values))) along ``axis``, computed stably (max subtracted first)."""
    peak = values.max(axis=axis, keepdims=True)
    return np.log(np.exp(values - peak).sum(axis=axis)) + np.squeeze(peak, axis=axis)


def _block(values: np.ndarray, block: Sequence[int]) -> np.ndarray:
    # One-hot blocks are contiguous: a slice is a view, fancy indexing would copy.
    start, stop = block[0], block[-1] + 1
    if stop - start == len(block):
        return values[:, start:stop]
    return values[:, list(block)]


class LatentClassMixture(ClusterMixin, BaseEstimator):
    """Latent class model for mixed data: Gaussian numeric columns, categorical one-hot blocks.

    Within a class, columns are independent: each numeric column is Gaussian (own mean and
    variance per class) and each one-hot block a categorical distribution (Laplace-smoothed).
    This is how segmentation surveys are usually modelled (latent class analysis) and it
    reads discrete attributes (children, income band, occupation) as categories instead of
    as distances. Fitted by EM from k-means starts; the best of ``n_init`` starts is kept.

    Args:
        n_components: number of classes.
        categorical_blocks: column positions of each one-hot block; other columns are numeric.
        n_init: k-means starts; the fit with the highest likelihood wins.
        max_iter: EM iterations per start.
        tol: stop when the mean log-likelihood per row improves by less than this.
        var_floor: added to every variance (scaled inputs: a small fraction of 1).
        smoothing: Laplace pseudo-count per category.
        random_state: seed of the k-means starts.
    """

    # The public path, stored in logged models (skops trusted type); stable across moves.
    __module__ = "features.personas"

    def __init__(
        self,
        n_components: int = 5,
        categorical_blocks: tuple[tuple[int, ...], ...] = (),
        n_init: int = 2,
        max_iter: int = 300,
        tol: float = 1e-4,
        var_floor: float = 1e-3,
        smoothing: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.categorical_blocks = categorical_blocks
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.var_floor = var_floor
        self.smoothing = smoothing
        self.random_state = random_state

    def _numeric_columns(self, n_columns: int) -> np.ndarray:
        in_blocks = {i for block in self.categorical_blocks for i in block}
        return np.array([i for i in range(n_columns) if i not in in_blocks], dtype=int)

    def _log_joint(self, values: np.ndarray) -> np.ndarray:
        numeric = values[:, self.numeric_columns_]
        log_joint = np.tile(np.log(self.weights_), (len(values), 1))
        if numeric.shape[1]:
            # Σ_d (x - μ)² / σ² expanded into matrix products (no n × k × d temporary).
            precision = 1.0 / self.variances_
            squared = (
                (numeric**2) @ precision.T
                - 2.0 * numeric @ (self.means_ * precision).T
                + (self.means_**2 * precision).sum(axis=1)
            )
            log_joint -= 0.5 * (squared + np.log(2 * np.pi * self.variances_).sum(axis=1))
        for block, log_probs in zip(self.categorical_blocks, self.category_log_probs_, strict=True):
            log_joint += _block(values, block) @ log_probs.T
        return log_joint

    def _m_step(self, values: np.ndarray, resp: np.ndarray) -> None:
        resp_t = np.ascontiguousarray(resp.T)
        counts = resp.sum(axis=0) + 1e-10
        self.weights_ = counts / counts.sum()
        numeric = values[:, self.numeric_columns_]
        self.means_ = resp_t @ numeric / counts[:, None]
        second = resp_t @ (numeric**2) / counts[:, None]
        self.variances_ = np.maximum(second - self.means_**2, 0.0) + self.var_floor
        self.category_log_probs_ = [
            np.log(
                (resp_t @ _block(values, block) + self.smoothing)
                / (counts[:, None] + self.smoothing * len(block))
            )
            for block in self.categorical_blocks
        ]
        self.cluster_centers_ = resp_t @ values / counts[:, None]

    def fit(self, X: np.ndarray, y: Any = None) -> LatentClassMixture:
        """Fit by EM; sets weights_, means_, variances_, category_log_probs_, labels_."""
        with _one_blas_thread():
            return self._fit(np.asarray(X, dtype=float))

    def _fit(self, values: np.ndarray) -> LatentClassMixture:
        self.numeric_columns_ = self._numeric_columns(values.shape[1])
        rng = np.random.default_rng(self.random_state)
        best: tuple[float, dict[str, Any]] | None = None
        for _ in range(max(1, self.n_init)):
            start = KMeans(
                self.n_components, n_init=1, random_state=int(rng.integers(2**31 - 1))
            ).fit_predict(values)
            resp = np.eye(self.n_components)[start] * 0.9 + 0.1 / self.n_components
            previous = -np.inf
            converged, n_iter = False, 0
            while n_iter < self.max_iter:
                n_iter += 1
                self._m_step(values, resp)
                log_joint = self._log_joint(values)
                row_ll = logsumexp(log_joint, axis=1)
                resp = np.exp(log_joint - row_ll[:, None])
                mean_ll = float(row_ll.mean())
                if mean_ll - previous < self.tol:
                    converged = True
                    break
                previous = mean_ll
            self._m_step(values, resp)
            state = {
                key: getattr(self, key)
                for key in (
                    "weights_",
                    "means_",
                    "variances_",
                    "category_log_probs_",
                    "cluster_centers_",
                )
            }
            state.update(lower_bound_=mean_ll, n_iter_=n_iter, converged_=converged)
            if best is None or mean_ll > best[0]:
                best = (mean_ll, state)
        for key, value in best[1].items():
            setattr(self, key, value)
        self.labels_ = self.predict(values)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Posterior class probabilities of each row."""
        with _one_blas_thread():
            log_joint = self._log_joint(np.asarray(X, dtype=float))
        return np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of each row."""
        with _one_blas_thread():
            return np.argmax(self._log_joint(np.asarray(X, dtype=float)), axis=1)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Log-likelihood of each row."""
        with _one_blas_thread():
            return logsumexp(self._log_joint(np.asarray(X, dtype=float)), axis=1)

    def n_parameters(self) -> int:
        """Free parameters: weights, numeric means and variances, category probabilities."""
        k = self.n_components
        categorical = sum(len(block) - 1 for block in self.categorical_blocks)
        return (k - 1) + k * 2 * len(self.numeric_columns_) + k * categorical

    def bic(self, X: np.ndarray) -> float:
        """Bayesian information criterion (lower is better)."""
        values = np.asarray(X, dtype=float)
        return float(
            -2 * self.score_samples(values).sum() + self.n_parameters() * math.log(len(values))
        )


def kmeans_bic(values: np.ndarray, labels: np.ndarray, inertia: float, k: int) -> float:
    """BIC of a k-means solution read as a spherical Gaussian mixture with one shared variance.

    The X-means criterion (Pelleg & Moore, 2000): hard assignments, mixing weights n_j/n and
    the maximum-likelihood variance ``inertia / (n d)``; parameters are k·d centres, k-1
    weights and one variance. Lower is better, as for ``GaussianMixture.bic``.
    """
    n, d = values.shape
    counts = np.bincount(labels, minlength=k).astype(float)
    counts = counts[counts > 0]
    variance = max(inertia / (n * d), 1e-12)
    log_likelihood = (
        float(np.sum(counts * np.log(counts / n)))
        - n * d / 2 * math.log(2 * math.pi * variance)
        - n * d / 2
    )
    n_parameters = k * d + (k - 1) + 1
    return -2 * log_likelihood + n_parameters * math.log(n)


def sample_indices(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted random row indices (all rows when ``size >= n_rows``)."""
    if size >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def predict_labels(model: Clusterer, values: np.ndarray) -> np.ndarray:
    """Hard cluster index of each row."""
    return np.asarray(model.predict(values), dtype=int)


def _safe_silhouette(values: np.ndarray, labels: np.ndarray) -> float:
    if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(labels):
        return float("nan")
    with _one_blas_thread():
        return float(silhouette_score(values, labels))


def score_k_range(
    values: np.ndarray,
    k_min: int,
    k_max: int,
    method: Method,
    seed: int = 0,
    sample_size: int = 5000,
    n_init: int = 4,
    categorical_blocks: Sequence[Sequence[int]] = (),
    stability_refits: int = 3,
) -> pd.DataFrame:
    """Fit ``method`` for every k in [k_min, k_max] and score each fit.

    Silhouette is computed on one fixed random sample of ``sample_size`` rows (it costs
    O(n²)); BIC on all rows (the mixtures' own ``bic``; ``kmeans_bic`` for k-means);
    stability is the mean ARI of ``stability_refits`` bootstrap refits (``bootstrap_stability``;
    0 skips it).

    Returns:
        One row per k: k, silhouette, bic, inertia (k-means; NaN for the mixtures),
        smallest_share (share of the smallest cluster), stability_ari.
    """
    if k_min < 2 or k_max < k_min:
        raise ValueError(f"k range [{k_min}, {k_max}]: need 2 <= k_min <= k_max")
    sample = sample_indices(len(values), sample_size, seed)
    rows = []
    for k in range(k_min, k_max + 1):
        model = fit_clusterer(values, k, method, seed, n_init, categorical_blocks)
        labels = predict_labels(model, values)
        if method == "kmeans":
            inertia = float(model.inertia_)
            bic = kmeans_bic(values, labels, inertia, k)
        else:
            inertia = float("nan")
            bic = float(model.bic(values))
        shares = np.bincount(labels, minlength=k) / len(labels)
        stability = (
            bootstrap_stability(
                values, k, method, stability_refits, seed, sample_size, n_init, categorical_blocks
            ).mean
            if stability_refits >= 2
            else float("nan")
        )
        rows.append(
            {
                "k": k,
                "silhouette": _safe_silhouette(values[sample], labels[sample]),
                "bic": bic,
                "inertia": inertia,
                "smallest_share": float(shares.min()),
                "stability_ari": stability,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class KChoice:
    """The chosen number of personas and the rule's reasoning in one sentence."""

    k: int
    reason: str
    candidates: tuple[int, ...]


def choose_k(
    curves: pd.DataFrame,
    method: Method = "kmeans",
    silhouette_tolerance: float = 0.02,
    min_share: float = 0.02,
    min_stability: float = 0.9,
) -> KChoice:
    """Pick k from the curves of ``score_k_range`` with a fixed, documented rule.

    1. Actionable: the smallest persona holds at least ``min_share`` of customers.
    2. Reproducible: bootstrap refits agree (``stability_ari`` >= ``min_stability``); BIC
       keeps falling with k on large data, and unstable extra personas are noise, not
       segments. When no k qualifies the step is skipped (and said so).
    3. k-means (a distance method): keep the k whose silhouette is within
       ``silhouette_tolerance`` of the best (differences this small are sampling noise), then
       take the lowest BIC among them. Mixtures (likelihood models): the lowest BIC, their
       own model-selection criterion; silhouette is shown for reference.
    """
    usable = curves.dropna(subset=["bic"])
    if method == "kmeans":
        usable = usable.dropna(subset=["silhouette"])
    if usable.empty:
        raise ValueError("k curves: no k has a silhouette and BIC score")
    notes = []
    pool = usable[usable["smallest_share"] >= min_share]
    if pool.empty:
        pool = usable
        notes.append(f"every k left a persona under {min_share:.0%}")
    elif len(pool) < len(usable):
        dropped = sorted(int(v) for v in set(usable["k"]) - set(pool["k"]))
        notes.append(f"k in {dropped} left a persona under {min_share:.0%}")
    if "stability_ari" in pool.columns and pool["stability_ari"].notna().any():
        stable = pool[pool["stability_ari"] >= min_stability]
        if stable.empty:
            notes.append(f"no k reached bootstrap ARI {min_stability}: stability not used")
        else:
            unstable = sorted(int(v) for v in set(pool["k"]) - set(stable["k"]))
            if unstable:
                notes.append(f"k in {unstable} had bootstrap ARI below {min_stability}")
            pool = stable
    if method == "kmeans":
        best = pool["silhouette"].max()
        best_k = int(pool.loc[pool["silhouette"].idxmax(), "k"])
        near = pool[pool["silhouette"] >= best - silhouette_tolerance]
        chosen = near.sort_values(["bic", "k"]).iloc[0]
        reason = (
            f"k = {int(chosen['k'])}: silhouette {chosen['silhouette']:.3f} is within "
            f"{silhouette_tolerance} of the best ({best:.3f} at k = {best_k}); among k in "
            f"{[int(v) for v in near['k']]} it has the lowest BIC ({chosen['bic']:,.0f})"
        )
    else:
        near = pool
        chosen = pool.sort_values(["bic", "k"]).iloc[0]
        reason = (
            f"k = {int(chosen['k'])}: lowest BIC ({chosen['bic']:,.0f}) among k in "
            f"{[int(v) for v in pool['k']]}"
        )
    if notes:
        reason += "; " + "; ".join(notes)
    return KChoice(k=int(chosen["k"]), reason=reason, candidates=tuple(int(v) for v in near["k"]))


# --------------------------------------------------------------------------------------------
# Assignment
# --------------------------------------------------------------------------------------------


def cluster_centres(model: Clusterer) -> np.ndarray:
    """Cluster centres in the encoded input space, one row per cluster index."""
    return model.means_ if isinstance(model, GaussianMixture) else model.cluster_centers_


def persona_order(labels: np.ndarray, k: int) -> np.ndarray:
    """``order[cluster_index]`` = persona id 1..k, numbered by size (largest first)."""
    counts = np.bincount(labels, minlength=k)
    ranking = sorted(range(k), key=lambda c: (-counts[c], c))
    order = np.empty(k, dtype=int)
    for rank, cluster in enumerate(ranking, start=1):
        order[cluster] = rank
    return order


def assign_personas(model: Clusterer, values: np.ndarray, customer_ids: pd.Series) -> pd.DataFrame:
    """Persona of every row: id (1 = largest), membership probability and centre distance.

    ``membership_probability`` is the mixture posterior of the assigned class (NaN for
    k-means, which has none); ``centroid_distance`` is the Euclidean distance, in the scaled
    input space, to the assigned cluster's centre.

    Returns:
        customer_id, cluster_index, persona_id, membership_probability, centroid_distance.
    """
    if len(customer_ids) != len(values):
        raise ValueError(f"customer_ids: {len(customer_ids)} rows, matrix has {len(values)}")
    labels = predict_labels(model, values)
    k = len(cluster_centres(model))
    order = persona_order(labels, k)
    centres = cluster_centres(model)
    distance = np.linalg.norm(values - centres[labels], axis=1)
    if hasattr(model, "predict_proba"):
        probability = model.predict_proba(values)[np.arange(len(values)), labels]
    else:
        probability = np.full(len(values), np.nan)
    return pd.DataFrame(
        {
            schema.ID_COL: np.asarray(customer_ids),
            "cluster_index": labels,
            PERSONA_ID_COL: order[labels],
            MEMBERSHIP_PROBABILITY_COL: probability,
            CENTROID_DISTANCE_COL: distance,
        }
    )


# --------------------------------------------------------------------------------------------
# Stability and truth comparison
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StabilityResult:
    """Agreement of bootstrap refits, measured on one common reference set."""

    pairwise_ari: tuple[float, ...]
    n_bootstrap: int
    reference_size: int
    threshold: float = STABILITY_WARN_BELOW

    @property
    def mean(self) -> float:
        """Mean ARI over all pairs of refits."""
        return float(np.mean(self.pairwise_ari))

    @property
    def min(self) -> float:
        """Worst pair's ARI."""
        return float(np.min(self.pairwise_ari))

    @property
    def warn(self) -> bool:
        """True when the mean ARI is below the threshold: personas may not be reproducible."""
        return self.mean < self.threshold


def bootstrap_stability(
    values: np.ndarray,
    k: int,
    method: Method,
    n_bootstrap: int,
    seed: int = 0,
    reference_size: int = 5000,
    n_init: int = 4,
    categorical_blocks: Sequence[Sequence[int]] = (),
) -> StabilityResult:
    """Refit on ``n_bootstrap`` resamples and compare the refits' labels pairwise.

    Each refit sees a bootstrap resample (rows drawn with replacement, same size as the data)
    and its own random initialisation; all refits then label the same reference rows (a fixed
    random sample), and the adjusted Rand index is computed for every pair of refits. ARI is
    invariant to label permutations, so no cluster matching is needed.
    """
    if n_bootstrap < 2:
        raise ValueError(f"n_bootstrap = {n_bootstrap}: need at least 2 refits to compare")
    rng = np.random.default_rng(seed)
    reference = values[sample_indices(len(values), reference_size, seed)]
    labellings = []
    for b in range(n_bootstrap):
        rows = rng.integers(0, len(values), size=len(values))
        model = fit_clusterer(values[rows], k, method, seed + 1 + b, n_init, categorical_blocks)
        labellings.append(predict_labels(model, reference))
    pairwise = tuple(
        float(adjusted_rand_score(a, b)) for a, b in itertools.combinations(labellings, 2)
    )
    return StabilityResult(
        pairwise_ari=pairwise, n_bootstrap=n_bootstrap, reference_size=len(reference)
    )


@dataclass
class TruthComparison:
    """Agreement between found personas and the simulation's true personas."""

    ari: float
    confusion: pd.DataFrame
    n_customers: int
    best_match: dict[str, str] = field(default_factory=dict)


def compare_with_truth(found: pd.Series, truth: pd.Series) -> TruthComparison:
    """ARI and confusion table of found personas against true personas (evaluation only).

    Args:
        found: persona name or id indexed by customer_id.
        truth: true persona indexed by customer_id (from the truth table).

    Returns:
        ARI on the customers present in both, the count table (found × true) and, for every
        found persona, the true persona most of its members belong to.
    """
    common = found.index.intersection(truth.index)
    if len(common) == 0:
        raise ValueError("truth: no customer_id in common with the persona assignments")
    if found.index.has_duplicates or truth.index.has_duplicates:
        raise ValueError("truth: customer_id must be unique in both series")
    left = found.loc[common]
    right = truth.loc[common].astype(str)
    confusion = pd.crosstab(left.rename("persona"), right.rename("true_persona")).sort_index()
    best_match = {str(p): str(confusion.loc[p].idxmax()) for p in confusion.index}
    return TruthComparison(
        ari=float(adjusted_rand_score(right.to_numpy(), left.to_numpy())),
        confusion=confusion,
        n_customers=len(common),
        best_match=best_match,
    )


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------

TRAIT_SEPARATOR = "="


def build_profile_frame(
    features: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> pd.DataFrame:
    """Interpretable per-customer traits: numeric columns as they are, categories as 0/1.

    One-hot columns are named ``column=value`` (e.g. ``income_band=high``).
    """
    missing = [c for c in [*numeric, *categorical] if c not in features.columns]
    if missing:
        raise ValueError(f"features: column {missing[0]!r} missing (persona profile)")
    parts = [features[list(numeric)].astype(float)]
    for column in categorical:
        values = features[column].astype(object)
        dummies = pd.get_dummies(values, prefix=column, prefix_sep=TRAIT_SEPARATOR, dtype=float)
        dummies[values.isna().to_numpy()] = np.nan
        parts.append(dummies)
    profile = pd.concat(parts, axis=1)
    profile.index = features.index
    return profile


def standardised_differences(profile: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Per persona and trait: (persona mean − population mean) / population std.

    Traits without spread in the population are dropped. Rows: personas (sorted), columns:
    traits. Missing values are left out of both means.
    """
    if len(profile) != len(labels):
        raise ValueError(f"labels: {len(labels)} rows, profile has {len(profile)}")
    population_mean = profile.mean()
    population_std = profile.std(ddof=0)
    keep = population_std[population_std > 0].index
    group_means = profile[keep].groupby(np.asarray(labels), sort=True).mean()
    return (group_means - population_mean[keep]) / population_std[keep]


def top_traits(differences: pd.DataFrame, n: int = 5) -> dict[Any, list[tuple[str, float]]]:
    """The ``n`` traits with the largest absolute standardised difference, per persona.

    For one-hot traits only over-representation counts (being "not in tier 1" is implied by
    another category's over-representation and reads badly on a card).
    """
    result: dict[Any, list[tuple[str, float]]] = {}
    for persona, row in differences.iterrows():
        eligible = row[[not (TRAIT_SEPARATOR in t and row[t] < 0) for t in row.index]].dropna()
        ranked = eligible.reindex(eligible.abs().sort_values(ascending=False).index)
        result[persona] = [(str(t), float(v)) for t, v in ranked.head(n).items()]
    return result


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


def _typical_value(values: pd.Series) -> tuple[str | None, float]:
    counts = values.dropna().astype(str).value_counts(normalize=True)
    if counts.empty:
        return None, float("nan")
    return str(counts.index[0]), float(counts.iloc[0])


def _label_rate(members: pd.Index, labels: pd.Series | None) -> tuple[float, int]:
    if labels is None:
        return float("nan"), 0
    present = labels.reindex(members).dropna()
    if present.empty:
        return float("nan"), 0
    return float(present.astype(float).mean()), int(len(present))


def summarise_personas(
    assignments: pd.DataFrame,
    attributes: pd.DataFrame,
    conversion: pd.Series | None = None,
    churn: pd.Series | None = None,
    model_line: pd.Series | None = None,
    channel_col: str = "acquisition_channel",
) -> pd.DataFrame:
    """Per persona: size, share, typical channel and model line, conversion and churn rates.

    Args:
        assignments: customer_id and persona_id (``assign_personas``).
        attributes: customer attributes indexed by customer_id (channel, age, children,
            income_band when available).
        conversion: 0/1 conversion label indexed by customer_id (leads only).
        churn: 0/1 churn label indexed by customer_id (owners only).
        model_line: model line of orders before the cutoff, indexed by customer_id.

    Returns:
        One row per persona_id with the columns above plus seed-segment shares
        (share_under_35, share_family, share_high_net_worth) when the attributes allow.
    """
    ids = assignments.set_index(schema.ID_COL)[PERSONA_ID_COL]
    total = len(ids)
    seed_flags = seed_segment_flags(attributes.reindex(ids.index))
    rows = []
    for persona_id, members in ids.groupby(ids, sort=True):
        member_ids = members.index
        row: dict[str, Any] = {
            PERSONA_ID_COL: int(persona_id),
            "size": int(len(member_ids)),
            "share": len(member_ids) / total,
        }
        if channel_col in attributes.columns:
            channel, channel_share = _typical_value(attributes[channel_col].reindex(member_ids))
            row["top_channel"], row["top_channel_share"] = channel, channel_share
        if model_line is not None:
            line, line_share = _typical_value(model_line.reindex(member_ids))
            row["top_model_line"], row["top_model_line_share"] = line, line_share
            row["n_with_order"] = int(model_line.reindex(member_ids).notna().sum())
        row["conversion_rate"], row["n_leads_labelled"] = _label_rate(member_ids, conversion)
        row["churn_rate"], row["n_owners_labelled"] = _label_rate(member_ids, churn)
        for segment in seed_flags.columns:
            row[f"share_{segment}"] = float(seed_flags.loc[member_ids, segment].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def seed_segment_flags(attributes: pd.DataFrame) -> pd.DataFrame:
    """0/1 flags for the seed segments the attributes can identify.

    under_35: age < 35; family: at least one child; high_net_worth: income band "high".
    These are attribute proxies for the plan documents' segments, not their definitions.
    """
    flags = pd.DataFrame(index=attributes.index)
    if "age" in attributes.columns:
        flags["under_35"] = (attributes["age"].astype(float) < 35).astype(float)
    if "children" in attributes.columns:
        flags["family"] = (attributes["children"].astype(float) > 0).astype(float)
    if "income_band" in attributes.columns:
        flags["high_net_worth"] = (attributes["income_band"].astype(object) == "high").astype(float)
    return flags


# --------------------------------------------------------------------------------------------
# Names, themes and marketing angles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraitWord:
    """How a trait reads on a card when it sets a persona apart in the given direction.

    ``pattern`` is a regular expression matched against the whole trait name (a feature name
    or ``column=value``); ``direction`` is +1 (above the population) or -1 (below). ``weight``
    scales the trait's pull on the name and theme: acquisition channels describe how a persona
    was reached more than who it is, so they weigh half. ``concept`` groups adjectives that say
    the same thing (default: the theme).
    """

    pattern: str
    direction: int
    adjective: str | None = None
    noun: str | None = None
    theme: str | None = None
    weight: float = 1.0
    concept: str | None = None

    @property
    def idea(self) -> str | None:
        """What the adjective says; a name uses one adjective per idea (default: the theme)."""
        return self.concept or self.theme


_CHANNEL = 0.5
_COUNT = r"(_count|_count_\d+d|_share)"

# First matching entry describes a trait; unmatched categories are left out of names.
TRAIT_LEXICON: tuple[TraitWord, ...] = (
    # persona dimensions (features.registry.PERSONA_DIMENSIONS)
    TraitWord(r"persona_dim_demographics", +1, "affluent urban", None, "premium"),
    TraitWord(r"persona_dim_demographics", -1, "small-town", None, "value"),
    TraitWord(r"persona_dim_consumption\w*", +1, "big-budget", None, "premium"),
    TraitWord(r"persona_dim_consumption\w*", -1, "budget-minded", None, "value"),
    TraitWord(r"persona_dim_technology\w*", +1, "tech-first", None, "tech"),
    TraitWord(r"persona_dim_technology\w*", -1, "low-tech", None, None),
    TraitWord(r"persona_dim_social\w*", +1, "community-minded", None, "community"),
    TraitWord(r"persona_dim_social\w*", -1, "independent", None, None, 0.5),
    TraitWord(r"persona_dim_values", +1, "brand-loyal", None, "community"),
    TraitWord(r"persona_dim_values", -1, "wavering", None, None),
    TraitWord(r"persona_dim_lifestyle", +1, "road-tripping", None, "family", 0.5),
    TraitWord(r"persona_dim_lifestyle", -1, "city-bound", None, "commuter", 0.5),
    # customer attributes
    TraitWord(r"age", -1, "young", None, "tech", concept="age"),
    TraitWord(r"age", +1, "mature", None, None, concept="age"),
    TraitWord(r"children", +1, "family", "families", "family"),
    TraitWord(r"children", -1, "child-free", None, None, 0.5),
    TraitWord(r"married", +1, "married", None, "family", 0.5),
    TraitWord(r"married", -1, "single", None, None, 0.5),
    TraitWord(r"cars_in_household", +1, "multi-car", None, "premium", 0.5),
    TraitWord(r"budget", +1, "big-budget", None, "premium"),
    TraitWord(r"budget", -1, "price-conscious", "value seekers", "value"),
    TraitWord(r"income_band=high", +1, "affluent", "high earners", "premium"),
    TraitWord(r"income_band=upper_middle", +1, "well-off", None, "premium", 0.5),
    TraitWord(r"income_band=middle", +1, "middle-income", None, None, 0.5),
    TraitWord(r"income_band=(low|lower_middle)", +1, "modest-income", None, "value"),
    TraitWord(r"income_band", +1, "affluent", None, "premium"),
    TraitWord(r"income_band", -1, "modest-income", None, "value"),
    TraitWord(r"city_tier=tier1", +1, "tier-1", None, "commuter"),
    TraitWord(r"city_tier=new_tier1", +1, "new-tier-1", None, "commuter", 0.5),
    TraitWord(r"city_tier=tier2", +1, "tier-2", None, None, 0.5),
    TraitWord(r"city_tier=tier3_plus", +1, "county-town", None, "value"),
    TraitWord(r"city_tier", -1, "big-city", None, "commuter"),
    TraitWord(r"city_tier", +1, "county-town", None, "value"),
    TraitWord(r"climate_zone=cold", +1, "cold-climate", None, None, 0.5),
    TraitWord(r"gender=female", +1, "women-led", None, None, 0.5),
    TraitWord(r"occupation=student", +1, "student", "students", "value"),
    TraitWord(r"occupation=retired", +1, "retired", "retirees", None),
    TraitWord(r"occupation=(executive|business_owner)", +1, "executive", "executives", "premium"),
    TraitWord(r"occupation=it_engineer", +1, "tech-savvy", "engineers", "tech"),
    TraitWord(r"occupation=office_worker", +1, "office-based", "office workers", "commuter"),
    TraitWord(r"occupation=civil_servant", +1, "civil-service", None, None, 0.5),
    TraitWord(r"occupation=teacher_medical", +1, "professional", None, None, 0.5),
    TraitWord(r"occupation=freelancer", +1, "freelance", "freelancers", None),
    TraitWord(r"acquisition_channel=referral", +1, "referred", None, "community", _CHANNEL),
    TraitWord(r"acquisition_channel=short_video", +1, "short-video", None, "tech", _CHANNEL),
    TraitWord(r"acquisition_channel=private_domain", +1, "app-club", None, "community", _CHANNEL),
    TraitWord(r"acquisition_channel=(store_walk_in|event)", +1, "showroom", None, None, _CHANNEL),
    TraitWord(
        r"acquisition_channel=(search|vertical_media)", +1, "online-research", None, None, _CHANNEL
    ),
    TraitWord(r"acquisition_channel=partner", +1, "partner-sourced", None, None, _CHANNEL),
    TraitWord(r"sales_model=dealer", +1, "dealer-served", None, None, _CHANNEL),
    TraitWord(r"sales_model=direct", +1, "direct-store", None, None, _CHANNEL),
    # behaviour (features.registry names); recency columns read the other way round
    TraitWord(r"is_owner", +1, None, "owners", None),
    TraitWord(r"is_owner", -1, None, "prospects", None),
    TraitWord(r"funnel_depth", +1, "ready-to-buy", None, None),
    TraitWord(r"funnel_depth", -1, "early-stage", None, None, 0.5),
    TraitWord(r"engagement_events_\d+d", -1, "disengaged", None, None, 0.5),
    TraitWord(r"order_value_last", +1, "premium-model", None, "premium"),
    TraitWord(
        r"evt_(ota_feature_use|driver_assist_use|configurator_session|app_login)" + _COUNT,
        +1,
        "tech-first",
        None,
        "tech",
    ),
    TraitWord(r"engagement_events_\d+d", +1, "app-active", None, "tech"),
    TraitWord(
        r"evt_(community_post|referral_made)" + _COUNT, +1, "community-minded", None, "community"
    ),
    TraitWord(r"charging_share_(fast|public)", +1, "fast-charging", "commuters", "commuter"),
    TraitWord(r"charging_share_home", +1, "home-charging", None, None, 0.5),
    TraitWord(r"evt_charging_session" + _COUNT, +1, "high-mileage", "commuters", "commuter"),
    TraitWord(
        r"(evt_(service_visit|complaint)" + _COUNT + r"|service_wait_\w+)",
        +1,
        "service-demanding",
        None,
        "premium",
        0.5,
    ),
    TraitWord(r"nps_(last|min)", +1, "enthusiastic", None, "community", 0.5),
    TraitWord(r"nps_(last|min)", -1, "dissatisfied", None, None, 0.5),
    TraitWord(
        r"evt_(store_visit|test_drive|quote)" + _COUNT, +1, "showroom-going", None, None, 0.5
    ),
)

THEME_NOUNS: dict[str, str] = {
    "tech": "tech enthusiasts",
    "family": "families",
    "premium": "premium buyers",
    "community": "community builders",
    "value": "value seekers",
    "commuter": "commuters",
}

# One-line marketing angles in the plan documents' vocabulary, one per theme.
MARKETING_ANGLES: dict[str, str] = {
    "tech": (
        "Lead with the smart cockpit, driver assistance and OTA upgrades: app-first content and "
        "test drives that show the latest OTA features."
    ),
    "family": (
        "Sell 7-seat space, safety and 800V fast charging: weekend family test drives with a "
        "home-charger installation offer."
    ),
    "premium": (
        "Offer clubhouse-style private service and the brand ecosystem: a dedicated advisor, "
        "invitation-only owner events and priority service."
    ),
    "community": (
        "Grow through referral rewards and the owner community: member-get-member offers, "
        "owner clubs and user-generated content."
    ),
    "value": (
        "Make price and financing clear: transparent pricing, low-down-payment loans, leasing "
        "and total-cost-of-ownership comparisons."
    ),
    "commuter": (
        "Promise daily-commute range and a 30-minute charge to 80%: range-confidence content "
        "and public fast-charging packages."
    ),
}
GENERIC_ANGLE = (
    "Nurture with tailored content across the customer's own channels and follow up on the "
    "strongest signal in this profile."
)

SEED_SEGMENT_BY_THEME: dict[str, str] = {
    "tech": "under_35",
    "family": "family",
    "premium": "high_net_worth",
}


def describe_trait(trait: str, difference: float) -> TraitWord | None:
    """The first lexicon entry matching the trait in the direction of its difference."""
    direction = 1 if difference >= 0 else -1
    for word in TRAIT_LEXICON:
        if word.direction == direction and re.fullmatch(word.pattern, trait):
            return word
    return None


def trait_label(trait: str) -> str:
    """Readable trait name: ``persona_dim_technology`` -> ``technology score``."""
    if trait.startswith(PERSONA_DIM_PREFIX):
        return f"{trait[len(PERSONA_DIM_PREFIX) :].replace('_', ' ')} score"
    if TRAIT_SEPARATOR in trait:
        column, value = trait.split(TRAIT_SEPARATOR, 1)
        return f"{column.replace('_', ' ')}: {value.replace('_', ' ')}"
    return trait.replace("_", " ")


def _fallback_adjective(trait: str, difference: float) -> str:
    return f"{'high' if difference >= 0 else 'low'}-{trait_label(trait).replace(' ', '-')}"


def persona_theme(traits: Sequence[tuple[str, float]], min_difference: float = 0.2) -> str | None:
    """Dominant marketing theme: the theme whose lexicon traits add up the largest weighted
    |difference| (traits below ``min_difference`` ignored)."""
    scores: dict[str, float] = {}
    for trait, difference in traits:
        if abs(difference) < min_difference:
            continue
        word = describe_trait(trait, difference)
        if word is not None and word.theme is not None:
            scores[word.theme] = scores.get(word.theme, 0.0) + word.weight * abs(difference)
    if not scores:
        return None
    return max(scores, key=lambda t: (scores[t], t))


def _naming_order(traits: Sequence[tuple[str, float]]) -> list[tuple[str, float, TraitWord | None]]:
    described = [(t, d, describe_trait(t, d)) for t, d in traits]
    return sorted(described, key=lambda item: -abs(item[1]) * (item[2].weight if item[2] else 1))


def _stems(words: str) -> set[str]:
    return {w.lower()[:5] for w in re.split(r"[-\s]+", words) if len(w) >= 4}


def _restates(adjective: str, noun: str) -> bool:
    """True when the adjective repeats a word of the noun ("tech-first tech enthusiasts")."""
    return bool(_stems(adjective) & _stems(noun))


def name_persona(
    traits: Sequence[tuple[str, float]], n_adjectives: int = 2, theme: str | None = None
) -> str:
    """A name built from the top traits, e.g. "Young tech-first commuters".

    Adjectives come from the strongest traits (weighted by the lexicon; distinct words, one per
    idea, at most ``n_adjectives``); the noun from the strongest trait that has one, else from the theme
    (``persona_theme`` when not given), else "customers". Traits missing from the lexicon are
    skipped; only when no trait is in it does the strongest read "high-<feature>".
    """
    adjectives: list[str] = []
    noun: str | None = None
    ordered = _naming_order(traits)
    if all(word is None for _, _, word in ordered):
        numeric = [(t, d) for t, d, _ in ordered if TRAIT_SEPARATOR not in t]
        adjectives = [_fallback_adjective(*numeric[0])] if numeric else []
    used_ideas: set[str] = set()
    for _trait, _difference, word in ordered:
        if word is None:
            continue
        adjective = word.adjective
        if noun is None and word.noun is not None:
            # The trait that gives the noun is said once ("engineers", not "tech-savvy
            # engineers"; "families", not "family families").
            noun = word.noun
            continue
        # One adjective per idea: "budget-minded price-conscious" says the same thing twice.
        if word.idea is not None and word.idea in used_ideas:
            continue
        if adjective and adjective not in adjectives and len(adjectives) < n_adjectives:
            adjectives.append(adjective)
            if word.idea is not None:
                used_ideas.add(word.idea)
    if noun is None:
        noun = THEME_NOUNS.get(theme or persona_theme(traits) or "", "customers")
    adjectives = [a for a in adjectives if not _restates(a, noun)]
    words = " ".join([*adjectives, noun])
    return words[:1].upper() + words[1:]


def name_personas(
    traits_by_persona: Mapping[Any, Sequence[tuple[str, float]]],
    themes: Mapping[Any, str | None] | None = None,
) -> dict[Any, str]:
    """Unique names for all personas.

    Personas whose names collide get one more adjective from their next traits; if that is
    not enough a number is appended ("Young tech-first commuters 2").
    """
    themes = themes or {}
    names = {p: name_persona(t, 2, themes.get(p)) for p, t in traits_by_persona.items()}
    for n_adjectives in (3, 4):
        clashes = _clashing(names)
        if not clashes:
            break
        for persona in clashes:
            names[persona] = name_persona(
                traits_by_persona[persona], n_adjectives, themes.get(persona)
            )
    for name in set(_clashing(names).values()):
        tied = sorted((p for p in names if names[p] == name), key=str)
        for number, persona in enumerate(tied[1:], start=2):
            names[persona] = f"{name} {number}"
    return names


def _clashing(names: Mapping[Any, str]) -> dict[Any, str]:
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {p: n for p, n in names.items() if counts[n] > 1}


def marketing_angle(theme: str | None) -> str:
    """The one-line marketing angle of a theme (a generic nurture line when none fits)."""
    return MARKETING_ANGLES.get(theme or "", GENERIC_ANGLE)


# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------


def compare_seed_shares(
    summary: pd.DataFrame, themes: Mapping[int, str | None], population_flags: pd.DataFrame
) -> pd.DataFrame:
    """Seed segment shares beside the population's attribute shares and persona shares.

    Columns: segment, label, seed_share (industry plan figure), attribute_share (customers
    carrying the attribute proxy, ``seed_segment_flags``), persona_share (customers in personas
    whose theme maps to the segment), personas (their ids).
    """
    rows = []
    for segment, seed_share in SEED_SHARES.items():
        persona_ids = [
            int(p)
            for p, theme in themes.items()
            if SEED_SEGMENT_BY_THEME.get(theme or "") == segment
        ]
        persona_share = float(summary.loc[summary[PERSONA_ID_COL].isin(persona_ids), "share"].sum())
        attribute_share = (
            float(population_flags[segment].mean())
            if segment in population_flags.columns
            else float("nan")
        )
        rows.append(
            {
                "segment": segment,
                "label": SEED_SEGMENT_LABELS[segment],
                "seed_share": seed_share,
                "attribute_share": attribute_share,
                "persona_share": persona_share,
                "personas": sorted(persona_ids),
            }
        )
    return pd.DataFrame(rows)


def _json_number(value: Any, digits: int = 4) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


def build_persona_cards(
    summary: pd.DataFrame,
    traits: Mapping[int, Sequence[tuple[str, float]]],
    names: Mapping[int, str],
    themes: Mapping[int, str | None],
    profile_means: pd.DataFrame | None = None,
    population_means: pd.Series | None = None,
) -> list[dict[str, Any]]:
    """JSON-serialisable persona cards, one per persona, largest first.

    Args:
        summary: ``summarise_personas`` output.
        traits: top traits (trait, standardised difference) per persona id.
        names: persona name per persona id.
        themes: marketing theme per persona id.
        profile_means: mean of every trait per persona id (rows) to show raw levels.
        population_means: population mean of every trait.
    """
    cards = []
    for row in summary.sort_values(PERSONA_ID_COL).to_dict("records"):
        persona_id = int(row[PERSONA_ID_COL])
        theme = themes.get(persona_id)
        card: dict[str, Any] = {
            PERSONA_ID_COL: persona_id,
            "name": names[persona_id],
            "theme": theme,
            "marketing_angle": marketing_angle(theme),
            "size": int(row["size"]),
            "share": _json_number(row["share"]),
            "top_traits": [],
            "typical_channel": row.get("top_channel"),
            "typical_channel_share": _json_number(row.get("top_channel_share")),
            "typical_model_line": row.get("top_model_line"),
            "typical_model_line_share": _json_number(row.get("top_model_line_share")),
            "conversion_rate": _json_number(row.get("conversion_rate")),
            "n_leads_labelled": _json_number(row.get("n_leads_labelled")),
            "churn_rate": _json_number(row.get("churn_rate")),
            "n_owners_labelled": _json_number(row.get("n_owners_labelled")),
            "seed_segment": SEED_SEGMENT_BY_THEME.get(theme or ""),
            "seed_segment_shares": {
                segment: _json_number(row.get(f"share_{segment}"))
                for segment in SEED_SHARES
                if f"share_{segment}" in row
            },
        }
        for trait, difference in traits.get(persona_id, []):
            entry: dict[str, Any] = {
                "trait": trait,
                "label": trait_label(trait),
                "direction": "higher" if difference >= 0 else "lower",
                "standardised_difference": _json_number(difference, 3),
            }
            if profile_means is not None and trait in profile_means.columns:
                entry["persona_mean"] = _json_number(profile_means.loc[persona_id, trait], 3)
            if population_means is not None and trait in population_means.index:
                entry["population_mean"] = _json_number(population_means[trait], 3)
            card["top_traits"].append(entry)
        cards.append(card)
    return cards


def project_2d(values: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components of ``values`` and their explained-variance ratios."""
    pca = PCA(n_components=2, random_state=seed)
    return pca.fit_transform(values), pca.explained_variance_ratio_


def persona_pipeline(transformer: ColumnTransformer, model: Clusterer) -> Pipeline:
    """The fitted scaler/encoder and clusterer as one pipeline (``predict`` gives cluster index)."""
    return Pipeline([("encode", transformer), ("cluster", model)])


# --------------------------------------------------------------------------------------------
# Whole steps used by the notebook
# --------------------------------------------------------------------------------------------

# Default clustering inputs (kept when present in the feature table). Technology acceptance
# and consumption are the persona dimensions that describe who a customer is; demographics
# and lifestyle restate attributes already used here (income, city tier, age; children,
# cars), social network and values mostly measure the lifecycle stage (posts, referrals, NPS
# exist for owners only). Those four describe personas on the cards instead. Discrete
# attributes are categories (one-hot): the latent class model reads them as such.
DEFAULT_DIMENSIONS: tuple[str, ...] = (
    "persona_dim_technology_acceptance",
    "persona_dim_consumption_behaviour",
)
DEFAULT_BEHAVIOUR: tuple[str, ...] = ("age",)
DEFAULT_LOG_BEHAVIOUR: tuple[str, ...] = ("budget",)
DEFAULT_ORDINAL: tuple[str, ...] = ()
DEFAULT_NOMINAL: tuple[str, ...] = (
    "children",
    "married",
    "cars_in_household",
    "income_band",
    "city_tier",
    "occupation",
    "acquisition_channel",
    "gender",
)

# Traits that describe personas on cards (wider than the clustering inputs).
PROFILE_NUMERIC: tuple[str, ...] = (
    "age",
    "married",
    "children",
    "cars_in_household",
    "budget",
    "is_owner",
    "funnel_depth",
    "engagement_events_90d",
    "evt_configurator_session_count",
    "evt_test_drive_count",
    "evt_community_post_count",
    "evt_referral_made_count",
    "evt_complaint_count",
    "charging_share_home",
    "charging_share_fast",
    "nps_last",
    "order_value_last",
)
PROFILE_CATEGORICAL: tuple[str, ...] = (
    "gender",
    "city_tier",
    "income_band",
    "occupation",
    "acquisition_channel",
    "sales_model",
)


def default_persona_columns(features: pd.DataFrame) -> PersonaColumns:
    """The default clustering inputs that exist in ``features`` (all dimensions if none of
    the default ones does)."""
    present = set(features.columns)
    dimensions = [c for c in DEFAULT_DIMENSIONS if c in present] or None
    return select_persona_columns(
        features,
        dimensions=dimensions,
        behaviour=[c for c in DEFAULT_BEHAVIOUR if c in present],
        log_behaviour=[c for c in DEFAULT_LOG_BEHAVIOUR if c in present],
        ordinal=[c for c in DEFAULT_ORDINAL if c in present],
        nominal=[c for c in DEFAULT_NOMINAL if c in present],
    )


@dataclass
class PersonaProfiles:
    """Everything that describes the personas: tables for plots and cards for marketers."""

    differences: pd.DataFrame
    traits: dict[int, list[tuple[str, float]]]
    themes: dict[int, str | None]
    names: dict[int, str]
    summary: pd.DataFrame
    seed_shares: pd.DataFrame
    cards: list[dict[str, Any]]


def describe_personas(
    features: pd.DataFrame,
    assignments: pd.DataFrame,
    conversion: pd.Series | None = None,
    churn: pd.Series | None = None,
    model_line: pd.Series | None = None,
    n_traits: int = 5,
    n_naming_traits: int = 8,
) -> PersonaProfiles:
    """Profile, name and card every persona.

    Args:
        features: the clustered customers (same rows and order as ``assignments``).
        assignments: ``assign_personas`` output.
        conversion, churn, model_line: by customer_id (see ``summarise_personas``).
        n_traits: traits per card.
        n_naming_traits: traits the name is built from (the theme uses the card's traits).
    """
    if len(features) != len(assignments) or not np.array_equal(
        features[schema.ID_COL].astype(str).to_numpy(),
        assignments[schema.ID_COL].astype(str).to_numpy(),
    ):
        raise ValueError("assignments: rows must match the feature table's customers in order")
    present = set(features.columns)
    numeric = persona_dimension_columns(features) + [c for c in PROFILE_NUMERIC if c in present]
    categorical = [c for c in PROFILE_CATEGORICAL if c in present]
    profile = build_profile_frame(features, numeric, categorical)
    persona_ids = assignments[PERSONA_ID_COL].to_numpy()
    differences = standardised_differences(profile, pd.Series(persona_ids))
    traits = {int(p): t for p, t in top_traits(differences, n_traits).items()}
    themes = {p: persona_theme(t) for p, t in traits.items()}
    # Names look a little further than the card's traits, so that two personas with similar
    # top traits can still be told apart.
    naming = {int(p): t for p, t in top_traits(differences, n_naming_traits).items()}
    names = name_personas(naming, themes)
    attributes = features.set_index(features[schema.ID_COL].astype(str))
    ids = assignments.assign(**{schema.ID_COL: assignments[schema.ID_COL].astype(str)})
    summary = summarise_personas(ids, attributes, conversion, churn, model_line)
    seed_shares = compare_seed_shares(summary, themes, seed_segment_flags(attributes))
    cards = build_persona_cards(
        summary,
        traits,
        names,
        themes,
        profile_means=profile.groupby(persona_ids).mean(),
        population_means=profile.mean(),
    )
    return PersonaProfiles(differences, traits, themes, names, summary, seed_shares, cards)


def persona_table(assignments: pd.DataFrame, names: Mapping[int, str]) -> pd.DataFrame:
    """The personas.parquet table: customer_id, persona_id, persona_name, membership columns."""
    table = assignments.assign(
        **{PERSONA_NAME_COL: assignments[PERSONA_ID_COL].map(lambda p: names[int(p)])}
    )
    table = table[list(PERSONA_OUTPUT_COLUMNS)].copy()
    table[schema.ID_COL] = table[schema.ID_COL].astype(str)
    leaked = [c for c in table.columns if c in schema.PERSONAL_FIELDS]
    if leaked:
        raise ValueError(f"personas: personal fields {leaked} must not be written")
    return table


def persona_metrics(
    choice: KChoice,
    curves: pd.DataFrame,
    stability: StabilityResult,
    profiles: PersonaProfiles,
    truth: TruthComparison | None,
    n_customers: int,
) -> dict[str, Any]:
    """Headline figures of a segmentation run (metrics.json and MLflow)."""
    chosen = curves.set_index("k").loc[choice.k]
    shares = {
        profiles.names[int(row[PERSONA_ID_COL])]: round(float(row["share"]), 4)
        for _, row in profiles.summary.iterrows()
    }
    seed_rows = profiles.seed_shares.set_index("segment")
    return {
        "k": int(choice.k),
        "k_reason": choice.reason,
        "silhouette": round(float(chosen["silhouette"]), 4),
        "bic": round(float(chosen["bic"]), 1),
        "stability_ari_mean": round(stability.mean, 4),
        "stability_ari_min": round(stability.min, 4),
        "stability_warning": bool(stability.warn),
        "truth_ari": None if truth is None else round(truth.ari, 4),
        "n_customers": int(n_customers),
        "shares": shares,
        "seed_shares": {
            segment: {
                "seed": float(row["seed_share"]),
                "attribute": _json_number(row["attribute_share"]),
                "personas": _json_number(row["persona_share"]),
            }
            for segment, row in seed_rows.iterrows()
        },
    }


def persona_headline(
    choice: KChoice,
    stability: StabilityResult,
    profiles: PersonaProfiles,
    truth: TruthComparison | None,
    n_customers: int,
) -> str:
    """The finding in a few sentences of Markdown (the report's top)."""
    summary = profiles.summary.sort_values("share", ascending=False)
    listed = "; ".join(
        f"{profiles.names[int(row[PERSONA_ID_COL])]} ({row['share']:.0%})"
        for _, row in summary.iterrows()
    )
    lines = [
        "### Findings\n",
        f"**{choice.k} personas** among {n_customers:,} customers: {listed}.",
        f"- They come back when the data are resampled: bootstrap agreement (ARI) mean "
        f"**{stability.mean:.2f}**, lowest {stability.min:.2f}"
        + (
            " — **below the bar for acting on them**."
            if stability.warn
            else f" (bar: {stability.threshold})."
        ),
    ]
    if truth is not None:
        lines.append(
            f"- Agreement with the simulation's true segments: ARI **{truth.ari:.2f}** "
            "(1 = identical, 0 = chance)."
        )
    biggest = summary.iloc[0]
    card = next(c for c in profiles.cards if c["persona_id"] == int(biggest[PERSONA_ID_COL]))
    lines.append(
        f"- Largest persona: *{card['name']}*, typically from {card['typical_channel']}, "
        f"model line {card['typical_model_line']}; angle: {card['marketing_angle']}"
    )
    return "\n".join(lines)


def _model_example(features: pd.DataFrame, columns: PersonaColumns, rows: int = 5) -> pd.DataFrame:
    # Numbers as float (missing values allowed at inference), categories as plain text.
    example = features[list(columns.all)].head(rows).copy()
    for column in example.columns:
        if pd.api.types.is_numeric_dtype(example[column]):
            example[column] = example[column].astype("float64")
        else:
            example[column] = example[column].astype(str)
    return example


# MLflow's default skops format asks to trust these: SimpleImputer keeps the fitted numpy
# dtype, and the latent class model is this package's class (loading needs it installed).
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "features.personas.LatentClassMixture"]


def log_persona_model(pipeline: Pipeline, example: pd.DataFrame) -> dict[str, str]:
    """Log the encoder+scaler+clusterer pipeline to the active MLflow run as "persona_model".

    Requirements are given explicitly (inferring them takes seconds); the signature maps the
    raw persona input columns to the cluster index.
    """
    import mlflow.sklearn
    from mlflow.models import infer_signature

    from features import tracking

    info = tracking.retry_on_lock(
        mlflow.sklearn.log_model,
        pipeline,
        name="persona_model",
        signature=infer_signature(example, pipeline.predict(example)),
        input_example=example,
        pip_requirements=tracking.pinned_requirements(
            ("mlflow", "scikit-learn", "pandas", "numpy")
        ),
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )
    return {"model_uri": info.model_uri, "model_id": str(getattr(info, "model_id", "") or "")}


def save_and_track_personas(
    output_dir: str | Path,
    parameters: Mapping[str, Any],
    data: PersonaData,
    matrix: PersonaMatrix,
    model: Clusterer,
    assignments: pd.DataFrame,
    profiles: PersonaProfiles,
    metrics: Mapping[str, Any],
    figures: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    tracking_uri: str = "",
) -> dict[str, Any]:
    """Write the run's outputs into ``output_dir`` and log the run to MLflow ("personas").

    Files (each written atomically): personas.parquet (no personal fields), persona_cards.json,
    metrics.json, one PNG per figure, one CSV per table. MLflow: every parameter, the input
    columns, data hash and file hashes, git commit (tag), numeric metrics, figures, cards,
    tables and the fitted encoder+scaler and clusterer as one scikit-learn pipeline.

    Returns:
        {"files": {file name: path}, "run_id": MLflow run id, "model_uri": logged model URI}.
    """
    import mlflow

    from features import tracking
    from features.io import atomic_path, write_json, write_parquet

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["personas.parquet"] = write_parquet(
        persona_table(assignments, profiles.names), out / "personas.parquet"
    )
    run_name = f"personas-{parameters.get('method')}-{pd.Timestamp.now():%Y%m%d-%H%M%S}"
    with tracking.start_run(
        "personas",
        tracking_uri=tracking_uri or None,
        run_name=run_name,
        tags={"population": parameters.get("population"), "method": parameters.get("method")},
    ) as run:
        tracking.log_params_flat(
            {
                **{
                    k: str(v) if isinstance(v, Path | pd.Timestamp) else v
                    for k, v in parameters.items()
                },
                "source": data.source,
                "data_hash": data.data_hash,
                "input_hashes": data.input_hashes,
                "input_columns": list(matrix.columns.all),
                "encoded_columns": len(matrix.feature_names),
            }
        )
        numeric = {k: v for k, v in metrics.items() if not isinstance(v, dict | list | str)}
        numeric.update({f"share_{p}": s for p, s in enumerate(profiles.summary["share"], 1)})
        tracking.log_metrics_safe(numeric)
        for name, figure in figures.items():
            files[f"{name}.png"] = tracking.log_figure(figure, name, out)
        for name, table in tables.items():
            path = out / f"{name}.csv"
            with atomic_path(path) as tmp:
                table.to_csv(tmp)
            files[path.name] = path
            tracking.retry_on_lock(mlflow.log_artifact, str(path), "tables")
        files["persona_cards.json"] = tracking.log_dict_artifact(
            profiles.cards, "persona_cards.json", out
        )
        logged = log_persona_model(
            persona_pipeline(matrix.transformer, model),
            _model_example(data.features, matrix.columns),
        )
        record = {
            **metrics,
            "mlflow_run_id": run.info.run_id,
            "model_uri": logged["model_uri"],
            "data_hash": data.data_hash,
        }
        files["metrics.json"] = write_json(tracking.to_jsonable(record), out / "metrics.json")
        for name in ("personas.parquet", "metrics.json"):
            tracking.retry_on_lock(mlflow.log_artifact, str(files[name]))
    return {"files": files, "run_id": run.info.run_id, "model_uri": logged["model_uri"]}
