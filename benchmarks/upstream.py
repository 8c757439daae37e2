"""A loopback server with many upstream RSS feeds, and a sources file pointing at it.

Every feed has a fixed ETag and Last-Modified: a conditional request that sends either back
gets 304 Not Modified with no body, as a well-behaved upstream answers a poller that
stores them. The server runs in a thread of the benchmark process and only ever listens
on 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

LAST_MODIFIED = "Mon, 03 Feb 2025 08:00:00 GMT"
_PARAGRAPH = (
    "Upstream feeds carry a paragraph or two of text per item; this one stands in for it, "
    "with <b>markup</b> &amp; entities, so parsing costs what a real feed costs. "
)


def feed_document(number: int, entries: int, now: datetime) -> bytes:
    # Recent dates: the store's retention (90 days) would drop older entries unstored.
    start = now - timedelta(minutes=number)
    items = []
    for index in range(entries):
        when = format_datetime(start - timedelta(minutes=37 * index))
        link = f"https://upstream-{number}.example/posts/{index}"
        items.append(
            f"<item><title>Upstream {number} item {index}</title><link>{link}</link>"
            f'<guid isPermaLink="false">u{number}-{index}</guid><pubDate>{when}</pubDate>'
            f"<description>{escape(_PARAGRAPH * 3)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Upstream {number}</title><link>https://upstream-{number}.example/</link>"
        f"<description>Benchmark feed {number}</description>"
        + "".join(items)
        + "</channel></rss>\n"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server would
    server: _Server

    def do_GET(self) -> None:
        try:
            number = int(self.path.strip("/").removeprefix("feed/").removesuffix(".xml"))
            body = self.server.documents[number]
        except (ValueError, IndexError):
            self.send_error(404)
            return
        etag = f'"feed-{number}-v1"'
        fresh = (
            self.headers.get("If-None-Match") == etag
            or self.headers.get("If-Modified-Since") == LAST_MODIFIED
        )
        self.send_response(304 if fresh else 200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", "0" if fresh else str(len(body)))
        self.end_headers()
        if not fresh:
            self.wfile.write(body)
        with self.server.lock:
            self.server.counts[304 if fresh else 200] += 1

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, documents: list[bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.documents = documents
        self.lock = threading.Lock()
        self.counts = {200: 0, 304: 0}


@contextmanager
def serving(feeds: int, entries: int) -> Iterator[_Server]:
    now = datetime.now(UTC).replace(microsecond=0)
    server = _Server([feed_document(number, entries, now) for number in range(feeds)])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def write_sources(folder: Path, port: int, feeds: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for number in range(feeds):
        lines += [
            "[[source]]",
            f'name = "upstream {number:04d}"',
            f'url = "http://127.0.0.1:{port}/feed/{number}.xml"',
            "",
        ]
    path = folder / "bench.toml"
    path.write_text("\n".join(lines))
    return path
