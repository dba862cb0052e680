"""From test statistics to a decision per experiment: ship, no ship, inconclusive or guardrail
breach.

The rules, in order:

1. a sample-ratio mismatch makes the read **inconclusive** (the split itself is broken, so no
   effect of it can be trusted);
2. a guardrail significantly worse than control (its interval above zero) is a **guardrail
   breach**; guardrails are metrics where an increase is harm (complaints, unsubscribes);
3. a decision metric discovered worse (after false discovery rate control) is **no ship**;
4. a decision metric discovered better ships only when every guardrail is shown
   non-inferior: its one-sided upper bound below ``margin`` × the control mean; otherwise
   the read is **inconclusive** (more traffic would tell);
5. no discovery is **no ship** (no evidence the change helps).

May import numpy, pandas and scipy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

DECISIONS = ("ship", "no ship", "inconclusive", "guardrail breach")


def guardrail_status(results: pd.DataFrame, alpha: float, margin: float) -> pd.Series:
    """Status "breach", "non-inferior" or "unproven" for guardrail rows ("" for decision metrics)."""
    upper = results["cuped_effect"] + stats.norm.ppf(1 - alpha) * results["cuped_se"]
    limit = margin * results["mean_c"].abs()
    status = np.select([results["cuped_ci_low"] > 0, upper < limit],
                       ["breach", "non-inferior"], "unproven")  # fmt: skip
    return pd.Series(np.where(results["role"] == "guardrail", status, ""), index=results.index)


def decide(results: pd.DataFrame) -> pd.Series:
    """Each experiment's decision (indexed by experiment id) from the rows of its metrics.

    Needs the columns experiment_id, role, srm_flag, discovery, p_effect (the effect the
    decision p-value belongs to) and guardrail_status.
    """
    r = results
    primary = r["role"] == "primary"
    by_exp = pd.DataFrame({
        "srm": r.groupby("experiment_id", observed=True)["srm_flag"].any(),
        "breach": (r["guardrail_status"] == "breach").groupby(r["experiment_id"],
                                                              observed=True).any(),
        "unproven": (r["guardrail_status"] == "unproven").groupby(r["experiment_id"],
                                                                  observed=True).any(),
        "better": (primary & r["discovery"] & (r["p_effect"] > 0)).groupby(
            r["experiment_id"], observed=True).any(),
        "worse": (primary & r["discovery"] & (r["p_effect"] < 0)).groupby(
            r["experiment_id"], observed=True).any(),
    })  # fmt: skip
    decision = np.select(
        [by_exp["srm"], by_exp["breach"], by_exp["worse"], by_exp["better"] & by_exp["unproven"],
         by_exp["better"]],
        ["inconclusive", "guardrail breach", "no ship", "inconclusive", "ship"],
        "no ship",
    )  # fmt: skip
    return pd.Series(decision, index=by_exp.index, name="decision")


def oracle_decisions(truth: pd.DataFrame) -> pd.Series:
    """What the decision would be with the true effects (synthetic data, faults aside)."""
    t = truth
    guard = t["guardrail"].astype(bool)
    by_exp = pd.DataFrame({
        "harm": (guard & (t["true_lift"] > 0)).groupby(t["experiment_id"]).any(),
        "better": (~guard & (t["true_effect"] > 0)).groupby(t["experiment_id"]).any(),
        "worse": (~guard & (t["true_effect"] < 0)).groupby(t["experiment_id"]).any(),
    })  # fmt: skip
    decision = np.select([by_exp["harm"], by_exp["worse"], by_exp["better"]],
                         ["guardrail breach", "no ship", "ship"], "no ship")  # fmt: skip
    return pd.Series(decision, index=by_exp.index, name="oracle_decision")
