import pytest

from features.monitoring.params import PARAMETER_NAMES, validate_params
from features.params import ParameterError


def test_defaults_are_valid_and_named_as_in_the_notebook(lab):
    params = validate_params()
    assert params.task == "churn" and params.as_of_dates == () and params.drift is False
    assert set(params.as_dict()) == set(PARAMETER_NAMES)
    assert params.output_dir.parent.name == "adhoc"


def test_dates_are_parsed_and_sorted(lab):
    params = validate_params(as_of_dates=["2025-03-01", "2025-02-01"])
    assert [f"{d:%m}" for d in params.as_of_dates] == ["02", "03"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("task", "upsell"),
        ("as_of_dates", "2025-01-01"),
        ("as_of_dates", ["2025-13-01"]),
        ("as_of_dates", ["2025-01-01", "2025-01-01"]),
        ("horizon_days", 0),
        ("drift", "yes"),
        ("n_customers", 10),
        ("calibration_margin", -0.1),
        ("psi_threshold", 0),
        ("psi_month_threshold", -1),
        ("seasonal_reference", "yes"),
        ("data_source", "no/such/file.csv"),
        ("num_threads", 0),
        ("output_dir", None),
    ],
)
def test_bad_parameters_are_named(lab, name, value):
    with pytest.raises(ParameterError, match=f"'{name}'"):
        validate_params(**{name: value})


def test_drift_needs_synthetic_data(lab, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,ts\n")
    with pytest.raises(ParameterError, match="'drift'"):
        validate_params(data_source=str(path), drift=True)
