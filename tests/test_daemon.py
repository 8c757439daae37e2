"""`feeds run` end to end: the real CLI in a subprocess, a loopback upstream served by a
thread with a one-second interval, seeds/ checked every second. Every wait is bounded."""

from __future__ import annotations

import http.server
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from feeds.publish.lock import WriterLock, lock_path

pytestmark = pytest.mark.slow

LOCK_MESSAGE = "another feeds process"


# -- a loopback upstream ---------------------------------------------------------------------


class Upstream:
    """An RSS feed on 127.0.0.1 whose items the test adds while the daemon polls it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, datetime]] = []
        self.lock = threading.Lock()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = upstream.body()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, guid: str, title: str) -> None:
        with self.lock:
            when = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=len(self.items))
            self.items.append((guid, title, when))

    def body(self) -> bytes:
        with self.lock:
            items = "".join(
                f"<item><guid>{guid}</guid><title>{title}</title>"
                f"<link>http://127.0.0.1/{guid}</link>"
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{title} body</description></item>"
                for guid, title, when in self.items
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Loopback</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
        ).encode()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    feed = Upstream()
    feed.add("loop-1", "Loop first")
    feed.thread.start()
    try:
        yield feed
    finally:
        feed.server.shutdown()
        feed.server.server_close()


# -- the daemon ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Daemon:
    def __init__(self, root: Path, seeds: Path, upstream: Upstream) -> None:
        self.root = root
        self.seeds = seeds
        self.out = root / "out"
        self.port = free_port()
        (root / "sources").mkdir()
        (root / "sources" / "loop.toml").write_text(
            f'[[source]]\nname = "Loopback"\nurl = "{upstream.url}"\ninterval = 1\n'
            'tags = ["looptag"]\n',
            encoding="utf-8",
        )
        self.config = root / "feeds.toml"
        self.config.write_text(
            f'seeds = "{seeds}"\nsources = "{root / "sources"}"\nout = "{self.out}"\n'
            f'store = "{root / "state" / "state.db"}"\ncheck_interval = 1\n'
            f'base_url = "http://127.0.0.1:{self.port}/"\n',
            encoding="utf-8",
        )
        self.log = root / "run.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, name: str, *more: str) -> list[str]:
        return [sys.executable, "-m", "feeds", name, "--config", str(self.config), *more]

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command("run", "--port", str(self.port)), stdout=log, stderr=log
            )
        assert wait_for(lambda: self.get("/atom.xml") is not None, 30), self.output()

    def get(self, path: str) -> bytes | None:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"feeds run exited with {self.process.returncode}:\n{self.output()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return bytes(r.read())
        except (urllib.error.URLError, ConnectionError):
            return None

    def signal(self, number: int) -> int:
        assert self.process is not None
        self.process.send_signal(number)
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"feeds run did not exit within 10 s of the signal:\n{self.output()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def daemon(tmp_path: Path, seeds_copy: Path, upstream: Upstream) -> Iterator[Daemon]:
    running = Daemon(tmp_path, seeds_copy, upstream)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def feed_files(out: Path) -> list[Path]:
    return sorted(
        path
        for path in out.rglob("*")
        if path.name in ("atom.xml", "rss.xml", "feed.json", "feeds.opml")
    )


def parse(name: str, data: bytes) -> None:
    """Raise unless `data` is a whole feed of its kind."""
    if name.endswith(".json"):
        assert json.loads(data)["items"] is not None
    else:
        ET.fromstring(data)  # noqa: S314 - our own output, read to prove it is whole


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=90)
    return process.returncode, stderr


def seed_article(
    folder: Path, stem: str, title: str, tag: str, body: str = "Body.", *, atomic: bool = False
) -> Path:
    """Write an article; `atomic`: as editors that save through a renamed temporary do (a
    build never reads it half-written: an empty file is rejected, rightly)."""
    path = folder / f"{stem}.md"
    written = folder / f".{stem}.md.saving" if atomic else path  # hidden: never listed
    written.write_text(
        f'---\ntitle: "{title}"\ndate: "2031-01-01 10:00:00"\ntags: ["{tag}"]\n'
        f'categories: ["daemon"]\n---\n{body}\n',
        encoding="utf-8",
    )
    if atomic:
        written.replace(path)
    return path


# -- tests -----------------------------------------------------------------------------------


def test_new_entries_appear_and_untouched_feeds_keep_their_time(
    daemon: Daemon, upstream: Upstream
) -> None:
    out = daemon.out
    tag_feed = out / "tags" / "looptag" / "atom.xml"
    category_feed = out / "categories" / "loopback" / "atom.xml"
    assert wait_for(lambda: "Loop first" in text_of(tag_feed)), daemon.output()
    seed_only = [path for path in feed_files(out / "tags") if "looptag" not in path.parts]
    assert seed_only, "the seeds publish tag feeds of their own"
    before = {path: path.stat().st_mtime_ns for path in seed_only}

    upstream.add("loop-2", "Loop second")
    assert wait_for(lambda: "Loop second" in text_of(tag_feed)), daemon.output()
    assert wait_for(lambda: "Loop second" in text_of(category_feed)), daemon.output()
    assert "Loop second" in text_of(out / "atom.xml")

    seed_article(daemon.seeds, "daemon_new", "Daemon fresh article", "freshtag")
    fresh = out / "tags" / "freshtag" / "atom.xml"
    assert wait_for(lambda: "Daemon fresh article" in text_of(fresh)), daemon.output()
    assert "Daemon fresh article" in text_of(out / "atom.xml")

    after = {path: path.stat().st_mtime_ns for path in seed_only}
    assert after == before, "feeds whose entries did not change were rewritten"

    (daemon.seeds / "daemon_new.md").unlink()
    assert wait_for(lambda: not fresh.exists()), daemon.output()

    started = time.monotonic()
    assert daemon.signal(signal.SIGTERM) == 0, daemon.output()
    assert time.monotonic() - started < 10
    assert not list(out.rglob(".tmp-*")), "a half-written file was left in out/"
    log = daemon.output()
    assert "poll Loopback: updated, 1 new" in log
    assert "rebuild: " in log and " unchanged" in log


def test_readers_are_told_to_cache_for_the_shortest_poll_interval_as_sources_change(
    daemon: Daemon, upstream: Upstream
) -> None:
    def max_age() -> str:
        url = f"http://127.0.0.1:{daemon.port}/atom.xml"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.headers["Cache-Control"])

    assert max_age() == "public, max-age=1"
    (daemon.root / "sources" / "loop.toml").write_text(
        f'[[source]]\nname = "Loopback"\nurl = "{upstream.url}"\ninterval = 420\n',
        encoding="utf-8",
    )
    assert wait_for(lambda: max_age() == "public, max-age=420"), daemon.output()


def test_sigint_also_exits_cleanly(daemon: Daemon) -> None:
    assert daemon.signal(signal.SIGINT) == 0, daemon.output()
    assert "Traceback" not in daemon.output()


def test_a_concurrent_build_waits_or_gives_up_and_readers_never_see_half_a_file(
    daemon: Daemon,
) -> None:
    article = seed_article(daemon.seeds, "churn", "Churn 0", "churn")
    stop = threading.Event()
    edits = [0]

    def churn() -> None:
        while not stop.is_set() and edits[0] < 200:
            edits[0] += 1
            body = "x" * edits[0]
            seed_article(daemon.seeds, "churn", f"Churn {edits[0]}", "churn", body, atomic=True)
            time.sleep(0.15)

    writer = threading.Thread(target=churn)
    writer.start()
    seen: dict[str, set[bytes]] = {}
    paths = ["/atom.xml", "/rss.xml", "/feed.json", "/tags/churn/atom.xml", "/feeds.opml"]
    try:
        builds = [
            subprocess.Popen(
                daemon.command("build", "--wait", wait),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for wait in ("0", "60")
        ]
        deadline = time.monotonic() + 8
        reads = 0
        while time.monotonic() < deadline and reads < 2000:
            for path in paths:
                data = daemon.get(path)
                if data is None:
                    continue  # a term feed not written yet
                reads += 1
                parse(path, data)
                seen.setdefault(path, set()).add(data)
        results = [finish(build) for build in builds]
    finally:
        stop.set()
        writer.join(10)
    assert len(seen["/atom.xml"]) >= 3, "the daemon did not rebuild while we read"
    for status, stderr in results:
        assert status in (0, 3), stderr
        if status == 3:
            assert LOCK_MESSAGE in stderr and "state.db.lock" in stderr
    assert results[1][0] == 0, "a build willing to wait 60 s should get its turn"
    assert daemon.signal(signal.SIGTERM) == 0, daemon.output()
    for path in feed_files(daemon.out):
        parse(path.name, path.read_bytes())
    assert article.exists()
    assert not list(daemon.out.rglob(".tmp-*"))


def test_a_port_in_use_is_a_usage_error_before_anything_is_written(
    tmp_path: Path, seeds_copy: Path, upstream: Upstream
) -> None:
    setup = Daemon(tmp_path, seeds_copy, upstream)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", setup.port))
        taken.listen()
        done = subprocess.run(
            setup.command("run", "--port", str(setup.port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert f"127.0.0.1:{setup.port}: cannot listen" in done.stderr
    assert not setup.out.exists()


def test_run_gives_up_with_status_3_while_another_writer_keeps_the_lock(
    tmp_path: Path, seeds_copy: Path, upstream: Upstream
) -> None:
    setup = Daemon(tmp_path, seeds_copy, upstream)
    store = tmp_path / "state" / "state.db"
    with WriterLock(lock_path(store)).hold(1, "feeds build from cron"):
        done = subprocess.run(
            setup.command("run", "--port", str(setup.port), "--wait", "0.3"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 3, done.stderr
    assert "feeds build from cron" in done.stderr and "state.db.lock" in done.stderr
    assert not (setup.out / "atom.xml").exists()
