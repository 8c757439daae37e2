"""The SQLite store (stdlib sqlite3, WAL): upstream entries, fetch state, slugs, builds.

It lives outside out/ (default `.feeds/state.db`). Its schema has a version and migrates
forward on open; a store written by a newer feeds, a corrupt file or a lock held too long
is a `StoreError` naming the path, never a traceback. Every public method takes the lock,
so one Store can be shared by the daemon's threads (the connection is opened with
check_same_thread=False for that reason).

Entries outlive the upstream's window: an item that leaves the upstream feed stays until
retention (days since its date, entries per source) drops it. An entry stored without a
date of its own keeps the date it was first seen, so it never jumps to "now" again.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from feeds.errors import StoreError
from feeds.model import Entry
from feeds.sources.state import BuildStatus, SourceState, SourceStatus

# Each step takes the schema from version n to n+1; never edit a released step, add one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sources (
            name TEXT PRIMARY KEY, url TEXT NOT NULL, configured_url TEXT NOT NULL,
            etag TEXT, last_modified TEXT, last_success TEXT, last_error_at TEXT,
            last_error TEXT, failures INTEGER NOT NULL DEFAULT 0, next_poll TEXT)""",
        """CREATE TABLE entries (
            id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL,
            published TEXT NOT NULL, published_ts REAL NOT NULL, updated TEXT NOT NULL,
            content_html TEXT NOT NULL, summary TEXT, link TEXT, categories TEXT NOT NULL,
            tags TEXT NOT NULL, language TEXT, thumbnail TEXT, source_name TEXT,
            origin TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            undated INTEGER NOT NULL DEFAULT 0)""",
        "CREATE INDEX entries_by_source ON entries (source, published_ts)",
    ),
    (
        "ALTER TABLE sources ADD COLUMN redirect_target TEXT",
        "ALTER TABLE sources ADD COLUMN redirect_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sources ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sources ADD COLUMN retry_after TEXT",
        "ALTER TABLE sources ADD COLUMN hinted_interval INTEGER",
        """CREATE TABLE slugs (
            kind TEXT NOT NULL, term_key TEXT NOT NULL, slug TEXT NOT NULL,
            PRIMARY KEY (kind, term_key))""",
        """CREATE TABLE builds (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, ok INTEGER NOT NULL,
            summary TEXT NOT NULL)""",
    ),
    (
        # Counts changes to what builds publish of the entries (see entries_version).
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO meta (key, value) VALUES ('entries_version', 0)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
BUILDS_KEPT = 100

_STATE_FIELDS = tuple(f.name for f in fields(SourceState))
_DATE_FIELDS = frozenset(
    {"last_success", "last_error_at", "next_poll", "retry_after", "published", "updated"}
)
# What a build publishes of a stored entry (id aside), in the order _upsert compares them.
_PUBLISHED_COLUMNS = (
    "source, title, published, updated, content_html, summary, link, categories, tags, "
    "language, thumbnail, source_name, origin"
)
_ENTRY_COLUMNS = (
    "id, title, published, updated, content_html, summary, link, categories, tags, "
    "language, thumbnail, source_name, origin"
)


@dataclass(frozen=True, slots=True)
class Retention:
    days: int
    entries: int  # per source


class Store:
    """One open SQLite store. Use `Store.open(path)`; close it, or use it as a context."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.connection = connection
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path, *, timeout: float = 5.0) -> Store:
        """Open (creating the file and its folder) and migrate to the current schema."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(str(path), f"cannot create its folder: {exc.strerror}") from None
        try:
            connection = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(str(path), f"cannot open: {exc}") from None
        store = cls(path, connection)
        try:
            with store._guard():
                connection.execute("PRAGMA journal_mode=WAL")
                # In WAL mode, NORMAL syncs the log at checkpoints, not at every commit: an
                # application crash loses nothing, a power cut at most the last commits
                # (what a build learnt: the next one redoes it; a poll: polled again). A
                # commit's fsync made the filesystem commit its journal, which waited on
                # the writeback of the feed files being written beside it.
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA foreign_keys=ON")
                store._migrate()
        except StoreError:
            connection.close()
            raise
        return store

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def guarded(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, every sqlite3 error a StoreError naming the file
        (for reads of tables kept by other modules: article cache, output record)."""
        with self._guard():
            yield self.connection

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT on the connection, guarded as above (the connection is
        in autocommit mode, where every statement alone would be a transaction of its own,
        synced to disk)."""
        with self._transaction() as db:
            yield db

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Take the lock and turn every sqlite3 error into a StoreError naming the file."""
        with self._lock:
            try:
                yield
            except sqlite3.OperationalError as exc:
                raise StoreError(str(self.path), _explain(exc)) from None
            except sqlite3.DatabaseError as exc:
                raise StoreError(
                    str(self.path), f"corrupt or not a feeds store ({exc}); move it away"
                ) from None
            except sqlite3.Error as exc:  # pragma: no cover - sqlite3 errors not listed above
                raise StoreError(str(self.path), str(exc)) from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._guard():
            # IMMEDIATE takes the write lock now, so a busy store fails here, before work.
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def schema_version(self) -> int:
        with self._guard():
            exists = self.connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if not exists:
                return 0
            row = self.connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
            return int(row[0] or 0)

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                str(self.path),
                f"written by a newer feeds (schema {version}, this one knows up to "
                f"{SCHEMA_VERSION}); upgrade feeds or move the file away",
            )
        if version == SCHEMA_VERSION:
            return
        with self._transaction() as db:
            # Read again under the write lock: another process may have migrated meanwhile.
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = int(row[0] or 0)
            for step in MIGRATIONS[current:]:
                for statement in step:
                    db.execute(statement)
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    # -- fetch state ----------------------------------------------------------------------

    def source_state(self, name: str) -> SourceState | None:
        with self._guard():
            row = self.connection.execute(
                f"SELECT {', '.join(_STATE_FIELDS)} FROM sources WHERE name = ?",  # noqa: S608
                (name,),
            ).fetchone()
        return None if row is None else _state_from_row(row)

    def save_source_state(self, state: SourceState) -> None:
        self.save_source_states([state])

    def save_source_states(self, states: Iterable[SourceState]) -> None:
        """Store several sources' states in one transaction (one commit, one fsync)."""
        rows = [[_to_sql(getattr(state, name)) for name in _STATE_FIELDS] for state in states]
        if not rows:
            return
        marks = ", ".join("?" for _ in _STATE_FIELDS)
        with self._transaction() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO sources ({', '.join(_STATE_FIELDS)}) "  # noqa: S608
                f"VALUES ({marks})",
                rows,
            )

    def sources_status(self, names: Collection[str] | None = None) -> list[SourceStatus]:
        """Every source with state or entries (or only `names`), sorted by name."""
        with self._guard():
            counts = dict(
                self.connection.execute("SELECT source, COUNT(*) FROM entries GROUP BY source")
            )
            rows = self.connection.execute(
                f"SELECT {', '.join(_STATE_FIELDS)} FROM sources"  # noqa: S608
            ).fetchall()
        states = {row[0]: _state_from_row(row) for row in rows}
        wanted = sorted(set(names) if names is not None else set(states) | set(counts))
        return [_status(name, states.get(name), counts.get(name, 0)) for name in wanted]

    # -- entries --------------------------------------------------------------------------

    def save_entries(
        self,
        source: str,
        entries: Sequence[Entry],
        undated: Collection[str],
        seen_at: datetime,
        retention: Retention | None = None,
    ) -> int:
        """Insert or update one poll's entries; returns how many are new and kept.

        An entry in `undated` (its dates were filled with the time first seen) that is
        already stored keeps its stored dates. Every entry the upstream lists now is kept,
        however old its date (retention by age counts from the last time it was listed, see
        `prune`); with `retention`, the source is trimmed to its newest `retention.entries`.
        """
        with self._transaction() as db:
            fresh: list[str] = []
            changed = 0
            for entry in entries:
                new, different = self._upsert(db, source, entry, entry.id in undated, seen_at)
                changed += different
                if new:
                    fresh.append(entry.id)
            if retention is not None:
                changed += _trim(db, retention.entries, source)
            if changed:
                _bump(db)
            if not fresh:
                return 0
            marks = ", ".join("?" for _ in fresh)
            row = db.execute(
                f"SELECT COUNT(*) FROM entries WHERE id IN ({marks})",  # noqa: S608
                fresh,
            ).fetchone()
            return int(row[0])

    def _upsert(
        self, db: sqlite3.Connection, source: str, entry: Entry, undated: bool, seen_at: datetime
    ) -> tuple[bool, bool]:
        """(new, changed): whether the entry was not stored, and whether what a build
        publishes of it differs from what was stored (always, for a new one)."""
        old = db.execute(
            f"SELECT published, updated, first_seen, undated, {_PUBLISHED_COLUMNS} "  # noqa: S608
            "FROM entries WHERE id = ?",
            (entry.id,),
        ).fetchone()
        published, updated = entry.published, entry.updated
        first_seen = seen_at.isoformat()
        if old is not None:
            first_seen = old[2]
            if undated:
                published, updated = _parse_date(old[0]), _parse_date(old[1])
        published_values = (
            source,
            entry.title,
            published.isoformat(),
            updated.isoformat(),
            entry.content_html,
            entry.summary,
            entry.link,
            json.dumps(list(entry.categories), ensure_ascii=False),
            json.dumps(list(entry.tags), ensure_ascii=False),
            entry.language,
            entry.thumbnail,
            entry.source_name,
            entry.origin,
        )
        db.execute(
            f"INSERT OR REPLACE INTO entries ({_PUBLISHED_COLUMNS}, id, published_ts, "  # noqa: S608
            "first_seen, last_seen, undated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *published_values,
                entry.id,
                published.timestamp(),
                first_seen,
                seen_at.isoformat(),
                int(undated and (old is None or bool(old[3]))),
            ),
        )
        if old is None:
            return True, True
        return False, tuple(old[4:]) != published_values

    def entries(self, sources: Iterable[str] | None = None) -> list[Entry]:
        """Stored upstream entries (of `sources` only, when given), newest first."""
        query = f"SELECT {_ENTRY_COLUMNS} FROM entries"  # noqa: S608
        params: list[str] = []
        if sources is not None:
            params = sorted(set(sources))
            query += f" WHERE source IN ({', '.join('?' for _ in params)})"
        query += " ORDER BY published_ts DESC, id"
        with self._guard():
            rows = self.connection.execute(query, params).fetchall()
        return [_entry_from_row(row) for row in rows]

    def entry_keys(self, sources: Iterable[str]) -> list[tuple[str, str | None]]:
        """(id, link) of the stored entries of these sources: what merging goes by."""
        params = sorted(set(sources))
        query = f"SELECT id, link FROM entries WHERE source IN ({', '.join('?' for _ in params)})"  # noqa: S608
        with self._guard():
            return [(str(key), link) for key, link in self.connection.execute(query, params)]

    def prune(self, now: datetime, retention: Retention) -> int:
        """Drop entries the upstream stopped listing more than retention.days ago, and
        those beyond retention.entries per source (newest kept).

        Age counts from the last poll that listed the entry, not from its date: a feed
        whose newest post is older than the retention still gets published, and an entry
        outlives the upstream's window by retention.days.
        """
        cutoff = now - timedelta(days=retention.days)
        with self._transaction() as db:
            dropped = db.execute(
                "DELETE FROM entries WHERE julianday(last_seen) < julianday(?)",
                (cutoff.isoformat(),),
            ).rowcount
            dropped = int(dropped) + _trim(db, retention.entries)
            if dropped:
                _bump(db)
            return dropped

    def entries_version(self) -> int:
        """A number that changes whenever an entry is added, removed, or changed in
        anything a build publishes (not when a poll merely lists it again): a build that
        finds it as it was last time knows the upstream part of its input is unchanged."""
        with self._guard():
            row = self.connection.execute(
                "SELECT value FROM meta WHERE key = 'entries_version'"
            ).fetchone()
        return int(row[0])

    # -- slugs and builds -----------------------------------------------------------------

    def known_slugs(self) -> dict[tuple[str, str], str]:
        with self._guard():
            rows = self.connection.execute("SELECT kind, term_key, slug FROM slugs").fetchall()
        return {(kind, key): slug for kind, key, slug in rows}

    def save_slugs(self, slugs: Mapping[tuple[str, str], str]) -> None:
        """Remember published slugs; a term's first slug is never replaced."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO slugs (kind, term_key, slug) VALUES (?, ?, ?)",
                [(kind, key, slug) for (kind, key), slug in sorted(slugs.items())],
            )

    def record_build(self, at: datetime, ok: bool, summary: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO builds (at, ok, summary) VALUES (?, ?, ?)",
                (at.isoformat(), int(ok), summary),
            )
            db.execute(
                "DELETE FROM builds WHERE id <= (SELECT MAX(id) FROM builds) - ?", (BUILDS_KEPT,)
            )

    def last_build(self) -> BuildStatus | None:
        with self._guard():
            row = self.connection.execute(
                "SELECT at, ok, summary FROM builds ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else BuildStatus(_parse_date(row[0]), bool(row[1]), row[2])


def _explain(exc: sqlite3.OperationalError) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return "locked by another process (another feeds build, fetch or run?); try again"
    if "readonly" in text or "read-only" in text:
        return "cannot write: the file or its folder is read-only"
    if "unable to open" in text:
        return "cannot open the file (check the folder and permissions)"
    if "malformed" in text or "not a database" in text:
        return f"corrupt or not a feeds store ({text}); move it away"
    return text


def _trim(db: sqlite3.Connection, keep: int, source: str | None = None) -> int:
    where = "" if source is None else "WHERE source = ?"
    params: list[Any] = [] if source is None else [source]
    deleted = db.execute(
        "DELETE FROM entries WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER ("  # noqa: S608
        "PARTITION BY source ORDER BY published_ts DESC, id) AS n FROM entries "
        f"{where}) WHERE n > ?)",
        [*params, keep],
    ).rowcount
    return int(deleted)


def _bump(db: sqlite3.Connection) -> None:
    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'entries_version'")


def _to_sql(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _parse_date(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _state_from_row(row: Sequence[Any]) -> SourceState:
    values: dict[str, Any] = {}
    for name, value in zip(_STATE_FIELDS, row, strict=True):
        if name in _DATE_FIELDS and value is not None:
            value = _parse_date(value)
        elif name == "disabled":
            value = bool(value)
        elif name in ("failures", "redirect_count"):
            value = int(value or 0)
        values[name] = value
    return SourceState(**values)


def _status(name: str, state: SourceState | None, count: int) -> SourceStatus:
    if state is None:
        return SourceStatus(name, "", None, None, None, 0, count, None, False)
    return SourceStatus(
        name=name,
        url=state.url,
        last_success=state.last_success,
        last_error_at=state.last_error_at,
        last_error=state.last_error,
        failures=state.failures,
        entries=count,
        next_poll=state.next_poll,
        disabled=state.disabled,
    )


def _entry_from_row(row: Sequence[Any]) -> Entry:
    (id_, title, published, updated, content, summary, link, categories, tags, *rest) = row
    language, thumbnail, source_name, origin = rest
    return Entry(
        id=id_,
        title=title,
        published=_parse_date(published),
        updated=_parse_date(updated),
        content_html=content,
        summary=summary,
        link=link,
        categories=tuple(json.loads(categories)),
        tags=tuple(json.loads(tags)),
        language=language,
        thumbnail=thumbnail,
        source_name=source_name,
        origin=origin,
    )
