"""Any sequence of edits, built one after the other, ends with exactly the output folder a
cold build of the final inputs writes: whether the builds run as the daemon's (one store
kept open, decoded entries kept between builds) or as cron's (each from scratch).

Edits touch seed files and the entries an upstream source has stored (as its polls would
leave them); some upstream entries link to a seed's article, so they merge with it."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.merge import article_cache, items
from feeds.merge.store import Store
from feeds.model import Entry
from feeds.pipeline import BuildReport, build, read_seeds
from feeds.settings import Settings
from tests.test_incremental import (
    RECENT,
    TAGS,
    article,
    settings_for,
    tree,
    write_seeds,
)
from tests.test_incremental import upstream_entry as stored_upstream_entry

COUNT = 24  # articles written by write_seeds: 000_article.md .. 023_article.md
# Not "touch": a file touched keeps the `updated` of its last edit (the article cache's
# promise, test_article_cache.py), where a cold build can only read the new mtime.
EDITS = ("body", "tag", "untag", "title", "date", "delete", "new", "draft", "break", "upstream")
SOURCE = "loop"  # the source of test_incremental.upstream_entry
SOURCE_TOML = f'[[source]]\nname = "{SOURCE}"\nurl = "http://127.0.0.1:9/feed.xml"\n'


def upstream_entry(number: int, stamp: int) -> Entry:
    """Upstream item `number`, as its poll at `stamp` stored it; even numbers link to seed
    article `number` (test_incremental.article ends with that link), so they merge with it."""
    link = f"https://news.example/{number}" if number % 2 == 0 else f"https://up.example/{number}"
    entry = stored_upstream_entry(number, f"<p>Polled at {stamp}.</p>")
    return replace(entry, link=link, tags=("AI", f"up{number % 3}"))


def seed_links(settings_: Settings) -> dict[str, str | None]:
    """Each article's link (by file name), as the plain reader reads them."""
    entries = read_seeds(settings_, BuildReport())
    return {entry.origin.removeprefix("seed:"): entry.link for entry in entries}


def path_of(edit: str, number: int) -> str:
    """The file an edit writes (apply)."""
    return f"{100 + number:03d}_new.md" if edit == "new" else f"{number:03d}_article.md"


def stamps(seeds: Path) -> set[tuple[str, int, int]]:
    return {(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in seeds.iterdir()}


def apply(seeds: Path, edit: str, number: int, stamp: int) -> None:
    """One edit of article `number` (recreated first if an earlier edit deleted it); every
    write gets its own modification time, so `updated` is the same for the cold build."""
    assert edit != "upstream"
    path = seeds / f"{number:03d}_article.md"
    tags = [TAGS[number % len(TAGS)], TAGS[(number * 3) % len(TAGS)]]
    if edit == "new":
        path, number, tags = seeds / f"{100 + number:03d}_new.md", 100 + number, ["New tag"]
    if path.exists():
        before = text = path.read_text(encoding="utf-8")
    else:  # made anew, with bytes no earlier version had (the same bytes would be a touch)
        before, text = "", article(number, tags, f"Written at {stamp}.")
    if edit == "body":
        text = text.replace("\n\n[source", f"\n\nEdited at {stamp}.\n\n[source", 1)
    elif edit == "tag":
        text = text.replace("tags:\n", 'tags:\n  - "AI"\n  - "Sequence tag"\n', 1)
    elif edit == "untag":
        text = article(number, [], f"Untagged at {stamp}.")
    elif edit == "title":
        text = re.sub(r'^title: ".*"$', f'title: "Retitled {stamp}"', text, count=1, flags=re.M)
    elif edit == "date":
        day = f"2024-12-{1 + stamp // 60 % 28:02d} 12:00:00"
        text = re.sub(r'^date: ".*"$', f'date: "{day}"', text, count=1, flags=re.M)
    elif edit == "break":  # rejected until an "untag" writes the article anew
        text = f"---\ntitle: [\n---\nBroken at {stamp}.\n"
    elif edit == "draft":
        text = text.replace("---\ntitle:", "---\ndraft: true\ntitle:", 1)
    elif edit == "delete":
        path.unlink(missing_ok=True)
        return
    if text == before:  # new bytes always (same bytes and a new mtime is a touch); "new"
        # makes the file, or edits it when an earlier "new" did
        text = text.replace("\n\n[source", f"\n\nEdit {stamp}.\n\n[source", 1)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (stamp, stamp))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.lists(
            st.tuples(st.sampled_from(EDITS), st.integers(0, COUNT - 1)), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=4,
    ),
    daemon=st.booleans(),
)
def test_any_sequence_of_edits_ends_as_a_cold_build(
    tmp_path_factory: pytest.TempPathFactory, edits: list[list[tuple[str, int]]], daemon: bool
) -> None:
    work = tmp_path_factory.mktemp("sequence")
    write_seeds(work / "seeds", COUNT)
    settings_ = settings_for(work)
    (work / "sources" / "loop.toml").write_text(SOURCE_TOML, encoding="utf-8")
    stamp = 1_737_000_000
    upstream: dict[str, Entry] = {}  # what the source's polls stored, by id
    with Store.open(settings_.store) as store:
        assert build(settings_, offline=True, store=store).ok
        last_ok, links = True, seed_links(settings_)
        for batch in edits:  # the edits of one batch land between two builds
            before = stamps(work / "seeds")
            for edit, number in batch:
                stamp += 60
                if edit == "upstream":
                    entry = upstream_entry(number, stamp)
                    upstream[entry.id] = entry
                    store.save_entries(SOURCE, [entry], set(), RECENT + timedelta(hours=1))
                else:
                    apply(work / "seeds", edit, number, stamp)
            if not daemon:  # a process of its own: nothing decoded or kept before
                article_cache._DECODED.clear()
                items._KEPT.clear()
            report = build(settings_, offline=True, store=store if daemon else None)
            assert not (report.write.errors or report.source_errors), report.summary()
            # Seed edits alone, none of an article that merges with an upstream copy (by its
            # link, as it was or as it is): the last build's items are patched
            # (merge/patch.py), not every entry merged again. Nothing is built at all when
            # nothing changed since a build without problems (a rejected article is read
            # again by every build until it is mended).
            after = seed_links(settings_)
            names = {path_of(edit, number) for edit, number in batch if edit != "upstream"}
            shared = {entry.link for entry in upstream.values()}
            merging = any(links.get(name) in shared or after.get(name) in shared for name in names)
            seeds_only = all(edit != "upstream" for edit, _ in batch) and not merging
            idle = stamps(work / "seeds") == before and last_ok
            assert report.patched == (seeds_only and not idle), batch
            last_ok, links = report.ok, after
            # The counts either way are the plain reader's (pipeline.read_seeds).
            plain = BuildReport()
            read_seeds(settings_, plain)
            assert (report.articles, report.drafts) == (plain.articles, plain.drafts)
            assert [e.where for e in report.rejected] == [e.where for e in plain.rejected]
    # The cold build: the final seeds, and the final upstream entries in a store of its own.
    scratch = work / "scratch"
    (scratch / "sources").mkdir(parents=True)
    (scratch / "sources" / "loop.toml").write_text(SOURCE_TOML, encoding="utf-8")
    with Store.open(settings_for(scratch).store) as fresh:
        fresh.save_entries(SOURCE, list(upstream.values()), set(), RECENT + timedelta(hours=1))
    shutil.copytree(work / "seeds", scratch / "seeds", copy_function=shutil.copy2)
    cold = build(settings_for(scratch), offline=True)  # broken articles rejected alike
    assert not (cold.write.errors or cold.source_errors), cold.summary()
    assert tree(work / "out") == tree(scratch / "out")
