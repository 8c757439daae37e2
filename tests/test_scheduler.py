"""The daemon's timing with plain values: the rebuild coalescer and the seeds snapshot diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.scheduler import Coalescer, SeedChanges, diff_snapshots, jitter_for, snapshot_seeds
from feeds.sources.local import list_articles

# -- coalescing: a burst of notices makes one rebuild --------------------------------------


def test_nothing_noticed_nothing_to_do() -> None:
    assert not Coalescer(quiet=0.5, longest=5).take(100.0)


def test_rebuild_waits_for_the_notices_to_go_quiet() -> None:
    gate = Coalescer(quiet=0.5, longest=5)
    gate.notice(10.0)
    assert not gate.take(10.2)
    gate.notice(10.3)
    assert not gate.take(10.7), "a notice 0.4 s ago is still part of the burst"
    assert gate.take(10.8)


def test_a_burst_of_notices_makes_one_rebuild() -> None:
    gate = Coalescer(quiet=0.5, longest=5)
    for step in range(20):
        gate.notice(10.0 + step * 0.01)
    starts = [now for now in (10.1, 10.7, 11.0, 12.0, 20.0) if gate.take(now) and _finish(gate)]
    assert starts == [10.7]


def _finish(gate: Coalescer) -> bool:
    gate.done()
    return True


def test_a_steady_stream_still_rebuilds_after_the_longest_wait() -> None:
    gate = Coalescer(quiet=0.5, longest=5)
    started = []
    now = 0.0
    while now < 12.0:
        gate.notice(now)
        if gate.take(now):
            started.append(now)
            gate.done()
        now = round(now + 0.25, 2)
    assert started == [5.0, 10.25]


def test_never_two_rebuilds_at_once_and_notices_during_one_are_not_lost() -> None:
    gate = Coalescer(quiet=0.5, longest=5)
    gate.notice(0.0)
    assert gate.take(1.0)
    gate.notice(1.5)  # an article changed while the rebuild reads the seeds
    assert not gate.take(3.0), "the first rebuild is still running"
    assert not gate.take(30.0)
    gate.done()
    assert gate.take(30.0), "the notice that came during the rebuild gets its own rebuild"
    gate.done()
    assert not gate.take(60.0)


def test_jitter_is_a_tenth_of_the_interval_up_to_a_minute() -> None:
    assert jitter_for(1) == 0.1
    assert jitter_for(1800) == 60.0


# -- the seeds folder: new, changed and deleted articles ------------------------------------


def test_diff_names_added_changed_and_removed_articles() -> None:
    old = {"a.md": (10, 1), "b.md": (20, 2), "c.md": (30, 3)}
    new = {"a.md": (10, 1), "b.md": (20, 5), "d.md": (40, 4)}
    assert diff_snapshots(old, new) == SeedChanges(
        added=("d.md",), changed=("b.md",), removed=("c.md",)
    )


def test_same_size_new_mtime_is_a_change_and_identical_snapshots_are_none() -> None:
    old = {"a.md": (10, 1)}
    assert diff_snapshots(old, {"a.md": (10, 2)}).changed == ("a.md",)
    assert diff_snapshots(old, {"a.md": (11, 1)}).changed == ("a.md",)
    assert not diff_snapshots(old, dict(old))
    assert diff_snapshots(old, dict(old)).describe() == "0 added, 0 changed, 0 removed"


def test_snapshot_reads_sizes_and_times_of_articles_only(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("# a", encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text("bb", encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".a.md.swp").write_text("x", encoding="utf-8")
    os.utime(tmp_path / "a.md", ns=(1_000, 2_000))
    snapshot = snapshot_seeds(tmp_path)
    assert set(snapshot) == {"a.md", "sub/b.txt"}
    assert snapshot["a.md"] == (3, 2_000)
    (tmp_path / "sub" / "b.txt").write_text("bbb", encoding="utf-8")
    (tmp_path / "a.md").unlink()
    assert diff_snapshots(snapshot, snapshot_seeds(tmp_path)) == SeedChanges(
        changed=("sub/b.txt",), removed=("a.md",)
    )


def test_snapshot_sees_exactly_the_articles_the_build_reads(tmp_path: Path) -> None:
    for name in [
        "a.md",
        "B.TXT",
        "deep/er/c.md",
        "deep/.hidden/d.md",
        ".git/e.md",
        "f.markdown",
        "g.md.bak",
        "h.txt/inside.md",
    ]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "link.md").symlink_to(tmp_path / "a.md")
    expected = {
        article.name: (article.size, article.mtime_ns) for article in list_articles(tmp_path)
    }
    assert snapshot_seeds(tmp_path) == expected
    assert set(expected) == {"B.TXT", "a.md", "deep/er/c.md", "h.txt/inside.md", "link.md"}


def test_snapshot_of_a_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="seeds folder does not exist"):
        snapshot_seeds(tmp_path / "nowhere")
