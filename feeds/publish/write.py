"""Writing out/: atomic, idempotent, and only ever touching files this tool wrote.

Each file goes to a temporary file in its own folder, is flushed to disk, then renamed over
the old one, so a reader or a crash sees the old feed or the new one, never half of one (a
build's files are written first, then flushed together, then renamed: _write_here).
A file whose bytes would not change is left alone (its modification time stays, so HTTP
caches and rsync see no change). The manifest `.feeds-manifest.json` lists what we wrote,
with digests; files that were ours and are no longer produced are removed, nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from feeds.errors import PublishError
from feeds.publish import disk

MANIFEST = ".feeds-manifest.json"
TEMPORARY = ".tmp-"  # the prefix of files being written
_numbers = itertools.count()  # names of temporary files (next() is atomic under the GIL)


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[PublishError] = field(default_factory=list)


def safe_path(out: Path, relative: str) -> Path:
    """out/relative, refusing anything that could land outside out/.

    Only canonical relative paths pass ("a/b", never "a//b", "./a" or "/a"), so one file
    has one name and the refusal to write a path twice in a run cannot be sidestepped.
    """
    parts = relative.split("/")
    if any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts) or (
        parts[0] == MANIFEST
    ):
        raise PublishError(relative, "refusing a path outside the output folder")
    return out.joinpath(*parts)


def write_tree(
    out: Path,
    files: Mapping[str, bytes],
    *,
    prune: bool = True,
    keep: Collection[str] = (),
    parallel: bool = False,
    group: Group | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> WriteReport:
    """Make out/ hold `files`; remove files of ours that are no longer in `files`.

    `keep`: files of ours an incremental build knows to be current (publish/outputs.py);
    they are left as they are, not even read, and count as unchanged. `parallel`: many
    files are rendered and written by forked processes, one per core (see _write_files);
    `group` names, for a file, the group whose files share work in rendering (they go to
    the same workers; by default a folder is one group). `meanwhile` is called once, while
    forked workers write (or before the files are written here); what it raises is raised
    once every file is written and the manifest saved.
    """
    report = WriteReport()
    out.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(out)
    kept: dict[str, str] = {}
    for relative in sorted(set(keep) - set(files)):
        digest = manifest.get(relative) or _digest_of(out / relative)
        if digest is not None:
            report.unchanged.append(relative)
            kept[relative] = digest
    ordered = sorted(files)
    escaping = _escaping_folders(out, {relative.rpartition("/")[0] for relative in ordered})
    writable = [path for path in ordered if path.rpartition("/")[0] not in escaping]
    _sweep_temporaries(out, {relative.rpartition("/")[0] for relative in writable})
    failed: list[Exception] = []
    called: list[bool] = []

    def alongside() -> None:  # `meanwhile` once, whichever way the files are written
        if meanwhile is None or called:
            return
        called.append(True)
        try:
            meanwhile()
        except Exception as exc:  # raised below, once the files are safe
            failed.append(exc)

    results = _write_files(out, files, writable, parallel, group, alongside)
    outcomes = dict(zip(writable, results, strict=True))
    for relative in ordered:
        outcome = outcomes.get(relative) or PublishError(relative, _LEADS_OUT)
        if isinstance(outcome, PublishError):
            report.errors.append(outcome)
            if relative in manifest:
                kept[relative] = manifest[relative]
            continue
        written, kept[relative] = outcome
        (report.written if written else report.unchanged).append(relative)
    if prune:
        for relative in sorted(set(manifest) - set(files) - set(kept)):
            if not _remove(out, relative, manifest[relative], report):
                kept[relative] = manifest[relative]
    else:
        kept = {**manifest, **kept}
    try:
        _write_if_changed(out / MANIFEST, json.dumps(kept, indent=0, sort_keys=True).encode())
    except PublishError as exc:
        report.errors.append(exc)
    if failed:
        raise failed[0]
    return report


_LEADS_OUT = "refusing to write through a symlink that leads out of the output folder"
Outcome = tuple[bool, str] | PublishError  # (written, digest) of one file, or its error
Group = Callable[[str], str]  # a file's group: files of a group share work in rendering


def _write_files(
    out: Path,
    files: Mapping[str, bytes],
    ordered: list[str],
    parallel: bool,
    group: Group | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> list[Outcome]:
    """The outcome of writing each of `ordered`, in order. `meanwhile` (a no-op after its
    first call) is called while forked workers write, or before writing here.

    With `parallel`, when there are many files and this process may fork (one thread:
    the CLI, not the daemon), forked workers share them out by group and folder: each reads its
    files from `files` (rendering them: publish/outputs.py hands over lazy files), writes
    them and reports back, so rendering runs on every core, not under one GIL. A worker
    that dies leaves its files to this process."""
    if not (parallel and len(ordered) >= PARALLEL_MIN and threading.active_count() == 1):
        meanwhile()
        return _write_here(out, files, ordered)
    # local: only cold and large builds get here, and these take 30 ms to import
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor

    from feeds.pools import frozen_heap, pool_workers

    workers = pool_workers()
    shares = _shares(ordered, workers, group)
    if len(shares) < 2:
        meanwhile()
        return _write_here(out, files, ordered)
    global _FORKED  # how forked workers find `files` without pickling it
    _FORKED = (out, files)
    context = multiprocessing.get_context("fork")
    done: dict[str, Outcome] = {}
    try:
        with (
            frozen_heap(context),
            ProcessPoolExecutor(min(workers, len(shares)), mp_context=context) as pool,
        ):
            sent = pool.map(_write_share, shares)  # the workers are forked by now
            meanwhile()
            for results in sent:
                done.update(_outcome(path, result) for path, result in results)
    except BrokenProcessPool:
        # What is missing is written below; a worker killed mid-write left its temporary.
        _sweep_temporaries(out, {relative.rpartition("/")[0] for relative in ordered})
    finally:
        _FORKED = None
    meanwhile()  # when the pool broke before the workers were forked
    missing = [relative for relative in ordered if relative not in done]
    done.update(zip(missing, _write_here(out, files, missing), strict=True))
    return [done[relative] for relative in ordered]


PARALLEL_MIN = 400  # files; fewer are written here (forking workers costs about 0.1 s)
_FORKED: tuple[Path, Mapping[str, bytes]] | None = None
# What a worker sends back for a file: (written, digest) or (where, problem) of an error.
_Sent = tuple[bool, str] | tuple[str, str]


def _escaping_folders(out: Path, folders: Collection[str]) -> set[str]:
    """Folders (relative to out/) that a symlink inside out/ leads elsewhere: nothing is
    written through them (out/ itself may be a symlink; what is under it may not lead out)."""
    root = os.path.realpath(out)
    escaping: set[str] = set()
    for folder in folders:
        if not folder:
            continue
        real = os.path.realpath(os.path.join(root, folder))  # noqa: PTH118
        if os.path.commonpath([root, real]) != root:
            escaping.add(folder)
    return escaping


def _sweep_temporaries(out: Path, folders: Collection[str]) -> None:
    """Remove from these folders of out/ the temporaries of processes that are gone (a
    build killed while writing, a dead worker): `.tmp-<pid>-<n>...` whose pid runs no more."""
    for folder in folders:
        try:
            names = os.listdir(out / folder if folder else out)  # noqa: PTH208
        except OSError:
            continue
        for name in names:
            if name.startswith(TEMPORARY) and not _running(name):
                with contextlib.suppress(OSError):
                    (out / folder / name).unlink()


def _running(temporary: str) -> bool:
    """Whether the process that made this temporary still runs (unknown names: yes)."""
    pid = temporary.removeprefix(TEMPORARY).partition("-")[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _shares(ordered: list[str], workers: int, group: Group | None) -> list[list[str]]:
    """`ordered` dealt out to `workers`: each group to its own workers, and within a group
    by folder (a folder's feeds and page hold the same entries)."""
    groups: dict[str, dict[str, list[str]]] = {}
    for relative in ordered:
        folder = relative.rpartition("/")[0]
        key = group(relative) if group else ""
        groups.setdefault(key, {}).setdefault(folder, []).append(relative)
    shares: list[list[str]] = []
    for folders in groups.values():
        mine: list[list[str]] = [[] for _ in range(max(1, workers // len(groups)))]
        for number, paths in enumerate(folders.values()):
            mine[number % len(mine)].extend(paths)
        shares += [share for share in mine if share]
    return shares


def _write_share(share: list[str]) -> list[tuple[str, _Sent]]:
    """In a forked worker: write these files (an error travels as its where and problem:
    a FeedsError does not survive pickling)."""
    assert _FORKED is not None  # set before the fork
    out, files = _FORKED
    # Lazy files (render/incremental.py) let go of what only the other shares would use.
    drop = getattr(files, "drop", None)
    if drop is not None:
        mine = set(share)
        drop([relative for relative in files if relative not in mine])
    sent: list[tuple[str, _Sent]] = []
    for relative, outcome in zip(share, _write_here(out, files, share), strict=True):
        sent.append(
            (
                relative,
                (outcome.where, outcome.problem) if isinstance(outcome, PublishError) else outcome,
            )
        )
    return sent


def _outcome(relative: str, sent: _Sent) -> tuple[str, Outcome]:
    if isinstance(sent[0], bool):
        return relative, (sent[0], str(sent[1]))
    return relative, PublishError(str(sent[0]), str(sent[1]))


def _write_here(out: Path, files: Mapping[str, bytes], ordered: list[str]) -> list[Outcome]:
    """Write `ordered` (each read from `files` in turn, which may render it), in two steps:
    every changed file goes to a temporary beside it, its writeback started at once; once
    all are written they are flushed to disk and renamed over the old files. A crash
    leaves each file old or new, as an fsync per file before its rename would, but the
    build waits on the disk about once, not once per file: an fsync made right after each
    write forced a journal commit each time, and the creation of the next files waited on
    it (ext4: ~0.5 ms a file, 2,302 files in a cold build of 10,000 articles).
    Outcomes are in the order of `ordered`."""
    handle = _opened_for_sync(out) if len(ordered) >= SYNC_ALL_MIN else None
    staged: list[Outcome | _Staged] = []
    try:
        for relative in ordered:
            staged.append(_stage(out, relative, files[relative]))
        failures = _flush(handle, [item for item in staged if isinstance(item, _Staged)])
    except BaseException:
        for item in staged:
            if isinstance(item, _Staged):
                _discard(item.temporary)
        raise
    finally:
        if handle is not None:
            os.close(handle)
    return [
        _commit(item, failures.get(item.temporary)) if isinstance(item, _Staged) else item
        for item in staged
    ]


SYNC_ALL_MIN = 64  # files; fewer are flushed one by one (syncfs flushes the whole filesystem)


def _flush(handle: int | None, staged: list[_Staged]) -> dict[str, OSError]:
    """Flush the temporaries to disk: all at once (syncfs of out/, opened as `handle`), or
    one by one, which is cheap by then (their writeback started as they were written, and
    the first fsync commits the metadata of all of them). The errors by temporary."""
    if not staged:
        return {}  # every file unchanged: nothing to wait for
    if handle is not None:
        failure = _sync_all(handle)
        return {} if failure is None else {item.temporary: failure for item in staged}
    failures: dict[str, OSError] = {}
    for item in staged:
        try:
            _fsync_path(item.temporary)
        except OSError as exc:
            failures[item.temporary] = exc
    return failures


def _fsync_path(path: str) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


class _Staged(NamedTuple):
    """A file written to its temporary, to be renamed into place."""

    temporary: str
    target: str
    digest: str


def _stage(out: Path, relative: str, data: bytes) -> Outcome | _Staged:
    """The file's temporary (not flushed yet), or its outcome when it is unchanged or
    cannot be written."""
    try:
        target = os.fspath(safe_path(out, relative))
        digest = hashlib.sha256(data).hexdigest()
        if _same_bytes(target, data):
            return False, digest
        return _Staged(_write_temporary(target, data, flush=False), target, digest)
    except PublishError as exc:
        return exc


def _commit(staged: _Staged, failure: OSError | None) -> Outcome:
    if failure is not None:  # its flush failed: the old file stays
        _discard(staged.temporary)
        return PublishError(staged.target, f"cannot write: {failure.strerror or failure}")
    try:
        _rename(staged.temporary, staged.target)
    except PublishError as exc:
        return exc
    return True, staged.digest


def _opened_for_sync(out: Path) -> int | None:
    """A handle on out/ for syncing the batch, opened before its files are written (syncfs
    reports the write errors since then); None where the files are flushed one by one."""
    if not disk.available():
        return None
    try:
        return os.open(out, os.O_RDONLY)
    except OSError:
        return None


def _sync_all(handle: int) -> OSError | None:
    """Flush the batch (the whole filesystem holding out/); the error, if that failed."""
    try:
        disk.sync_all(handle)
    except OSError as exc:
        return exc
    return None


def read_manifest(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items()}


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, flushed to disk,
    and a rename."""
    target = os.fspath(path)
    _rename(_write_temporary(target, data, flush=True), target)


def _write_temporary(target: str, data: bytes, *, flush: bool) -> str:
    """A new temporary beside `target` holding `data` (flushed to disk with `flush`)."""
    # os rather than pathlib or tempfile: this runs for every file a build writes, and
    # their objects cost more than the system calls. The temporary's name is unique to
    # this process (pid and a counter) and O_EXCL refuses a leftover of the same name.
    folder, name = os.path.split(target)
    temporary = None
    try:
        handle, temporary = _create_temporary(folder, os.path.splitext(name)[1])  # noqa: PTH122
        try:
            os.fchmod(handle, 0o644)  # readers need 0644 whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            if flush:
                os.fsync(handle)
            else:
                disk.start_writeback(handle)  # flushed later, with the rest of its batch
        finally:
            os.close(handle)
    except OSError as exc:
        if temporary is not None:
            _discard(temporary)
        raise PublishError(target, f"cannot write: {exc.strerror or exc}") from None
    return temporary


def _rename(temporary: str, target: str) -> None:
    try:
        os.replace(temporary, target)  # noqa: PTH105
    except OSError as exc:
        _discard(temporary)
        raise PublishError(target, f"cannot write: {exc.strerror or exc}") from None


def _discard(temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary)  # noqa: PTH108


def _create_temporary(folder: str, suffix: str) -> tuple[int, str]:
    """An open new file `.tmp-<pid>-<n><suffix>` in `folder` (made when missing)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        name = f"{TEMPORARY}{os.getpid()}-{next(_numbers)}{suffix}"
        temporary = os.path.join(folder, name)  # noqa: PTH118
        try:
            return os.open(temporary, flags, 0o600), temporary
        except FileExistsError:
            continue
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103
            return os.open(temporary, flags, 0o600), temporary


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write `path` unless it already holds `data` (then its mtime stays); True if written."""
    if _same_bytes(os.fspath(path), data):
        return False
    write_atomic(path, data)
    return True


def _same_bytes(path: str, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):  # noqa: PTH116 - hot path, see write_atomic
            return False
        with open(path, "rb") as stream:  # noqa: PTH123
            return stream.read() == data
    except OSError:
        return False


def _remove(out: Path, relative: str, digest: str, report: WriteReport) -> bool:
    """Remove a file we wrote; False when it must stay listed (an error: retry next time).

    A file whose bytes are no longer what we wrote was edited by someone else: it is left
    alone and dropped from the manifest, as it is not ours any more.
    """
    try:
        path = safe_path(out, relative)
        if _escaping_folders(out, {relative.rpartition("/")[0]}):
            raise PublishError(relative, "refusing to remove through a symlink out of out/")
        if _digest_of(path) not in (digest, None):
            return True
        path.unlink(missing_ok=True)
    except PublishError as exc:
        report.errors.append(exc)
        return False
    except OSError as exc:
        report.errors.append(PublishError(relative, f"cannot remove: {exc.strerror or exc}"))
        return False
    report.removed.append(relative)
    _remove_empty_parents(out, path.parent)
    return True


def _digest_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _remove_empty_parents(out: Path, folder: Path) -> None:
    while folder != out and out in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
