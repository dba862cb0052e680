"""Tests for features.personas.matrix: choosing and encoding the clustering inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.personas.matrix import PersonaColumns, prepare_persona_matrix, select_persona_columns


def test_select_persona_columns_splits_by_encoding(blobs):
    features, _ = blobs
    columns = select_persona_columns(
        features, behaviour=["age"], ordinal=["income_band"], nominal=["acquisition_channel"]
    )
    assert columns.numeric == (
        "persona_dim_technology_acceptance",
        "persona_dim_lifestyle",
        "persona_dim_consumption_behaviour",
        "age",
    )
    assert columns.ordinal == ("income_band",)
    assert columns.nominal == ("acquisition_channel",)
    chosen = select_persona_columns(
        features, dimensions=["persona_dim_lifestyle"], nominal=["children", "income_band"]
    )
    assert chosen.numeric == ("persona_dim_lifestyle",)
    assert chosen.nominal == ("children", "income_band")


def test_select_persona_columns_needs_a_known_order(blobs):
    features, _ = blobs
    with pytest.raises(ValueError, match="'acquisition_channel' has no known category order"):
        select_persona_columns(features, ordinal=["acquisition_channel"])


def test_select_persona_columns_needs_dimensions(blobs):
    features, _ = blobs
    with pytest.raises(ValueError, match="no 'persona_dim_\\*' column"):
        select_persona_columns(
            features.drop(
                columns=[
                    "persona_dim_technology_acceptance",
                    "persona_dim_lifestyle",
                    "persona_dim_consumption_behaviour",
                ]
            )
        )


def test_select_persona_columns_names_missing_column(blobs):
    features, _ = blobs
    with pytest.raises(ValueError, match="column 'tenure_days' missing"):
        select_persona_columns(features, behaviour=["tenure_days"])


def test_select_persona_columns_rejects_text_as_numeric(blobs):
    features, _ = blobs
    with pytest.raises(ValueError, match="'income_band' must be numeric"):
        select_persona_columns(features, behaviour=["income_band"])


def test_prepare_persona_matrix_scales_and_encodes(matrix):
    values = matrix.values
    names = matrix.feature_names
    assert values.shape == (180, len(names))
    assert not np.isnan(values).any()
    scaled = [i for i, n in enumerate(names) if n.startswith(("num__", "log__", "ord__"))]
    np.testing.assert_allclose(values[:, scaled].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(values[:, scaled].std(axis=0), 1, atol=1e-9)
    one_hot = [i for i, n in enumerate(names) if n.startswith("cat__")]
    assert len(one_hot) == 3
    assert set(np.unique(values[:, one_hot])) == {0.0, 1.0}
    assert (values[:, one_hot].sum(axis=1) == 1).all()


def test_prepare_persona_matrix_orders_income_bands_and_imputes(blobs):
    features, _ = blobs
    features = features.copy()
    features.loc[0, "persona_dim_lifestyle"] = np.nan
    features["income_band"] = features["income_band"].astype(object)
    features.loc[1, "income_band"] = None
    columns = PersonaColumns(numeric=("persona_dim_lifestyle",), ordinal=("income_band",))
    result = prepare_persona_matrix(features, columns)
    assert not np.isnan(result.values).any()
    income = result.values[:, 1]
    by_band = pd.Series(income).groupby(features["income_band"].to_numpy()).mean()
    assert by_band["middle"] < by_band["upper_middle"] < by_band["high"]
    # A new frame with an unseen category still transforms (ignored / imputed, not an error).
    fresh = features.head(3).copy()
    fresh["income_band"] = ["unknown", "high", None]
    assert result.transformer.transform(fresh[list(columns.all)]).shape == (3, 2)


def test_prepare_persona_matrix_rejects_empty(blobs):
    features, _ = blobs
    columns = select_persona_columns(features)
    with pytest.raises(ValueError, match="no rows"):
        prepare_persona_matrix(features.head(0), columns)


def test_one_hot_blocks_cover_each_nominal_input(blobs):
    features, _ = blobs
    columns = select_persona_columns(
        features, behaviour=["age"], nominal=["children", "acquisition_channel"]
    )
    matrix = prepare_persona_matrix(features, columns)
    names = matrix.feature_names
    assert [[names[i] for i in block] for block in matrix.categorical_blocks] == [
        ["cat__children_0", "cat__children_1", "cat__children_2"],
        [
            "cat__acquisition_channel_referral",
            "cat__acquisition_channel_short_video",
            "cat__acquisition_channel_store_walk_in",
        ],
    ]
