"""Tests for features.personas and features.persona_plots on small, well separated blobs."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from features import config
from features.personas import core as personas
from features.personas import plots as persona_plots
from features.personas.core import PersonaColumns

BLOBS = {
    # name: (technology, family, wealth, age, children, income band, channel)
    "tech": (3.0, -1.0, 0.0, 26, 0, "middle", "short_video"),
    "family": (-1.0, 3.0, 0.0, 38, 2, "upper_middle", "store_walk_in"),
    "wealthy": (0.0, -1.0, 3.0, 48, 1, "high", "referral"),
}


def make_blobs(n_per_blob: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Three well separated customer groups with named persona dimensions and attributes."""
    rng = np.random.default_rng(seed)
    frames, truth = [], []
    for name, (tech, family, wealth, age, children, income, channel) in BLOBS.items():
        frames.append(
            pd.DataFrame(
                {
                    "persona_dim_technology_acceptance": rng.normal(tech, 0.3, n_per_blob),
                    "persona_dim_lifestyle": rng.normal(family, 0.3, n_per_blob),
                    "persona_dim_consumption_behaviour": rng.normal(wealth, 0.3, n_per_blob),
                    "age": rng.normal(age, 2.0, n_per_blob).round(),
                    "children": np.full(n_per_blob, children),
                    "app_logins_90d": rng.poisson(20 if name == "tech" else 2, n_per_blob),
                    "income_band": [income] * n_per_blob,
                    "acquisition_channel": [channel] * n_per_blob,
                }
            )
        )
        truth += [name] * n_per_blob
    features = pd.concat(frames, ignore_index=True)
    features.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(features))])
    for column in ("income_band", "acquisition_channel"):
        features[column] = features[column].astype("category")
    order = rng.permutation(len(features))
    features = features.iloc[order].reset_index(drop=True)
    truth_series = pd.Series(np.asarray(truth)[order], index=features["customer_id"])
    return features, truth_series


@pytest.fixture(scope="module")
def blobs() -> tuple[pd.DataFrame, pd.Series]:
    return make_blobs()


@pytest.fixture(scope="module")
def matrix(blobs) -> personas.PersonaMatrix:
    features, _ = blobs
    columns = personas.select_persona_columns(
        features,
        behaviour=["age", "children"],
        log_behaviour=["app_logins_90d"],
        ordinal=["income_band"],
        nominal=["acquisition_channel"],
    )
    return personas.prepare_persona_matrix(features, columns)


# --- input matrix ---------------------------------------------------------------------------


def test_select_persona_columns_splits_by_encoding(blobs):
    features, _ = blobs
    columns = personas.select_persona_columns(
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
    chosen = personas.select_persona_columns(
        features, dimensions=["persona_dim_lifestyle"], nominal=["children", "income_band"]
    )
    assert chosen.numeric == ("persona_dim_lifestyle",)
    assert chosen.nominal == ("children", "income_band")


def test_select_persona_columns_needs_a_known_order(blobs):
    features, _ = blobs
    with pytest.raises(ValueError, match="'acquisition_channel' has no known category order"):
        personas.select_persona_columns(features, ordinal=["acquisition_channel"])


def test_select_persona_columns_needs_dimensions(blobs):
    features, _ = blobs
    with pytest.raises(ValueError, match="no 'persona_dim_\\*' column"):
        personas.select_persona_columns(
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
        personas.select_persona_columns(features, behaviour=["tenure_days"])


def test_select_persona_columns_rejects_text_as_numeric(blobs):
    features, _ = blobs
    with pytest.raises(ValueError, match="'income_band' must be numeric"):
        personas.select_persona_columns(features, behaviour=["income_band"])


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
    result = personas.prepare_persona_matrix(features, columns)
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
    columns = personas.select_persona_columns(features)
    with pytest.raises(ValueError, match="no rows"):
        personas.prepare_persona_matrix(features.head(0), columns)


# --- clustering and k selection -------------------------------------------------------------


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_score_k_range_prefers_three_blobs(matrix, method):
    curves = personas.score_k_range(matrix.values, 2, 5, method, seed=1, sample_size=120)
    assert list(curves["k"]) == [2, 3, 4, 5]
    assert set(curves.columns) >= {
        "k",
        "silhouette",
        "bic",
        "inertia",
        "smallest_share",
        "stability_ari",
    }
    assert int(curves.loc[curves["silhouette"].idxmax(), "k"]) == 3
    assert int(curves.loc[curves["bic"].idxmin(), "k"]) >= 3
    assert curves.set_index("k").loc[3, "stability_ari"] > 0.95
    assert personas.choose_k(curves, method).k == 3


def test_score_k_range_validates_range(matrix):
    with pytest.raises(ValueError, match="need 2 <= k_min <= k_max"):
        personas.score_k_range(matrix.values, 1, 3, "kmeans")
    with pytest.raises(ValueError, match="must be one of kmeans, gmm, latent_class"):
        personas.score_k_range(matrix.values, 2, 3, "dbscan")


def test_kmeans_bic_penalises_needless_clusters():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(400, 2))
    bics = {}
    for k in (1, 2, 6):
        labels = np.zeros(400, dtype=int) if k == 1 else None
        if k == 1:
            inertia = float(((values - values.mean(axis=0)) ** 2).sum())
        else:
            model = personas.fit_clusterer(values, k, "kmeans")
            labels, inertia = model.labels_, float(model.inertia_)
        bics[k] = personas.kmeans_bic(values, labels, inertia, k)
    assert bics[1] < bics[6]


def test_choose_k_breaks_near_ties_by_bic_and_skips_tiny_clusters():
    curves = pd.DataFrame(
        {
            "k": [2, 3, 4, 5],
            "silhouette": [0.40, 0.39, 0.30, 0.45],
            "bic": [900.0, 800.0, 700.0, 100.0],
            "inertia": np.nan,
            "smallest_share": [0.3, 0.2, 0.1, 0.001],
        }
    )
    choice = personas.choose_k(curves, silhouette_tolerance=0.02, min_share=0.02)
    assert choice.k == 3
    assert choice.candidates == (2, 3)
    assert "lowest BIC" in choice.reason and "[5]" in choice.reason


def test_choose_k_keeps_stable_k_and_mixtures_follow_bic():
    curves = pd.DataFrame(
        {
            "k": [3, 4, 5, 6],
            "silhouette": [0.12, 0.11, 0.08, 0.06],
            "bic": [1000.0, 900.0, 800.0, 700.0],
            "inertia": np.nan,
            "smallest_share": 0.1,
            "stability_ari": [0.97, 0.95, 0.96, 0.7],
        }
    )
    mixture = personas.choose_k(curves, "latent_class")
    assert mixture.k == 5
    assert "[6] had bootstrap ARI below 0.9" in mixture.reason
    assert personas.choose_k(curves, "kmeans").k == 4
    unstable = curves.assign(stability_ari=0.5)
    assert personas.choose_k(unstable, "gmm").k == 6
    assert "stability not used" in personas.choose_k(unstable, "gmm").reason


def test_choose_k_needs_a_silhouette_for_kmeans():
    curves = pd.DataFrame(
        {"k": [2], "silhouette": [np.nan], "bic": [1.0], "inertia": [1.0], "smallest_share": [0.5]}
    )
    with pytest.raises(ValueError, match="no k has a silhouette"):
        personas.choose_k(curves, "kmeans")
    assert personas.choose_k(curves, "gmm").k == 2


def test_fit_clusterer_needs_more_rows_than_clusters():
    with pytest.raises(ValueError, match="need more rows than clusters"):
        personas.fit_clusterer(np.zeros((3, 2)), 3, "kmeans")
    with pytest.raises(ValueError, match="must be >= 2"):
        personas.fit_clusterer(np.zeros((30, 2)), 1, "kmeans")


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_assign_personas_numbers_by_size(blobs, matrix, method):
    features, truth = blobs
    keep = np.r_[0:180][
        ~((truth.to_numpy() == "wealthy") & (np.arange(180) % 3 == 0))
    ]  # make the wealthy group the smallest
    values = matrix.values[keep]
    model = personas.fit_clusterer(values, 3, method, seed=0)
    assigned = personas.assign_personas(model, values, features["customer_id"].iloc[keep])
    assert list(assigned.columns) == [
        "customer_id",
        "cluster_index",
        "persona_id",
        "membership_probability",
        "centroid_distance",
    ]
    sizes = assigned["persona_id"].value_counts().sort_index()
    assert list(sizes.index) == [1, 2, 3]
    assert sizes.is_monotonic_decreasing
    smallest = assigned.loc[assigned["persona_id"] == 3, "customer_id"]
    assert set(truth.loc[smallest]) == {"wealthy"}
    assert (assigned["centroid_distance"] >= 0).all()
    if method == "gmm":
        assert assigned["membership_probability"].between(0, 1).all()
        assert assigned["membership_probability"].min() > 0.9
    else:
        assert assigned["membership_probability"].isna().all()


def test_assign_personas_checks_lengths(matrix):
    model = personas.fit_clusterer(matrix.values, 3, "kmeans")
    with pytest.raises(ValueError, match="customer_ids: 2 rows"):
        personas.assign_personas(model, matrix.values, pd.Series(["a", "b"]))


def test_persona_pipeline_predicts_from_raw_features(blobs, matrix):
    features, _ = blobs
    model = personas.fit_clusterer(matrix.values, 3, "kmeans")
    pipeline = personas.persona_pipeline(matrix.transformer, model)
    predicted = pipeline.predict(features[list(matrix.columns.all)])
    np.testing.assert_array_equal(predicted, model.predict(matrix.values))


# --- stability and truth --------------------------------------------------------------------


def test_bootstrap_stability_is_high_for_true_k_and_lower_for_wrong_k(matrix):
    good = personas.bootstrap_stability(matrix.values, 3, "kmeans", 4, seed=0, reference_size=100)
    assert good.n_bootstrap == 4
    assert len(good.pairwise_ari) == 6
    assert good.reference_size == 100
    assert good.min > 0.95 and not good.warn
    # Uniform noise has no cluster structure: refits disagree.
    noise = np.random.default_rng(0).uniform(size=(300, 6))
    bad = personas.bootstrap_stability(noise, 6, "kmeans", 4, seed=0, n_init=1)
    assert bad.mean < good.mean
    assert bad.warn == (bad.mean < 0.8)


def test_bootstrap_stability_needs_two_refits(matrix):
    with pytest.raises(ValueError, match="at least 2 refits"):
        personas.bootstrap_stability(matrix.values, 3, "kmeans", 1)


def test_compare_with_truth_perfect_and_shuffled(blobs, matrix):
    features, truth = blobs
    model = personas.fit_clusterer(matrix.values, 3, "gmm")
    assigned = personas.assign_personas(model, matrix.values, features["customer_id"])
    found = assigned.set_index("customer_id")["persona_id"]
    result = personas.compare_with_truth(found, truth)
    assert result.ari == pytest.approx(1.0)
    assert result.n_customers == 180
    assert int(result.confusion.to_numpy().sum()) == 180
    assert sorted(result.best_match.values()) == ["family", "tech", "wealthy"]
    shuffled = pd.Series(np.random.default_rng(0).permutation(truth.to_numpy()), truth.index)
    assert personas.compare_with_truth(found, shuffled).ari < 0.1


def test_compare_with_truth_requires_overlap():
    with pytest.raises(ValueError, match="no customer_id in common"):
        personas.compare_with_truth(pd.Series([1], index=["a"]), pd.Series(["x"], index=["b"]))


# --- profiles, names, cards -----------------------------------------------------------------


@pytest.fixture(scope="module")
def profiled(blobs, matrix):
    features, truth = blobs
    model = personas.fit_clusterer(matrix.values, 3, "kmeans", seed=0)
    assigned = personas.assign_personas(model, matrix.values, features["customer_id"])
    profile = personas.build_profile_frame(
        features,
        [
            "persona_dim_technology_acceptance",
            "persona_dim_lifestyle",
            "persona_dim_consumption_behaviour",
            "age",
            "children",
        ],
        ["income_band", "acquisition_channel"],
    )
    differences = personas.standardised_differences(profile, assigned["persona_id"])
    by_truth = {
        truth.loc[cid]: pid
        for cid, pid in zip(assigned["customer_id"], assigned["persona_id"], strict=True)
    }
    return features, assigned, profile, differences, by_truth


def test_build_profile_frame_one_hot_names(profiled):
    _, _, profile, _, _ = profiled
    assert "income_band=high" in profile.columns
    assert "acquisition_channel=referral" in profile.columns
    assert profile["income_band=high"].isin([0.0, 1.0]).all()


def test_standardised_differences_sign_and_size(profiled):
    _, _, _, differences, by_truth = profiled
    tech, family = by_truth["tech"], by_truth["family"]
    assert differences.loc[tech, "persona_dim_technology_acceptance"] > 1
    assert differences.loc[tech, "age"] < -1
    assert differences.loc[family, "children"] > 1
    # Balanced groups: the differences of each trait average to zero over personas.
    np.testing.assert_allclose(differences.mean(axis=0), 0, atol=1e-9)


def test_standardised_differences_drops_constant_traits():
    profile = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "flat": 1.0})
    result = personas.standardised_differences(profile, pd.Series([1, 1, 2, 2]))
    assert list(result.columns) == ["a"]
    assert result.loc[1, "a"] == pytest.approx(-1.0 / np.std([1, 2, 3, 4]))


def test_top_traits_orders_by_size_and_skips_absent_categories(profiled):
    _, _, _, differences, by_truth = profiled
    traits = personas.top_traits(differences, n=5)
    for pid in differences.index:
        sizes = [abs(v) for _, v in traits[pid]]
        assert sizes == sorted(sizes, reverse=True)
        assert len(traits[pid]) == 5
        assert all(v > 0 for t, v in traits[pid] if "=" in t)
    assert "persona_dim_technology_acceptance" in dict(traits[by_truth["tech"]])


def test_name_persona_reads_like_a_marketer_would():
    traits = [
        ("age", -1.5),
        ("persona_dim_technology_acceptance", 1.2),
        ("occupation=office_worker", 0.8),
    ]
    assert personas.name_persona(traits) == "Young tech-first office workers"
    assert personas.persona_theme(traits) == "tech"
    family = [("children", 2.0), ("persona_dim_lifestyle", 0.9)]
    assert personas.name_persona(family) == "Road-tripping families"
    unknown = [("mystery_score", 1.1)]
    assert personas.name_persona(unknown) == "High-mystery-score customers"


def test_name_personas_are_unique():
    traits = {
        1: [("age", -1.0), ("persona_dim_technology_acceptance", 1.0), ("budget", -0.5)],
        2: [("age", -0.9), ("persona_dim_technology_acceptance", 0.8), ("children", 0.4)],
        3: [("age", -0.9), ("persona_dim_technology_acceptance", 0.8)],
        4: [("age", -0.9), ("persona_dim_technology_acceptance", 0.8)],
    }
    names = personas.name_personas(traits)
    assert len(set(names.values())) == 4
    assert names[1] != names[2]
    assert names[4].endswith(" 2")


def test_marketing_angle_uses_seed_vocabulary():
    assert "OTA" in personas.marketing_angle("tech")
    assert "7-seat" in personas.marketing_angle("family")
    assert "clubhouse" in personas.marketing_angle("premium")
    assert "referral" in personas.marketing_angle("community")
    assert "financing" in personas.marketing_angle("value")
    assert personas.marketing_angle(None) == personas.GENERIC_ANGLE


def test_latest_model_line_ignores_orders_at_or_after_cutoff():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "order_ts": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-07-01", "2025-06-30"]),
            "model_line": ["city_mini", "family_suv_7seat", "premium_sedan", "compact_sedan"],
        }
    )
    lines = personas.latest_model_line(orders, "2025-07-01")
    assert lines.to_dict() == {"a": "family_suv_7seat", "c": "compact_sedan"}
    with pytest.raises(ValueError, match="orders: column 'model_line' missing"):
        personas.latest_model_line(orders.drop(columns="model_line"), "2025-07-01")


def test_summary_and_cards_are_complete_and_serialisable(profiled):
    features, assigned, profile, differences, by_truth = profiled
    attributes = features.set_index("customer_id")
    ids = attributes.index
    conversion = pd.Series((attributes["children"] > 0).astype(int).to_numpy(), index=ids)
    churn = pd.Series(0, index=ids[:30])
    model_line = pd.Series("family_suv_7seat", index=ids[attributes["children"] > 0])
    summary = personas.summarise_personas(
        assigned, attributes, conversion=conversion, churn=churn, model_line=model_line
    )
    assert summary["size"].sum() == 180
    assert summary["share"].sum() == pytest.approx(1.0)
    family = summary.set_index("persona_id").loc[by_truth["family"]]
    tech = summary.set_index("persona_id").loc[by_truth["tech"]]
    assert family["conversion_rate"] == 1.0 and tech["conversion_rate"] == 0.0
    assert family["top_channel"] == "store_walk_in" and family["top_channel_share"] == 1.0
    assert family["top_model_line"] == "family_suv_7seat"
    assert tech["share_under_35"] == 1.0 and family["share_family"] == 1.0
    assert summary["n_owners_labelled"].sum() == 30

    traits = personas.top_traits(differences)
    themes = {p: personas.persona_theme(t) for p, t in traits.items()}
    names = personas.name_personas(traits, themes)
    labels = assigned.set_index("customer_id")["persona_id"]
    flags = personas.seed_segment_flags(attributes)
    seeds = personas.compare_seed_shares(summary, themes, flags)
    assert list(seeds["segment"]) == ["under_35", "family", "high_net_worth"]
    assert seeds["seed_share"].tolist() == [0.42, 0.25, 0.18]
    assert seeds.set_index("segment").loc["family", "attribute_share"] == pytest.approx(2 / 3)
    means = profile.groupby(labels.reindex(attributes.index).to_numpy()).mean()
    cards = personas.build_persona_cards(
        summary, traits, names, themes, profile_means=means, population_means=profile.mean()
    )
    assert [c["persona_id"] for c in cards] == [1, 2, 3]
    assert len({c["name"] for c in cards}) == 3
    json.loads(json.dumps(cards))
    tech_card = cards[by_truth["tech"] - 1]
    assert themes[by_truth["tech"]] == "tech"
    assert tech_card["seed_segment"] == "under_35"
    assert "OTA" in tech_card["marketing_angle"]
    assert len(tech_card["top_traits"]) == 5
    assert {"trait", "label", "direction", "standardised_difference", "persona_mean"} <= set(
        tech_card["top_traits"][0]
    )
    assert themes[by_truth["family"]] == "family"
    assert themes[by_truth["wealthy"]] == "premium"


# --- plots ----------------------------------------------------------------------------------


# seaborn 0.13's heat map calls a colormap method that matplotlib 3.11 marks for deprecation.
@pytest.mark.filterwarnings("ignore:The set_bad function:PendingDeprecationWarning")
def test_plots_return_figures(profiled, matrix):
    features, assigned, profile, differences, _ = profiled
    curves = personas.score_k_range(matrix.values, 2, 4, "kmeans", sample_size=100)
    names = {1: "One", 2: "Two", 3: "Three"}
    coordinates, explained = personas.project_2d(matrix.values)
    summary = personas.summarise_personas(assigned, features.set_index("customer_id"))
    seeds = personas.compare_seed_shares(summary, {1: "tech"}, pd.DataFrame({"under_35": [1.0]}))
    confusion = pd.crosstab(assigned["persona_id"], assigned["persona_id"] % 2)
    figures = [
        persona_plots.plot_k_selection(curves, 3, "kmeans"),
        persona_plots.plot_projection(
            coordinates, assigned["persona_id"].map(names), explained, max_points=50
        ),
        persona_plots.plot_profile_heatmap(differences, names),
        persona_plots.plot_share_bars(summary, names, seeds),
        persona_plots.plot_truth_confusion(confusion, names),
    ]
    for figure in figures:
        assert isinstance(figure, Figure)
        assert figure.axes
        plt.close(figure)


# --- parameters and orders ------------------------------------------------------------------

GOOD_PARAMETERS = dict(
    data_source="synthetic",
    n_customers=6000,
    seed=42,
    cutoff="2025-07-01",
    population="all",
    k_min=3,
    k_max=8,
    method="kmeans",
    n_bootstrap=5,
    sample_size=3000,
    output_dir="",
)


def test_check_persona_parameters_resolves_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("NEV_LAB_REPORTS_DIR", str(tmp_path))
    checked = personas.check_persona_parameters(**GOOD_PARAMETERS)
    assert checked["cutoff"] == pd.Timestamp("2025-07-01")
    assert checked["output_dir"].parent == tmp_path / "adhoc"
    assert checked["output_dir"].name.startswith("personas-")
    assert checked["data_path"] is None
    explicit = personas.check_persona_parameters(
        **{**GOOD_PARAMETERS, "output_dir": str(tmp_path / "out"), "data_source": str(tmp_path)}
    )
    assert explicit["output_dir"] == tmp_path / "out"
    assert explicit["data_path"] == tmp_path
    relative = personas.check_persona_parameters(**{**GOOD_PARAMETERS, "output_dir": "reports/x"})
    assert relative["output_dir"] == config.PROJECT_ROOT / "reports" / "x"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data_source": "/no/such/folder"}, "'data_source' .* existing path"),
        ({"n_customers": 10}, "'n_customers' = 10: must be >= 100"),
        ({"cutoff": "July"}, "'cutoff' = 'July': must be an ISO date"),
        ({"population": "fans"}, "'population' = 'fans': must be one of"),
        ({"k_min": 1}, "'k_min' = 1: must be >= 2"),
        ({"k_max": 2}, "'k_max' = 2: must be >= 3"),
        ({"method": "dbscan"}, "'method' = 'dbscan': must be one of"),
        ({"n_bootstrap": 1}, "'n_bootstrap' = 1: must be >= 2"),
        ({"sample_size": 5.0}, "'sample_size' = 5.0: must be an integer"),
        ({"output_dir": None}, "'output_dir' = None: must be a string"),
    ],
)
def test_check_persona_parameters_names_the_bad_one(change, message):
    from features.params import ParameterError

    with pytest.raises(ParameterError, match=message):
        personas.check_persona_parameters(**{**GOOD_PARAMETERS, **change})


def test_read_orders_reads_three_columns_or_none(tmp_path):
    assert personas.read_orders(tmp_path) is None
    orders = pd.DataFrame(
        {
            "customer_id": ["a"],
            "order_ts": pd.to_datetime(["2025-01-01"]),
            "model_line": ["city_mini"],
            "price": [100_000.0],
        }
    )
    orders.to_parquet(tmp_path / "orders.parquet")
    assert list(personas.read_orders(tmp_path).columns) == ["customer_id", "order_ts", "model_line"]
    orders.drop(columns="model_line").to_parquet(tmp_path / "orders.parquet")
    with pytest.raises(ValueError, match="column 'model_line' missing"):
        personas.read_orders(tmp_path)


def test_select_population_uses_owner_and_order_columns():
    features = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "is_owner": [1, 0, 0],
            "evt_order_count": [1, 1, 0],
        }
    )
    assert personas.select_population(features, "all")["customer_id"].tolist() == ["a", "b", "c"]
    assert personas.select_population(features, "owners")["customer_id"].tolist() == ["a"]
    assert personas.select_population(features, "leads")["customer_id"].tolist() == ["c"]
    with pytest.raises(ValueError, match="column 'is_owner' missing"):
        personas.select_population(features.drop(columns="is_owner"), "owners")
    with pytest.raises(ValueError, match="no customer in population 'leads'"):
        personas.select_population(features.head(2), "leads")
    with pytest.raises(ValueError, match="must be one of all, leads, owners"):
        personas.select_population(features, "fans")


# --- latent class model ---------------------------------------------------------------------


def test_one_hot_blocks_cover_each_nominal_input(blobs):
    features, _ = blobs
    columns = personas.select_persona_columns(
        features, behaviour=["age"], nominal=["children", "acquisition_channel"]
    )
    matrix = personas.prepare_persona_matrix(features, columns)
    names = matrix.feature_names
    assert [[names[i] for i in block] for block in matrix.categorical_blocks] == [
        ["cat__children_0", "cat__children_1", "cat__children_2"],
        [
            "cat__acquisition_channel_referral",
            "cat__acquisition_channel_short_video",
            "cat__acquisition_channel_store_walk_in",
        ],
    ]


def test_latent_class_mixture_recovers_categorical_classes():
    # Two classes that differ only in their categories; the numeric column is pure noise.
    rng = np.random.default_rng(3)
    n = 600
    truth = rng.integers(0, 2, n)
    p_first = np.where(truth == 0, 0.85, 0.1)
    colour = np.where(rng.random(n) < p_first, "red", "blue")
    size = np.where(rng.random(n) < p_first, "small", "large")
    frame = pd.DataFrame(
        {
            "persona_dim_noise": rng.normal(0, 1, n) * 5,
            "colour": colour,
            "size": size,
        }
    )
    columns = personas.PersonaColumns(numeric=("persona_dim_noise",), nominal=("colour", "size"))
    matrix = personas.prepare_persona_matrix(frame, columns)
    model = personas.fit_clusterer(
        matrix.values, 2, "latent_class", seed=0, categorical_blocks=matrix.categorical_blocks
    )
    found = model.predict(matrix.values)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, found) > 0.5
    probabilities = model.predict_proba(matrix.values)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert np.array_equal(probabilities.argmax(axis=1), found)
    assert model.cluster_centers_.shape == (2, matrix.values.shape[1])
    assert model.n_parameters() == 1 + 2 * 2 * 1 + 2 * (1 + 1)
    assert np.isfinite(model.bic(matrix.values))
    assert model.converged_


def test_latent_class_mixture_fits_blobs_through_the_common_api(matrix):
    curves = personas.score_k_range(
        matrix.values,
        2,
        4,
        "latent_class",
        sample_size=120,
        categorical_blocks=matrix.categorical_blocks,
    )
    assert personas.choose_k(curves, "latent_class").k == 3
    stability = personas.bootstrap_stability(
        matrix.values, 3, "latent_class", 3, categorical_blocks=matrix.categorical_blocks
    )
    assert stability.mean > 0.95


# --- edge: reading a dataset ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    from features.data.synth import generate_dataset

    return generate_dataset(800, 5, tmp_path_factory.mktemp("raw") / "synthetic_n800_s5")


@pytest.mark.parametrize("population", ["all", "leads", "owners"])
def test_load_persona_data_reads_features_labels_orders_and_truth(tiny_dataset, population):
    data = personas.load_persona_data(str(tiny_dataset), 800, 5, "2025-07-01", population)
    features = data.features
    assert features["customer_id"].is_unique and len(features) > 0
    assert not {"full_name", "phone"} & set(features.columns)
    if population == "owners":
        assert (features["is_owner"] == 1).all()
    if population == "leads":
        assert (features["evt_order_count"].fillna(0) == 0).all()
    assert set(data.conversion.unique()) <= {0, 1} and set(data.churn.unique()) <= {0, 1}
    # Model lines come only from orders before the cutoff: leads have none.
    with_line = data.model_line.reindex(features["customer_id"]).notna()
    assert with_line.sum() == (features["evt_order_count"].fillna(0) > 0).sum()
    assert data.truth.reindex(features["customer_id"]).notna().all()
    assert len(data.data_hash) == 64 and "events.parquet" in data.input_hashes
    assert data.notes == []


def test_describe_personas_on_a_dataset_gives_complete_cards(tiny_dataset):
    data = personas.load_persona_data(str(tiny_dataset), 800, 5, "2025-07-01", "all")
    matrix = personas.prepare_persona_matrix(
        data.features, personas.default_persona_columns(data.features)
    )
    model = personas.fit_clusterer(
        matrix.values, 4, "latent_class", seed=0, categorical_blocks=matrix.categorical_blocks
    )
    assignments = personas.assign_personas(model, matrix.values, data.features["customer_id"])
    profiles = personas.describe_personas(
        data.features, assignments, data.conversion, data.churn, data.model_line
    )
    assert len(profiles.cards) == 4 and len(set(profiles.names.values())) == 4
    card = profiles.cards[0]
    assert card["typical_model_line"] in {
        "compact_sedan",
        "family_suv_7seat",
        "premium_sedan",
        "city_mini",
    }
    assert 0 <= card["conversion_rate"] <= 1 and 0 <= card["churn_rate"] <= 1
    assert card["n_leads_labelled"] > 0 and card["n_owners_labelled"] > 0
    table = personas.persona_table(assignments, profiles.names)
    assert list(table.columns) == list(personas.PERSONA_OUTPUT_COLUMNS)
    assert table["membership_probability"].between(0, 1).all()
    with pytest.raises(ValueError, match="rows must match"):
        personas.describe_personas(data.features.iloc[::-1], assignments)
