"""Entry identity, written down as one chain (see each function).

Ids we publish never change once published: seed ids come from the site host and the
file's stem, upstream ids are scoped by source and stored the first time they are seen.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# The tag: URI date (RFC 4151) is the date the authority owned the name; it must never
# change, so it is a constant rather than something derived from the run or the article.
TAG_DATE = "2025"

_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "spm", "igshid", "ref_src")


def seed_id(base_url: str, stem: str) -> str:
    """tag:<host>,2025:<stem> for an article of seeds/, e.g. tag:127.0.0.1,2025:000_83a9."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{TAG_DATE}:{quote(stem, safe='')}"


def upstream_id(source: str, guid: str | None, link: str | None, title: str, content: str) -> str:
    """guid, else link, else a hash of title and content; always scoped by the source.

    When an upstream reuses one guid for different links the caller passes guid+link as
    `guid` (see merge), so the chain here stays: guid -> link -> hash.
    """
    if guid:
        key = "guid:" + guid
    elif link:
        key = "link:" + canonical_link(link)
    else:
        digest = hashlib.sha256(f"{title}\x00{content}".encode()).hexdigest()[:32]
        key = "hash:" + digest
    return f"urn:feeds:{quote(source, safe='')}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def canonical_link(url: str) -> str:
    """Scheme and host lower-cased, default port, fragment and tracking parameters dropped."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and not (scheme, port) in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))
