"""GET /healthz: the last build and every source's status, read from the SQLite store.

200 when the last recorded build succeeded; 503 when it failed, when none is recorded, when
the store is missing (no build has run: opening it would create it, so it is not opened)
or unreadable. The store is opened read-only, so a probe never creates or migrates it.
Read in a worker thread, cached for a second so probes cost nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from feeds.errors import StoreError
from feeds.merge.store import SCHEMA_VERSION, Store


class Health:
    """The last build and every source's status, read from the store, cached briefly."""

    def __init__(self, store: Path | None, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, tuple[dict[str, Any], int]] | None = None

    def read(self) -> tuple[dict[str, Any], int]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.ttl:
                self._cached = (now, self._read())
            return self._cached[1]

    def _read(self) -> tuple[dict[str, Any], int]:
        if self.store is None or not self.store.is_file():
            return {"status": "no build yet", "last_build": None, "sources": []}, 503
        try:
            with open_read_only(self.store) as store:
                build = store.last_build()
                sources = store.sources_status()
        except StoreError as error:
            return {"status": "store error", "error": str(error), "sources": []}, 503
        report: dict[str, Any] = {
            "status": "no build yet" if build is None else "ok" if build.ok else "failing",
            "last_build": None
            if build is None
            else {"at": build.at.isoformat(), "ok": build.ok, "summary": build.summary},
            "sources": [
                {
                    "name": source.name,
                    "url": source.url,
                    "last_success": _iso(source.last_success),
                    "last_error_at": _iso(source.last_error_at),
                    "last_error": source.last_error,
                    "failures": source.failures,
                    "entries": source.entries,
                    "disabled": source.disabled,
                }
                for source in sources
            ],
        }
        return report, 200 if build is not None and build.ok else 503


def open_read_only(path: Path) -> Store:
    """The store, read-only: never created (Store.open would), never migrated by a probe."""
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(str(path), f"cannot open: {exc}") from None
    store = Store(path, connection)
    try:
        version = store.schema_version()
    except StoreError:
        store.close()
        raise
    if version != SCHEMA_VERSION:
        store.close()
        raise StoreError(str(path), f"schema {version}, this feeds reads {SCHEMA_VERSION}")
    return store


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
