"""A build after seed edits patches the last build's items (merge/patch.py) when, and only
when, that gives what the whole way gives; each case ends equal to a cold build."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.merge.items import ItemTable
from feeds.merge.store import Store
from feeds.pipeline import build
from tests.test_incremental import (
    RECENT,
    add_article,
    cold_build,
    delete,
    edit_body,
    settings_for,
    tree,
    upstream_entry,
    write_seeds,
)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write_seeds(tmp_path / "work" / "seeds")
    assert build(settings_for(tmp_path / "work"), offline=True).ok
    return tmp_path / "work"


LOOP = '[[source]]\nname = "loop"\nurl = "http://127.0.0.1:9/feed.xml"\n'


@pytest.mark.parametrize("edit", [edit_body, add_article, delete])
def test_a_seed_edit_is_patched_and_ends_as_a_cold_build(
    work: Path, tmp_path: Path, edit: Callable[[Path], None]
) -> None:
    edit(work / "seeds")
    report = build(settings_for(work), offline=True)
    assert report.ok and report.patched
    assert report.articles == len(list((work / "seeds").glob("*.md")))
    assert tree(work / "out") == cold_build(work / "seeds", tmp_path / "cold")


def test_a_changed_setting_goes_the_whole_way(work: Path) -> None:
    edit_body(work / "seeds")
    report = build(settings_for(work, title="Another title"), offline=True)
    assert report.ok and not report.patched


def test_an_article_that_comes_to_share_an_upstream_link_is_merged(
    work: Path, tmp_path: Path
) -> None:
    """Its new link is an upstream entry's: the two are one article now, which only the
    whole way (merging every entry) finds."""
    (work / "sources" / "loop.toml").write_text(LOOP, encoding="utf-8")
    settings = settings_for(work)
    with Store.open(settings.store) as store:
        store.save_entries("loop", [upstream_entry(7, "<p>up</p>")], set(), RECENT)
    assert build(settings, offline=True).ok
    path = work / "seeds" / "005_article.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("news.example/5)", "upstream.example/7)"), encoding="utf-8")
    report = build(settings, offline=True)
    assert report.ok and not report.patched
    combined = (work / "out" / "atom.xml").read_text(encoding="utf-8")
    assert "Upstream 7" not in combined  # the seed won; its copy is gone
    reference = tmp_path / "cold"
    (reference / "sources").mkdir(parents=True)
    (reference / "sources" / "loop.toml").write_text(LOOP, encoding="utf-8")
    with Store.open(settings_for(reference).store) as store:
        store.save_entries("loop", [upstream_entry(7, "<p>up</p>")], set(), RECENT)
    assert tree(work / "out") == cold_build(work / "seeds", reference)


def test_an_edit_of_a_merged_article_goes_the_whole_way(work: Path) -> None:
    (work / "sources" / "loop.toml").write_text(LOOP, encoding="utf-8")
    settings = settings_for(work)
    linked = replace(upstream_entry(7, "<p>up</p>"), link="https://news.example/23")
    with Store.open(settings.store) as store:
        store.save_entries("loop", [linked], set(), RECENT)
    assert build(settings, offline=True).ok
    edit_body(work / "seeds")  # 023_article.md, which links to news.example/23
    report = build(settings, offline=True)
    assert report.ok and not report.patched
    assert "An added paragraph." in (work / "out" / "atom.xml").read_text(encoding="utf-8")


def test_an_article_rejected_for_another_s_id_keeps_builds_whole(work: Path) -> None:
    """The whole way reports the second file with an id every build: the patch would not."""
    twin = work / "seeds" / "000_article.txt"
    twin.write_bytes((work / "seeds" / "000_article.md").read_bytes())
    assert not build(settings_for(work), offline=True).ok
    edit_body(work / "seeds")
    report = build(settings_for(work), offline=True)
    assert not report.patched
    assert [error.where for error in report.rejected] == ["000_article.txt"]


def test_a_build_cut_short_leaves_no_items_to_patch(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The article cache took the edit, the items did not: the next build must not trust
    them (it would publish the old article)."""
    import feeds.publish.outputs

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    edit_body(work / "seeds")
    with monkeypatch.context() as patch:
        patch.setattr(feeds.publish.outputs, "publish", fail)
        with pytest.raises(OSError, match="disk full"):
            build(settings_for(work), offline=True)
    with Store.open(settings_for(work).store) as store:
        assert not ItemTable(store).take("any").current
    report = build(settings_for(work), offline=True)
    assert report.ok and not report.patched
    assert tree(work / "out") == cold_build(work / "seeds", tmp_path / "cold")


def test_many_edits_go_the_whole_way(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.merge.patch

    monkeypatch.setattr(feeds.merge.patch, "LIMIT", 2)
    for path in sorted((work / "seeds").glob("*.md"))[:3]:
        path.write_text(path.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
        os.utime(path, (1_737_000_000, 1_737_000_000))
    report = build(settings_for(work), offline=True)
    assert report.ok and not report.patched
    assert tree(work / "out") == cold_build(work / "seeds", tmp_path / "cold")


def test_strict_stops_at_a_broken_edit_on_the_patch_too(work: Path) -> None:
    """The edit alone would be patched: strict raises there as the whole way does; the
    build cut short leaves no items, so the next goes the whole way and reports it."""
    from feeds.errors import ArticleError

    (work / "seeds" / "005_article.md").write_text("---\ntitle: [\n---\nBody\n")
    with pytest.raises(ArticleError, match=r"broken YAML front matter"):
        build(settings_for(work), offline=True, strict=True)
    report = build(settings_for(work), offline=True)  # not strict: reported, the rest goes on
    assert not report.patched
    assert [error.where for error in report.rejected] == ["005_article.md:3"]
    assert report.articles == 23


def test_a_broken_edit_is_reported_and_its_article_left_out_on_the_patch(
    work: Path, tmp_path: Path
) -> None:
    (work / "seeds" / "005_article.md").write_text("---\ntitle: [\n---\nBody\n")
    report = build(settings_for(work), offline=True)
    assert report.patched
    assert [error.where for error in report.rejected] == ["005_article.md:3"]
    assert report.articles == 23
    # The same as a cold build of the other 23 articles.
    others = tmp_path / "others"
    shutil.copytree(work / "seeds", others, copy_function=shutil.copy2)
    (others / "005_article.md").unlink()
    assert tree(work / "out") == cold_build(others, tmp_path / "cold")
    again = build(settings_for(work), offline=True)  # still broken: reported again
    assert [error.where for error in again.rejected] == ["005_article.md:3"]
