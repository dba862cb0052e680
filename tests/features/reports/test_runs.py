"""Run pages: metrics in words, links to both renderings and campaign lists, thumbnails."""

from __future__ import annotations

from features.reports import runs as report_index


def test_run_pages_show_metrics_in_words_links_and_thumbnails():
    entry = {
        "status": "OK",
        "metrics": {"roc_auc": 0.81234, "positive_rate": 0.0234, "n_test": 3747},
        "html": "02_conversion.html",
        "html_business": "02_conversion.business.html",
        "files": ["02_conversion/calibration.png", "02_conversion/roc_pr.png"],
    }
    record = {"run_id": "20250102T000000Z-b-2", "status": "SUCCEEDED", "notebooks": {"c": entry}}
    page = report_index.render_run_page(record)
    assert "ROC AUC (test)" in page and "0.812" in page and "2.3%" in page and "3,747" in page
    assert 'src="02_conversion/roc_pr.png"' in page
    assert 'href="02_conversion.business.html"' in page and 'href="02_conversion.html"' in page
    index = report_index.render_index_page([record])
    assert 'src="20250102T000000Z-b-2/02_conversion/roc_pr.png"' in index
    assert 'href="20250102T000000Z-b-2/02_conversion.business.html"' in index


def test_headline_metrics_prefers_known_keys():
    metrics = {"zeta": 1.0, "roc_auc": 0.9, "label": "x", "flag": True, "k": 5}
    assert list(report_index.headline_metrics(metrics)) == ["roc_auc", "k", "zeta"]
