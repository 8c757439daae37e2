"""The build's progress bar: on stderr, only for a terminal and only for long work."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

from feeds.progress import LONG, ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(bar: ProgressBar, total: int) -> None:
    with bar:
        for done in range(1, total + 1):
            bar(done, total)


def test_long_work_on_a_terminal_shows_a_bar() -> None:
    stream = Terminal()
    run(ProgressBar(stream), LONG + 1)
    shown = stream.getvalue()
    assert f"/{LONG + 1} [" in shown and "article/s" in shown
    assert shown.endswith("\r")  # cleared when done: the summary line follows alone
    # No thread of tqdm's outlives the bar: a build forks its workers only while alone.
    assert threading.active_count() == 1


def test_short_work_shows_nothing() -> None:
    stream = Terminal()
    run(ProgressBar(stream), LONG)
    assert stream.getvalue() == ""


def test_no_terminal_shows_nothing() -> None:
    stream = io.StringIO()
    run(ProgressBar(stream), LONG * 2)
    assert stream.getvalue() == ""


def write_articles(folder: Path, count: int) -> None:
    folder.mkdir()
    for number in range(count):
        front = f'title: "Article {number}"\ndate: 2025-02-10\ntags: [t{number % 7}]'
        (folder / f"{number:04}.md").write_text(f"---\n{front}\n---\nBody.\n", encoding="utf-8")


def build_with_stderr(tmp_path: Path, stderr: int) -> subprocess.Popen[bytes]:
    (tmp_path / "sources").mkdir(exist_ok=True)
    config = tmp_path / "feeds.toml"
    config.write_text(f'store = "{tmp_path / "state.db"}"\n', encoding="utf-8")
    command = [sys.executable, "-m", "feeds", "build", "--config", str(config)]
    command += ["--seeds", str(tmp_path / "seeds"), "--out", str(tmp_path / "out")]
    command += ["--sources", str(tmp_path / "sources")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=tmp_path)


def read_all(fd: int) -> bytes:
    chunks = []
    while select.select([fd], [], [], 30)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed (Linux pty: EIO)
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_feeds_build_on_a_terminal_shows_the_bar_then_the_summary(tmp_path: Path) -> None:
    write_articles(tmp_path / "seeds", LONG + 5)
    parent, child = pty.openpty()
    # A new pty is 0x0, and tqdm draws nothing in zero columns: make it a usual terminal.
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = build_with_stderr(tmp_path, child)
    os.close(child)
    output = read_all(parent).decode(errors="replace")
    os.close(parent)
    assert process.wait(timeout=60) == 0
    assert f"/{LONG + 5} [" in output and "article/s" in output
    assert f"articles: {LONG + 5} read, 0 rejected" in output.splitlines()[-1]


def test_feeds_build_into_a_pipe_shows_only_the_summary(tmp_path: Path) -> None:
    write_articles(tmp_path / "seeds", LONG + 5)
    process = build_with_stderr(tmp_path, subprocess.PIPE)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 0
    lines = errors.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("articles: 205 read, 0 rejected;")
