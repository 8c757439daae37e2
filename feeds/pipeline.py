"""The one orchestrator: knows the stage order; the CLI, the scheduler and the tests call it.

    seeds/ ─┐
            ├─ normalize ─ merge ─ plan ─ render ─ write out/
    store ──┘

Read everything, then write everything; a path is never written twice in one run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from feeds.errors import ArticleError, FeedsError, PublishError
from feeds.merge.store import Retention, Store
from feeds.model import Entry, FeedSpec, Source
from feeds.publish.uptodate import UpToDate, basis_digest, inputs_digest
from feeds.publish.write import WriteReport
from feeds.render.site import Site
from feeds.settings import Settings
from feeds.sources.catalog import load_catalog
from feeds.sources.local import ArticleFile, list_articles, read_bytes

if TYPE_CHECKING:
    from feeds.merge.items import Item
    from feeds.merge.seeds import SeedContents
    from feeds.sources.poll import PollResult

# Imported inside the functions that need them, so a build that does not need them does not
# pay for importing them: the poller (httpx, asyncio, feedparser) only when sources are
# polled; the readers, planner and renderers (YAML, Markdown, nh3, jinja2: about 0.2 s)
# only when out/ is not up to date (publish/uptodate.py), which a no-op build finds first.

# Called as each article is read, with (its number, articles in all): the CLI's progress bar.
Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    articles: int = 0
    drafts: int = 0
    rejected: list[FeedsError] = field(default_factory=list)
    source_errors: list[FeedsError] = field(default_factory=list)
    feeds: tuple[FeedSpec, ...] = ()
    write: WriteReport = field(default_factory=WriteReport)
    seconds: float = 0.0
    polls: list[PollResult] = field(default_factory=list)  # upstream polls of this build
    upstream: int = 0  # stored upstream entries merged in
    patched: bool = False  # the last build's items patched, not every entry merged again

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.source_errors or self.write.errors)

    def summary(self) -> str:
        upstream = ""
        if self.polls or self.upstream:
            new = sum(poll.new for poll in self.polls)
            failed = sum(1 for poll in self.polls if poll.error)
            upstream = (
                f"upstream: {len(self.polls)} polled, {failed} failed, {new} new, "
                f"{self.upstream} stored; "
            )
        return (
            upstream + f"articles: {self.articles} read, {len(self.rejected)} rejected; "
            f"feeds: {len(self.write.written)} written, {len(self.write.unchanged)} unchanged, "
            f"{len(self.write.removed)} removed; {self.seconds:.2f} s"
        )


def site_of(settings: Settings) -> Site:
    return Site(title=settings.title, base_url=settings.base_url, formats=settings.formats)


def read_seeds(
    settings: Settings,
    report: BuildReport,
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> list[Entry]:
    """Every article of seeds/ as an Entry; bad ones go to report.rejected (or raise)."""
    from feeds.normalize.article import Draft, parse_article, render_article  # see the top
    from feeds.normalize.dates import file_time

    entries: list[Entry] = []
    seen: dict[str, str] = {}
    articles = list_articles(settings.seeds)
    for done, article in enumerate(articles, 1):
        if progress is not None:
            progress(done, len(articles))
        try:
            modified = file_time(article.mtime_ns, settings.zone)
            data = read_bytes(article)
            parsed = parse_article(article.name, data, settings.base_url, settings.zone, modified)
            if parsed.entry.id in seen:
                raise ArticleError(
                    article.name, f"same file name (id) as {seen[parsed.entry.id]}; skipped"
                )
            seen[parsed.entry.id] = article.name
            entries.append(render_article(parsed))
            report.articles += 1
        except Draft:
            report.drafts += 1
        except ArticleError as error:
            if strict:
                raise
            report.rejected.append(error)
    return entries


def render_files(feeds: tuple[FeedSpec, ...], site: Site) -> dict[str, bytes]:
    from feeds.render import render_feed  # local: see the top

    files: dict[str, bytes] = {}
    for spec in feeds:
        for path, data in render_feed(spec, site).items():
            if path in files:
                raise PublishError(path, "two feeds want the same file; refusing to write it twice")
            files[path] = data
    return files


def render_site(feeds: tuple[FeedSpec, ...], site: Site) -> dict[str, bytes]:
    """Every feed plus the files for people: index pages, feeds.opml and feed.xsl."""
    # local: see the top
    from feeds.render.index import render_pages
    from feeds.render.opml import OPML_FILE, render_opml
    from feeds.render.site import STYLESHEET
    from feeds.render.stylesheet import stylesheet

    files = render_files(feeds, site)
    extras = {
        **render_pages(feeds, site),
        OPML_FILE: render_opml(feeds, site),
        STYLESHEET: stylesheet(),
    }
    for path, data in extras.items():
        if path in files:
            raise PublishError(path, "a page and a feed want the same file; refusing both")
        files[path] = data
    return files


def poll_upstream(
    settings: Settings, store: Store, report: BuildReport, *, offline: bool = False
) -> tuple[Source, ...]:
    """Poll the due sources (unless offline) and prune what expired; the enabled sources.

    Upstream errors go to report.source_errors and never stop the build: a source that
    fails keeps its stored entries published.
    """
    catalog = load_catalog(settings.sources, settings.timezone)
    report.source_errors.extend(catalog.errors)
    if not offline and catalog.enabled:
        from feeds.sources.poll import poll_sources  # local: see the top

        report.polls = poll_sources(settings, store, catalog.enabled)
        report.source_errors.extend(poll.error for poll in report.polls if poll.error)
    store.prune(datetime.now(UTC), Retention(settings.retention_days, settings.retention_entries))
    return catalog.enabled


@contextlib.contextmanager
def opened_store(settings: Settings, store: Store | None) -> Iterator[Store]:
    """The caller's store (the daemon keeps one open), or settings.store for this build."""
    if store is not None:
        yield store
        return
    with Store.open(settings.store) as own:
        yield own


def build(
    settings: Settings,
    *,
    strict: bool = False,
    offline: bool = False,
    store: Store | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """One whole build: read, poll, merge, plan, render, write. Never raises for one bad
    input; a StoreError (corrupt or locked store) stops it before anything is written.

    When nothing it reads changed since a build without problems, and out/ is as that
    build left it, nothing is read or written (publish/uptodate.py)."""
    started = time.perf_counter()
    report = BuildReport()
    with opened_store(settings, store) as state:
        enabled = poll_upstream(settings, state, report, offline=offline)
        articles = list_articles(settings.seeds)
        inputs = inputs_digest(settings, articles, enabled, state.entries_version())
        uptodate = UpToDate(state, settings.out)
        current = None if report.source_errors else uptodate.current(inputs)
        if current is not None:
            report.articles, report.drafts = current.articles, current.drafts
            report.upstream = current.upstream
            report.write = WriteReport(unchanged=current.outputs)
        else:
            uptodate.forget()
            _build_all(settings, state, report, articles, enabled, strict, progress)
            if report.ok:
                uptodate.remember(inputs, report.articles, report.drafts, report.upstream)
        report.seconds = time.perf_counter() - started
        state.record_build(datetime.now(UTC), report.ok, report.summary())
    return report


def _build_all(
    settings: Settings,
    state: Store,
    report: BuildReport,
    articles: list[ArticleFile],
    enabled: tuple[Source, ...],
    strict: bool,
    progress: Progress | None,
) -> None:
    # local: see the top
    from feeds.merge.items import ItemTable
    from feeds.merge.patch import patch_items
    from feeds.publish.outputs import publish
    from feeds.render.plan import plan_items

    basis = basis_digest(settings, enabled, state.entries_version())
    table = ItemTable(state)
    kept = table.take(basis)
    names = [source.name for source in enabled]
    patched = patch_items(
        settings, state, report, articles, table, kept, names, strict=strict, progress=progress
    )
    if patched is not None:
        items, contents, resolve = patched.items, patched.contents, patched.resolve
        report.upstream, report.patched = kept.upstream, True
        whole: Mapping[str, Entry] = {}
    else:
        items, contents, whole = _merged_items(
            settings, state, report, articles, names, strict, progress
        )
        resolve = partial(_pick, whole)
    plan = plan_items(items.values(), settings.title, settings.limit, state.known_slugs())
    report.feeds = tuple(feed.spec for feed in plan.feeds)

    def save_state() -> None:
        # What this build learnt, saved while its files are written (the pools have
        # rendered every entry by then): 0.4 s of a 10,000-article cold build, done alone.
        contents.cache.flush()
        state.save_slugs(plan.slugs)
        for entry_id, digest in contents.fresh.items():  # seed entries rendered just now
            items[entry_id] = items[entry_id]._replace(content=digest)
        table.save(
            basis,
            items,
            kept.items,
            whole,
            settings.zone,
            upstream=report.upstream,
            same_ids=contents.same_ids,
        )

    # Renders and writes only the files whose digest changed (the fast path of
    # render_site + write_tree, byte for byte the same).
    site = site_of(settings)
    try:
        report.write = publish(settings.out, state, plan.feeds, site, contents, resolve, save_state)
    finally:
        contents.cache.flush()  # when publish stopped before the files were written


def _merged_items(
    settings: Settings,
    state: Store,
    report: BuildReport,
    articles: list[ArticleFile],
    sources: list[str],
    strict: bool,
    progress: Progress | None,
) -> tuple[dict[str, Item], SeedContents, dict[str, Entry]]:
    """The whole way: every seed entry (through the article cache) and every stored
    upstream entry, merged; their items, and the entries by id."""
    # local: see the top
    from feeds.merge.dedupe import merge_traced
    from feeds.merge.items import items_of
    from feeds.merge.seeds import read_seeds_cached

    # Seed entries come without their HTML: publish loads it for the feeds it renders.
    entries, contents = read_seeds_cached(
        settings,
        state,
        report,
        strict=strict,
        progress=progress,
        articles=articles,
        deferred=True,  # written while the files are (_build_all's save_state)
    )
    upstream = state.entries(sources)
    report.upstream = len(upstream)
    merged, copies = merge_traced(entries, upstream)
    items, by_id = items_of(merged, copies, contents)
    return items, contents, by_id


def _pick(entries: Mapping[str, Entry], ids: Collection[str]) -> dict[str, Entry]:
    return {entry_id: entries[entry_id] for entry_id in ids}
