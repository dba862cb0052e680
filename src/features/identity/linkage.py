"""Probabilistic record linkage with splink on DuckDB: which pairs of records are one person.

Why splink: it is the maintained open implementation of the Fellegi–Sunter model at scale
(blocking, term-frequency adjustments, m trained by EM without labels, u by random sampling),
runs in-process on DuckDB (the lab's engine) and on Spark unchanged, and costs a pure-Python
wheel plus sqlglot. Hand-written pair scoring would repeat it less well; dedupe (active
learning) needs labels the lab does not have; recordlinkage is unmaintained.

The model compares only the normalised fields of ``features.identity.records``; predictions
keep ids, probabilities and each field's agreement level (``gamma_*``), never values.

May import the foundation and ``features.identity`` modules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.identity.records import Records

# Fields few records hold (ID card, birth date, postcode: mostly one channel's form) give EM
# too few pairs: their m are fixed priors instead (typing errors ~4%, a changed postcode
# ~10%), u is still measured by random sampling.
SPARSE_FIELD_M = (0.95, 0.04, 0.01)
POSTCODE_M = (0.9, 0.1)
PREDICT_FLOOR = 0.01  # pairs kept from prediction (the clustering threshold is applied later)
DEFAULT_BLOCKING = (("phone",), ("id_number",), ("name",), ("name_key",),
                    ("surname", "birth_date"), ("address",))  # fmt: skip


@dataclass
class Linkage:
    """Scored candidate pairs and the trained model (no personal values)."""

    pairs: pd.DataFrame  # unique_id_l, unique_id_r, match_probability, match_weight, gamma_*
    weights: pd.DataFrame  # comparison, level, m, u, bayes_factor, match_weight
    model: dict[str, Any]  # splink's settings with the trained m and u (no data values)
    blocking_rules: tuple[tuple[str, ...], ...]
    lambda_: float


def _comparisons(fields: tuple[str, ...]) -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    out = []
    if "name" in fields:
        levels = [cll.NullLevel("name")]
        if "name_clean" in fields:
            levels.append(cll.ExactMatchLevel("name_clean", term_frequency_adjustments=True).configure(
                label_for_charts="same characters"))  # fmt: skip
        levels.append(cll.ExactMatchLevel("name", term_frequency_adjustments=True).configure(
            label_for_charts="same pinyin"))  # fmt: skip
        if "name_key" in fields:
            levels.append(cll.ExactMatchLevel("name_key").configure(
                label_for_charts="same words, other order"))  # fmt: skip
        levels += [cll.JaroWinklerLevel("name", 0.9).configure(label_for_charts="pinyin JW >= 0.9"),
                   cll.ElseLevel()]  # fmt: skip
        out.append(cl.CustomComparison(levels, output_column_name="name"))
    if "phone" in fields:
        out.append(cl.CustomComparison(
            [cll.NullLevel("phone"), cll.ExactMatchLevel("phone", term_frequency_adjustments=True),
             cll.DamerauLevenshteinLevel("phone", 1).configure(label_for_charts="one digit off"),
             cll.ElseLevel()], output_column_name="phone"))  # fmt: skip
    for name in ("birth_date", "id_number"):
        if name in fields:
            exact, near, other = SPARSE_FIELD_M
            out.append(cl.CustomComparison(
                [cll.NullLevel(name),
                 cll.ExactMatchLevel(name).configure(m_probability=exact, fix_m_probability=True),
                 cll.DamerauLevenshteinLevel(name, 1).configure(
                     label_for_charts="one character off", m_probability=near,
                     fix_m_probability=True),
                 cll.ElseLevel().configure(m_probability=other, fix_m_probability=True)],
                output_column_name=name))  # fmt: skip
    if "address" in fields:
        out.append(cl.CustomComparison(
            [cll.NullLevel("address"), cll.ExactMatchLevel("address"),
             cll.JaroWinklerLevel("address", 0.9), cll.JaroWinklerLevel("address", 0.75),
             cll.ElseLevel()], output_column_name="address"))  # fmt: skip
    if "city" in fields:
        out.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    if "postcode" in fields:
        out.append(cl.CustomComparison(
            [cll.NullLevel("postcode"),
             cll.ExactMatchLevel("postcode").configure(m_probability=POSTCODE_M[0],
                                                       fix_m_probability=True),
             cll.ElseLevel().configure(m_probability=POSTCODE_M[1], fix_m_probability=True)],
            output_column_name="postcode"))  # fmt: skip
    return out


def blocking_rules_for(fields: tuple[str, ...], rules: tuple[tuple[str, ...], ...] = ()
                       ) -> tuple[tuple[str, ...], ...]:  # fmt: skip
    """The rules given, or the defaults whose fields the records have."""
    chosen = rules or DEFAULT_BLOCKING
    usable = tuple(r for r in chosen if all(f in fields for f in r))
    if not usable:
        raise ValueError(f"no blocking rule can be used with the fields {list(fields)} (rules: "
                         f"{[list(r) for r in chosen]})")  # fmt: skip
    return usable


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _weights_table(model: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            bf = m / u if m and u else np.nan
            rows.append({"comparison": comparison["output_column_name"],
                         "level": level.get("label_for_charts", level["sql_condition"]),
                         "m": m, "u": u, "bayes_factor": bf,
                         "match_weight": np.log2(bf) if bf == bf and bf > 0 else np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def link(records: Records, blocking: tuple[tuple[str, ...], ...] = (), max_pairs: int = 2_000_000,
         seed: int = 0, say=print) -> Linkage:  # fmt: skip
    """Train the model without labels and score the blocked candidate pairs."""
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    _quiet_splink()
    fields = records.fields
    rules = blocking_rules_for(fields, blocking)
    frame = records.frame[["unique_id", *fields]]
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="unique_id",
        comparisons=_comparisons(fields),
        blocking_rules_to_generate_predictions=[block_on(*r) for r in rules],
        retain_matching_columns=True, retain_intermediate_calculation_columns=False,
    )  # fmt: skip
    linker = Linker(frame, settings, db)
    deterministic = []
    if "phone" in fields and "name" in fields:
        deterministic.append("l.phone = r.phone AND l.name = r.name")
    if "id_number" in fields:
        deterministic.append("l.id_number = r.id_number")
    if not deterministic:
        deterministic.append(" AND ".join(f"l.{f} = r.{f}" for f in rules[0]))
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    say(f"u by random sampling ({max_pairs:,} pairs)")
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    sessions = [r for r in (("phone",), ("name",)) if all(f in fields for f in r)]
    if len(sessions) < 2:
        sessions = list(rules[:2])
    for rule in sessions:
        say(f"EM on pairs blocked by {' + '.join(rule)}")
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), fix_u_probabilities=True)  # fmt: skip
    say("scoring candidate pairs")
    predicted = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
    pairs = predicted.as_pandas_dataframe()
    # the matching columns (values) are dropped here: only ids, probabilities and levels stay
    keep = ["unique_id_l", "unique_id_r", "match_probability", "match_weight",
            *[c for c in pairs.columns if c.startswith("gamma_")]]  # fmt: skip
    pairs = pairs[keep].astype({"unique_id_l": "int64", "unique_id_r": "int64"})
    model = linker.misc.save_model_to_json()
    lam = float(model.get("probability_two_random_records_match", np.nan))
    return Linkage(pairs=pairs, weights=_weights_table(model), model=model, blocking_rules=rules,
                   lambda_=lam)  # fmt: skip
