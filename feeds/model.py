"""The one record every stage speaks: an `Entry`, plus the feed plan built from entries.

Datetimes are always timezone-aware; constructing an Entry with a naive one is a bug and
raises at once, so no stage ever has to guess a zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """One article, from the seeds folder or an upstream feed, ready to publish."""

    id: str
    title: str
    published: datetime
    updated: datetime
    content_html: str = ""
    summary: str | None = None
    link: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None
    thumbnail: str | None = None
    source_name: str | None = None
    # Where the entry came from: "seed:<relative path>" or "upstream:<source name>".
    origin: str = ""

    def __post_init__(self) -> None:
        for name in ("published", "updated"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Entry {self.id!r}: {name} must be timezone-aware")

    @property
    def is_seed(self) -> bool:
        return self.origin.startswith("seed:")

    def with_content(self, html: str) -> Entry:
        """This entry with `html` as its content: dataclasses.replace, in half the time (a
        cold build fills in thousands)."""
        return Entry(
            self.id,
            self.title,
            self.published,
            self.updated,
            html,
            self.summary,
            self.link,
            self.categories,
            self.tags,
            self.language,
            self.thumbnail,
            self.source_name,
            self.origin,
        )

    def __reduce__(self) -> tuple[type[Entry], tuple[object, ...]]:
        # Pickled as its constructor's arguments: parse workers send back tens of
        # thousands, and a frozen dataclass's default unpickling is Python code per field.
        return Entry, tuple(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed to publish: which entries, under which folder, with which title."""

    kind: str  # "all", "tag" or "category"
    term: str  # the tag or category as written; "" for the combined feed
    folder: str  # relative folder under out/ ("" for the combined feed), "/" separated
    title: str
    entries: tuple[Entry, ...] = field(default=())
    total: int = 0  # entries carrying the term before the per-feed limit
    # The newest `updated` of its entries, when planned without them (render/plan.py
    # plan_items); else taken from `entries`.
    updated: datetime | None = None

    def path(self, filename: str) -> str:
        return f"{self.folder}/{filename}" if self.folder else filename

    @property
    def newest(self) -> datetime | None:
        """The newest `updated` of its entries (the first of equals, as max() picks)."""
        if self.updated is not None:
            return self.updated
        return max((entry.updated for entry in self.entries), default=None)


@dataclass(frozen=True, slots=True)
class Source:
    """One upstream feed declared in sources/*.toml (one `[[source]]` table)."""

    name: str
    url: str
    interval: int = 1800  # seconds between polls (at least)
    category: str = ""  # the catalog fills in the name when absent
    tags: tuple[str, ...] = ()
    lang: str | None = None
    timezone: str | None = None  # for dates without a zone; None: the site's zone
    enabled: bool = True
    include: str | None = None  # regular expression on titles
    exclude: str | None = None
    limit: int | None = None  # entries kept from each poll
    where: str = ""  # "sources/news.toml, [[source]] #2" for messages
