"""Conversion and churn labels: populations, label windows and the horizon guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.data.eventlog import DataError, load_event_log
from features.table.labels import HorizonError, churn_labels, conversion_labels, population_at

CUTOFF = pd.Timestamp("2025-07-01")


def _as_dict(label_set) -> dict[str, int]:
    return dict(zip(label_set.labels["customer_id"], label_set.labels["label"], strict=True))


def test_conversion_population_and_labels_with_customers(nev_events, nev_customers):
    labels = conversion_labels(nev_events, CUTOFF, 90, nev_customers)
    # owners c05-c08 ordered before the cutoff; c09's lead is created after it
    assert _as_dict(labels) == {"c01": 1, "c02": 0, "c03": 1, "c04": 0}
    assert labels.size == 4 and labels.positive_rate == 0.5
    assert labels.population == "open_leads" and "lead created" in labels.definition
    assert list(labels.labels.dtypes.astype("str")) == ["str", "int64"]


def test_conversion_horizon_end_is_exclusive(nev_events, nev_customers):
    short = conversion_labels(nev_events, CUTOFF, 14, nev_customers)
    assert _as_dict(short)["c01"] == 0  # ordered on day 14, 10:00: outside [cutoff, cutoff+14d)
    longer = conversion_labels(nev_events, CUTOFF, 15, nev_customers)
    assert _as_dict(longer)["c01"] == 1


def test_conversion_without_customers_uses_first_event(nev_events):
    labels = conversion_labels(nev_events, CUTOFF, 90)
    assert _as_dict(labels) == {"c01": 1, "c02": 0, "c03": 1, "c04": 0}
    assert "first event" in labels.definition


def test_lead_created_before_cutoff_without_events_is_in_population(
    nev_events, nev_customers, events_frame
):
    customers = pd.concat(
        [
            nev_customers,
            nev_customers.iloc[[0]].assign(
                customer_id="c11", lead_created_at=pd.Timestamp("2025-06-30")
            ),
        ],
        ignore_index=True,
    )
    extra = events_frame([("c11", "2025-07-02 10:00:00", "order", "store", 200000.0)])
    labels = conversion_labels(pd.concat([nev_events, extra]), CUTOFF, 90, customers)
    assert _as_dict(labels)["c11"] == 1


def test_churn_owners_active_in_lookback(nev_events, nev_customers):
    labels = churn_labels(nev_events, CUTOFF, 180, 90, nev_customers)
    assert _as_dict(labels) == {"c05": 0, "c06": 1, "c07": 0, "c08": 1}
    assert labels.population == "active_owners"
    assert labels.lookback_days == 90
    short_lookback = churn_labels(nev_events, CUTOFF, 180, 30)
    assert set(_as_dict(short_lookback)) == {"c05", "c07", "c08"}  # c06 last seen May 1


def test_churn_generic_log_uses_every_active_customer(events_frame):
    rows = [
        ("a", "2025-06-15 00:00:00", "purchase", "web", 5.0),
        ("a", "2025-08-01 00:00:00", "purchase", "web", 5.0),
        ("b", "2025-05-01 00:00:00", "purchase", "web", 5.0),
        ("c", "2025-01-01 00:00:00", "purchase", "web", 5.0),  # outside the lookback
        ("d", "2025-07-10 00:00:00", "purchase", "web", 5.0),  # new after the cutoff
        ("a", "2025-12-31 00:00:00", "purchase", "web", 5.0),
    ]
    labels = churn_labels(events_frame(rows), CUTOFF, 90, lookback_days=90)
    assert _as_dict(labels) == {"a": 0, "b": 1}
    assert labels.population == "active_customers"
    assert labels.summary()["positive_rate"] == 0.5


def test_horizon_past_the_end_of_the_log_is_an_error(nev_events):
    with pytest.raises(
        HorizonError,
        match=r"the log ends at 2025-12-30 10:00; horizon needs "
        r"data until 2026-01-28",
    ):
        churn_labels(nev_events, CUTOFF, 211)
    labels = churn_labels(nev_events, CUTOFF, 183)  # until 2025-12-31: covered
    assert labels.size == 4
    with pytest.raises(HorizonError):
        conversion_labels(nev_events, CUTOFF, 90, log_end="2025-08-01")


def test_bad_arguments(nev_events, events_frame):
    with pytest.raises(ValueError, match="horizon_days = 0"):
        churn_labels(nev_events, CUTOFF, 0)
    with pytest.raises(ValueError, match="lookback_days = 1.5"):
        churn_labels(nev_events, CUTOFF, 30, lookback_days=1.5)
    no_orders = events_frame(
        [
            ("a", "2025-01-01 00:00:00", "visit", "web", np.nan),
            ("a", "2025-12-01 00:00:00", "visit", "web", np.nan),
        ]
    )
    with pytest.raises(DataError, match="no 'order' events"):
        conversion_labels(no_orders, CUTOFF, 30)
    with pytest.raises(DataError, match="column 'event_type' not found"):
        churn_labels(no_orders.drop(columns="event_type"), CUTOFF, 30)


def test_event_log_input_uses_its_customers(nev_events, nev_customers):
    log = load_event_log(nev_events, verbose=False)
    log.customers = nev_customers
    assert _as_dict(conversion_labels(log, CUTOFF, 90)) == {"c01": 1, "c02": 0, "c03": 1, "c04": 0}


@pytest.mark.parametrize("with_customers", [True, False])
def test_population_at_is_the_label_population_without_future_events(
    nev_events, nev_customers, with_customers
):
    customers = nev_customers if with_customers else None
    past = nev_events[nev_events["ts"] < CUTOFF]
    for task, labels in (
        ("conversion", conversion_labels(nev_events, CUTOFF, 90, customers)),
        ("churn", churn_labels(nev_events, CUTOFF, 90, 90, customers)),
    ):
        # only events before the cutoff: no horizon needed, same customers as the labels
        population, name = population_at(task, past, CUTOFF, 90, customers)
        assert population["customer_id"].tolist() == labels.labels["customer_id"].tolist()
        assert name == labels.population
    with pytest.raises(ValueError, match="task 'uplift'"):
        population_at("uplift", past, CUTOFF)
