"""The writers' lock: one process at a time writes the store and out/.

`feeds build`, `feeds fetch` and each rebuild or poll of `feeds run` hold it, so a build from
cron never interleaves its writes with the daemon's. It is `flock(2)` on a file next to the
store (never in out/, so it is never served): the kernel drops it when the holder dies, so a
crashed build leaves nothing to clean up. The holder writes its pid and command into the file
so the process that gives up can say who has it.

flock locks belong to an open file, so two threads of one process that each open the file
exclude each other too; a `threading.Lock` in front lets the daemon's threads queue without
polling.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from feeds.errors import LockError

POLL_SECONDS = 0.05


def lock_path(store: Path) -> Path:
    """`.feeds/state.db` -> `.feeds/state.db.lock`."""
    return store.with_name(store.name + ".lock")


class WriterLock:
    """The lock on one store and its output folder; share one instance between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def hold(
        self, wait: float, who: str = "feeds", *, cancel: threading.Event | None = None
    ) -> Iterator[None]:
        """Hold the lock for the `with` block; wait at most `wait` seconds, then LockError.

        Setting `cancel` makes a waiting caller give up at once (the daemon shutting down).
        """
        deadline = time.monotonic() + max(wait, 0.0)
        self._wait(lambda: self._threads.acquire(timeout=POLL_SECONDS), deadline, wait, cancel)
        try:
            handle = self._open()
            try:
                self._wait(lambda: _try_flock(handle), deadline, wait, cancel)
                _note_holder(handle, who)
                yield
            finally:
                handle.close()  # closing the file releases the flock
        finally:
            self._threads.release()

    def _open(self) -> TextIO:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # "a+" creates the file without truncating what the holder wrote.
            return self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise LockError(str(self.path), f"cannot open lock file: {exc.strerror}") from None

    def _wait(
        self,
        attempt: Callable[[], bool],
        deadline: float,
        wait: float,
        cancel: threading.Event | None,
    ) -> None:
        while not attempt():
            if cancel is not None and cancel.is_set():
                raise LockError(str(self.path), "gave up waiting for the lock: shutting down")
            if time.monotonic() >= deadline:
                raise self._busy(wait)

    def _busy(self, wait: float) -> LockError:
        holder = holder_of(self.path)
        who = f" ({holder})" if holder else ""
        return LockError(
            str(self.path),
            f"another feeds process{who} holds the lock; gave up after {wait:g} s",
        )


def _try_flock(handle: TextIO) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        time.sleep(POLL_SECONDS)
        return False
    return True


def _note_holder(handle: TextIO, who: str) -> None:
    with contextlib.suppress(OSError):
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {who}\n")
        handle.flush()


def holder_of(path: Path) -> str:
    """What the current holder wrote into the lock file ("pid 123, feeds run"), or ""."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
