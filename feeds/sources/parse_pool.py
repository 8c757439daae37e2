"""Parse fetched bodies off the event loop: in one thread for a small poll, in a process pool
for a large one, so a full poll of many upstreams is limited by parsing on every core.

    fetched body ─ place (bounded queue) ─┬─ one thread         (fewer than POOL_MIN sources)
                                          └─ worker processes   (one per core, up to 8)

Either way a parse returns the parser's result or raises ParseError naming the URL, with the
same text: the worker sends a ParseError back as text (FeedsError cannot be pickled).

A body that kills or hangs its worker costs only its own source:
- a worker that dies breaks its whole pool (BrokenProcessPool), failing every body in it
  then. The pool is replaced for the bodies to come, and each body that was in it is parsed
  again alone, in a pool of one worker: a death there is that body's own, reported as its
  ParseError. Never again in this process: a parser that crashes a worker would crash the
  poll here.
- a parse that takes longer than PARSE_LIMIT is that body's ParseError; its pool's workers
  are killed (ProcessPoolExecutor cannot stop one job), so the bodies beside it go the way
  of a dead worker's.
Workers are forked when the process has a single thread, so the pool is made, and forked,
when the poll starts, before any thread; later pools come from a fork server (see
feeds.pools.pool_context).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from feeds.errors import ParseError
from feeds.model import Entry, Source
from feeds.pools import frozen_heap, pool_context, pool_workers

# Sources in a poll before parsing goes to processes. A parse costs ~35 ms (50 entries);
# forked workers ~0.03 s to start, from a fork server ~1 s (it imports feeds first).
POOL_MIN = 32
# Bodies in a worker's hands: the one it parses and the next, so it never waits for the
# event loop to hand it one (1,000 bodies on 2 cores: 22.2 s one at a time, 18.5 s so).
IN_POOL_PER_WORKER = 2
QUEUE_PER_WORKER = 4  # bodies fetched and not yet parsed, per worker (those in the pool too)
# Seconds from handing a body to the pool to its result: its parse, at most one parse
# queued ahead of it, and a new worker's start (~1 s from a fork server). A 10 MB feed
# (the max_body default) parses in ~5 s.
PARSE_LIMIT = 60.0


class Parsed(Protocol):
    """What a parse returns (feeds.normalize.upstream.ParsedFeed)."""

    @property
    def entries(self) -> tuple[Entry, ...]: ...
    @property
    def undated(self) -> frozenset[str]: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...
    @property
    def ttl(self) -> int | None: ...


# (body, headers, final URL, source, seen_at) -> Parsed. In the process pool it must be
# picklable: a module-level function, or a functools.partial of one.
ParseFeed = Callable[[bytes, Mapping[str, str], str, Source, datetime], Parsed]


@dataclass(frozen=True, slots=True)
class Job:
    parse: ParseFeed
    body: bytes
    headers: Mapping[str, str]
    url: str  # the final URL, which errors name
    source: Source
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class _Failed:
    """A ParseError on its way back from a worker."""

    where: str
    problem: str


class _WorkerLost(Exception):
    """The body's pool broke: a worker died, maybe parsing another body."""


class _Hung(Exception):
    """The body's parse took longer than the limit; its pool's workers were killed."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def parse_job(job: Job) -> Parsed:
    """The parse, any failure a ParseError naming the URL (feedparser and friends can raise
    anything)."""
    try:
        return job.parse(job.body, job.headers, job.url, job.source, job.seen_at)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(job.url, f"parser failed: {type(exc).__name__}: {exc}") from None


def _work(job: Job) -> Parsed | _Failed:
    """parse_job in a worker process."""
    try:
        return parse_job(job)
    except ParseError as error:
        return _Failed(error.where, error.problem)


def _ready() -> None:
    """Submitted to a forked pool as it is made: the fork happens now, before any thread."""


class Parsers:
    """The parsers of one poll of `sources` sources; a context manager that stops them."""

    def __init__(self, sources: int) -> None:
        workers = pool_workers()
        self.in_processes = workers >= 2 and sources >= POOL_MIN
        self.workers = workers if self.in_processes else 1
        self.limit = PARSE_LIMIT
        # Bodies fetched and not yet parsed (poll.py holds a fetch slot while it waits for
        # a place), so the bodies held at once stay bounded however many sources answer.
        self.place = asyncio.Semaphore(QUEUE_PER_WORKER * self.workers)
        # Few bodies in the pool at once: PARSE_LIMIT then times a parse and at most one
        # waiting ahead of it, not a long queue.
        self._turn = asyncio.Semaphore(IN_POOL_PER_WORKER * self.workers)
        self._alone_lock = asyncio.Lock()
        self._thread: ThreadPoolExecutor | None = None
        self._shared: ProcessPoolExecutor | None = None
        self._alone: ProcessPoolExecutor | None = None  # one worker, for suspects
        self._retired: list[ProcessPoolExecutor] = []

    def __enter__(self) -> Parsers:
        if self.in_processes:
            self._shared = _pool(self.workers)
        else:
            self._thread = ThreadPoolExecutor(1, "feeds-parse")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for pool in (self._shared, self._alone, *self._retired):
            if pool is None:
                continue
            if error is not None:  # interrupted: workers may be mid-parse, or hung
                _kill(pool)
            pool.shutdown(wait=True, cancel_futures=True)
        if self._thread is not None:
            self._thread.shutdown(wait=True)

    async def parse(self, job: Job) -> Parsed:
        """The job's result, or ParseError(url, problem)."""
        if self._thread is not None:
            return await asyncio.get_running_loop().run_in_executor(self._thread, parse_job, job)
        async with self._turn:
            try:
                return await self._in_shared(job)
            except _WorkerLost:
                pass
        async with self._alone_lock:
            return await self._in_alone(job)

    async def _in_shared(self, job: Job) -> Parsed:
        pool = self._live_shared()
        try:
            future = pool.submit(_work, job)
        except BrokenProcessPool:  # broken by a body whose failure we have not seen yet
            pool = self._renew_shared(pool)
            future = pool.submit(_work, job)
        try:
            return await self._outcome(job, future, pool)
        except _Hung as hung:
            self._renew_shared(pool)  # its workers were killed
            raise ParseError(job.url, hung.problem) from None
        except _WorkerLost:
            self._renew_shared(pool)
            raise

    async def _in_alone(self, job: Job) -> Parsed:
        if self._alone is None:
            self._alone = _pool(1)
        pool = self._alone
        try:
            return await self._outcome(job, pool.submit(_work, job), pool)
        except _Hung as hung:
            self._retire(pool)
            raise ParseError(job.url, hung.problem) from None
        except _WorkerLost:
            self._retire(pool)
            raise ParseError(job.url, "the parser crashed: its worker process died") from None

    async def _outcome(
        self, job: Job, future: Future[Parsed | _Failed], pool: ProcessPoolExecutor
    ) -> Parsed:
        try:
            async with asyncio.timeout(self.limit):
                outcome = await asyncio.wrap_future(future)
        except TimeoutError:
            _kill(pool)
            raise _Hung(f"the parser took longer than {self.limit:g} s; stopped it") from None
        except BrokenProcessPool:
            raise _WorkerLost from None
        except Exception as exc:  # e.g. a result that cannot be pickled back
            raise ParseError(job.url, f"parser failed: {type(exc).__name__}: {exc}") from None
        if isinstance(outcome, _Failed):
            raise ParseError(outcome.where, outcome.problem)
        return outcome

    def _live_shared(self) -> ProcessPoolExecutor:
        if self._shared is None:
            self._shared = _pool(self.workers)
        return self._shared

    def _renew_shared(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A new shared pool, unless another body's failure made one already."""
        if self._shared is broken:
            self._retire(broken)
        return self._live_shared()

    def _retire(self, pool: ProcessPoolExecutor) -> None:
        pool.shutdown(wait=False, cancel_futures=True)
        self._retired.append(pool)
        if self._shared is pool:
            self._shared = None
        if self._alone is pool:
            self._alone = None


def _pool(workers: int) -> ProcessPoolExecutor:
    context = pool_context()
    pool = ProcessPoolExecutor(workers, mp_context=context)
    if context.get_start_method() == "fork":
        with frozen_heap(context):  # forks now: a forked pool starts every worker at its first job
            pool.submit(_ready)
    return pool


def _kill(pool: ProcessPoolExecutor) -> None:
    # No public way to stop a job or its worker before Python 3.14 (kill_workers()).
    for process in list((pool._processes or {}).values()):
        process.kill()
