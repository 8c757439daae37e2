"""Hostile feed content: no local file is read, no request is made, no entity is expanded.

The fixtures table covers the static cases (/etc/passwd); these build documents pointing
at a marker file the test writes, and at a loopback server that counts what reaches it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest

from feeds.errors import ParseError
from feeds.model import Source
from feeds.normalize.upstream import ParsedFeed, parse_feed
from feeds.normalize.xmlfeed import strip_doctypes

URL = "https://upstream.example/feed.xml"
SEEN_AT = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)
MARKER = "MARKER-7f3c-LOCAL-FILE-CONTENT"


def parse(body: bytes, content_type: str = "application/rss+xml") -> ParsedFeed:
    source = Source(name="Hostile", url=URL)
    return parse_feed(body, {"content-type": content_type}, URL, source, SEEN_AT)


def published(parsed: ParsedFeed) -> str:
    return "\n".join(
        f"{e.title}\n{e.content_html}\n{e.summary}\n{e.link}\n{e.thumbnail}\n{e.tags}"
        for e in parsed.entries
    ) + "\n".join(parsed.warnings)


def rss(doctype: str, item: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n<rss version="2.0"><channel>'
        f"<title>t</title><link>https://upstream.example/</link>"
        f"<item><link>https://upstream.example/1</link>{item}</item></channel></rss>"
    ).encode()


@pytest.fixture
def marker_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(MARKER)
    return path


class _Counter(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = f'<!ENTITY leak "{MARKER}">'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_external_entity_to_a_local_file_is_never_read(marker_file: Path) -> None:
    body = rss(
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{marker_file.as_uri()}">]>',
        "<title>a &xxe; b</title><description>&xxe;</description>",
    )
    parsed = parse(body)
    assert len(parsed.entries) == 1
    assert MARKER not in published(parsed)


def test_external_dtd_and_parameter_entity_to_a_local_file(marker_file: Path) -> None:
    dtd = marker_file.with_name("evil.dtd")
    dtd.write_text(f'<!ENTITY leak "{MARKER}">')
    for doctype in (
        f'<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">',
        f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{dtd.as_uri()}"> %p;]>',
    ):
        parsed = parse(rss(doctype, "<title>&leak;</title><description>x</description>"))
        assert MARKER not in published(parsed)


def test_xinclude_of_a_local_file_is_not_processed(marker_file: Path) -> None:
    body = (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:xi="http://www.w3.org/2001/XInclude">'
        "<title>x</title><entry><title>t</title><id>urn:1</id>"
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        f'<xi:include href="{marker_file.as_uri()}" parse="text"/></div></content>'
        "</entry></feed>"
    ).encode()
    parsed = parse(body, "application/atom+xml")
    assert [e.title for e in parsed.entries] == ["t"]
    assert MARKER not in published(parsed)


def test_feed_content_never_makes_a_request(loopback: tuple[str, list[str]]) -> None:
    base, hits = loopback
    body = rss(
        f'<!DOCTYPE rss SYSTEM "{base}/dtd" [<!ENTITY e SYSTEM "{base}/entity">]>',
        f'<title>&e;</title><description><![CDATA[<img src="{base}/img">'
        f'<iframe src="{base}/frame"></iframe>]]></description>'
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{base}/xi"/>',
    )
    parsed = parse(body)
    assert len(parsed.entries) == 1
    assert MARKER not in published(parsed)
    assert hits == []


def test_a_body_that_is_a_path_or_url_is_parsed_as_text(
    marker_file: Path, loopback: tuple[str, list[str]]
) -> None:
    # feedparser.parse(bytes) would open a body that names a file: it never gets bytes.
    feed = marker_file.with_name("feed.xml")
    feed.write_text(
        f'<rss version="2.0"><channel><item><title>{MARKER}</title></item></channel></rss>'
    )
    base, hits = loopback
    for body in (str(feed).encode(), feed.as_uri().encode(), f"{base}/feed".encode()):
        with pytest.raises(ParseError) as raised:
            parse(body)
        assert MARKER not in raised.value.problem
    assert hits == []


def test_an_entity_bomb_does_not_expand() -> None:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 12))
    body = rss(
        f'<!DOCTYPE rss [<!ENTITY l0 "lol">{levels}]>',
        "<title>&l11;</title><description>" + "&l11;" * 1000 + "</description>",
    )
    parsed = parse(body)
    assert len(parsed.entries) == 1
    assert len(published(parsed)) < 2 * len(body)
    assert "lollol" not in published(parsed)


def test_feedparser_raising_becomes_a_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(feedparser, "parse", explode)
    with pytest.raises(ParseError) as raised:
        parse(rss("", "<title>t</title>"))
    assert raised.value.where == URL
    assert "feedparser failed: RecursionError" in raised.value.problem


@pytest.mark.parametrize(
    ("text", "expected", "subset"),
    [
        ('<!DOCTYPE rss PUBLIC "-//N//DTD//EN" "x.dtd"><rss/>', "<rss/>", False),
        ('<!doctype rss [<!ENTITY a "b">]><rss/>', "<rss/>", True),
        ('<!DOCTYPE rss [\n<!ENTITY a "]">\n]  ><rss/>', "<rss/>", True),
        # A "]>" inside an entity value ends the subset early: what is left is junk text,
        # never a declaration.
        ('<!DOCTYPE rss [<!ENTITY a "]>">]><rss/>', '">]><rss/>', True),
        ("<rss/><!DOCTYPE again [ <!ENTITY x 'y'> ]>", "<rss/>", True),
        ("<!DOCTYPE a [" * 1000, "", True),
        ("<!DOCTYPE never closed", "", False),
        ("<rss>&lt;!DOCTYPE stays escaped</rss>", "<rss>&lt;!DOCTYPE stays escaped</rss>", False),
    ],
)
def test_strip_doctypes(text: str, expected: str, subset: bool) -> None:
    stripped, removed_subset = strip_doctypes(text)
    assert stripped == expected
    assert removed_subset is subset
    assert "<!DOCTYPE" not in stripped.upper()
