"""Process pools: how many workers, how they start, and forking without copying the heap.

Shared by the article pool (normalize/batch.py), the poller's parse pool
(sources/parse_pool.py) and the forked writers (publish/write.py).
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


@contextlib.contextmanager
def frozen_heap(context: BaseContext) -> Iterator[None]:
    """Around forking workers: the objects this process has are frozen (gc.freeze), so a
    worker's garbage collector does not walk them, touching every page of the inherited
    heap and so copying it (copy-on-write) into each worker."""
    if context.get_start_method() != "fork":
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def pool_workers() -> int:
    """One worker per core, up to 8."""
    return min(os.cpu_count() or 1, 8)


def pool_context() -> BaseContext:
    """How a pool made now should start its workers: forked when this process has a single
    thread (the CLI), from a fork server otherwise (the daemon has threads, and forking them
    is unsafe)."""
    import multiprocessing  # local: a build that needs no pool never loads it

    method = "fork" if threading.active_count() == 1 else "forkserver"
    return multiprocessing.get_context(method)
