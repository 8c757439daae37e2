"""Run one command and measure it: wall time, peak memory, and what it did to a folder.

Peak memory is the larger of two readings, so a build that forks workers is not flattered:
- ru_maxrss of the child from wait4 (its own peak, or its largest descendant's);
- the sum of PSS (proportional set size, so pages shared after fork count once) over the
  child and its descendants, sampled every 50 ms from /proc (reading it costs CPU too).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stderr: str


def run(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    # What earlier runs (of either tool) left to write goes to disk first: no run pays for
    # another's writeback (our writer's syncfs would flush Hugo's output along with ours).
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sampler = Sampler(process.pid)
    sampler.start()
    # Read stderr in a thread: a chatty child must never block on a full pipe.
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(process.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop()
    reader.join()
    peak = max(usage.ru_maxrss / 1024, sampler.peak_kb / 1024)
    return Run(seconds, peak, process.returncode, b"".join(chunks).decode(errors="replace"))


class Sampler(threading.Thread):
    """Samples the summed PSS of a process tree until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        while not self._done.is_set():
            total = sum(_pss_kb(pid) for pid in _tree(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            self._done.wait(0.05)


def _tree(root: int) -> list[int]:
    found = [root]
    index = 0
    while index < len(found):
        # A child forked by any thread of the process is listed under that thread; the
        # process may be gone by now.
        try:
            tasks = list(Path(f"/proc/{found[index]}/task").glob("*/children"))
        except OSError:
            tasks = []
        for task in tasks:
            try:
                found.extend(int(pid) for pid in task.read_text().split())
            except (OSError, ValueError):
                continue
        index += 1
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under `folder` with (inode, size, mtime_ns): an atomic rewrite changes it."""
    found: dict[str, tuple[int, int, int]] = {}
    if not folder.is_dir():
        return found
    for directory, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(directory, name)
            stat = os.stat(path)
            found[os.path.relpath(path, folder)] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return found


def changed(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """Paths written, added or removed between two snapshots."""
    paths = set(before) | set(after)
    return sorted(path for path in paths if before.get(path) != after.get(path))
