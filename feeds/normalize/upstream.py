"""One upstream response -> entries: decode, detect the format, hand over. Nothing else.

body ─ encoding.decode_body ─┬─ xmlfeed.read_xml (feedparser: RSS, RDF, Atom) ─┬─ adapter.adapt
                             └─ jsonfeed.read_json (JSON Feed 1.0/1.1) ────────┘
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from feeds.errors import ParseError
from feeds.model import Entry, Source
from feeds.normalize.adapter import adapt
from feeds.normalize.encoding import decode_body
from feeds.normalize.jsonfeed import read_json
from feeds.normalize.rawfeed import RawFeed
from feeds.normalize.ttl import ttl_seconds
from feeds.normalize.xmlfeed import read_xml


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: tuple[Entry, ...]
    # Ids whose dates were filled with seen_at (no date, or more than a day ahead): the
    # store keeps the first date it saw for them rather than taking a new one each poll.
    undated: frozenset[str]
    warnings: tuple[str, ...]  # problems that did not stop the parse; no URL in them
    ttl: int | None  # seconds the feed asks us to wait (capped at a day), or None


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    source: Source,
    seen_at: datetime,
    zone: tzinfo = UTC,
) -> ParsedFeed:
    """Parse one response body; `zone` is the site's, for dates without a zone when the
    source names none. Raises ParseError(url, problem) when no entry can be recovered."""
    lower = {name.lower(): value for name, value in headers.items()}
    if not body or body.isspace():
        raise ParseError(url, "empty body")
    decoded = decode_body(body, lower, source.lang)
    raw = _read(decoded.text, lower, url)
    adapted = adapt(raw, url, source, seen_at, zone)
    warnings = (decoded.warning,) if decoded.warning else ()
    return ParsedFeed(
        entries=adapted.entries,
        undated=adapted.undated,
        warnings=warnings + adapted.warnings,
        ttl=ttl_seconds(raw.hints, seen_at),
    )


def _read(text: str, headers: Mapping[str, str], url: str) -> RawFeed:
    if _is_json(text, headers.get("content-type", "")):
        return read_json(text, url)
    return read_xml(text, headers, url)


def _is_json(text: str, content_type: str) -> bool:
    # By the content, then the declared type: servers label JSON Feeds text/plain or
    # application/octet-stream, and XML feeds application/json, often enough.
    start = text.lstrip()[:1]
    if start in ("{", "["):
        return True
    if start == "<":
        return False
    return "json" in content_type.lower()
