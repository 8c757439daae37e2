"""merge_entries: examples for each rule, then properties over generated inputs (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.merge.dedupe import merge_entries
from feeds.model import Entry
from feeds.normalize.identity import canonical_link

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def entry(
    id: str,
    origin: str,
    link: str | None = None,
    hours: int = 0,
    tags: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> Entry:
    when = T0 + timedelta(hours=hours)
    return Entry(
        id=id,
        title=id,
        published=when,
        updated=when,
        link=link,
        tags=tags,
        categories=categories,
        origin=origin,
    )


def test_seed_wins_over_an_upstream_copy_with_the_same_canonical_link() -> None:
    seed = entry("tag:site,2025:a", "seed:a.md", "https://News.example/a", 5, ("mine",), ("Site",))
    copy = entry(
        "urn:feeds:up:1",
        "upstream:up",
        "HTTPS://news.example:443/a?utm_source=rss#top",
        1,
        ("theirs", "mine"),
        ("Up",),
    )
    assert merge_entries([seed], [copy]) == [
        replace(seed, tags=("mine", "theirs"), categories=("Site", "Up"))
    ]


def test_earliest_upstream_copy_wins_then_the_smaller_id() -> None:
    late = entry("urn:b:1", "upstream:b", "https://x.example/p", 2, ("b",))
    early = entry("urn:c:1", "upstream:c", "https://x.example/p", 1, ("c",))
    tie = entry("urn:a:1", "upstream:a", "https://x.example/p", 1, ("a",))
    merged = merge_entries([], [late, early, tie])
    assert merged == [replace(tie, tags=("a", "c", "b"))]


def test_same_id_is_one_entry_even_without_a_link() -> None:
    stored = entry("urn:up:1", "upstream:up", None, 3, ("old",))
    fresh = entry("urn:up:1", "upstream:up", None, 4, ("new",))
    assert merge_entries([], [fresh, stored]) == [replace(stored, tags=("old", "new"))]


def test_one_source_linking_one_page_twice_keeps_both_items() -> None:
    # A changelog feed: every item links the same page with a different #anchor.
    first = entry("urn:log:1", "upstream:log", "https://x.example/changes#v1", 1)
    second = entry("urn:log:2", "upstream:log", "https://x.example/changes#v2", 2)
    assert merge_entries([], [first, second]) == [second, first]


def test_two_seeds_sharing_a_link_are_both_kept() -> None:
    one = entry("tag:site,2025:one", "seed:one.md", "https://x.example/story", 1)
    two = entry("tag:site,2025:two", "seed:two.md", "https://x.example/story", 2)
    assert merge_entries([one, two], []) == [two, one]


def test_copies_connect_transitively() -> None:
    # a and b share an id; b and c (another source) share a link: one article.
    a = entry("urn:up:1", "upstream:up", "https://x.example/old-url", 1, ("a",))
    b = entry("urn:up:1", "upstream:up", "https://x.example/new-url", 2, ("b",))
    c = entry("urn:other:9", "upstream:other", "https://x.example/new-url", 3, ("c",))
    assert merge_entries([], [c, b, a]) == [replace(a, tags=("a", "b", "c"))]


def test_output_is_newest_first() -> None:
    entries = [entry(f"urn:s:{n}", "upstream:s", f"https://x.example/{n}", n) for n in (2, 5, 1)]
    assert [e.id for e in merge_entries([], entries)] == ["urn:s:5", "urn:s:2", "urn:s:1"]


# --- properties --------------------------------------------------------------------------

_LINKS = st.sampled_from(
    [
        None,
        "https://a.example/1",
        "HTTPS://A.example:443/1?utm_medium=x",
        "https://a.example/1#frag",
        "https://a.example/2",
        "http://b.example/1",
    ]
)
_WHEN = st.builds(
    lambda hours, offset: (T0 + timedelta(hours=hours)).astimezone(
        timezone(timedelta(hours=offset))
    ),
    st.integers(0, 3),
    st.sampled_from([0, 2, -5]),
)
_TERMS = st.lists(st.sampled_from(["x", "y", "z", "Z"]), max_size=3, unique=True).map(tuple)


def _entries(ids: list[str], origins: list[str]) -> st.SearchStrategy[Entry]:
    return st.builds(
        Entry,
        id=st.sampled_from(ids),
        title=st.sampled_from(["t1", "t2"]),
        published=_WHEN,
        updated=_WHEN,
        link=_LINKS,
        tags=_TERMS,
        categories=_TERMS,
        origin=st.sampled_from(origins),
    )


_SEEDS = st.lists(
    _entries(["tag:s:1", "tag:s:2", "tag:s:3", "shared"], ["seed:a.md", "seed:b.md"]),
    max_size=4,
    unique_by=lambda e: e.id,  # seeds/ never holds two articles with one id
)
_UPSTREAM = st.lists(
    _entries(["urn:u:1", "urn:u:2", "urn:v:1", "shared"], ["upstream:u", "upstream:v"]),
    max_size=8,
)


def _split(entries: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    return [e for e in entries if e.is_seed], [e for e in entries if not e.is_seed]


def _source(e: Entry) -> str:
    return "seed" if e.is_seed else e.origin


@settings(max_examples=300, deadline=None)
@given(seeds=_SEEDS, upstream=_UPSTREAM, data=st.data())
def test_merging_is_order_independent(
    seeds: list[Entry], upstream: list[Entry], data: st.DataObject
) -> None:
    shuffled_seeds = data.draw(st.permutations(seeds))
    shuffled_upstream = data.draw(st.permutations(upstream))
    assert merge_entries(shuffled_seeds, shuffled_upstream) == merge_entries(seeds, upstream)


@settings(max_examples=300, deadline=None)
@given(seeds=_SEEDS, upstream=_UPSTREAM)
def test_merging_is_idempotent(seeds: list[Entry], upstream: list[Entry]) -> None:
    once = merge_entries(seeds, upstream)
    assert merge_entries(*_split(once)) == once


@settings(max_examples=300, deadline=None)
@given(seeds=_SEEDS, upstream=_UPSTREAM)
def test_no_upstream_copy_of_a_seed_survives(seeds: list[Entry], upstream: list[Entry]) -> None:
    seed_ids = {s.id for s in seeds}
    seed_links = {canonical_link(s.link) for s in seeds if s.link}
    for kept in merge_entries(seeds, upstream):
        if not kept.is_seed:
            assert kept.id not in seed_ids
            assert kept.link is None or canonical_link(kept.link) not in seed_links


@settings(max_examples=300, deadline=None)
@given(seeds=_SEEDS, upstream=_UPSTREAM)
def test_output_is_unique_and_loses_no_term(seeds: list[Entry], upstream: list[Entry]) -> None:
    merged = merge_entries(seeds, upstream)
    assert len({e.id for e in merged}) == len(merged)
    # Two kept entries may share a canonical link only when one source published both.
    sources_by_link: dict[str, set[str]] = {}
    for e in merged:
        if e.link:
            sources_by_link.setdefault(canonical_link(e.link), set()).add(_source(e))
    assert all(len(sources) == 1 for sources in sources_by_link.values())
    inputs = [*seeds, *upstream]
    assert {t for e in merged for t in e.tags} == {t for e in inputs for t in e.tags}
    assert {c for e in merged for c in e.categories} == {c for e in inputs for c in e.categories}
    originals = {replace(e, tags=(), categories=()) for e in inputs}
    assert all(replace(e, tags=(), categories=()) in originals for e in merged)
