"""Parameter sets of the pipeline: YAML loading, ``--set`` overrides and the check against the
notebooks' ``parameters`` cells, plus the dataset settings the data steps derive from them.

A parameter set has a ``common`` section passed to every notebook that declares the
parameter, one section per notebook, optional ``pipeline`` options and an optional
``notebooks`` mapping (section name -> notebook file). Every error is a ``ParameterError``
naming the first bad key.

May import the foundation modules (``config``, ``defaults``, ``params``); the other pipeline
modules import it.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import nbformat
import yaml

from features import config, defaults
from features.params import ParameterError, check_date

DEFAULT_CONFIG = config.CONF_DIR / "default.yaml"
# In run order: the value notebook runs first so that the persona cards get its predictions,
# and the actions notebook after both (the value of a success, personas for its baseline).
DEFAULT_NOTEBOOKS = {
    "value": "04_value.ipynb",
    "personas": "01_personas.ipynb",
    "conversion": "02_conversion.ipynb",
    "churn": "03_churn.ipynb",
    "actions": "05_actions.ipynb",
    "voice": "06_voice.ipynb",
    "channels": "07_channels.ipynb",
    "experiments": "08_experiments.ipynb",
    "identity": "09_identity.ipynb",
    "monitoring": "10_monitoring.ipynb",
}
RESERVED_SECTIONS = ("common", "pipeline", "notebooks")
PIPELINE_OPTIONS = {
    "keep": "int or null: keep only the newest N runs",
    "continue_on_error": "bool: run the remaining notebooks after a failure",
    "cell_timeout": "int or null: seconds a single cell may take",
}
RUNNER_PARAMETERS = ("output_dir",)  # set by the runner, never by a parameter set
TRACKING_PARAMETER = "mlflow_tracking_uri"


@dataclass
class ParameterSet:
    """A validated parameter set: per-notebook parameters and runner options."""

    raw: dict[str, Any]
    notebooks: dict[str, Path]
    notebook_parameters: dict[str, dict[str, Any]]
    options: dict[str, Any]
    output_stems: dict[str, str] = field(default_factory=dict)
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)

    def effective(self, name: str) -> dict[str, Any]:
        """What notebook ``name`` will run with: its literal defaults, then the set's values."""
        values = {k: v for k, v in self.declared.get(name, {}).items() if v is not ...}
        values.update(self.notebook_parameters[name])
        return values

    def output_stem(self, name: str) -> str:
        """File stem of a notebook's outputs: its own stem, or stem.name if it runs twice."""
        return self.output_stems.get(name) or self.notebooks[name].stem

    def digest(self) -> str:
        """Short, stable hash of the parameters (part of the run id)."""
        text = json.dumps(self.notebook_parameters, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class DataSettings:
    """The synthetic dataset and processed tables the notebooks of a parameter set read."""

    n_customers: int = defaults.N_CUSTOMERS
    seed: int = defaults.SEED
    cutoff: str = defaults.CUTOFF
    conversion_horizon_days: int = defaults.CONVERSION_HORIZON_DAYS
    churn_horizon_days: int = defaults.CHURN_HORIZON_DAYS
    lookback_days: int = defaults.CHURN_LOOKBACK_DAYS
    min_class_count: int = defaults.MIN_CLASS_COUNT
    engine: str = "duckdb"  # where the processed tables are built (the model notebooks' engine)

    def table_options(self) -> dict[str, Any]:
        """The settings of the processed tables: ``build_processed``'s keyword arguments."""
        dataset = ("n_customers", "seed")
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in dataset}


def _normalise(value: Any) -> Any:
    """YAML dates become ISO strings; tuples become lists (the notebooks take plain values)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def load_parameter_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML parameter set; errors name the file."""
    source = Path(path)
    try:
        loaded = yaml.safe_load(source.read_text())
    except OSError as exc:
        raise ParameterError(f"{source}: cannot read parameter set ({exc.strerror})") from exc
    except (yaml.YAMLError, ValueError) as exc:
        raise ParameterError(f"{source}: not valid YAML ({exc})") from exc
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, Mapping):
        raise ParameterError(f"{source}: a parameter set must be a mapping of sections")
    for section, content in loaded.items():
        if content is not None and not isinstance(content, Mapping):
            raise ParameterError(f"{source}: section {section!r} must be a mapping")
    return {str(k): dict(_normalise(v or {})) for k, v in loaded.items()}


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key=value`` (common) and ``section.key=value`` overrides; values parse as YAML."""
    merged = {section: dict(values) for section, values in raw.items()}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--set {item!r}: expected key=value or section.key=value")
        section, dot, name = key.rpartition(".")
        section = section if dot else "common"
        if not name or "." in section:
            raise ParameterError(f"--set {item!r}: expected key=value or section.key=value")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except (yaml.YAMLError, ValueError):  # e.g. an impossible date: keep the text
            value = text
        merged.setdefault(section, {})[name] = _normalise(value)
    return merged


def notebook_declared_parameters(path: Path) -> dict[str, Any]:
    """Parameters of a notebook's ``parameters`` cell with their default values.

    The cell is parsed with Python's own parser (papermill's line-based reader skips lines
    whose comment holds an ``=``). Defaults that are not literals come back as ``...`` (any
    type accepted).
    """
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as exc:  # unreadable JSON or not a notebook
        raise ParameterError(f"{path}: cannot read the notebook ({exc})") from exc
    cells = [
        cell
        for cell in notebook.cells
        if cell.get("cell_type") == "code" and "parameters" in cell.metadata.get("tags", [])
    ]
    if not cells:
        raise ParameterError(f"{path}: no cell tagged 'parameters' (papermill cannot inject)")
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError as exc:
        raise ParameterError(f"{path}: parameters cell line {exc.lineno}: {exc.msg}") from exc
    declared: dict[str, Any] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    declared[target.id] = ast.literal_eval(value) if value is not None else None
                except ValueError:
                    declared[target.id] = ...
    return declared


def _type_rule(default: Any) -> tuple[Callable[[Any], bool], str] | None:
    """The type check a notebook default implies, with its wording (None: anything goes)."""
    if default is None or default is ...:
        return None
    if isinstance(default, bool):
        return (lambda v: isinstance(v, bool)), "true or false"
    if isinstance(default, int):
        return (lambda v: isinstance(v, int) and not isinstance(v, bool)), "an integer"
    if isinstance(default, float):
        return (lambda v: isinstance(v, int | float) and not isinstance(v, bool)), "a number"
    if isinstance(default, str):
        return (lambda v: isinstance(v, str)), "a string"
    if isinstance(default, list | tuple):
        return (lambda v: isinstance(v, list)), "a list"
    if isinstance(default, dict):
        return (lambda v: isinstance(v, dict)), "a mapping"
    return None


def check_parameter(notebook: str, name: str, value: Any, default: Any) -> Any:
    """``value`` must have the type of the notebook's default; dates must be ISO dates."""
    rule = _type_rule(default)
    if rule is not None and not rule[0](value):
        raise ParameterError(
            f"parameter {notebook}.{name} = {value!r}: must be {rule[1]} "
            f"(the notebook's default is {default!r})"
        )
    if name == "cutoff" or name.endswith("_date"):
        check_date(f"{notebook}.{name}", value)
    return value


def check_options(options: Mapping[str, Any]) -> None:
    """Raise ParameterError for an unknown or ill-typed ``pipeline`` option."""
    for key, value in options.items():
        if key not in PIPELINE_OPTIONS:
            raise ParameterError(
                f"unknown pipeline option {key!r} (known: {', '.join(PIPELINE_OPTIONS)})"
            )
        if key == "continue_on_error" and not isinstance(value, bool):
            raise ParameterError(f"pipeline.continue_on_error = {value!r}: must be true or false")
        if key in ("keep", "cell_timeout") and value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"pipeline.{key} = {value!r}: must be a positive integer")


def resolve_parameter_set(
    raw: dict[str, Any], notebooks_dir: str | os.PathLike[str] | None = None
) -> ParameterSet:
    """Check a raw parameter set against the notebooks and merge common and notebook sections.

    Raises ParameterError naming the first bad key: an unknown section or notebook, a key no
    notebook declares, a runner-owned key, a wrong type, a bad date or a bad pipeline option.
    """
    folder = Path(notebooks_dir) if notebooks_dir else config.NOTEBOOKS_DIR
    mapping = raw.get("notebooks") or DEFAULT_NOTEBOOKS
    notebooks: dict[str, Path] = {}
    for name, file_name in mapping.items():
        if not isinstance(file_name, str) or not file_name.endswith(".ipynb"):
            raise ParameterError(f"notebooks.{name} = {file_name!r}: must be an .ipynb file name")
        path = folder / file_name
        if not path.is_file():
            raise ParameterError(f"notebook {name!r}: {path} not found")
        notebooks[name] = path
    known_sections = (*RESERVED_SECTIONS, *notebooks)
    for section in raw:
        if section not in known_sections:
            raise ParameterError(
                f"unknown notebook or section {section!r} (known: {', '.join(known_sections)})"
            )
    options = dict(raw.get("pipeline") or {})
    check_options(options)

    declared = {name: notebook_declared_parameters(path) for name, path in notebooks.items()}
    common = raw.get("common") or {}
    for key in list(common) + [k for n in notebooks for k in raw.get(n, {})]:
        if key in RUNNER_PARAMETERS:
            raise ParameterError(f"parameter {key!r} is set by the runner, not a parameter set")
    for key in common:
        if not any(key in params for params in declared.values()):
            raise ParameterError(
                f"parameter common.{key}: no notebook declares it "
                f"(notebooks: {', '.join(notebooks)})"
            )
    resolved: dict[str, dict[str, Any]] = {}
    for name, params in declared.items():
        values = {key: value for key, value in common.items() if key in params}
        for key, value in (raw.get(name) or {}).items():
            if key not in params:
                raise ParameterError(
                    f"parameter {name}.{key}: not a parameter of {notebooks[name].name} "
                    f"(declared: {', '.join(sorted(params))})"
                )
            values[key] = value
        for key, value in values.items():
            check_parameter(name, key, value, params[key])
        resolved[name] = values
    stems = [path.stem for path in notebooks.values()]
    output_stems = {
        name: path.stem if stems.count(path.stem) == 1 else f"{path.stem}.{name}"
        for name, path in notebooks.items()
    }
    return ParameterSet(
        raw=raw,
        notebooks=notebooks,
        notebook_parameters=resolved,
        options=options,
        output_stems=output_stems,
        declared=declared,
    )


def data_settings(params: ParameterSet) -> DataSettings | None:
    """The synthetic dataset and processed tables the notebooks read (None: no notebook does).

    Raises ParameterError when two notebooks ask for different synthetic datasets.
    """
    effective = {name: params.effective(name) for name in params.notebook_parameters}
    synthetic = {
        name: values
        for name, values in effective.items()
        if values.get("data_source", "synthetic") == "synthetic"
    }
    if not synthetic:
        return None
    first = next(iter(synthetic.values()))
    dataset = {
        "n_customers": first.get("n_customers", defaults.N_CUSTOMERS),
        "seed": first.get("seed", defaults.SEED),
        "cutoff": first.get("cutoff", defaults.CUTOFF),
    }
    for values in synthetic.values():
        for key in ("n_customers", "seed"):
            if key in values and values[key] != dataset[key]:
                raise ParameterError(
                    f"parameter {key}: notebooks ask for different synthetic datasets "
                    f"({dataset[key]!r} and {values[key]!r}); set it under common"
                )
    # Horizons of the processed tables follow the model notebooks' parameters.
    conversion = synthetic.get("conversion", {})
    churn = synthetic.get("churn", {})
    tables = {
        "conversion_horizon_days": conversion.get("horizon_days"),
        "churn_horizon_days": churn.get("horizon_days"),
        "lookback_days": churn.get("lookback_days"),
        # the processed tables must pass the gate the notebooks apply, not a stricter one
        "min_class_count": min(
            (v["min_class_count"] for v in synthetic.values() if "min_class_count" in v),
            default=None,
        ),
        "engine": conversion.get("engine") or churn.get("engine"),
    }
    return DataSettings(**dataset, **{k: v for k, v in tables.items() if v is not None})
