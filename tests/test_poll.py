"""poll_sources() as a unit: httpx.MockTransport for the network, a stub for the parser,
a real SQLite store in tmp_path. The real parser and a real server: tests/test_upstream_http.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from feeds.errors import ConfigError, FetchError, ParseError
from feeds.merge.store import Store
from feeds.model import Entry, Source
from feeds.settings import Settings, defaults
from feeds.sources.poll import PollResult, poll_sources

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Parsed:
    entries: tuple[Entry, ...]
    undated: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()
    ttl: int | None = None


def stub_parse(
    body: bytes, headers: Mapping[str, str], url: str, source: Source, seen_at: datetime
) -> Parsed:
    """Body: one title per line; 'BROKEN' raises ParseError, 'CRASH' a bare exception."""
    if body == b"BROKEN":
        raise ParseError(url, "not a feed")
    if body == b"CRASH":
        raise ZeroDivisionError("boom")
    titles = body.decode().split("\n")
    return Parsed(
        tuple(
            Entry(f"{source.name}:{t}", t, seen_at, seen_at, origin=f"upstream:{source.name}")
            for t in titles
            if t
        ),
        warnings=("recovered from a bozo",) if b"bozo" in body else (),
    )


def source(name: str, url: str | None = None, **extra: object) -> Source:
    return Source(name, url or f"http://{name}.test/feed", where=f"test #{name}", **extra)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db") as opened:
        yield opened


SETTINGS = replace(defaults(), timeout=5, connect_timeout=5)


def poll(
    store: Store,
    sources: list[Source],
    handler: Callable[[httpx.Request], object],
    *,
    now: datetime = NOW,
    settings: Settings = SETTINGS,
    **options: object,
) -> dict[str, PollResult]:
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        follow_redirects=True,
    )
    results = poll_sources(
        settings,
        store,
        sources,
        client=client,
        now=now,
        parse=stub_parse,
        **options,  # type: ignore[arg-type]
    )
    asyncio.run(client.aclose())
    return {result.name: result for result in results}


def ok(body: bytes = b"one\ntwo", **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, content=body, headers=headers)


def test_first_poll_stores_entries_and_state(store: Store) -> None:
    results = poll(store, [source("a")], ok(ETag='"v1"', **{"Last-Modified": "Sun, 01 Jun 2025"}))
    result = results["a"]
    assert (result.status, result.new, result.error) == ("updated", 2, None)
    assert result.next_poll == NOW + timedelta(seconds=1800)
    assert {entry.title for entry in store.entries()} == {"one", "two"}
    state = store.source_state("a")
    assert state is not None
    assert (state.etag, state.last_modified, state.last_success) == (
        '"v1"',
        "Sun, 01 Jun 2025",
        NOW,
    )


def test_only_due_sources_are_polled_unless_forced_or_named(store: Store) -> None:
    sources = [source("a"), source("b")]
    poll(store, sources, ok())
    assert poll(store, sources, ok(), now=NOW + timedelta(minutes=5)) == {}
    later = poll(store, sources, ok(), now=NOW + timedelta(minutes=31))
    assert set(later) == {"a", "b"}
    soon = NOW + timedelta(minutes=32)
    assert set(poll(store, sources, ok(), now=soon, force=True)) == {"a", "b"}
    assert set(poll(store, sources, ok(), now=soon, names=["B"])) == {"b"}


def test_unknown_names_are_refused_before_any_poll(store: Store) -> None:
    with pytest.raises(ConfigError, match="no source named 'nope'"):
        poll(store, [source("a")], ok(), names=["a", "nope"])
    assert store.source_state("a") is None


def test_disabled_sources_are_not_polled_and_say_so_when_named(store: Store) -> None:
    off = source("off", enabled=False)
    assert poll(store, [off], ok()) == {}
    assert poll(store, [off], ok(), force=True) == {}
    result = poll(store, [off], ok(), names=["off"])["off"]
    assert result.status == "skipped"
    assert "enabled = false" in result.notes[0]
    assert store.entries() == []


def test_conditional_get_and_304_costs_no_parsing(store: Store) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=b"one", headers={"ETag": '"v1"'})

    poll(store, [source("a")], handler)
    again = poll(store, [source("a")], handler, force=True)["a"]
    assert (again.status, again.new, again.error) == ("not modified", 0, None)
    assert "if-none-match" not in sent[0].headers
    assert sent[1].headers["if-none-match"] == '"v1"'
    assert len(store.entries()) == 1


def test_410_disables_the_source_until_it_is_polled_by_name(store: Store) -> None:
    gone = poll(store, [source("a")], lambda request: httpx.Response(410))["a"]
    assert gone.status == "gone"
    assert isinstance(gone.error, FetchError)
    assert "source disabled" in str(gone.error) and "http://a.test/feed" in str(gone.error)
    assert poll(store, [source("a")], ok(), now=NOW + timedelta(days=30), force=True) == {}
    back = poll(store, [source("a")], ok(), names=["a"])["a"]
    assert back.status == "updated"
    state = store.source_state("a")
    assert state is not None and not state.disabled


def test_429_honours_retry_after(store: Store) -> None:
    result = poll(
        store, [source("a")], lambda request: httpx.Response(429, headers={"Retry-After": "7200"})
    )["a"]
    assert result.status == "throttled"
    assert result.next_poll == NOW + timedelta(seconds=7200)
    assert poll(store, [source("a")], ok(), now=NOW + timedelta(seconds=7199)) == {}


def test_failures_back_off_and_keep_stored_entries(store: Store) -> None:
    poll(store, [source("a")], ok())
    for hours in (1, 3, 7):
        failed = poll(
            store,
            [source("a")],
            lambda request: httpx.Response(500),
            now=NOW + timedelta(hours=hours),
            force=True,
        )["a"]
        assert failed.status == "failed"
    state = store.source_state("a")
    assert state is not None
    assert state.failures == 3
    assert state.last_error == "server error (HTTP 500)"
    assert len(store.entries()) == 2, "stored entries outlive upstream failures"
    (status,) = store.sources_status()
    assert (status.failures, status.entries, status.last_success) == (3, 2, NOW)


def test_three_permanent_redirects_move_the_source_and_say_so(store: Store) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.test":
            return httpx.Response(301, headers={"Location": "http://new.test/feed"})
        return httpx.Response(200, content=b"one")

    notes = []
    for day in range(3):
        result = poll(store, [source("a")], handler, now=NOW + timedelta(days=day))["a"]
        notes.append(result.notes)
        assert result.url == "http://a.test/feed"
    assert notes[:2] == [(), ()]
    assert "moved permanently to http://new.test/feed" in notes[2][0]
    fourth = poll(store, [source("a")], handler, now=NOW + timedelta(days=4))["a"]
    assert fourth.url == "http://new.test/feed"
    # Changing the URL in sources/*.toml starts over from the configured URL.
    edited = source("a", "http://edited.test/feed")
    assert poll(store, [edited], ok(), now=NOW + timedelta(days=5))["a"].url == edited.url


def test_one_broken_upstream_does_not_break_the_others(store: Store) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host == "down.test":
            raise httpx.ConnectError("connection refused", request=request)
        bodies = {"bad.test": b"BROKEN", "crash.test": b"CRASH", "bozo.test": b"x\nbozo"}
        return httpx.Response(200, content=bodies.get(host, b"fine"))

    names = ["down", "bad", "crash", "bozo", "good"]
    results = poll(store, [source(name) for name in names], handler)
    assert [results[name].status for name in names] == [
        "failed",
        "failed",
        "failed",
        "updated",
        "updated",
    ]
    assert "cannot connect" in str(results["down"].error)
    assert str(results["bad"].error) == "http://bad.test/feed: not a feed"
    crash = results["crash"].error
    assert isinstance(crash, ParseError)
    assert "parser failed: ZeroDivisionError: boom" in str(crash)
    assert results["bozo"].notes == ("recovered from a bozo",)
    assert {e.title for e in store.entries(["good", "bozo"])} == {"fine", "x", "bozo"}


def test_per_host_and_global_limits(store: Store) -> None:
    running: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        running[host] = running.get(host, 0) + 1
        running["*"] = running.get("*", 0) + 1
        for key in (host, "*"):
            peak[key] = max(peak.get(key, 0), running[key])
        await asyncio.sleep(0.02)
        running[host] -= 1
        running["*"] -= 1
        return httpx.Response(200, content=b"x")

    sources = [source(f"s{i}", f"http://host{i % 3}.test/{i}") for i in range(12)]
    settings = replace(SETTINGS, concurrency=4, per_host=2)
    results = poll(store, sources, handler, settings=settings)
    assert all(result.status == "updated" for result in results.values())
    assert peak["*"] == 4
    assert max(peak[f"host{i}.test"] for i in range(3)) == 2
