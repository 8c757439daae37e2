"""A real HTTP server on 127.0.0.1, in a thread, serving named routes for the tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Hit:
    path: str
    headers: dict[str, str]


@dataclass
class Upstream:
    """Routes by path; every request is recorded in `hits`."""

    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(
        self, path: str, body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        def route(handler: BaseHTTPRequestHandler) -> None:
            send(handler, status, body, headers)

        self.routes[path] = route

    def redirect(self, path: str, status: int, location: str) -> None:
        self.serve(path, b"", status, {"Location": location})

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status)
    given = {name.lower() for name in headers or {}}
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if "content-length" not in given and "transfer-encoding" not in given:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


@contextmanager
def running(upstream: Upstream) -> Iterator[Upstream]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            upstream.hits.append(Hit(path, {k.lower(): v for k, v in self.headers.items()}))
            route = upstream.routes.get(path)
            if route is None:
                send(self, 404, b"not here")
            else:
                route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    upstream.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
