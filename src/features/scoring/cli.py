"""``python -m features.score``: score today's customers and write the campaign list.

    python -m features.score --task churn|conversion [--as-of DATE] [--model-uri URI]
        [--data-source synthetic|PATH] [--n-customers N] [--seed S] [--id-col C]
        [--time-col C] [--amount-col C] [--event-type-col C] [--out DIR]
        [--personas FILE] [--no-reasons] [--reason-buckets high,medium,low] [--no-store]
        [--engine duckdb|spark]

Writes into ``--out`` (default ``reports/campaigns/<task>-<as_of>/``), all at once or not at
all: ``campaign.parquet`` and ``campaign.csv`` (customer_id, probability, decile, bucket,
reason_1..reason_3; sorted by probability), ``score_summary.json`` and ``campaign.html`` (the
page for marketers), and appends the list to the score history (``data/scores/``). With
``--engine spark`` population, features and scores are computed on Spark (a local session; see
the README for a cluster) and the folder also holds ``campaign_by_decile/``, the scored rows as
Parquet partitioned by decile, written by Spark. Exit codes: 0 done, 1 the data or model cannot
be scored, 2 bad parameters.

May import every subpackage below the pipeline.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from features import config, defaults, schema
from features.data.datasets import ensure_synthetic_dataset
from features.data.eventlog import DataError
from features.engine import ENGINES
from features.engine.spark import SparkUnavailable
from features.io import atomic_dir, write_csv, write_json, write_parquet, write_text
from features.params import ParameterError, check_date
from features.reports.campaign import render_campaign_page
from features.scoring.distributed import write_scores
from features.scoring.live import (
    BUCKETS,
    TASKS,
    VALUE_MODEL_URI,
    CampaignList,
    ScoringError,
    score_population,
)
from features.scoring.store import append_scores
from features.table.snapshots import EventSource

EXIT_OK, EXIT_FAILED, EXIT_BAD_PARAMETERS = 0, 1, 2
OUTPUT_FILES = ("campaign.parquet", "campaign.csv", "score_summary.json", "campaign.html")
SPARK_PARTS = "campaign_by_decile"  # --engine spark: the scored rows, partitioned by decile


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m features.score",
        description="Score the open leads (conversion) or active owners (churn) of today.",
    )
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--as-of", default=None, help="date (default: day after the last event)")
    parser.add_argument("--model-uri", default=None, help="default models:/nev-<task>@champion")
    parser.add_argument("--data-source", default="synthetic", help="synthetic or a path")
    parser.add_argument("--n-customers", type=int, default=defaults.N_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=defaults.SEED)
    parser.add_argument("--id-col", default=schema.ID_COL)
    parser.add_argument("--time-col", default=schema.TIME_COL)
    parser.add_argument("--amount-col", default=schema.AMOUNT_COL)
    parser.add_argument("--event-type-col", default=schema.EVENT_TYPE_COL)
    parser.add_argument("--out", default=None, help="output folder")
    parser.add_argument(
        "--value-model-uri",
        default=VALUE_MODEL_URI,
        help="value model for a churn list's value columns ('' for none; used when registered)",
    )
    parser.add_argument(
        "--actions-model-uri",
        default=None,
        help="actions model for the effect, action and line columns (default: the task's "
        "models:/nev-actions-<winback|test_drive>@champion; '' for none; used when registered)",
    )
    parser.add_argument("--personas", default=None, help="personas.parquet for the page")
    parser.add_argument("--no-reasons", action="store_true", help="skip the SHAP reasons")
    parser.add_argument(
        "--reason-buckets",
        default="high,medium,low",
        help="buckets whose rows get reasons (comma-separated; large lists: high)",
    )
    parser.add_argument("--no-store", action="store_true", help="do not append to data/scores")
    parser.add_argument(
        "--engine",
        default="duckdb",
        choices=ENGINES,
        help="where features and scores are computed (spark: a local SparkSession)",
    )
    return parser


def event_source(args: argparse.Namespace) -> EventSource:
    """The event source the arguments name (the synthetic dataset is generated when missing)."""
    if args.data_source == "synthetic":
        path = Path(ensure_synthetic_dataset(args.n_customers, args.seed))
    else:
        path = config.project_path(args.data_source)
    return EventSource(
        path,
        id_col=args.id_col,
        time_col=args.time_col,
        event_type_col=args.event_type_col or None,
        amount_col=args.amount_col or None,
    )


def read_personas(path: str | None) -> pd.Series | None:
    """Persona name by customer_id from a personas.parquet (None when not given)."""
    if not path:
        return None
    table = pd.read_parquet(config.project_path(path), columns=[schema.ID_COL, "persona_name"])
    return table.set_index(table[schema.ID_COL].astype("str"))["persona_name"]


def write_campaign(result: CampaignList, out: Path, personas: pd.Series | None = None) -> Path:
    """All four outputs into ``out`` at once (a temporary folder renamed into place)."""
    with atomic_dir(out, overwrite=True) as tmp:
        write_parquet(result.campaign, tmp / "campaign.parquet")
        write_csv(result.campaign, tmp / "campaign.csv")
        write_json(result.summary, tmp / "score_summary.json")
        write_text(
            render_campaign_page(result.campaign, result.summary, personas), tmp / "campaign.html"
        )
        if result.spark_scores is not None:
            write_scores(result.spark_scores, tmp / SPARK_PARTS)
    return out


def run(args: argparse.Namespace) -> Path:
    """Score, write the outputs, append to the history; return the output folder."""
    if args.as_of is not None:
        check_date("--as-of", args.as_of)
    if args.n_customers < 1:
        raise ParameterError(f"--n-customers {args.n_customers}: must be a positive integer")
    buckets = tuple(b.strip() for b in args.reason_buckets.split(",") if b.strip())
    unknown = [b for b in buckets if b not in BUCKETS]
    if unknown or not buckets:
        raise ParameterError(
            f"--reason-buckets {args.reason_buckets!r}: names among {', '.join(BUCKETS)}"
        )
    personas = read_personas(args.personas)
    result = score_population(
        args.task,
        event_source(args),
        as_of=args.as_of,
        model_uri=args.model_uri,
        reasons=not args.no_reasons,
        reason_buckets=buckets,
        value_model_uri=args.value_model_uri or None,
        actions_model_uri=args.actions_model_uri,
        engine=args.engine,
    )
    out = (
        config.project_path(args.out)
        if args.out
        else config.reports_dir() / "campaigns" / f"{args.task}-{result.summary['as_of']}"
    )
    write_campaign(result, out, personas)
    if not args.no_store:
        stored = append_scores(result.campaign, result.summary)
        print(f"score history: {stored}")
    counts = result.summary["bucket_counts"]
    print(
        f"{result.summary['n_scored']:,} scored, expected positives "
        f"{result.summary['expected_positives']:,.1f}; buckets high {counts['high']:,}, "
        f"medium {counts['medium']:,}, low {counts['low']:,} -> {out}"
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except ParameterError as exc:
        print(f"parameter error: {exc}", file=sys.stderr)
        return EXIT_BAD_PARAMETERS
    except (ScoringError, DataError, FileNotFoundError, ValueError, SparkUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
