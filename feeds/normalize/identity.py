"""Entry identity, written down as one chain (see each function).

Ids we publish never change once published: seed ids come from the site host and the
file's stem, upstream ids are scoped by source and stored the first time they are seen.

The upstream chain: guid -> guid+link (when one document reuses a guid for different links)
-> link -> hash of title and content. The guid is taken as written, never resolved against
the feed URL, so an upstream that moves keeps its ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# The tag: URI date (RFC 4151) is the date the authority owned the name; it must never
# change, so it is a constant rather than something derived from the run or the article.
TAG_DATE = "2025"

_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "spm", "igshid", "ref_src")


def seed_id(base_url: str, stem: str) -> str:
    """tag:<host>,2025:<stem> for an article of seeds/, e.g. tag:127.0.0.1,2025:000_83a9."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{TAG_DATE}:{quote(stem, safe='')}"


@dataclass(frozen=True, slots=True)
class ItemKeys:
    """What identifies one upstream item: its guid, its absolute link, its title and body."""

    guid: str | None
    link: str | None
    title: str
    content: str


def upstream_id(source: str, guid: str | None, link: str | None, title: str, content: str) -> str:
    """guid, else link, else a hash of title and content; always scoped by the source name.

    When an upstream reuses one guid for different links, `document_ids` passes guid+link as
    `guid`, so the chain here stays: guid -> link -> hash.
    """
    if guid:
        key = "guid:" + guid
    elif link:
        key = "link:" + identity_link(link)
    else:
        key = "hash:" + _digest(title, content)
    return f"urn:feeds:{quote(source, safe='')}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def document_ids(source: str, items: Sequence[ItemKeys]) -> list[str]:
    """The id of every item of one feed document, in document order.

    A guid met again in the same document with a different link is a reused guid: its first
    occurrence keeps the plain guid's id, the later ones get guid+link (guid+hash when they
    have no link). Items that are true repeats (same guid and link, or no guid and the same
    link or text) get the same id; the caller keeps the first.
    """
    first_link: dict[str, str | None] = {}
    ids = []
    for item in items:
        guid = item.guid
        link = identity_link(item.link) if item.link else None
        if guid is not None:
            if guid not in first_link:
                first_link[guid] = link
            elif first_link[guid] != link:
                guid = f"{guid}\n{link or 'hash:' + _digest(item.title, item.content)}"
        ids.append(upstream_id(source, guid, item.link, item.title, item.content))
    return ids


def identity_link(url: str) -> str:
    """The canonical link with its fragment kept: changelog feeds often give every item the
    same page with a different #anchor, and those are different items."""
    fragment = urlsplit(url.strip()).fragment
    return canonical_link(url) + ("#" + fragment if fragment else "")


def _digest(title: str, content: str) -> str:
    return hashlib.sha256(f"{title}\x00{content}".encode()).hexdigest()[:32]


def canonical_link(url: str) -> str:
    """Scheme and host lower-cased, default port, fragment and tracking parameters dropped."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))
