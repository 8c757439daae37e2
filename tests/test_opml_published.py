"""feeds.opml lists every published feed, readable by ElementTree and by our own importer."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from feeds.model import Entry, FeedSpec
from feeds.render.opml import render_opml
from feeds.render.plan import plan_feeds
from feeds.render.site import EMPTY_FEED_DATE, Site
from feeds.sources.opml import read_opml

SITE = Site("Site & 站点", "https://example.org/", ("atom", "rss", "json"))
START = datetime(2025, 2, 1, 9, 30, tzinfo=UTC)


def entry(number: int, tags: tuple[str, ...], categories: tuple[str, ...]) -> Entry:
    return Entry(
        id=f"tag:example.org,2025:{number}",
        title=f"标题 {number}",
        published=START + timedelta(days=number),
        updated=START + timedelta(days=number, hours=1),
        tags=tags,
        categories=categories,
    )


FEEDS = plan_feeds(
    [
        entry(1, ("AI", "欧洲"), ("News",)),
        entry(3, ("ai",), ("Blogs",)),
        entry(2, (), ("News",)),
    ],
    SITE.title,
    10,
).feeds


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - our own output, no entities


def outlines(data: bytes) -> list[ET.Element]:
    root = parse(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    return [outline for outline in root.iter("outline") if outline.get("xmlUrl")]


def test_every_feed_is_an_outline_with_its_urls() -> None:
    found = outlines(render_opml(FEEDS, SITE))
    assert len(found) == len(FEEDS) == 1 + 2 + 2
    for spec, outline in zip(FEEDS, found, strict=True):
        assert outline.get("type") == "rss"
        assert outline.get("text") == outline.get("title") == spec.title
        assert outline.get("xmlUrl") == SITE.feed_url(spec, "atom")
        assert outline.get("htmlUrl") == SITE.page_url(spec)


def test_tags_and_categories_are_folders() -> None:
    body = parse(render_opml(FEEDS, SITE)).find("body")
    assert body is not None
    top = list(body)
    assert top[0].get("xmlUrl") == SITE.feed_url(FEEDS[0], "atom")
    assert [(o.get("text"), len(o)) for o in top[1:]] == [
        ("Site & 站点 · Tags", 2),
        ("Site & 站点 · Categories", 2),
    ]


def test_date_created_is_the_newest_entry_not_the_clock() -> None:
    root = parse(render_opml(FEEDS, SITE))
    created = parsedate_to_datetime(root.findtext("head/dateCreated") or "")
    assert created == START + timedelta(days=3, hours=1)
    assert root.findtext("head/title") == SITE.title
    empty = parse(render_opml(plan_feeds([], "e", 10).feeds, SITE))
    assert parsedate_to_datetime(empty.findtext("head/dateCreated") or "") == EMPTY_FEED_DATE


def test_rss_or_json_when_atom_is_not_published() -> None:
    rss_only = Site(SITE.title, SITE.base_url, ("rss", "json"))
    assert {
        o.get("xmlUrl", "").rsplit("/", 1)[1] for o in outlines(render_opml(FEEDS, rss_only))
    } == {"rss.xml"}
    json_only = Site(SITE.title, SITE.base_url, ("json",))
    assert {
        o.get("xmlUrl", "").rsplit("/", 1)[1] for o in outlines(render_opml(FEEDS, json_only))
    } == {"feed.json"}


def test_a_reader_imports_every_feed_in_one_step() -> None:
    # Our own importer stands in for a reader: folders become categories.
    imported = read_opml(render_opml(FEEDS, SITE), "feeds.opml")
    assert [item.url for item in imported] == [SITE.feed_url(spec, "atom") for spec in FEEDS]
    assert [item.category for item in imported] == [
        None,
        *["Site & 站点 · Tags"] * 2,
        *["Site & 站点 · Categories"] * 2,
    ]


def test_same_feeds_same_bytes() -> None:
    again: tuple[FeedSpec, ...] = plan_feeds(
        [
            entry(2, (), ("News",)),
            entry(3, ("ai",), ("Blogs",)),
            entry(1, ("AI", "欧洲"), ("News",)),
        ],
        SITE.title,
        10,
    ).feeds
    assert render_opml(FEEDS, SITE) == render_opml(again, SITE)
