"""Live scoring: the population at as-of, scored by the champion, into a campaign list."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from features import schema
from features.reports.campaign import render_campaign_page
from features.scoring import cli
from features.scoring.live import (
    CAMPAIGN_COLUMNS,
    ScoringError,
    default_as_of,
    score_population,
)
from features.scoring.store import append_scores, read_scores
from features.table.labels import population_at
from features.table.snapshots import EventSource


def test_campaign_list_scores_the_population_at_as_of(lab):
    source = EventSource(lab["dataset"])
    result = score_population("churn", source, echo=lambda line: None)
    log = source.load()
    as_of = default_as_of(log.events)
    population, name = population_at("churn", log, as_of)
    campaign = result.campaign
    assert list(campaign.columns) == list(CAMPAIGN_COLUMNS)
    assert sorted(campaign[schema.ID_COL]) == sorted(population[schema.ID_COL])
    assert campaign["probability"].is_monotonic_decreasing
    assert campaign["probability"].between(0, 1).all()
    assert set(campaign["decile"]) == set(range(1, 11))
    assert campaign["reason_1"].str.contains("odds").all()
    summary = result.summary
    assert summary["as_of"] == f"{as_of:%Y-%m-%d}" and summary["population"] == name
    assert summary["model_version"] == "1" and summary["n_scored"] == len(campaign)
    assert summary["expected_positives"] == pytest.approx(campaign["probability"].sum())
    assert summary["bucket_counts"]["high"] == pytest.approx(0.2 * len(campaign), abs=1)
    assert not set(schema.PERSONAL_FIELDS) & set(campaign.columns)


def test_an_earlier_as_of_scores_the_population_of_that_day(lab):
    source = EventSource(lab["dataset"])
    result = score_population("churn", source, as_of="2025-10-01", reasons=False, echo=print)
    population, _ = population_at("churn", source.load(), pd.Timestamp("2025-10-01"))
    assert result.summary["as_of"] == "2025-10-01"
    assert len(result.campaign) == len(population)
    assert (result.campaign["reason_1"] == "").all()


def test_a_model_whose_features_the_data_lack_is_refused(lab, tmp_path):
    events = pd.read_parquet(lab["dataset"] / "events.parquet")
    generic = events[[schema.ID_COL, schema.TIME_COL, schema.EVENT_TYPE_COL]]
    path = tmp_path / "generic.parquet"
    generic.to_parquet(path)
    with pytest.raises(ScoringError, match="cannot provide .* feature"):
        score_population("churn", EventSource(path, amount_col=None), echo=lambda line: None)


def test_command_line_writes_every_output_and_the_history(lab, tmp_path, capsys):
    out = tmp_path / "campaign"
    code = cli.main(["--task", "churn", "--data-source", str(lab["dataset"]), "--out", str(out)])
    assert code == cli.EXIT_OK, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted(cli.OUTPUT_FILES)
    csv = pd.read_csv(out / "campaign.csv", dtype={schema.ID_COL: str})
    parquet = pd.read_parquet(out / "campaign.parquet")
    assert list(csv.columns) == list(CAMPAIGN_COLUMNS) and len(csv) == len(parquet)
    summary = json.loads((out / "score_summary.json").read_text())
    assert summary["task"] == "churn" and summary["n_scored"] == len(parquet)
    page = (out / "campaign.html").read_text()
    assert "Win-back" in page and "Top 20 customers" in page
    history = read_scores("churn")
    assert len(history) >= len(parquet) and set(history["as_of"]) >= {summary["as_of"]}


def test_command_line_exit_codes(lab, tmp_path, capsys):
    base = ["--task", "churn", "--data-source", str(lab["dataset"]), "--out", str(tmp_path)]
    assert cli.main([*base, "--as-of", "2025-02-30"]) == cli.EXIT_BAD_PARAMETERS
    assert cli.main([*base, "--model-uri", "models:/nev-nothing@champion"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("parameter error: parameter '--as-of'")
    assert err[-1].startswith("error: model models:/nev-nothing@champion: cannot be loaded")
    assert not any(tmp_path.iterdir())  # nothing written on refusal


def test_score_history_keeps_every_list_and_reads_the_latest(tmp_path):
    campaign = pd.DataFrame(
        {
            schema.ID_COL: ["a", "b"],
            "probability": [0.9, 0.1],
            "decile": [1, 2],
            "bucket": ["high", "low"],
        }
    )
    summary = {"task": "churn", "as_of": "2026-01-01", "model_version": "3"}
    first = append_scores(campaign, summary, root=tmp_path)
    second = append_scores(campaign.assign(probability=[0.8, 0.2]), summary, root=tmp_path)
    assert first != second and first.exists() and second.exists()
    latest = read_scores("churn", root=tmp_path)
    assert len(latest) == 2 and set(latest["model_version"]) == {"3"}


def test_campaign_page_groups_by_bucket_and_persona():
    campaign = pd.DataFrame(
        {
            schema.ID_COL: [f"C{i}" for i in range(10)],
            "probability": [0.9 - i * 0.05 for i in range(10)],
            "decile": list(range(1, 11)),
            "bucket": ["high"] * 2 + ["medium"] * 3 + ["low"] * 5,
            "reason_1": ["last event 3 days before cutoff: raises odds"] * 10,
            "reason_2": [""] * 10,
            "reason_3": [""] * 10,
        }
    )
    summary = {
        "task": "conversion",
        "as_of": "2026-01-01",
        "population": "open_leads",
        "model_uri": "models:/nev-conversion@champion",
        "model_version": "2",
        "n_scored": 10,
        "expected_positives": float(campaign["probability"].sum()),
    }
    personas = pd.Series({"C0": "Young urban engineers", "C1": "Family buyers"})
    page = render_campaign_page(campaign, summary, personas)
    assert "10 open leads" in page and "test drive" in page
    assert "Young urban engineers" in page and "not profiled" in page
    assert "90.0%" in page  # probabilities as percentages


def test_reasons_only_for_the_buckets_asked(lab):
    source = EventSource(lab["dataset"])
    full = score_population("churn", source, echo=lambda line: None)
    high = score_population("churn", source, reason_buckets=("high",), echo=lambda line: None)
    pd.testing.assert_frame_equal(
        full.campaign.drop(columns=["reason_1", "reason_2", "reason_3"]),
        high.campaign.drop(columns=["reason_1", "reason_2", "reason_3"]),
    )
    is_high = high.campaign["bucket"] == "high"
    assert (high.campaign.loc[~is_high, "reason_1"] == "").all()
    pd.testing.assert_series_equal(
        high.campaign.loc[is_high, "reason_1"], full.campaign.loc[is_high, "reason_1"]
    )


def test_the_champion_run_logs_what_the_reader_cleaned(lab):
    from mlflow import MlflowClient

    client = MlflowClient()
    version = client.get_model_version_by_alias("nev-churn", "champion")
    metrics = client.get_run(version.run_id).data.metrics
    cleaning = {k: v for k, v in metrics.items() if k.startswith("cleaning_")}
    assert "cleaning_duplicate_rows" in cleaning and all(v >= 0 for v in cleaning.values())


def test_a_churn_list_carries_value_once_a_value_champion_is_registered(lab):
    from features import value

    source = EventSource(lab["dataset"])
    before = score_population("churn", source, reasons=False, echo=lambda line: None)
    assert "predicted_value" not in before.campaign  # nothing registered as nev-value yet
    params = value.validate_value_params(
        data_source=str(lab["dataset"]), n_customers=3000, seed=11, cutoff="2025-07-01",
        horizon_days=180, id_col="customer_id", time_col="ts", amount_col="value",
        event_type_col="event_type", output_dir=str(lab["root"] / "value"),
        mlflow_tracking_uri="", num_threads=1, shap_rows=0, training_cutoffs=1)  # fmt: skip
    results = value.run_value_study(params)
    value.save_and_track(results, {}, params)
    result = score_population("churn", source, reasons=False, echo=lambda line: None)
    campaign = result.campaign
    assert list(campaign.columns) == [*CAMPAIGN_COLUMNS, "predicted_value", "value_at_risk"]
    assert campaign["predicted_value"].notna().mean() > 0.95  # active owners have a history
    assert (campaign["predicted_value"].dropna() >= 0).all()
    assert campaign["value_at_risk"].sum() == pytest.approx(
        result.summary["expected_value_at_risk"]
    )
    assert result.summary["value_model_version"] == "1"
    without = score_population(
        "churn", source, reasons=False, value_model_uri=None, echo=lambda line: None
    )
    assert list(without.campaign.columns) == list(CAMPAIGN_COLUMNS)
    with pytest.raises(
        ScoringError, match="not the value scorer"
    ):  # a churn model is no value model
        score_population("churn", source, reasons=False, echo=lambda line: None,
                         value_model_uri="models:/nev-churn@champion")  # fmt: skip
    page = render_campaign_page(campaign, result.summary)
    assert "value at risk" in page and "CNY" in page and page.count("¥") > len(campaign.head(20))


def test_a_list_carries_actions_once_an_actions_champion_is_registered(lab):
    from features import actions
    from features.scoring.live import ACTION_COLUMNS, default_actions_model_uri

    source = EventSource(lab["dataset"])
    params = actions.validate_actions_params(
        data_source="synthetic", n_customers=3000, seed=11, cutoff="2025-07-01", task="winback",
        treatment_col="treated", outcome_col="outcome", id_col="customer_id", drop_cols=[],
        budget=50, contact_cost=200.0, value_per_success=20000.0, value_file="",
        persona_file="", test_size=0.3, output_dir=str(lab["root"] / "actions"),
        mlflow_tracking_uri="", num_threads=1)  # fmt: skip
    results = actions.run_actions_study(params)
    actions.save_and_track(results, {}, params)
    quiet = {"reasons": False, "value_model_uri": None, "echo": lambda line: None}
    result = score_population("churn", source, **quiet)
    campaign = result.campaign
    assert list(campaign.columns) == [*CAMPAIGN_COLUMNS, *ACTION_COLUMNS]
    assert (campaign["action"] == "contact").sum() == result.summary["n_contact"] <= 50
    dogs = campaign["action"] == "leave alone (sleeping dog)"
    assert (campaign.loc[dogs, "expected_uplift"] < 0).all()
    assert result.summary["actions_model_version"] == "1"
    assert set(campaign["recommended_line"]) <= {"compact_sedan", "family_suv_7seat",
                                                 "premium_sedan", "city_mini"}  # fmt: skip
    assert default_actions_model_uri("conversion") == "models:/nev-actions-test_drive@champion"
    none = score_population("churn", source, actions_model_uri="", **quiet)
    assert list(none.campaign.columns) == list(CAMPAIGN_COLUMNS)
    with pytest.raises(ScoringError, match="not the actions scorer"):
        score_population("churn", source, actions_model_uri="models:/nev-churn@champion", **quiet)
    page = render_campaign_page(campaign, result.summary)
    assert "sleeping dogs" in page and "contacts planned" in page.lower()


@pytest.mark.spark
def test_command_line_on_spark_writes_the_same_list_plus_the_partitioned_scores(
    lab, spark, tmp_path, capsys
):
    base = ["--task", "churn", "--data-source", str(lab["dataset"]), "--no-store"]
    assert cli.main([*base, "--out", str(tmp_path / "duck")]) == cli.EXIT_OK
    code = cli.main([*base, "--out", str(tmp_path / "spark"), "--engine", "spark"])
    assert code == cli.EXIT_OK, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "spark").iterdir()) == sorted(
        [*cli.OUTPUT_FILES, cli.SPARK_PARTS]
    )
    duck = pd.read_parquet(tmp_path / "duck" / "campaign.parquet")
    on_spark = pd.read_parquet(tmp_path / "spark" / "campaign.parquet")
    pd.testing.assert_frame_equal(on_spark, duck, check_exact=False, rtol=1e-12)
    parts = pd.read_parquet(tmp_path / "spark" / cli.SPARK_PARTS)
    assert len(parts) == len(duck)
    summary = json.loads((tmp_path / "spark" / "score_summary.json").read_text())
    assert summary["engine"] == "spark"
    assert (
        summary["feature_table_hash"]
        == json.loads((tmp_path / "duck" / "score_summary.json").read_text())["feature_table_hash"]
    )


def test_an_unknown_engine_is_a_parameter_error(lab, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--task", "churn", "--engine", "flink", "--out", str(tmp_path)])
    assert exit_info.value.code == cli.EXIT_BAD_PARAMETERS
    assert "invalid choice: 'flink'" in capsys.readouterr().err
