"""Render only what changed: a digest for every output file, and the renderer of a chosen
set of them.

An output's digest covers everything its bytes are made of: the rendering code, the site
settings, its feed (kind, term, folder, title, total) and every entry of it, content
included for the feed files; the pages (a folder's index.html, the site's index.html) and
feeds.opml show no content, so a body edit leaves them alone. A file whose digest is the
one recorded when it was written, and that is still on disk as written, is left alone:
neither rendered nor read back (publish/outputs.py keeps the record).

Digests are made of the light items of the entries (merge/items.py), which carry a digest
of each entry's content: known without loading it (the article cache keeps it); a seed
entry never rendered has none yet, so its feeds are rendered. `render_outputs` resolves
whole entries for the feeds and pages it renders, and only for those, and loads the seed
entries' HTML (merge/seeds.py) for the feed files among them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path

import feeds
from feeds.errors import PublishError
from feeds.model import Entry, FeedSpec
from feeds.render.fragments import Fragments
from feeds.render.index import INDEX, render_index, render_term_page
from feeds.render.opml import OPML_FILE, render_opml
from feeds.render.plan import PlannedFeed
from feeds.render.site import FILENAMES, STYLESHEET, Site
from feeds.render.stylesheet import stylesheet

# The entries of these ids, whole but for a seed's content (LoadContents gives it).
Resolve = Callable[[Collection[str]], Mapping[str, Entry]]
# The HTML of these seed entries (by id), made XML-safe (as content.xml_safe does the rest).
LoadContents = Callable[[list[str]], Mapping[str, str]]


def code_fingerprint() -> str:
    """Everything under feeds/render/ (code, templates, stylesheet) and the version."""
    digest = hashlib.sha256(feeds.__version__.encode())
    folder = Path(__file__).parent
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".xsl", ".css"):
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


class Digests:
    """Digests of one build's outputs, made of its items' digests (no entry is read).

    A feed's files depend on its entries' content; its page (folder/index.html), the site's
    index.html and feeds.opml show no content, so their digests leave it out: a body edit
    re-renders the feeds holding the entry and none of the pages."""

    def __init__(self, site: Site, code: str) -> None:
        self.site = site
        self.base = _hash(code, site.title, site.base_url, *site.formats)
        # The last call's feeds and their digests: a second call (after the entries
        # without a content digest were rendered) digests again only the feeds that had none.
        self._last: tuple[tuple[PlannedFeed, ...], list[tuple[str, str | None]]] = ((), [])

    def feed(self, planned: PlannedFeed, fresh: Mapping[str, str]) -> tuple[str, str | None]:
        """(digest of the feed's page, digest of its feed files or None: render them).
        `fresh`: content digests newer than the items' (seed entries rendered just now)."""
        spec = planned.spec
        fields = (spec.kind, spec.term, spec.folder, spec.title, str(spec.total))
        page = _hash(self.base, *fields, *[item.shown for item in planned.items])
        if fresh:
            contents = [fresh.get(item.id, item.content) for item in planned.items]
        else:
            contents = [item.content for item in planned.items]
        if None in contents:
            return page, None
        return page, _hash(page, *contents)  # type: ignore[arg-type]

    def outputs(
        self, planned: tuple[PlannedFeed, ...], fresh: Mapping[str, str] | None = None
    ) -> dict[str, str | None]:
        """Every output file (relative to out/) and its digest (None: render it)."""
        found: dict[str, str | None] = {}
        pages: list[str] = []
        last = self._last[1] if self._last[0] is planned else []
        done = []
        for index, feed in enumerate(planned):
            if last and last[index][1] is not None:
                page, digest = last[index]
            else:
                page, digest = self.feed(feed, fresh or {})
            done.append((page, digest))
            pages.append(page)
            spec = feed.spec
            for fmt in self.site.formats:
                found[spec.path(FILENAMES[fmt])] = digest and _hash(digest, fmt)
            if spec.folder:
                found[spec.path(INDEX)] = _hash(page, INDEX)
        whole = _hash(self.base, *pages)
        found[INDEX] = _hash(whole, INDEX)
        found[OPML_FILE] = _hash(whole, OPML_FILE)
        found[STYLESHEET] = _hash(self.base, STYLESHEET)
        self._last = (planned, done)
        return found


class LazyFiles(Mapping[str, bytes]):
    """Output files rendered when the writer reads them, each once, then let go: rendering
    overlaps the writer's disk waits (publish/write.py hands files to writing threads as
    it reads them), and a build never holds all its output in memory at once."""

    def __init__(self) -> None:
        self._makers: dict[str, Callable[[], bytes]] = {}
        self._paths: list[str] = []
        self._unused: dict[str, Callable[[], None]] = {}

    def add(
        self, path: str, make: Callable[[], bytes], unused: Callable[[], None] | None = None
    ) -> None:
        """`make` renders the file; `unused` is called instead if it is dropped."""
        if path in self._makers:
            raise PublishError(path, "two outputs want the same file; refusing to write it twice")
        self._makers[path] = make
        self._paths.append(path)
        if unused is not None:
            self._unused[path] = unused

    def drop(self, paths: Iterable[str]) -> None:
        """These files will not be read here (a forked writer reads its share only): what
        they would have used of shared work is let go (Fragments counts its readers)."""
        for path in paths:
            self._makers.pop(path, None)
            unused = self._unused.pop(path, None)
            if unused is not None:
                unused()

    def __getitem__(self, path: str) -> bytes:
        self._unused.pop(path, None)
        return self._makers.pop(path)()

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def render_outputs(
    planned: tuple[PlannedFeed, ...],
    site: Site,
    wanted: Collection[str],
    resolve: Resolve,
    load: LoadContents,
) -> LazyFiles:
    """The `wanted` output files (a path twice is a PublishError), rendered when read.
    Entries are resolved for the feeds and pages rendered only, and the seed entries'
    HTML loaded for the feed files rendered only (pages show no content)."""
    wanted = set(wanted)
    rendered = [feed for feed in planned if _feed_paths(feed.spec, site) & wanted]
    pages = [feed for feed in planned if feed.spec.folder and feed.spec.path(INDEX) in wanted]
    combined = [feed for feed in planned if feed.spec.kind == "all" and INDEX in wanted]
    entries = resolve({item.id for feed in rendered + pages + combined for item in feed.items})
    seeds = {item.id for feed in rendered for item in feed.items if item.seed is not None}
    html = load(sorted(seeds))
    filled = dict(entries)
    filled.update((key, entries[key].with_content(html[key])) for key in seeds)

    def spec(feed: PlannedFeed, known: Mapping[str, Entry]) -> FeedSpec:
        return replace(feed.spec, entries=tuple(known[item.id] for item in feed.items))

    uses = Counter(item.id for feed in rendered for item in feed.items)
    fragments = Fragments(site, {key: count * len(site.formats) for key, count in uses.items()})
    files = LazyFiles()
    for feed in rendered:
        full = spec(feed, filled)
        for fmt in site.formats:
            path = full.path(FILENAMES[fmt])
            if path in wanted:
                files.add(path, partial(fragments.render, full, fmt), partial(fragments.skip, full))
            else:
                fragments.skip(full)
    for feed in pages:
        files.add(feed.spec.path(INDEX), partial(render_term_page, spec(feed, entries), site))
    specs = tuple(
        spec(feed, entries) if combined and feed.spec.kind == "all" else feed.spec
        for feed in planned
    )
    extras: dict[str, Callable[[], bytes]] = {
        INDEX: partial(render_index, specs, site),
        OPML_FILE: partial(render_opml, specs, site),
        STYLESHEET: stylesheet,
    }
    for path, make in extras.items():
        if path in wanted:
            files.add(path, make)
    return files


def _feed_paths(spec: FeedSpec, site: Site) -> set[str]:
    return {spec.path(FILENAMES[fmt]) for fmt in site.formats}


def _hash(*parts: str) -> str:
    return hashlib.blake2b("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
