"""The actions study of notebook 05: uplift model choice, test figures, policy and lines.

Customers (not rows) are split into train, validation and test parts. The four learners and
the risk baseline are fitted on train; the learner with the best Qini on validation is
chosen, and every model is refitted on train + validation and scored on test: Qini, AUUC,
uplift@10/20/30% beside random targeting (0 by construction) and the risk-ranked baseline
(highest chance of failure without contact first); on synthetic data also the oracle (true
effects) and PEHE. The policy ranks the customers of today by expected incremental value
(uplift × value of a success − contact cost) and contacts the best ``budget`` with a
positive one; the customers whose estimated effect is negative (sleeping dogs) are left
alone whatever their risk.

May import the foundation, ``features.data``, ``features.table``, ``features.propensity``
(helpers) and the ``features.actions`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import schema
from features.actions import evaluation as ev
from features.actions.data import CampaignData, synthetic_campaigns, table_campaign
from features.actions.learners import LEARNERS, UpliftLearner, fit_learners, fit_risk_model
from features.actions.nextline import (
    LineResults,
    fit_next_line,
    line_reasons,
    line_rows,
    recommend_lines,
)
from features.actions.params import ActionsParams
from features.data import datasets
from features.propensity.explain import top_reasons, tree_shap

VALIDATION_SHARE = 0.25  # of the customers outside the test part
SHAP_ROWS = 2_000  # customers of today given reasons (the highest expected value first)
EFFECT_WORDS = ("raises the effect of a contact", "lowers the effect of a contact")
ACTIONS = ("contact", "leave alone (sleeping dog)", "not worth a contact", "beyond budget")


@dataclass
class ActionsResults:
    """Everything the notebook shows and saves."""

    params: ActionsParams
    data: CampaignData
    model_name: str
    model: UpliftLearner
    validation: pd.DataFrame
    test: pd.DataFrame
    test_scores: dict[str, np.ndarray]
    test_rows: np.ndarray
    qini_vs_risk: tuple[float, float, float]
    balance: pd.DataFrame
    sample_ratio: dict[str, Any]
    policy: pd.DataFrame
    policy_summary: pd.DataFrame
    actions: pd.DataFrame
    line: LineResults | None = None
    pehe: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def split_customers(groups: np.ndarray, test_share: float, seed: int) -> np.ndarray:
    """Part per row: 0 train, 1 validation, 2 test (a customer's rows in one part)."""
    rng = np.random.default_rng(seed)
    draw = rng.random(int(groups.max()) + 1)
    part = np.where(draw < test_share, 2,
                    np.where(draw < test_share + (1 - test_share) * VALIDATION_SHARE, 1, 0))  # fmt: skip
    return part[groups]


def _scores(models: dict[str, UpliftLearner], risk, X: pd.DataFrame) -> dict[str, np.ndarray]:
    scores = {name: m.predict(X) for name, m in models.items()}
    scores["risk_baseline"] = 1 - risk.predict_proba(X)[:, 1]  # failure risk without contact
    return scores


def _table(scores: dict[str, np.ndarray], t: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    rows = [{"model": name, **ev.ranking_metrics(s, t, y)} for name, s in scores.items()]
    return pd.DataFrame(rows)


def _values(params: ActionsParams, ids: pd.Series) -> tuple[np.ndarray, str]:
    """Value of one success per customer: 04_value's predicted value (win-back) or the flat
    ``value_per_success``."""
    if params.task == "winback" and params.value_path:
        predicted = pd.read_parquet(params.value_path, columns=[schema.ID_COL, "predicted_value"])
        by_id = predicted.set_index(predicted[schema.ID_COL].astype(str))["predicted_value"]
        values = by_id.reindex(ids.astype(str)).to_numpy(dtype=float)
        covered = np.isfinite(values)
        values = np.where(covered, values, params.value_per_success)
        return values, (f"predicted value from {Path(params.value_path).name} "
                        f"({covered.mean():.0%} of customers; others {params.value_per_success:,.0f} CNY)")  # fmt: skip
    return np.full(len(ids), params.value_per_success), f"{params.value_per_success:,.0f} CNY each"


def plan_actions(uplift: np.ndarray, value: np.ndarray, cost: float, budget: int) -> np.ndarray:
    """Action per customer: the ``budget`` best positive expected incremental values are
    contacted; negative effects are sleeping dogs; the rest are not worth it or beyond budget."""
    gain = uplift * value - cost
    order = np.argsort(-gain, kind="stable")
    rank = np.empty(len(gain), dtype=int)
    rank[order] = np.arange(len(gain))
    return np.select(
        [uplift < 0, gain <= 0, rank < budget],
        ["leave alone (sleeping dog)", "not worth a contact", "contact"],
        "beyond budget",
    )


def _policy_figures(
    test_scores: dict[str, np.ndarray], chosen: str, t: np.ndarray, y: np.ndarray,
    truth: np.ndarray | None, share: float, value: float, cost: float,
) -> pd.DataFrame:  # fmt: skip
    """Per 1,000 contacts at the budget's share: incremental successes and profit."""
    rows = []
    shown = {"uplift policy": test_scores[chosen], "risk-ranked policy": test_scores["risk_baseline"],
             "random targeting": None}  # fmt: skip
    if truth is not None:
        shown["oracle policy"] = truth
    k = max(int(round(share * len(t))), 1)
    for name, score in shown.items():
        if score is None:
            lift = float(y[t == 1].mean() - y[t == 0].mean())
            true = None if truth is None else float(truth.mean())
        else:
            lift = ev.uplift_at(score, t, y, share)
            top = np.argsort(-score, kind="stable")[:k]
            true = None if truth is None else float(truth[top].mean())
        per_1000 = 1000 * lift
        rows.append({"policy": name, "contacted_share": share,
                     "incremental_per_1000": per_1000,
                     "profit_per_1000": per_1000 * value - 1000 * cost,
                     "true_incremental_per_1000": None if true is None else 1000 * true})  # fmt: skip
    return pd.DataFrame(rows)


def _reasons(
    model: UpliftLearner, X: pd.DataFrame, order: np.ndarray, threads: int
) -> pd.DataFrame:
    cols = [f"reason_{k}" for k in (1, 2, 3)]
    out = pd.DataFrame("", index=range(len(X)), columns=cols)
    rows = np.sort(order[:SHAP_ROWS])
    if len(rows) == 0:
        return out
    values = tree_shap(model.explained_booster, X.iloc[rows], num_threads=threads)
    table = top_reasons(values, X.iloc[rows], words=EFFECT_WORDS).reset_index(drop=True)
    for k, col in enumerate(cols):
        out.loc[rows, col] = table.iloc[:, k].astype(str).to_numpy() if k < table.shape[1] else ""
    return out


def run_actions_study(params: ActionsParams) -> ActionsResults:
    """Load the campaign, choose the uplift model, evaluate it and plan today's contacts."""
    cutoff = pd.Timestamp(params.cutoff)
    if params.data_source == "synthetic":
        data = synthetic_campaigns(params.n_customers, params.seed, params.task, cutoff)
    else:
        data = table_campaign(params.source_path, params.treatment_col, params.outcome_col,
                              params.id_col, list(params.drop_cols))  # fmt: skip
    for note in data.notes:
        print(note)
    X, t, y = data.features, data.treated, data.outcome
    part = split_customers(data.groups, params.test_size, params.seed)
    train, val, test = part == 0, part == 1, part == 2
    for name, rows in (("training", train), ("validation", val), ("test", test)):
        if t[rows].all() or not t[rows].any():
            raise ValueError(f"the {name} part has only contacted or only not contacted rows; "
                             "more campaign rows are needed")  # fmt: skip
    seed, threads = params.seed, params.num_threads
    print(f"fitting {len(LEARNERS)} uplift learners on {int(train.sum()):,} rows", flush=True)
    models = fit_learners(X[train], t[train], y[train], seed, threads)
    risk = fit_risk_model(X[train], t[train], y[train], seed, threads)
    validation = _table(_scores(models, risk, X[val]), t[val], y[val])
    learners = validation[validation["model"].isin(LEARNERS)]
    chosen = str(learners.sort_values("qini", ascending=False, kind="stable")["model"].iloc[0])
    print(f"chosen on validation: {chosen}; refitting on train + validation", flush=True)
    fit_rows = train | val
    models = fit_learners(X[fit_rows], t[fit_rows], y[fit_rows], seed, threads)
    risk = fit_risk_model(X[fit_rows], t[fit_rows], y[fit_rows], seed, threads)
    scores = _scores(models, risk, X[test])
    truth = None if data.true_uplift is None else data.true_uplift[test]
    if truth is not None:
        scores["oracle"] = truth
    t_test, y_test = t[test], y[test]
    table = _table(scores, t_test, y_test)
    table = pd.concat([table, pd.DataFrame([{"model": "random", "qini": 0.0, "auuc": 0.0}])],
                      ignore_index=True)  # fmt: skip
    if truth is not None:
        table["pehe"] = [ev.pehe(scores[m], truth) if m in LEARNERS else np.nan
                         for m in table["model"]]  # fmt: skip
    versus = ev.bootstrap_qini_difference(scores[chosen], scores["risk_baseline"], t_test, y_test,
                                          seed)  # fmt: skip
    model = models[chosen]

    uplift_now = model.predict(data.current)
    value_now, value_note = _values(params, data.current_ids)
    gain = uplift_now * value_now - params.contact_cost
    actions = plan_actions(uplift_now, value_now, params.contact_cost, params.budget)
    share = min(params.budget / max(len(uplift_now), 1), 1.0)
    policy = _policy_figures(scores, chosen, t_test, y_test, truth, share,
                             float(np.mean(value_now)), params.contact_cost)  # fmt: skip
    order = np.argsort(-gain, kind="stable")
    reasons = _reasons(model, data.current, order, threads)
    plan = pd.DataFrame({schema.ID_COL: data.current_ids.to_numpy(), "action": actions,
                         "expected_uplift": uplift_now, "value_of_success": value_now,
                         "expected_incremental_value": gain})  # fmt: skip
    line = None
    if params.data_source == "synthetic":
        folder = Path(datasets.synthetic_dataset_dir(params.n_customers, params.seed))
        personas = None
        if params.persona_path:
            frame = pd.read_parquet(params.persona_path)
            personas = frame.set_index(frame[schema.ID_COL].astype(str))["persona_name"]
        rows, lines = line_rows(folder, cutoff)
        line = fit_next_line(rows, lines, personas, seed, threads, params.test_size)
    plan["recommended_line"] = recommend_lines(line, data.current) if line is not None else ""
    plan["line_reasons"] = ""
    if line is not None:  # reasons for the customers given effect reasons too
        rows = np.sort(order[:SHAP_ROWS])
        plan.loc[rows, "line_reasons"] = line_reasons(line, data.current.iloc[rows],
                                                      threads).to_numpy()  # fmt: skip
    plan = pd.concat([plan, reasons], axis=1).iloc[order].reset_index(drop=True)
    summary = (plan.groupby("action")
               .agg(customers=(schema.ID_COL, "size"), mean_uplift=("expected_uplift", "mean"),
                    expected_incremental_value=("expected_incremental_value", "sum"))
               .reindex(ACTIONS).dropna(how="all").reset_index())  # fmt: skip
    return ActionsResults(
        params=params, data=data, model_name=chosen, model=model, validation=validation,
        test=table, test_scores=scores, test_rows=test, qini_vs_risk=versus,
        balance=ev.balance_table(X, t), sample_ratio=ev.sample_ratio_test(t),
        policy=policy, policy_summary=summary, actions=plan, line=line,
        pehe=None if truth is None else ev.pehe(scores[chosen], truth),
        extra={"value_note": value_note, "budget_share": share},
    )  # fmt: skip


def headline_metrics(results: ActionsResults) -> dict[str, Any]:
    """metrics.json: the chosen learner's test figures, the baselines, policy and lines."""
    test = results.test.set_index("model")
    best, risk = test.loc[results.model_name], test.loc["risk_baseline"]
    policy = results.policy.set_index("policy")

    def num(v: Any) -> float | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 4)

    diff, low, high = results.qini_vs_risk
    line = results.line.metrics if results.line is not None else {}
    out = {
        "task": results.params.task,
        "model_name": results.model_name,
        "qini": num(best["qini"]),
        "auuc": num(best["auuc"]),
        "uplift_at_10pct": num(best["uplift_at_10pct"]),
        "uplift_at_20pct": num(best["uplift_at_20pct"]),
        "uplift_at_30pct": num(best["uplift_at_30pct"]),
        "baseline_risk_qini": num(risk["qini"]),
        "random_qini": 0.0,
        "qini_minus_risk": num(diff),
        "qini_minus_risk_low": num(low),
        "qini_minus_risk_high": num(high),
        "oracle_qini": num(test.loc["oracle", "qini"]) if "oracle" in test.index else None,
        "pehe": num(results.pehe),
        "incremental_per_1000": num(policy.loc["uplift policy", "incremental_per_1000"]),
        "risk_policy_incremental_per_1000": num(
            policy.loc["risk-ranked policy", "incremental_per_1000"]),
        "profit_per_1000": num(policy.loc["uplift policy", "profit_per_1000"]),
        "risk_policy_profit_per_1000": num(policy.loc["risk-ranked policy", "profit_per_1000"]),
        "next_line_top1": num(line.get("next_line_top1")),
        "next_line_top2": num(line.get("next_line_top2")),
        "next_line_baseline_top1": num(line.get("next_line_baseline_top1")),
        "next_line_log_loss": num(line.get("next_line_log_loss")),
        "next_line_n_lines": line.get("next_line_n_lines"),
        "sample_ratio_p": num(results.sample_ratio["p_value"]),
        "n_train": int((~results.test_rows).sum()),
        "n_test": int(results.test_rows.sum()),
        "n_ranked": int(len(results.actions)),
        "n_contact": int((results.actions["action"] == "contact").sum()),
        "n_sleeping_dogs": int((results.actions["action"] == ACTIONS[1]).sum()),
    }  # fmt: skip
    return out
