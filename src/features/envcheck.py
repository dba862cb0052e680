"""Environment check: every package the lab needs imports, and the notebook kernel runs.

Run ``python -m features.envcheck``; it prints one line per package with its version, starts the
``python3`` kernel once and evaluates ``1+1``, and exits non-zero with a message naming what
is missing. The pipeline runs it first so a broken environment fails in seconds, not after
the data step.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from dataclasses import dataclass
from importlib import metadata

KERNEL_NAME = "python3"
# import name -> distribution name (for the version shown)
REQUIRED_PACKAGES = {
    "jupyterlab": "jupyterlab",
    "pandas": "pandas",
    "numpy": "numpy",
    "pyarrow": "pyarrow",
    "sklearn": "scikit-learn",
    "lightgbm": "lightgbm",
    "shap": "shap",
    "matplotlib": "matplotlib",
    "seaborn": "seaborn",
    "papermill": "papermill",
    "nbval": "nbval",
    "mlflow": "mlflow",
    "ipykernel": "ipykernel",
    "nbconvert": "nbconvert",
    "duckdb": "duckdb",
    "yaml": "pyyaml",
}


class EnvironmentCheckError(RuntimeError):
    """A required package or the notebook kernel is unusable."""


@dataclass(frozen=True)
class PackageStatus:
    """Outcome of importing one package."""

    import_name: str
    distribution: str
    version: str | None
    error: str | None


def check_package(import_name: str, distribution: str) -> PackageStatus:
    """Import ``import_name`` and read the installed version of ``distribution``."""
    try:
        module = importlib.import_module(import_name)
    except Exception as exc:  # any import-time failure makes the package unusable
        return PackageStatus(import_name, distribution, None, f"{type(exc).__name__}: {exc}")
    try:
        version = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        version = str(getattr(module, "__version__", "unknown"))
    return PackageStatus(import_name, distribution, version, None)


def package_versions(packages: dict[str, str] | None = None) -> dict[str, str]:
    """Installed versions of ``packages`` (distribution -> version, "missing" if absent)."""
    versions = {"python": sys.version.split()[0]}
    for distribution in (packages or REQUIRED_PACKAGES).values():
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[distribution] = "missing"
    return versions


def check_kernel(kernel_name: str = KERNEL_NAME, timeout: float = 60.0) -> float:
    """Start ``kernel_name`` once, evaluate ``1+1`` and return the seconds it took."""
    from jupyter_client.manager import start_new_kernel

    started = time.perf_counter()
    try:
        manager, client = start_new_kernel(kernel_name=kernel_name, startup_timeout=timeout)
    except Exception as exc:
        raise EnvironmentCheckError(
            f"kernel {kernel_name!r} did not start: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        results: list[str] = []

        def keep_result(message: dict) -> None:
            if message["header"]["msg_type"] == "execute_result":
                results.append(message["content"]["data"].get("text/plain", ""))

        # The kernel must also see the project's package, or every notebook would fail.
        reply = client.execute_interactive(
            "import features\n1+1", timeout=timeout, store_history=False, output_hook=keep_result
        )
        content = reply["content"]
        if content.get("status") != "ok" or results != ["2"]:
            raise EnvironmentCheckError(
                f"kernel {kernel_name!r} failed to run 1+1 after importing features: "
                f"{content.get('ename')}: {content.get('evalue')} (output {results})"
            )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return time.perf_counter() - started


def run_checks(
    packages: dict[str, str] | None = None,
    kernel_name: str | None = KERNEL_NAME,
    echo: bool = True,
) -> dict[str, str]:
    """Import every package and start the kernel; return versions or raise naming the failures."""
    statuses = [check_package(name, dist) for name, dist in (packages or REQUIRED_PACKAGES).items()]
    if echo:
        for status in statuses:
            shown = status.version if status.error is None else f"FAILED ({status.error})"
            print(f"  {status.distribution:<14} {shown}")
    failed = [s for s in statuses if s.error is not None]
    if failed:
        names = ", ".join(f"{s.import_name} ({s.error})" for s in failed)
        raise EnvironmentCheckError(
            f"cannot import: {names}; reinstall with `make venv` (requirements.lock)"
        )
    versions = {"python": sys.version.split()[0]}
    versions.update({s.distribution: str(s.version) for s in statuses})
    if kernel_name:
        seconds = check_kernel(kernel_name)
        if echo:
            print(f"  kernel {kernel_name!r} ran 1+1 in {seconds:.1f} s")
    return versions


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: exit 0 when the environment is usable, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-kernel", action="store_true", help="skip the kernel start")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]} at {sys.executable}")
    try:
        run_checks(kernel_name=None if args.no_kernel else KERNEL_NAME)
    except EnvironmentCheckError as exc:
        print(f"environment check failed: {exc}", file=sys.stderr)
        return 1
    print("environment OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
