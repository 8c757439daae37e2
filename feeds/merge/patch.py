"""A build after a few seed edits: the last build's items (merge/items.py), with those of
the edited, new and deleted articles replaced, instead of every entry read and merged.

Taken only when it gives what the whole way would: the last build's items are current
(same settings, code, upstream entries and sources: ItemTable.take), it rejected no article
for another's id, few articles changed, and no changed article (as it was or as it is)
merges with anything: its id is no other entry's, its link no upstream entry's. Else
`patch_items` returns None before it reports anything, and the build goes the whole way
(the articles it parsed stay in the article cache, so they are not parsed twice).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Set
from dataclasses import dataclass

from feeds.errors import ArticleError
from feeds.merge.article_cache import ArticleCache, Row, fingerprint
from feeds.merge.items import Item, ItemTable, Kept, item_of, shown_digest
from feeds.merge.seeds import Progress, Report, Seed, SeedContents, parse_job, update_rows
from feeds.merge.store import Store
from feeds.model import Entry
from feeds.normalize.article import article_id
from feeds.normalize.batch import parse_articles
from feeds.normalize.identity import canonical_link
from feeds.settings import Settings
from feeds.sources.local import ArticleFile

# Changed articles above which the whole way is as fast (it reads every entry at once).
LIMIT = 200


@dataclass
class Patched:
    items: dict[str, Item]
    contents: SeedContents  # the seeds resolved so far (resolve adds those it gives)
    resolve: Callable[[Collection[str]], dict[str, Entry]]


def patch_items(
    settings: Settings,
    store: Store,
    report: Report,
    articles: list[ArticleFile],
    table: ItemTable,
    kept: Kept,
    upstream: Collection[str],
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> Patched | None:
    """The items of this build from the last build's (`kept`, taken from `table`, current),
    or None. `upstream`: the enabled sources, whose stored entries the items include."""
    if not kept.current or kept.same_ids:
        return None
    cache = ArticleCache(store, fingerprint(settings.base_url, settings.timezone), settings.zone)
    stamps = cache.stamps()
    # One pass over every file; the rest goes over the changed ones only.
    stamp_of = {name: (size, mtime) for name, size, mtime, _ in stamps}
    listed = {article.name: article for article in articles}
    stale = [a for a in articles if stamp_of.get(a.name) != (a.size, a.mtime_ns)]
    gone = [name for name in stamp_of if name not in listed]
    cached = stamp_of.keys()
    if len(stale) + len(gone) > LIMIT:
        return None
    with_entry = {name for name, _, _, has_entry in stamps if has_entry}
    before = [_item(kept.items, name, settings.base_url) for name in _names(stale) + gone]
    old = [item for item in before if item is not None]
    if any(item.merged for item in old):
        return None

    if progress is not None:
        progress(len(articles) - len(stale), len(articles))

    def parsed_one(count: int) -> None:
        if progress is not None:
            progress(len(articles) - len(stale) + count, len(articles))

    rows = cache.rows_for(name for name in _names(stale) if name in cached)
    jobs = [parse_job(article, settings) for article in stale]
    errors = update_rows(cache, rows, parse_articles(jobs, parsed_one))
    cache.forget(gone + [name for name in errors if name in cached])

    items = dict(kept.items)
    for item in old:
        del items[item.id]
    ids, links = _upstream_keys(store, upstream)
    for article in stale:
        row = rows.get(article.name)
        if article.name in errors or row is None or row.entry is None:
            continue
        entry = row.entry
        if entry.id in items or entry.id in ids:
            return None
        if entry.link and canonical_link(entry.link) in links:
            return None
        shown = row.entry_digest or shown_digest(entry)  # as items_of digests it
        items[entry.id] = item_of(entry, shown, row.html_digest, row.name, False)

    _report(report, listed.keys(), cached, with_entry, stale, rows, errors, strict)
    contents = SeedContents(cache, settings, {})
    resolver = _Resolver(settings, cache, table, items, listed, rows, contents)
    return Patched(items, contents, resolver.resolve)


def _upstream_keys(store: Store, sources: Collection[str]) -> tuple[set[str], set[str]]:
    keys = store.entry_keys(sources)
    return {key for key, _ in keys}, {canonical_link(link) for _, link in keys if link}


def _report(
    report: Report,
    listed: Set[str],
    cached: Set[str],
    with_entry: set[str],
    stale: list[ArticleFile],
    rows: dict[str, Row],
    errors: dict[str, ArticleError],
    strict: bool,
) -> None:
    """The counts the whole way reports (merge/seeds.py _collect): the unchanged files as
    the cache held them, then the changed ones as they are now; errors in listing order."""
    changed = set(_names(stale))
    entries = with_entry & listed
    drafts = (cached - with_entry) & listed
    report.articles += len(entries) - len(entries & changed)
    report.drafts += len(drafts) - len(drafts & changed)
    for article in stale:
        error = errors.get(article.name)
        if error is not None:
            if strict:
                raise error
            report.rejected.append(error)
        elif rows[article.name].entry is not None:
            report.articles += 1
        else:
            report.drafts += 1


def _item(items: Mapping[str, Item], name: str, base_url: str) -> Item | None:
    """The item of the article `name` in `items`, if it has one (its id is its name's)."""
    item = items.get(article_id(name, base_url))
    return item if item is not None and item.seed == name else None


def _names(articles: list[ArticleFile]) -> list[str]:
    return [article.name for article in articles]


@dataclass
class _Resolver:
    settings: Settings
    cache: ArticleCache
    table: ItemTable
    items: dict[str, Item]
    listed: dict[str, ArticleFile]
    rows: dict[str, Row]  # rows read already (the changed articles')
    contents: SeedContents

    def resolve(self, ids: Collection[str]) -> dict[str, Entry]:
        """Whole entries of these items (a seed's without its HTML, which `contents` can
        load: the seeds among them are added to it)."""
        wanted = [self.items[entry_id] for entry_id in ids]
        names = [item.seed for item in wanted if item.seed is not None]
        rows = {name: self.rows[name] for name in names if name in self.rows}
        rows.update(self.cache.rows_for(name for name in names if name not in rows))
        found: dict[str, Entry] = {}
        for name, row in rows.items():
            if row.entry is None:
                continue
            self.contents.seeds[row.entry.id] = Seed(row, self.listed[name].location)
            found[row.entry.id] = row.entry
        whole = [item.id for item in wanted if item.whole]
        found.update(self.table.entries(whole, self.settings.zone))
        return found
