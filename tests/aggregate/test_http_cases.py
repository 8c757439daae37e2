"""Upstreams served by a real HTTP server on 127.0.0.1, polled with the real client and the
real parser into a real store, then published by the real pipeline (offline build).

The single-poll cases run together in one poll, which is itself the proof that a slow,
broken or hostile upstream does not break the others; each case then checks what was
reported for it and what was published under its category.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import FetchError, ParseError
from feeds.merge.store import Store
from feeds.model import Source
from feeds.pipeline import build
from feeds.render.slugs import slug
from feeds.settings import Settings, defaults
from feeds.sources.poll import PollResult, poll_sources
from tests.aggregate.server import Upstream, running, send

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "upstream"
NOW = datetime(2025, 6, 10, tzinfo=UTC)
CAP = 64 * 1024


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def settings_in(tmp_path: Path) -> Settings:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    return replace(
        defaults(),
        seeds=seeds,
        sources=tmp_path / "sources",
        out=tmp_path / "out",
        store=tmp_path / "state.db",
        timeout=1,
        connect_timeout=1,
        max_body=CAP,
        # Polls here run on a clock pinned in 2025 while the build prunes at the real time:
        # retention is not tested here (tests/test_store.py does).
        retention_days=100_000,
    )


@dataclass(frozen=True)
class Published:
    result: PollResult
    items: list[dict[str, Any]]  # JSON Feed items under the case's category, newest first

    @property
    def titles(self) -> list[str]:
        return [item.get("title", "") for item in self.items]

    def text(self) -> str:
        return json.dumps(self.items, ensure_ascii=False)


def slow(handler: BaseHTTPRequestHandler) -> None:
    # Headers at once, then a body that trickles: only a total timeout catches this.
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    try:
        for _ in range(20):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:  # the client gave up, as it should
        pass


def chunked_over_cap(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()
    chunk = b"<!-- " + b"x" * 8000 + b" -->"
    for _ in range(20):  # 160 kB against a 64 kB cap
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    handler.wfile.write(b"0\r\n\r\n")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
CASES: dict[str, Callable[[Upstream], str]] = {}


def register(name: str) -> Callable[[Callable[[Upstream], str]], Callable[[Upstream], str]]:
    def add(setup: Callable[[Upstream], str]) -> Callable[[Upstream], str]:
        CASES[name] = setup
        return setup

    return add


def static(name: str, path: str, body: bytes, **headers: str) -> None:
    def setup(upstream: Upstream) -> str:
        upstream.serve(path, body, headers=headers or RSS)
        return upstream.url(path)

    CASES[name] = setup


static("rss20", "/rss20.xml", fixture("rss20_good.xml"))
static("rss10", "/rss10.rdf", fixture("rss10_rdf.xml"))
static("atom", "/atom.xml", fixture("atom10_good.xml"), **{"Content-Type": "application/atom+xml"})
static(
    "jsonfeed",
    "/feed.json",
    fixture("jsonfeed11.json"),
    **{"Content-Type": "application/feed+json"},
)
static("relative", "/blog/rel.xml", fixture("relative_links_no_base.xml"))
static("xml-base", "/base.xml", fixture("relative_links_xml_base.xml"))
static("gbk", "/gbk.xml", fixture("encoding_gbk_declared_utf8.xml"))
static(
    "html", "/index.html", fixture("html_page_instead_of_feed.xml"), **{"Content-Type": "text/html"}
)
static("truncated", "/truncated.xml", fixture("truncated_xml.xml"))
static("bomb", "/bomb.xml", fixture("entity_billion_laughs.xml"))
static("xxe", "/xxe.xml", fixture("external_entity_local_file.xml"))
static("script", "/xss.xml", fixture("script_and_event_handlers.xml"))
static("plain text", "/text.xml", b"just some words", **{"Content-Type": "text/plain"})
static(
    "gzip",
    "/gz.xml",
    gzip.compress(fixture("rss20_good.xml")),
    **{"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
)
static("over-cap declared", "/big.xml", b"<rss>" + b" " * (CAP * 2) + b"</rss>")


@register("over-cap chunked")
def _chunked(upstream: Upstream) -> str:
    upstream.routes["/chunked.xml"] = chunked_over_cap
    return upstream.url("/chunked.xml")


@register("slow")
def _slow(upstream: Upstream) -> str:
    upstream.routes["/slow.xml"] = slow
    return upstream.url("/slow.xml")


@register("server error")
def _error(upstream: Upstream) -> str:
    upstream.serve("/500.xml", b"oops", 500)
    return upstream.url("/500.xml")


@register("redirect to a local file")
def _file(upstream: Upstream) -> str:
    upstream.redirect("/to-file.xml", 302, "file:///etc/passwd")
    return upstream.url("/to-file.xml")


@register("too many redirects")
def _loop(upstream: Upstream) -> str:
    for n in range(7):
        upstream.redirect(f"/hop{n}", 302, f"/hop{n + 1}")
    return upstream.url("/hop0")


@register("404")
def _missing(upstream: Upstream) -> str:
    return upstream.url("/nothing-here.xml")


@register("connection refused")
def _refused(upstream: Upstream) -> str:
    return f"http://127.0.0.1:{closed_port()}/feed.xml"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Published]]:
    tmp_path = tmp_path_factory.mktemp("cases")
    settings = settings_in(tmp_path)
    with running(Upstream()) as upstream:
        sources = [
            Source(name, setup(upstream), timezone="UTC", category=name, where=f"case {name}")
            for name, setup in CASES.items()
        ]
        with Store.open(settings.store) as store:
            results = poll_sources(settings, store, sources, now=NOW)
        # The published side: an offline build reading the store (with the catalog on disk).
        write_catalog(settings.sources, sources)
        report = build(settings, offline=True)
        assert not report.write.errors
    by_name = {result.name: result for result in results}
    yield {name: Published(by_name[name], items_of(settings.out, name)) for name in CASES}


def write_catalog(folder: Path, sources: list[Source]) -> None:
    folder.mkdir(exist_ok=True)
    tables = [
        f'[[source]]\nname = "{s.name}"\nurl = "{s.url}"\ntimezone = "UTC"\n' for s in sources
    ]
    (folder / "cases.toml").write_text("\n".join(tables), encoding="utf-8")


def items_of(out: Path, category: str) -> list[dict[str, Any]]:
    path = out / "categories" / slug(category) / "feed.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8"))["items"])


def test_every_case_was_polled_once_together(published: dict[str, Published]) -> None:
    assert set(published) == set(CASES)


GOOD_RSS_TITLES = ["Third post", "Second post", "First post"]


def test_rss20(published: dict[str, Published]) -> None:
    case = published["rss20"]
    assert (case.result.status, case.result.new, case.result.error) == ("updated", 3, None)
    assert case.titles == GOOD_RSS_TITLES
    third = case.items[0]
    assert set(third["tags"]) >= {"Python", "Release Notes", "rss20"}
    assert "<strong>third</strong>" in third["content_html"]
    assert case.result.next_poll == NOW + timedelta(seconds=7200), "ttl 120 lengthens 30 min"


def test_rss10(published: dict[str, Published]) -> None:
    case = published["rss10"]
    assert (case.result.status, case.result.new) == ("updated", 2)
    assert case.titles == ["Zweiter Eintrag", "Erster Eintrag"]


def test_atom(published: dict[str, Published]) -> None:
    case = published["atom"]
    assert (case.result.status, case.result.new) == ("updated", 2)
    assert case.titles == ["Atom HTML title", "XHTML entry"]


def test_json_feed(published: dict[str, Published]) -> None:
    case = published["jsonfeed"]
    assert (case.result.status, case.result.new) == ("updated", 2)
    assert case.titles[0] == "Premier article"
    assert any("not an object" in note for note in case.result.notes)


def test_gzip_body_is_decoded(published: dict[str, Published]) -> None:
    case = published["gzip"]
    assert (case.result.status, case.result.new) == ("updated", 3)
    assert case.titles == GOOD_RSS_TITLES


def test_relative_links_resolve_against_the_final_feed_url(
    published: dict[str, Published],
) -> None:
    case = published["relative"]
    base = case.result.url.rsplit("/", 2)[0]  # http://127.0.0.1:port
    assert case.result.status == "updated"
    assert case.items[0]["url"] == f"{base}/articles/one.html"
    assert f'src="{base}/articles/pics/one.png"' in case.items[0]["content_html"]


def test_xml_base_wins_over_the_feed_url(published: dict[str, Published]) -> None:
    case = published["xml-base"]
    assert case.items[0]["url"] == "https://cdn.upstream.example/blog/2025/post-1.html"
    assert "127.0.0.1" not in case.text()


def test_gbk_declared_utf8_is_read_and_reported(published: dict[str, Published]) -> None:
    case = published["gbk"]
    assert case.result.status == "updated"
    assert "你好世界" in case.titles
    assert any("gb18030" in note for note in case.result.notes)


def test_truncated_xml_keeps_what_was_recovered_with_a_warning(
    published: dict[str, Published],
) -> None:
    case = published["truncated"]
    assert (case.result.status, case.result.error) == ("updated", None)
    assert {"Complete one", "Complete two"} <= set(case.titles)
    assert any("malformed XML" in note for note in case.result.notes)


def test_an_html_page_is_a_parse_error_and_nothing_is_published(
    published: dict[str, Published],
) -> None:
    case = published["html"]
    assert case.result.status == "failed"
    assert isinstance(case.result.error, ParseError)
    assert case.result.error.where.endswith("/index.html")
    assert "HTML" in case.result.error.problem
    assert case.items == []


def test_entity_bomb_is_not_expanded(published: dict[str, Published]) -> None:
    case = published["bomb"]
    assert "lollol" not in case.text()
    assert len(case.text()) < 10_000


def test_external_entity_never_reads_a_local_file(published: dict[str, Published]) -> None:
    case = published["xxe"]
    assert "root:" not in case.text()
    assert "/bin/" not in case.text()


def test_script_and_event_handlers_never_reach_our_feeds(published: dict[str, Published]) -> None:
    case = published["script"]
    assert case.result.status == "updated"
    assert case.titles == ["Hello world"]
    text = case.text().lower()
    for banned in ("<script", "onerror", "onclick", "javascript:", "alert("):
        assert banned not in text


FAILURES = {
    "slow": (FetchError, "no complete answer within 1 s"),
    "over-cap declared": (FetchError, f"over the cap of {CAP}"),
    "over-cap chunked": (FetchError, f"over the cap of {CAP} bytes; stopped reading"),
    "server error": (FetchError, "server error (HTTP 500)"),
    "plain text": (ParseError, "not a feed"),
    "404": (FetchError, "not found (HTTP 404)"),
    "redirect to a local file": (FetchError, "unsupported URL"),
    "too many redirects": (FetchError, "more than 5 redirects"),
    "connection refused": (FetchError, "cannot connect"),
}


@pytest.mark.parametrize("name", FAILURES)
def test_failures_are_reported_against_their_url(
    published: dict[str, Published], name: str
) -> None:
    kind, message = FAILURES[name]
    case = published[name]
    assert case.result.status == "failed"
    assert isinstance(case.result.error, kind)
    assert message in case.result.error.problem
    assert case.result.error.where == case.result.url
    assert case.result.next_poll is not None and case.result.next_poll > NOW
    assert case.items == []


# -- cases that take several polls --------------------------------------------------------


def poll(settings: Settings, sources: list[Source], when: datetime, **options: Any) -> PollResult:
    with Store.open(settings.store) as store:
        (result,) = poll_sources(settings, store, sources, now=when, **options)
    return result


def stored_titles(settings: Settings) -> list[str]:
    with Store.open(settings.store) as store:
        return [entry.title for entry in store.entries()]


def test_etag_then_304_costs_no_parse_and_keeps_entries(upstream: Upstream, tmp_path: Path) -> None:
    body = fixture("rss20_good.xml")

    def route(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            send(handler, 304, b"", {"ETag": '"v1"'})
        else:
            send(handler, 200, body, {"ETag": '"v1"', **RSS})

    upstream.routes["/etag.xml"] = route
    settings = settings_in(tmp_path)
    source = Source("etag", upstream.url("/etag.xml"), timezone="UTC")
    first = poll(settings, [source], NOW)
    second = poll(settings, [source], NOW + timedelta(hours=3))
    assert (first.status, first.new) == ("updated", 3)
    assert (second.status, second.new, second.error) == ("not modified", 0, None)
    assert [hit.headers.get("if-none-match") for hit in upstream.hits] == [None, '"v1"']
    assert stored_titles(settings) == GOOD_RSS_TITLES


def test_a_301_chain_three_polls_in_a_row_moves_the_source(
    upstream: Upstream, tmp_path: Path
) -> None:
    upstream.redirect("/old.xml", 301, "/older.xml")
    upstream.redirect("/older.xml", 308, "/new.xml")
    upstream.serve("/new.xml", fixture("rss20_good.xml"), headers=RSS)
    settings = settings_in(tmp_path)
    source = Source("moving", upstream.url("/old.xml"), timezone="UTC")
    results = [poll(settings, [source], NOW + timedelta(hours=h), force=True) for h in range(4)]
    assert [r.notes for r in results[:2]] == [(), ()]
    assert results[2].notes == (
        f"moved permanently to {upstream.url('/new.xml')}; now polling it (update {source.where})",
    )
    assert results[3].url == upstream.url("/new.xml")
    assert upstream.paths() == ["/old.xml", "/older.xml", "/new.xml"] * 3 + ["/new.xml"]
    assert stored_titles(settings) == GOOD_RSS_TITLES


def test_410_disables_the_source_and_its_entries_stay_published(
    upstream: Upstream, tmp_path: Path
) -> None:
    upstream.serve("/feed.xml", fixture("rss20_good.xml"), headers=RSS)
    settings = settings_in(tmp_path)
    source = Source("gone", upstream.url("/feed.xml"), timezone="UTC", category="gone")
    poll(settings, [source], NOW)
    upstream.serve("/feed.xml", b"", 410)
    gone = poll(settings, [source], NOW + timedelta(hours=1), force=True)
    assert gone.status == "gone"
    assert isinstance(gone.error, FetchError)
    assert "source disabled" in gone.error.problem
    with Store.open(settings.store) as store:
        assert poll_sources(settings, store, [source], now=NOW + timedelta(days=9)) == []
        (status,) = store.sources_status()
    assert status.disabled and status.entries == 3
    write_catalog(settings.sources, [source])
    build(settings, offline=True)
    assert [i["title"] for i in items_of(settings.out, "gone")] == GOOD_RSS_TITLES


def test_429_retry_after_is_honoured(upstream: Upstream, tmp_path: Path) -> None:
    upstream.serve("/busy.xml", b"slow down", 429, {"Retry-After": "5400"})
    settings = settings_in(tmp_path)
    source = Source("busy", upstream.url("/busy.xml"), timezone="UTC")
    result = poll(settings, [source], NOW)
    assert result.status == "throttled"
    assert result.next_poll == NOW + timedelta(seconds=5400)
    with Store.open(settings.store) as store:
        later = NOW + timedelta(seconds=5399)
        assert poll_sources(settings, store, [source], now=later) == []
    assert len(upstream.hits) == 1
