"""Parsing in worker processes (feeds/sources/parse_pool.py), through poll_sources and a
real server on 127.0.0.1: the same results as parsing in this process, and a worker that
dies or hangs costs only its own source.

Two ways to start workers, each tested: forked (this process has one thread, so the server
runs in a subprocess) and from a fork server (the server runs in a thread here).
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from feeds.merge.store import Store
from feeds.model import Entry, Source
from feeds.normalize.upstream import ParsedFeed, parse_feed
from feeds.settings import defaults
from feeds.sources import parse_pool
from feeds.sources.parse_pool import ParseFeed
from feeds.sources.poll import PollResult, poll_sources
from tests.aggregate.server import Route, Upstream, running, send

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SETTINGS = replace(defaults(), timeout=20, connect_timeout=10, per_host=8)
RSS = (FIXTURES / "rss20_good.xml").read_bytes()


def parse_and_tell(
    body: bytes, headers: Mapping[str, str], url: str, source: Source, seen_at: datetime
) -> ParsedFeed:
    """The real parser, plus a warning naming the process that ran it and its parent. A body
    holding <!-- die --> kills that process a second later, one holding <!-- slow --> takes
    two seconds (so it is in the pool when the other dies), <!-- hang --> never returns."""
    if b"<!-- die -->" in body:
        time.sleep(1)
        os._exit(70)
    if b"<!-- slow -->" in body:
        time.sleep(2)
    if b"<!-- hang -->" in body:
        time.sleep(600)
    parsed = parse_feed(body, headers, url, source, seen_at, zone=SETTINGS.zone)
    return replace(parsed, warnings=(*parsed.warnings, f"pid {os.getpid()} {os.getppid()}"))


@dataclass
class Site:
    base: str  # URL of the served folder
    folder: Path
    forked: bool  # this process has one thread: pools fork their workers

    def sources(self) -> list[Source]:
        return [
            Source(path.stem, f"{self.base}/{path.name}", where=f"test #{path.stem}")
            for path in sorted(self.folder.iterdir())
        ]


@pytest.fixture(params=["forked", "fork server"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """Every upstream fixture, twice, served from tmp_path/feeds (add files before polling)."""
    folder = tmp_path / "feeds"
    folder.mkdir()
    for copy in ("a", "b"):
        for path in FIXTURES.iterdir():
            shutil.copy(path, folder / f"{copy}_{path.name}")
    if request.param == "forked":
        yield from _served_by_a_process(folder)
    else:
        yield from _served_by_a_thread(folder)


def _served_by_a_process(folder: Path) -> Iterator[Site]:
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        port = re.search(r"port (\d+)", line)
        assert port, f"http.server did not start: {line!r}"
        assert threading.active_count() == 1, "workers are forked only from a lone thread"
        yield Site(f"http://127.0.0.1:{port[1]}", folder, forked=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def _served_by_a_thread(folder: Path) -> Iterator[Site]:
    upstream = Upstream()

    def route(handler: BaseHTTPRequestHandler) -> None:
        path = folder / urlsplit(handler.path).path.lstrip("/")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        send(handler, 200, path.read_bytes(), {"Content-Type": kind})

    with running(upstream):
        upstream.routes = _Everything(route)
        yield Site(upstream.url(""), folder, forked=False)


class _Everything(dict[str, Route]):
    """Routes every path to one route."""

    def __init__(self, route: Route) -> None:
        super().__init__()
        self.route = route

    def get(self, path: str, default: object = None) -> Route:
        return self.route


def poll(
    tmp_path: Path,
    sources: list[Source],
    monkeypatch: pytest.MonkeyPatch,
    *,
    pool: bool,
    parse: ParseFeed | None = parse_and_tell,
) -> tuple[dict[str, PollResult], list[Entry]]:
    """One forced poll into a new store; `pool` or not, whatever the number of cores."""
    monkeypatch.setattr(parse_pool, "POOL_MIN", 1 if pool else 10**9)
    monkeypatch.setattr(parse_pool, "pool_workers", lambda: 2)
    path = tmp_path / f"store-{len(list(tmp_path.glob('store-*')))}.db"
    with Store.open(path) as store:
        results = poll_sources(SETTINGS, store, sources, force=True, now=NOW, parse=parse)
        entries = sorted(store.entries(), key=lambda entry: (entry.origin, entry.id))
    return {result.name: result for result in results}, entries


def outcome(result: PollResult) -> tuple[object, ...]:
    """What a poll reports, less its timing, its jitter and the parsing process."""
    notes = tuple(note for note in result.notes if not note.startswith("pid "))
    return result.url, result.status, result.new, str(result.error), notes


def outcomes(results: dict[str, PollResult]) -> dict[str, tuple[object, ...]]:
    return {name: outcome(result) for name, result in results.items()}


def assert_only_it_failed(
    results: dict[str, PollResult],
    entries: object,
    name: str,
    error: str,
    alone: dict[str, PollResult],
    alone_entries: object,
) -> None:
    """`name` failed with `error`; every other source came out as when polled without it."""
    failed = results.pop(name)
    assert (failed.status, str(failed.error)) == ("failed", error)
    assert outcomes(results) == outcomes(alone)
    assert entries == alone_entries


def parsed_by(results: dict[str, PollResult]) -> set[tuple[int, int]]:
    """(pid, parent pid) of every process that parsed a body."""
    notes = (note.split() for result in results.values() for note in result.notes)
    return {(int(words[1]), int(words[2])) for words in notes if words[0] == "pid"}


def test_a_pool_parses_like_this_process(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = site.sources()
    here, here_entries = poll(tmp_path, sources, monkeypatch, pool=False)
    there, there_entries = poll(tmp_path, sources, monkeypatch, pool=True)

    assert outcomes(there) == outcomes(here)
    assert there_entries == here_entries
    assert sum(result.status == "updated" for result in here.values()) > 30
    failed = {name for name, result in here.items() if result.error}
    assert {"a_html_page_instead_of_feed", "a_jsonfeed_broken"} <= failed
    assert here["a_jsonfeed_broken"].error is not None
    assert here["a_jsonfeed_broken"].error.where == f"{site.base}/a_jsonfeed_broken.json"

    assert {pid for pid, _ in parsed_by(here)} == {os.getpid()}
    workers = parsed_by(there)
    assert workers
    assert os.getpid() not in {pid for pid, _ in workers}
    assert ({parent for _, parent in workers} == {os.getpid()}) == site.forked

    # The parser poll_sources uses by default, too.
    here, here_entries = poll(tmp_path, sources, monkeypatch, pool=False, parse=None)
    there, there_entries = poll(tmp_path, sources, monkeypatch, pool=True, parse=None)
    assert outcomes(there) == outcomes(here)
    assert there_entries == here_entries


def test_a_worker_that_dies_costs_only_its_source(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (site.folder / "a_0dies.xml").write_bytes(RSS + b"<!-- die -->")
    (site.folder / "a_0slow.xml").write_bytes(RSS + b"<!-- slow -->")
    sources = site.sources()
    others = [source for source in sources if source.name != "a_0dies"]
    here, expected = poll(tmp_path, others, monkeypatch, pool=False)

    results, entries = poll(tmp_path, sources, monkeypatch, pool=True)

    crashed = f"{site.base}/a_0dies.xml: the parser crashed: its worker process died"
    assert_only_it_failed(results, entries, "a_0dies", crashed, here, expected)
    assert results["a_0slow"].status == "updated", "in the pool when the other died: parsed again"


def test_a_parse_that_hangs_is_stopped_and_costs_only_its_source(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (site.folder / "a_0hangs.xml").write_bytes(RSS + b"<!-- hang -->")
    sources = site.sources()
    others = [source for source in sources if source.name != "a_0hangs"]
    here, expected = poll(tmp_path, others, monkeypatch, pool=False)
    monkeypatch.setattr(parse_pool, "PARSE_LIMIT", 5)

    results, entries = poll(tmp_path, sources, monkeypatch, pool=True)

    stopped = f"{site.base}/a_0hangs.xml: the parser took longer than 5 s; stopped it"
    assert_only_it_failed(results, entries, "a_0hangs", stopped, here, expected)
