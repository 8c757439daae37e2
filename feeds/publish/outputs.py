"""The record of what each output file was made from, and the publish step that uses it.

A table of the store keeps, per output folder and file, the digest it was rendered from
(render/incremental.py) and the size and mtime the file had once written. A file whose
digest is unchanged and whose size and mtime are still those is neither rendered nor read
back: the writer keeps it as it is. Anything else (a new digest, a file edited, touched or
removed by someone) is rendered, and written only if its bytes differ.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path

from feeds.merge.article_cache import guarded, html_digest, transaction
from feeds.merge.seeds import SeedContents
from feeds.merge.store import Store
from feeds.model import Entry, FeedSpec
from feeds.publish.write import WriteReport, write_tree
from feeds.render.incremental import Digests, code_fingerprint, render_outputs
from feeds.render.site import Site

SCHEMA = """CREATE TABLE IF NOT EXISTS output_digests (
    out TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, PRIMARY KEY (out, path))"""


class OutputRecord:
    """The output_digests rows of one output folder."""

    def __init__(self, store: Store, out: Path) -> None:
        self.store = store
        self.root = str(out)
        self.key = str(out.resolve())
        with transaction(store) as db:
            db.execute(SCHEMA)

    def unchanged(self, digests: Mapping[str, str | None]) -> set[str]:
        """Paths whose digest is the recorded one and whose file is still as written."""
        with guarded(self.store) as db:
            rows = db.execute(
                "SELECT path, digest, size, mtime_ns FROM output_digests WHERE out = ?",
                (self.key,),
            ).fetchall()
        kept = set()
        for path, digest, size, mtime_ns in rows:
            if digests.get(path) == digest and _stat(self.root, path) == (size, mtime_ns):
                kept.add(path)
        return kept

    def record(
        self, digests: Mapping[str, str | None], changed: Collection[str], report: WriteReport
    ) -> None:
        """After writing: the `changed` paths as they now are on disk; rows of paths no
        longer produced go (the others stand as they were)."""
        done = set(report.written) | set(report.unchanged)  # a failed write is retried
        rows, dropped = [], []
        for path in changed:
            digest, stat = digests.get(path), _stat(self.root, path)
            if digest is None or stat is None or path not in done:
                dropped.append((self.key, path))
            else:
                rows.append((self.key, path, digest, *stat))
        with transaction(self.store) as db:
            known = db.execute("SELECT path FROM output_digests WHERE out = ?", (self.key,))
            dropped += [(self.key, path) for (path,) in known.fetchall() if path not in digests]
            db.executemany("DELETE FROM output_digests WHERE out = ? AND path = ?", dropped)
            db.executemany("INSERT OR REPLACE INTO output_digests VALUES (?, ?, ?, ?, ?)", rows)


def _stat(root: str, relative: str) -> tuple[int, int] | None:
    # os.path rather than pathlib: this runs for every output file of every build. The
    # paths are ours (feed folders are slugs), and a stat outside out/ would do no harm.
    try:
        stat = os.stat(os.path.join(root, relative))  # noqa: PTH116, PTH118
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def publish(
    out: Path, store: Store, specs: tuple[FeedSpec, ...], site: Site, seeds: SeedContents
) -> WriteReport:
    """Render the outputs that changed, write them, keep the others, record the digests."""
    record = OutputRecord(store, out)
    code = code_fingerprint()

    def content(entry: Entry) -> str | None:
        return seeds.digest(entry.id) if entry.id in seeds else html_digest(entry.content_html)

    digests = Digests(site, content, code)
    before = digests.outputs(specs)
    kept = record.unchanged(before)
    wanted = [path for path in before if path not in kept]
    files = render_outputs(specs, site, wanted, seeds.load, seeds.__contains__)
    report = write_tree(out, files, keep=kept)
    if None in before.values():  # seed entries rendered just now have a digest now
        before = digests.outputs(specs)
    record.record(before, wanted, report)
    return report
