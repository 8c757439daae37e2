"""Flushing many files to disk at once: Linux's syncfs(2) and sync_file_range(2), which
Python's os module lacks, called through ctypes. Where they are missing (not Linux, no C
library to load), `available()` is False and callers flush file by file with os.fsync.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache

_WRITE = 2  # SYNC_FILE_RANGE_WRITE: start writing the dirty pages out, do not wait


def available() -> bool:
    return _calls() is not None


def start_writeback(handle: int) -> None:
    """Start writing this file's data to disk now, without waiting for it: the disk works
    while the next files are rendered, and the flush of the batch finds little left to do.
    Errors are left to that flush to report."""
    calls = _calls()
    if calls is not None:
        calls[1](handle, 0, 0, _WRITE)


def sync_all(handle: int) -> None:
    """Flush everything written to the filesystem holding `handle` (an OSError when that
    fails: since Linux 5.8 this includes write errors since `handle` was opened)."""
    calls = _calls()
    if calls is None:
        raise OSError(0, "syncfs is not available here")
    if calls[0](handle) != 0:
        import ctypes

        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


@lru_cache(maxsize=1)
def _calls() -> tuple[Callable[[int], int], Callable[[int, int, int, int], int]] | None:
    try:
        import ctypes  # local: only large batches need it

        libc = ctypes.CDLL(None, use_errno=True)
        syncfs, sync_file_range = libc.syncfs, libc.sync_file_range
    except (ImportError, OSError, AttributeError):
        return None
    syncfs.argtypes = (ctypes.c_int,)
    syncfs.restype = ctypes.c_int
    sync_file_range.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    sync_file_range.restype = ctypes.c_int
    return syncfs, sync_file_range
