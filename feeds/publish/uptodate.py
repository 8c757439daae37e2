"""Whether out/ already holds what a build would write, known without reading an article.

A build's output is a function of its inputs: the settings, the code and the libraries it
runs on, each seed file as the article cache knows it (name, size, modification time:
merge/article_cache.py trusts the same three), the stored upstream entries
(Store.entries_version) and the sources they come from, and the published slugs, which
only builds write. After a build without problems, a digest of those inputs is recorded
with the build's counts; a later build that finds the same digest, and every output file
still on disk as written (publish/record.py), has nothing to do and reads nothing more.
Anything else, or a build that had problems, goes the whole way, and drops the record
before it writes anything: a build cut short cannot leave a record that lies.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import feeds
from feeds.installed import distributions
from feeds.merge.store import Store
from feeds.model import Source
from feeds.publish.record import OutputRecord
from feeds.publish.write import MANIFEST
from feeds.settings import Settings
from feeds.sources.local import ArticleFile

TABLE = """CREATE TABLE IF NOT EXISTS up_to_date (
    out TEXT PRIMARY KEY, inputs TEXT NOT NULL, manifest TEXT NOT NULL,
    articles INTEGER NOT NULL, drafts INTEGER NOT NULL, upstream INTEGER NOT NULL)"""
_CODE_SUFFIXES = (".py", ".html", ".xsl", ".css")


@dataclass(frozen=True)
class Current:
    """What the recorded build found, and the files it left (relative to out/)."""

    articles: int
    drafts: int
    upstream: int
    outputs: list[str]


def inputs_digest(
    settings: Settings,
    articles: Iterable[ArticleFile],
    sources: Iterable[Source],
    entries_version: int,
) -> str:
    lines = _basis(settings, sources, entries_version)
    # A length before each name: no file name can pass for another name and its numbers.
    lines += [f"{len(a.name)}:{a.name}:{a.size}:{a.mtime_ns}" for a in articles]
    return _digest(lines)


def basis_digest(settings: Settings, sources: Iterable[Source], entries_version: int) -> str:
    """The inputs but the seed files (merge/items.py keeps a build's items under it)."""
    return _digest(["basis", *_basis(settings, sources, entries_version)])


def _basis(settings: Settings, sources: Iterable[Source], entries_version: int) -> list[str]:
    lines = [repr(settings), environment(), str(entries_version)]
    return lines + sorted(repr(source) for source in sources)


def _digest(lines: list[str]) -> str:
    text = "\n".join(lines)
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=20).hexdigest()


@cache
def environment() -> str:
    """A digest of this code (every module, template and stylesheet of the package) and of
    the installed distributions (their *.dist-info names carry their versions)."""
    digest = hashlib.blake2b(feeds.__version__.encode(), digest_size=20)
    package = os.path.dirname(feeds.__file__)  # noqa: PTH120 - one walk per process
    for folder, subfolders, names in sorted(os.walk(package)):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        for name in sorted(names):
            if name.endswith(_CODE_SUFFIXES):
                path = Path(folder, name)
                digest.update(f"{path.relative_to(package)}\n".encode() + path.read_bytes())
    installed = sorted(distributions().items())
    digest.update("\n".join(f"{name} {version}" for name, version in installed).encode())
    return digest.hexdigest()


class UpToDate:
    """The up_to_date row of one output folder."""

    def __init__(self, store: Store, out: Path) -> None:
        self.store = store
        self.out = out
        self.outputs = OutputRecord(store, out)
        self.key = self.outputs.key
        with store.transaction() as db:
            db.execute(TABLE)

    def current(self, inputs: str) -> Current | None:
        """The recorded build, when its inputs were `inputs` and its files are intact."""
        with self.store.guarded() as db:
            row = db.execute(
                "SELECT inputs, manifest, articles, drafts, upstream FROM up_to_date WHERE out = ?",
                (self.key,),
            ).fetchone()
        if row is None or row[0] != inputs or row[1] != self._manifest():
            return None
        outputs = self.outputs.intact()
        if outputs is None:
            return None
        return Current(row[2], row[3], row[4], outputs)

    def forget(self) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM up_to_date WHERE out = ?", (self.key,))

    def remember(self, inputs: str, articles: int, drafts: int, upstream: int) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO up_to_date VALUES (?, ?, ?, ?, ?, ?)",
                (self.key, inputs, self._manifest(), articles, drafts, upstream),
            )

    def _manifest(self) -> str:
        """The manifest's size and mtime: the writer rewrites it whenever out/ changes."""
        try:
            stat = (self.out / MANIFEST).stat()
        except OSError:
            return "-"
        return f"{stat.st_size}:{stat.st_mtime_ns}"
