"""Incremental builds write exactly what a build from scratch writes, and touch nothing else.

Each case edits a small seeds folder between two builds, then compares the output folder
with a cold build of the same seeds (empty store, empty output) byte for byte, and checks
which files the second build replaced.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.merge.store import Store
from feeds.model import Entry
from feeds.pipeline import BuildReport, build
from feeds.settings import Settings, defaults

TAGS = ["AI", "芯片", "Editor's Pick", "C++", "M&A", "nvidia", "NVIDIA"]


def article(number: int, tags: list[str], body: str = "") -> str:
    tag_lines = "".join(f'  - "{tag}"\n' for tag in tags)
    return (
        f'---\ntitle: "Article {number} <b>&</b>"\n'
        f'date: "2025-01-{1 + number % 28:02d} {number % 24:02d}:00:00"\n'
        f'summary: "Summary {number}"\ncategories:\n  - "cat{number % 3}"\n'
        f'tags:\n{tag_lines}lang:\n  - "zh-CN"\n---\n\n'
        f"Paragraph of article {number} with **bold** and ![i](//img.example/{number}.png).\n\n"
        f"{body}\n\n[source {number}](https://news.example/{number})\n"
    )


def write_seeds(folder: Path, count: int = 24) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        tags = [TAGS[number % len(TAGS)], TAGS[(number * 3) % len(TAGS)]]
        path = folder / f"{number:03d}_article.md"
        path.write_text(article(number, tags), encoding="utf-8")
        stamp = 1_736_000_000 + 60 * number
        os.utime(path, (stamp, stamp))


def settings_for(work: Path, **values: object) -> Settings:
    (work / "sources").mkdir(parents=True, exist_ok=True)
    return defaults().with_values(
        "test",
        {
            "seeds": str(work / "seeds"),
            "sources": str(work / "sources"),
            "out": str(work / "out"),
            "store": str(work / "state" / "state.db"),
            "limit": 5,  # small feeds: an edit moves entries in and out of them
            **values,
        },
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def cold_build(seeds: Path, scratch: Path) -> dict[str, bytes]:
    shutil.copytree(seeds, scratch / "seeds", copy_function=shutil.copy2)
    report = build(settings_for(scratch), offline=True)
    assert report.ok, report.summary()
    return tree(scratch / "out")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write_seeds(tmp_path / "work" / "seeds")
    report = build(settings_for(tmp_path / "work"), offline=True)
    assert report.ok
    return tmp_path / "work"


def rebuild(work: Path, **values: object) -> tuple[BuildReport, list[str]]:
    before = stamps(work / "out")
    report = build(settings_for(work, **values), offline=True)
    after = stamps(work / "out")
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    return report, changed


def edit_body(seeds: Path) -> None:
    path = seeds / "023_article.md"
    path.write_text(article(23, [TAGS[23 % 7], TAGS[69 % 7]], "An added paragraph."))
    os.utime(path, (1_737_000_000, 1_737_000_000))


def edit_body_only(seeds: Path) -> None:
    """New bytes, same modification time: only the content changes, not `updated`."""
    path = seeds / "023_article.md"
    stamp = path.stat().st_mtime_ns
    path.write_text(article(23, [TAGS[23 % 7], TAGS[69 % 7]], "Only the body changed."))
    os.utime(path, ns=(stamp, stamp))


def add_tag(seeds: Path) -> None:
    path = seeds / "022_article.md"
    path.write_text(article(22, [TAGS[22 % 7], TAGS[66 % 7], "AI"]))


def delete(seeds: Path) -> None:
    (seeds / "021_article.md").unlink()


def add_article(seeds: Path) -> None:
    (seeds / "030_new.md").write_text(article(30, ["New tag"]))


def make_draft(seeds: Path) -> None:
    path = seeds / "020_article.md"
    path.write_text(path.read_text().replace("---\ntitle:", "---\ndraft: true\ntitle:", 1))


EDITS: dict[str, Callable[[Path], None]] = {
    "body": edit_body,
    "body only": edit_body_only,
    "tag": add_tag,
    "delete": delete,
    "new": add_article,
    "draft": make_draft,
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_an_edit_then_a_build_equals_a_cold_build(work: Path, tmp_path: Path, name: str) -> None:
    EDITS[name](work / "seeds")
    report, changed = rebuild(work)
    assert report.ok, report.summary()
    assert changed, "the edit changed nothing"
    assert tree(work / "out") == cold_build(work / "seeds", tmp_path / "scratch")


def test_a_body_edit_rewrites_only_the_feeds_holding_the_article(work: Path) -> None:
    holding = {
        path.parent.relative_to(work / "out").as_posix()
        for path in (work / "out").rglob("feed.json")
        if b"023_article" in path.read_bytes()
    }
    edit_body(work / "seeds")
    _, changed = rebuild(work)
    feeds = {os.path.dirname(path) or "." for path in changed if path.endswith("feed.json")}
    assert feeds == holding
    others = {p for p in changed if not p.startswith(tuple(h + "/" for h in holding - {"."}))}
    assert others <= {"atom.xml", "rss.xml", "feed.json", "index.html", "feeds.opml"} | {
        ".feeds-manifest.json"
    }


def test_a_content_only_edit_renders_no_page(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages and feeds.opml show no content: a body edit that keeps every other field
    # (same mtime, so the same `updated`) renders the feeds holding the entry, nothing else.
    from feeds.render import incremental

    rendered: list[str] = []
    for name in ("render_index", "render_term_page", "render_opml"):
        real = getattr(incremental, name)

        def spy(*args: object, _real: Callable[..., bytes] = real, _name: str = name) -> bytes:
            rendered.append(_name)
            return _real(*args)

        monkeypatch.setattr(incremental, name, spy)
    edit_body_only(work / "seeds")
    report, changed = rebuild(work)
    assert report.ok
    assert rendered == []
    assert "atom.xml" in changed
    assert not [path for path in changed if path.endswith(("index.html", ".opml"))]
    # An edit of what pages show (a new tag: counts and rows) renders them.
    add_tag(work / "seeds")
    rebuild(work)
    assert "render_index" in rendered
    assert "render_term_page" in rendered


def test_a_second_build_rewrites_nothing(work: Path) -> None:
    report, changed = rebuild(work)
    assert changed == []
    assert report.write.written == []
    assert len(report.write.unchanged) == len(tree(work / "out")) - 1  # all but the manifest


def test_an_output_file_changed_by_hand_is_put_back(work: Path) -> None:
    feed = work / "out" / "atom.xml"
    original = feed.read_bytes()
    feed.write_bytes(b"edited by hand")
    (work / "out" / "rss.xml").unlink()
    report, _ = rebuild(work)
    assert feed.read_bytes() == original
    assert (work / "out" / "rss.xml").exists()
    assert sorted(report.write.written) == ["atom.xml", "rss.xml"]


def test_a_new_site_title_rerenders_everything(work: Path) -> None:
    _, changed = rebuild(work, title="Another title")
    feeds = [path for path in tree(work / "out") if path.endswith(("atom.xml", "feed.json"))]
    assert set(feeds) <= set(changed)
    assert b"Another title" in (work / "out" / "atom.xml").read_bytes()


# Recent, or the store's retention (90 days) drops it before the build.
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def upstream_entry(number: int, content: str) -> Entry:
    moment = RECENT + timedelta(minutes=number)
    return Entry(
        id=f"urn:feeds:loop:{number}",
        title=f"Upstream {number}",
        published=moment,
        updated=moment,
        content_html=content,
        link=f"https://upstream.example/{number}",
        categories=("loop",),
        tags=("AI",),
        source_name="loop",
        origin="upstream:loop",
    )


def test_an_upstream_entry_whose_content_alone_changed_is_republished(work: Path) -> None:
    (work / "sources" / "loop.toml").write_text(
        '[[source]]\nname = "loop"\nurl = "http://127.0.0.1:9/feed.xml"\n'
    )
    settings = settings_for(work)
    seen = RECENT + timedelta(hours=1)
    with Store.open(settings.store) as store:
        store.save_entries("loop", [upstream_entry(1, "<p>first</p>")], set(), seen)
    assert build(settings, offline=True).ok
    with Store.open(settings.store) as store:
        store.save_entries("loop", [upstream_entry(1, "<p>second</p>")], set(), seen)
    _, changed = rebuild(work)
    assert "tags/ai/atom.xml" in changed
    assert b"second" in (work / "out" / "tags" / "ai" / "atom.xml").read_bytes()
    # The reference: the same store, into an output folder of its own (nothing recorded).
    fresh = build(settings_for(work, out=str(work / "fresh")), offline=True)
    assert fresh.ok
    assert tree(work / "out") == tree(work / "fresh")
