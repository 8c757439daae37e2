"""The record of what each output file was made from: a table of the store keeps, per
output folder and file, the digest it was rendered from (render/incremental.py) and the
size and mtime the file had once written (publish/outputs.py writes and reads it)."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path

from feeds.merge.store import Store
from feeds.publish.write import WriteReport

SCHEMA = """CREATE TABLE IF NOT EXISTS output_digests (
    out TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, PRIMARY KEY (out, path))"""


class OutputRecord:
    """The output_digests rows of one output folder."""

    def __init__(self, store: Store, out: Path) -> None:
        self.store = store
        self.root = str(out)
        self.key = str(out.resolve())
        with store.transaction() as db:
            db.execute(SCHEMA)

    def unchanged(self, digests: Mapping[str, str | None]) -> set[str]:
        """Paths whose digest is the recorded one and whose file is still as written."""
        return {
            path
            for path, digest, size, mtime_ns in self._rows()
            if digests.get(path) == digest and _stat(self.root, path) == (size, mtime_ns)
        }

    def intact(self) -> list[str] | None:
        """Every recorded path, when each file is still on disk as written; else None."""
        rows = self._rows()
        if not rows or any(
            _stat(self.root, path) != (size, mtime) for path, _, size, mtime in rows
        ):
            return None
        return sorted(path for path, *_ in rows)

    def _rows(self) -> list[tuple[str, str, int, int]]:
        """(path, digest, size, mtime_ns) of every recorded file."""
        with self.store.guarded() as db:
            rows: list[tuple[str, str, int, int]] = db.execute(
                "SELECT path, digest, size, mtime_ns FROM output_digests WHERE out = ?",
                (self.key,),
            ).fetchall()
        return rows

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
        with self.store.transaction() as db:
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
