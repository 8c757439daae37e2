"""A build whose inputs and outputs are as the last good build left them reads and writes
nothing (publish/uptodate.py); any change to an input, or to out/, makes it build."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds import pipeline
from feeds.merge.store import Store
from feeds.model import Entry
from feeds.pipeline import BuildReport, build
from feeds.publish import uptodate
from feeds.publish.write import MANIFEST
from feeds.settings import Settings
from tests.test_incremental import article, settings_for, write_seeds


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write_seeds(tmp_path / "seeds", count=8)
    return tmp_path


@pytest.fixture
def full_builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the builds that went the whole way (read seeds, planned, published)."""
    calls: list[int] = []
    whole = pipeline._build_all

    def counted(*args: object, **kwargs: object) -> None:
        calls.append(1)
        whole(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_build_all", counted)
    yield calls


def built(settings: Settings) -> BuildReport:
    report = build(settings, offline=True)
    assert not report.write.errors
    return report


def test_an_unchanged_build_reads_and_writes_nothing(work: Path, full_builds: list[int]) -> None:
    settings = settings_for(work)
    first = built(settings)
    files = {path: path.stat().st_mtime_ns for path in (work / "out").rglob("*")}
    second = built(settings)
    assert len(full_builds) == 1
    assert second.ok
    assert (second.articles, second.drafts) == (first.articles, first.drafts) == (8, 0)
    assert not second.write.written and not second.write.removed
    assert sorted(second.write.unchanged) == sorted(first.write.written)
    assert {path: path.stat().st_mtime_ns for path in (work / "out").rglob("*")} == files


def edit_body(work: Path) -> None:
    path = work / "seeds" / "003_article.md"
    path.write_text(article(3, ["AI"], body="A new paragraph."), encoding="utf-8")


def touch(work: Path) -> None:
    path = work / "seeds" / "003_article.md"
    os.utime(path, (1_800_000_000, 1_800_000_000))


def add(work: Path) -> None:
    (work / "seeds" / "900_new.md").write_text(article(900, ["AI"]), encoding="utf-8")


def delete(work: Path) -> None:
    (work / "seeds" / "003_article.md").unlink()


def remove_output(work: Path) -> None:
    (work / "out" / "atom.xml").unlink()


def edit_output(work: Path) -> None:
    path = work / "out" / "rss.xml"
    path.write_bytes(path.read_bytes() + b"<!-- someone -->")


def remove_manifest(work: Path) -> None:
    (work / "out" / MANIFEST).unlink()


def store_upstream_entry(work: Path) -> None:
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    with Store.open(work / "state" / "state.db") as store:
        entry = Entry("urn:x:1", "Upstream", moment, moment, origin="upstream:a")
        store.save_entries("a", [entry], frozenset(), moment)


@pytest.mark.parametrize(
    "change",
    [edit_body, touch, add, delete, remove_output, edit_output, remove_manifest],
    ids=lambda change: change.__name__,
)
def test_any_change_of_seeds_or_out_makes_it_build(
    work: Path, full_builds: list[int], change: Callable[[Path], None]
) -> None:
    settings = settings_for(work)
    built(settings)
    change(work)
    built(settings)
    assert len(full_builds) == 2
    # What the whole build wrote is what it would write from scratch: out/ is whole again.
    assert (work / "out" / "atom.xml").is_file()
    assert b"someone" not in (work / "out" / "rss.xml").read_bytes()
    built(settings)
    assert len(full_builds) == 2, "the build after it is a no-op again"


def test_a_changed_setting_makes_it_build(work: Path, full_builds: list[int]) -> None:
    built(settings_for(work))
    report = built(settings_for(work, title="Another title"))
    assert len(full_builds) == 2
    assert "atom.xml" in report.write.written


def test_a_changed_upstream_entry_makes_it_build(work: Path, full_builds: list[int]) -> None:
    settings = settings_for(work)
    built(settings)
    store_upstream_entry(work)
    built(settings)
    assert len(full_builds) == 2


def test_changed_code_makes_it_build(
    work: Path, full_builds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(work)
    built(settings)
    monkeypatch.setattr(uptodate, "environment", lambda: "another version of the code")
    built(settings)
    assert len(full_builds) == 2


def test_a_build_with_problems_is_never_skipped(work: Path, full_builds: list[int]) -> None:
    (work / "seeds" / "bad.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    settings = settings_for(work)
    first = built(settings)
    second = built(settings)
    assert len(full_builds) == 2
    assert [error.where for error in second.rejected] == [error.where for error in first.rejected]
    assert second.rejected and not second.ok
