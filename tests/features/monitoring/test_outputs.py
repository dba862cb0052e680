import json

from features import monitoring


def test_metrics_json_has_the_contract_keys(small_run):
    out = small_run["params"].output_dir
    metrics = json.loads((out / "metrics.json").read_text())
    for key in monitoring.METRICS_KEYS:
        assert key in metrics, key
    assert metrics["n_lists"] == 2
    assert metrics["n_alerts"] == len(metrics["alerts"])
    assert 0 <= metrics["max_abs_calibration_gap"] <= 1
    assert metrics["psi_score_max"] >= 0


def test_outputs_hold_no_customer_rows_and_each_figure_once(small_run):
    out = small_run["params"].output_dir
    assert sorted(p.stem for p in out.glob("*.png")) == ["calibration_gaps", "psi"]
    for path in out.glob("*.csv"):
        header = path.read_text().splitlines()[0]
        assert "customer_id" not in header and "phone" not in header, path.name


def test_the_run_is_logged_to_the_monitoring_experiment(small_run):
    from mlflow import MlflowClient

    uri = f"sqlite:///{small_run['root'] / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(small_run["record"].run_id)
    assert client.get_experiment(run.info.experiment_id).name == "monitoring"
    assert run.data.params["task"] == "churn"
    assert "n_alerts" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert artifacts == {"figures/calibration_gaps.png", "figures/psi.png"}


def test_headline_says_lists_gap_and_alerts(small_run):
    text = monitoring.headline(small_run["run"])
    assert "2 monthly churn lists replayed" in text
    assert "worst calibration gap" in text
    assert ("alert(s)" in text) or ("No alerts" in text)


def test_findings_and_stored_note_in_words(small_run):
    run = small_run["run"]
    text = monitoring.findings(run)
    assert text.startswith("### Findings")
    assert "Planted drift from 2025-05-01" in text
    assert "none in the score store" in text
    assert "nothing to compare" in monitoring.stored_note(run.stored)
