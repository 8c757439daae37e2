"""Which feeds exist and which entries each holds: a pure function of the entries.

Terms that differ only in case, width or spacing ("Nvidia", "NVIDIA") are one term, as in
Hugo; the first spelling in sorted order names it. An entry carrying both spellings is in
that term's feed once.

Every text of every entry is made XML-safe before it is planned: plan_feeds does it (entries
the caller knows to be safe already are not checked again); plan_items takes the items of
safe entries (merge/items.py items_of), as a build does: one control character from an
upstream would otherwise make lxml refuse the whole feed.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from feeds.merge.items import Item
from feeds.model import Entry, FeedSpec
from feeds.normalize.content import xml_clean, xml_safe
from feeds.render.slugs import assign_slugs

# (kind, folder under out/, Entry attribute)
KINDS = (("tag", "tags", "tags"), ("category", "categories", "categories"))


@dataclass(frozen=True)
class Plan:
    feeds: tuple[FeedSpec, ...]
    slugs: dict[tuple[str, str], str]  # (kind, term key) -> slug, to keep for next time


@lru_cache(maxsize=65536)
def term_key(term: str) -> str:
    # Cached: a corpus has a few hundred terms, spelled on tens of thousands of entries.
    return " ".join(unicodedata.normalize("NFKC", term).casefold().split())


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(
        entries, key=lambda entry: (entry.published, entry.updated, entry.id), reverse=True
    )


def plan_feeds(
    entries: Iterable[Entry],
    site_title: str,
    limit: int,
    known_slugs: Mapping[tuple[str, str], str] | None = None,
    safe: Callable[[Entry], bool] = lambda entry: False,
) -> Plan:
    """`safe`: whether an entry is known to be XML-safe already (the article cache's
    entries are: parse_article makes them so), which spares checking it."""
    ordered = newest_first(entry if safe(entry) else xml_safe(entry) for entry in entries)
    feeds, slugs = _layout(ordered, site_title, limit, known_slugs)
    specs = (
        FeedSpec(kind, term, folder, title, tuple(members), total)
        for kind, term, folder, title, members, total in feeds
    )
    return Plan(tuple(specs), slugs)


@dataclass(frozen=True, slots=True)
class PlannedFeed:
    """A feed planned over items: its spec (without entries; `updated` set) and its items."""

    spec: FeedSpec
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ItemPlan:
    feeds: tuple[PlannedFeed, ...]
    slugs: dict[tuple[str, str], str]


def plan_items(
    items: Iterable[Item],
    site_title: str,
    limit: int,
    known_slugs: Mapping[tuple[str, str], str] | None = None,
) -> ItemPlan:
    """plan_feeds over the light items of entries made XML-safe (merge/items.py): the
    same feeds, the same members in the same order."""
    ordered = sorted(items, key=lambda item: (item.published, item.updated, item.id), reverse=True)
    feeds, slugs = _layout(ordered, site_title, limit, known_slugs)
    planned = []
    for kind, term, folder, title, members, total in feeds:
        # The first of the newest, as max() over the entries' datetimes picks it.
        newest = max(members, key=lambda item: item.updated).updated_at if members else None
        spec = FeedSpec(kind, term, folder, title, (), total, newest)
        planned.append(PlannedFeed(spec, tuple(members)))
    return ItemPlan(tuple(planned), slugs)


_T = TypeVar("_T", Entry, Item)
# (kind, term, folder, title, the first `limit` members, members in all)
_Feed = tuple[str, str, str, str, list[_T], int]


def _layout(
    ordered: list[_T],
    site_title: str,
    limit: int,
    known_slugs: Mapping[tuple[str, str], str] | None,
) -> tuple[list[_Feed[_T]], dict[tuple[str, str], str]]:
    site_title = xml_clean(site_title)
    feeds: list[_Feed[_T]] = [("all", "", "", site_title, ordered[:limit], len(ordered))]
    slugs: dict[tuple[str, str], str] = {}
    for kind, folder, attribute in KINDS:
        groups, names = _group(ordered, attribute)
        known = {key: slug for (k, key), slug in (known_slugs or {}).items() if k == kind}
        assigned = assign_slugs(groups, known)
        for key in sorted(groups, key=lambda k: assigned[k]):
            members = groups[key]
            slugs[(kind, key)] = assigned[key]
            title = f"{site_title} · {kind}: {names[key]}"
            folder_path = f"{folder}/{assigned[key]}"
            feeds.append((kind, names[key], folder_path, title, members[:limit], len(members)))
    return feeds, slugs


def _group(ordered: list[_T], attribute: str) -> tuple[dict[str, list[_T]], dict[str, str]]:
    """Entries per term key (each entry once per key, order kept) and each key's name."""
    groups: dict[str, list[_T]] = defaultdict(list)
    keys: dict[str, str] = {}  # term -> its key: a corpus spells a few hundred terms
    for entry in ordered:
        for term in getattr(entry, attribute):
            key = keys.get(term)
            if key is None:
                key = keys[term] = term_key(term)
            if key:
                members = groups[key]
                if not members or members[-1] is not entry:  # two spellings of one term
                    members.append(entry)
    names: dict[str, str] = {}
    for term, key in keys.items():
        if key:
            names[key] = min(names.get(key, term), term)
    return groups, names
