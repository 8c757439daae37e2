"""A progress bar on stderr for long builds, shown only when a person watches a terminal.

Cron, CI and pipes get no bar (stderr is not a TTY), and short builds get none either: they
end before a bar could say anything, and it would only flicker over the summary line.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Never, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

LONG = 200  # articles: fewer are read in about a second


class ProgressBar:
    """A `pipeline.Progress` callable: (article number, articles in all) -> bar on stderr."""

    def __init__(self, stream: TextIO | None = None, threshold: int = LONG) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.threshold = threshold
        self.bar: tqdm[Never] | None = None
        self.tty: bool | None = None  # asked once: isatty() is a system call

    def __call__(self, done: int, total: int) -> None:
        bar = self.bar
        if bar is None:
            if total <= self.threshold:
                return
            if self.tty is None:
                self.tty = self.stream.isatty()
            if not self.tty:
                return
            from tqdm import tqdm  # here: most builds show no bar, and tqdm takes 20 ms to load

            # No monitor thread: a build forks its workers only while it has one thread
            # (normalize/batch.py, publish/write.py), and the bar is updated often anyway.
            tqdm.monitor_interval = 0
            bar = self.bar = tqdm(total=total, unit="article", file=self.stream, leave=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
