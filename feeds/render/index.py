"""HTML pages for people: out/index.html and one index.html per tag and category folder.

Pure: feed specs in, bytes out, no clock (a page's dates come from its entries). Jinja2
autoescapes everything, so titles from upstream feeds cannot inject markup. Feed URLs are
absolute (they are what a reader subscribes to, and must match the feeds' self links);
links between pages are relative, so the pages browse alike from any host or a plain copy.

An entry is listed on the page of each of its tags and categories, so its row (<li>) is
rendered once and reused: a row shows only the entry's own values, nothing of the page.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from feeds.model import Entry, FeedSpec
from feeds.render.opml import OPML_FILE
from feeds.render.site import FILENAMES, Site

if TYPE_CHECKING:
    from jinja2 import BytecodeCache, Environment
    from markupsafe import Markup

INDEX = "index.html"
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
LABELS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
SECTIONS = (("all", "All entries"), ("tag", "Tags"), ("category", "Categories"))
# Rows kept between pages (and builds, for a daemon): enough for every row of a site with
# several hundred feeds of 50 entries, under 30 MB (a row and its key take about 1 kB).
ROWS_KEPT = 2**15


_COMPILED: list[Path] = []  # where compiled templates are kept (keep_compiled)


def keep_compiled(folder: Path) -> None:
    """Keep the compiled templates in a folder under `folder` (the store's), so that a
    process loads them instead of compiling them (20-30 ms of a small build)."""
    _COMPILED[:] = [folder]


@cache
def _environment() -> Environment:
    # jinja2 is imported on first use: a build whose pages are all current never needs it.
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("feeds.render", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the package: no need to stat them for every page.
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
    )


def _bytecode_cache() -> BytecodeCache | None:
    """Compiled templates under the folder keep_compiled named, in a folder of their own
    for this module (which sets the options they are compiled with) and jinja2's version:
    Jinja checks each template's source and the Python version itself, not the options."""
    if not _COMPILED:
        return None
    from jinja2 import FileSystemBytecodeCache, __version__
    from jinja2.bccache import Bucket

    class Cache(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Bucket) -> None:
            with contextlib.suppress(OSError):  # a cache only: a full disk costs time
                super().dump_bytecode(bucket)

    key = hashlib.blake2b(Path(__file__).read_bytes() + __version__.encode(), digest_size=8)
    folder = _COMPILED[0] / f"templates-{key.hexdigest()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    for other in _COMPILED[0].glob("templates-*"):  # an earlier version's
        if other != folder:
            shutil.rmtree(other, ignore_errors=True)
    return Cache(str(folder))


@cache
def _entry_macro() -> Callable[..., Markup]:
    # A row's markup stays in macros.html with the rest; called from here so rows are cached.
    return _environment().get_template("macros.html").module.entry  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class FeedLink:
    fmt: str
    label: str
    media_type: str
    url: str


@dataclass(frozen=True)
class FeedRow:
    """One feed as a page shows it."""

    spec: FeedSpec
    name: str
    page: str  # relative to the page that shows the row
    updated: datetime | None
    links: tuple[FeedLink, ...]


def render_pages(feeds: tuple[FeedSpec, ...], site: Site) -> dict[str, bytes]:
    """index.html for the site plus <folder>/index.html for every tag and category feed."""
    pages = {INDEX: _render_index(feeds, site)}
    for spec in feeds:
        if spec.folder:
            pages[spec.path(INDEX)] = _render_term(spec, site)
    return pages


def render_index(feeds: tuple[FeedSpec, ...], site: Site) -> bytes:
    """out/index.html alone: an incremental build renders only the pages that changed."""
    return _render_index(feeds, site)


def render_term_page(spec: FeedSpec, site: Site) -> bytes:
    """The index.html of one tag or category folder alone (see render_index)."""
    return _render_term(spec, site)


def _render_index(feeds: tuple[FeedSpec, ...], site: Site) -> bytes:
    combined = next((spec for spec in feeds if spec.kind == "all"), None)
    sections = [
        (heading, [_row(spec, site, "") for spec in feeds if spec.kind == kind])
        for kind, heading in SECTIONS
    ]
    return _render(
        "index.html",
        site=site,
        title=site.title,
        language=_language(combined.entries if combined else ()),
        alternates=_links(combined, site) if combined else (),
        sections=[(heading, rows) for heading, rows in sections if rows],
        entry_rows=_entry_rows(combined.entries if combined else ()),
        home="./",
        opml=OPML_FILE,
    )


def _render_term(spec: FeedSpec, site: Site) -> bytes:
    home = relative(".", spec.folder) + "/"
    row = _row(spec, site, spec.folder)
    return _render(
        "term.html",
        site=site,
        title=spec.title,
        language=_language(spec.entries),
        alternates=row.links,
        row=row,
        entry_rows=_entry_rows(spec.entries),
        shown=len(spec.entries),
        home=home,
        opml=home + OPML_FILE,
    )


def _render(template: str, **context: object) -> bytes:
    page = _environment().get_template(template)
    return page.render(**context, when=_when, web_link=_web_link).encode()


def _entry_rows(entries: Iterable[Entry]) -> Markup:
    """The <li> of every entry, in order, as one piece of markup ("" when none)."""
    from markupsafe import Markup

    rows = [
        _entry_row(
            entry.title,
            entry.link,
            entry.language,
            entry.source_name,
            entry.published,
            # The key needs the offset too: equal instants in two zones are equal datetimes.
            entry.published.isoformat(),
        )
        for entry in entries
    ]
    return Markup().join(rows)


@lru_cache(maxsize=ROWS_KEPT)
def _entry_row(
    title: str,
    link: str | None,
    language: str | None,
    source: str | None,
    published: datetime,
    stamp: str,
) -> Markup:
    """One entry's row; its arguments are everything the row shows (they are the cache key)."""
    return _entry_macro()(language, _web_link(link), title, stamp, _when(published), source)


def relative(target: str, here: str) -> str:
    """posixpath.relpath(target, here) for two folders under out/ ("." is out/ itself),
    worked out from their names: relpath asks the OS for the working folder twice a call,
    and a page is made for every term."""
    to = [part for part in target.split("/") if part not in ("", ".")]
    start = [part for part in here.split("/") if part not in ("", ".")]
    common = 0
    while common < min(len(to), len(start)) and to[common] == start[common]:
        common += 1
    return "/".join([".."] * (len(start) - common) + to[common:]) or "."


def _row(spec: FeedSpec, site: Site, here: str) -> FeedRow:
    target = spec.folder or "."
    page = relative(target, here or ".")
    page = "./" if page == "." else quote(page) + "/"
    name = spec.term if spec.term else "All entries"
    return FeedRow(spec, name, page, spec.newest, _links(spec, site))


def _links(spec: FeedSpec, site: Site) -> tuple[FeedLink, ...]:
    return tuple(
        FeedLink(fmt, LABELS[fmt], MEDIA_TYPES[fmt], site.feed_url(spec, fmt))
        for fmt in site.formats
        if fmt in FILENAMES
    )


def _when(moment: datetime) -> str:
    """How a date reads on a page: in the entry's own zone, to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M")


def _web_link(url: str | None) -> str | None:
    """Only http(s) links become hrefs: an upstream could hand us `javascript:`."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def _language(entries: Iterable[Entry]) -> str | None:
    counts = Counter(entry.language for entry in entries if entry.language)
    if not counts:
        return None
    return min(counts, key=lambda language: (-counts[language], language))
