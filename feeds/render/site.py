"""What every renderer needs to know about the site, derived once from the settings."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote, urlsplit

from feeds import __version__
from feeds.model import Entry, FeedSpec
from feeds.normalize.identity import TAG_DATE

GENERATOR = "feeds"
GENERATOR_URI = "https://github.com/feeds/feeds"
# A feed with no entries still needs an `updated`; never the clock, so a fixed date.
EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=UTC)

FILENAMES = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
STYLESHEET = "feed.xsl"


@dataclass(frozen=True)
class Site:
    title: str
    base_url: str  # ends with "/"
    formats: tuple[str, ...]

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    def url(self, path: str) -> str:
        return self.base_url + _quoted(path)

    def feed_id(self, spec: FeedSpec) -> str:
        # From the folder, not the term: slugs are URL-safe, so the id is a canonical tag:
        # URI (a '%' in a term made the W3C validator warn), and it moves only with the URL.
        return f"tag:{self.host},{TAG_DATE}:feed/{quote(spec.folder) if spec.folder else 'all'}"

    def description(self, spec: FeedSpec) -> str:
        if spec.kind == "all":
            return f"All entries of {self.title}"
        return f"Entries of {self.title} filed under the {spec.kind} “{spec.term}”"

    def page_url(self, spec: FeedSpec) -> str:
        return self.url(spec.folder + "/") if spec.folder else self.base_url

    def feed_url(self, spec: FeedSpec, fmt: str) -> str:
        return self.url(spec.path(FILENAMES[fmt]))

    def tag_scheme(self, kind: str) -> str:
        return self.url("tags/" if kind == "tag" else "categories/")


GENERATOR_VERSION = __version__


@lru_cache(maxsize=8192)
def _quoted(path: str) -> str:
    # Cached: the site's index.html and feeds.opml both link every feed of a build.
    return quote(path)


def content_html(entry: Entry) -> str:
    """The entry's HTML; an entry with no body shows its summary (or title), as text."""
    return entry.content_html or html.escape(entry.summary or entry.title, quote=False)
