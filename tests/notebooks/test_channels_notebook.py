"""Notebook 07_channels on a journeys file with only id, time, channel and a conversion flag
(Chinese headers), then with a weekly spend file; the synthetic defaults run under nbval.
No customer id reaches an output."""

from __future__ import annotations

import pandas as pd
import pytest

from features import config
from features.data.synth_channels import simulate_channels

pytestmark = pytest.mark.notebooks

NOTEBOOK = config.NOTEBOOKS_DIR / "07_channels.ipynb"


def test_channels_notebook_on_a_journeys_file(execute_with_metrics, isolated_lab, check_rendered):
    data = simulate_channels(6_000, seed=5)
    flags = data.outcomes.set_index("customer_id")["converted"]
    touches = data.touches.assign(converted=data.touches["customer_id"].map(flags))
    journeys = touches.rename(columns={"customer_id": "客户", "ts": "时间", "channel": "渠道",
                                       "converted": "成交"})  # fmt: skip
    path = isolated_lab / "journeys.csv"
    journeys.assign(时间=journeys["时间"].dt.strftime("%Y/%m/%d %H:%M")).to_csv(
        path, index=False, encoding="utf-8-sig")  # fmt: skip
    spend = data.spend.merge(data.weekly[["week", "orders"]], on="week")  # outcome weeks only
    spend_path = isolated_lab / "spend.csv"
    spend.rename(columns={"channel": "渠道"}).to_csv(spend_path, index=False)
    metrics = execute_with_metrics(NOTEBOOK, isolated_lab, data_source=str(path),
                                   spend_source=str(spend_path), id_col="客户", time_col="时间",
                                   channel_col="渠道", converted_col="成交")  # fmt: skip
    check_rendered(isolated_lab / "executed" / NOTEBOOK.name, isolated_lab / "out",
                   isolated_lab / "html")  # fmt: skip
    assert metrics["n_journeys"] == pytest.approx(len(data.outcomes), rel=0.01)
    assert metrics["attribution_share_mae"] is None  # no truth in a journeys file
    assert metrics["reallocation_predicted_lift"] is not None
    assert metrics["reallocation_true_lift"] is None
    table = pd.read_csv(isolated_lab / "out" / "attribution.csv")
    assert set(table["channel"]) == set(data.touches["channel"])
    assert (pd.read_csv(isolated_lab / "out" / "budget.csv")["recommended"] > 0).all()
    some_ids = set(data.outcomes["customer_id"].sample(50, random_state=0))
    for written in (isolated_lab / "out").glob("*.csv"):
        assert not [u for u in some_ids if u in written.read_text()], written.name
