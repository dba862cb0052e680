"""Repository quality gates: lint, clean notebooks, no large files, one dependency list."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from features import config

ROOT = config.PROJECT_ROOT
MAX_TRACKED_BYTES = 1_000_000
LARGE_FILE_FOLDERS = ("data/raw/", "data/processed/")


def _tracked_files() -> list[str]:
    result = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.skip("not a git checkout")
    return [name for name in result.stdout.split("\0") if name]


def _requirement_names_and_pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        pins[re.sub(r"[-_.]+", "-", name.lower())] = version
    return pins


def test_ruff_passes_on_python_and_notebooks() -> None:
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_committed_notebooks_have_no_outputs() -> None:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in notebooks:
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            assert not cell.get("outputs"), f"{path.name} cell {index} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {index} has a count"
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"


def test_notebook_file_names_follow_convention() -> None:
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


def test_no_large_files_tracked_outside_data_folders() -> None:
    too_big = [
        name
        for name in _tracked_files()
        if (ROOT / name).is_file()
        and (ROOT / name).stat().st_size > MAX_TRACKED_BYTES
        and not name.startswith(LARGE_FILE_FOLDERS)
    ]
    assert not too_big, f"tracked files over 1 MB: {too_big}"


def test_generated_outputs_are_not_tracked() -> None:
    generated = [
        name
        for name in _tracked_files()
        if name.startswith(("data/raw/", "data/processed/", "reports/", "mlflow/"))
        and not name.endswith("README.md")
    ]
    assert not generated, generated


def test_environment_yml_matches_requirements() -> None:
    requirements = _requirement_names_and_pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section
    conda_pins = _requirement_names_and_pins([p for p in pip_section if p != "-e ."])
    assert conda_pins == requirements


def test_requirements_agree_with_lock_file() -> None:
    requirements = _requirement_names_and_pins((ROOT / "requirements.txt").read_text().splitlines())
    lock = _requirement_names_and_pins((ROOT / "requirements.lock").read_text().splitlines())
    mismatched = {n: (v, lock.get(n)) for n, v in requirements.items() if lock.get(n) != v}
    assert not mismatched, f"requirements.txt pins differ from requirements.lock: {mismatched}"


def test_package_imports_from_any_working_directory(tmp_path: Path) -> None:
    code = "import features, features.config as c; print(c.PROJECT_ROOT)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert Path(result.stdout.strip()) == ROOT


def test_importing_the_package_creates_nothing(tmp_path: Path) -> None:
    code = (
        "import features, features.config, features.io, features.params, features.schema\n"
        "import os; print(sorted(os.listdir('.')))"
    )
    env = {"NEV_LAB_DATA_ROOT": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_paths_follow_environment_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(config.DATA_ROOT_ENV, str(tmp_path / "d"))
    monkeypatch.setenv(config.TRACKING_URI_ENV, f"sqlite:///{tmp_path / 'm' / 'x.db'}")
    monkeypatch.delenv(config.ARTIFACTS_DIR_ENV, raising=False)
    assert config.raw_dir() == tmp_path / "d" / "raw"
    assert config.processed_dir() == tmp_path / "d" / "processed"
    assert config.mlflow_artifacts_dir() == tmp_path / "m" / "artifacts"
    monkeypatch.delenv(config.TRACKING_URI_ENV)
    assert config.tracking_uri() == f"sqlite:///{ROOT / 'mlflow' / 'mlflow.db'}"


def test_every_output_folder_has_a_readme() -> None:
    for folder in ("data/raw", "data/processed", "reports", "mlflow", "benchmarks", "conf"):
        assert (ROOT / folder / "README.md").is_file(), folder


def test_makefile_targets_have_help_lines() -> None:
    text = (ROOT / "Makefile").read_text()
    for target in ("help", "run", "test", "lint", "lab", "mlflow-ui", "scheduled-run"):
        assert re.search(rf"^{re.escape(target)}:.*## ", text, re.M), target
    assert ".DEFAULT_GOAL := help" in text
    for script in re.findall(r"\b(benchmarks/\S+\.py)", text):
        assert (ROOT / script).is_file(), f"Makefile calls missing {script}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "make test" in (ROOT / "README.md").read_text()


def test_no_kernel_is_started_with_a_non_inline_matplotlib_backend() -> None:
    # MPLBACKEND=Agg in the environment of `make lab`, `make run` or the tests would reach every
    # kernel and hide every figure; headless safety belongs to the runner, not the kernels.
    for name in ("Makefile", "conftest.py", ".ci/run"):
        text = (ROOT / name).read_text()
        assert not re.search(r"MPLBACKEND\s*[?:]?=|setdefault\(\s*['\"]MPLBACKEND", text), name
    # JupyterLab's kernels inherit its environment: `make lab` drops a user's MPLBACKEND
    assert "env -u MPLBACKEND $(BIN)/jupyter lab" in (ROOT / "Makefile").read_text()
    for path in sorted((ROOT / "tests" / "notebooks").rglob("*.py")):
        text = path.read_text()
        assert not re.search(r"setenv\(\s*['\"]MPLBACKEND", text), f"{path} sets MPLBACKEND"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        first = "".join(cells[0]["source"])
        assert first.startswith("%matplotlib inline"), f"{path.name}: first code cell"
