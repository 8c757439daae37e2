"""RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom, read with feedparser, mapped onto `RawItem`s.

Safety, and why each step is here:
- feedparser.parse(bytes) first tries `open(bytes)`: a body that is a path ("/etc/passwd")
  would be read from the local disk. It only ever gets a file object, never bytes or a str
  (a str that looks like a URL would be fetched).
- Every DOCTYPE is removed before parsing. expat refuses external entities and caps entity
  amplification, but feedparser copies "safe" internal entities into its loose (sgmllib)
  parser, which expands them without any limit: a 26 kB document became a 40 MB summary.
  With no DOCTYPE no entity can be declared at all. Nothing here processes XInclude.
- sanitize_html=False and resolve_relative_uris=False: nh3 sanitizes and resolves content
  later (feeds.normalize.content), once, instead of twice with two different sanitizers.
- Content-Location is not passed on: feedparser would resolve every guid against it, and
  the ids we publish must not move when an upstream's headers or URL do.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser

from feeds.errors import ParseError
from feeds.normalize.rawfeed import PollHints, RawFeed, RawItem, Text

_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_DECLARATION_END = re.compile(r"[\[>]")
_SUBSET_END = re.compile(r"\]\s*>")
_HTML_PAGE = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html\b)", re.I
)
_CHANNEL_HEAD = re.compile(r"<(?:\w+:)?(?:item|entry)\b")
_SKIP_HOURS = re.compile(r"<skipHours\b[^>]*>(.*?)</skipHours>", re.S | re.I)
_SKIP_DAYS = re.compile(r"<skipDays\b[^>]*>(.*?)</skipDays>", re.S | re.I)
_HOUR = re.compile(r"<hour>\s*(\d{1,2})\s*</hour>", re.I)
_DAY = re.compile(r"<day>\s*([A-Za-z]+)\s*</day>", re.I)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


def read_xml(text: str, headers: Mapping[str, str], url: str) -> RawFeed:
    """Parse decoded XML text; raise ParseError(url, ...) when no entry can be recovered."""
    if _HTML_PAGE.match(text[:4096]):
        raise ParseError(url, "not a feed: the server sent an HTML page")
    safe, removed_subset = strip_doctypes(text)
    result = _feedparser(safe, headers, url)
    entries = _field(result, "entries") or []
    problem = _bozo(result)
    if not entries:
        if problem:
            raise ParseError(url, f"not a feed, nothing recovered: {problem}")
        if not _field(result, "version"):
            raise ParseError(url, "not a feed: no RSS, RDF or Atom root element")
    warnings = []
    if removed_subset:
        warnings.append("DOCTYPE with an internal subset removed; its entities were not expanded")
    if problem:
        warnings.append(f"malformed XML, {len(entries)} entries recovered: {problem}")
    feed = _field(result, "feed") or {}
    return RawFeed(
        items=tuple(_item(entry) for entry in entries),
        language=_str(_field(feed, "language")),
        warnings=tuple(warnings),
        hints=_hints(feed, safe),
    )


def strip_doctypes(text: str) -> tuple[str, bool]:
    """Remove every <!DOCTYPE ...> (with its [internal subset]); linear in the text's length.

    Returns the text and whether an internal subset (where entities live) was removed. An
    unterminated subset removes the rest of the document: it is broken either way.
    """
    parts: list[str] = []
    position = 0
    removed_subset = False
    while (start := _DOCTYPE.search(text, position)) is not None:
        parts.append(text[position : start.start()])
        end = _DECLARATION_END.search(text, start.end())
        if end is None:
            position = len(text)
            break
        if end.group() == "[":
            removed_subset = True
            close = _SUBSET_END.search(text, end.end())
            position = close.end() if close else len(text)
        else:
            position = end.end()
    parts.append(text[position:])
    return "".join(parts), removed_subset


def _feedparser(text: str, headers: Mapping[str, str], url: str) -> Any:
    # We decoded the body already (feeds.normalize.encoding) and chose the format, so
    # feedparser is told the truth: UTF-8 XML. The other headers go through unchanged.
    passed = {k: v for k, v in headers.items() if k not in ("content-type", "content-location")}
    passed["content-type"] = "application/xml; charset=utf-8"
    try:
        return feedparser.parse(
            io.BytesIO(text.encode("utf-8")),
            response_headers=passed,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser can raise on hostile input; one feed, one error
        raise ParseError(url, f"feedparser failed: {type(exc).__name__}: {exc}") from None


def _bozo(result: Any) -> str | None:
    if not _field(result, "bozo"):
        return None
    exc = _field(result, "bozo_exception")
    message = str(exc).removeprefix("<unknown>:") if exc is not None else "unknown problem"
    return f"{type(exc).__name__}: {message}" if exc is not None else message


def _item(entry: Any) -> RawItem:
    published = _str(_field(entry, "published")) or _str(_field(entry, "created"))
    published_utc = _field(entry, "published_parsed") or _field(entry, "created_parsed")
    return RawItem(
        guid=_str(_field(entry, "id")),
        link=_link(entry),
        title=_text(_field(entry, "title_detail")),
        content=_content(_field(entry, "content")),
        # feedparser copies content into `summary` when there is none; only the detail
        # tells whether the feed really had one.
        summary=_text(_field(entry, "summary_detail")),
        published=published,
        updated=_str(_field(entry, "updated")),
        published_utc=_utc(published_utc),
        updated_utc=_utc(_field(entry, "updated_parsed")),
        terms=tuple(t for t in (_term(tag) for tag in _field(entry, "tags") or ()) if t),
        language=_language(entry),
        thumbnail=_thumbnail(entry),
    )


def _link(entry: Any) -> str | None:
    link = _str(_field(entry, "link"))
    if link and _field(entry, "guidislink") and not _field(entry, "links"):
        # RSS guids are permalinks unless isPermaLink="false", so feedparser makes a link of
        # guids like "12345"; only a guid that is a real URL is taken as the link.
        return link if link.lower().startswith(("http://", "https://")) else None
    return link


def _content(values: Any) -> Text | None:
    details = [_text(value) for value in values or ()]
    found = [detail for detail in details if detail is not None]
    html = [detail for detail in found if detail.html]
    return (html or found)[0] if found else None


def _text(detail: Any) -> Text | None:
    if not detail:
        return None
    value = _field(detail, "value")
    if not isinstance(value, str) or not value.strip():
        return None
    kind = str(_field(detail, "type") or "text/plain").lower()
    return Text(value=value, html=kind in _HTML_TYPES, base=_str(_field(detail, "base")))


def _term(tag: Any) -> str | None:
    return _str(_field(tag, "label")) or _str(_field(tag, "term"))


def _language(entry: Any) -> str | None:
    for key in ("content", "title_detail", "summary_detail"):
        detail = _field(entry, key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        language = _str(_field(detail, "language")) if detail else None
        if language:
            return language
    return None


def _thumbnail(entry: Any) -> str | None:
    for thumb in _field(entry, "media_thumbnail") or ():
        if _str(_field(thumb, "url")):
            return _str(_field(thumb, "url"))
    for media in _field(entry, "media_content") or ():
        kind = str(_field(media, "type") or "")
        if _field(media, "medium") == "image" or kind.startswith("image/"):
            return _str(_field(media, "url"))
    for link in _field(entry, "links") or ():
        if _field(link, "rel") == "enclosure" and str(_field(link, "type") or "").startswith(
            "image/"
        ):
            return _str(_field(link, "href"))
    return None


def _hints(feed: Any, text: str) -> PollHints:
    head_end = _CHANNEL_HEAD.search(text)
    head = text[: head_end.start()] if head_end else text
    hours = _SKIP_HOURS.search(head)
    days = _SKIP_DAYS.search(head)
    return PollHints(
        ttl_minutes=_str(_field(feed, "ttl")),
        update_period=_str(_field(feed, "sy_updateperiod")),
        update_frequency=_str(_field(feed, "sy_updatefrequency")),
        skip_hours=tuple(int(hour) for hour in _HOUR.findall(hours.group(1))) if hours else (),
        skip_days=tuple(day.capitalize() for day in _DAY.findall(days.group(1))) if days else (),
    )


def _utc(parsed: Any) -> datetime | None:
    try:
        return datetime(*parsed[:6]).replace(tzinfo=UTC) if parsed else None
    except (TypeError, ValueError):
        return None


def _field(mapping: Any, key: str) -> Any:
    # dict.get, not FeedParserDict.get: that one maps missing keys to others ("updated" to
    # "published", with a DeprecationWarning), and we want what the feed actually said.
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


def _str(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None
