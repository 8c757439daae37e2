"""`make bench`: time `feeds build` (and Hugo, when installed) on generated corpora.

    python benchmarks/run.py                       # 1,000, 10,000 and 50,000 articles, 3 runs
    python benchmarks/run.py --sizes 1000 --repeats 1 --no-hugo --no-poll   # a quick look

Every figure is the median of --repeats runs of a fresh process (`python -m feeds build`),
with its peak memory (see measure.py); the package's bytecode is compiled first, as an
installation has it. Scenarios, per size, in this order on one work copy:
  cold     empty store and output folder (earlier ones are moved aside: see discard)
  noop     nothing changed since the last build
  body     one article's body changed (a different article, among the newest, each run)
  tag      one article gained a tag it did not have (a common one)
  delete   one article deleted
  daemon   `feeds run` on the same folder: its rebuild after one body edit, as it logs it
           (the build's own time: no process start; the first rebuilds are not counted)
  hugo     the same corpus built by Hugo (see hugo.py), cold, when `hugo` is on PATH;
           its runs alternate with the cold ones
and once: polling 1,000 loopback upstreams of 50 entries, first (all 200), then (all 304).
"rewritten" counts files of out/ created, replaced or removed; for the one-article
scenarios "outside" counts feed files rewritten in folders whose feeds never held the article.
Timings never go into unit tests: speed lives here.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import corpus, hugo, measure, upstream  # noqa: E402

WORK = ROOT / "benchmarks" / "corpora" / "work"
DISCARDED = WORK / "discarded"  # outputs of earlier builds, deleted when the run ends
FEED_FILES = ("atom.xml", "rss.xml", "feed.json")
CONFIG = """\
title = "feeds"
base_url = "http://127.0.0.1:8080/"
timezone = "Asia/Shanghai"
seeds = "seeds"
sources = "sources"
out = "out"
store = ".feeds/state.db"
"""


@dataclass
class Row:
    size: int
    scenario: str
    runs: list[measure.Run] = field(default_factory=list)
    rewritten: list[int] = field(default_factory=list)
    outside: list[int] = field(default_factory=list)
    note: str = ""

    @property
    def seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(run.peak_mb for run in self.runs)


def discard(path: Path) -> None:
    """Move a previous build's output out of the way; it is deleted when the run ends.

    Deleting it right before a cold build would time the file system as much as the build:
    for a minute, ext4 skips the inodes of files just deleted when it picks one for a new
    file, scanning past them (`recently_deleted` in the kernel), which cost a build of
    10,000 articles about 1 s of system time. Both tools get the same treatment."""
    if path.exists():
        DISCARDED.mkdir(parents=True, exist_ok=True)
        path.rename(DISCARDED / f"{len(list(DISCARDED.iterdir()))}-{path.name}")


def feeds_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "feeds", *args, "--config", "feeds.toml"]


def prepare(size: int) -> Path:
    work = WORK / str(size)
    discard(work)
    corpus.work_copy(corpus.corpus(size), work / "seeds")
    (work / "sources").mkdir()
    (work / "feeds.toml").write_text(CONFIG)
    return work


def build_once(work: Path, row: Row, holding: Callable[[], set[str]] | None = None) -> None:
    before = measure.snapshot(work / "out")
    held = holding() if holding else set()
    result = measure.run(feeds_command("build"), work)
    if result.returncode != 0:
        raise SystemExit(f"feeds build failed ({result.returncode}):\n{result.stderr}")
    after = measure.snapshot(work / "out")
    changed = measure.changed(before, after)
    row.runs.append(result)
    row.rewritten.append(len(changed))
    if holding:
        held |= holding()
        row.outside.append(
            sum(1 for path in changed if _is_feed(path) and os.path.dirname(path) not in held)
        )


def feeds_holding(out: Path, entry_id: str) -> set[str]:
    """Folders (relative to out/) whose feed.json holds the entry."""
    needle = f'"id": "{entry_id}"'.encode()
    return {
        "" if path.parent == out else os.path.relpath(path.parent, out)
        for path in out.rglob("feed.json")
        if needle in path.read_bytes()
    }


def _is_feed(path: str) -> bool:
    return os.path.basename(path) in FEED_FILES


def entry_id(path: Path) -> str:
    return f"tag:127.0.0.1,2025:{path.stem}"


def bench_size(size: int, repeats: int, with_hugo: bool) -> list[Row]:
    work = prepare(size)
    rows = []
    cold = Row(size, "cold")
    # Hugo's cold builds alternate with ours, so that a shared machine's slow spells fall on
    # both alike and the ratio compares like with like.
    site = None
    if with_hugo and hugo.hugo_binary():
        hugo.clean(WORK / f"hugo-{size}", discard)  # an earlier run's output (see discard)
        site = hugo.make_site(corpus.corpus(size), WORK / f"hugo-{size}")
    against = Row(size, "hugo", note="RSS only, 1 file per term")
    for _ in range(repeats):
        discard(work / "out")
        discard(work / ".feeds")
        build_once(work, cold)
        if site is not None:
            hugo_once(site, against)
    rows.append(cold)
    noop = Row(size, "noop")
    for _ in range(repeats):
        build_once(work, noop)
    rows.append(noop)
    targets = corpus.newest(work / "seeds", 3 * repeats)
    tags = corpus.common_tags(work / "seeds")
    edits: list[tuple[str, Callable[[Path, int], object]]] = [
        ("body", corpus.edit_body),
        ("tag", lambda path, _: corpus.add_tag(path, tags)),
        ("delete", lambda path, _: corpus.delete(path)),
    ]
    for number, (name, edit) in enumerate(edits):
        row = Row(size, name)
        for index in range(repeats):
            target = targets[number * repeats + index]

            def holding(target: Path = target) -> set[str]:
                return feeds_holding(work / "out", entry_id(target))

            edit(target, index)
            build_once(work, row, holding)
        rows.append(row)
    # The articles of the body and tag rows (those of the delete row are gone).
    rows.append(bench_daemon(size, work, targets[: 2 * repeats], repeats))
    if site is not None:
        rows.append(against)
    return rows


def bench_daemon(size: int, work: Path, targets: list[Path], repeats: int) -> Row:
    """`feeds run` on the work copy: its rebuild after one article's body changed, as the
    daemon logs it ("rebuild: ... 0.57 s"), with the default settings (it looks at seeds/
    every 2 s). The first rebuild of the process (it decodes every cached entry once) is a
    warm-up, not counted. Peak memory: the whole run's."""
    row = Row(size, "daemon", note="rebuild time logged by feeds run, after a warm-up")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [*feeds_command("run"), "--port", str(port), "--host", "127.0.0.1"]
    process = subprocess.Popen(
        command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:  # in a thread: waiting for a line can then time out
        for line in process.stderr or ():
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    sampler = measure.Sampler(process.pid)
    sampler.start()
    try:
        _wait_for(lines, "serving ")
        for index in range(repeats + 1):
            corpus.edit_body(targets[index % len(targets)], 1000 + index)
            logged = REBUILD.search(_wait_for(lines, "rebuild: "))
            if logged is None:
                raise SystemExit("feeds run logged a rebuild line of another shape")
            if index:
                row.runs.append(measure.Run(float(logged["seconds"]), 0.0, 0, ""))
                row.rewritten.append(int(logged["rewritten"]))
    finally:
        process.terminate()
        process.wait(timeout=60)
        sampler.stop()
    peak = sampler.peak_kb / 1024
    row.runs = [measure.Run(run.seconds, peak, 0, "") for run in row.runs]
    return row


REBUILD = re.compile(r"rebuild: (?P<rewritten>\d+) rewritten, .* (?P<seconds>[\d.]+) s(;|$)")


def _wait_for(lines: queue.Queue[str], text: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if text in line:
            return line.strip()
    raise SystemExit(f"feeds run did not log {text!r} within {timeout:g} s")


def hugo_once(site: Path, row: Row) -> None:
    hugo.clean(site, discard)
    result = measure.run(hugo.command(site), site)
    if result.returncode != 0:
        raise SystemExit(f"hugo failed ({result.returncode}):\n{result.stderr}")
    row.runs.append(result)
    row.rewritten.append(hugo.feeds_written(site))


def bench_poll(repeats: int, feeds: int = 1000, entries: int = 50) -> list[Row]:
    work = WORK / "poll"
    shutil.rmtree(work, ignore_errors=True)
    (work / "seeds").mkdir(parents=True)
    first, second = Row(feeds, "poll 200"), Row(feeds, "poll 304")
    with upstream.serving(feeds, entries) as server:
        upstream.write_sources(work / "sources", server.server_address[1], feeds)
        # Every upstream is on one loopback host: lift the per-host limit to the global one.
        (work / "feeds.toml").write_text(CONFIG + "per_host = 16\nconcurrency = 16\n")
        for _ in range(repeats):
            shutil.rmtree(work / ".feeds", ignore_errors=True)
            for row, status in ((first, 200), (second, 304)):
                before = dict(server.counts)
                result = measure.run(feeds_command("fetch"), work)
                if result.returncode != 0:
                    raise SystemExit(f"feeds fetch failed:\n{result.stderr[-2000:]}")
                row.runs.append(result)
                row.rewritten.append(server.counts[status] - before[status])
    first.note = f"{feeds} feeds x {entries} entries; 'rewritten' = responses with that status"
    return [first, second]


def table(rows: Sequence[Row]) -> str:
    header = (
        f"{'articles':>8}  {'scenario':<9} {'median s':>9} {'min-max s':>13} {'peak MB':>8} "
        f"{'rewritten':>9} {'outside':>7} {'vs cold':>8} {'feeds/hugo':>10}"
    )
    lines = [header, "-" * len(header)]
    cold = {row.size: row.seconds for row in rows if row.scenario == "cold"}
    hugo_seconds = {row.size: row for row in rows if row.scenario == "hugo"}
    for row in rows:
        seconds = [run.seconds for run in row.runs]
        span = f"{min(seconds):.2f}-{max(seconds):.2f}"
        rewritten = "/".join(str(count) for count in sorted(set(row.rewritten)))
        outside = str(max(row.outside)) if row.outside else ""
        versus = ""
        if row.scenario not in ("cold", "hugo") and row.size in cold and row.scenario[:4] != "poll":
            versus = f"{100 * row.seconds / cold[row.size]:.1f}%"
        ratio = ""
        reference = hugo_seconds.get(row.size)
        if row.scenario == "cold" and reference:
            ratio = f"{row.seconds / reference.seconds:.2f}x"
            ratio += f" {row.peak_mb / reference.peak_mb:.2f}m"
        lines.append(
            f"{row.size:>8}  {row.scenario:<9} {row.seconds:>9.2f} {span:>13} {row.peak_mb:>8.0f} "
            f"{rewritten:>9} {outside:>7} {versus:>8} {ratio:>10}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-hugo", action="store_true", help="skip the Hugo builds")
    parser.add_argument("--no-poll", action="store_true", help="skip the polling benchmark")
    args = parser.parse_args(argv)
    # The package's bytecode, as pip compiles it on install: with PYTHONDONTWRITEBYTECODE
    # set (this project's machines set it) every process would compile feeds/ again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "feeds")], check=True)
    shutil.rmtree(DISCARDED, ignore_errors=True)
    try:
        rows = run(args)
    finally:
        shutil.rmtree(DISCARDED, ignore_errors=True)
    print(f"# {os.cpu_count()} cores; python benchmarks/run.py {' '.join(argv or sys.argv[1:])}")
    print(table(rows))
    print(
        "# 'vs cold': median against the cold build of the same size; 'feeds/hugo': wall-time"
        " ratio, then the peak-memory ratio (m)"
    )
    return 0


def run(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    for size in (int(text) for text in args.sizes.split(",") if text):
        rows += bench_size(size, args.repeats, not args.no_hugo)
        print(table(rows), file=sys.stderr, flush=True)
    if not args.no_poll:
        rows += bench_poll(args.repeats)
    return rows


if __name__ == "__main__":
    sys.exit(main())
