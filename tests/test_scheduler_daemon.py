"""The Daemon's jobs on a real APScheduler with a recording Work: which change leads to a
rebuild, and that stop() lets the rebuild in progress finish. Every wait is bounded."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
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
        self.catalog: list[Source] = []  # what sources/*.toml would say
        self.reads = 0

    def poll(self, name: str) -> Polled:
        self.polls.append(name)
        return Polled(self.new_entries, f"poll {name}", self.next_poll)

    def due_at(self, name: str) -> datetime | None:
        return self.first_due

    def read_sources(self) -> list[Source]:
        self.reads += 1
        return list(self.catalog)

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


def count_listings(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When the daemon lists seeds/ (from now on)."""
    import feeds.scheduler

    listed: list[float] = []
    snapshot = feeds.scheduler.snapshot_seeds

    def counting(folder: Path) -> dict[str, tuple[int, int]]:
        listed.append(time.monotonic())
        return snapshot(folder)

    monkeypatch.setattr(feeds.scheduler, "snapshot_seeds", counting)
    return listed


def test_a_watched_seeds_folder_is_listed_only_after_a_change(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = RecordingWork()
    with running(seeds, work):
        listed = count_listings(monkeypatch)
        time.sleep(1.0)  # five checks of the clock
        assert listed == [], "listed seeds/ although nothing happened in it"
        (seeds / "b.md").write_text("---\ntitle: b\n---\nB\n", encoding="utf-8")
        assert wait_for(lambda: work.finished == 1)
        assert 1 <= len(listed) <= 3
        (seeds / "2026" / "11").mkdir(parents=True)  # new folders are watched too
        (seeds / "2026" / "11" / "c.md").write_text("---\ntitle: c\n---\nC\n", "utf-8")
        assert wait_for(lambda: work.finished == 2)
        (seeds / "notes.bak").write_text("not an article", encoding="utf-8")
        time.sleep(1.0)
        assert work.rebuilds == 2


def test_a_folder_that_cannot_be_watched_is_listed_on_the_clock(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.scheduler

    monkeypatch.setattr(feeds.scheduler, "watch", lambda folder, changed: None)
    work = RecordingWork()
    with running(seeds, work):
        listed = count_listings(monkeypatch)
        assert wait_for(lambda: len(listed) >= 3)  # every 0.2 s, with no event
        (seeds / "b.md").write_text("---\ntitle: b\n---\nB\n", encoding="utf-8")
        assert wait_for(lambda: work.finished == 1)


def test_while_watched_the_clock_still_lists_now_and_then(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.scheduler

    monkeypatch.setattr(feeds.scheduler, "WATCHED", 0.5)  # what a watch can miss
    with running(seeds, RecordingWork()):
        listed = count_listings(monkeypatch)
        assert wait_for(lambda: len(listed) >= 2)


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


def test_edited_sources_files_change_the_poll_jobs_and_rebuild(seeds: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "a.toml").write_text("a", encoding="utf-8")
    first = Source("a", "http://127.0.0.1:9/a", interval=3600)
    work = RecordingWork()
    work.catalog = [first]
    daemon = Daemon(seeds, 0.2, [first], work, quiet=0.1, longest=1.0, sources_folder=folder)
    daemon.start()
    try:
        time.sleep(0.6)
        assert work.reads == 0, "read again although no file changed"
        added = Source("b", "http://127.0.0.1:9/b", interval=3600)
        work.catalog = [first, added]
        (folder / "b.toml").write_text("b", encoding="utf-8")
        assert wait_for(lambda: "b" in work.polls)  # a new source is polled at once
        assert daemon.scheduler.get_job("poll:b") is not None
        assert wait_for(lambda: work.finished == 1)  # a rebuild publishes what b holds
        work.catalog = [replace(added, interval=7200)]
        (folder / "a.toml").unlink()
        (folder / "b.toml").write_text("b, less often", encoding="utf-8")
        assert wait_for(lambda: daemon.scheduler.get_job("poll:a") is None)
        job = daemon.scheduler.get_job("poll:b")
        assert job.trigger.interval.total_seconds() == 7200
        assert [source.name for source in daemon.sources] == ["b"]
        assert wait_for(lambda: work.finished == 2)
    finally:
        daemon.stop()


def test_the_daemons_work_reads_the_sources_folder_again(tmp_path: Path) -> None:
    from feeds.jobs import PipelineWork
    from feeds.settings import defaults

    settings = defaults().with_values("test", {"sources": str(tmp_path / "sources")})
    work = PipelineWork(settings, None, (), None, wait=0, cancel=threading.Event())  # type: ignore[arg-type]
    assert work.read_sources() == ()
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "news.toml").write_text(
        '[[source]]\nname = "News"\nurl = "http://127.0.0.1:9/n"\n', encoding="utf-8"
    )
    assert [source.name for source in work.read_sources()] == ["News"]
    assert [source.name for source in work.sources] == ["News"]  # polls by name find it
