"""Atom, RSS and JSON Feed by splicing: each entry is rendered once per format, as bytes,
and reused in every feed that holds it; a feed is its header, its entries' fragments and
its footer.

The output is byte for byte what the reference renderers write (render/xmlfeeds.py with
feedgen and lxml's pretty printer, render/jsonfeed.py with json.dumps); they stay the
reference and tests/test_fragments.py compares the two on the seeds, on a generated
corpus and on entries made of awkward characters. What this has to copy from them:
- lxml escapes text as &amp; &lt; &gt; (and a carriage return as &#13;), attribute values
  also " and tab/newline/return; everything else is written as UTF-8;
- feedgen's element order, its two-space indentation, an alternate link written without
  its rel (a feedgen quirk), RSS <description> as the summary escaped once more (beside
  <content:encoded>) or, without a summary, the content itself; RSS dates in English
  whatever the locale (feedgen switches to the C locale);
- json.dumps(indent=2) of the reference's dicts; an item is nested two levels deep.
"""

from __future__ import annotations

import html
import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from feeds.model import Entry, FeedSpec
from feeds.render.site import (
    EMPTY_FEED_DATE,
    FILENAMES,
    GENERATOR,
    GENERATOR_URI,
    GENERATOR_VERSION,
    Site,
    content_html,
)
from feeds.render.xmlfeeds import XSL_PI

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NAMESPACES = (
    'xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
)
_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
# What json.dumps(ensure_ascii=False) writes for a string (the C escaper when there is one).
_encode_string: Callable[[str], str] = (
    getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
)


def text(value: str) -> str:
    """Element text as lxml writes it."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def text_bytes(value: bytes) -> bytes:
    """text() of UTF-8 bytes (the characters it replaces are single bytes in UTF-8)."""
    return (
        value.replace(b"&", b"&amp;")
        .replace(b"<", b"&lt;")
        .replace(b">", b"&gt;")
        .replace(b"\r", b"&#13;")
    )


def attribute(value: str) -> str:
    """An attribute value as lxml writes it (between double quotes)."""
    return text(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


def rfc822(moment: datetime) -> str:
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.strftime('%Y %H:%M:%S %z')}"
    )


class Fragments:
    """Each entry's fragment per format, rendered on first use and kept for the build.

    With `uses` (entry id -> how many feed files will still hold it), a fragment is let go
    once its last feed file is rendered, so memory follows the feeds in flight. Feeds may
    be rendered from several threads.
    """

    def __init__(self, site: Site, uses: dict[str, int] | None = None) -> None:
        self.site = site
        self._made: dict[tuple[str, str], tuple[Entry, bytes]] = {}
        # The escaped HTML of an entry, the bulk of its Atom and its RSS fragment alike.
        self._escaped: dict[str, tuple[Entry, bytes]] = {}
        self._uses = uses
        self._lock = threading.Lock()

    def skip(self, spec: FeedSpec) -> None:
        """One feed file holding these entries will not be rendered after all."""
        self._used(spec.entries)

    def _used(self, entries: tuple[Entry, ...]) -> None:
        if self._uses is None:
            return
        with self._lock:
            for entry in entries:
                left = self._uses[entry.id] = self._uses.get(entry.id, 1) - 1
                if left <= 0:
                    for fmt in self.site.formats:
                        self._made.pop((fmt, entry.id), None)
                    self._escaped.pop(entry.id, None)

    def of(self, fmt: str, entry: Entry) -> bytes:
        key = (fmt, entry.id)
        made = self._made.get(key)
        if made is not None and (made[0] is entry or made[0] == entry):
            return made[1]
        if fmt == "json":
            fragment = json_item(entry, self.site).encode()
        else:
            # As bytes around the escaped content: the content (most of the fragment) is
            # encoded and escaped once for both formats, and never copied into a string.
            head, tail = _ENTRY_PARTS[fmt](entry, self.site)
            fragment = b"".join((head.encode(), self._escaped_of(entry), tail.encode()))
        self._made[key] = (entry, fragment)
        return fragment

    def _escaped_of(self, entry: Entry) -> bytes:
        known = self._escaped.get(entry.id)
        if known is not None and known[0] is entry:
            return known[1]
        escaped = text_bytes(content_html(entry).encode())
        self._escaped[entry.id] = (entry, escaped)
        return escaped

    def render(self, spec: FeedSpec, fmt: str) -> bytes:
        head, tail = _SHELLS[fmt](spec, self.site)
        # One join: a feed file is copied once (a feed of 50 full entries is ~200 kB).
        parts = [head.encode(), *(self.of(fmt, entry) for entry in spec.entries)]
        if fmt == "json" and spec.entries:
            parts[-1] = parts[-1][:-2] + b"\n"  # the last item takes no comma
        parts.append(tail.encode())
        self._used(spec.entries)
        return b"".join(parts)

    def render_feed(self, spec: FeedSpec) -> dict[str, bytes]:
        """Like render.render_feed: every configured format, keyed by path under out/."""
        return {spec.path(FILENAMES[fmt]): self.render(spec, fmt) for fmt in self.site.formats}


# -- Atom ---------------------------------------------------------------------------------


def _atom_parts(entry: Entry, site: Site) -> tuple[str, str]:
    """The entry's Atom fragment before and after its escaped content."""
    head = [
        "  <entry>\n",
        f"    <id>{text(entry.id)}</id>\n",
        f"    <title>{text(entry.title)}</title>\n",
        f"    <updated>{entry.updated.isoformat()}</updated>\n",
    ]
    if entry.source_name:
        head.append(f"    <author>\n      <name>{text(entry.source_name)}</name>\n    </author>\n")
    head.append('    <content type="html">')
    tail = ["</content>\n"]
    if entry.link:
        tail.append(f'    <link href="{attribute(entry.link)}"/>\n')
    if entry.summary:
        tail.append(f"    <summary>{text(entry.summary)}</summary>\n")
    tail += _categories(entry, site, _atom_category)
    tail.append(f"    <published>{entry.published.isoformat()}</published>\n")
    tail += _extensions(entry, "    ")
    tail.append("  </entry>\n")
    return "".join(head), "".join(tail)


@lru_cache(maxsize=8192)
def _atom_category(scheme: str, term: str) -> str:
    value = attribute(term)
    return f'    <category term="{value}" scheme="{attribute(scheme)}" label="{value}"/>\n'


def _atom_shell(spec: FeedSpec, site: Site) -> tuple[str, str]:
    language = _language(spec.entries)
    lang = f' xml:lang="{attribute(language)}"' if language else ""
    head = (
        _DECLARATION
        + XSL_PI.format(href=site.url("feed.xsl"))
        + f'<feed {_NAMESPACES} xmlns="http://www.w3.org/2005/Atom"{lang}>\n'
        + f"  <id>{text(site.feed_id(spec))}</id>\n"
        + f"  <title>{text(spec.title)}</title>\n"
        + f"  <updated>{_updated(spec).isoformat()}</updated>\n"
        + f"  <author>\n    <name>{text(site.title)}</name>\n  </author>\n"
        + f'  <link href="{attribute(site.feed_url(spec, "atom"))}" rel="self"/>\n'
        + f'  <link href="{attribute(site.page_url(spec))}" rel="alternate"/>\n'
        + f'  <generator uri="{attribute(GENERATOR_URI)}" version="{attribute(GENERATOR_VERSION)}"'
        + f">{text(GENERATOR)}</generator>\n"
        + f"  <subtitle>{text(site.description(spec))}</subtitle>\n"
    )
    return head, "</feed>\n"


# -- RSS ----------------------------------------------------------------------------------


def _rss_parts(entry: Entry, site: Site) -> tuple[str, str]:
    """The item before and after its escaped content."""
    head = ["    <item>\n", f"      <title>{text(entry.title)}</title>\n"]
    if entry.link:
        head.append(f"      <link>{text(entry.link)}</link>\n")
    if entry.summary:
        # Readers take <description> as HTML: the plain-text summary is escaped once more.
        summary = text(html.escape(entry.summary, quote=False))
        head.append(f"      <description>{summary}</description>\n")
        head.append("      <content:encoded>")
        tail = ["</content:encoded>\n"]
    else:
        head.append("      <description>")
        tail = ["</description>\n"]
    tail.append(f'      <guid isPermaLink="false">{text(entry.id)}</guid>\n')
    tail += _categories(entry, site, _rss_category)
    tail.append(f"      <pubDate>{rfc822(entry.published)}</pubDate>\n")
    tail += _extensions(entry, "      ")
    tail.append("    </item>\n")
    return "".join(head), "".join(tail)


@lru_cache(maxsize=8192)
def _rss_category(scheme: str, term: str) -> str:
    return f'      <category domain="{attribute(scheme)}">{text(term)}</category>\n'


def _rss_shell(spec: FeedSpec, site: Site) -> tuple[str, str]:
    language = _language(spec.entries)
    head = (
        _DECLARATION
        + XSL_PI.format(href=site.url("feed.xsl"))
        + f'<rss {_NAMESPACES} xmlns:atom="http://www.w3.org/2005/Atom" '
        + 'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n'
        + "  <channel>\n"
        + f"    <title>{text(spec.title)}</title>\n"
        + f"    <link>{text(site.page_url(spec))}</link>\n"
        + f"    <description>{text(site.description(spec))}</description>\n"
        + f'    <atom:link href="{attribute(site.feed_url(spec, "rss"))}" rel="self"/>\n'
        + "    <docs>http://www.rssboard.org/rss-specification</docs>\n"
        + f"    <generator>{text(GENERATOR)}</generator>\n"
        + (f"    <language>{text(language)}</language>\n" if language else "")
        + f"    <lastBuildDate>{rfc822(_updated(spec))}</lastBuildDate>\n"
    )
    return head, "  </channel>\n</rss>\n"


# -- JSON Feed ----------------------------------------------------------------------------


def json_item(entry: Entry, site: Site) -> str:
    """The item as json.dumps(indent=2, ensure_ascii=False) writes it two levels deep, but
    written directly: with an indent, json.dumps runs its pure-Python encoder, which cost
    more than every other part of a feed. Strings go through json's own C escaper."""
    fields = [("id", _encode_string(entry.id))]
    if entry.link:
        fields.append(("url", _encode_string(entry.link)))
    fields.append(("title", _encode_string(entry.title)))
    fields.append(("content_html", _encode_string(content_html(entry))))
    if entry.summary:
        fields.append(("summary", _encode_string(entry.summary)))
    if entry.thumbnail:
        fields.append(("image", _encode_string(entry.thumbnail)))
    fields.append(("date_published", _encode_string(entry.published.isoformat())))
    fields.append(("date_modified", _encode_string(entry.updated.isoformat())))
    if entry.source_name:
        name = _encode_string(entry.source_name)
        fields.append(("authors", f'[\n        {{\n          "name": {name}\n        }}\n      ]'))
    terms = list(dict.fromkeys(entry.categories + entry.tags))
    if terms:
        listed = ",\n        ".join(_encode_string(term) for term in terms)
        fields.append(("tags", f"[\n        {listed}\n      ]"))
    if entry.language:
        fields.append(("language", _encode_string(entry.language)))
    body = ",\n      ".join(f'"{key}": {value}' for key, value in fields)
    return f"    {{\n      {body}\n    }},\n"


def _json_shell(spec: FeedSpec, site: Site) -> tuple[str, str]:
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": site.page_url(spec),
        "feed_url": site.feed_url(spec, "json"),
        "description": site.description(spec),
        "authors": [{"name": site.title}],
    }
    languages = {entry.language for entry in spec.entries if entry.language}
    if len(languages) == 1:
        document["language"] = languages.pop()
    document["items"] = []
    dumped = json.dumps(document, ensure_ascii=False, indent=2)
    if not spec.entries:
        return dumped + "\n", ""
    head = dumped.removesuffix("[]\n}") + "[\n"
    return head, "  ]\n}\n"


# -- shared -------------------------------------------------------------------------------


def _categories(entry: Entry, site: Site, line: Callable[[str, str], str]) -> list[str]:
    """A line (made by `line` from the scheme and the term) for every category, then every
    tag. The lines are cached: a few hundred terms fill tens of thousands of fragments."""
    lines = []
    for kind, terms in (("category", entry.categories), ("tag", entry.tags)):
        if terms:
            scheme = site.tag_scheme(kind)
            lines += [line(scheme, term) for term in terms]
    return lines


def _extensions(entry: Entry, indent: str) -> list[str]:
    # feedgen's extensions in load order: media (the thumbnail), then dc (the creator).
    parts = []
    if entry.thumbnail:
        parts.append(f'{indent}<media:thumbnail url="{attribute(entry.thumbnail)}"/>\n')
    if entry.source_name:
        parts.append(f"{indent}<dc:creator>{text(entry.source_name)}</dc:creator>\n")
    return parts


def _updated(spec: FeedSpec) -> datetime:
    return max((entry.updated for entry in spec.entries), default=EMPTY_FEED_DATE)


def _language(entries: tuple[Entry, ...]) -> str | None:
    counts = Counter(entry.language for entry in entries if entry.language)
    if not counts:
        return None
    return min(counts, key=lambda language: (-counts[language], language))


_ENTRY_PARTS: dict[str, Callable[[Entry, Site], tuple[str, str]]] = {
    "atom": _atom_parts,
    "rss": _rss_parts,
}
_SHELLS = {"atom": _atom_shell, "rss": _rss_shell, "json": _json_shell}
