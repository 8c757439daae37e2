"""The writers' lock: one holder at a time, across threads and processes, with a clear error."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from feeds.errors import LockError
from feeds.publish.lock import WriterLock, holder_of, lock_path

HOLD_IN_CHILD = """
import sys, time
from pathlib import Path
from feeds.publish.lock import WriterLock
with WriterLock(Path(sys.argv[1])).hold(5, "child build"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_lock_file_sits_next_to_the_store(tmp_path: Path) -> None:
    assert lock_path(tmp_path / ".feeds" / "state.db") == tmp_path / ".feeds" / "state.db.lock"


def test_second_holder_gives_up_naming_the_file_and_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.db.lock"
    with (
        WriterLock(path).hold(1, "feeds run"),
        pytest.raises(LockError) as caught,
        WriterLock(path).hold(0.1, "feeds build"),
    ):
        pytest.fail("two holders at once")
    assert caught.value.where == str(path)
    assert "feeds run" in caught.value.problem
    assert "gave up after 0.1 s" in caught.value.problem


def test_lock_is_free_again_after_the_holder_leaves(tmp_path: Path) -> None:
    path = tmp_path / "state.db.lock"
    with WriterLock(path).hold(1, "first"):
        pass
    with WriterLock(path).hold(0, "second"):
        assert "second" in holder_of(path)


def test_threads_sharing_one_lock_take_turns(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "state.db.lock")
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with lock.hold(5, "first"):
            order.append("first in")
            inside.set()
            release.wait(5)
            order.append("first out")

    def second() -> None:
        with lock.hold(5, "second"):
            order.append("second in")

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(5)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.2)
    assert two.is_alive(), "the second thread entered while the first held the lock"
    release.set()
    one.join(5)
    two.join(5)
    assert order == ["first in", "first out", "second in"]


def test_a_waiting_holder_gives_up_when_cancelled(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "state.db.lock")
    cancel = threading.Event()
    errors: list[LockError] = []

    def waiter() -> None:
        try:
            with lock.hold(60, "rebuild", cancel=cancel):
                pytest.fail("entered while the lock was held")
        except LockError as error:
            errors.append(error)

    with lock.hold(1, "poll"):
        thread = threading.Thread(target=waiter)
        thread.start()
        thread.join(0.2)
        assert thread.is_alive()
        cancel.set()
        thread.join(5)
    assert not thread.is_alive()
    assert len(errors) == 1 and "shutting down" in errors[0].problem


def test_another_process_holding_the_lock_blocks_us_until_it_exits(tmp_path: Path) -> None:
    path = tmp_path / "state.db.lock"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_CHILD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "held\n"
            with pytest.raises(LockError, match="child build"), WriterLock(path).hold(0.1):
                pytest.fail("held the lock while another process had it")
        finally:
            child.kill()  # no clean release: the kernel drops the lock with the process
            child.wait(5)
    with WriterLock(path).hold(1, "after"):
        assert "after" in holder_of(path)


def test_build_exits_3_naming_the_lock_while_another_writer_holds_it(
    tmp_path: Path, seeds_copy: Path
) -> None:
    store = tmp_path / "state" / "state.db"
    (tmp_path / "sources").mkdir()
    config = tmp_path / "feeds.toml"
    config.write_text(
        f'seeds = "{seeds_copy}"\nout = "{tmp_path / "out"}"\nstore = "{store}"\n'
        f'sources = "{tmp_path / "sources"}"\n',
        encoding="utf-8",
    )
    build = [sys.executable, "-m", "feeds", "build", "--config", str(config)]
    with WriterLock(lock_path(store)).hold(1, "feeds run"):
        held = subprocess.run([*build, "--wait", "0.2"], capture_output=True, text=True, timeout=60)
    assert held.returncode == 3
    assert f"{lock_path(store)}: another feeds process" in held.stderr
    assert "feeds run" in held.stderr
    assert not (tmp_path / "out").exists(), "the locked-out build wrote anyway"
    free = subprocess.run(build, capture_output=True, text=True, timeout=60)
    assert free.returncode == 0, free.stderr
    assert (tmp_path / "out" / "atom.xml").is_file()
