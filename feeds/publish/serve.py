"""Serving out/ to feed readers and browsers: Starlette on uvicorn, plus `GET /healthz`.

Readers poll the same URLs for years, so every file answers with a strong ETag (sha256 of
its bytes), Last-Modified (its mtime: the writer only touches files whose bytes change)
and Cache-Control; a conditional request that matches gets 304 (If-None-Match wins over
If-Modified-Since, RFC 9110 13.2.2). A gzipped body is another representation, so it
carries its own ETag ("<digest>-gzip"), and either tag counts as a match on revalidation:
the client holds the current bytes in one encoding or the other (Apache's mod_deflate once
broke 304s by not accepting its own suffixed tag back).

Nothing outside out/ is ever served: the decoded path is split into segments, any empty,
dot-leading (`..`, `.feeds-manifest.json`, `.tmp-*`), backslash or control-character
segment is refused, the result is resolved through symlinks and must still lie in out/,
and the store with its -wal/-shm/lock siblings is refused even if configured inside out/.
Every refusal is a 404, so probing learns nothing. Folders are never listed: `/tags/qq/`
serves its index.html and `/tags/qq` redirects there.
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
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.errors import ConfigError, StoreError
from feeds.merge.store import Store
from feeds.model import Source
from feeds.settings import Settings
from feeds.sources.catalog import load_catalog

log = logging.getLogger("feeds.serve")

DEFAULT_MAX_AGE = 300  # seconds, when no upstream source is enabled
MAX_PATH = 2048  # bytes of request target; longer is 414
MAX_HEAD = 16 * 1024  # bytes of request headers; more is 431
GZIP_MIN = 256  # smaller bodies gain nothing from gzip
CACHED_FILES = 512
INDEX = "index.html"
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
    etag: str
    gzipped: bytes | None
    gzip_etag: str
    modified: float  # mtime, seconds
    media_type: str
    cors: bool

    def matches(self, header: str) -> bool:
        """If-None-Match, weak comparison (RFC 9110 13.1.2), either encoding's tag."""
        if header.strip() == "*":
            return True
        ours = {self.etag, self.gzip_etag}
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
    digest = hashlib.sha256(body).hexdigest()
    media_type = content_type(name)
    compressible = media_type.startswith(("text/", "application/"))
    gzipped = None
    if compressible and len(body) >= GZIP_MIN:
        # mtime=0 keeps the gzip bytes a pure function of the content, like the ETag.
        gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    return Representation(
        body=body,
        etag=f'"{digest}"',
        gzipped=gzipped,
        gzip_etag=f'"{digest}-gzip"',
        modified=info.st_mtime,
        media_type=media_type,
        cors=name in FEED_TYPES or name.endswith(CORS_SUFFIXES),
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


@dataclass(frozen=True)
class Found:
    path: Path | None = None
    redirect: str | None = None


def locate(out: Path, store: Path | None, request_path: str) -> Found:
    """The file under out/ that `request_path` (percent-decoded) names, or a redirect."""
    if not request_path.startswith("/"):
        return Found()
    parts = request_path[1:].split("/")
    folder = parts[-1] == ""
    if folder:
        parts.pop()
    if not all(_safe(part) for part in parts):
        return Found()
    path = _inside(out, store, parts)
    try:
        kind = path.stat().st_mode if path is not None else 0
    except OSError:
        return Found()  # removed by the writer since it was resolved
    if path is None:
        return Found()
    if stat.S_ISDIR(kind):
        if not folder:
            return Found(redirect="/" + quote("/".join(parts), safe="/") + "/")
        path = _inside(out, store, [*parts, INDEX])
        return Found(path if path is not None and path.is_file() else None)
    return Found(path if stat.S_ISREG(kind) and not folder else None)


def _safe(part: str) -> bool:
    """A segment that can only name something inside its folder, and nothing hidden."""
    if not part or part.startswith(".") or "\\" in part:
        return False
    return all(ord(character) >= 32 and character != "\x7f" for character in part)


def _inside(out: Path, store: Path | None, parts: list[str]) -> Path | None:
    """out/parts resolved through symlinks, if it exists and is still inside out/."""
    try:
        root = out.resolve(strict=True)
        path = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(root) or any(
        part.startswith(".") for part in path.relative_to(root).parts
    ):
        return None
    if store is not None:
        private = store.resolve()
        if path.parent == private.parent and path.name.startswith(private.name):
            return None
    return path


def respond(request: Request, found: Representation, max_age: int) -> Response:
    headers = {
        "Last-Modified": formatdate(found.modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
    }
    if found.cors:
        headers["Access-Control-Allow-Origin"] = "*"
    body, etag = found.body, found.etag
    if found.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            body, etag = found.gzipped, found.gzip_etag
            headers["Content-Encoding"] = "gzip"
    headers["ETag"] = etag
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        fresh = found.matches(if_none_match)
    else:
        since = request.headers.get("if-modified-since")
        fresh = since is not None and found.not_modified_since(since)
    if fresh:
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers=headers)
    headers["Content-Type"] = found.media_type
    headers["Content-Length"] = str(len(body))
    return Response(b"" if request.method == "HEAD" else body, headers=headers)


def accepts_gzip(header: str) -> bool:
    """Accept-Encoding allows gzip: named with q > 0, or `*` with q > 0 and gzip unnamed."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, _, parameters = item.partition(";")
        weight = 1.0
        key, _, value = parameters.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[name.strip().lower()] = weight
    for name in ("gzip", "x-gzip", "*"):
        if name in weights:
            return weights[name] > 0
    return False


class Health:
    """The last build and every source's status, read from the store, cached briefly."""

    def __init__(self, store: Path | None, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, tuple[dict[str, Any], int]] | None = None

    def read(self) -> tuple[dict[str, Any], int]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.ttl:
                self._cached = (now, self._read())
            return self._cached[1]

    def _read(self) -> tuple[dict[str, Any], int]:
        if self.store is None or not self.store.is_file():
            # Store.open would create it: a missing store means no build has run yet.
            return {"status": "no build yet", "last_build": None, "sources": []}, 503
        try:
            with Store.open(self.store) as store:
                build = store.last_build()
                sources = store.sources_status()
        except StoreError as error:
            return {"status": "store error", "error": str(error), "sources": []}, 503
        report: dict[str, Any] = {
            "status": "no build yet" if build is None else "ok" if build.ok else "failing",
            "last_build": None
            if build is None
            else {"at": build.at.isoformat(), "ok": build.ok, "summary": build.summary},
            "sources": [
                {
                    "name": source.name,
                    "url": source.url,
                    "last_success": _iso(source.last_success),
                    "last_error_at": _iso(source.last_error_at),
                    "last_error": source.last_error,
                    "failures": source.failures,
                    "entries": source.entries,
                    "disabled": source.disabled,
                }
                for source in sources
            ],
        }
        return report, 200 if build is not None and build.ok else 503


def _iso(moment: Any) -> str | None:
    return None if moment is None else str(moment.isoformat())


def create_app(
    out: Path, store_path: Path | None, max_age: int, *, health_ttl: float = 1.0
) -> Starlette:
    """The whole server: `/healthz` and the files of `out`."""
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
        return respond(request, representation, max_age)

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
