"""The SQLite store, on real files in tmp_path."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.errors import StoreError
from feeds.merge.store import MIGRATIONS, SCHEMA_VERSION, Retention, Store
from feeds.model import Entry
from feeds.sources.state import SourceState

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def entry(id_: str, published: datetime = NOW, title: str = "T") -> Entry:
    return Entry(id_, title, published, published, origin="upstream:a")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "deep" / "state.db")
    yield opened
    opened.close()


def test_open_creates_folder_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state.db"
    with Store.open(path) as opened:
        mode = opened.connection.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = opened.connection.execute("PRAGMA synchronous").fetchone()[0]
        assert opened.schema_version() == SCHEMA_VERSION
    assert path.is_file()
    assert mode == "wal"
    assert synchronous == 1  # NORMAL: the log is synced at checkpoints, not every commit


def test_entries_round_trip_every_field(store: Store) -> None:
    original = Entry(
        "urn:x:1",
        "标题 <b>",
        datetime(2025, 5, 1, 8, 0, tzinfo=UTC) + timedelta(hours=0),
        datetime(2025, 5, 2, 8, 0, tzinfo=UTC),
        content_html="<p>hi</p>",
        summary="s",
        link="https://example.org/1",
        categories=("News",),
        tags=("AI", "芯片"),
        language="zh",
        thumbnail="https://example.org/t.png",
        source_name="A",
        origin="upstream:a",
    )
    assert store.save_entries("a", [original], frozenset(), NOW) == 1
    assert store.entries() == [original]
    assert store.entries(["other"]) == []


def test_saving_again_counts_nothing_new_and_updates_content(store: Store) -> None:
    store.save_entries("a", [entry("1", title="old")], frozenset(), NOW)
    assert store.save_entries("a", [entry("1", title="new")], frozenset(), NOW) == 0
    assert [e.title for e in store.entries()] == ["new"]


def test_undated_entry_keeps_the_date_first_seen(store: Store) -> None:
    first = NOW
    later = NOW + timedelta(days=3)
    store.save_entries("a", [entry("u", first)], {"u"}, first)
    store.save_entries("a", [entry("u", later, title="edited")], {"u"}, later)
    (kept,) = store.entries()
    assert kept.published == first and kept.updated == first
    assert kept.title == "edited"


def test_dated_entry_takes_its_new_dates(store: Store) -> None:
    store.save_entries("a", [entry("d", NOW)], set(), NOW)
    store.save_entries("a", [entry("d", NOW + timedelta(hours=1))], set(), NOW)
    assert store.entries()[0].published == NOW + timedelta(hours=1)


def test_retention_by_age_counts_from_the_last_poll_that_listed_the_entry(store: Store) -> None:
    keep = Retention(days=10, entries=100)
    old = entry("old", NOW - timedelta(days=400))  # an old post the upstream still lists
    assert store.save_entries("a", [old, entry("new")], set(), NOW, keep) == 2
    assert store.prune(NOW, keep) == 0
    assert [e.id for e in store.entries()] == ["new", "old"]
    # Five days later the upstream lists only "new": "old" has left its window.
    store.save_entries("a", [entry("new")], set(), NOW + timedelta(days=5), keep)
    assert store.prune(NOW + timedelta(days=9), keep) == 0
    assert store.prune(NOW + timedelta(days=11), keep) == 1
    assert [e.id for e in store.entries()] == ["new"]
    assert store.prune(NOW + timedelta(days=16), keep) == 1
    assert store.entries() == []


def test_retention_by_count_keeps_newest_per_source(store: Store) -> None:
    keep = Retention(days=1000, entries=2)
    batch = [entry(f"a{i}", NOW - timedelta(hours=i)) for i in range(4)]
    assert store.save_entries("a", batch, set(), NOW, keep) == 2
    store.save_entries("b", [entry("b0", NOW - timedelta(days=30))], set(), NOW, keep)
    assert {e.id for e in store.entries()} == {"a0", "a1", "b0"}
    assert store.prune(NOW, Retention(days=1000, entries=1)) == 1
    assert {e.id for e in store.entries()} == {"a0", "b0"}


def test_source_state_round_trip_and_status(store: Store) -> None:
    state = SourceState(
        name="a",
        url="https://new.example/feed",
        configured_url="https://old.example/feed",
        etag='"v1"',
        last_modified="Sun, 01 Jun 2025 12:00:00 GMT",
        last_success=NOW,
        last_error_at=NOW,
        last_error="boom",
        failures=2,
        next_poll=NOW + timedelta(minutes=30),
        redirect_target="https://x/",
        redirect_count=1,
        disabled=True,
        retry_after=NOW + timedelta(hours=1),
        hinted_interval=3600,
    )
    store.save_source_state(state)
    assert store.source_state("a") == state
    assert store.source_state("missing") is None
    store.save_entries("a", [entry("1"), entry("2")], set(), NOW)
    (status,) = store.sources_status()
    assert (status.name, status.failures, status.entries, status.disabled) == ("a", 2, 2, True)
    assert status.next_poll == NOW + timedelta(minutes=30)
    assert [s.entries for s in store.sources_status(["zz"])] == [0]


def test_slugs_are_kept_once_published(store: Store) -> None:
    store.save_slugs({("tag", "ai"): "ai", ("category", "news"): "news"})
    store.save_slugs({("tag", "ai"): "ai-2", ("tag", "go"): "go"})
    assert store.known_slugs() == {
        ("tag", "ai"): "ai",
        ("category", "news"): "news",
        ("tag", "go"): "go",
    }


def test_build_records(store: Store) -> None:
    assert store.last_build() is None
    store.record_build(NOW, True, "first")
    store.record_build(NOW + timedelta(minutes=1), False, "second")
    last = store.last_build()
    assert last is not None
    assert (last.at, last.ok, last.summary) == (NOW + timedelta(minutes=1), False, "second")


def test_migrates_a_version_1_store_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.execute(
        "INSERT INTO sources (name, url, configured_url, etag, failures) "
        "VALUES ('a', 'https://a/', 'https://a/', '\"e\"', 3)"
    )
    db.commit()
    db.close()
    with Store.open(path) as opened:
        assert opened.schema_version() == SCHEMA_VERSION
        state = opened.source_state("a")
        assert state is not None
        assert (state.etag, state.failures, state.redirect_count, state.disabled) == (
            '"e"',
            3,
            0,
            False,
        )
        opened.save_slugs({("tag", "x"): "x"})
        assert opened.known_slugs() == {("tag", "x"): "x"}


def test_a_store_from_a_newer_feeds_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer feeds") as caught:
        Store.open(path)
    assert caught.value.where == str(path)


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="corrupt or not a feeds store") as caught:
        Store.open(path)
    assert str(path) in str(caught.value)


def test_a_locked_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Store.open(path, timeout=0.05) as opened, pytest.raises(StoreError, match="locked"):
            opened.save_slugs({("tag", "x"): "x"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_store_locked_before_its_first_migration_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked") as caught:
            Store.open(path, timeout=0.05)
        assert caught.value.where == str(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_entries_version_changes_with_what_builds_publish_only(store: Store) -> None:
    versions = [store.entries_version()]

    def poll(*entries: Entry, at: datetime = NOW) -> None:
        store.save_entries("a", list(entries), frozenset(), at)
        versions.append(store.entries_version())

    poll(entry("1"), entry("2"))  # new entries
    poll(entry("1"), entry("2"), at=NOW + timedelta(hours=1))  # listed again, as they were
    poll(entry("1", title="T2"), entry("2"))  # a title changed
    poll(entry("2"))  # one no longer listed: still stored, unchanged
    assert versions[1] != versions[0]
    assert versions[2] == versions[1]
    assert versions[3] != versions[2]
    assert versions[4] == versions[3]
    # Pruning what expired changes it; pruning nothing does not.
    before = store.entries_version()
    assert store.prune(NOW + timedelta(days=1), Retention(days=30, entries=100)) == 0
    assert store.entries_version() == before
    assert store.prune(NOW + timedelta(days=60), Retention(days=30, entries=100)) == 2
    assert store.entries_version() != before


def test_entries_version_survives_reopening(tmp_path: Path) -> None:
    with Store.open(tmp_path / "state.db") as first:
        first.save_entries("a", [entry("1")], frozenset(), NOW)
        version = first.entries_version()
    with Store.open(tmp_path / "state.db") as second:
        assert second.entries_version() == version != 0
