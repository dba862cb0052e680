"""The campaign page for marketers: who to contact this week, why, and what to do per bucket.

A pure function from a campaign list (``features.scoring.live``) to one self-contained HTML
page (inline CSS, no scripts, no images): headline, counts and expected outcomes per bucket,
buckets by persona when personas are given, the action for each bucket, and the top customers
with their reasons in words. No personal fields exist in the list, so none can appear here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from features import schema
from features.reports.present import table

ACTIONS = {
    "conversion": {
        "high": "Call within 48 hours and offer a test drive at the nearest store; hand over to "
        "a sales consultant with the reasons below.",
        "medium": "Nurture: invite to a test-drive event or a private-domain (WeCom) group, "
        "send the configurator link with current offers.",
        "low": "Keep in low-cost channels (content, app notifications); no paid contact.",
    },
    "churn": {
        "high": "Win-back now: personal call from the service advisor, a service voucher or "
        "charging package matched to the reasons below.",
        "medium": "Re-engage: app content on OTA features, owner-community events, a check-up "
        "reminder.",
        "low": "No action beyond the usual owner communication.",
    },
}
OUTCOME_WORDS = {"conversion": "orders", "churn": "churners"}
POPULATION_WORDS = {
    "open_leads": "open leads",
    "active_owners": "active owners",
    "active_customers": "active customers",
}
TOP_ROWS = 20

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; color: #1d2733; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #dde3ea; padding: .3rem .7rem; text-align: left; }
th { background: #f3f6f9; } .muted { color: #66727f; font-size: .85rem; }
.high { color: #b3261e; font-weight: 600; } .medium { color: #8a6d00; } .low { color: #17663a; }
"""


def bucket_summary(campaign: pd.DataFrame) -> pd.DataFrame:
    """Per bucket: customers, share, mean probability, expected positives (and value at risk)."""
    grouped = campaign.groupby("bucket", observed=True)["probability"]
    summary = pd.DataFrame(
        {
            "customers": grouped.size(),
            "mean_probability": grouped.mean(),
            "expected_positives": grouped.sum(),
        }
    ).reindex(["high", "medium", "low"])
    summary["share"] = summary["customers"] / summary["customers"].sum()
    if "value_at_risk" in campaign:
        at_risk = campaign.groupby("bucket", observed=True)["value_at_risk"].sum()
        summary["value_at_risk"] = at_risk.reindex(summary.index)
    if "action" in campaign:
        planned = campaign["action"].eq("contact").groupby(campaign["bucket"], observed=True)
        summary["contacts_planned"] = planned.sum().reindex(summary.index).fillna(0).astype(int)
        dogs = campaign["expected_uplift"].lt(0).groupby(campaign["bucket"], observed=True)
        summary["sleeping_dogs"] = dogs.sum().reindex(summary.index).fillna(0).astype(int)
    return summary.rename_axis("bucket").reset_index()


def persona_buckets(campaign: pd.DataFrame, personas: pd.Series) -> pd.DataFrame:
    """Customers per persona and bucket (persona "not profiled" when unknown)."""
    names = campaign[schema.ID_COL].map(personas).fillna("not profiled")
    counts = pd.crosstab(names.rename("persona"), campaign["bucket"])
    counts = counts.reindex(columns=["high", "medium", "low"], fill_value=0)
    counts["customers"] = counts.sum(axis=1)
    return counts.sort_values("high", ascending=False).reset_index()


def render_campaign_page(
    campaign: pd.DataFrame, summary: Mapping[str, Any], personas: pd.Series | None = None
) -> str:
    """HTML page of one campaign list (``personas``: persona name by customer_id, optional)."""
    task = str(summary["task"])
    who = POPULATION_WORDS.get(str(summary.get("population")), "customers")
    outcome = OUTCOME_WORDS.get(task, "positives")
    buckets = bucket_summary(campaign)
    high = buckets.set_index("bucket").loc["high"]
    title = f"{task.capitalize()} campaign list, {summary['as_of']}"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p><strong>{summary['n_scored']:,} {who}</strong> scored on {summary['as_of']} "
        f"with model <code>{html.escape(str(summary['model_uri']))}</code> (version "
        f"{html.escape(str(summary.get('model_version') or '?'))}). Expected {outcome}: "
        f"<strong>{summary['expected_positives']:,.0f}</strong>. The high bucket holds "
        f"{int(high['customers']):,} customers ({high['share']:.0%}) with a mean probability "
        f"of {high['mean_probability']:.1%} and {high['expected_positives']:,.0f} of the "
        f"expected {outcome}.</p>",
        *(
            [
                f"<p>Predicted owner value over the next {summary['value_horizon_days']} days "
                f"(model <code>{html.escape(str(summary['value_model_uri']))}</code>): value at "
                f"risk (probability × value) <strong>{summary['expected_value_at_risk']:,.0f} "
                "CNY</strong>; within a bucket, contact the owners with the largest value at "
                "risk first.</p>"
            ]
            if "expected_value_at_risk" in summary
            else []
        ),
        *(
            [
                f"<p>Actions planned with <code>{html.escape(str(summary['actions_model_uri']))}"
                f"</code> (version {html.escape(str(summary.get('actions_model_version') or '?'))}"
                f"): <strong>{summary['n_contact']:,} contacts</strong> go to the customers with "
                "the highest expected incremental value (estimated effect of a contact × value "
                f"− cost), and {summary['n_sleeping_dogs']:,} sleeping dogs, whom a contact "
                "would make less likely to stay or order, are left alone whatever their score. "
                "The line column is the model line to pitch.</p>"
            ]
            if "actions_model_uri" in summary
            else []
        ),
        "<h2>Buckets and what to do</h2>",
        table(
            buckets,
            percent_cols=["mean_probability", "share"],
            money_cols=["value_at_risk"],
            decimals=1,
        ).to_html(),  # fmt: skip
        "<ul>",
    ]
    for bucket, action in ACTIONS.get(task, {}).items():
        parts.append(f'<li><span class="{bucket}">{bucket}</span>: {html.escape(action)}</li>')
    parts.append("</ul>")
    if personas is not None:
        parts += [
            "<h2>Buckets by persona</h2>",
            table(persona_buckets(campaign, personas), max_rows=None).to_html(),
        ]
    top = campaign.head(TOP_ROWS)
    parts += [
        f"<h2>Top {len(top)} customers and why</h2>",
        table(
            top,
            percent_cols=["probability"],
            money_cols=[c for c in ("predicted_value", "value_at_risk") if c in top],
            max_rows=None,
        ).to_html(),  # fmt: skip
        f'<p class="muted">The full list: campaign.csv / campaign.parquet beside this page '
        f"({summary['n_scored']:,} rows, sorted by probability). Reasons come from exact "
        "TreeSHAP contributions of each customer's features (log-odds). Probabilities are "
        "calibrated: summed over a bucket they estimate how many will "
        f"{'order' if task == 'conversion' else 'churn'}.</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
