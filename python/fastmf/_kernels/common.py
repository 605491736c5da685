"""Threads (cpp/common.hpp): how many threads the kernels start."""
from __future__ import annotations

from .. import _core


def max_threads() -> int:
    """The threads ``num_threads=0`` gives a kernel (OpenMP's default, capped)."""
    return _core.max_threads()


def thread_cap() -> int:
    """The most threads a kernel starts: 4 per core, at least 64."""
    return _core.thread_cap()
