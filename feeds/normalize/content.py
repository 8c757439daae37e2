"""HTML for entry content: Markdown rendering and sanitizing, with URLs made absolute.

Everything we publish as HTML goes through `sanitize_html`, seeds included: nh3 (ammonia)
keeps a safe subset of HTML5, drops script/style/iframes/forms and event handlers, and
allows only http(s) and mailto URLs. Relative and protocol-relative URLs are resolved
against the entry's own link (or the feed URL for upstream entries), because readers
resolve them against our feed URL otherwise, which is wrong.
"""

from __future__ import annotations

import hashlib
import html
import re
from contextvars import ContextVar
from dataclasses import replace
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3

from feeds.model import Entry
from feeds.normalize.markdown import markdown_to_html
from feeds.normalize.markdown_html import made_safe

_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "poster"})
_TAGS = frozenset(nh3.ALLOWED_TAGS) | {"figure", "figcaption", "picture", "source", "video"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "title", "width", "height"},
    "source": {"src", "srcset", "type", "media"},
    "video": {"src", "poster", "controls", "width", "height"},
    "a": {"href", "title", "hreflang"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})
_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")
# Characters XML 1.0 forbids (C0 controls but tab/newline/return, lone surrogates, U+FFFE,
# U+FFFF): lxml refuses the whole feed when one appears, and nh3 cannot encode surrogates.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_markdown(text: str, base: str | None) -> str:
    markup = markdown_to_html(text)
    safe = made_safe(text, markup)  # most prose: what sanitize_html would make of it
    return sanitize_html(markup, base) if safe is None else safe


def html_digest(html: str) -> str:
    """A digest of an entry's HTML, as the article cache keeps it."""
    return hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def xml_clean(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (see _NOT_XML_RE)."""
    return _NOT_XML_RE.sub("", text) if _NOT_XML_RE.search(text) else text


_OPTIONAL_TEXTS = ("summary", "link", "language", "thumbnail", "source_name")


def xml_safe(entry: Entry) -> Entry:
    """`entry` with every text free of characters XML 1.0 forbids (itself when already so)."""
    texts = [entry.id, entry.title, entry.content_html, *entry.categories, *entry.tags]
    texts += [getattr(entry, name) or "" for name in _OPTIONAL_TEXTS]
    if xml_clean(joined := "\n".join(texts)) == joined and all(
        term.strip() for term in entry.categories + entry.tags
    ):
        return entry  # the common case, found with one scan
    changes: dict[str, object] = {}
    for name in ("id", "title", "content_html"):
        value = getattr(entry, name)
        if xml_clean(value) != value:
            changes[name] = xml_clean(value)
    for name in _OPTIONAL_TEXTS:
        value = getattr(entry, name)
        if value is not None and xml_clean(value) != value:
            changes[name] = xml_clean(value) or None
    for name in ("categories", "tags"):
        terms = getattr(entry, name)
        cleaned = tuple(term for term in map(xml_clean, terms) if term.strip())
        if cleaned != terms:
            changes[name] = cleaned
    return replace(entry, **changes) if changes else entry  # type: ignore[arg-type]


# The base URL of the markup being cleaned. One Cleaner serves every call, because building
# one (or passing the options to nh3.clean) converts every allowed tag and attribute and costs
# more than the cleaning; its filter reads the base from here (nh3 calls it synchronously,
# in the calling thread, so each thread sees its own).
_BASE: ContextVar[str | None] = ContextVar("sanitize_base", default=None)


def _absolute(element: str, attribute: str, value: str) -> str | None:
    if attribute == "srcset":
        return _absolute_srcset(value)
    if attribute not in _URL_ATTRIBUTES:
        return value
    return _resolved(value.strip())


def _resolved(url: str) -> str | None:
    base = _BASE.get()
    if base:
        return join(base, url)
    if url.startswith("//"):
        return "https:" + url
    # Nothing to resolve against: a reader would resolve it against our feed's URL,
    # which points nowhere real, so the attribute goes (the text stays).
    return url if urlsplit(url).scheme else None


def _absolute_srcset(value: str) -> str | None:
    """A srcset with every image candidate's URL resolved as src is; candidates that are
    not http(s) go (the cleaner checks the schemes of single URLs, not of srcset's)."""
    kept = []
    for url, descriptors in srcset_candidates(value):
        resolved = _resolved(url)
        if resolved and urlsplit(resolved).scheme.lower() in ("http", "https"):
            kept.append(f"{resolved} {descriptors}" if descriptors else resolved)
    return ", ".join(kept) or None


_HTML_SPACE = " \t\n\r\f"


def srcset_candidates(value: str) -> list[tuple[str, str]]:
    """(URL, descriptors) of each image candidate of a srcset, split as the HTML standard
    does: a URL runs to white space (it may hold commas), a trailing comma ends a candidate,
    descriptors run to a comma outside parentheses."""
    candidates: list[tuple[str, str]] = []
    position, end = 0, len(value)
    while True:
        while position < end and value[position] in _HTML_SPACE + ",":
            position += 1
        if position >= end:
            return candidates
        start = position
        while position < end and value[position] not in _HTML_SPACE:
            position += 1
        url, descriptors = value[start:position], ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start, depth = position, 0
            while position < end and (value[position] != "," or depth):
                if value[position] == "(":
                    depth += 1
                elif value[position] == ")":
                    depth = max(0, depth - 1)
                position += 1
            descriptors = " ".join(value[start:position].split())
        candidates.append((url, descriptors))


def join(base: str, url: str) -> str:
    """urljoin(base, url), remembered for URLs with a host of their own: urljoin resolves
    those alike against any base of the same scheme, and articles link the same few sites
    again and again (urljoin was a fifth of the time spent rendering an article)."""
    if _AS_IS.fullmatch(url):
        # Most links of an article: urljoin would only split and join it again (or, for
        # another scheme than the base's, return it), and the lru cache below would miss.
        return url
    if url and base and urlsplit(url).netloc:  # urlsplit keeps its own small cache
        return _join_with_scheme(urlsplit(base).scheme, url)
    return urljoin(base, url)


# A URL that urljoin gives back unchanged against any base: lower-case scheme, an ASCII
# host, no ";" (urlparse splits parameters off), a "?" or "#" only before something (an
# empty query or fragment is dropped), nothing urlsplit strips or removes (controls, space).
_AS_IS = re.compile(
    r"[a-z][a-z0-9+.-]*://[A-Za-z0-9._~%!$&'()*+,=:@-]+"
    r"(?:/[^?#;\x00-\x20\x7f]*)?(?:\?[^#;\x00-\x20\x7f]+)?(?:#[^\x00-\x20\x7f]+)?"
)


@lru_cache(maxsize=16384)
def _join_with_scheme(scheme: str, url: str) -> str:
    # "x" parses with no scheme, "https:" with scheme https: a base standing for every
    # base with that scheme.
    return urljoin(f"{scheme}:" if scheme else "x", url)


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(_TAGS),
        attributes=_ATTRIBUTES,
        url_schemes=set(_SCHEMES),
        attribute_filter=_absolute,
        link_rel="noopener noreferrer",
    )


def sanitize_html(markup: str, base: str | None) -> str:
    """Safe, XML-safe HTML: a numeric character reference (`&#1;`) comes out of the cleaner
    as the character it names, so then its output is cleaned too (no named reference names
    a character XML forbids: tests/test_content.py tries them all)."""
    markup = xml_clean(markup)
    token = _BASE.set(base)
    try:
        cleaned = _cleaner().clean(markup)
    finally:
        _BASE.reset(token)
    return xml_clean(cleaned) if "&#" in markup else cleaned


def html_to_text(markup: str) -> str:
    """Plain text of untrusted HTML: nh3 drops every tag, and script/style with their text."""
    return plain_text(nh3.clean(markup, tags=set(), attributes={}))


def plain_text(markup: str) -> str:
    """Titles are plain text: drop tags, decode entities, collapse white space."""
    text = html.unescape(_TAG_RE.sub("", markup))
    return xml_clean(_SPACE_RE.sub(" ", text)).strip()
