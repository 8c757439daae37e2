"""What `feeds run`'s jobs do: a poll of one source, a rebuild. Nothing but calls into the
poll functions and the pipeline, each under the writers' lock; feeds/scheduler.py decides
when they run.

A poll by name is always carried out (that is how `feeds fetch NAME` retries a gone
source), so the daemon asks the polling policy first and skips a source that is not due
(backing off, Retry-After, gone), reporting when it will be.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from feeds.errors import FeedsError
from feeds.merge.store import Store
from feeds.model import Source
from feeds.pipeline import BuildReport, build
from feeds.publish.lock import WriterLock
from feeds.scheduler import Polled
from feeds.settings import Settings
from feeds.sources import policy
from feeds.sources.catalog import load_catalog
from feeds.sources.poll import UPDATED, poll_sources, state_for

log = logging.getLogger("feeds.run")


class PipelineWork:
    """The daemon's `Work`: one shared store, one lock, and a cancel event for shutdown."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        sources: Sequence[Source],
        lock: WriterLock,
        *,
        wait: float,
        cancel: threading.Event,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sources = tuple(sources)
        self.lock = lock
        self.wait = wait
        self.cancel = cancel

    def poll(self, name: str) -> Polled:
        source = next(source for source in self.sources if source.name == name)
        state = state_for(self.store, source)
        if not policy.is_due(state, datetime.now(UTC)):
            when = state.next_poll.isoformat(timespec="seconds") if state.next_poll else "never"
            line = f"poll {name}: not due (next {when})"
            return Polled(False, line, state.next_poll, skipped=True)
        with self.lock.hold(self.wait, "feeds run: poll", cancel=self.cancel):
            (result,) = poll_sources(self.settings, self.store, self.sources, names=[name])
        return Polled(result.status == UPDATED, f"poll {result.line()}", result.next_poll)

    def due_at(self, name: str) -> datetime | None:
        source = next(source for source in self.sources if source.name == name)
        return state_for(self.store, source).next_poll

    def rebuild(self) -> str:
        with self.lock.hold(self.wait, "feeds run: rebuild", cancel=self.cancel):
            # Offline: polls happen in their own jobs, each at its source's interval.
            report = build(self.settings, offline=True, store=self.store)
        for error in problems(report):
            log.warning("%s", error)
        return "rebuild: " + describe(report)

    def read_sources(self) -> tuple[Source, ...]:
        """sources/*.toml read again (an edit of `feeds run`'s sources takes effect); a file
        with errors is reported and its sources left out, as a build does."""
        catalog = load_catalog(self.settings.sources, self.settings.timezone)
        for error in catalog.errors:
            log.error("%s", error)
        self.sources = catalog.enabled
        return catalog.enabled

    def first_build(self, *, strict: bool = False) -> BuildReport:
        with self.lock.hold(self.wait, "feeds run: build", cancel=self.cancel):
            report = build(self.settings, strict=strict, store=self.store)
        for result in report.polls:
            log.info("poll %s", result.line())
        return report


def problems(report: BuildReport) -> list[FeedsError]:
    """Every error of a build but those of its polls, which their poll lines already show."""
    polled = {id(result.error) for result in report.polls}
    errors = [*report.rejected, *report.source_errors, *report.write.errors]
    return [error for error in errors if id(error) not in polled]


def describe(report: BuildReport) -> str:
    """The rebuild line: what was rewritten, what kept its bytes, and problems by count."""
    write = report.write
    count = len(problems(report))
    text = (
        f"{len(write.written)} rewritten, {len(write.unchanged)} unchanged, "
        f"{len(write.removed)} removed, {report.seconds:.2f} s"
    )
    return text + (f"; {count} problems" if count else "")
