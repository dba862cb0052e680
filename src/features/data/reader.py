"""Read the files marketing teams export: CSV/TSV/TXT, Parquet and Excel, as text, then typed.

Text files are parsed by DuckDB's ``read_csv`` (separator and quoting sniffed; quoted fields
may hold separators and newlines) with every column read as text, so that ids keep their
leading zeros. Encodings: UTF-8 with or without BOM, else GB18030 (which covers GBK); a file
mixing both is refused. Excel workbooks (``.xlsx``) are read with openpyxl, also as text.

Typed parsing is vectorised SQL over that text:

* amounts: thousands separators (``"1,234.50"``), decimal commas (``12,5``, ``1.234,50``),
  currency signs and words (¥ ￥ 元 $ € £ CNY RMB), refunds written ``(123.45)`` or with a
  minus; ``1,234`` alone follows the column's other values (else the separator: ``;`` files
  use decimal commas). ``inf`` and ``NaN`` are not amounts.
* timestamps: ISO 8601, ``2025/03/01 10:00``, ``20250301``, ``2025年3月1日``, Excel serial
  days (``45717.5``), with or without a zone.

Time-zone rule: a naive stamp is local business time and kept as it is; an aware stamp
(``Z``, ``+08:00``, a zone name) is converted to the business zone (``schema.BUSINESS_TZ``,
Asia/Shanghai by default; parameter ``business_tz``) and then made naive. Cutoffs and as-of
dates are naive business time too, so every comparison is between like stamps.

Loss threshold: a column whose unparseable share of non-blank values exceeds
``MAX_UNPARSEABLE_SHARE`` (5%), once at least ``MIN_UNPARSEABLE_ROWS`` values are bad, is
refused with a ``DataError`` naming file, column, rule, share and first values; below it the
bad cells are counted in the cleaning summary.

May import the foundation modules only.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from features import schema

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
NULL_TOKENS = ("", "na", "n/a", "nan", "null", "none", "nat", "-", "#n/a")
MAX_UNPARSEABLE_SHARE = 0.05
MIN_UNPARSEABLE_ROWS = 3
MAX_EXAMPLES = 3
SNIFF_BYTES = 1 << 20
CHUNK_BYTES = 16 << 20
_CURRENCY = r"[¥￥$€£元\s\x{00a0}''’]|CNY|RMB|USD|EUR"  # quote doubled for SQL
_THOUSANDS = r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"
_DOTTED_DECIMAL_COMMA = r"[+-]?\d{1,3}(\.\d{3})+,\d+"
_DECIMAL_COMMA = r"[+-]?\d+,\d+"
_AMBIGUOUS = r"[+-]?\d{1,3},\d{3}"
_TIME_FORMATS = (
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


class DataError(ValueError):
    """Input data break a rule; the message names the file, the column and the rule."""


@dataclass
class TextTable:
    """A file read as text: a DuckDB table of VARCHAR columns and what reading it found.

    Attributes:
        con: connection holding table ``raw`` (columns as in the file's header).
        columns: the header's column names, stripped.
        where: the file name for messages.
        sep: the separator (None for Excel and Parquet).
        encoding: ``utf-8`` or ``gb18030`` (None for binary formats).
        cleaning: counts of line-level rules (CRLF endings, blank lines, malformed lines).
        sha256: digest of the file's bytes.
    """

    con: duckdb.DuckDBPyConnection
    columns: list[str]
    where: str
    sep: str | None = None
    encoding: str | None = None
    cleaning: dict[str, int] = field(default_factory=dict)
    sha256: str = ""

    def close(self) -> None:
        """Release the DuckDB connection."""
        self.con.close()


def sql_name(name: str) -> str:
    """A column name quoted for SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def sql_text(value: str) -> str:
    """A string literal for SQL."""
    return "'" + str(value).replace("'", "''") + "'"


def connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection without the terminal progress bar (Jupyter has none to turn off)."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass
    return con


def check_file(path: Path, what: str) -> None:
    """Refuse a missing path or a folder where a file is expected."""
    if path.is_dir():
        raise DataError(f"{path}: is a folder (rule: {what} is a file, not a folder)")
    if not path.exists():
        raise DataError(f"{path}: file not found (rule: {what} must exist)")


# --- encodings and line statistics -----------------------------------------------------------


def scan_bytes(path: Path) -> tuple[str, dict[str, int]]:
    """sha256 of the file and its CRLF and blank-line counts, in one streaming pass."""
    digest = hashlib.sha256()
    counts = {"crlf_line_endings": 0, "blank_lines": 0}
    tail = b""
    first = True
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            if first and chunk.lstrip(b"\xef\xbb\xbf").startswith((b"\n", b"\r\n")):
                counts["blank_lines"] += 1
            first = False
            joined = tail + chunk
            blank = joined.count(b"\n\n") - tail.count(b"\n\n")
            if b"\r" in joined:  # else no CRLF: two searches saved
                counts["crlf_line_endings"] += joined.count(b"\r\n") - tail.count(b"\r\n")
                blank += joined.count(b"\n\r\n") - tail.count(b"\n\r\n")
            counts["blank_lines"] += blank
            tail = joined[-2:]
    return digest.hexdigest(), counts


def detect_encoding(path: Path) -> str:
    """``utf-8`` (with or without BOM) when the first MiB decodes strictly, else ``gb18030``."""
    with open(path, "rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _is_utf8_chinese(line: bytes) -> bool:
    """The line decodes as UTF-8 and holds a CJK character (short GB18030 text may be valid
    UTF-8 by accident, but then decodes to rare Latin or Cyrillic letters)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any("\u4e00" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f" for char in text)


def transcode_to_utf8(path: Path, target: Path) -> None:
    """Write a GB18030 file as UTF-8; refuse a file mixing UTF-8 and GB18030 lines."""
    data = path.read_bytes()
    utf8_lines, other_lines, first_other = 0, 0, 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        if _is_utf8_chinese(line):
            utf8_lines += 1
        else:
            other_lines += 1
            first_other = first_other or number
    if utf8_lines and other_lines:
        raise DataError(
            f"{path}: mixed encodings (rule: one encoding per file): {utf8_lines} lines are "
            f"UTF-8, {other_lines} are not (first at line {first_other})"
        )
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 or GB18030 text (rule: a CSV file is text; byte {exc.start})"
        ) from None
    target.write_bytes(text.encode("utf-8"))


# --- readers -----------------------------------------------------------------------------


def read_text_table(
    path: str | Path,
    *,
    sep: str | None = None,
    required: tuple[str, ...] = (),
    what: str = "the file",
) -> TextTable:
    """Read a CSV/TSV/TXT or Excel file with every column as text (table ``raw``).

    Args:
        path: the file.
        sep: CSV separator; sniffed by DuckDB when None (``required`` names help choose).
        required: column names the caller needs (a sniffed separator must yield them).
        what: what the file is, for messages ("the event log").
    """
    path = Path(path)
    check_file(path, what)
    if path.suffix.lower() == ".gz":
        return _read_gzip(path, sep, required, what)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _read_excel(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        raise DataError(f"{path}: Parquet is not a text table (rule: read it as Parquet)")
    with open(path, "rb"):  # an unreadable file fails here, as before any other rule
        pass
    if path.stat().st_size == 0 or not _head(path).strip():
        raise DataError(f"{path}: file is empty (rule: {what} starts with a header line)")
    # the digest and line counts are taken in a thread while DuckDB reads the file
    with ThreadPoolExecutor(max_workers=1) as pool:
        scanned = pool.submit(scan_bytes, path)
        encoding = detect_encoding(path)
        if encoding == "utf-8":
            try:
                table = _read_csv(path, path, sep, required)
            except _InvalidUnicode:
                encoding = "gb18030"
        if encoding == "gb18030":
            with tempfile.TemporaryDirectory(prefix="nev-intake-") as tmp:
                utf8 = Path(tmp) / "utf8.csv"
                transcode_to_utf8(path, utf8)
                table = _read_csv(utf8, path, sep, required)
        sha, cleaning = scanned.result()
    table.encoding, table.sha256 = encoding, sha
    table.cleaning = {**cleaning, **table.cleaning}
    return table


def _head(path: Path) -> bytes:
    """The first ``SNIFF_BYTES`` of a file (without reading the rest)."""
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def _read_gzip(path: Path, sep: str | None, required: tuple[str, ...], what: str) -> TextTable:
    """A gzip-compressed text file (``export.csv.gz``), decompressed to a temporary copy."""
    with tempfile.TemporaryDirectory(prefix="nev-intake-") as tmp:
        plain = Path(tmp) / path.stem
        try:
            with gzip.open(path, "rb") as source, open(plain, "wb") as target:
                shutil.copyfileobj(source, target, CHUNK_BYTES)
        except (OSError, EOFError) as exc:
            raise DataError(
                f"{path}: not a readable gzip file (rule: a complete file; {exc})"
            ) from None
        try:
            table = read_text_table(plain, sep=sep, required=required, what=what)
        except DataError as exc:
            raise DataError(str(exc).replace(str(plain), str(path))) from None
    table.where, table.sha256 = str(path), _sha256(path)
    return table


class _InvalidUnicode(Exception):
    pass


def _read_csv(file: Path, original: Path, sep: str | None, required: tuple[str, ...]) -> TextTable:
    con = connect()
    candidates = [sep] if sep else [None, ",", ";", "\t", "|"]
    try:
        header, chosen = _read_header(con, file, candidates[0]), candidates[0]
        for candidate in candidates[1:]:
            if all(name in header for name in required):
                break
            other = _read_header(con, file, candidate)
            if all(name in other for name in required):
                header, chosen = other, candidate
        chosen = chosen or _sniffed_separator(con, file)
        options = (
            f"delim={sql_text(chosen)}, header=true, all_varchar=true, quote='\"', "
            "escape='\"', ignore_errors=true, store_rejects=true, null_padding=false, "
            "strict_mode=false, sample_size=20480"
        )
        con.execute(
            f"CREATE TEMP TABLE raw AS SELECT * FROM read_csv({sql_text(str(file))}, {options})"
        )
        (malformed,) = con.execute("SELECT count(*) FROM reject_errors").fetchall()[0]
    except duckdb.Error as exc:
        con.close()
        if "unicode" in str(exc).lower() or "utf-8" in str(exc).lower():
            raise _InvalidUnicode from None
        raise DataError(
            f"{original}: cannot be parsed as CSV ({str(exc).splitlines()[0]})"
        ) from None
    except BaseException:
        con.close()
        raise
    duckdb_names = [row[0] for row in con.execute("DESCRIBE raw").fetchall()]
    _refuse_duplicates(header, original)
    if len(duckdb_names) == len(header):
        _rename_columns(con, duckdb_names, header)
    else:
        header = duckdb_names
    return TextTable(con, header, str(original), chosen, cleaning={"malformed_lines": malformed})


def _rename_columns(con: duckdb.DuckDBPyConnection, names: list[str], header: list[str]) -> None:
    """Give table ``raw`` the header's column names (catalog renames, the data stay put)."""
    changed = [(old, new) for old, new in zip(names, header, strict=True) if old != new]
    if not changed:
        return
    if "" in header or len({name.lower() for name in header}) < len(header):
        # names DuckDB does not take as they are: the copy that refuses or renames them
        pairs = zip(names, header, strict=True)
        renames = [f"{sql_name(old)} AS {sql_name(new)}" for old, new in pairs]
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw AS SELECT {', '.join(renames)} FROM raw")
        return
    # Two steps, so that no rename meets a name another column still carries (names are
    # case-insensitive in DuckDB).
    taken = {name.lower() for name in [*names, *header]}
    prefix = "_rename_"
    while any(name.startswith(prefix) for name in taken):
        prefix = "_" + prefix
    for number, (old, _) in enumerate(changed):
        temporary = sql_name(f"{prefix}{number}")
        con.execute(f"ALTER TABLE raw RENAME COLUMN {sql_name(old)} TO {temporary}")
    for number, (_, new) in enumerate(changed):
        temporary = sql_name(f"{prefix}{number}")
        con.execute(f"ALTER TABLE raw RENAME COLUMN {temporary} TO {sql_name(new)}")


def _read_header(con: duckdb.DuckDBPyConnection, file: Path, sep: str | None) -> list[str]:
    delim = f", delim={sql_text(sep)}" if sep else ""
    try:
        rows = con.execute(
            f"SELECT * FROM read_csv({sql_text(str(file))}, header=false, all_varchar=true, "
            f"quote='\"', escape='\"', ignore_errors=true{delim}) LIMIT 1"
        ).fetchall()
    except duckdb.Error as exc:
        if "unicode" in str(exc).lower() or "utf-8" in str(exc).lower():
            raise _InvalidUnicode from None
        raise
    return [
        str(value).strip().strip("\"'").strip() if value is not None else ""
        for value in (rows[0] if rows else ())
    ]


def _sniffed_separator(con: duckdb.DuckDBPyConnection, file: Path) -> str:
    (delimiter,) = con.execute(
        f"SELECT Delimiter FROM sniff_csv({sql_text(str(file))})"
    ).fetchall()[0]
    return delimiter


def _refuse_duplicates(header: list[str], where: Path | str) -> None:
    seen: set[str] = set()
    dupes = sorted({name for name in header if name in seen or seen.add(name)})
    if dupes:
        raise DataError(
            f"{where}: duplicate column names {dupes} (rule: every column has its own name)"
        )


def _read_excel(path: Path) -> TextTable:
    try:
        header = pd.read_excel(path, header=None, nrows=1, dtype=str, engine="openpyxl")
        frame = pd.read_excel(path, dtype=str, engine="openpyxl")
    except Exception as exc:  # a corrupt or non-Excel file: one clear line
        raise DataError(f"{path}: cannot be read as an Excel workbook ({exc})") from None
    names = [str(v).strip() if pd.notna(v) else "" for v in header.iloc[0]] if len(header) else []
    _refuse_duplicates(names, path)
    if not names:
        raise DataError(f"{path}: file is empty (rule: the first sheet starts with a header row)")
    frame.columns = names
    return text_table_from_frame(frame, str(path), sha256=_sha256(path))


def text_table_from_frame(frame: pd.DataFrame, where: str, sha256: str = "") -> TextTable:
    """A DataFrame as a text table (every column cast to VARCHAR)."""
    con = connect()
    con.register("frame_input", frame)
    casts = ", ".join(f"CAST({sql_name(c)} AS VARCHAR) AS {sql_name(c)}" for c in frame.columns)
    con.execute(f"CREATE TEMP TABLE raw AS SELECT {casts} FROM frame_input")
    con.unregister("frame_input")
    return TextTable(con, [str(c) for c in frame.columns], where, sha256=sha256)


def _sha256(path: Path) -> str:
    return scan_bytes(path)[0]


# --- typed parsing (SQL expressions over text) -----------------------------------------------


def is_null_sql(column: str) -> str:
    """SQL: the cell is blank or a null token (``NA``, ``null``, ``-`` ...)."""
    # The length guard skips the lower/trim work on ordinary (longer) values; a regular
    # expression, not ``IN (...)``, which DuckDB turns into a join that runs on every row
    # (even where a CASE branch around it is never taken).
    tokens = "|".join(re.escape(token) for token in NULL_TOKENS)
    return (
        f"(CASE WHEN {column} IS NULL THEN TRUE WHEN length({column}) > 12 THEN FALSE "
        f"ELSE regexp_full_match(lower(trim({column})), {sql_text(tokens)}) END)"
    )


def amount_clean_sql(column: str) -> str:
    """SQL: the amount text without currency, spaces, parentheses or a trailing minus.

    A cell that already casts to a number is only trimmed (the common case costs no regex).
    """
    text = f"regexp_replace(trim({column}), '{_CURRENCY}', '', 'g')"
    signed = f"regexp_replace(regexp_replace({text}, '^\\((.*)\\)$', '-\\1'), '^(.*)-$', '-\\1')"
    return f"CASE WHEN TRY_CAST(trim({column}) AS DOUBLE) IS NOT NULL THEN trim({column}) ELSE {signed} END"


def amount_style_sql(clean: str, table: str) -> str:
    """SQL query: +1 per unambiguous thousands value, -1 per decimal-comma value (a sample)."""
    return (
        f"SELECT sum(CASE WHEN regexp_full_match(c, '{_AMBIGUOUS}') THEN 0 "
        f"WHEN regexp_full_match(c, '{_THOUSANDS}') THEN 1 "
        f"WHEN regexp_full_match(c, '{_DOTTED_DECIMAL_COMMA}') "
        f"OR regexp_full_match(c, '{_DECIMAL_COMMA}') THEN -1 ELSE 0 END) "
        f"FROM (SELECT {clean} AS c FROM {table} WHERE contains({clean}, ',') LIMIT 200000)"
    )


def amount_sql(clean: str, thousands: bool) -> str:
    """SQL: the cleaned amount text ``clean`` as DOUBLE (NULL when blank or unparseable)."""
    ambiguous = f"replace({clean}, ',', '')" if thousands else f"replace({clean}, ',', '.')"
    slow = (
        f"CASE WHEN NOT contains({clean}, ',') THEN NULL "
        f"WHEN regexp_full_match({clean}, '{_AMBIGUOUS}') THEN TRY_CAST({ambiguous} AS DOUBLE) "
        f"WHEN regexp_full_match({clean}, '{_THOUSANDS}') "
        f"THEN TRY_CAST(replace({clean}, ',', '') AS DOUBLE) "
        f"WHEN regexp_full_match({clean}, '{_DOTTED_DECIMAL_COMMA}') "
        f"THEN TRY_CAST(replace(replace({clean}, '.', ''), ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({clean}, '{_DECIMAL_COMMA}') "
        f"THEN TRY_CAST(replace({clean}, ',', '.') AS DOUBLE) END"
    )
    return f"coalesce(TRY_CAST({clean} AS DOUBLE), {slow})"


def decimal_comma_sql(clean: str, thousands: bool) -> str:
    """SQL: the cleaned amount text was written with a decimal comma."""
    ambiguous = "FALSE" if thousands else f"regexp_full_match({clean}, '{_AMBIGUOUS}')"
    return (
        f"coalesce(contains({clean}, ',') AND (regexp_full_match({clean}, '{_DOTTED_DECIMAL_COMMA}') "
        f"OR {ambiguous} OR (regexp_full_match({clean}, '{_DECIMAL_COMMA}') AND NOT "
        f"regexp_full_match({clean}, '{_AMBIGUOUS}'))), FALSE)"
    )


def timestamp_sql(column: str, business_tz: str = schema.BUSINESS_TZ) -> str:
    """SQL: the stamp in ``column`` as naive business-time TIMESTAMP (NULL when unparseable)."""
    text = f"trim({column})"
    slashed = f"replace({text}, '/', '-')"
    formats = "[" + ", ".join(sql_text(f) for f in _TIME_FORMATS) + "]"
    serial = (
        f"TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(TRY_CAST({text} AS DOUBLE) "
        "* 86400000000) AS BIGINT))"
    )
    tail = f"substr({text}, 11)"
    zoned = (
        f"(suffix({text}, 'Z') OR contains({tail}, '+') OR contains({tail}, '-') OR "
        f"contains({tail}, '/') OR contains({text}, 'UTC') OR contains({text}, 'GMT'))"
    )
    # Fast path, no regex: a short stamp without zone marks that DuckDB casts directly.
    fast = (
        f"CASE WHEN length({column}) <= 19 AND NOT contains({column}, '+') AND NOT "
        f"contains(substr({column}, 11), '-') AND NOT suffix({column}, 'Z') "
        f"THEN TRY_CAST({column} AS TIMESTAMP) END"
    )
    return (
        f"coalesce({fast}, CASE WHEN {is_null_sql(column)} THEN NULL "
        f"WHEN NOT {zoned} AND TRY_CAST({text} AS TIMESTAMP) IS NOT NULL "
        f"THEN TRY_CAST({text} AS TIMESTAMP) "
        f"WHEN regexp_full_match({text}, '\\d{{8}}') THEN try_strptime({text}, '%Y%m%d') "
        f"WHEN regexp_full_match({text}, '\\d{{1,5}}(\\.\\d+)?') "
        f"AND TRY_CAST({text} AS DOUBLE) BETWEEN 1 AND 2958465 THEN {serial} "
        f"WHEN {zoned} AND regexp_full_match({text}, '\\d{{4}}[-/]\\d{{1,2}}[-/]\\d{{1,2}}.*') "
        f"THEN timezone({sql_text(business_tz)}, TRY_CAST({slashed} AS TIMESTAMPTZ)) "
        f"ELSE coalesce(TRY_CAST({slashed} AS TIMESTAMP), try_strptime({text}, {formats})) END)"
    )


def check_loss(
    where: str,
    column: str,
    rule: str,
    n_bad: int,
    n_present: int,
    examples: list[str],
    max_share: float = MAX_UNPARSEABLE_SHARE,
) -> None:
    """Refuse a column that lost more than ``max_share`` of its non-blank values."""
    if n_present == 0 or n_bad < MIN_UNPARSEABLE_ROWS or n_bad / n_present <= max_share:
        return
    shown = ", ".join(repr(v) for v in examples[:MAX_EXAMPLES])
    raise DataError(
        f"{where}: {n_bad / n_present:.0%} of {rule} in column {column!r} "
        f"({n_bad:,} of {n_present:,}; rule: at most {max_share:.0%}, parameter "
        f"max_unparseable_share): first values {shown}"
    )


def first_values(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """The first few values a query returns, as text."""
    return [str(row[0]) for row in con.execute(f"{sql} LIMIT {MAX_EXAMPLES}").fetchall()]


def parse_amounts(values: pd.Series, sep: str | None = None) -> tuple[pd.Series, int]:
    """Amounts of a text Series as float64, and the number of decimal-comma cells."""
    table = text_table_from_frame(pd.DataFrame({"a": values.reset_index(drop=True)}), "values")
    try:
        table.con.execute(
            f"CREATE TEMP TABLE cleaned AS SELECT {amount_clean_sql('a')} AS c FROM raw"
        )
        (style,) = table.con.execute(amount_style_sql("c", "cleaned")).fetchall()[0]
        thousands = (style or 0) > 0 or ((style or 0) == 0 and sep != ";")
        parsed = table.con.execute(
            f"SELECT CASE WHEN {is_null_sql('c')} THEN NULL ELSE {amount_sql('c', thousands)} END "
            f"AS v, {decimal_comma_sql('c', thousands)} AS d FROM cleaned"
        ).df()
    finally:
        table.close()
    amounts = pd.Series(parsed["v"].to_numpy(dtype="float64"), index=values.index)
    return amounts, int(parsed["d"].fillna(False).sum())


def parse_timestamps(values: pd.Series, business_tz: str = schema.BUSINESS_TZ) -> pd.Series:
    """Stamps of a Series (text, numbers or datetimes) as naive business time, datetime64[us]."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return to_business_time(values, business_tz)
    table = text_table_from_frame(pd.DataFrame({"t": values.reset_index(drop=True)}), "values")
    try:
        parsed = table.con.execute(f"SELECT {timestamp_sql('t', business_tz)} AS t FROM raw").df()
    finally:
        table.close()
    return pd.Series(parsed["t"].to_numpy(dtype="datetime64[us]"), index=values.index)


def to_business_time(values: pd.Series, business_tz: str = schema.BUSINESS_TZ) -> pd.Series:
    """Datetimes as naive business time: aware ones converted to ``business_tz``, naive kept."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert(business_tz).dt.tz_localize(None)
    return values.astype("datetime64[us]")


def business_timestamp(
    value: str | pd.Timestamp, business_tz: str = schema.BUSINESS_TZ
) -> pd.Timestamp:
    """One cutoff or as-of date as naive business time (an aware one is converted)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(business_tz).tz_localize(None)
    return stamp
