"""Poll upstream feeds: fetch the due ones at once, parse, store entries and fetch state.

    due sources ─ fetch (httpx, limits) ─ policy ─ parse_feed (parse_pool) ─ store

Each source is its own task under a global and a per-host limit; its failure, slowness
(total timeout) or crash is caught and becomes its PollResult, so it never delays or
breaks the others. Parsing runs off the event loop (a thread, or worker processes for a
large poll: see parse_pool.py) so a large feed never stalls it, the timeouts of the other
fetches stay honest, and fetching goes on while bodies are parsed. Entries and states are
stored here, in this process. Nothing here is global: each call makes its own client
(unless given one), limits and parsers, so the daemon may call `poll_sources` for one
source from several threads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import time
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from feeds.errors import ConfigError, FeedsError, FetchError, SourceError, StoreError
from feeds.merge.store import Retention, Store
from feeds.model import Source
from feeds.normalize.upstream import parse_feed
from feeds.settings import Settings
from feeds.sources import policy
from feeds.sources.fetch import Fetched, fetch, make_client
from feeds.sources.parse_pool import Job, ParseFeed, Parsers
from feeds.sources.policy import Outcome, Reply
from feeds.sources.state import SourceState

UPDATED, NOT_MODIFIED, GONE, THROTTLED, FAILED, SKIPPED = (
    "updated",
    "not modified",
    "gone",
    "throttled",
    "failed",
    "skipped",
)


# httpcore's pool scans each of its connections for every request it queues and every
# answer it finishes, so its cost grows with the square of its size: 1,000 loopback 304s
# took 3.7 s of CPU through one pool of 16 connections, 2.0 s through pools of 4. A poll
# therefore spreads its sources over several small clients (the `concurrency` and
# `per_host` limits still hold over all of them).
POOL_CONNECTIONS = 4


@dataclass(frozen=True, slots=True)
class PollResult:
    name: str
    url: str  # the URL polled
    status: str  # updated, not modified, gone, throttled, failed, skipped
    new: int = 0  # entries stored for the first time
    seconds: float = 0.0
    error: FeedsError | None = None
    notes: tuple[str, ...] = ()  # parse warnings, "moved to ..."
    next_poll: datetime | None = None  # when the policy wants the next poll

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        text = f"{self.name}: {self.status}, {self.new} new, {self.seconds:.2f} s"
        if self.error is not None:
            text += f": {self.error}"
        return "; ".join([text, *self.notes])


def poll_sources(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    *,
    names: Collection[str] | None = None,
    force: bool = False,
    client: httpx.AsyncClient | None = None,
    now: datetime | None = None,
    parse: ParseFeed | None = None,
) -> list[PollResult]:
    """Poll the due sources (or the named ones, or with force all enabled ones), now.

    Runs its own event loop: call it from plain (non-async) code, any thread. Async callers
    use `poll_sources_async`. Unknown names are a ConfigError, raised before any poll.
    """
    return asyncio.run(
        poll_sources_async(
            settings, store, sources, names=names, force=force, client=client, now=now, parse=parse
        )
    )


async def poll_sources_async(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    *,
    names: Collection[str] | None = None,
    force: bool = False,
    client: httpx.AsyncClient | None = None,
    now: datetime | None = None,
    parse: ParseFeed | None = None,
) -> list[PollResult]:
    now = now or datetime.now(UTC)
    chosen, skipped = select(settings, store, sources, names, force, now)
    if not chosen:
        return skipped
    async with contextlib.AsyncExitStack() as stack:
        # First: a process pool forks its workers as it is made, before any thread starts.
        parsers = stack.enter_context(Parsers(len(chosen)))
        poll = _Poll(settings, store, parse or _default_parser(settings), parsers, now)
        if client is not None:
            clients = [client]
        else:
            pools = -(-min(settings.concurrency, len(chosen)) // POOL_CONNECTIONS)  # ceiling
            connections = -(-settings.concurrency // pools)
            clients = [
                await stack.enter_async_context(make_client(settings, connections))
                for _ in range(pools)
            ]
        results = await asyncio.gather(
            *(
                poll.one(source, state, clients[number % len(clients)])
                for number, (source, state) in enumerate(chosen)
            ),
            return_exceptions=True,
        )
    return skipped + poll.flush(
        [
            _crashed(source, state, result) if isinstance(result, BaseException) else result
            for (source, state), result in zip(chosen, results, strict=True)
        ]
    )


def select(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    names: Collection[str] | None,
    force: bool,
    now: datetime,
) -> tuple[list[tuple[Source, SourceState]], list[PollResult]]:
    """Which sources to poll now, each with its state; and the named ones we refuse."""
    wanted = {name.casefold() for name in names} if names is not None else None
    if wanted is not None:
        unknown = wanted - {source.name.casefold() for source in sources}
        if unknown:
            listed = ", ".join(sorted(repr(name) for name in unknown))
            raise ConfigError(str(settings.sources), f"no source named {listed}")
    chosen: list[tuple[Source, SourceState]] = []
    skipped: list[PollResult] = []
    for source in sources:
        named = wanted is not None and source.name.casefold() in wanted
        if wanted is not None and not named:
            continue
        if not source.enabled:
            if named:
                note = f"disabled (enabled = false) in {source.where}"
                skipped.append(PollResult(source.name, source.url, SKIPPED, notes=(note,)))
            continue
        state = state_for(store, source)
        # A source polled by name is polled even when gone: that is how one retries it.
        if named or (force and not state.disabled) or policy.is_due(state, now):
            chosen.append((source, state))
    return chosen, skipped


def state_for(store: Store, source: Source) -> SourceState:
    """The stored state, or a fresh one when there is none or the configured URL changed."""
    state = store.source_state(source.name)
    if state is None or state.configured_url != source.url:
        return SourceState.fresh(source.name, source.url)
    return state


@dataclass
class _Poll:
    settings: Settings
    store: Store
    parse: ParseFeed
    parsers: Parsers
    now: datetime

    def __post_init__(self) -> None:
        self.overall = asyncio.Semaphore(self.settings.concurrency)
        self.states: list[SourceState] = []  # each polled source's new state, for flush()
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.random = random.Random()  # noqa: S311 - jitter, not secrets

    def flush(self, results: list[PollResult]) -> list[PollResult]:
        """Store the sources' new states in one transaction: one commit per poll, not one per
        source (1,000 commits took 0.8 s). Entries are stored as each source is parsed; if the
        process dies before this, those sources keep their old state and are polled again,
        and storing the same entries again changes nothing."""
        try:
            self.store.save_source_states(self.states)
        except StoreError as error:  # a result that failed already keeps its first error
            return [result if result.error else _unsaved(result, error) for result in results]
        return results

    @contextlib.asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        """Wait for the host's slot first, so a busy host never holds a global one."""
        parts = urlsplit(url)
        host = f"{(parts.hostname or '').lower()}:{parts.port or parts.scheme}"
        per_host = self.hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
        async with per_host, self.overall:
            yield

    async def one(
        self, source: Source, state: SourceState, client: httpx.AsyncClient
    ) -> PollResult:
        started = time.perf_counter()
        try:
            result = await self._poll(source, state, client)
        except (SourceError, StoreError) as error:
            result = self._failed(source, state, error)
        return replace(result, seconds=time.perf_counter() - started)

    async def _poll(
        self, source: Source, state: SourceState, client: httpx.AsyncClient
    ) -> PollResult:
        async with contextlib.AsyncExitStack() as queued:
            fetched, reply, outcome = await self._fetch(state, client, queued)
            if outcome is Outcome.PARSE:
                return await self._parsed(source, state, fetched, reply)
        if outcome is Outcome.NOT_MODIFIED:
            after = policy.after_success(state, reply, self.now, source.interval, parsed=False)
            return self._save(source, state, after, reply, NOT_MODIFIED)
        problem = policy.describe(fetched.status)
        error = FetchError(state.url, problem)
        if outcome is Outcome.GONE:
            after = policy.after_gone(state, self.now, problem)
            return self._save(source, state, after, reply, GONE, error)
        jitter = self.random.random()
        after = policy.after_failure(state, self.now, source.interval, problem, jitter, reply)
        status = THROTTLED if outcome is Outcome.THROTTLED else FAILED
        return self._save(source, state, after, reply, status, error)

    async def _fetch(
        self, state: SourceState, client: httpx.AsyncClient, queued: contextlib.AsyncExitStack
    ) -> tuple[Fetched, Reply, Outcome]:
        """Fetch and classify. A body to parse takes a place in the parse queue (held in
        `queued` until it is parsed) before its fetch slot is let go: fetching then keeps
        pace with parsing, and the bodies held at once stay bounded (concurrency + queue)."""
        async with self.slot(state.url):
            fetched = await fetch(
                client,
                state.url,
                headers=policy.conditional_headers(state),
                max_body=self.settings.max_body,
                timeout=self.settings.timeout,
            )
            reply = Reply(fetched.status, fetched.url, fetched.headers, fetched.hops)
            outcome = policy.classify(reply, state)
            if outcome is Outcome.PARSE:
                await queued.enter_async_context(self.parsers.place)
        return fetched, reply, outcome

    async def _parsed(
        self, source: Source, state: SourceState, fetched: Fetched, reply: Reply
    ) -> PollResult:
        job = Job(self.parse, fetched.body, fetched.headers, fetched.url, source, self.now)
        parsed = await self.parsers.parse(job)
        retention = Retention(self.settings.retention_days, self.settings.retention_entries)
        new = self.store.save_entries(
            source.name, parsed.entries, parsed.undated, self.now, retention
        )
        after = policy.after_success(state, reply, self.now, source.interval, parsed.ttl)
        result = self._save(source, state, after, reply, UPDATED)
        return replace(result, new=new, notes=(*parsed.warnings, *result.notes))

    def _save(
        self,
        source: Source,
        before: SourceState,
        after: SourceState,
        reply: Reply,
        status: str,
        error: FeedsError | None = None,
    ) -> PollResult:
        after, moved = policy.track_redirects(after, reply)
        self.states.append(after)
        notes: tuple[str, ...] = ()
        if moved:
            notes = (f"moved permanently to {moved}; now polling it (update {source.where})",)
        return PollResult(source.name, before.url, status, 0, 0.0, error, notes, after.next_poll)

    def _failed(self, source: Source, state: SourceState, error: FeedsError) -> PollResult:
        jitter = self.random.random()
        after = policy.after_failure(state, self.now, source.interval, error.problem, jitter)
        self.states.append(after)
        return PollResult(source.name, state.url, FAILED, 0, 0.0, error, (), after.next_poll)


def _unsaved(result: PollResult, error: StoreError) -> PollResult:
    return replace(result, status=FAILED, error=error)


def _crashed(source: Source, state: SourceState, exc: BaseException) -> PollResult:
    """A bug in one poll: report it against that source, never lose the others' results."""
    error = SourceError(state.url, f"internal error while polling: {type(exc).__name__}: {exc}")
    return PollResult(source.name, state.url, FAILED, error=error)


def _default_parser(settings: Settings) -> ParseFeed:
    return functools.partial(parse_feed, zone=settings.zone)
