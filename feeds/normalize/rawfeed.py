"""What a format reader (xmlfeed, jsonfeed) hands the adapter: foreign data, not yet trusted.

Readers only map their format's structure onto these records; every fallback, every
sanitizing step and every identity decision lives in `feeds.normalize.adapter`, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Text:
    """A title, summary or body as the feed wrote it."""

    value: str
    html: bool  # markup (HTML or XHTML) rather than plain text
    base: str | None = None  # the xml:base in effect, when the document declared one


@dataclass(frozen=True, slots=True)
class RawItem:
    guid: str | None = None
    link: str | None = None  # possibly relative; the adapter resolves it against the feed URL
    title: Text | None = None
    content: Text | None = None
    summary: Text | None = None
    published: str | None = None  # the date as written, so a missing zone can be seen
    updated: str | None = None
    # The reader's own reading of the same dates (UTC), for formats our parser does not know.
    published_utc: datetime | None = None
    updated_utc: datetime | None = None
    terms: tuple[str, ...] = ()
    language: str | None = None
    thumbnail: str | None = None


@dataclass(frozen=True, slots=True)
class PollHints:
    """What the feed says about how often to poll it (RSS ttl, sy:*, skipHours/skipDays)."""

    ttl_minutes: str | None = None
    update_period: str | None = None
    update_frequency: str | None = None
    skip_hours: tuple[int, ...] = ()
    skip_days: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RawFeed:
    items: tuple[RawItem, ...]
    language: str | None = None
    warnings: tuple[str, ...] = ()
    hints: PollHints = PollHints()
