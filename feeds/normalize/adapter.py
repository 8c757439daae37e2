"""Foreign items -> `Entry`s: every fallback for upstream data, in one place, written down.

- link: resolved against the feed URL (the reader already applied xml:base); only http(s);
- title: plain text; none -> the first words of the body, else the link, else "Untitled".
  A "plain text" title holding tags is read as HTML all the same: RSS titles are ambiguous
  and some readers render them as HTML, so no tag may survive in one;
- content: sanitized by nh3; relative URLs resolved against the xml:base in effect when the
  document declared one, else the entry's link, else the feed URL. No content -> the
  summary's HTML becomes the content, and there is no separate summary;
- summary: plain text;
- sizes: a body or summary over MAX_MARKUP characters, a title over MAX_TITLE, is cut
  there (with a warning) before it reaches the sanitizer;
- dates: as written, with the source's zone (else the site's) when they carry none; the
  reader's own UTC reading when our parser does not know the format; only one of the two ->
  both; none -> seen_at; more than a day ahead of seen_at -> seen_at. The last two are
  reported in `undated`, so the store keeps the first date it saw;
- identity: `feeds.normalize.identity.document_ids`; a repeated item keeps its first copy;
- tags: the item's categories, then the source's tags; category: the source's (the
  catalog fills in the name), else the name;
- language: the item's, else the feed's, else the source's `lang`;
- include/exclude (regular expressions, searched in the title), then `limit`: the first N
  entries in document order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from html import escape
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.model import Entry, Source
from feeds.normalize.content import html_to_text, sanitize_html
from feeds.normalize.dates import parse_date
from feeds.normalize.identity import ItemKeys, document_ids
from feeds.normalize.rawfeed import RawFeed, RawItem, Text

FUTURE_SLACK = timedelta(days=1)
# nh3 (html5ever) takes time quadratic in the number of "&" in one text node: 1 MB of
# "a & b" costs seconds, 10 MB minutes. Real articles are far below these caps.
MAX_MARKUP = 256 * 1024
MAX_TITLE = 4 * 1024
_TITLE_WORDS = 80
_TAG_LIKE = re.compile(r"<[A-Za-z/!]")


@dataclass(frozen=True, slots=True)
class Adapted:
    entries: tuple[Entry, ...]
    undated: frozenset[str]
    warnings: tuple[str, ...]


def adapt(raw: RawFeed, url: str, source: Source, seen_at: datetime, zone: tzinfo) -> Adapted:
    if seen_at.tzinfo is None:
        raise ValueError("seen_at must be timezone-aware")
    warnings = list(raw.warnings)
    zone = _source_zone(source, zone, warnings)
    wanted = _Filter(source, warnings)
    links = [_absolute(item.link, url) for item in raw.items]
    keys = [ItemKeys(item.guid, link, _raw(item.title), _raw(item.content or item.summary))
            for item, link in zip(raw.items, links, strict=True)]  # fmt: skip
    entries: list[Entry] = []
    undated: set[str] = set()
    seen: set[str] = set()
    for number, (item, link, entry_id) in enumerate(
        zip(raw.items, links, document_ids(source.name, keys), strict=True), 1
    ):
        if entry_id in seen:
            warnings.append(f"item #{number} repeats an earlier item; skipped")
            continue
        seen.add(entry_id)
        if not (item.title or item.content or item.summary or link):
            warnings.append(f"item #{number} has no title, link or content; skipped")
            continue
        item, trimmed = _trimmed(item)
        if trimmed:
            warnings.append(f"item #{number} is longer than {MAX_MARKUP // 1024} KiB; truncated")
        entry, filled = _entry(item, entry_id, link, url, raw, source, seen_at, zone)
        if not wanted(entry.title):
            continue
        if source.limit is not None and len(entries) >= source.limit:
            break
        entries.append(entry)
        if filled:
            undated.add(entry.id)
    return Adapted(tuple(entries), frozenset(undated), tuple(warnings))


def _entry(
    item: RawItem,
    entry_id: str,
    link: str | None,
    url: str,
    raw: RawFeed,
    source: Source,
    seen_at: datetime,
    zone: tzinfo,
) -> tuple[Entry, bool]:
    content_html, summary = _bodies(item, link, url)
    published, updated, filled = _dates(item, seen_at, zone)
    entry = Entry(
        id=entry_id,
        title=_title(item.title, content_html, link),
        published=published,
        updated=updated,
        content_html=content_html,
        summary=summary,
        link=link,
        categories=(source.category or source.name,),
        tags=_unique((*item.terms, *source.tags)),
        language=item.language or raw.language or source.lang,
        thumbnail=_absolute(item.thumbnail, link or url),
        source_name=source.name,
        origin="upstream:" + source.name,
    )
    return entry, filled


def _trimmed(item: RawItem) -> tuple[RawItem, bool]:
    title = _cut(item.title, MAX_TITLE)
    content = _cut(item.content, MAX_MARKUP)
    summary = _cut(item.summary, MAX_MARKUP)
    if (title, content, summary) == (item.title, item.content, item.summary):
        return item, False
    return replace(item, title=title, content=content, summary=summary), True


def _cut(text: Text | None, limit: int) -> Text | None:
    if text is None or len(text.value) <= limit:
        return text
    return Text(text.value[:limit], text.html, text.base)


def _bodies(item: RawItem, link: str | None, url: str) -> tuple[str, str | None]:
    if item.content is not None:
        summary = _summary_text(item.summary)
        return _html(item.content, link, url), summary
    if item.summary is not None:
        return _html(item.summary, link, url), None
    return "", None


def _html(text: Text, link: str | None, url: str) -> str:
    base = urljoin(url, text.base) if text.base else (link or url)
    markup = text.value if text.html else _paragraphs(text.value)
    return sanitize_html(markup, base)


def _paragraphs(plain: str) -> str:
    return "".join(f"<p>{escape(part.strip())}</p>" for part in plain.split("\n\n") if part.strip())


def _summary_text(summary: Text | None) -> str | None:
    if summary is None:
        return None
    text = html_to_text(summary.value) if summary.html else " ".join(summary.value.split())
    return text or None


def _title(title: Text | None, content_html: str, link: str | None) -> str:
    if title is not None:
        markup = title.html or _TAG_LIKE.search(title.value) is not None
        text = html_to_text(title.value) if markup else " ".join(title.value.split())
        if text:
            return text
    words = html_to_text(content_html)
    if words:
        return words if len(words) <= _TITLE_WORDS else words[: _TITLE_WORDS - 1].rstrip() + "…"
    return link or "Untitled"


def _dates(item: RawItem, seen_at: datetime, zone: tzinfo) -> tuple[datetime, datetime, bool]:
    published = _date(item.published, item.published_utc, zone)
    updated = _date(item.updated, item.updated_utc, zone)
    published = published or updated
    updated = updated or published
    filled = published is None
    latest = seen_at + FUTURE_SLACK
    if published is None or published > latest:
        published, filled = seen_at, True
    if updated is None or updated > latest:
        updated, filled = seen_at, True
    return published, max(published, updated), filled


def _date(text: str | None, utc: datetime | None, zone: tzinfo) -> datetime | None:
    if text:
        try:
            return parse_date(text, zone)
        except (ValueError, OverflowError):
            pass
    return utc


def _source_zone(source: Source, zone: tzinfo, warnings: list[str]) -> tzinfo:
    if not source.timezone:
        return zone
    try:
        return ZoneInfo(source.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        warnings.append(f"unknown time zone {source.timezone!r}; using the site's")
        return zone


class _Filter:
    """include/exclude, compiled once; a broken pattern is reported and not applied."""

    def __init__(self, source: Source, warnings: list[str]) -> None:
        self.include = _compile("include", source.include, warnings)
        self.exclude = _compile("exclude", source.exclude, warnings)

    def __call__(self, title: str) -> bool:
        if self.include is not None and not self.include.search(title):
            return False
        return self.exclude is None or not self.exclude.search(title)


def _compile(key: str, pattern: str | None, warnings: list[str]) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        warnings.append(f"{key} pattern {pattern!r} is not a regular expression ({exc}); ignored")
        return None


def _absolute(link: str | None, base: str) -> str | None:
    if not link:
        return None
    try:
        absolute = urljoin(base, link.strip())
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def _raw(text: Text | None) -> str:
    return text.value if text is not None else ""


def _unique(terms: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for term in terms:
        text = " ".join(term.split())
        if text:
            seen.setdefault(text)
    return tuple(seen)
