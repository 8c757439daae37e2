"""seeds/ through the article cache: only new and changed files are read and parsed, and a
body is rendered only when its entry lands in a feed that is being rendered (then kept).

`read_seeds_cached` gives the seed entries with an empty content_html, and a SeedContents
that knows where each one's HTML is: `load` fills it in (from the cache, or rendered from
the file, spread over the cores); each row's HTML digest (merge/items.py Item.content)
tells whether it changed without loading it. Bad articles go to the report as with
pipeline.read_seeds, in the same order and words.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from feeds.errors import ArticleError, FeedsError
from feeds.merge.article_cache import ArticleCache, Row, fingerprint
from feeds.merge.store import Store
from feeds.model import Entry
from feeds.normalize.article import read_article
from feeds.normalize.batch import (
    Parsed,
    ParseJob,
    RenderJob,
    parse_articles,
    render_bodies,
)
from feeds.normalize.content import html_digest
from feeds.normalize.dates import file_time
from feeds.settings import Settings
from feeds.sources.local import ArticleFile, list_articles

Progress = Callable[[int, int], None]
# HTML published before for some of these entry ids (by id): a cache, checked by digest.
Earlier = Callable[[set[str]], Mapping[str, str]]


class Report(Protocol):
    """What read_seeds_cached reports into (pipeline.BuildReport)."""

    articles: int
    drafts: int
    rejected: list[FeedsError]


@dataclass
class Seed:
    row: Row
    location: str  # the file's path


class SeedContents:
    """The HTML of the seed entries of one build, loaded on demand."""

    def __init__(
        self,
        cache: ArticleCache,
        settings: Settings,
        seeds: dict[str, Seed],
        *,
        same_ids: bool = False,
    ) -> None:
        self.cache = cache
        self.settings = settings
        self.seeds = seeds  # entry id -> its article (those of one patch only: merge/patch.py)
        self.fresh: dict[str, str] = {}  # entry id -> the digest of HTML rendered just now
        self.same_ids = same_ids  # whether an article was rejected for another's id

    def load(self, ids: Collection[str], earlier: Earlier | None = None) -> dict[str, str]:
        """The HTML of these seed entries (XML-safe: sanitize_html), rendered now (spread
        over the cores).

        Only digests are kept between builds, not the HTML (the bodies of 50,000 articles
        would be 400 MB of the store). `earlier` may offer HTML published before (the feeds
        about to be rewritten hold most of the entries they will hold again): what matches
        an entry's HTML digest is taken as it is, the rest rendered."""
        html = self._earlier(ids, earlier) if earlier is not None else {}
        if len(html) < len(ids):
            html.update(self._render([entry_id for entry_id in ids if entry_id not in html]))
        return html

    def _earlier(self, ids: Collection[str], earlier: Earlier) -> dict[str, str]:
        known = {
            entry_id: digest
            for entry_id in ids
            if (digest := self.seeds[entry_id].row.html_digest) is not None
        }
        if not known:
            return {}
        return {
            entry_id: html
            for entry_id, html in earlier(set(known)).items()
            if entry_id in known and html_digest(html) == known[entry_id]
        }

    def _render(self, ids: list[str]) -> dict[str, str]:
        wanted = [self.seeds[entry_id] for entry_id in ids]
        jobs = [
            RenderJob(seed.row.name, seed.location, seed.row.digest, _link(seed)) for seed in wanted
        ]
        html: dict[str, str] = {}
        fresh: list[tuple[str, str, str]] = []
        for entry_id, seed, rendered in zip(ids, wanted, render_bodies(jobs), strict=True):
            if rendered.html is None:
                # Changed since it was parsed in this build: render it as it is now, and let
                # the next build (which the change triggers) parse it again.
                html[entry_id] = self._read_now(seed)
                continue
            html[entry_id] = rendered.html
            digest = rendered.digest or html_digest(rendered.html)
            if digest != seed.row.html_digest:
                fresh.append((seed.row.name, seed.row.digest, digest))
                seed.row = replace(seed.row, html_digest=digest)
                self.fresh[entry_id] = digest
        self.cache.save_html_digests(fresh)
        return html

    def _read_now(self, seed: Seed) -> str:
        try:
            path = Path(seed.location)
            data = path.read_bytes()
            modified = file_time(path.stat().st_mtime_ns, self.settings.zone)
            entry = read_article(
                seed.row.name, data, self.settings.base_url, self.settings.zone, modified
            )
        except (OSError, ArticleError):
            return ""
        self.cache.forget([seed.row.name])
        return entry.content_html


def _link(seed: Seed) -> str | None:
    return seed.row.entry.link if seed.row.entry else None


def read_seeds_cached(
    settings: Settings,
    store: Store,
    report: Report,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    articles: list[ArticleFile] | None = None,
    deferred: bool = False,
) -> tuple[list[Entry], SeedContents]:
    """Every article of seeds/ (as listed in `articles`, when the caller has listed them)
    as an Entry without content; bad ones go to report.rejected (or raise with strict).
    `deferred`: the article cache's writes wait for contents.cache.flush()."""
    print_ = fingerprint(settings.base_url, settings.timezone)
    cache = ArticleCache(store, print_, settings.zone, deferred=deferred)
    if articles is None:
        articles = list_articles(settings.seeds)
    rows = cache.rows()
    stale = [article for article in articles if not is_fresh(article, rows.get(article.name))]
    if progress is not None:
        done = len(articles) - len(stale)
        progress(done, len(articles))
    jobs = [parse_job(article, settings) for article in stale]

    def parsed_one(count: int) -> None:
        if progress is not None:
            progress(len(articles) - len(stale) + count, len(articles))

    errors = update_rows(cache, rows, parse_articles(jobs, parsed_one))
    listed = {article.name for article in articles}
    cache.forget([name for name in rows if name not in listed or name in errors])
    return _collect(articles, rows, errors, report, strict, cache, settings)


def is_fresh(article: ArticleFile, row: Row | None) -> bool:
    """Whether the row was made from the file as it is (same size and mtime)."""
    return row is not None and (row.size, row.mtime_ns) == (article.size, article.mtime_ns)


def parse_job(article: ArticleFile, settings: Settings) -> ParseJob:
    name, path = article.name, article.location
    return ParseJob(name, path, article.mtime_ns, settings.base_url, settings.timezone)


def update_rows(
    cache: ArticleCache, rows: dict[str, Row], parsed: Iterable[Parsed]
) -> dict[str, ArticleError]:
    """Fold this build's parses into `rows` (and the cache) as they arrive; the errors by
    name."""
    errors: dict[str, ArticleError] = {}
    changed: list[Row] = []
    # The parsed entries the rows take, encoded and digested by the workers.
    texts: dict[str, tuple[str, str]] = {}
    for result in parsed:
        error = result.error
        if error is not None:
            errors[result.name] = error
            continue
        old = rows.get(result.name)
        if old is not None and old.digest == result.digest:
            # Same bytes, new mtime (touched): the entry stays, `updated` included.
            row = replace(old, size=result.size, mtime_ns=result.mtime_ns)
        else:
            fields = (result.name, result.size, result.mtime_ns, result.digest, result.entry)
            row = Row(*fields, None, result.text_digest)
            if result.text is not None and result.text_digest is not None:
                texts[result.name] = (result.text, result.text_digest)
        changed.append(row)
        if len(changed) == _SAVE_EVERY:  # saved as they come, while the others are parsed
            rows.update((row.name, row) for row in cache.save(changed, texts))
            changed, texts = [], {}
    rows.update((row.name, row) for row in cache.save(changed, texts))
    return errors


_SAVE_EVERY = 1000  # rows


def _collect(
    articles: list[ArticleFile],
    rows: dict[str, Row],
    errors: dict[str, ArticleError],
    report: Report,
    strict: bool,
    cache: ArticleCache,
    settings: Settings,
) -> tuple[list[Entry], SeedContents]:
    entries: list[Entry] = []
    seeds: dict[str, Seed] = {}
    same_ids = False
    for article in articles:
        error = errors.get(article.name)
        row = rows.get(article.name)
        if error is None and row is not None and row.entry is not None:
            first = seeds.get(row.entry.id)
            if first is not None:
                message = f"same file name (id) as {first.row.name}; skipped"
                error = ArticleError(article.name, message)
                same_ids = True
        if error is not None:
            if strict:
                raise error
            report.rejected.append(error)
        elif row is None or row.entry is None:
            report.drafts += 1
        else:
            seeds[row.entry.id] = Seed(row, article.location)
            entries.append(row.entry)
            report.articles += 1
    return entries, SeedContents(cache, settings, seeds, same_ids=same_ids)
