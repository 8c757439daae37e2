"""One article, one entry: seeds and upstream copies of the same article are merged.

Two entries are copies of one article when they share an id, or when they come from two
different sources and share a canonical link (scheme and host lower-cased, default port,
fragment and tracking parameters dropped). Within one source the id alone decides: a
changelog feed that links every item to one page with different #anchors has many items.
Copies connect transitively (A shares an id with B, B a link with C: one article).

Of each group one entry is kept:
- a seed wins over every upstream copy (earliest published, then id, among seeds);
- else the earliest published upstream copy, then the smallest id, then the rest of the
  entry as a tie-break, so the winner never depends on input order;
- the kept entry carries the union of every copy's tags and categories: its own first, then
  the others' in the winner order.
The output is sorted newest first (published, updated, id), like the feeds it feeds.

Pure: no store, no I/O. merge_entries(merge_entries(x)) == merge_entries(x).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from feeds.model import Entry
from feeds.normalize.identity import canonical_link


def merge_entries(seeds: Iterable[Entry], upstream: Iterable[Entry]) -> list[Entry]:
    """Seeds and upstream entries, with every article once."""
    return merge_traced(seeds, upstream)[0]


def merge_traced(seeds: Iterable[Entry], upstream: Iterable[Entry]) -> tuple[list[Entry], set[str]]:
    """merge_entries, and the ids of the entries made of more than one copy."""
    seeds, upstream = list(seeds), list(upstream)
    if not upstream and len({entry.id for entry in seeds}) == len(seeds):
        # Seeds alone never merge (distinct ids; links join across sources only): skip the
        # grouping, which canonicalizes every link.
        return sorted(seeds, key=lambda e: (e.published, e.updated, e.id), reverse=True), set()
    candidates = [(True, entry) for entry in seeds] + [(False, entry) for entry in upstream]
    groups = _groups(candidates)
    merged = [_merge(group) for group in groups]
    copies = {entry.id for entry, group in zip(merged, groups, strict=True) if len(group) > 1}
    return sorted(merged, key=lambda e: (e.published, e.updated, e.id), reverse=True), copies


Candidate = tuple[bool, Entry]  # (is a seed, entry)


def _groups(candidates: list[Candidate]) -> list[list[Candidate]]:
    parent = list(range(len(candidates)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def join(first: int, second: int) -> None:
        parent[root(first)] = root(second)

    by_id: dict[str, int] = {}
    by_link: dict[str, dict[str, list[int]]] = {}  # canonical link -> source -> indexes
    for index, (is_seed, entry) in enumerate(candidates):
        join(index, by_id.setdefault(entry.id, index))
        if entry.link:
            sources = by_link.setdefault(canonical_link(entry.link), {})
            sources.setdefault(_source(is_seed, entry), []).append(index)
    # A link shared across two or more sources joins every entry that has it; a link used
    # by one source alone joins nothing. Decided per link, so input order cannot matter.
    for sources in by_link.values():
        if len(sources) > 1:
            indexes = [index for members in sources.values() for index in members]
            for index in indexes[1:]:
                join(index, indexes[0])
    groups: dict[int, list[Candidate]] = {}
    for index, candidate in enumerate(candidates):
        groups.setdefault(root(index), []).append(candidate)
    return list(groups.values())


def _source(is_seed: bool, entry: Entry) -> str:
    # All seeds are one source: two articles of seeds/ are never merged by their links.
    return "seed" if is_seed else "upstream:" + (entry.origin or entry.source_name or "")


def _merge(group: list[Candidate]) -> Entry:
    if len(group) == 1:  # most articles: no ranking (its repr of each entry is costly)
        return group[0][1]
    ordered = sorted(group, key=_rank)
    winner = ordered[0][1]
    if len(ordered) == 1:
        return winner
    tags = _union(entry.tags for _, entry in ordered)
    categories = _union(entry.categories for _, entry in ordered)
    if tags == winner.tags and categories == winner.categories:
        return winner
    return replace(winner, tags=tags, categories=categories)


def _rank(candidate: Candidate) -> tuple[object, ...]:
    is_seed, entry = candidate
    # Everything after the id only breaks ties between different copies that share an id.
    return (not is_seed, entry.published, entry.id, entry.updated, entry.origin, repr(entry))


def _union(lists: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for terms in lists:
        for term in terms:
            seen.setdefault(term)
    return tuple(seen)
