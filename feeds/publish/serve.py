"""Serving out/ to feed readers and browsers: Starlette on uvicorn, plus `GET /healthz`.

Readers poll the same URLs for years, so every file answers with a strong ETag (sha256 of
its bytes), Last-Modified (its mtime: the writer only touches files whose bytes change)
and Cache-Control; a conditional request that matches gets 304 (If-None-Match wins over
If-Modified-Since, RFC 9110 13.2.2). A gzipped body is another representation, so it
carries its own ETag ("<digest>-gzip"), and either tag counts as a match on revalidation:
the client holds the current bytes in one encoding or the other (Apache's mod_deflate once
broke 304s by not accepting its own suffixed tag back).

Atom and RSS go out with their exact types (application/atom+xml, application/rss+xml) to
everything but a browser navigating (Accept prefers text/html): Chromium shows those types
as plain text and never runs the feed.xsl they reference, so a browser gets the same bytes
as application/xml, with `Vary: Accept` and an ETag of its own ("<digest>-xml").

Nothing outside out/ is ever served, nothing hidden, no folder listed (feeds/publish/paths.py);
every refusal is a 404, so probing learns nothing. /healthz: feeds/publish/health.py.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import mimetypes
import os
import signal
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.errors import ConfigError
from feeds.model import Source
from feeds.publish.health import Health
from feeds.publish.negotiate import accepts_gzip, prefers_html
from feeds.publish.paths import locate
from feeds.settings import Settings
from feeds.sources.catalog import load_catalog

log = logging.getLogger("feeds.serve")

DEFAULT_MAX_AGE = 300  # seconds, when no upstream source is enabled
MAX_PATH = 2048  # bytes of request target; longer is 414
MAX_HEAD = 16 * 1024  # bytes of request headers; more is 431
GZIP_MIN = 256  # smaller bodies gain nothing from gzip
CACHED_FILES = 512
FEED_TYPES = {
    "atom.xml": "application/atom+xml; charset=utf-8",
    "rss.xml": "application/rss+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
}
SUFFIX_TYPES = {
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# What a browser that asks for a page gets instead of the feed types (see respond).
BROWSER_XML = "application/xml; charset=utf-8"
STYLED = frozenset({"atom.xml", "rss.xml"})
VARIANTS = ("", "-gzip", "-xml", "-xml-gzip")  # ETag suffixes: one per representation
# Feeds and the OPML list are fetched by web-based readers from other origins.
CORS_SUFFIXES = (".opml",)


def max_age_of(sources: Iterable[Source]) -> int:
    """Seconds readers may cache: the shortest poll interval of the enabled sources.

    Nothing from upstream can change sooner; seed edits show once the cache expires.
    """
    return min((s.interval for s in sources if s.enabled), default=DEFAULT_MAX_AGE)


def content_type(name: str) -> str:
    if name in FEED_TYPES:
        return FEED_TYPES[name]
    suffix = Path(name).suffix.lower()
    if suffix in SUFFIX_TYPES:
        return SUFFIX_TYPES[suffix]
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Representation:
    """One file's bytes as served, with validators; `gzipped` when worth compressing."""

    body: bytes
    digest: str  # sha256 of body; every variant's ETag starts with it
    gzipped: bytes | None
    modified: float  # mtime, seconds
    media_type: str
    cors: bool
    styled: bool  # an Atom or RSS feed that browsers render with feed.xsl

    def etag(self, variant: str) -> str:
        return f'"{self.digest}{variant}"'

    def matches(self, header: str) -> bool:
        """If-None-Match, weak comparison (RFC 9110 13.1.2), any variant's tag."""
        if header.strip() == "*":
            return True
        ours = {self.etag(variant) for variant in VARIANTS}
        for candidate in header.split(","):
            tag = candidate.strip()
            if tag.startswith("W/"):
                tag = tag[2:]
            if tag in ours:
                return True
        return False

    def not_modified_since(self, header: str) -> bool:
        try:
            since = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return False  # a malformed date is ignored, as RFC 9110 13.1.3 says
        return int(self.modified) <= since.timestamp()


def load(path: Path, name: str) -> Representation:
    """Read one file through one descriptor, so bytes and mtime belong together even if the
    writer renames a new version into place meanwhile."""
    with path.open("rb") as handle:
        info = os.fstat(handle.fileno())
        body = handle.read()
    media_type = content_type(name)
    compressible = media_type.startswith(("text/", "application/"))
    gzipped = None
    if compressible and len(body) >= GZIP_MIN:
        # mtime=0 keeps the gzip bytes a pure function of the content, like the ETag.
        gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    return Representation(
        body=body,
        digest=hashlib.sha256(body).hexdigest(),
        gzipped=gzipped,
        modified=info.st_mtime,
        media_type=media_type,
        cors=name in FEED_TYPES or name.endswith(CORS_SUFFIXES),
        styled=name in STYLED,
    )


class Files:
    """Representations of out/ files, cached by (inode, mtime, size): a rewrite changes all."""

    def __init__(self) -> None:
        self._cache: OrderedDict[Path, tuple[tuple[int, int, int], Representation]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> Representation | None:
        try:
            info = path.stat()
            key = (info.st_ino, info.st_mtime_ns, info.st_size)
            with self._lock:
                cached = self._cache.get(path)
                if cached is not None and cached[0] == key:
                    self._cache.move_to_end(path)
                    return cached[1]
            found = load(path, path.name)
        except OSError:
            return None  # vanished between lookup and read: the writer removed it
        with self._lock:
            self._cache[path] = (key, found)
            while len(self._cache) > CACHED_FILES:
                self._cache.popitem(last=False)
        return found


def respond(request: Request, found: Representation, max_age: int) -> Response:
    headers = {
        "Last-Modified": formatdate(found.modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
    }
    if found.cors:
        headers["Access-Control-Allow-Origin"] = "*"
    body, media_type, variant, vary = found.body, found.media_type, "", []
    if found.styled:
        vary.append("Accept")
        if prefers_html(request.headers.get("accept", "")):
            # Chromium shows application/atom+xml and rss+xml as plain text and never runs
            # their stylesheet: a browser asking for a page gets the same bytes as XML.
            media_type, variant = BROWSER_XML, "-xml"
    if found.gzipped is not None:
        vary.append("Accept-Encoding")
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            body, variant = found.gzipped, variant + "-gzip"
            headers["Content-Encoding"] = "gzip"
    if vary:
        headers["Vary"] = ", ".join(vary)
    headers["ETag"] = found.etag(variant)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        fresh = found.matches(if_none_match)
    else:
        since = request.headers.get("if-modified-since")
        fresh = since is not None and found.not_modified_since(since)
    if fresh:
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers=headers)
    headers["Content-Type"] = media_type
    headers["Content-Length"] = str(len(body))
    return Response(b"" if request.method == "HEAD" else body, headers=headers)


def create_app(
    out: Path,
    store_path: Path | None,
    max_age: int | Callable[[], int],
    *,
    health_ttl: float = 1.0,
) -> Starlette:
    """The whole server: `/healthz` and the files of `out`. `max_age` may be asked for
    each response (`feeds run` follows edits of sources/*.toml)."""
    age = max_age if callable(max_age) else lambda: max_age
    files = Files()
    health = Health(store_path, health_ttl)

    async def healthz(request: Request) -> Response:
        report, status = await run_in_threadpool(health.read)
        return JSONResponse(report, status, headers={"Cache-Control": "no-store"})

    async def static(request: Request) -> Response:
        # scope["path"] is percent-decoded once: "%2e%2e" arrives as "..", "%252e" as "%2e".
        path = str(request.scope.get("path", ""))
        found = await run_in_threadpool(locate, out, store_path, path)
        if found.redirect is not None:
            query = request.url.query
            target = found.redirect + (f"?{query}" if query else "")
            return RedirectResponse(target, 301)
        representation = None
        if found.path is not None:
            representation = await run_in_threadpool(files.get, found.path)
        if representation is None:
            return PlainTextResponse("not found", 404)
        return respond(request, representation, age())

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/{path:path}", static, methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(Limits)],
    )


class Limits:
    """Refuse oversized requests before routing. uvicorn's h11 only bounds a request head
    still incomplete in its buffer; one that arrives whole passes, whatever its size."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            head = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            refusal = None
            if target > MAX_PATH:
                refusal = PlainTextResponse("URI too long", 414)
            elif head > MAX_HEAD:
                refusal = PlainTextResponse("request header fields too large", 431)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve settings.out on host:port until interrupted (SIGINT/SIGTERM: uvicorn stops)."""
    catalog = load_catalog(settings.sources, settings.timezone)
    for error in catalog.errors:
        log.warning("%s", error)
    app = create_app(settings.out, settings.store, max_age_of(catalog.enabled))
    listener = listen(host, port)
    config = uvicorn.Config(app, lifespan="off", timeout_graceful_shutdown=3)
    try:
        StoppingServer(config).run(sockets=[listener])
    finally:
        listener.close()


class StoppingServer(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after its graceful stop, so the process would die of
    the signal; a stop that was asked for is a success, so `feeds serve` exits 0 instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        numbers = (signal.SIGINT, signal.SIGTERM)
        previous = {number: signal.signal(number, self.handle_exit) for number in numbers}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def listen(host: str, port: int) -> socket.socket:
    """Bind first, so a port in use is a clear ConfigError rather than a uvicorn traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise ConfigError(f"{host}:{port}", f"cannot listen: {exc.strerror or exc}") from None
    return listener
