"""The events file checked by DuckDB: ``_EventsFile`` runs the column, window, per-type and
cross-table rules of the events contract as SQL straight over the Parquet file (plus one
streamed Arrow pass for the sort order), never copied into pandas, and reports the same
violations as the pandas checks of ``features.data.validate``; ``_duckdb_events_ok`` says
whether a file has the types those queries reproduce, and ``_usable`` which tables (pandas or
this file) a cross-table rule can use.

May import the foundation modules, ``features.data.contracts`` and ``features.data.violations``.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features import schema
from features.data.contracts import TableContract, column_names
from features.data.violations import MAX_EXAMPLES, Violation, _isin, _kind_ok, _lookup

# --- the events file checked by DuckDB (no pandas copy of tens of millions of rows) ----------


def _sql_name(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _plain_string(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _duckdb_events_ok(path: Path, contract: TableContract) -> bool:
    """The events file has exactly the types whose pandas checks the SQL reproduces.

    Any other file (a missing column, another dtype, zoned or non-microsecond stamps, a
    dictionary-typed id) is read into pandas and checked as before.
    """
    try:
        file_schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return False
    names = file_schema.names
    if len(set(names)) != len(names) or any(c not in names for c in column_names(contract)):
        return False
    index = (file_schema.pandas_metadata or {}).get("index_columns", [])
    if any(isinstance(c, str) for c in index):
        return False  # a stored pandas index: pandas reads it as the index, not a column
    for rule in contract.columns:
        kind = file_schema.field(rule.name).type
        if rule.kind == "string":
            ok = _plain_string(kind) or (
                rule.categories is not None
                and pa.types.is_dictionary(kind)
                and _plain_string(kind.value_type)
            )
        elif rule.kind == "datetime":
            ok = pa.types.is_timestamp(kind) and kind.tz is None and kind.unit == "us"
        elif rule.kind == "float":
            ok = pa.types.is_float64(kind)
        else:
            ok = False
        if not ok:
            return False
    return True


class _EventsFile:
    """The events table as a Parquet file checked by DuckDB queries.

    Every rule gives the same violation (count, message, first offending rows in file order)
    as the pandas checks of ``validate_table`` and ``validate_cross_table`` on the table read
    into pandas.
    """

    def __init__(self, path: Path, contract: TableContract) -> None:
        self.path, self.contract = path, contract
        self.n_rows = pq.ParquetFile(path).metadata.num_rows
        self.columns = pq.read_schema(path).names
        self.empty = self.n_rows == 0
        self.looked_up: dict[str, tuple[int, tuple[str, ...]]] = {}
        self.order_frame: pd.DataFrame | None = None
        self.run_heads: pa.Array | None = None  # distinct ids of a sorted file
        self.run_stamps: tuple[pa.Array, pa.Array] | None = None  # first and last ts per id
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        source = f"read_parquet({_sql_text(str(path))}, file_row_number = true)"
        self.con.execute(f"CREATE TEMP VIEW ev AS SELECT *, file_row_number AS _row FROM {source}")

    def start_sorted_pass(self) -> None:
        """Run the streamed sort-order pass in a thread (Arrow releases the GIL), while the
        other tables are read and checked in pandas."""
        self._sorted: list[Violation] | BaseException | None = None

        def run() -> None:
            try:
                self._sorted = self._validate_sorted()
            except BaseException as exc:  # re-raised by _sorted_result
                self._sorted = exc

        self._thread = threading.Thread(target=run, name="events-sorted-pass", daemon=True)
        self._thread.start()

    def _sorted_result(self) -> list[Violation]:
        thread = getattr(self, "_thread", None)
        if thread is None:
            return self._validate_sorted()
        thread.join()
        self._thread = None
        if isinstance(self._sorted, BaseException):
            raise self._sorted
        return self._sorted or []

    def close(self) -> None:
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join()
        self.con.close()

    # examples: the first rows by position, named like ``_examples`` names them
    def _key_struct(self) -> str:
        key = self.contract.unique_key[0] if self.contract.unique_key else schema.ID_COL
        stamp = self.contract.sorted_by[1] if self.contract.sorted_by[1:] else None
        stamp_sql = _sql_name(stamp) if stamp else "NULL"
        return f"{{'r': _row, 'k': {_sql_name(key)}, 't': {stamp_sql}}}"

    @staticmethod
    def _names(rows: list[dict] | None) -> tuple[str, ...]:
        names = []
        for row in rows or []:
            key, stamp = row["k"], row["t"]
            if key is None:
                names.append(f"row {row['r']}")
            elif stamp is None:
                names.append(str(key))
            else:
                names.append(f"{key}@{pd.Timestamp(stamp)}")
        return tuple(names)

    def _aggregate(self, checks: list[tuple[str, str]], source: str = "ev") -> list[tuple]:
        """(count, first example rows) of each boolean SQL condition.

        One scan counts every condition; the first rows are fetched only for broken rules.
        """
        if not checks:
            return []
        counts = self.con.execute(
            f"SELECT {', '.join(f'count_if({condition})' for _, condition in checks)} FROM {source}"
        ).fetchall()[0]
        results = []
        for (_, condition), count in zip(checks, counts, strict=True):
            rows = None
            if count:
                rows = [
                    row
                    for (row,) in self.con.execute(
                        f"SELECT {self._key_struct()} FROM {source} WHERE {condition} "
                        f"ORDER BY _row LIMIT {MAX_EXAMPLES}"
                    ).fetchall()
                ]
            results.append((int(count or 0), rows))
        return results

    def validate(
        self, window: tuple[pd.Timestamp, pd.Timestamp] | None, tables: dict[str, pd.DataFrame]
    ) -> list[Violation]:
        """Every single-table rule of the events contract (``validate_table``'s order).

        The same scan finds the cross-table lookups (kept in ``looked_up``), with customers
        and truth of ``tables`` joined in.
        """
        contract, table = self.contract, self.contract.name
        if self.empty:
            return [Violation(table, "", "not_empty", "table has no rows")]
        found: list[Violation] = []
        for name in self.columns:
            if name not in column_names(contract):
                found.append(Violation(table, name, "column_unexpected", "column not in contract"))
        checks: list[tuple[tuple[str, str, str], str]] = []  # ((column, rule, what), sql)
        categories: dict[str, str] = {}
        patterns: dict[str, str] = {}
        for rule in contract.columns:
            column = _sql_name(rule.name)
            null = f"({column} IS NULL OR isnan({column}))" if rule.kind == "float" else (
                f"{column} IS NULL"
            )  # fmt: skip
            if not rule.nullable:
                checks.append(((rule.name, "not_null", "null values"), null))
            if rule.categories is not None:
                categories[rule.name] = f"_bad_category_{len(categories) + 1}"
                checks.append(((rule.name, "category", ""), categories[rule.name]))
            if rule.minimum is not None or rule.maximum is not None:
                outside = []
                if rule.minimum is not None:
                    outside.append(f"{column} < {float(rule.minimum)!r}")
                if rule.maximum is not None:
                    outside.append(f"{column} > {float(rule.maximum)!r}")
                what = f"values outside [{rule.minimum}, {rule.maximum}]"
                # CASE: the NaN test runs on the few rows outside only (NaN compares greatest)
                checks.append(
                    (
                        (rule.name, "range", what),
                        f"CASE WHEN {' OR '.join(outside)} THEN NOT {null} ELSE FALSE END",
                    )
                )
            if rule.pattern is not None:
                patterns[rule.name] = rule.pattern
                checks.append(((rule.name, "pattern", ""), f"_bad_pattern_{len(patterns)}"))
        if window is not None:
            start, end = window
            for column in contract.window_columns:
                bounds = (
                    f"({_sql_name(column)} < TIMESTAMP '{start.isoformat(sep=' ')}' OR "
                    f"{_sql_name(column)} > TIMESTAMP '{end.isoformat(sep=' ')}')"
                )
                what = f"timestamps outside {start:%Y-%m-%d}..{end:%Y-%m-%d}"
                checks.append(((column, "in_window", what), bounds))
        values = self._event_value_checks() if table == schema.EVENTS_TABLE else []
        checks += [((column, rule, what), sql) for column, rule, sql, what in values]
        sorted_found = self._sorted_result() if contract.sorted_by else []
        source, outside = self._value_flags(patterns, categories)
        source, lookups = self._joined(source, tables)
        checks += [((name, name, ""), sql) for name, sql in lookups]
        results = self._aggregate([(label[1], sql) for label, sql in checks], source)
        for (name, _), (count, rows) in zip(
            lookups, results[len(checks) - len(lookups) :], strict=True
        ):
            if name == "quiet_after_churn":
                self.looked_up[name] = (count, self._names(rows))
            else:  # named by the id alone (``df.loc[bad, "customer_id"]``)
                self.looked_up[name] = (count, tuple(str(row["k"]) for row in rows or []))
        checks, results = (
            checks[: len(checks) - len(lookups)],
            results[: len(checks) - len(lookups)],
        )
        by_rule: dict[tuple[str, str], Violation] = {}
        for (column, rule, what), (count, rows) in zip(
            [label for label, _ in checks], results, strict=True
        ):
            if not count:
                continue
            if rule == "category":
                what = f"values outside the vocabulary: {sorted(outside[column])[:MAX_EXAMPLES]}"
            elif rule == "pattern":
                what = f"values do not match {patterns[column]}"
            by_rule[(column, rule)] = Violation(
                table, column, rule, f"{count} {what}", self._names(rows)
            )
        # validate_table's order: per column (dtype ok) not_null, category, range, pattern;
        # then the unique key, the window, the sort order, the per-type values.
        for rule in contract.columns:
            for kind in ("not_null", "category", "range", "pattern"):
                if (rule.name, kind) in by_rule:
                    found.append(by_rule[(rule.name, kind)])
        for column in contract.window_columns:
            if (column, "in_window") in by_rule:
                found.append(by_rule[(column, "in_window")])
        found += sorted_found
        for column, rule, _, _ in values:
            if (column, rule) in by_rule:
                found.append(by_rule[(column, rule)])
        return found

    def _value_flags(
        self, patterns: dict[str, str], categories: dict[str, str]
    ) -> tuple[str, dict[str, list[str]]]:
        """View ``ev`` plus one flag per pattern and vocabulary rule, and the values outside
        each vocabulary.

        The distinct values of those columns are found in one grouping scan and judged in
        Python, so that the per-row work is one lookup of the (usually no) bad values. A
        pattern is matched with RE2 (DuckDB) first and the values it rejects again with
        ``re.fullmatch``: for the declared patterns every RE2 match is a Python match, and
        Python's ``\\d`` also takes non-ASCII digits, so counts equal pandas' ``fullmatch``.
        """
        columns = list(dict.fromkeys([*patterns, *categories]))
        if not columns:
            return "ev", {}
        grouped = [
            c
            for c in columns
            if c in categories or not (c == schema.ID_COL and self.run_heads is not None)
        ]
        if grouped:
            names = [_sql_name(c) for c in grouped]
            sets = ", ".join(f"({n})" for n in names)
            groupings = ", ".join(f"GROUPING({n}) AS _g{i}" for i, n in enumerate(names))
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _distinct AS SELECT {', '.join(names)}, "
                f"{groupings} FROM ev GROUP BY GROUPING SETS ({sets})"
            )
        flags, outside = [], {}
        for name in columns:
            column = _sql_name(name)
            i = grouped.index(name) if name in grouped else -1
            present = f"FROM _distinct WHERE _g{i} = 0 AND {column} IS NOT NULL"
            if name in patterns and name == schema.ID_COL and self.run_heads is not None:
                # a sorted file's distinct ids are its run heads (found by _validate_sorted)
                heads = self.run_heads
                matched = pc.match_substring_regex(heads, f"^(?:{patterns[name]})$")
                rejected = [(v,) for v in heads.filter(pc.invert(matched)).to_pylist()]
            elif name in patterns:
                rejected = self.con.execute(
                    f"SELECT CAST({column} AS VARCHAR) {present} AND NOT "
                    f"regexp_full_match(CAST({column} AS VARCHAR), {_sql_text(patterns[name])})"
                ).fetchall()
            if name in patterns:
                compiled = re.compile(patterns[name])
                bad = [v for (v,) in rejected if compiled.fullmatch(str(v)) is None]
                number = list(patterns).index(name) + 1
                flags.append(self._flag_values(f"_bad_pattern_{number}", column, bad))
            if name in categories:
                values = self.con.execute(f"SELECT CAST({column} AS VARCHAR) {present}").fetchall()
                allowed = {str(c) for c in self.contract.column(name).categories or ()}
                outside[name] = [v for (v,) in values if v not in allowed]
                flag = categories[name]
                flags.append(self._flag_values(flag, column, outside[name]))
        return f"(SELECT *, {', '.join(flags)} FROM ev)", outside

    def _flag_values(self, flag: str, column: str, bad: list[str]) -> str:
        """SQL select item: ``flag`` is true where ``column`` holds one of ``bad``."""
        if not bad:
            return f"FALSE AS {flag}"
        table = f"_values{flag}"
        self.con.register(table, pd.DataFrame({"v": pd.Series(bad, dtype="str")}))
        return f"coalesce(CAST({column} AS VARCHAR) IN (SELECT v FROM {table}), FALSE) AS {flag}"

    def _validate_sorted(self) -> list[Violation]:
        """Rows out of order, streamed through Arrow one row group at a time (a DuckDB window
        over the row number would sort the whole file).

        The same pass keeps the 'order' events (for the orders rule) and, when the file is
        sorted, the distinct ids (the first row of each run, for the id pattern).
        """
        first, second = self.contract.sorted_by
        et, value = schema.EVENT_TYPE_COL, schema.AMOUNT_COL
        parquet = pq.ParquetFile(self.path)
        count, offset, examples, nulls = 0, 0, [], False
        heads: list[pa.Array] = []
        head_stamps: list[pa.Array] = []
        tail_stamps: list[pa.Array] = []
        orders: list[pa.Table] = []
        previous: tuple[pa.Array, pa.Array] | None = None
        for group in range(parquet.num_row_groups):
            part = parquet.read_row_group(group, columns=[first, second, et, value])
            order_rows = pc.fill_null(pc.equal(part.column(et), "order"), False)
            orders.append(part.select([first, second, value]).filter(order_rows))
            ids, stamps = (part.column(i).combine_chunks() for i in (0, 1))
            nulls = nulls or bool(ids.null_count or stamps.null_count)
            if nulls:
                continue  # reported as nulls; the order events are still collected
            start = offset
            if previous is None and len(ids):  # the first run starts at the first row
                heads.append(ids.slice(0, 1))
                head_stamps.append(stamps.slice(0, 1))
            if previous is not None:
                ids = pa.concat_arrays([previous[0], ids])
                stamps = pa.concat_arrays([previous[1], stamps])
                start -= 1
            if len(ids) > 1:
                a, b = ids.slice(0, len(ids) - 1), ids.slice(1)
                new_id = pc.not_equal(a, b)
                later = pc.or_(
                    pc.greater(a, b),
                    pc.and_(
                        pc.invert(new_id),
                        pc.greater(stamps.slice(0, len(ids) - 1), stamps.slice(1)),
                    ),
                )
                positions = np.flatnonzero(later.to_numpy(zero_copy_only=False)) + 1
                count += len(positions)
                for i in positions[: MAX_EXAMPLES - len(examples)]:
                    examples.append(
                        {"r": start + int(i), "k": ids[int(i)].as_py(), "t": stamps[int(i)].as_py()}
                    )
                if not count:
                    heads.append(b.filter(new_id))
                    head_stamps.append(stamps.slice(1).filter(new_id))
                    tail_stamps.append(stamps.slice(0, len(ids) - 1).filter(new_id))
            offset += part.num_rows
            if len(ids):
                previous = (ids.slice(len(ids) - 1), stamps.slice(len(stamps) - 1))
        self.order_frame = pa.concat_tables(orders).to_pandas()
        if not count and not nulls and heads:
            if previous is not None:
                tail_stamps.append(previous[1])
            self.run_heads = pa.concat_arrays(heads)
            self.run_stamps = (pa.concat_arrays(head_stamps), pa.concat_arrays(tail_stamps))
        if nulls or not count:
            return []
        what = f"rows out of order (not sorted by {', '.join(self.contract.sorted_by)})"
        return [
            Violation(self.contract.name, ",".join(self.contract.sorted_by), "sorted",
                      f"{count} {what}", self._names(examples))
        ]  # fmt: skip

    def _event_value_checks(self) -> list[tuple[str, str, str, str]]:
        """(column, rule, SQL condition, what) of the per-event-type value rules."""
        et, ch, v = (
            _sql_name(c) for c in (schema.EVENT_TYPE_COL, schema.CHANNEL_COL, schema.AMOUNT_COL)
        )
        number = f"({v} IS NOT NULL AND NOT isnan({v}))"  # NaN compares like pandas' NaN

        def is_type(name: str) -> str:
            return f"coalesce({et} = {_sql_text(name)}, FALSE)"

        def of_type(name: str, ok: str) -> str:  # CASE: the value test runs on that type only
            return (
                f"CASE WHEN {et} = {_sql_text(name)} THEN NOT coalesce({ok}, FALSE) ELSE FALSE END"
            )

        channels = ", ".join(_sql_text(c) for c in schema.CHARGING_CHANNELS)
        checks = (
            (schema.AMOUNT_COL, "nps_range",
             of_type("nps_response", f"{number} AND {v} BETWEEN 0 AND 10 AND {v} = round({v})"),
             "nps_response values that are not whole scores 0..10"),
            (schema.AMOUNT_COL, "service_wait",
             of_type("service_visit", f"{number} AND {v} >= 0"),
             "service_visit values (wait days) missing or negative"),
            (schema.AMOUNT_COL, "order_value",
             of_type("order", f"{number} AND {v} > 0"),
             "order values (price) missing or not positive"),
            (schema.CHANNEL_COL, "charging_channel",
             f"{is_type('charging_session')} <> coalesce({ch} IN ({channels}), FALSE)",
             "rows where charging_session and the home/public/fast channels do not go together"),
        )  # fmt: skip
        return list(checks)

    # cross-table rules
    def _joined(
        self, source: str, tables: dict[str, pd.DataFrame]
    ) -> tuple[str, list[tuple[str, str]]]:
        """``source`` joined to customers and truth, and the conditions of the orphan ids,
        the events before the lead and the events after churn.

        Lookups take the first row of each id (``_lookup``); a missing id matches a missing
        id, as Arrow's ``index_in`` does.
        """
        cid, ts = _sql_name(schema.ID_COL), _sql_name(schema.TIME_COL)
        customers = tables.get(schema.CUSTOMERS_TABLE)
        truth = tables.get(schema.TRUTH_TABLE)
        if self.run_heads is not None:
            return self._joined_sorted(source, customers, truth)
        selects, joins, checks = ["e.*"], [], []
        if customers is not None and "customer_id" in customers.columns:
            frame = pd.DataFrame({"customer_id": customers["customer_id"]}).assign(_found=True)
            with_lead = "lead_created_at" in customers.columns and (
                pd.api.types.is_datetime64_any_dtype(customers["lead_created_at"])
            )
            if with_lead:
                frame["lead_created_at"] = customers["lead_created_at"]
            frame = frame.drop_duplicates("customer_id")
            self.con.register("_customers", frame)
            joins.append(f"LEFT JOIN _customers c ON e.{cid} IS NOT DISTINCT FROM c.customer_id")
            selects.append("c._found AS _found")
            checks.append(("reference", f"{cid} IS NOT NULL AND _found IS NULL"))
            if with_lead:
                selects.append("c.lead_created_at AS _created")
                checks.append(("event_after_lead", f"coalesce({ts} < _created, FALSE)"))
        if truth is not None and _usable(truth, {"customer_id": "string", "churn_ts": "datetime"}):
            frame = truth[["customer_id", "churn_ts"]].drop_duplicates("customer_id")
            self.con.register("_truth", frame)
            joins.append(f"LEFT JOIN _truth t ON e.{cid} IS NOT DISTINCT FROM t.customer_id")
            selects.append("t.churn_ts AS _churned")
            checks.append(("quiet_after_churn", f"coalesce({ts} >= _churned, FALSE)"))
        return f"(SELECT {', '.join(selects)} FROM {source} e {' '.join(joins)})", checks

    def _joined_sorted(
        self, source: str, customers: pd.DataFrame | None, truth: pd.DataFrame | None
    ) -> tuple[str, list[tuple[str, str]]]:
        """``_joined`` for a sorted file without missing ids: judged per id first.

        Each id's rows form one run, whose first and last rows hold its earliest and latest
        stamps; the ids are looked up once each, and only the rows of ids that break a rule
        are flagged (no join of every event when nothing is wrong).
        """
        cid, ts = _sql_name(schema.ID_COL), _sql_name(schema.TIME_COL)
        heads = pd.Series(self.run_heads.to_pandas(), dtype="str")
        first_ts, last_ts = (pd.Series(a.to_pandas()) for a in self.run_stamps)
        flags, checks = [], []

        joins = []
        if customers is not None and "customer_id" in customers.columns:
            orphans = heads[~_isin(heads, customers["customer_id"]).to_numpy()]
            if len(orphans):
                self.con.register("_orphans", pd.DataFrame({"customer_id": orphans.to_numpy()}))
                flags.append(
                    f"coalesce(e.{cid} IN (SELECT customer_id FROM _orphans), FALSE) AS _reference"
                )
            else:
                flags.append("FALSE AS _reference")
            checks.append(("reference", "_reference"))
            if "lead_created_at" in customers.columns and pd.api.types.is_datetime64_any_dtype(
                customers["lead_created_at"]
            ):
                created = _lookup(heads, customers, "lead_created_at")
                early = (first_ts < created.to_numpy()).fillna(False).to_numpy()
                if early.any():  # exact counts and rows: those ids' events joined
                    frame = customers[["customer_id", "lead_created_at"]].drop_duplicates(
                        "customer_id"
                    )
                    frame = frame[_isin(frame["customer_id"], heads[early]).to_numpy()]
                    self.con.register("_early", frame)
                    joins.append(f"LEFT JOIN _early c ON e.{cid} = c.customer_id")
                    flags.append(
                        f"coalesce(e.{ts} < c.lead_created_at, FALSE) AS _event_after_lead"
                    )
                else:
                    flags.append("FALSE AS _event_after_lead")
                checks.append(("event_after_lead", "_event_after_lead"))
        if truth is not None and _usable(truth, {"customer_id": "string", "churn_ts": "datetime"}):
            churned = _lookup(heads, truth, "churn_ts")
            late = (last_ts >= churned.to_numpy()).fillna(False).to_numpy()
            if late.any():
                frame = truth[["customer_id", "churn_ts"]].drop_duplicates("customer_id")
                frame = frame[_isin(frame["customer_id"], heads[late]).to_numpy()]
                self.con.register("_late", frame)
                joins.append(f"LEFT JOIN _late t ON e.{cid} = t.customer_id")
                flags.append(f"coalesce(e.{ts} >= t.churn_ts, FALSE) AS _quiet_after_churn")
            else:
                flags.append("FALSE AS _quiet_after_churn")
            checks.append(("quiet_after_churn", "_quiet_after_churn"))
        if not flags:
            return source, []
        return f"(SELECT e.*, {', '.join(flags)} FROM {source} e {' '.join(joins)})", checks

    def order_events(self) -> pd.DataFrame:
        """The 'order' events (id, time, value) in file order, typed as pandas reads them."""
        if self.order_frame is None:
            self._validate_sorted()
        return self.order_frame  # type: ignore[return-value]


def _usable(df: pd.DataFrame | None, columns: dict[str, str]) -> bool:
    """``df`` exists, is not empty and has these columns with these kinds."""
    if isinstance(df, _EventsFile):  # its columns have the contract's kinds
        return not df.empty and all(c in df.columns for c in columns)
    if df is None or df.empty:
        return False
    return all(c in df.columns and _kind_ok(df[c], kind) for c, kind in columns.items())
