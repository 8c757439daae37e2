"""The one orchestrator: knows the stage order; the CLI, the scheduler and the tests call it.

    seeds/ ─┐
            ├─ normalize ─ merge ─ plan ─ render ─ write out/
    store ──┘

Read everything, then write everything; a path is never written twice in one run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from feeds.errors import ArticleError, FeedsError, PublishError
from feeds.model import Entry, FeedSpec
from feeds.normalize.article import Draft, parse_article, render_article
from feeds.normalize.dates import file_time
from feeds.publish.write import WriteReport, write_tree
from feeds.render import render_feed
from feeds.render.index import render_pages
from feeds.render.opml import OPML_FILE, render_opml
from feeds.render.plan import plan_feeds
from feeds.render.site import STYLESHEET, Site
from feeds.render.stylesheet import stylesheet
from feeds.settings import Settings
from feeds.sources.local import list_articles, read_bytes

Progress = Callable[[int], None]


@dataclass
class BuildReport:
    articles: int = 0
    drafts: int = 0
    rejected: list[FeedsError] = field(default_factory=list)
    source_errors: list[FeedsError] = field(default_factory=list)
    feeds: tuple[FeedSpec, ...] = ()
    write: WriteReport = field(default_factory=WriteReport)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.source_errors or self.write.errors)

    def summary(self) -> str:
        return (
            f"articles: {self.articles} read, {len(self.rejected)} rejected; "
            f"feeds: {len(self.write.written)} written, {len(self.write.unchanged)} unchanged, "
            f"{len(self.write.removed)} removed; {self.seconds:.2f} s"
        )


def site_of(settings: Settings) -> Site:
    return Site(title=settings.title, base_url=settings.base_url, formats=settings.formats)


def read_seeds(settings: Settings, report: BuildReport, *, strict: bool = False) -> list[Entry]:
    """Every article of seeds/ as an Entry; bad ones go to report.rejected (or raise)."""
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for article in list_articles(settings.seeds):
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
    files: dict[str, bytes] = {}
    for spec in feeds:
        for path, data in render_feed(spec, site).items():
            if path in files:
                raise PublishError(path, "two feeds want the same file; refusing to write it twice")
            files[path] = data
    return files


def render_site(feeds: tuple[FeedSpec, ...], site: Site) -> dict[str, bytes]:
    """Every feed plus the files for people: index pages, feeds.opml and feed.xsl."""
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


def build(settings: Settings, *, strict: bool = False) -> BuildReport:
    """One whole build: read, merge, plan, render, write. Never raises for one bad input."""
    started = time.perf_counter()
    report = BuildReport()
    entries = read_seeds(settings, report, strict=strict)
    plan = plan_feeds(entries, settings.title, settings.limit)
    report.feeds = plan.feeds
    files = render_site(plan.feeds, site_of(settings))
    report.write = write_tree(settings.out, files)
    report.seconds = time.perf_counter() - started
    return report
