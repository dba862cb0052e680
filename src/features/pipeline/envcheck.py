"""Environment check: every package the lab needs imports, and the notebook kernel runs.

Run ``python -m features.envcheck``; it prints one line per package with its version, starts the
``python3`` kernel once and evaluates ``1+1``, and exits non-zero with a message naming what
is missing. The pipeline runs it first so a broken environment fails in seconds, not after
the data step.

May import the foundation modules and ``features.reports.execute`` (inside ``check_kernel``);
the pipeline's steps and the ``features.envcheck`` entry point import it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
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


def check_kernel(kernel_name: str = KERNEL_NAME, timeout: float = 120.0) -> float:
    """Start ``kernel_name`` as notebooks get it, run ``1+1`` and check it plots inline.

    Returns the seconds it took. The kernel gets the notebooks' environment (see
    ``features.reports.execute``); its own stderr is kept and shown only if it fails.
    """
    # Imported here, after the package check: a broken jupyter_client or papermill must be
    # reported by run_checks, not crash the check at import time.
    from features.reports.execute import IpcKernelManager, kernel_environment

    started = time.perf_counter()
    manager = IpcKernelManager(kernel_name=kernel_name, transport="ipc")
    with tempfile.TemporaryFile("w+") as kernel_stderr:
        try:
            with kernel_environment():
                manager.start_kernel(stderr=kernel_stderr)
            client = manager.client()
            client.start_channels()
            client.wait_for_ready(timeout=timeout)
        except Exception as exc:
            kernel_stderr.seek(0)
            detail = kernel_stderr.read().strip().splitlines()[-1:] or [""]
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
            raise EnvironmentCheckError(
                f"kernel {kernel_name!r} did not start: {type(exc).__name__}: {exc} {detail[0]}"
            ) from exc
        try:
            results: list[str] = []

            def keep_result(message: dict) -> None:
                if message["header"]["msg_type"] == "execute_result":
                    results.append(message["content"]["data"].get("text/plain", ""))

            # The kernel must see the project's package and plot inline, or every notebook
            # would fail or render without figures.
            reply = client.execute_interactive(
                "import features, matplotlib\n(1+1, 'inline' in matplotlib.get_backend())",
                timeout=timeout,
                store_history=False,
                output_hook=keep_result,
            )
            content = reply["content"]
            if content.get("status") != "ok" or results != ["(2, True)"]:
                raise EnvironmentCheckError(
                    f"kernel {kernel_name!r} failed to run 1+1 with an inline matplotlib backend "
                    f"after importing features: {content.get('ename')}: {content.get('evalue')} "
                    f"(output {results}; (2, False) means a non-inline backend)"
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
