"""Validation of notebook and runner parameters.

papermill only warns about unknown parameters, so every notebook validates its parameters in
the first cell after the parameters cell and stops with a message naming the bad one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd


class ParameterError(ValueError):
    """A parameter has a value the lab cannot use."""


class NotebookParams:
    """Base of the notebooks' frozen parameter dataclasses.

    ``as_dict`` gives the checked parameters as plain values (for MLflow and metrics.json);
    fields named in ``INTERNAL_FIELDS`` are derived, not parameters, and are left out.
    """

    INTERNAL_FIELDS: ClassVar[tuple[str, ...]] = ()

    def as_dict(self) -> dict[str, Any]:
        """The parameters by name, as checked, in plain values."""
        return {
            field.name: plain_value(getattr(self, field.name))
            for field in fields(self)  # type: ignore[arg-type]
            if field.name not in self.INTERNAL_FIELDS
        }


def plain_value(value: Any) -> Any:
    """``value`` as JSON can hold it: paths as text, dates as ``YYYY-MM-DD``, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else value.isoformat()
    if isinstance(value, (tuple, list)):
        return [plain_value(item) for item in value]
    return value


def check_parameter_names(
    params: Iterable[str], names: Iterable[str], error: type[ParameterError] = ParameterError
) -> None:
    """Every one of ``names`` is given and nothing else (papermill only warns on unknown ones)."""
    given, expected = set(params), tuple(names)
    missing = [name for name in expected if name not in given]
    if missing:
        raise error(f"parameter {missing[0]!r} is missing")
    unknown = sorted(given - set(expected))
    if unknown:
        raise error(f"parameter {unknown[0]!r} is unknown")


def _fail(name: str, value: Any, rule: str) -> None:
    raise ParameterError(f"parameter {name!r} = {value!r}: {rule}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` must be one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        _fail(name, value, f"must be one of {', '.join(map(repr, choices))}")
    return value


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` must be an integer (not a bool) within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(name, value, "must be an integer")
    if minimum is not None and value < minimum:
        _fail(name, value, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        _fail(name, value, f"must be <= {maximum}")
    return value


def check_float(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
) -> float:
    """``value`` must be a real number within the bounds (exclusive bounds if ``exclusive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(name, value, "must be a number")
    if minimum is not None and (value <= minimum if exclusive else value < minimum):
        _fail(name, value, f"must be {'>' if exclusive else '>='} {minimum}")
    if maximum is not None and (value >= maximum if exclusive else value > maximum):
        _fail(name, value, f"must be {'<' if exclusive else '<='} {maximum}")
    return float(value)


def check_date(name: str, value: Any) -> pd.Timestamp:
    """``value`` must be an ISO date string (``YYYY-MM-DD``); returns a Timestamp."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        _fail(name, value, "must be an ISO date such as '2025-07-01'")
    try:
        return pd.Timestamp(value.strip())
    except ValueError:
        _fail(name, value, "must be a valid calendar date such as '2025-07-01'")
    raise AssertionError("unreachable")


def check_data_source(value: Any, folders: bool = False) -> str:
    """``value`` must be ``"synthetic"`` (returns "") or an existing file (or folder, with
    ``folders``), relative paths from the project root; returns its absolute path."""
    from features import config

    if not isinstance(value, str) or not value.strip():
        _fail("data_source", value, "must be 'synthetic' or a file path")
    if value == "synthetic":
        return ""
    path = config.project_path(value)
    if not (path.exists() if folders else path.is_file()):
        _fail("data_source", value, f"no such file{' or folder' if folders else ''} ({path})")
    return str(path)


def check_str_list(name: str, value: Any) -> list[str]:
    """``value`` must be a list of strings (possibly empty)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        _fail(name, value, "must be a list of column names")
    return list(value)
