"""Resident memory of a process and all its descendants (a Spark JVM, kernels, workers)."""

from __future__ import annotations

import psutil


def tree_rss(pid: int | None = None) -> int:
    """Bytes resident in process ``pid`` (default: this one) and its descendants; 0 if gone."""
    try:
        parent = psutil.Process(pid)
        total = parent.memory_info().rss
    except psutil.Error:
        return 0
    for child in parent.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            continue
    return total
