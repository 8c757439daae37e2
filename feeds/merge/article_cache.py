"""The article cache: a table of the store holding each seed article's parsed entry and,
once it has been rendered, a digest of its HTML, keyed by the file's name, size,
modification time and a digest of its bytes.

What a build does with a row (see merge/seeds.py): a file whose size and mtime match is not
read at all; one whose bytes still match the digest (touched, restored from a backup) keeps
its entry, `updated` included; a changed one is parsed again, so its `updated` becomes the
file's modification time (article.py, when there is no lastmod): editing bumps it,
touching does not. A draft is a row without an entry.

Every row was made by one version of the code under one base URL and zone: the table
carries a fingerprint of them, and a different fingerprint empties it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

import feeds
from feeds.installed import distributions, normalize
from feeds.merge.store import Store
from feeds.model import Entry
from feeds.normalize import stored

TABLE = """CREATE TABLE IF NOT EXISTS article_cache (
    name TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL, entry TEXT, html_digest TEXT, entry_digest TEXT)"""
META = "CREATE TABLE IF NOT EXISTS article_cache_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
# What shapes a row: these modules and libraries (and the settings passed in).
_CODE = (
    "model.py",
    "normalize/article.py",
    "normalize/batch.py",
    "normalize/content.py",
    "normalize/dates.py",
    "normalize/front_matter.py",
    "normalize/identity.py",
    "normalize/markdown.py",
    "normalize/markdown_html.py",
    "normalize/simple_yaml.py",
    "normalize/stored.py",
)
_LIBRARIES = ("markdown-it-py", "pyromark", "nh3", "PyYAML", "python-frontmatter")


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    size: int
    mtime_ns: int
    digest: str
    entry: Entry | None  # None: a draft
    html_digest: str | None  # None: not rendered yet
    # A digest of the entry as stored (every field but its content; None for a draft).
    entry_digest: str | None = None


def fingerprint(base_url: str, timezone: str) -> str:
    text = f"{TABLE}\n{base_url}\n{timezone}\n{feeds.__version__}\n"
    digest = hashlib.sha256(text.encode())
    package = Path(feeds.__file__).parent
    for name in _CODE:
        digest.update(name.encode() + (package / name).read_bytes())
    versions = distributions()
    for library in _LIBRARIES:
        digest.update(f"{library} {versions.get(normalize(library), '-')}\n".encode())
    return digest.hexdigest()


# The entries decoded by this process, for the fingerprint they were made under: row name
# -> (its entry digest, its entry). Entries are immutable, so builds can share them.
_DECODED: dict[str, dict[str, tuple[str, Entry]]] = {}
_LOOKUPS = 200  # rows to decode again above which one read of all is cheaper


class ArticleCache:
    """The cache table in the store."""

    def __init__(self, store: Store, print_: str, zone: tzinfo, *, deferred: bool = False) -> None:
        """`deferred`: writes wait for `flush` (a cold build makes them while its writers
        run: pipeline.py), and are made in one transaction; reads flush them first."""
        self.store = store
        self.print_ = print_
        self.zone_key = getattr(zone, "key", None)
        self.zone = zone
        self._pending: _Pending | None = _Pending() if deferred else None
        with store.transaction() as db:
            db.execute(META)
            row = db.execute(
                "SELECT value FROM article_cache_meta WHERE key = 'fingerprint'"
            ).fetchone()
            if row is None or row[0] != print_:
                # A cache is never migrated: it is made again (the table's shape is part of
                # the fingerprint).
                db.execute("DROP TABLE IF EXISTS article_cache")
                db.execute(
                    "INSERT OR REPLACE INTO article_cache_meta VALUES ('fingerprint', ?)", (print_,)
                )
            db.execute(TABLE)

    def rows(self) -> dict[str, Row]:
        # Every build reads every row. Entries this process decoded before (a daemon builds
        # all day) are taken as they were while their entry digest is the same: only the
        # other rows' JSON is read (a fresh process reads it all at once) and decoded.
        self.flush()
        known = _DECODED.get(self.print_, {})
        # Two reads, one snapshot: every process that writes the store holds the writers'
        # lock for its whole build (publish/lock.py), this one included.
        with self.store.guarded() as db:
            if known:
                fetched = db.execute(
                    "SELECT name, size, mtime_ns, digest, NULL, html_digest, entry_digest "
                    "FROM article_cache"
                ).fetchall()
                texts = self._texts(db, [row[0] for row in fetched if _missed(row, known)])
            else:
                fetched = db.execute(
                    "SELECT name, size, mtime_ns, digest, entry, html_digest, entry_digest "
                    "FROM article_cache"
                ).fetchall()
                texts = {row[0]: row[4] for row in fetched if row[4]}
        names = list(texts)
        decoded = stored.decode([texts[name] for name in names], self.zone)
        entries = dict(zip(names, decoded, strict=True))
        remembered: dict[str, tuple[str, Entry]] = {}
        rows: dict[str, Row] = {}
        for name, size, mtime, digest, _, rendered, entry_digest in fetched:
            entry = entries.get(name)
            if entry is None and known.get(name, ("",))[0] == entry_digest:
                entry = known[name][1]
            if entry is not None:
                remembered[name] = (entry_digest, entry)
            rows[name] = Row(name, size, mtime, digest, entry, rendered, entry_digest)
        _DECODED.clear()
        _DECODED[self.print_] = remembered
        return rows

    def stamps(self) -> list[tuple[str, int, int, int]]:
        """Every row's (name, size, mtime_ns, 1 when it holds an entry else 0), nothing
        decoded."""
        with self.store.guarded() as db:
            fetched: list[tuple[str, int, int, int]] = db.execute(
                "SELECT name, size, mtime_ns, entry_digest IS NOT NULL FROM article_cache"
            ).fetchall()
        return fetched

    def rows_for(self, names: Iterable[str]) -> dict[str, Row]:
        """These rows alone (those that exist), each looked up by name; entries this process
        decoded before are taken as they were while their entry digest is the same."""
        self.flush()
        known = _DECODED.setdefault(self.print_, {})
        rows: dict[str, Row] = {}
        with self.store.guarded() as db:
            for name in names:
                row = db.execute(
                    "SELECT name, size, mtime_ns, digest, entry, html_digest, entry_digest "
                    "FROM article_cache WHERE name = ?",
                    (name,),
                ).fetchone()
                if row is None:
                    continue
                _, size, mtime, digest, text, rendered, entry_digest = row
                entry = None
                if text is not None:
                    remembered = known.get(name)
                    if remembered is not None and remembered[0] == entry_digest:
                        entry = remembered[1]
                    else:
                        (entry,) = stored.decode([text], self.zone)
                        known[name] = (entry_digest, entry)
                rows[name] = Row(name, size, mtime, digest, entry, rendered, entry_digest)
        return rows

    @staticmethod
    def _texts(db: sqlite3.Connection, names: list[str]) -> dict[str, str]:
        """The entry JSON of these rows: looked up one by one when they are few (a daemon's
        rebuild after an edit), read with all the others when they are many."""
        if len(names) > _LOOKUPS:
            wanted = set(names)
            fetched = db.execute("SELECT name, entry FROM article_cache").fetchall()
            return {name: text for name, text in fetched if name in wanted and text is not None}
        texts = {}
        for name in names:
            row = db.execute("SELECT entry FROM article_cache WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0] is not None:
                texts[name] = row[0]
        return texts

    def save(
        self, rows: Iterable[Row], texts: Mapping[str, tuple[str, str]] | None = None
    ) -> list[Row]:
        """Insert or replace rows (the HTML digest is dropped unless the file's is unchanged);
        the rows as saved, with their entry digests. `texts`: entries encoded already
        (normalize/stored.py) with their digests, by row name."""
        saved = []
        for row in rows:
            known = texts.get(row.name) if texts else None
            text: str | None
            digest: str | None
            if known is not None:
                text, digest = known
            else:
                text = self.encode(row.entry)
                digest = stored.digest(text) if text is not None else None
            if row.entry_digest != digest:
                # Not dataclasses.replace: a cold build saves every row, and replace costs more.
                fields = (row.name, row.size, row.mtime_ns, row.digest, row.entry, row.html_digest)
                row = Row(*fields, digest)
            saved.append((row, text))
        values = [
            (row.name, row.size, row.mtime_ns, row.digest, text, row.entry_digest, None)
            for row, text in saved
        ]
        if self._pending is not None:
            self._pending.rows += values
        else:
            with self.store.transaction() as db:
                db.executemany(_UPSERT, values)
        return [row for row, _ in saved]

    def encode(self, entry: Entry | None) -> str | None:
        return stored.encode(entry, self.zone_key) if entry is not None else None

    def forget(self, names: Iterable[str]) -> None:
        if self._pending is not None:
            self._pending.forgotten += names
            return
        with self.store.transaction() as db:
            db.executemany(_DELETE, [(name,) for name in names])

    def save_html_digests(self, rendered: Iterable[tuple[str, str, str]]) -> None:
        """(name, digest of the file it was rendered from, digest of its HTML)."""
        if self._pending is not None:
            self._pending.html += rendered
            return
        with self.store.transaction() as db:
            db.executemany(_SET_HTML, [(html, name, digest) for name, digest, html in rendered])

    def flush(self) -> None:
        """Make the deferred writes (if any), in one transaction. The HTML digest of a row
        saved in the same flush goes in with it, not by an update of its own."""
        pending = self._pending
        if pending is None or not (pending.rows or pending.forgotten or pending.html):
            return
        self._pending = _Pending()
        html = {(name, digest): value for name, digest, value in pending.html}
        rows = [
            (*row[:6], html.pop((row[0], row[3]), None))  # (name, ..., digest, ...)
            for row in pending.rows
        ]
        with self.store.transaction() as db:
            db.executemany(_UPSERT, rows)
            db.executemany(_DELETE, [(name,) for name in pending.forgotten])
            db.executemany(_SET_HTML, [(value, *key) for key, value in html.items()])


@dataclass
class _Pending:
    """Writes waiting for ArticleCache.flush, as the statements below take them."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    html: list[tuple[str, str, str]] = field(default_factory=list)


# One upsert a row: a row whose file digest is unchanged (touched) keeps its entry and
# HTML digest (unless one comes with it). SET expressions read the row as it was.
_UPSERT = (
    "INSERT INTO article_cache "
    "(name, size, mtime_ns, digest, entry, entry_digest, html_digest) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
    "size = excluded.size, mtime_ns = excluded.mtime_ns, "
    "entry = CASE WHEN digest = excluded.digest THEN entry ELSE excluded.entry END, "
    "entry_digest = CASE WHEN digest = excluded.digest THEN entry_digest "
    "ELSE excluded.entry_digest END, "
    "html_digest = CASE WHEN excluded.html_digest IS NOT NULL THEN excluded.html_digest "
    "WHEN digest = excluded.digest THEN html_digest END, "
    "digest = excluded.digest"
)
_DELETE = "DELETE FROM article_cache WHERE name = ?"
_SET_HTML = "UPDATE article_cache SET html_digest = ? WHERE name = ? AND digest = ?"


def _missed(row: tuple[Any, ...], known: dict[str, tuple[str, Entry]]) -> bool:
    """Whether a row (as rows() selects it) holds an entry this process has not decoded."""
    entry_digest = row[6]
    return entry_digest is not None and known.get(row[0], ("",))[0] != entry_digest
