"""Tables for readers: no index column, names in words, shares as percentages, CNY as money."""

from __future__ import annotations

import pandas as pd

from features.reports import present


def test_table_hides_the_index_and_formats_by_kind():
    frame = pd.DataFrame(
        {
            "model": ["LightGBM", "logistic"],
            "roc_auc": [0.81234, 0.7],
            "positive_rate": [0.0234, 0.5],
            "n": [3747, 12000],
            "realised_profit": [41600.4, -300.0],
        }
    )
    page = present.table(frame).to_html()
    assert "ROC AUC" in page and "positive rate" in page
    assert "2.3%" in page and "50.0%" in page
    assert "¥41,600" in page and "-¥300" in page
    assert "12,000" in page and "0.812" in page
    assert 'class="row_heading' not in page  # no 0, 1, 2 index column


def test_named_index_becomes_a_column():
    series = pd.Series([5, 7], index=pd.Index([1, 2], name="persona"), name="customers")
    page = present.table(series).to_html()
    assert ">persona<" in page and ">customers<" in page


def test_explicit_columns_override_the_name_hints():
    frame = pd.DataFrame({"conversion": [0.25], "share": [0.5]})
    page = present.table(frame, percent_cols=["conversion"]).to_html()
    assert "25.0%" in page and "0.500" in page


def test_words_and_money():
    assert present.words("baseline_logreg_roc_auc") == "baseline logreg ROC AUC"
    assert present.money(1234.5) == "¥1,234" or present.money(1234.5) == "¥1,235"
    assert present.percent(float("nan")) == "–"
