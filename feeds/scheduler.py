"""`feeds run`'s clock: when to poll each upstream, look at seeds/ and rebuild. Timing only.

    poll:<name>  every source.interval (+ jitter), moved ─┐ new entries
                 to when the polling policy wants it     │
    seeds        every check_interval, when watch.py saw─┤ new, changed or deleted articles
                 a change (else every 60 s if watched)   │
    sources      every check_interval: sources/*.toml ───┤ poll jobs added, changed, removed
                 edited → read again                     │
                                                         ▼
    tick         every TICK: once the notices have been quiet for QUIET seconds (or the
                 first one is LONGEST old) and no rebuild runs, start one rebuild

What a poll or a rebuild does is `Work`'s business (feeds/jobs.py, through the pipeline and
the poll functions); this module only decides when. APScheduler 3 runs the jobs in threads:
`max_instances=1` keeps two polls of one source apart, `coalesce=True` folds missed runs
into one, and `misfire_grace_time=None` runs a late job instead of dropping it.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from stat import S_ISREG
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from feeds.errors import ConfigError, FeedsError, LockError
from feeds.model import Source
from feeds.sources.local import SUFFIXES
from feeds.watch import Watch, watch

log = logging.getLogger("feeds.run")

QUIET = 0.5  # seconds without a new notice before a rebuild starts
LONGEST = 5.0  # a steady stream of notices still gets a rebuild this often
TICK = 0.25
LOCAL = "local"  # executor for the seeds check, the tick and the rebuild: never behind polls
WATCHED = 60.0  # seconds between looks at seeds/ without an event while it is watched

Snapshot = Mapping[str, tuple[int, int]]  # article name -> (size, mtime_ns)


@dataclass(frozen=True, slots=True)
class Polled:
    """What one poll job reports back to the clock."""

    changed: bool  # new or changed entries: a rebuild is needed
    line: str  # the one line to log
    next_poll: datetime | None = None  # when the polling policy wants the next poll
    skipped: bool = False  # not due: logged only with --verbose


class Work(Protocol):
    """What the jobs do; the clock only calls them."""

    def poll(self, name: str) -> Polled: ...

    def due_at(self, name: str) -> datetime | None:
        """When the polling policy wants the next poll of `name` (None: no opinion)."""
        ...

    def rebuild(self) -> str:
        """Rebuild from seeds/ and the store; the line to log."""
        ...

    def read_sources(self) -> Sequence[Source]:
        """The sources as sources/*.toml says now (read again); later polls use them."""
        ...


def snapshot_seeds(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every article: enough to notice an edit without reading files.

    The same files as `list_articles` (a test keeps them in step), walked with os.walk and
    no Path objects: five times faster, which matters when it runs every few seconds over
    thousands of articles.
    """
    if not folder.is_dir():
        raise ConfigError(str(folder), "seeds folder does not exist")
    found: dict[str, tuple[int, int]] = {}
    for where, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        prefix = os.path.relpath(where, folder).replace(os.sep, "/")
        for name in files:
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            try:
                stat = os.stat(os.path.join(where, name))  # noqa: PTH116, PTH118 - see above
            except OSError:  # deleted since the walk listed it: it is gone
                continue
            if S_ISREG(stat.st_mode):
                key = name if prefix == "." else f"{prefix}/{name}"
                found[key] = (stat.st_size, stat.st_mtime_ns)
    return found


@dataclass(frozen=True, slots=True)
class SeedChanges:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"


def snapshot_sources(folder: Path) -> dict[str, tuple[int, int]]:
    """sources/*.toml by name -> (size, mtime_ns); a missing folder is empty (as the
    catalog reads it)."""
    found: dict[str, tuple[int, int]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if entry.name.endswith(".toml"):
            try:
                info = entry.stat()
            except OSError:
                continue
            found[entry.name] = (info.st_size, info.st_mtime_ns)
    return found


def diff_snapshots(old: Snapshot, new: Snapshot) -> SeedChanges:
    return SeedChanges(
        added=tuple(sorted(new.keys() - old.keys())),
        changed=tuple(sorted(name for name in new.keys() & old.keys() if new[name] != old[name])),
        removed=tuple(sorted(old.keys() - new.keys())),
    )


@dataclass
class Coalescer:
    """Turns a burst of change notices into one rebuild. Plain values: the caller passes the
    time and keeps it behind a lock."""

    quiet: float = QUIET
    longest: float = LONGEST
    first: float | None = None  # first notice not yet covered by a rebuild
    last: float | None = None
    running: bool = False

    def notice(self, now: float) -> None:
        if self.first is None:
            self.first = now
        self.last = now

    def take(self, now: float) -> bool:
        """Whether to start a rebuild now; if so it covers every notice so far."""
        if self.running or self.first is None or self.last is None:
            return False
        if now - self.last < self.quiet and now - self.first < self.longest:
            return False
        self.first = self.last = None
        self.running = True
        return True

    def done(self) -> None:
        """The rebuild finished; notices that came in while it ran wait for the next one."""
        self.running = False


def _jitter(interval: float) -> timedelta:
    return timedelta(seconds=random.uniform(0, jitter_for(interval)))  # noqa: S311


def jitter_for(interval: float) -> float:
    """Up to a tenth of the interval (at most a minute), so sources sharing an interval and
    a host do not all fire in the same second."""
    return min(interval / 10, 60.0)


class Daemon:
    """The scheduled jobs of `feeds run`. `start()` after the first build, `stop()` to end."""

    def __init__(
        self,
        seeds: Path,
        check_interval: float,
        sources: Sequence[Source],
        work: Work,
        *,
        concurrency: int = 4,
        quiet: float = QUIET,
        longest: float = LONGEST,
        sources_folder: Path | None = None,
    ) -> None:
        self.seeds = seeds
        self.sources_folder = sources_folder  # looked at every check_interval when given
        self.check_interval = check_interval
        self.sources = [source for source in sources if source.enabled]
        self.work = work
        self.stopping = threading.Event()
        self._coalescer = Coalescer(quiet, longest)
        self._state = threading.Lock()  # guards _coalescer and job submission against stop()
        # Taken before the first build, so an edit made while it runs is not missed.
        self._seen: Snapshot = self._snapshot() or {}
        self._watch: Watch | None = None
        self._changed = threading.Event()  # set by the watch when something in seeds/ moved
        self._next_look = time.monotonic() + WATCHED  # for what a watch can miss
        self._sources_seen = snapshot_sources(sources_folder) if sources_folder else {}
        self.scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(max(concurrency, 1)),
                LOCAL: ThreadPoolExecutor(3),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        now = datetime.now(UTC)
        for source in self.sources:
            self._add_poll(source, now)
        if self.sources_folder is not None:
            check_sources = IntervalTrigger(seconds=self.check_interval)
            self.scheduler.add_job(self._check_sources, check_sources, id="sources", executor=LOCAL)
        # Told of changes, the daemon lists seeds/ only after one happened (at its next
        # check), and otherwise every WATCHED seconds, for what a watch can miss (network file
        # systems send no events).
        self._watch = watch(self.seeds, self._changed.set)
        check = IntervalTrigger(seconds=self.check_interval)
        self.scheduler.add_job(self._check_seeds, check, id="seeds", executor=LOCAL)
        self.scheduler.add_job(self._tick, IntervalTrigger(seconds=TICK), id="tick", executor=LOCAL)
        self.scheduler.start()
        log.debug(
            "scheduler started: %d sources, seeds every %g s",
            len(self.sources),
            self.check_interval,
        )

    def _add_poll(self, source: Source, now: datetime, *, new: bool = False) -> None:
        every = source.interval
        self.scheduler.add_job(
            self._poll,
            IntervalTrigger(seconds=every, jitter=jitter_for(every)),
            args=[source.name],
            id=f"poll:{source.name}",
            name=f"poll {source.name}",
            next_run_time=self._first_poll(source, now, new=new),
        )

    def _first_poll(self, source: Source, now: datetime, *, new: bool = False) -> datetime:
        """When the store says the source is due (a restart neither waits a whole interval
        nor polls early), else one interval after the first build (which polled it), or at
        once for a source added while running (`new`); overdue: at once."""
        try:
            due = self.work.due_at(source.name)
        except FeedsError as error:
            log.error("poll %s: %s", source.name, error)
            due = None
        due = due or (now if new else now + timedelta(seconds=source.interval))
        return due + _jitter(source.interval) if due > now else now

    def stop(self) -> None:
        """No new job starts; the one writing finishes; waiting ones give up at once."""
        with self._state:
            self.stopping.set()
        if self._watch is not None:
            self._watch.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def notice(self, why: str) -> None:
        log.debug("change: %s", why)
        with self._state:
            self._coalescer.notice(time.monotonic())

    # -- jobs -----------------------------------------------------------------------------

    def _poll(self, name: str) -> None:
        if self.stopping.is_set():
            return
        try:
            polled = self.work.poll(name)
        except FeedsError as error:
            self._log_error(f"poll {name}", error)
            return
        log.log(logging.DEBUG if polled.skipped else logging.INFO, "%s", polled.line)
        if polled.changed:
            self.notice(f"source {name}")
        self._follow_policy(name, polled.next_poll)

    def _follow_policy(self, name: str, next_poll: datetime | None) -> None:
        """Move the next run to when the policy said (interval from this poll, backoff,
        Retry-After, feed hints), so the poll finds the source due instead of skipping it."""
        if next_poll is None:
            return
        # Every call into the scheduler from a job happens under _state after checking
        # `stopping`: APScheduler 3's shutdown(wait=True) holds its job-store lock while it
        # waits for running jobs, so a job calling get_job() during shutdown deadlocks.
        with self._state:
            if self.stopping.is_set():
                return
            job = self.scheduler.get_job(f"poll:{name}")
            if job is None:
                return
            at = next_poll + _jitter(job.trigger.interval.total_seconds())
            job.modify(next_run_time=max(at, datetime.now(UTC)))

    def _log_error(self, job: str, error: FeedsError) -> None:
        # A job that gave up waiting for the lock because we are stopping is no news.
        quiet = self.stopping.is_set() and isinstance(error, LockError)
        log.log(logging.DEBUG if quiet else logging.ERROR, "%s: %s", job, error)

    def _check_seeds(self) -> None:
        if self.stopping.is_set():
            return
        if self._watch is not None:
            if not self._changed.is_set() and time.monotonic() < self._next_look:
                return  # watched, and nothing happened: no need to list the folder
            self._changed.clear()  # an event from here on means another look
            self._next_look = time.monotonic() + WATCHED
        now = self._snapshot()
        if now is None:
            return
        changes = diff_snapshots(self._seen, now)
        self._seen = now
        if changes:
            log.info("seeds: %s", changes.describe())
            self.notice("seeds")

    def _check_sources(self) -> None:
        """sources/*.toml edited: poll jobs follow the files (added, changed, removed
        sources) and a rebuild publishes what the enabled sources hold."""
        if self.stopping.is_set() or self.sources_folder is None:
            return
        now = snapshot_sources(self.sources_folder)
        if now == self._sources_seen:
            return
        self._sources_seen = now
        try:
            fresh = {source.name: source for source in self.work.read_sources() if source.enabled}
        except FeedsError as error:
            self._log_error("sources", error)
            return
        known = {source.name: source for source in self.sources}
        changed = [name for name in fresh.keys() & known.keys() if fresh[name] != known[name]]
        with self._state:
            if self.stopping.is_set():
                return
            for name in [*(known.keys() - fresh.keys()), *changed]:
                self.scheduler.remove_job(f"poll:{name}")
            for name in [*(fresh.keys() - known.keys()), *changed]:
                self._add_poll(fresh[name], datetime.now(UTC), new=True)
            self.sources = list(fresh.values())
        added, removed = len(fresh.keys() - known.keys()), len(known.keys() - fresh.keys())
        log.info("sources: %d added, %d changed, %d removed", added, len(changed), removed)
        self.notice("sources")

    def _snapshot(self) -> Snapshot | None:
        try:
            return snapshot_seeds(self.seeds)
        except (FeedsError, OSError) as error:
            # A folder being replaced (git checkout, rsync) can vanish for a moment.
            log.error("seeds: %s", error)
            return None

    def _tick(self) -> None:
        with self._state:
            if self.stopping.is_set() or not self._coalescer.take(time.monotonic()):
                return
            self.scheduler.add_job(self._rebuild, id="rebuild", executor=LOCAL)

    def _rebuild(self) -> None:
        try:
            if not self.stopping.is_set():
                log.info("%s", self.work.rebuild())
        except LockError as error:
            self._log_error("rebuild", error)
            if not self.stopping.is_set():
                self.notice("retry: another writer kept the lock")
        except FeedsError as error:
            self._log_error("rebuild", error)
        finally:
            with self._state:
                self._coalescer.done()
