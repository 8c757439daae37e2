"""The article cache: which files a build reads again, and what `updated` becomes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from feeds.merge.article_cache import Row
from feeds.normalize import batch
from feeds.pipeline import build
from feeds.sources.local import read_file
from tests.test_incremental import article, settings_for, write_seeds

ARTICLE = "005_article.md"
ID = "tag:127.0.0.1,2025:005_article"
BASE = "http://127.0.0.1:8080/"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write_seeds(tmp_path / "seeds", count=8)
    assert build(settings_for(tmp_path), offline=True).ok
    return tmp_path


def item(work: Path) -> dict[str, object]:
    feed = json.loads((work / "out" / "feed.json").read_text(encoding="utf-8"))
    found: dict[str, object] = next(item for item in feed["items"] if item["id"] == ID)
    return found


def cached_names(work: Path) -> set[str]:
    with sqlite3.connect(work / "state" / "state.db") as db:
        return {name for (name,) in db.execute("SELECT name FROM article_cache")}


def test_touching_a_file_keeps_its_updated_date(work: Path) -> None:
    before = item(work)["date_modified"]
    os.utime(work / "seeds" / ARTICLE, (1_740_000_000, 1_740_000_000))
    assert build(settings_for(work), offline=True).ok
    assert item(work)["date_modified"] == before


def test_editing_a_file_makes_its_mtime_the_updated_date(work: Path) -> None:
    path = work / "seeds" / ARTICLE
    path.write_text(article(5, ["AI"], "A new paragraph."), encoding="utf-8")
    os.utime(path, (1_740_000_000, 1_740_000_000))  # 2025-02-20T05:20:00+08:00
    assert build(settings_for(work), offline=True).ok
    assert item(work)["date_modified"] == "2025-02-20T05:20:00+08:00"
    assert "A new paragraph." in str(item(work)["content_html"])


def test_a_file_with_its_size_and_mtime_unchanged_is_not_read_again(work: Path) -> None:
    path = work / "seeds" / ARTICLE
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Article 5", "Xrticle 5"), encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert build(settings_for(work), offline=True).ok
    assert "Article 5" in str(item(work)["title"])  # the cached entry, as documented


def test_another_base_url_empties_the_cache(work: Path) -> None:
    base = "https://news.example/"
    assert build(settings_for(work, base_url=base), offline=True).ok
    feed = json.loads((work / "out" / "feed.json").read_text(encoding="utf-8"))
    assert all(item["id"].startswith("tag:news.example,") for item in feed["items"])


def test_drafts_stay_out_and_bad_articles_are_reported_on_every_build(work: Path) -> None:
    draft = work / "seeds" / ARTICLE
    draft.write_text(draft.read_text().replace("---\ntitle:", "---\ndraft: true\ntitle:", 1))
    (work / "seeds" / "broken.md").write_text('---\ntitle: "x\ndate: [\n---\nBody\n')
    for _ in range(2):
        report = build(settings_for(work), offline=True)
        assert report.drafts == 1
        assert [error.where.split(":")[0] for error in report.rejected] == ["broken.md"]
        assert ID.encode() not in (work / "out" / "feed.json").read_bytes()
    assert "broken.md" not in cached_names(work)


def test_deleted_articles_leave_the_cache(work: Path) -> None:
    (work / "seeds" / ARTICLE).unlink()
    assert build(settings_for(work), offline=True).ok
    assert ARTICLE not in cached_names(work)
    assert len(cached_names(work)) == 7


@pytest.mark.parametrize("threads", [False, True], ids=["forked", "fork server"])
def test_a_process_pool_parses_and_renders_like_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: bool
) -> None:
    write_seeds(tmp_path / "seeds", count=6)
    parse_jobs = [
        batch.ParseJob(path.name, str(path), path.stat().st_mtime_ns, BASE, "Asia/Shanghai")
        for path in sorted((tmp_path / "seeds").iterdir())
    ]
    here = [batch.parse_one(job) for job in parse_jobs]
    render_jobs = [
        batch.RenderJob(p.name, j.path, p.digest, None)
        for p, j in zip(here, parse_jobs, strict=True)
    ]
    rendered_here = [batch.render_one(job) for job in render_jobs]
    monkeypatch.setattr(batch, "POOL_MIN", 2)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # a second thread: forking is unsafe then
    if threads:
        other.start()
    try:
        assert list(batch.parse_articles(parse_jobs)) == here
        assert batch.render_bodies(render_jobs) == rendered_here
    finally:
        stop.set()
        if threads:
            other.join()
    assert all(result.entry is not None for result in here)
    assert all(result.html for result in rendered_here)


def cache_row(work: Path, name: str) -> tuple[object, ...]:
    with sqlite3.connect(work / "state" / "state.db") as db:
        row = db.execute(
            "SELECT size, mtime_ns, digest, entry, html_digest FROM article_cache WHERE name = ?",
            (name,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_touched_file_keeps_its_html_digest_and_an_edited_one_drops_it(work: Path) -> None:
    before = cache_row(work, ARTICLE)
    assert before[4] is not None  # rendered by the first build (it is in the feeds)
    path = work / "seeds" / ARTICLE
    os.utime(path, (1_900_000_000, 1_900_000_000))
    assert build(settings_for(work), offline=True).ok
    touched = cache_row(work, ARTICLE)
    assert touched[1] == 1_900_000_000 * 10**9
    assert touched[2:] == before[2:]  # same digest, entry and HTML digest
    edit = article(5, ["AI"], body="An edit.").replace('date: "2025-', 'date: "2000-')
    path.write_text(edit, encoding="utf-8")
    os.utime(path, (1_900_000_100, 1_900_000_100))
    settings = settings_for(work, limit=1)  # the edited entry, now the oldest, is in no feed
    assert build(settings, offline=True).ok
    edited = cache_row(work, ARTICLE)
    assert edited[2] != before[2] and edited[3] != before[3]
    assert edited[4] is None


def rendered_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the articles whose bodies the next builds render (in this process)."""
    names: list[str] = []
    render_one = batch.render_one

    def spy(job: batch.RenderJob) -> batch.Rendered:
        names.append(job.name)
        return render_one(job)

    monkeypatch.setattr(batch, "render_one", spy)
    return names


def test_an_edit_renders_its_own_body_and_takes_the_others_from_the_published_feeds(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = rendered_names(monkeypatch)
    path = work / "seeds" / ARTICLE
    path.write_text(article(5, ["AI"], "A new paragraph."), encoding="utf-8")
    report = build(settings_for(work), offline=True)
    assert report.ok and len(report.write.written) > 3
    assert rendered == [ARTICLE]
    assert "A new paragraph." in str(item(work)["content_html"])
    # What was taken from the published feeds is what rendering gives: a cold build of the
    # same seeds writes the same bytes.
    cold = work / "cold"
    cold.mkdir()
    (cold / "seeds").symlink_to(work / "seeds")
    assert build(settings_for(cold), offline=True).ok
    for relative in report.write.written:
        assert (cold / "out" / relative).read_bytes() == (work / "out" / relative).read_bytes()


def test_html_in_a_published_feed_that_does_not_match_its_digest_is_rendered_again(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = work / "out" / "feed.json"
    document = json.loads(feed.read_text(encoding="utf-8"))
    for entry in document["items"]:
        entry["content_html"] = "<p>planted</p>"
    feed.write_text(json.dumps(document), encoding="utf-8")
    rendered = rendered_names(monkeypatch)
    path = work / "seeds" / "007_article.md"
    path.write_text(article(7, ["AI"], "Seven, edited."), encoding="utf-8")
    assert build(settings_for(work), offline=True).ok
    assert "007_article.md" in rendered and len(rendered) > 1
    for name in ("feed.json", "atom.xml", "rss.xml"):
        assert "planted" not in (work / "out" / name).read_text(encoding="utf-8")


def test_a_missing_or_broken_published_feed_only_means_rendering(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "out" / "feed.json").unlink()
    for folder in (work / "out" / "tags").iterdir():
        (folder / "feed.json").write_text('{"items": [1, {"id": 2}], ', encoding="utf-8")
    rendered = rendered_names(monkeypatch)
    path = work / "seeds" / ARTICLE
    path.write_text(article(5, ["AI"], "Five, edited."), encoding="utf-8")
    report = build(settings_for(work), offline=True)
    assert report.ok
    assert ARTICLE in rendered and len(rendered) > 1
    assert "Five, edited." in str(item(work)["content_html"])


def test_a_body_with_characters_xml_forbids_is_published_without_them(work: Path) -> None:
    from lxml import etree

    path = work / "seeds" / ARTICLE
    path.write_text(article(5, ["AI"], "Bell \x07 and form \x0c feed."), encoding="utf-8")
    for _ in range(2):  # rendered, then taken from the published feed by the next build
        assert build(settings_for(work), offline=True).ok
        assert "Bell  and form  feed." in str(item(work)["content_html"])
        for name in ("atom.xml", "rss.xml"):  # lxml refuses a character XML forbids
            etree.fromstring((work / "out" / name).read_bytes())
        (work / "seeds" / "007_article.md").write_text(article(7, ["AI"], "Seven."), "utf-8")


def test_a_process_decodes_a_row_again_only_when_it_changed(work: Path) -> None:
    from feeds.merge.article_cache import ArticleCache, fingerprint
    from feeds.merge.store import Store

    settings = settings_for(work)

    def rows() -> dict[str, Row]:
        with Store.open(settings.store) as store:
            print_ = fingerprint(settings.base_url, settings.timezone)
            return ArticleCache(store, print_, settings.zone).rows()

    first = rows()
    assert all(row.entry is rows()[name].entry for name, row in first.items())  # kept
    path = work / "seeds" / ARTICLE
    path.write_text(article(5, ["AI"], "Edited."), encoding="utf-8")
    assert build(settings, offline=True).ok
    after = rows()
    edited = after[ARTICLE].entry
    before = first[ARTICLE].entry
    assert edited is not None and before is not None
    assert edited.updated > before.updated  # decoded from the new row: edited now
    others = [name for name in first if name != ARTICLE]
    assert others and all(after[name].entry is first[name].entry for name in others)


@pytest.mark.parametrize("lookups", [200, 0])  # rows looked up one by one, or all read
def test_a_row_rewritten_by_another_process_is_decoded_again(
    work: Path, lookups: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The daemon keeps the entries it decoded; a cron build in another process may store
    # a different entry under the same file digest (parsed at another mtime). The row's
    # entry digest tells, not the file's.
    from dataclasses import replace

    from feeds.merge import article_cache
    from feeds.merge.article_cache import ArticleCache, fingerprint
    from feeds.merge.store import Store

    monkeypatch.setattr(article_cache, "_LOOKUPS", lookups)
    settings = settings_for(work)
    print_ = fingerprint(settings.base_url, settings.timezone)
    with Store.open(settings.store) as store:
        cache = ArticleCache(store, print_, settings.zone)
        first = cache.rows()[ARTICLE]
        assert first.entry is not None and first.entry_digest is not None
        other = replace(first.entry, title="Stored by another process")
        cache.forget([ARTICLE])
        (saved,) = cache.save([replace(first, entry=other, entry_digest=None)])
        assert saved.entry_digest not in (None, first.entry_digest)
        again = cache.rows()[ARTICLE]
        assert again.entry == other
        assert again.entry_digest == saved.entry_digest
        assert cache.rows()[ARTICLE].entry is again.entry  # and kept from then on


def test_seed_digests_are_the_cached_ones_only_for_the_cached_entry(work: Path) -> None:
    from dataclasses import replace

    from feeds.merge.items import items_of, shown_digest
    from feeds.merge.seeds import read_seeds_cached
    from feeds.merge.store import Store
    from feeds.pipeline import BuildReport

    with Store.open(settings_for(work).store) as store:
        entries, contents = read_seeds_cached(settings_for(work), store, BuildReport())
    entry = entries[0]
    cached = contents.seeds[entry.id].row.entry_digest
    items, _ = items_of([entry], set(), contents)
    assert items[entry.id].shown == cached is not None
    # An equal copy, or the entry changed by a merge or the plan: digested from its fields.
    for other in (replace(entry), replace(entry, tags=("merged",))):
        items, _ = items_of([other], set(), contents)
        assert items[entry.id].shown == shown_digest(other) != cached


def test_stored_entries_decode_to_what_was_parsed(work: Path) -> None:
    # Rows saved from the workers' encodings: read back by a process that decoded nothing
    # yet, every entry equals a fresh parse of its file, the zone of its dates included.
    from feeds.merge import article_cache
    from feeds.merge.article_cache import ArticleCache, fingerprint
    from feeds.merge.store import Store
    from feeds.normalize import stored
    from feeds.normalize.article import parse_article
    from feeds.normalize.dates import file_time

    settings = settings_for(work)
    article_cache._DECODED.clear()
    with Store.open(settings.store) as store:
        cache = ArticleCache(
            store, fingerprint(settings.base_url, settings.timezone), settings.zone
        )
        rows = cache.rows()
    assert len(rows) == 8
    for name, row in rows.items():
        path = work / "seeds" / name
        modified = file_time(path.stat().st_mtime_ns, settings.zone)
        parsed = parse_article(name, path.read_bytes(), settings.base_url, settings.zone, modified)
        assert row.entry == parsed.entry
        assert row.entry is not None and row.entry.published.tzinfo == settings.zone
        assert row.entry_digest == stored.digest(stored.encode(parsed.entry, settings.timezone))


def test_deferred_writes_wait_for_flush_and_take_their_html_digest_along(work: Path) -> None:
    from dataclasses import replace

    from feeds.merge.article_cache import ArticleCache, fingerprint
    from feeds.merge.store import Store

    settings = settings_for(work)
    print_ = fingerprint(settings.base_url, settings.timezone)
    with Store.open(settings.store) as store:
        row = ArticleCache(store, print_, settings.zone).rows()[ARTICLE]
        deferred = ArticleCache(store, print_, settings.zone, deferred=True)
        deferred.forget([ARTICLE])
        assert ARTICLE in cached_names(work)  # not yet
        deferred.flush()
        assert ARTICLE not in cached_names(work)
        deferred.save([replace(row, html_digest=None)])
        deferred.save_html_digests([(ARTICLE, row.digest, "f" * 32)])
        assert ARTICLE not in cached_names(work)
        deferred.flush()
        digest, entry, html = cache_row(work, ARTICLE)[2:]
        assert (digest, html) == (row.digest, "f" * 32) and entry is not None
        # A read makes the writes waiting before it.
        deferred.forget([ARTICLE])
        assert ARTICLE not in deferred.rows()


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 300_000])
def test_read_file_reads_every_byte(tmp_path: Path, size: int) -> None:
    path = tmp_path / "a.md"
    data = os.urandom(size)
    path.write_bytes(data)
    assert read_file(str(path)) == data


def test_read_file_refuses_a_folder_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        read_file(str(tmp_path))
    with pytest.raises(FileNotFoundError):
        read_file(str(tmp_path / "missing.md"))
