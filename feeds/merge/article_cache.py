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
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import feeds
from feeds.merge.store import Store
from feeds.model import Entry

TABLE = """CREATE TABLE IF NOT EXISTS article_cache (
    name TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL, entry TEXT, html_digest TEXT)"""
META = "CREATE TABLE IF NOT EXISTS article_cache_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
# What shapes a row: these modules and libraries (and the settings passed in).
_CODE = (
    "model.py",
    "normalize/article.py",
    "normalize/batch.py",
    "normalize/content.py",
    "normalize/dates.py",
    "normalize/identity.py",
    "normalize/markdown.py",
)
_LIBRARIES = ("markdown-it-py", "markdown-it-pyrs", "nh3", "PyYAML", "python-frontmatter")


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    size: int
    mtime_ns: int
    digest: str
    entry: Entry | None  # None: a draft
    html_digest: str | None  # None: not rendered yet


def fingerprint(base_url: str, timezone: str) -> str:
    text = f"{TABLE}\n{base_url}\n{timezone}\n{feeds.__version__}\n"
    digest = hashlib.sha256(text.encode())
    package = Path(feeds.__file__).parent
    for name in _CODE:
        digest.update(name.encode() + (package / name).read_bytes())
    from importlib import metadata  # here: it takes a while to load, and a build that is
    # up to date (publish/uptodate.py) never needs it

    for library in _LIBRARIES:
        try:
            digest.update(f"{library} {metadata.version(library)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} -\n".encode())
    return digest.hexdigest()


# The entries decoded by this process, for the fingerprint they were made under: row name
# -> (its JSON text, its entry). Entries are immutable, so builds can share them.
_DECODED: dict[str, dict[str, tuple[str, Entry]]] = {}


class ArticleCache:
    """The cache table in the store."""

    def __init__(self, store: Store, print_: str, zone: tzinfo) -> None:
        self.store = store
        self.print_ = print_
        self.zone_key = getattr(zone, "key", None)
        self.zone = zone
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
        with self.store.guarded() as db:
            fetched = db.execute(
                "SELECT name, size, mtime_ns, digest, entry, html_digest FROM article_cache"
            ).fetchall()
        # Every build reads every row. Entries this process decoded before (a daemon builds
        # all day) are taken as they were when their text is the same; the others are
        # decoded by one json.loads.
        known = _DECODED.get(self.print_, {})
        misses = [row for row in fetched if row[4] and known.get(row[0], ("",))[0] != row[4]]
        texts = json.loads("[" + ",".join(row[4] for row in misses) + "]")
        decoded = {row[0]: self._entry(fields) for row, fields in zip(misses, texts, strict=True)}
        remembered: dict[str, tuple[str, Entry]] = {}
        rows: dict[str, Row] = {}
        for name, size, mtime, digest, text, rendered in fetched:
            entry = decoded.get(name) or (known[name][1] if text else None)
            if text and entry is not None:
                remembered[name] = (text, entry)
            rows[name] = Row(name, size, mtime, digest, entry, rendered)
        _DECODED.clear()
        _DECODED[self.print_] = remembered
        return rows

    def save(self, rows: Iterable[Row]) -> None:
        """Insert or replace rows (the HTML digest is dropped unless the file's is unchanged)."""
        with self.store.transaction() as db:
            # One upsert a row: a row whose file digest is unchanged (touched) keeps its
            # entry and HTML digest. SET expressions read the row as it was.
            db.executemany(
                "INSERT INTO article_cache (name, size, mtime_ns, digest, entry, html_digest) "
                "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (name) DO UPDATE SET "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "entry = CASE WHEN digest = excluded.digest THEN entry ELSE excluded.entry END, "
                "html_digest = CASE WHEN digest = excluded.digest THEN html_digest END, "
                "digest = excluded.digest",
                [
                    (row.name, row.size, row.mtime_ns, row.digest, self._json(row.entry))
                    for row in rows
                ],
            )

    def forget(self, names: Iterable[str]) -> None:
        with self.store.transaction() as db:
            db.executemany("DELETE FROM article_cache WHERE name = ?", [(n,) for n in names])

    def save_html_digests(self, rendered: Iterable[tuple[str, str, str]]) -> None:
        """(name, digest of the file it was rendered from, digest of its HTML)."""
        with self.store.transaction() as db:
            db.executemany(
                "UPDATE article_cache SET html_digest = ? WHERE name = ? AND digest = ?",
                [(html, name, digest) for name, digest, html in rendered],
            )

    # -- entries as JSON ------------------------------------------------------------------

    def _json(self, entry: Entry | None) -> str | None:
        if entry is None:
            return None
        return json.dumps(
            [
                entry.id,
                entry.title,
                *self._moment(entry.published),
                *self._moment(entry.updated),
                entry.summary,
                entry.link,
                entry.categories,
                entry.tags,
                entry.language,
                entry.thumbnail,
                entry.source_name,
                entry.origin,
            ],
            ensure_ascii=False,
        )

    def _moment(self, moment: datetime) -> tuple[str, bool]:
        # A date in the site's zone comes back in that zone (not as a bare offset), so the
        # entry equals the one parsed from the file.
        return moment.isoformat(), getattr(moment.tzinfo, "key", None) == self.zone_key

    def _entry(self, fields: list[Any] | None) -> Entry | None:
        """The entry of a row's decoded JSON list (see _json); None for a draft."""
        if fields is None:
            return None
        (id_, title, published, in_zone, updated, updated_in_zone, *rest) = fields
        summary, link, categories, tags, language, thumbnail, source_name, origin = rest
        return Entry(
            id_,
            title,
            self._datetime(published, in_zone),
            self._datetime(updated, updated_in_zone),
            "",
            summary,
            link,
            tuple(categories),
            tuple(tags),
            language,
            thumbnail,
            source_name,
            origin,
        )

    def _datetime(self, text: str, in_zone: bool) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment.astimezone(self.zone) if in_zone else moment
