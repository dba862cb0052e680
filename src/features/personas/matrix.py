"""The clustering input: which columns feed it (``PersonaColumns``, the notebook's defaults),
how they are encoded (median imputation, scaling, ordinal ranks, one-hot) and the encoded
matrix (``PersonaMatrix``), plus its 2-D projection for plots.

May import the foundation (``features.schema``), numpy, pandas and scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from features import schema

PERSONA_DIM_PREFIX = "persona_dim_"

# Categories with a natural order are encoded as one scaled ordinal column; the rest one-hot.
ORDERED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "income_band": schema.INCOME_BANDS,
    "city_tier": schema.CITY_TIERS,
}


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


def project_2d(values: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components of ``values`` and their explained-variance ratios."""
    pca = PCA(n_components=2, random_state=seed)
    return pca.fit_transform(values), pca.explained_variance_ratio_
