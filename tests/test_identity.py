"""Entry identity: each branch of the chain, canonical links, and ids that never move."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.normalize.identity import (
    ItemKeys,
    canonical_link,
    document_ids,
    identity_link,
    seed_id,
    upstream_id,
)


def test_seed_id_is_a_tag_uri_from_host_and_stem() -> None:
    assert seed_id("http://127.0.0.1:8000/", "000_83a9") == "tag:127.0.0.1,2025:000_83a9"
    assert seed_id("https://example.org/blog/", "a b/c") == "tag:example.org,2025:a%20b%2Fc"


def test_upstream_id_chain_guid_then_link_then_hash() -> None:
    by_guid = upstream_id("src", "g-1", "https://x.example/a", "T", "C")
    assert by_guid == upstream_id("src", "g-1", "https://x.example/other", "T2", "C2")
    by_link = upstream_id("src", None, "https://x.example/a", "T", "C")
    assert by_link == upstream_id("src", None, "HTTPS://X.example:443/a?utm_source=x", "", "")
    assert by_link != by_guid
    by_hash = upstream_id("src", None, None, "T", "C")
    assert by_hash == upstream_id("src", None, None, "T", "C")
    assert by_hash != upstream_id("src", None, None, "T", "C changed")
    assert len({by_guid, by_link, by_hash}) == 3


def test_upstream_ids_are_scoped_by_source() -> None:
    assert upstream_id("a", "g", None, "", "") != upstream_id("b", "g", None, "", "")
    assert upstream_id("my source", "g", None, "", "").startswith("urn:feeds:my%20source:")


def test_a_guid_reused_for_another_link_gets_guid_plus_link() -> None:
    items = [
        ItemKeys("g", "https://x.example/b", "B", ""),
        ItemKeys("g", "https://x.example/a", "A", ""),
        ItemKeys("g", "https://x.example/b?utm_campaign=z", "B again", ""),
        ItemKeys("g", None, "No link", "body"),
    ]
    ids = document_ids("src", items)
    assert ids[0] == upstream_id("src", "g", None, "", "")  # the first keeps the plain guid
    assert ids[1] not in (ids[0], ids[3])
    assert ids[2] == ids[0]  # same guid, same canonical link: a repeat, not a new item
    assert ids[3] != ids[0]


def test_items_without_guid_use_the_link_with_its_fragment() -> None:
    ids = document_ids(
        "src",
        [
            ItemKeys(None, "https://x.example/changes#v2", "v2", ""),
            ItemKeys(None, "https://x.example/changes#v1", "v1", ""),
        ],
    )
    assert ids[0] != ids[1]


def test_the_guid_is_used_as_written() -> None:
    # Never resolved against the feed URL: a moved feed keeps its ids.
    assert document_ids("s", [ItemKeys("12345", None, "", "")]) == [
        upstream_id("s", "12345", None, "", "")
    ]


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://Example.COM/a/b", "https://example.com/a/b"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#section", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&id=3&fbclid=y", "https://example.com/a?id=3"),
        ("https://example.com", "https://example.com/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_canonical_link(url: str, canonical: str) -> None:
    assert canonical_link(url) == canonical


def test_identity_link_keeps_the_fragment() -> None:
    assert identity_link("HTTPS://Example.com/a?utm_source=x#v1") == "https://example.com/a#v1"


_KEYS = st.builds(
    ItemKeys,
    guid=st.sampled_from([None, "g1", "g2"]),
    link=st.sampled_from(
        [None, "https://x.example/1", "https://x.example/2", "https://x.example/1#a"]
    ),
    title=st.sampled_from(["", "t"]),
    content=st.sampled_from(["", "c"]),
)


@given(st.lists(_KEYS, max_size=8), st.lists(_KEYS, max_size=8))
def test_items_appended_later_never_change_earlier_ids(
    first: list[ItemKeys], appended: list[ItemKeys]
) -> None:
    assert document_ids("src", first + appended)[: len(first)] == document_ids("src", first)


@given(st.lists(_KEYS, max_size=8))
def test_items_with_different_keys_never_share_an_id(items: list[ItemKeys]) -> None:
    ids = document_ids("src", items)
    for i, a in enumerate(items):
        for j, b in enumerate(items[:i]):
            if ids[i] != ids[j]:
                continue
            assert a.guid == b.guid
            if a.guid is None and a.link and b.link:
                assert identity_link(a.link) == identity_link(b.link)
            elif a.guid is None:
                assert (a.link, a.title, a.content) == (b.link, b.title, b.content)
