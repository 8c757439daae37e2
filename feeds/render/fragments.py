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
from collections.abc import Callable, Iterable
from datetime import datetime
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
        self._escaped: dict[str, tuple[Entry, str]] = {}
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
            fragment = _ENTRY_RENDERERS[fmt](entry, self.site, self._escaped_of(entry)).encode()
        self._made[key] = (entry, fragment)
        return fragment

    def _escaped_of(self, entry: Entry) -> str:
        known = self._escaped.get(entry.id)
        if known is not None and known[0] is entry:
            return known[1]
        escaped = text(content_html(entry))
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


def atom_entry(entry: Entry, site: Site, escaped: str | None = None) -> str:
    """`escaped`: text(content_html(entry)), when the caller has it already."""
    if escaped is None:
        escaped = text(content_html(entry))
    parts = [
        "  <entry>\n",
        f"    <id>{text(entry.id)}</id>\n",
        f"    <title>{text(entry.title)}</title>\n",
        f"    <updated>{entry.updated.isoformat()}</updated>\n",
    ]
    if entry.source_name:
        parts.append(f"    <author>\n      <name>{text(entry.source_name)}</name>\n    </author>\n")
    parts.append(f'    <content type="html">{escaped}</content>\n')
    if entry.link:
        parts.append(f'    <link href="{attribute(entry.link)}"/>\n')
    if entry.summary:
        parts.append(f"    <summary>{text(entry.summary)}</summary>\n")
    for scheme, term in _terms(entry, site):
        value = attribute(term)
        parts.append(f'    <category term="{value}" scheme="{scheme}" label="{value}"/>\n')
    parts.append(f"    <published>{entry.published.isoformat()}</published>\n")
    parts += _extensions(entry, "    ")
    parts.append("  </entry>\n")
    return "".join(parts)


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


def rss_item(entry: Entry, site: Site, escaped: str | None = None) -> str:
    """`escaped`: text(content_html(entry)), when the caller has it already."""
    parts = ["    <item>\n", f"      <title>{text(entry.title)}</title>\n"]
    if entry.link:
        parts.append(f"      <link>{text(entry.link)}</link>\n")
    content = text(content_html(entry)) if escaped is None else escaped
    if entry.summary:
        # Readers take <description> as HTML: the plain-text summary is escaped once more.
        summary = text(html.escape(entry.summary, quote=False))
        parts.append(f"      <description>{summary}</description>\n")
        parts.append(f"      <content:encoded>{content}</content:encoded>\n")
    else:
        parts.append(f"      <description>{content}</description>\n")
    parts.append(f'      <guid isPermaLink="false">{text(entry.id)}</guid>\n')
    for scheme, term in _terms(entry, site):
        parts.append(f'      <category domain="{scheme}">{text(term)}</category>\n')
    parts.append(f"      <pubDate>{rfc822(entry.published)}</pubDate>\n")
    parts += _extensions(entry, "      ")
    parts.append("    </item>\n")
    return "".join(parts)


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


def _terms(entry: Entry, site: Site) -> Iterable[tuple[str, str]]:
    """(scheme, term) for every category, then every tag; the scheme is attribute-ready."""
    for kind, terms in (("category", entry.categories), ("tag", entry.tags)):
        scheme = attribute(site.tag_scheme(kind))
        for term in terms:
            yield scheme, term


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


_ENTRY_RENDERERS: dict[str, Callable[[Entry, Site, str | None], str]] = {
    "atom": atom_entry,
    "rss": rss_item,
}
_SHELLS = {"atom": _atom_shell, "rss": _rss_shell, "json": _json_shell}
