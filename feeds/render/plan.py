"""Which feeds exist and which entries each holds: a pure function of the entries.

Terms that differ only in case, width or spacing ("Nvidia", "NVIDIA") are one term, as in
Hugo; the first spelling in sorted order names it.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from feeds.model import Entry, FeedSpec
from feeds.render.slugs import assign_slugs


@dataclass(frozen=True)
class Plan:
    feeds: tuple[FeedSpec, ...]
    slugs: dict[tuple[str, str], str]  # (kind, term key) -> slug, to keep for next time


def term_key(term: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", term).casefold().split())


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda entry: (entry.published, entry.updated, entry.id), reverse=True)


def plan_feeds(
    entries: Iterable[Entry],
    site_title: str,
    limit: int,
    known_slugs: Mapping[tuple[str, str], str] | None = None,
) -> Plan:
    ordered = newest_first(entries)
    feeds = [
        FeedSpec("all", "", "", site_title, tuple(ordered[:limit]), len(ordered)),
    ]
    slugs: dict[tuple[str, str], str] = {}
    for kind, folder, attribute in (("tag", "tags", "tags"), ("category", "categories", "categories")):
        groups: dict[str, list[Entry]] = defaultdict(list)
        names: dict[str, str] = {}
        for entry in ordered:
            for term in getattr(entry, attribute):
                key = term_key(term)
                if not key:
                    continue
                groups[key].append(entry)
                names[key] = min(names.get(key, term), term)
        known = {key: slug for (k, key), slug in (known_slugs or {}).items() if k == kind}
        assigned = assign_slugs(groups, known)
        for key in sorted(groups, key=lambda k: assigned[k]):
            members = groups[key]
            slugs[(kind, key)] = assigned[key]
            feeds.append(
                FeedSpec(
                    kind,
                    names[key],
                    f"{folder}/{assigned[key]}",
                    f"{site_title} · {kind}: {names[key]}",
                    tuple(members[:limit]),
                    len(members),
                )
            )
    return Plan(tuple(feeds), slugs)
