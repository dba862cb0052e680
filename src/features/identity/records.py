"""Person records from one or more files, in the lab's field roles, normalised for matching.

Each file (CSV/TSV/TXT, Excel or Parquet, read by ``features.data.tabular.read_table``) holds
one record per row; ``columns`` maps the lab's roles (``params.ROLES``) to the files' column
names. A role mapped but absent from a file is blank for that file's records; a role absent
from every file is left out (and said so). Record ids stay text and must be unique per file;
the source of a record is its ``source_col`` value or else the file's name.

Normalisation (what matching compares, kept in memory only: these are personal data):

- names: Chinese characters to toneless pinyin with pypinyin (so traditional, simplified and
  homophone characters and names typed in Latin letters meet), ``name_key`` the surname and
  given name sorted (a name written given name first still meets), ``name_clean`` the
  characters as typed without spaces and punctuation;
- phones: digits only, the +86 / 0086 country code removed;
- birth dates: ISO, ``1990/3/5``, ``19900305`` and the other stamps ``features.data.reader``
  reads, as ``YYYY-MM-DD``;
- ID-card numbers upper-case without spaces; cities as pinyin without 市 (上海市, 上海 and
  Shanghai meet); addresses without spaces, 省 and 市; postcodes as digits.

A mapped column whose non-blank values mostly fail their rule (more than
``reader.MAX_UNPARSEABLE_SHARE``: phones without seven digits, dates that are no dates) is
refused with one line naming the file and column; the examples in that line are masked.

May import the foundation, ``features.data`` readers and ``features.identity.params``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.data import reader
from features.data.reader import DataError
from features.data.tabular import TableError, read_table
from features.identity.params import IdentityParams

# The normalised columns matching compares, in the order the model lists them.
MATCH_FIELDS = ("name_clean", "name", "name_key", "surname", "phone", "birth_date", "id_number",
                "address", "city", "postcode")  # fmt: skip
_HAN = re.compile(r"[\u3400-\u9fff]")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_NOT_DIGIT = re.compile(r"\D+")


class IdentityDataError(TableError):
    """Person records that cannot be used as they are."""


@dataclass
class Records:
    """The records of all files: ``frame`` holds record_id, source, entity (or None) and the
    normalised match fields (personal: never written); ``fields`` the fields present."""

    frame: pd.DataFrame
    fields: tuple[str, ...]
    files: tuple[str, ...]
    has_entity: bool
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)


def _mask(value: str) -> str:
    return value[:2] + "*" * max(len(value) - 2, 0)


def _blank(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text.isna() | (text == "") | text.str.lower().isin(["nan", "null", "none"]))


def _syllables(text: str) -> list[str]:
    """Toneless pinyin syllables of the Chinese characters, Latin words as written."""
    from pypinyin import lazy_pinyin

    if _HAN.search(text):
        han = "".join(c for c in text if _HAN.match(c))
        return [s.lower() for s in lazy_pinyin(han)]
    return [w for w in _NOT_WORD.sub(" ", text.lower()).split() if w]


@functools.cache
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (from pypinyin's dictionary)."""
    from pypinyin import Style, pinyin_dict
    from pypinyin.style import convert

    return frozenset(convert(p, Style.NORMAL, strict=False).replace("ü", "v")
                     for value in pinyin_dict.pinyin_dict.values() for p in value.split(","))  # fmt: skip


def split_pinyin(word: str) -> list[str]:
    """A Latin word cut into pinyin syllables (fewest syllables); the word itself when it is
    not pinyin: 'liujiechen' -> ['liu', 'jie', 'chen']."""
    known = _pinyin_syllables()
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            if head is not None and word[start:end] in known:
                if best[end] is None or len(head) + 1 < len(best[end]):
                    best[end] = [*head, word[start:end]]
    return best[n] or [word]


def _name_fields(full: pd.Series) -> pd.DataFrame:
    """name_clean, name (pinyin), name_key and surname of each full name (None when blank)."""
    uniques = full.dropna().unique()
    rows = {}
    for text in uniques:
        text = unicodedata.normalize("NFKC", str(text))
        syllables = _syllables(text)
        if not syllables:
            rows[text] = (None, None, None, None)
            continue
        han = bool(_HAN.search(text))
        # the key: every syllable, sorted (Latin words cut into syllables), so that 'Jiechen
        # Liu', 'liujiechen' and 刘杰晨 meet; Chinese names: the first syllable is the surname
        parts = syllables if han else [s for w in syllables for s in split_pinyin(w)]
        rows[text] = (_NOT_WORD.sub("", text.lower()), "".join(syllables), " ".join(sorted(parts)),
                      syllables[0] if han else None)  # fmt: skip
    table = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=["name_clean", "name", "name_key", "surname"])  # fmt: skip
    keys = full.map(lambda v: unicodedata.normalize("NFKC", str(v)) if pd.notna(v) else v)
    return table.reindex(keys.to_numpy()).set_index(full.index)


def normalise_phone(values: pd.Series) -> pd.Series:
    """Digits only, without the +86 / 0086 country code; None where fewer than 7 digits."""
    digits = values.astype("string").str.replace(_NOT_DIGIT, "", regex=True)
    digits = digits.str.replace(r"^(0086|86)(?=1\d{10}$)", "", regex=True)
    return digits.mask(digits.str.len() < 7)


def _city(values: pd.Series) -> pd.Series:
    def one(text: str) -> str | None:
        text = unicodedata.normalize("NFKC", text).replace("市", "")
        syllables = _syllables(text)
        return "".join(syllables) or None

    uniques = {v: one(v) for v in values.dropna().unique()}
    return values.map(uniques)


def _address(values: pd.Series) -> pd.Series:
    text = values.map(lambda v: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v)
    text = text.astype("string").str.replace(r"[\s省市,，]+", "", regex=True).str.lower()
    return text.mask(text == "")


def _birth_date(values: pd.Series) -> pd.Series:
    stamps = reader.parse_timestamps(values.astype("string"))
    return stamps.dt.strftime("%Y-%m-%d").astype("string")


def _id_number(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.replace(r"\s+", "", regex=True).str.upper()
    return text.mask(~text.str.fullmatch(r"\d{15}|\d{17}[\dX]").fillna(False))


def _check(where: Path, column: str, rule: str, raw: pd.Series, clean: pd.Series) -> None:
    lost = raw.notna() & clean.isna()
    try:
        reader.check_loss(str(where), column, rule, int(lost.sum()), int(raw.notna().sum()),
                          [_mask(str(v)) for v in raw[lost].head(reader.MAX_EXAMPLES)])  # fmt: skip
    except DataError as exc:
        raise IdentityDataError(str(exc)) from None


def _normalise(raw: pd.DataFrame, columns: dict[str, str], where: Path) -> pd.DataFrame:
    """The match fields of one file's records (roles not in the file are blank)."""
    col = {role: _blank(raw[name]) if name in raw.columns else pd.Series(pd.NA, index=raw.index,
                                                                         dtype="string")
           for role, name in columns.items()}  # fmt: skip
    out = pd.DataFrame(index=raw.index)
    if "full_name" in col:
        full = col["full_name"]
    else:
        full = pd.Series(pd.NA, index=raw.index, dtype="string")
    if "surname" in col or "given_name" in col:
        sur = col.get("surname", pd.Series("", index=raw.index)).fillna("")
        given = col.get("given_name", pd.Series("", index=raw.index)).fillna("")
        joined = (sur + " " + given).str.strip()
        full = full.fillna(joined.mask(joined == ""))
    names = _name_fields(full)
    if "surname" in col:  # a surname column beats the first syllable
        names["surname"] = _name_fields(col["surname"])["name"].fillna(names["surname"])
    out = out.join(names)
    rules = {"phone": (normalise_phone, "values that are no phone numbers (7+ digits)"),
             "birth_date": (_birth_date, "values that are no dates"),
             "id_number": (_id_number, "values that are no ID-card numbers (15 or 18 characters)"),
             "city": (_city, "values without letters or characters"),
             "address": (_address, "blank addresses"),
             "postcode": (lambda s: s.str.replace(_NOT_DIGIT, "", regex=True).replace("", pd.NA),
                          "values without digits")}  # fmt: skip
    for role, (rule, text) in rules.items():
        if role in col:
            out[role] = rule(col[role]).astype("string")
            if columns[role] in raw.columns:
                _check(where, columns[role], text, col[role], out[role])
    return out


def read_records(paths: tuple[str, ...], params: IdentityParams,
                 columns: dict[str, str] | None = None) -> Records:  # fmt: skip
    """Every file's records in the lab's roles, normalised; raises ``IdentityDataError``."""
    columns = dict(params.columns if columns is None else columns)
    keys = [params.record_id_col] + [c for c in (params.entity_col, params.source_col) if c]
    present: set[str] = set()
    parts, notes = [], []
    for path_text in paths:
        path = Path(path_text)
        raw = read_table(path, text_cols=[*keys, *columns.values()])
        if params.record_id_col not in raw.columns:
            raise IdentityDataError(f"{path}: column {params.record_id_col!r} (record_id_col) is "
                                    f"missing (columns: {list(raw.columns)[:12]})")  # fmt: skip
        for name in (params.entity_col, params.source_col):
            if name and name not in raw.columns:
                raise IdentityDataError(f"{path}: column {name!r} is missing (entity_col and "
                                        "source_col must be in every file)")  # fmt: skip
        ids = _blank(raw[params.record_id_col])
        if ids.isna().any():
            raise IdentityDataError(f"{path}: column {params.record_id_col!r}: "
                                    f"{int(ids.isna().sum()):,} records have no id")  # fmt: skip
        dup = ids.duplicated()
        if dup.any():
            raise IdentityDataError(f"{path}: column {params.record_id_col!r}: "
                                    f"{int(dup.sum()):,} ids repeat (first: "
                                    f"{ids[dup].head(3).tolist()})")  # fmt: skip
        present |= {role for role, name in columns.items() if name in raw.columns}
        part = _normalise(raw, columns, path)
        part.insert(0, "record_id", ids.astype(str).to_numpy())
        source = (_blank(raw[params.source_col]).fillna("(blank)") if params.source_col
                  else pd.Series(path.name.split(".")[0], index=raw.index))  # fmt: skip
        part.insert(1, "source", source.astype(str).to_numpy())
        if params.entity_col:
            part.insert(2, "entity", _blank(raw[params.entity_col]).astype(object).to_numpy())
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    if frame.empty:
        raise IdentityDataError(f"{paths[0]}: no records")
    dup = frame.duplicated(["source", "record_id"])
    if dup.any():
        first = frame.loc[dup, ["source", "record_id"]].head(2).values.tolist()
        raise IdentityDataError(f"{', '.join(paths)}: {int(dup.sum()):,} records share source "
                                f"and record id across files (first: {first})")  # fmt: skip
    absent = [role for role in columns if role not in present]
    if absent:
        notes.append(f"roles {absent} are in no file: left out")
    name_roles = {"full_name", "surname", "given_name"} & present
    fields = [f for f in MATCH_FIELDS if f in frame.columns and frame[f].notna().any()
              and (f not in ("name_clean", "name", "name_key", "surname") or name_roles)]  # fmt: skip
    frame = frame[["record_id", "source", *(["entity"] if params.entity_col else []), *fields]]
    if params.entity_col:
        missing = frame["entity"].isna()
        if missing.all():
            raise IdentityDataError(f"{', '.join(paths)}: column {params.entity_col!r} "
                                    "(entity_col) is blank in every record")  # fmt: skip
        if missing.any():
            notes.append(f"{int(missing.sum()):,} records without {params.entity_col!r}: left "
                         "out of the evaluation")  # fmt: skip
    frame["unique_id"] = np.arange(len(frame), dtype=np.int64)
    return Records(frame=frame, fields=tuple(fields), files=tuple(Path(p).name for p in paths),
                   has_entity=bool(params.entity_col), notes=notes)  # fmt: skip
