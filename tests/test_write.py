"""Writing out/: atomic, idempotent, pruning only what the manifest says we wrote."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from feeds.errors import PublishError
from feeds.publish import disk, write
from feeds.publish.write import MANIFEST, safe_path, write_atomic, write_tree

FILES = {
    "atom.xml": b"<feed>all</feed>",
    "tags/qq/atom.xml": b"<feed>qq</feed>",
    "tags/qq/rss.xml": b"<rss>qq</rss>",
    "categories/\u4eba\u5de5\u667a\u80fd/feed.json": b"{}",
}


def tree(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def published(out: Path) -> dict[str, bytes]:
    """The files of `out` but the manifest."""
    return {path: data for path, data in tree(out).items() if path != MANIFEST}


def mtimes(out: Path) -> dict[str, int]:
    return {
        path.relative_to(out).as_posix(): path.stat().st_mtime_ns
        for path in out.rglob("*")
        if path.is_file()
    }


def age(out: Path) -> None:
    """Set every file's mtime to the past, so a rewrite would show."""
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))


def temporaries(out: Path) -> list[Path]:
    return [path for path in out.rglob("*") if path.name.startswith(".tmp-")]


def test_writes_every_file_and_a_manifest(tmp_path: Path) -> None:
    report = write_tree(tmp_path / "out", FILES)
    assert sorted(report.written) == sorted(FILES)
    assert not report.errors and not report.unchanged and not report.removed
    written = tree(tmp_path / "out")
    manifest = json.loads(written.pop(MANIFEST))
    assert written == FILES
    assert sorted(manifest) == sorted(FILES)
    assert not temporaries(tmp_path / "out")


def test_files_are_readable_by_everyone(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    assert stat.S_IMODE((tmp_path / "atom.xml").stat().st_mode) == 0o644


def test_unchanged_files_keep_their_mtime_and_manifest_too(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    age(tmp_path)
    before = mtimes(tmp_path)
    report = write_tree(tmp_path, FILES)
    assert report.written == [] and sorted(report.unchanged) == sorted(FILES)
    assert mtimes(tmp_path) == before


def test_only_the_changed_file_is_rewritten(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    age(tmp_path)
    changed = {**FILES, "tags/qq/rss.xml": b"<rss>new</rss>"}
    report = write_tree(tmp_path, changed)
    assert report.written == ["tags/qq/rss.xml"]
    after = mtimes(tmp_path)
    assert after["tags/qq/rss.xml"] != 1_000_000_000
    assert after["atom.xml"] == 1_000_000_000
    assert (tmp_path / "tags/qq/rss.xml").read_bytes() == b"<rss>new</rss>"


def test_a_reader_sees_the_old_file_until_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, FILES)
    real_replace = os.replace
    seen: list[bytes] = []

    def replace(source: str, target: str) -> None:
        seen.append(Path(target).read_bytes())  # what a reader sees just before the rename
        assert Path(source).read_bytes() == b"<feed>new</feed>"
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    write_atomic(tmp_path / "atom.xml", b"<feed>new</feed>")
    assert seen == [b"<feed>all</feed>"]
    assert (tmp_path / "atom.xml").read_bytes() == b"<feed>new</feed>"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, FILES)
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        if str(target).endswith("rss.xml"):
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    changed = {path: data + b"!" for path, data in FILES.items()}
    report = write_tree(tmp_path, changed)
    assert [error.where for error in report.errors] == [str(tmp_path / "tags/qq/rss.xml")]
    assert "Input/output error" in str(report.errors[0])
    assert (tmp_path / "tags/qq/rss.xml").read_bytes() == b"<rss>qq</rss>"
    assert (tmp_path / "atom.xml").read_bytes() == b"<feed>all</feed>!"
    assert not temporaries(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_bytes())
    assert set(manifest) == set(FILES)  # the old file is still ours


def test_a_full_disk_is_a_publish_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(PublishError) as caught:
        write_atomic(tmp_path / "tags" / "qq" / "atom.xml", b"<feed/>")
    assert caught.value.where == str(tmp_path / "tags" / "qq" / "atom.xml")
    assert "No space left on device" in str(caught.value)
    assert not (tmp_path / "tags" / "qq" / "atom.xml").exists()
    assert not temporaries(tmp_path)


class Disk:
    """Records, in order, the flushes and renames the writer asks for; `failing` makes the
    flush of a whole batch (syncfs) fail with that errno."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failing: int = 0) -> None:
        self.events: list[str] = []
        self.failing = failing
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(handle: int) -> None:
            self.events.append("fsync")
            real_fsync(handle)

        def replace(source: str, target: str) -> None:
            # Flushed before renamed: the temporary holds the whole file by now.
            self.events.append("rename " + Path(target).name)
            real_replace(source, target)

        def sync_all(handle: int) -> None:
            assert stat.S_ISDIR(os.fstat(handle).st_mode)
            self.events.append("syncfs")
            if self.failing:
                raise OSError(self.failing, os.strerror(self.failing))

        def start_writeback(handle: int) -> None:
            self.events.append("start")

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(disk, "available", lambda: True)
        monkeypatch.setattr(disk, "sync_all", sync_all)
        monkeypatch.setattr(disk, "start_writeback", start_writeback)


def test_a_large_batch_is_flushed_once_before_any_file_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write, "SYNC_ALL_MIN", 3)
    events = Disk(monkeypatch)
    report = write_tree(tmp_path, FILES)
    assert sorted(report.written) == sorted(FILES) and not report.errors
    renames = ["rename " + Path(path).name for path in sorted(FILES)]
    # Each file's writeback started as it is written; one flush; the renames; then the
    # manifest (a single file: flushed on its own).
    starts = ["start"] * len(FILES)
    assert events.events == [*starts, "syncfs", *renames, "fsync", "rename " + MANIFEST]
    assert published(tmp_path) == FILES
    assert not temporaries(tmp_path)


def test_a_small_batch_flushes_each_file_once_all_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = Disk(monkeypatch)
    write_tree(tmp_path, FILES)
    assert "syncfs" not in events.events
    renames = ["rename " + Path(path).name for path in sorted(FILES)]
    flushed = ["start"] * 4 + ["fsync"] * 4  # every file written, then flushed
    assert events.events == [*flushed, *renames, "fsync", "rename " + MANIFEST]


def test_a_file_whose_flush_fails_keeps_its_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, FILES)
    real_open, opened = os.open, {}  # handle -> the path it was opened for

    def open_(path: str, flags: int, mode: int = 0o777) -> int:
        handle = real_open(path, flags, mode)
        opened[handle] = str(path)
        return handle

    def fsync(handle: int) -> None:
        if "categories" in opened.get(handle, ""):  # the temporary of feed.json
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", fsync)
    report = write_tree(tmp_path, {path: data + b"!" for path, data in FILES.items()})
    json_feed = "categories/\u4eba\u5de5\u667a\u80fd/feed.json"
    assert [error.where for error in report.errors] == [str(tmp_path / json_feed)]
    assert "Input/output error" in str(report.errors[0])
    assert (tmp_path / json_feed).read_bytes() == FILES[json_feed]
    assert (tmp_path / "tags/qq/rss.xml").read_bytes() == FILES["tags/qq/rss.xml"] + b"!"
    assert not temporaries(tmp_path)


def test_a_failed_flush_keeps_every_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, FILES)
    monkeypatch.setattr(write, "SYNC_ALL_MIN", 3)
    Disk(monkeypatch, failing=errno.EIO)
    report = write_tree(tmp_path, {path: data + b"!" for path, data in FILES.items()})
    assert sorted(error.where for error in report.errors) == sorted(
        str(tmp_path / path) for path in FILES
    )
    assert all("Input/output error" in str(error) for error in report.errors)
    assert published(tmp_path) == FILES
    assert set(json.loads((tmp_path / MANIFEST).read_bytes())) == set(FILES)
    assert not temporaries(tmp_path)


def test_the_real_syncfs_writes_a_large_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not disk.available():
        pytest.skip("no syncfs(2) here")
    monkeypatch.setattr(write, "SYNC_ALL_MIN", 3)
    report = write_tree(tmp_path, FILES)
    assert sorted(report.written) == sorted(FILES) and not report.errors
    assert published(tmp_path) == FILES


def test_a_failing_syncfs_is_an_os_error() -> None:
    if not disk.available():
        pytest.skip("no syncfs(2) here")
    with pytest.raises(OSError) as caught:
        disk.sync_all(-1)
    assert caught.value.errno == errno.EBADF


def test_a_file_that_fails_to_render_discards_the_batch_written_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, FILES)

    class Broken(dict[str, bytes]):
        def __getitem__(self, path: str) -> bytes:
            if path == "tags/qq/atom.xml":
                raise RuntimeError("a bug in a renderer")
            return super().__getitem__(path)

    with pytest.raises(RuntimeError):
        write_tree(tmp_path, Broken({path: data + b"!" for path, data in FILES.items()}))
    assert published(tmp_path) == FILES
    assert not temporaries(tmp_path)


def test_stale_files_of_ours_are_removed_with_their_empty_folders(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    fewer = {path: data for path, data in FILES.items() if not path.startswith("tags/")}
    report = write_tree(tmp_path, fewer)
    assert sorted(report.removed) == ["tags/qq/atom.xml", "tags/qq/rss.xml"]
    assert not (tmp_path / "tags").exists()
    assert set(json.loads((tmp_path / MANIFEST).read_bytes())) == set(fewer)


def test_foreign_files_are_never_touched(tmp_path: Path) -> None:
    foreign = {"robots.txt": b"User-agent: *", "tags/qq/notes.txt": b"mine", ".well-known/x": b"x"}
    for relative, data in foreign.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    write_tree(tmp_path, FILES)
    age(tmp_path)
    report = write_tree(tmp_path, {"atom.xml": FILES["atom.xml"]})
    assert "tags/qq/notes.txt" not in report.removed
    after = tree(tmp_path)
    for relative, data in foreign.items():
        assert after[relative] == data
    assert (tmp_path / "tags" / "qq").is_dir()  # still holds notes.txt


def test_a_stale_file_edited_by_someone_else_is_left_alone(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    (tmp_path / "tags/qq/rss.xml").write_bytes(b"hand edited")
    report = write_tree(tmp_path, {"atom.xml": FILES["atom.xml"]})
    assert "tags/qq/rss.xml" not in report.removed
    assert (tmp_path / "tags/qq/rss.xml").read_bytes() == b"hand edited"
    assert "tags/qq/rss.xml" not in json.loads((tmp_path / MANIFEST).read_bytes())


def test_a_corrupt_manifest_removes_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    (tmp_path / MANIFEST).write_bytes(b"{not json")
    report = write_tree(tmp_path, {"atom.xml": FILES["atom.xml"]})
    assert report.removed == [] and not report.errors
    assert (tmp_path / "tags/qq/rss.xml").exists()


def test_without_prune_stale_files_stay_listed(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    report = write_tree(tmp_path, {"atom.xml": FILES["atom.xml"]}, prune=False)
    assert report.removed == []
    assert set(json.loads((tmp_path / MANIFEST).read_bytes())) == set(FILES)


@pytest.mark.parametrize(
    "relative",
    ["", ".", "..", "../x", "tags/../../x", "/etc/passwd", "a//b", "a\\b", "a\x00b", MANIFEST],
)
def test_safe_path_refuses_paths_outside_the_folder(tmp_path: Path, relative: str) -> None:
    with pytest.raises(PublishError, match="refusing"):
        safe_path(tmp_path, relative)


def test_a_refused_path_is_reported_and_the_rest_written(tmp_path: Path) -> None:
    report = write_tree(tmp_path / "out", {**FILES, "../escape.xml": b"x"})
    assert [error.where for error in report.errors] == ["../escape.xml"]
    assert not (tmp_path / "escape.xml").exists()
    assert sorted(report.written) == sorted(FILES)


class Rendered(Mapping[str, bytes]):
    """Files rendered when read, stamped with the pid of the process that read them; the
    process reading `crash` dies there, unless it is `survivor`."""

    def __init__(self, paths: list[str], crash: str = "", survivor: int = 0) -> None:
        self.paths, self.crash, self.survivor = paths, crash, survivor

    def __getitem__(self, path: str) -> bytes:
        if path == self.crash and os.getpid() != self.survivor:
            os._exit(1)
        return f"<feed>{path} {os.getpid()}</feed>".encode()

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


def many_paths(folders: int = 60) -> list[str]:
    return [f"tags/t{n}/{name}" for n in range(folders) for name in ("atom.xml", "rss.xml")]


def writers(out: Path, key: Callable[[Path], str]) -> dict[str, set[str]]:
    """The pids that wrote the files of `out`, by `key` of the file."""
    found: dict[str, set[str]] = {}
    for path in out.rglob("*.xml"):
        found.setdefault(key(path), set()).add(path.read_text().split()[-1])
    return found


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer forks two workers for as few as 10 files (on any number of cores)."""
    monkeypatch.setattr(write, "PARALLEL_MIN", 10)
    monkeypatch.setattr("feeds.pools.pool_workers", lambda: 2)
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this test process: the writer does not fork then")


@pytest.mark.usefixtures("forking")
def test_a_parallel_write_is_shared_by_forked_workers(tmp_path: Path) -> None:
    paths = many_paths()
    report = write_tree(tmp_path, Rendered(paths), parallel=True)
    assert report.written == sorted(paths) and not report.errors
    pids = set().union(*writers(tmp_path, lambda path: "").values())
    assert f"{os.getpid()}</feed>" not in pids and len(pids) == 2
    assert set(json.loads((tmp_path / MANIFEST).read_bytes())) == set(paths)
    # A folder's files are written by one worker (they share entries).
    by_folder = writers(tmp_path, lambda path: path.parent.name)
    assert all(len(pids) == 1 for pids in by_folder.values())


@pytest.mark.usefixtures("forking")
def test_files_of_a_worker_that_dies_are_written_by_the_build(tmp_path: Path) -> None:
    paths = many_paths()
    files = Rendered(paths, crash="tags/t7/rss.xml", survivor=os.getpid())
    report = write_tree(tmp_path, files, parallel=True)
    assert report.written == sorted(paths) and not report.errors
    assert (tmp_path / "tags/t7/rss.xml").read_text().endswith(f"{os.getpid()}</feed>")
    assert not temporaries(tmp_path)


@pytest.mark.usefixtures("forking")
def test_files_of_a_group_are_written_by_one_worker(tmp_path: Path) -> None:
    paths = many_paths()
    report = write_tree(tmp_path, Rendered(paths), parallel=True, group=lambda path: path[-7:])
    assert report.written == sorted(paths)
    by_name = writers(tmp_path, lambda path: path.name)
    assert len(by_name["atom.xml"]) == len(by_name["rss.xml"]) == 1
    assert by_name["atom.xml"] != by_name["rss.xml"]


def test_temporaries_of_processes_gone_are_swept_where_files_are_written(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    ended = subprocess.Popen(["true"])  # a process that has ended: its pid runs no more
    ended.wait()
    dead_pid = ended.pid
    folder = tmp_path / "tags" / "qq"
    dead = folder / f".tmp-{dead_pid}-3.xml"
    alive = folder / f".tmp-{os.getpid()}-9.xml"  # a build still writing
    elsewhere = tmp_path / "untouched" / f".tmp-{dead_pid}-4.xml"
    for path in (dead, alive, elsewhere):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a feed")
    write_tree(tmp_path, {**FILES, "tags/qq/atom.xml": b"<feed>qq, again</feed>"})
    assert not dead.exists()
    assert alive.exists() and elsewhere.exists()


def test_nothing_is_written_through_a_symlink_leading_out_of_the_folder(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "tags").symlink_to(elsewhere, target_is_directory=True)
    report = write_tree(
        out, {"atom.xml": b"<a/>", "tags/ai/atom.xml": b"<b/>", "tags/x.xml": b"<c/>"}
    )
    assert [(error.where, "symlink" in error.problem) for error in report.errors] == [
        ("tags/ai/atom.xml", True),
        ("tags/x.xml", True),
    ]
    assert report.written == ["atom.xml"]
    assert list(elsewhere.iterdir()) == []  # not even a folder or a temporary
    assert list(json.loads((out / MANIFEST).read_text())) == ["atom.xml"]


def test_a_stale_file_behind_a_symlink_leading_out_is_not_removed(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    write_tree(out, {"atom.xml": b"<a/>", "tags/ai/atom.xml": b"<b/>"})
    (out / "tags" / "ai").rename(elsewhere)
    (out / "tags" / "ai").symlink_to(elsewhere, target_is_directory=True)
    report = write_tree(out, {"atom.xml": b"<a/>"})
    assert [error.where for error in report.errors] == ["tags/ai/atom.xml"]
    assert (elsewhere / "atom.xml").read_bytes() == b"<b/>"
    assert "tags/ai/atom.xml" in json.loads((out / MANIFEST).read_text())  # tried again later


def test_an_output_folder_that_is_itself_a_symlink_is_written(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").symlink_to(real, target_is_directory=True)
    report = write_tree(tmp_path / "out", {"tags/ai/atom.xml": b"<b/>"})
    assert not report.errors
    assert (real / "tags" / "ai" / "atom.xml").read_bytes() == b"<b/>"


@pytest.mark.usefixtures("forking")
def test_meanwhile_runs_once_while_the_forked_workers_write(tmp_path: Path) -> None:
    import multiprocessing

    seen: list[int] = []
    paths = many_paths()
    report = write_tree(
        tmp_path,
        Rendered(paths),
        parallel=True,
        meanwhile=lambda: seen.append(len(multiprocessing.active_children())),
    )
    assert seen == [2] and report.written == sorted(paths)


def test_meanwhile_runs_once_before_the_files_are_written_here(tmp_path: Path) -> None:
    seen: list[list[str]] = []
    report = write_tree(
        tmp_path,
        {"a.xml": b"a", "b/c.xml": b"c"},
        meanwhile=lambda: seen.append(list(tree(tmp_path))),
    )
    assert seen == [[]] and report.written == ["a.xml", "b/c.xml"]


@pytest.mark.parametrize("parallel", [False, True])
def test_what_meanwhile_raises_is_raised_once_the_files_and_manifest_are_written(
    tmp_path: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parallel:
        monkeypatch.setattr(write, "PARALLEL_MIN", 10)
        monkeypatch.setattr("feeds.pools.pool_workers", lambda: 2)
    paths = many_paths()

    def fail() -> None:
        raise OSError("the store is full")

    with pytest.raises(OSError, match="store is full"):
        write_tree(tmp_path, Rendered(paths), parallel=parallel, meanwhile=fail)
    assert set(published(tmp_path)) == set(paths)
    assert set(json.loads((tmp_path / MANIFEST).read_bytes())) == set(paths)
    assert not temporaries(tmp_path)
