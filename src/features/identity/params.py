"""Parameters of the identity study (notebook 09) checked into ``IdentityParams``.

May import the foundation (``features.config``, ``features.params``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from features.params import (
    NotebookParams,
    ParameterError,
    check_data_source,
    check_float,
    check_int,
    check_parameter_names,
)

# The lab's field roles of a person record (the keys of the ``columns`` parameter).
ROLES = ("full_name", "given_name", "surname", "phone", "birth_date", "id_number", "address",
         "city", "postcode")  # fmt: skip
# Roles a blocking rule may name: the normalised fields matching compares.
BLOCKING_FIELDS = ("name", "name_key", "surname", "phone", "birth_date", "id_number", "address",
                   "city", "postcode")  # fmt: skip


class IdentityParamError(ParameterError):
    """A notebook parameter of the identity study that cannot be used."""


@dataclass(frozen=True)
class IdentityParams(NotebookParams):
    """Validated parameters of notebook 09 (names as in the notebook)."""

    INTERNAL_FIELDS: ClassVar[tuple[str, ...]] = ("source_paths",)

    data_source: str | tuple[str, ...]
    n_customers: int
    seed: int
    record_id_col: str
    entity_col: str
    source_col: str
    columns: dict[str, str]
    blocking_rules: tuple[tuple[str, ...], ...]
    match_threshold: float
    max_pairs: int
    output_dir: str
    mlflow_tracking_uri: str
    source_paths: tuple[str, ...] = ()

    @property
    def synthetic(self) -> bool:
        return self.data_source == "synthetic"


PARAMETER_NAMES = tuple(
    f.name for f in fields(IdentityParams) if f.name not in IdentityParams.INTERNAL_FIELDS
)


def _sources(value: Any) -> tuple[str | tuple[str, ...], tuple[str, ...]]:
    if isinstance(value, list | tuple):
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise IdentityParamError(f"parameter 'data_source' = {value!r}: a list must hold "
                                     "file paths")  # fmt: skip
        paths = tuple(check_data_source(v) for v in value)
        if len(set(paths)) < len(paths):
            raise IdentityParamError(f"parameter 'data_source' = {value!r}: a file is listed twice")
        return tuple(value), paths
    path = check_data_source(value)
    return value, (path,) if path else ()


def _blocking(value: Any) -> tuple[tuple[str, ...], ...]:
    rule = "must be a list of rules, each a list of fields from " + ", ".join(BLOCKING_FIELDS)
    if not isinstance(value, list | tuple):
        raise IdentityParamError(f"parameter 'blocking_rules' = {value!r}: {rule}")
    rules = []
    for item in value:
        fields_ = (item,) if isinstance(item, str) else item
        if (not isinstance(fields_, list | tuple) or not fields_
                or any(f not in BLOCKING_FIELDS for f in fields_)):  # fmt: skip
            raise IdentityParamError(f"parameter 'blocking_rules': rule {item!r} {rule}")
        rules.append(tuple(fields_))
    return tuple(rules)


def validate_identity_params(**params: Any) -> IdentityParams:
    """Check every notebook parameter; raise ``IdentityParamError`` naming the first bad one."""
    check_parameter_names(params, PARAMETER_NAMES, IdentityParamError)
    p = dict(params)
    try:
        check_int("n_customers", p["n_customers"], minimum=200, maximum=10_000_000)
        check_int("seed", p["seed"], minimum=0)
        check_float("match_threshold", p["match_threshold"], minimum=0.01, maximum=0.9999)
        check_int("max_pairs", p["max_pairs"], minimum=10_000, maximum=1_000_000_000)
        p["data_source"], source_paths = _sources(p["data_source"])
    except IdentityParamError:
        raise
    except ParameterError as exc:
        raise IdentityParamError(str(exc)) from None
    for name in ("record_id_col", "entity_col", "source_col", "output_dir", "mlflow_tracking_uri"):
        if not isinstance(p[name], str):
            raise IdentityParamError(f"parameter {name!r} = {p[name]!r}: must be a string")
    if not p["record_id_col"].strip():
        raise IdentityParamError("parameter 'record_id_col' = '': must be a column name")
    columns = p["columns"]
    if not isinstance(columns, dict) or not all(isinstance(v, str) and v for v in columns.values()):
        raise IdentityParamError(f"parameter 'columns' = {columns!r}: must be a dict from field "
                                 f"roles ({', '.join(ROLES)}) to column names")  # fmt: skip
    unknown = sorted(set(columns) - set(ROLES))
    if unknown:
        raise IdentityParamError(f"parameter 'columns': unknown role {unknown[0]!r} (roles: "
                                 f"{', '.join(ROLES)})")  # fmt: skip
    if len(set(columns.values())) < len(columns):
        raise IdentityParamError(f"parameter 'columns' = {columns!r}: a column has two roles")
    if not ({"full_name", "surname", "phone", "id_number"} & set(columns)):
        raise IdentityParamError("parameter 'columns': map at least one of full_name, surname, "
                                 "phone or id_number (nothing to match people on)")  # fmt: skip
    p["columns"] = dict(columns)
    p["blocking_rules"] = _blocking(p["blocking_rules"])
    return IdentityParams(**{n: p[n] for n in PARAMETER_NAMES}, source_paths=source_paths)
