"""The Daemon's jobs on a real APScheduler with a recording Work: which change leads to a
rebuild, and that stop() lets the rebuild in progress finish. Every wait is bounded."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.model import Source
from feeds.scheduler import Daemon, Polled


class RecordingWork:
    def __init__(self, new_entries: bool = False) -> None:
        self.new_entries = new_entries
        self.polls: list[str] = []
        self.rebuilds = 0
        self.rebuilding = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.finished = 0
        self.next_poll: datetime | None = None
        self.first_due: datetime | None = None

    def poll(self, name: str) -> Polled:
        self.polls.append(name)
        return Polled(self.new_entries, f"poll {name}", self.next_poll)

    def due_at(self, name: str) -> datetime | None:
        return self.first_due

    def rebuild(self) -> str:
        self.rebuilds += 1
        self.rebuilding.set()
        self.release.wait(10)
        self.finished += 1
        return "rebuild"


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "a.md").write_text("---\ntitle: a\n---\nA\n", encoding="utf-8")
    return folder


@contextlib.contextmanager
def running(seeds: Path, work: RecordingWork, *sources: Source) -> Iterator[Daemon]:
    daemon = Daemon(seeds, 0.2, sources, work, quiet=0.1, longest=1.0)
    daemon.start()
    try:
        yield daemon
    finally:
        work.release.set()
        daemon.stop()


def test_a_new_seed_article_leads_to_a_rebuild(seeds: Path) -> None:
    work = RecordingWork()
    with running(seeds, work):
        time.sleep(0.5)
        assert work.rebuilds == 0, "rebuilt although nothing changed"
        (seeds / "b.md").write_text("---\ntitle: b\n---\nB\n", encoding="utf-8")
        assert wait_for(lambda: work.finished == 1)


def test_a_poll_with_new_entries_leads_to_a_rebuild_and_one_without_does_not(
    seeds: Path,
) -> None:
    quiet, disabled = (
        Source("quiet", "http://127.0.0.1:9/q", interval=1),
        Source("disabled", "http://127.0.0.1:9/d", interval=1, enabled=False),
    )
    work = RecordingWork(new_entries=False)
    with running(seeds, work, quiet, disabled):
        assert wait_for(lambda: len(work.polls) >= 2)
        assert set(work.polls) == {"quiet"}, "a disabled source was polled"
        assert work.rebuilds == 0
        work.new_entries = True
        assert wait_for(lambda: work.finished >= 1)


def test_stop_lets_the_rebuild_in_progress_finish_and_starts_no_more(seeds: Path) -> None:
    work = RecordingWork()
    work.release.clear()
    daemon = Daemon(seeds, 0.2, [], work, quiet=0.1, longest=1.0)
    daemon.start()
    try:
        (seeds / "b.md").write_text("---\ntitle: b\n---\nB\n", encoding="utf-8")
        assert work.rebuilding.wait(10)
        stopper = threading.Thread(target=daemon.stop)
        stopper.start()
        stopper.join(0.3)
        assert stopper.is_alive(), "stop() returned while a rebuild was still writing"
        (seeds / "c.md").write_text("---\ntitle: c\n---\nC\n", encoding="utf-8")
        work.release.set()
        stopper.join(10)
        assert not stopper.is_alive()
        assert work.finished == 1
    finally:
        work.release.set()
        daemon.stop()
    time.sleep(0.5)
    assert work.rebuilds == 1, "a rebuild started after stop()"


def test_a_source_backing_off_is_not_polled_before_the_policy_says(seeds: Path) -> None:
    work = RecordingWork()
    work.next_poll = datetime.now(UTC) + timedelta(minutes=10)  # e.g. Retry-After: 600
    with running(seeds, work, Source("slow", "http://127.0.0.1:9/s", interval=1)) as daemon:
        assert wait_for(lambda: len(work.polls) == 1)
        assert wait_for(
            lambda: daemon.scheduler.get_job("poll:slow").next_run_time >= work.next_poll
        )
        time.sleep(1.5)
        assert work.polls == ["slow"], "polled again before the source was due"


def test_after_a_restart_an_overdue_source_is_polled_at_once_and_a_waiting_one_waits(
    seeds: Path,
) -> None:
    overdue = RecordingWork()
    overdue.first_due = datetime.now(UTC) - timedelta(hours=1)
    with running(seeds, overdue, Source("hourly", "http://127.0.0.1:9/h", interval=3600)):
        assert wait_for(lambda: overdue.polls == ["hourly"], 5), "waited a whole interval"

    waiting = RecordingWork()
    waiting.first_due = datetime.now(UTC) + timedelta(minutes=10)
    with running(seeds, waiting, Source("often", "http://127.0.0.1:9/o", interval=1)):
        time.sleep(1.5)
        assert waiting.polls == [], "polled before the store said it was due"


class PollDuringStop(RecordingWork):
    """A poll still running when stop() begins, which then reports when to poll next."""

    def __init__(self) -> None:
        super().__init__()
        self.polling = threading.Event()
        self.proceed = threading.Event()

    def poll(self, name: str) -> Polled:
        self.polling.set()
        self.proceed.wait(10)
        self.polls.append(name)
        return Polled(False, f"poll {name}", datetime.now(UTC) + timedelta(seconds=30))


def test_stop_while_a_poll_is_running_does_not_deadlock(seeds: Path) -> None:
    # APScheduler 3's shutdown(wait=True) holds its job-store lock while it waits for the
    # running poll; a poll that then moved its own next run (get_job) hung `feeds run`.
    work = PollDuringStop()
    work.first_due = datetime.now(UTC) - timedelta(seconds=1)
    daemon = Daemon(seeds, 0.2, [Source("loop", "http://127.0.0.1:9/", interval=1)], work)
    daemon.start()
    assert work.polling.wait(10), "the overdue source was not polled"
    stopper = threading.Thread(target=daemon.stop)
    stopper.start()
    assert wait_for(lambda: daemon.stopping.is_set())
    time.sleep(0.2)  # let shutdown() take its locks before the poll returns
    work.proceed.set()
    stopper.join(10)
    assert not stopper.is_alive(), "stop() hung behind the poll in progress"
    assert work.polls == ["loop"]


def test_a_watched_seeds_folder_is_looked_at_when_it_changes_not_on_the_clock(
    seeds: Path,
) -> None:
    work = RecordingWork()
    daemon = Daemon(seeds, 3600, [], work, quiet=0.1, longest=1.0)  # the clock never looks
    daemon.start()
    try:
        job = daemon.scheduler.get_job("seeds")
        assert job.trigger.interval.total_seconds() == 3600
        (seeds / "b.md").write_text("---\ntitle: b\n---\nB\n", encoding="utf-8")
        assert wait_for(lambda: work.finished == 1)
        (seeds / "2026" / "11").mkdir(parents=True)  # new folders are watched too
        (seeds / "2026" / "11" / "c.md").write_text("---\ntitle: c\n---\nC\n", "utf-8")
        assert wait_for(lambda: work.finished == 2)
        (seeds / "notes.bak").write_text("not an article", encoding="utf-8")
        time.sleep(1.0)
        assert work.rebuilds == 2
    finally:
        daemon.stop()


def test_a_folder_that_cannot_be_watched_is_looked_at_on_the_clock(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.scheduler

    monkeypatch.setattr(feeds.scheduler, "watch", lambda folder, changed: None)
    work = RecordingWork()
    with running(seeds, work) as daemon:
        assert daemon.scheduler.get_job("seeds").trigger.interval.total_seconds() == 0.2
        (seeds / "b.md").write_text("---\ntitle: b\n---\nB\n", encoding="utf-8")
        assert wait_for(lambda: work.finished == 1)


def test_while_watched_the_clock_still_looks_now_and_then(seeds: Path) -> None:
    with running(seeds, RecordingWork()) as daemon:
        job = daemon.scheduler.get_job("seeds")
        assert job.trigger.interval.total_seconds() == 60  # for what a watch can miss


def test_watching_a_missing_folder_says_so_and_gives_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from feeds.watch import watch

    before = set(threading.enumerate())
    assert watch(tmp_path / "missing", lambda: None) is None
    assert "cannot watch" in caplog.text and "missing" in caplog.text
    assert wait_for(lambda: set(threading.enumerate()) <= before), "a thread was left running"


def test_a_stopped_daemon_leaves_no_watching_thread(seeds: Path) -> None:
    before = set(threading.enumerate())
    with running(seeds, RecordingWork()):
        assert set(threading.enumerate()) > before
    assert wait_for(lambda: set(threading.enumerate()) <= before), "a thread was left running"


def test_verbose_logs_leave_out_watchdogs_file_events() -> None:
    import logging

    from feeds.commands_run import configure_logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)  # as --verbose sets it (basicConfig leaves pytest's alone)
    try:
        configure_logging(verbose=True, quiet=False)
        assert logging.getLogger("feeds.run").isEnabledFor(logging.DEBUG)
        inotify = logging.getLogger("watchdog.observers.inotify_buffer")
        assert not inotify.isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(level)
