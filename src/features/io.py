"""Atomic file writes, content hashes and inter-process file locks.

Every output is written to a temporary path in the destination folder and renamed into place,
so a crash or a bad input never leaves a half-written file behind. ``file_lock`` is the one
lock of the lab (MLflow store writes, the pipeline's data steps and scheduled runs).

Foundation module: imports nothing from ``features``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it onto ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes owner-only files
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_dir(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder; move it onto ``path`` only if the block succeeds.

    With ``overwrite`` an existing folder is replaced after the new one is complete.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_current_umask())  # mkdtemp makes owner-only folders
    try:
        yield tmp
        if target.exists():
            if not overwrite:
                raise FileExistsError(f"{target}: already exists")
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_parquet(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` to Parquet atomically (no index; deterministic bytes for equal frames)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    return Path(path)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as pretty, key-sorted JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
    return Path(path)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write ``text`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> Path:
    """Write ``df`` as UTF-8 CSV atomically (no index unless asked)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index)
    return Path(path)


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _HeldLock:
    """A lock file this process holds: the open file and how many blocks hold it."""

    thread_lock: threading.RLock = field(default_factory=threading.RLock)
    handle: IO[str] | None = None
    depth: int = 0


_LOCKS_GUARD = threading.Lock()
_LOCKS: dict[str, _HeldLock] = {}  # resolved lock path -> its state in this process


@contextmanager
def file_lock(
    path: str | os.PathLike[str], on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive fcntl lock on ``path`` for the block (the OS releases it on exit).

    Re-entrant within a thread; other threads of the process wait as other processes do. The
    holder's pid and host are written into the file; when another process holds the lock,
    ``on_wait`` gets that text before this call blocks.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _LOCKS_GUARD:
        held = _LOCKS.setdefault(str(target.resolve()), _HeldLock())
    with held.thread_lock:
        if held.depth == 0:
            held.handle = _acquire(target, on_wait)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.handle is not None:
                fcntl.flock(held.handle.fileno(), fcntl.LOCK_UN)
                held.handle.close()
                held.handle = None


def _acquire(path: Path, on_wait: Callable[[str], None] | None) -> IO[str]:
    """Open ``path`` and take its lock (blocking), then record this process as the holder."""
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                handle.seek(0)
                on_wait(handle.read().strip() or "another process")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
    except BaseException:
        handle.close()
        raise
    return handle
