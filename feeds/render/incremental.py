"""Render only what changed: a digest for every output file, and the renderer of a chosen
set of them.

An output's digest covers everything its bytes are made of: the rendering code, the site
settings, its feed (kind, term, folder, title, total) and every entry of it, content
included for the feed files; the pages (a folder's index.html, the site's index.html) and
feeds.opml show no content, so a body edit leaves them alone. A file whose digest is the
one recorded when it was written, and that is still on disk as written, is left alone:
neither rendered nor read back (publish/outputs.py keeps the record).

The digest of a seed entry's content is known without loading it (the article cache keeps
it); a seed entry never rendered has none yet, so its feeds are rendered. Seed entries
reach this stage without their HTML (merge/seeds.py): `render_outputs` loads it for the
feeds it renders, and only for those.
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
from feeds.render.site import FILENAMES, STYLESHEET, Site
from feeds.render.stylesheet import stylesheet

# A digest of part of an entry, known without digesting it: its HTML (None for a seed entry
# not rendered yet), or every other field (the article cache's entry digest, or None).
PartDigest = Callable[[Entry], str | None]
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
    """Digests of one build's outputs; entries are digested once, whatever feeds hold them.

    A feed's files depend on its entries' content; its page (folder/index.html), the site's
    index.html and feeds.opml show no content, so their digests leave it out: a body edit
    re-renders the feeds holding the entry and none of the pages."""

    def __init__(
        self,
        site: Site,
        content: PartDigest,
        code: str,
        known: PartDigest = lambda entry: None,
    ) -> None:
        self.site = site
        self.content = content
        self.known = known
        self.base = _hash(code, site.title, site.base_url, *site.formats)
        # entry id -> (entry, digest of every field but content_html)
        self._shown: dict[str, tuple[Entry, str]] = {}
        # entry id -> (entry, digest of its content, digest of the whole entry)
        self._whole: dict[str, tuple[Entry, str, str]] = {}
        # id(spec) -> (spec, digest of its page, digest of its feed or None), once known:
        # `outputs` is called again after the entries without a content digest are
        # rendered, and only their feeds need a new one.
        self._feeds: dict[int, tuple[FeedSpec, str, str | None]] = {}

    def shown(self, entry: Entry) -> str:
        """A digest of everything of the entry but its content."""
        known = self._shown.get(entry.id)
        if known is not None and (known[0] is entry or known[0] == entry):
            return known[1]
        digest = self.known(entry) or _hash(*_fields(entry))
        self._shown[entry.id] = (entry, digest)
        return digest

    def entry(self, entry: Entry) -> str | None:
        """A digest of the whole entry; None while its content has no digest yet."""
        content = self.content(entry)
        if content is None:
            return None
        known = self._whole.get(entry.id)
        if known is not None and known[0] is entry and known[1] == content:
            return known[2]
        digest = _hash(self.shown(entry), content)
        self._whole[entry.id] = (entry, content, digest)
        return digest

    def feed(self, spec: FeedSpec) -> tuple[str, str | None]:
        """(digest of the feed's page, digest of its feed files or None: render them)."""
        known = self._feeds.get(id(spec))
        if known is not None and known[0] is spec and known[2] is not None:
            return known[1], known[2]
        fields = (spec.kind, spec.term, spec.folder, spec.title, str(spec.total))
        page = _hash(self.base, *fields, *(self.shown(entry) for entry in spec.entries))
        entries = [self.entry(entry) for entry in spec.entries]
        digest = None if None in entries else _hash(self.base, *fields, *entries)  # type: ignore[arg-type]
        self._feeds[id(spec)] = (spec, page, digest)
        return page, digest

    def outputs(self, specs: tuple[FeedSpec, ...]) -> dict[str, str | None]:
        """Every output file (relative to out/) and its digest (None: render it)."""
        found: dict[str, str | None] = {}
        pages: list[str] = []
        for spec in specs:
            page, digest = self.feed(spec)
            pages.append(page)
            for fmt in self.site.formats:
                found[spec.path(FILENAMES[fmt])] = digest and _hash(digest, fmt)
            if spec.folder:
                found[spec.path(INDEX)] = _hash(page, INDEX)
        whole = _hash(self.base, *pages)
        found[INDEX] = _hash(whole, INDEX)
        found[OPML_FILE] = _hash(whole, OPML_FILE)
        found[STYLESHEET] = _hash(self.base, STYLESHEET)
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
    specs: tuple[FeedSpec, ...],
    site: Site,
    wanted: Collection[str],
    load: LoadContents,
    is_seed: Callable[[str], bool],
) -> LazyFiles:
    """The `wanted` output files (a path twice is a PublishError), rendered when read."""
    wanted = set(wanted)
    to_render = [spec for spec in specs if _paths(spec, site) & wanted]
    filled = _filled(to_render, site, load, is_seed)
    uses = Counter(entry.id for spec in to_render for entry in spec.entries)
    fragments = Fragments(site, {key: count * len(site.formats) for key, count in uses.items()})
    files = LazyFiles()
    for spec in to_render:
        full = replace(spec, entries=tuple(filled.get(entry.id, entry) for entry in spec.entries))
        for fmt in site.formats:
            path = spec.path(FILENAMES[fmt])
            if path in wanted:
                files.add(path, partial(fragments.render, full, fmt), partial(fragments.skip, full))
            else:
                fragments.skip(full)
        if spec.folder and spec.path(INDEX) in wanted:
            files.add(spec.path(INDEX), partial(render_term_page, spec, site))
    extras: dict[str, Callable[[], bytes]] = {
        INDEX: partial(render_index, specs, site),
        OPML_FILE: partial(render_opml, specs, site),
        STYLESHEET: stylesheet,
    }
    for path, make in extras.items():
        if path in wanted:
            files.add(path, make)
    return files


def _filled(
    specs: list[FeedSpec], site: Site, load: LoadContents, is_seed: Callable[[str], bool]
) -> dict[str, Entry]:
    """Seed entries of these feeds with their HTML."""
    entries = {entry.id: entry for spec in specs for entry in spec.entries if is_seed(entry.id)}
    html = load(sorted(entries))
    return {
        entry_id: replace(entry, content_html=html[entry_id]) for entry_id, entry in entries.items()
    }


def _paths(spec: FeedSpec, site: Site) -> set[str]:
    paths = {spec.path(FILENAMES[fmt]) for fmt in site.formats}
    if spec.folder:
        paths.add(spec.path(INDEX))
    return paths


def _fields(entry: Entry) -> tuple[str, ...]:
    return (
        entry.id,
        entry.title,
        entry.published.isoformat(),
        entry.updated.isoformat(),
        repr(entry.summary),
        repr(entry.link),
        repr(entry.categories),
        repr(entry.tags),
        repr(entry.language),
        repr(entry.thumbnail),
        repr(entry.source_name),
        entry.origin,
    )


def _hash(*parts: str) -> str:
    return hashlib.blake2b("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
