"""Many articles at once: parse their front matter, later render the bodies that are needed,
spread over a process pool when there are enough of them to pay for it.

Two passes, so a build renders Markdown only for the entries that land in some feed:
`parse_articles` reads each file, digests its bytes and parses the front matter (the entry
without content); `render_bodies` reads the chosen files again and renders their bodies,
refusing a file whose bytes no longer match the digest of the first pass. Bodies are never
held between the passes, so memory stays flat however large seeds/ grows.

Jobs and results are tuples (NamedTuple): they cross process boundaries by the
thousand, and a frozen dataclass pickles through Python-level code in the parent.

Workers are forked when the process has a single thread (the CLI), and come from a fork
server otherwise (the daemon has threads, and forking them is unsafe).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from feeds.errors import ArticleError
from feeds.model import Entry
from feeds.normalize import front_matter, stored
from feeds.normalize.article import Draft, parse_article
from feeds.normalize.content import html_digest, render_markdown
from feeds.normalize.dates import file_time
from feeds.pools import frozen_heap, pool_context, pool_workers
from feeds.sources.local import read_file

POOL_MIN = 1500  # fewer articles than this: one process (a pool costs ~0.1 s to start)
CHUNK = 200  # articles per task sent to a worker

Job = TypeVar("Job")
Result = TypeVar("Result")


class ParseJob(NamedTuple):
    name: str  # relative to seeds/
    path: str
    mtime_ns: int
    base_url: str
    timezone: str


class Parsed(NamedTuple):
    name: str
    size: int
    mtime_ns: int
    digest: str  # of the file's bytes
    entry: Entry | None  # without content; None for a draft or a rejected article
    problem: tuple[str, str] | None = None  # (where, problem) of an ArticleError
    text: str | None = None  # the entry as the article cache stores it (normalize/stored.py)
    text_digest: str | None = None  # stored.digest(text)

    @property
    def error(self) -> ArticleError | None:
        # Carried as text: FeedsError cannot be pickled back from a worker.
        return ArticleError(*self.problem) if self.problem else None


class RenderJob(NamedTuple):
    name: str
    path: str
    digest: str  # what parse_articles saw
    base: str | None  # the entry's link, against which relative URLs resolve


class Rendered(NamedTuple):
    name: str
    html: str | None  # None: the file changed since it was parsed (or vanished)
    digest: str | None = None  # html_digest of `html`


def digest_of(data: bytes) -> str:
    # SHA-256 cut to 128 bits: twice as fast as BLAKE2b on a CPU with SHA instructions.
    return hashlib.sha256(data).hexdigest()[:32]


def parse_articles(
    jobs: Sequence[ParseJob], done: Callable[[int], None] | None = None
) -> Iterator[Parsed]:
    """Every job's result, in order, as it arrives (the caller's work on the first results
    overlaps the parsing of the next); `done(n)` is called as the n-th result arrives."""
    return iterate(parse_one, jobs, done)


def render_bodies(jobs: Sequence[RenderJob]) -> list[Rendered]:
    return run(render_one, jobs)


def parse_one(job: ParseJob) -> Parsed:
    try:
        data = read_file(job.path)
    except OSError as exc:
        problem = (job.name, f"cannot read: {exc.strerror or exc}")
        return Parsed(job.name, 0, job.mtime_ns, "", None, problem)
    digest = digest_of(data)
    zone = ZoneInfo(job.timezone)
    try:
        modified = file_time(job.mtime_ns, zone)
        article = parse_article(job.name, data, job.base_url, zone, modified)
    except Draft:
        return Parsed(job.name, len(data), job.mtime_ns, digest, None)
    except ArticleError as error:
        return Parsed(job.name, len(data), job.mtime_ns, digest, None, (error.where, error.problem))
    # Encoded (and digested) here, in the workers: a cold build would otherwise encode every
    # entry in turn.
    text = stored.encode(article.entry, job.timezone)
    return Parsed(
        job.name, len(data), job.mtime_ns, digest, article.entry, None, text, stored.digest(text)
    )


def render_one(job: RenderJob) -> Rendered:
    try:
        data = read_file(job.path)
    except OSError:
        return Rendered(job.name, None)
    if digest_of(data) != job.digest:
        return Rendered(job.name, None)
    # Digested here, in the workers: for a cold build that is 40 MB of HTML the parent
    # would otherwise read again.
    html = render_markdown(article_body(data), job.base)
    return Rendered(job.name, html, html_digest(html))


def article_body(data: bytes) -> str:
    """The Markdown body exactly as parse_article sees it (the file parsed before)."""
    text = data.decode("utf-8-sig")
    parts = front_matter.split(text)
    return parts[1] if parts is not None else text.replace("\r\n", "\n").strip()


def run(
    function: Callable[[Job], Result],
    jobs: Sequence[Job],
    done: Callable[[int], None] | None = None,
) -> list[Result]:
    """`function` over `jobs` in order, in a pool of one worker per core when it pays."""
    return list(iterate(function, jobs, done))


def iterate(
    function: Callable[[Job], Result],
    jobs: Sequence[Job],
    done: Callable[[int], None] | None = None,
) -> Iterator[Result]:
    """run(), each result given as it arrives; the pool lives until the last is taken."""
    workers = pool_workers()
    if len(jobs) < POOL_MIN or workers < 2:
        yield from _counted(map(function, jobs), done)
        return
    # local: 15 ms to load, which a rebuild after one edit (no pool) would pay for nothing
    from concurrent.futures import ProcessPoolExecutor

    context = pool_context()
    with frozen_heap(context), ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from _counted(pool.map(function, jobs, chunksize=CHUNK), done)


def _counted(results: Iterable[Result], done: Callable[[int], None] | None) -> Iterator[Result]:
    for count, result in enumerate(results, 1):
        yield result
        if done is not None:
            done(count)
