"""Execute a notebook with papermill the same way everywhere: pipeline, tests, benchmarks.

The kernel plots inline whatever the caller's environment says (``MPLBACKEND`` is removed from
the kernel's environment; headless safety belongs to the calling process), talks over IPC
sockets (no "running over TCP without encryption" warning) and writes its own stderr (kernel
start-up and shutdown messages, "KeyboardInterrupt caught in kernel") to a log file instead of
the caller's console. Python warnings raised by cells still reach the notebook's outputs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import papermill
from jupyter_client.manager import AsyncKernelManager, KernelManager
from traitlets import Unicode
from traitlets.config import Config

KERNEL_NAME = "python3"
# Seconds a kernel may take to start: on a loaded 2-core machine 60 s (the default) is too few.
KERNEL_START_TIMEOUT = 120
# Environment variables a kernel must not inherit: a non-inline backend hides every figure.
KERNEL_ENV_BLOCKLIST = ("MPLBACKEND",)


class UniqueIpcMixin:
    """IPC socket files under the temp folder with a unique name per kernel.

    jupyter_client's default IPC name is ``kernel-ipc`` relative to the working directory: two
    processes starting kernels in one folder would race for the same socket files.
    """

    def _ip_default(self) -> str:  # traitlets' dynamic default of the ``ip`` trait
        if getattr(self, "transport", "tcp") == "ipc":
            return os.path.join(tempfile.gettempdir(), f"nev-kernel-{uuid.uuid4().hex[:16]}")
        return super()._ip_default()  # type: ignore[misc]


class IpcKernelManager(UniqueIpcMixin, KernelManager):
    """Blocking kernel manager over IPC (used by the environment check)."""


class QuietKernelManager(UniqueIpcMixin, AsyncKernelManager):
    """A kernel manager whose kernel writes stderr to ``stderr_path`` (append) when set."""

    stderr_path = Unicode("", help="file receiving the kernel process's stderr").tag(config=True)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if self.stderr_path:
            Path(self.stderr_path).parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.stderr_path, "a")  # the kernel process keeps its own copy
            kw["stderr"] = handle
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                handle.close()  # the child keeps its own copy of the descriptor
        return await super()._async_launch_kernel(kernel_cmd, **kw)


def kernel_config(stderr_path: str | os.PathLike[str] | None = None) -> Config:
    """Traitlets config for nbclient: IPC transport, kernel stderr to ``stderr_path``."""
    config = Config()
    config.QuietKernelManager.transport = "ipc"
    if stderr_path:
        config.QuietKernelManager.stderr_path = str(stderr_path)
    return config


def kernel_options(stderr_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """papermill's kernel options shared by every run: the lab's kernel, its manager, config
    and start timeout."""
    return {
        "kernel_name": KERNEL_NAME,
        "kernel_manager_class": QuietKernelManager,
        "config": kernel_config(stderr_path),
        "start_timeout": KERNEL_START_TIMEOUT,
    }


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Remove the blocked variables from ``os.environ`` while a kernel starts (then restore)."""
    saved = {name: os.environ.pop(name) for name in KERNEL_ENV_BLOCKLIST if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def execute_notebook(
    source: str | os.PathLike[str],
    executed: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    kernel_log: str | os.PathLike[str] | None = None,
    timeout: int | None = None,
    progress_bar: bool = False,
    log_output: bool = False,
) -> Any:
    """Run ``source`` with ``parameters`` into ``executed``; raises on a failing cell.

    On failure papermill has already written ``executed`` with the traceback, so it can still
    be rendered. ``cwd`` defaults to the notebook's folder (as JupyterLab does).
    """
    source_path = Path(source)
    with kernel_environment():
        return papermill.execute_notebook(
            str(source_path),
            str(executed),
            parameters=dict(parameters or {}),
            cwd=str(cwd or source_path.parent),
            progress_bar=progress_bar,
            log_output=log_output,
            execution_timeout=timeout,
            **kernel_options(kernel_log),
        )
