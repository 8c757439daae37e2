"""fetch(): one GET with limits, against httpx.MockTransport (the network's edge)."""

from __future__ import annotations

import asyncio
import gzip
import threading
import zlib
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import httpx
import pytest

from feeds.errors import FetchError
from feeds.settings import defaults
from feeds.sources.fetch import Fetched, fetch, make_client, user_agent

URL = "http://feed.test/rss"


def run(handler: object, *, max_body: int = 1000, timeout: float = 5.0, url: str = URL) -> Fetched:
    async def go() -> Fetched:
        transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
        async with httpx.AsyncClient(
            transport=transport, follow_redirects=True, max_redirects=5
        ) as client:
            return await fetch(client, url, max_body=max_body, timeout=timeout)

    return asyncio.run(go())


def test_a_plain_answer_gives_body_headers_and_no_hops() -> None:
    fetched = run(lambda request: httpx.Response(200, content=b"<rss/>", headers={"ETag": '"1"'}))
    assert (fetched.status, fetched.body, fetched.url, fetched.hops) == (200, b"<rss/>", URL, ())
    assert fetched.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)],
)
def test_compressed_bodies_are_decoded_and_wire_headers_dropped(
    encoding: str, compress: object
) -> None:
    body = b"<rss>" + b"x" * 500 + b"</rss>"
    packed = compress(body)  # type: ignore[operator]
    fetched = run(
        lambda request: httpx.Response(
            200, content=packed, headers={"Content-Encoding": encoding, "Content-Type": "text/xml"}
        )
    )
    assert fetched.body == body
    assert "content-encoding" not in fetched.headers
    assert "content-length" not in fetched.headers
    assert fetched.headers["content-type"] == "text/xml"


def test_a_gzip_bomb_stops_at_the_cap_on_decoded_bytes() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    with pytest.raises(FetchError, match="over the cap of 100000 bytes") as caught:
        run(
            lambda request: httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"}),
            max_body=100_000,
        )
    assert caught.value.where == URL


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with pytest.raises(FetchError, match="body of 5000 bytes is over the cap"):
        run(lambda request: httpx.Response(200, content=b"x" * 5000), max_body=1000)


def test_a_streamed_body_over_the_cap_stops_while_streaming() -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b"x" * 100

    with pytest.raises(FetchError, match="stopped reading"):
        run(lambda request: httpx.Response(200, content=chunks()), max_body=1000)
    assert len(sent) < 100, "the body must not be read to its end"


def test_error_statuses_come_back_without_reading_the_body() -> None:
    fetched = run(lambda request: httpx.Response(500, content=b"x" * 10_000), max_body=10)
    assert (fetched.status, fetched.body) == (500, b"")


def test_redirect_hops_are_reported_with_the_final_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rss":
            return httpx.Response(301, headers={"Location": "/a"})
        if request.url.path == "/a":
            return httpx.Response(308, headers={"Location": "http://other.test/b"})
        return httpx.Response(200, content=b"ok")

    fetched = run(handler)
    assert (fetched.url, fetched.hops, fetched.body) == ("http://other.test/b", (301, 308), b"ok")


def test_more_than_five_redirects_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        step = int(request.url.params.get("n", "0"))
        return httpx.Response(302, headers={"Location": f"/rss?n={step + 1}"})

    with pytest.raises(FetchError, match="more than 5 redirects"):
        run(handler)


def test_a_connection_failure_names_the_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(FetchError, match="cannot connect: connection refused") as caught:
        run(handler)
    assert caught.value.where == URL


def test_a_trickling_body_hits_the_total_timeout() -> None:
    async def slow() -> AsyncIterator[bytes]:
        for _ in range(100):
            await asyncio.sleep(0.05)
            yield b"x"

    with pytest.raises(FetchError, match=r"no complete answer within 0\.2 s"):
        run(lambda request: httpx.Response(200, content=slow()), timeout=0.2)


def test_the_client_names_the_project_and_its_version() -> None:
    settings = defaults()
    seen: list[httpx.Request] = []

    async def go() -> None:
        client = make_client(settings)
        client._transport = httpx.MockTransport(  # the real client's settings, a fake network
            lambda request: seen.append(request) or httpx.Response(200, content=b"")
        )
        async with client:
            await fetch(client, URL, headers={"If-None-Match": '"v"'}, max_body=10, timeout=5)

    asyncio.run(go())
    (request,) = seen
    assert request.headers["user-agent"] == user_agent(settings)
    assert user_agent(settings).startswith("feeds/0.")
    assert "br" in request.headers["accept-encoding"]
    assert "gzip" in request.headers["accept-encoding"]
    assert request.headers["if-none-match"] == '"v"'


def test_answers_without_a_used_body_leave_the_connection_for_the_next_request() -> None:
    """A 304 (and a small 404) is read to its end, so the pool reuses the connection."""
    connections: list[object] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            connections.append(self.client_address)
            super().setup()

        def do_GET(self) -> None:
            status, body = (304, b"") if self.path == "/fresh" else (404, b"gone" * 100)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def go() -> list[int]:
        async with make_client(defaults(), connections=1) as client:
            return [
                (await fetch(client, base + path, max_body=1000, timeout=5.0)).status
                for path in ("/fresh", "/missing", "/fresh")
            ]

    try:
        assert asyncio.run(go()) == [304, 404, 304]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert len(connections) == 1
