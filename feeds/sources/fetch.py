"""HTTP for upstream feeds (httpx): one GET, with limits, and nothing but bytes back.

The client is made here but always passed in, so unit tests hand over an
`httpx.MockTransport` and integration tests a client aimed at a server on 127.0.0.1.

Limits, all from settings: a connect timeout, a total timeout for the whole exchange (an
upstream trickling one byte a second would never trip httpx's per-read timeout), a body cap
counted on the decoded bytes while they stream (a gzip bomb stops at the cap, not after),
and at most 5 redirects. Any failure is a `FetchError` naming the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import httpx

from feeds import __version__
from feeds.errors import FetchError
from feeds.settings import Settings

MAX_REDIRECTS = 5
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
# Headers that describe the bytes on the wire, which we no longer hold: httpx hands us the
# decoded body, and a parser that saw Content-Encoding: gzip might try to gunzip it again.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# The body of an answer we do not use (304, 404, 503 ...) is read and dropped up to this
# size: httpcore hands a connection back to the pool only when its answer was read to the
# end, so without this every 304 of a poll would cost a new connection (1,000 loopback
# 304s: 3.5 s -> see README, Performance). A larger body closes the connection instead.
_DRAIN_LIMIT = 64 * 1024


def user_agent(settings: Settings) -> str:
    """feeds/<version> (+<site>): names the software and where what it fetches ends up."""
    return f"feeds/{__version__} (+{settings.base_url})"


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """httpx's own default TLS settings, made once: loading the CA bundle takes 40-50 ms,
    which every client would pay again (a poll makes one client per 8 connections)."""
    return httpx.create_ssl_context()


def make_client(settings: Settings, connections: int | None = None) -> httpx.AsyncClient:
    """A client with at most `connections` (default: the `concurrency` setting)."""
    connections = connections or settings.concurrency
    return httpx.AsyncClient(
        verify=tls_context(),
        headers={"User-Agent": user_agent(settings), "Accept": ACCEPT},
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # the final URL, after redirects
    status: int
    headers: Mapping[str, str]  # lower-case names, wire-only headers dropped
    body: bytes  # empty unless the status is 2xx
    hops: tuple[int, ...]  # status of each redirect followed


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    max_body: int,
    timeout: float,
) -> Fetched:
    """GET `url`; the body is read only for a 2xx answer, and only up to `max_body`."""
    try:
        async with asyncio.timeout(timeout):
            return await _get(client, url, headers or {}, max_body)
    except TimeoutError:
        raise FetchError(url, f"no complete answer within {timeout:g} s") from None
    except httpx.TooManyRedirects:
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects") from None
    except httpx.ConnectTimeout:
        raise FetchError(url, "timed out while connecting") from None
    except httpx.TimeoutException:
        raise FetchError(url, "timed out waiting for the server") from None
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(url, f"redirected to an unsupported URL ({exc})") from None
    except httpx.DecodingError:
        raise FetchError(url, "body could not be decompressed (bad gzip/deflate/br)") from None
    except httpx.ConnectError as exc:
        raise FetchError(url, f"cannot connect: {exc or type(exc).__name__}") from None
    except httpx.HTTPError as exc:
        raise FetchError(url, f"{type(exc).__name__}: {exc}") from None


async def _get(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], max_body: int
) -> Fetched:
    async with client.stream("GET", url, headers=dict(headers)) as response:
        body = b""
        if response.is_success:
            body = await _read_capped(response, url, max_body)
        else:
            await _drain(response)
        return Fetched(
            url=str(response.url),
            status=response.status_code,
            headers={
                name.lower(): value
                for name, value in response.headers.items()
                if name.lower() not in _WIRE_HEADERS
            },
            body=body,
            hops=tuple(hop.status_code for hop in response.history),
        )


async def _drain(response: httpx.Response) -> None:
    """Read an unused body to its end (it is small) so the connection can be reused."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _DRAIN_LIMIT:
        return
    size = 0
    # The answer's status is what we report: trouble reading a body we drop only costs the
    # connection (StreamError: a test transport's body was already read).
    with contextlib.suppress(httpx.HTTPError, httpx.StreamError):
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > _DRAIN_LIMIT:
                return


async def _read_capped(response: httpx.Response, url: str, max_body: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise FetchError(url, f"body of {int(declared)} bytes is over the cap of {max_body}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_body:
            raise FetchError(url, f"body is over the cap of {max_body} bytes; stopped reading")
        chunks.append(chunk)
    return b"".join(chunks)
