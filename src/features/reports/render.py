"""Render an executed notebook to HTML twice: full (code, logs) and business (a report).

Both renderings are self-contained: figures are embedded as ``data:image/png`` (nbconvert does
it for ``image/png`` outputs), so a report mailed as one file still shows its pictures.

The business rendering reads as a report, not a log. Cell tags in the notebooks steer it:

- ``headline``: moved to the top, right after the title (what was found, with key figures);
- ``report-skip``: left out (debug output such as output folders, parameter objects).

It also drops code, prompts, stderr streams (warnings stay in the full rendering) and the
parameter cells, and ends with a short "How this was run" section built from papermill's
record of the parameters (folders and the tracking URI of the machine left out).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from features.io import write_text

HEADLINE_TAG = "headline"
SKIP_TAG = "report-skip"
PARAMETER_TAGS = ("parameters", "injected-parameters")
# Parameters that name places on the machine that ran the notebook: not for business readers.
MACHINE_PARAMETERS = ("output_dir", "mlflow_tracking_uri")


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def render_full(notebook: nbformat.NotebookNode) -> str:
    """Everything: code, outputs, warnings."""
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return body


def _format_parameter(value: Any) -> str:
    """A parameter for the reader: absolute paths (alone or in a list) as file names only."""
    if isinstance(value, str) and os.path.isabs(value):
        return Path(value).name
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_format_parameter(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _code_cell(text: str) -> str:
    """``text`` as a code span in a markdown table cell (the renderer escapes HTML itself)."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text.replace('|', chr(92) + '|')}{fence}"


def how_it_was_run(notebook: nbformat.NotebookNode) -> str:
    """Markdown: the parameters of the run (without machine paths), when and how long."""
    meta = notebook.metadata.get("papermill", {}) or {}
    parameters = dict(meta.get("parameters") or {})
    lines = ["## How this was run", ""]
    shown = {k: v for k, v in parameters.items() if k not in MACHINE_PARAMETERS}
    if shown:
        lines += ["| parameter | value |", "|---|---|"]
        lines += [
            f"| `{name}` | {_code_cell(_format_parameter(value))} |"
            for name, value in shown.items()
        ]
        lines.append("")
    else:
        lines.append("The notebook's default parameters.")
        lines.append("")
    started, duration = meta.get("start_time"), meta.get("duration")
    if started:
        when = str(started)[:19].replace("T", " ")
        took = f", {float(duration):.0f} s" if isinstance(duration, int | float) else ""
        lines.append(f"Executed with papermill, started {when} UTC{took}.")
    lines.append(
        "The full rendering beside this file shows the code, the logs and every intermediate table."
    )
    return "\n".join(lines)


def business_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy shaped as a report: headline first, no debug or parameter cells, no stderr."""
    clean = copy.deepcopy(notebook)
    headline, rest = [], []
    for cell in clean.cells:
        tags = _tags(cell)
        if SKIP_TAG in tags or any(tag in tags for tag in PARAMETER_TAGS):
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                out
                for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
            ]
            if not cell["outputs"]:
                continue
        (headline if HEADLINE_TAG in tags else rest).append(cell)
    title = [rest.pop(0)] if rest and rest[0].get("cell_type") == "markdown" else []
    clean.cells = [*title, *headline, *rest, nbformat.v4.new_markdown_cell(how_it_was_run(clean))]
    return clean


def render_business(notebook: nbformat.NotebookNode) -> str:
    """The report for business readers: outputs only, headline first."""
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True)
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(business_notebook(notebook))
    return body


def render_notebook(
    executed: str | os.PathLike[str], html_dir: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write ``<stem>.html`` and ``<stem>.business.html`` for an executed notebook (atomically)."""
    source = Path(executed)
    notebook = nbformat.read(source, as_version=4)
    folder = Path(html_dir)
    full = write_text(render_full(notebook), folder / f"{source.stem}.html")
    business = write_text(render_business(notebook), folder / f"{source.stem}.business.html")
    for path in (full, business):
        os.chmod(path, 0o644)  # reports are shared
    return full, business
