"""HTML summaries of pipeline runs: one page per run and the index of every run.

Pure functions from run records (the ``run.json`` dictionaries written by the pipeline) to
HTML strings; the pipeline writes them. Pages are self-contained (inline CSS, no scripts) so
they open from disk, a file share or a CI artifact alike.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from features.reports.present import words

# Metrics shown first, in this order, when a notebook records them.
HEADLINE_METRICS = (
    "roc_auc",
    "pr_auc",
    "lift_at_10pct",
    "baseline_logreg_roc_auc",
    "baseline_heuristic_roc_auc",
    "oracle_roc_auc",
    "brier",
    "ece",
    "positive_rate",
    "n_test",
    "k",
    "silhouette",
    "stability_ari_mean",
    "stability_ari_min",
    "truth_ari",
    "n_discoveries",
    "fdr_realised",
    "aa_false_positive_rate",
    "srm_flags",
)
# Metrics shown in the index of all runs, per notebook.
INDEX_METRICS = ("roc_auc", "lift_at_10pct", "k", "truth_ari", "stability_ari_mean")
# Metric names in words for the run pages.
METRIC_LABELS = {
    "roc_auc": "ROC AUC (test)",
    "pr_auc": "PR AUC (test)",
    "lift_at_10pct": "lift in the top 10%",
    "baseline_logreg_roc_auc": "logistic regression ROC AUC",
    "baseline_heuristic_roc_auc": "one-feature heuristic ROC AUC",
    "oracle_roc_auc": "oracle ROC AUC (best achievable)",
    "model_to_oracle_ratio": "share of the oracle reached",
    "brier": "Brier score",
    "ece": "calibration error (ECE)",
    "positive_rate": "positive rate (test)",
    "n_test": "test customers",
    "n_customers": "customers",
    "k": "personas (k)",
    "silhouette": "silhouette",
    "stability_ari_mean": "bootstrap stability (mean ARI)",
    "stability_ari_min": "bootstrap stability (min ARI)",
    "truth_ari": "agreement with true personas (ARI)",
    "n_discoveries": "A/B discoveries (FDR-controlled)",
    "fdr_realised": "realised false discovery rate",
    "aa_false_positive_rate": "A/A false-positive rate",
    "srm_flags": "sample-ratio mismatches",
}
# Metrics shown as percentages.
PERCENT_METRICS = (
    "positive_rate",
    "model_to_oracle_ratio",
    "fdr_realised",
    "aa_false_positive_rate",
)
# The figure shown as a thumbnail, by preference; else a notebook's first PNG.
KEY_FIGURES = ("roc_pr", "profile_heatmap", "k_selection", "decisions")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; color: #1d2733; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #dde3ea; padding: .3rem .7rem; text-align: left;
         vertical-align: top; }
th { background: #f3f6f9; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.OK, .SUCCEEDED { color: #17663a; font-weight: 600; }
.FAILED, .ABANDONED, .INTERRUPTED { color: #b3261e; font-weight: 700; }
.SKIPPED, .RUNNING { color: #8a6d00; }
img.thumb { width: 16rem; border: 1px solid #dde3ea; margin-top: .3rem; }
img.thumb.small { width: 7rem; margin: 0 .5rem .3rem 0; vertical-align: middle; }
table.metrics { margin: 0; } table.metrics td { border: none; padding: .05rem .5rem; }
.muted { color: #66727f; font-size: .85rem; } pre { background: #f6f8fa; padding: .8rem;
       overflow-x: auto; font-size: .85rem; } code { font-size: .85rem; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def format_value(value: Any) -> str:
    """Numbers to four significant decimals, integers as integers, the rest as text."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:.4f}"
    return str(value)


def metric_label(key: str) -> str:
    """A metric's name in words (``roc_auc`` -> ``ROC AUC (test)``)."""
    return METRIC_LABELS.get(key, words(key))


def format_metric(key: str, value: Any) -> str:
    """A metric value for a reader: shares as percentages, scores to three decimals."""
    if isinstance(value, float) and math.isfinite(value):
        if key in PERCENT_METRICS:
            return f"{value:.1%}"
        if abs(value) < 1000 and not value.is_integer():
            return f"{value:.3f}"
    return format_value(value)


def key_figure(files: Iterable[str]) -> str | None:
    """The thumbnail of a notebook: its preferred key figure, else its first PNG."""
    pngs = [path for path in files if path.endswith(".png")]
    for stem in KEY_FIGURES:
        for path in pngs:
            if path.rsplit("/", 1)[-1] == f"{stem}.png":
                return path
    return pngs[0] if pngs else None


def headline_metrics(metrics: Mapping[str, Any], limit: int = 12) -> dict[str, Any]:
    """The metrics worth a glance: known headline keys first, then other scalars up to ``limit``."""
    scalars = {
        key: value
        for key, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    chosen = {key: scalars[key] for key in HEADLINE_METRICS if key in scalars}
    for key, value in scalars.items():
        if len(chosen) >= limit:
            break
        chosen.setdefault(key, value)
    return chosen


def _seconds(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else ""


def _status(status: Any) -> str:
    return f'<span class="{_e(status)}">{_e(status)}</span>'


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(row) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _cell(value: Any, numeric: bool = False, raw: bool = False) -> str:
    text = value if raw else _e(value)
    return f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>"


def _link(href: str | None, text: str) -> str:
    return f'<a href="{_e(href)}">{_e(text)}</a>' if href else ""


def _metric_table(metrics: Mapping[str, Any]) -> str:
    if not metrics:
        return ""
    rows = "".join(
        f'<tr><td>{_e(metric_label(k))}</td><td class="num">{_e(format_metric(k, v))}</td></tr>'
        for k, v in metrics.items()
    )
    return f'<table class="metrics">{rows}</table>'


def _mapping_section(title: str, headers: tuple[str, str], mapping: Mapping[str, Any]) -> list[str]:
    """A heading and a two-column table of ``mapping``; nothing when it is empty."""
    if not mapping:
        return []
    rows = ((_cell(k), _cell(v)) for k, v in mapping.items())
    return [f"<h2>{title}</h2>", _table(headers, rows)]


def render_run_page(record: Mapping[str, Any]) -> str:
    """HTML summary of one run: steps, notebooks with metrics and links, parameters, versions."""
    run_id = record.get("run_id", "")
    parts = [
        f"<h1>Pipeline run {_e(run_id)}</h1>",
        f"<p>Status {_status(record.get('status'))} · started {_e(record.get('started_at'))}"
        f" · finished {_e(record.get('finished_at'))}"
        f" · total {_seconds(record.get('elapsed_seconds'))} s"
        f" · git commit <code>{_e(record.get('git_commit'))}</code></p>",
        '<p class="muted"><a href="../index.html">All runs</a> · '
        '<a href="run.json">run.json</a> · <a href="pipeline.log">pipeline.log</a></p>',
    ]
    steps = record.get("steps", [])
    parts.append("<h2>Steps</h2>")
    parts.append(
        _table(
            ("step", "status", "seconds", "detail"),
            (
                (
                    _cell(step.get("name")),
                    _cell(_status(step.get("status")), raw=True),
                    _cell(_seconds(step.get("seconds")), numeric=True),
                    _cell(step.get("message", "")),
                )
                for step in steps
            ),
        )
    )
    notebooks = record.get("notebooks", {})
    if notebooks:
        parts.append("<h2>Notebooks</h2>")
        rows = []
        for name, entry in notebooks.items():
            links = " · ".join(
                link
                for link in (
                    _link(entry.get("html_business"), "report"),
                    _link(entry.get("html"), "full report with code"),
                    _link(entry.get("campaign"), "campaign list"),
                    _link(entry.get("notebook"), "executed notebook"),
                    _link(entry.get("metrics_file"), "metrics.json"),
                )
                if link
            )
            files = " · ".join(
                _link(path, path.split("/", 1)[-1]) for path in entry.get("files", [])
            )
            if files:
                links += f'<br><span class="muted">files: {files}</span>'
            metrics = headline_metrics(entry.get("metrics") or {})
            metric_text = _metric_table(metrics)
            figure = key_figure(entry.get("files", []))
            thumbnail = (
                f'<a href="{_e(figure)}"><img class="thumb" src="{_e(figure)}" '
                f'alt="{_e(name)}: key figure"></a>'
                if figure
                else ""
            )
            rows.append(
                (
                    _cell(f"<strong>{_e(name)}</strong><br>{thumbnail}", raw=True),
                    _cell(_status(entry.get("status")), raw=True),
                    _cell(links, raw=True),
                    _cell(metric_text, raw=True),
                    _cell(entry.get("mlflow_run_id") or ""),
                )
            )
        parts.append(
            _table(("notebook", "status", "outputs", "headline metrics", "MLflow run"), rows)
        )
        for name, entry in notebooks.items():
            if entry.get("error"):
                parts.append(f"<h3>{_e(name)}: error</h3><pre>{_e(entry['error'])}</pre>")
    parts += _mapping_section("MLflow", ("key", "value"), record.get("mlflow") or {})
    parts.append("<h2>Parameter set</h2>")
    parts.append(f"<pre>{_e(json.dumps(record.get('parameters', {}), indent=2))}</pre>")
    if record.get("overrides"):
        parts.append(f'<p class="muted">Overrides: {_e(" ".join(record["overrides"]))}</p>')
    parts += _mapping_section(
        "Package versions", ("package", "version"), record.get("packages") or {}
    )
    return _page(f"Run {run_id}", "\n".join(parts))


def render_index_page(records: Iterable[Mapping[str, Any]]) -> str:
    """HTML list of every run, newest first, with status and a few metrics per notebook."""
    ordered = sorted(records, key=lambda r: str(r.get("run_id", "")), reverse=True)
    rows = []
    for record in ordered:
        run_id = str(record.get("run_id", ""))
        notebooks = record.get("notebooks", {}) or {}
        summary = []
        for name, entry in notebooks.items():
            metrics = entry.get("metrics") or {}
            shown = ", ".join(
                f"{metric_label(key)} {format_metric(key, metrics[key])}"
                for key in INDEX_METRICS
                if key in metrics
            )
            figure = key_figure(entry.get("files", []))
            thumbnail = (
                f'<img class="thumb small" src="{_e(run_id)}/{_e(figure)}" alt="{_e(name)}">'
                if figure
                else ""
            )
            links = " · ".join(
                link
                for link in (
                    _link(
                        f"{run_id}/{entry['html_business']}"
                        if entry.get("html_business")
                        else None,
                        "report",
                    ),
                    _link(f"{run_id}/{entry['html']}" if entry.get("html") else None, "full"),
                    _link(
                        f"{run_id}/{entry['campaign']}" if entry.get("campaign") else None,
                        "campaign",
                    ),
                )
                if link
            )
            summary.append(
                f"{thumbnail}{_e(name)}: {_status(entry.get('status'))}"
                + (f" ({_e(shown)})" if shown else "")
                + (f" · {links}" if links else "")
            )
        rows.append(
            (
                _cell(_link(f"{run_id}/index.html", run_id), raw=True),
                _cell(record.get("started_at")),
                _cell(_status(record.get("status")), raw=True),
                _cell(_seconds(record.get("elapsed_seconds")), numeric=True),
                _cell("<br>".join(summary), raw=True),
                _cell(str(record.get("git_commit", ""))[:12]),
            )
        )
    body = [
        "<h1>NEV marketing analytics: pipeline runs</h1>",
        f'<p class="muted">{len(rows)} run(s), newest first. Each run links to its summary, '
        "the rendered notebooks (business report and full version with code) and their metrics.</p>",
        _table(("run", "started (UTC)", "status", "seconds", "notebooks", "git commit"), rows),
    ]
    return _page("Pipeline runs", "\n".join(body))
