"""Renderers: FeedSpec in, bytes out; repeatable, from the data only, complete per format."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from feeds.model import Entry, FeedSpec
from feeds.render import render_feed
from feeds.render.jsonfeed import render_json
from feeds.render.site import EMPTY_FEED_DATE, Site
from feeds.render.xmlfeeds import render_atom, render_rss

ZONE = ZoneInfo("Asia/Shanghai")
SITE = Site(title="Newsroom", base_url="https://example.org/news/", formats=("atom", "rss", "json"))
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
PUBLISHED = datetime(2001, 2, 10, 19, 51, 1, tzinfo=ZONE)

FULL = Entry(
    id="tag:example.org,2025:full",
    title="人工智能 & <Chips>",
    published=PUBLISHED,
    updated=PUBLISHED + timedelta(days=2),
    content_html='<p>正文 <a href="https://example.com/a?b=1&amp;c=2">link</a></p>\n',
    summary="Summary with <em> & ampersand",
    link="https://news.example.com/a/1",
    categories=("qq",),
    tags=("AI", "qq"),
    language="zh-CN",
    thumbnail="https://img.example.com/t.jpg?w=1&h=2",
    source_name="qq",
)
BARE = Entry(
    id="tag:example.org,2025:bare",
    title="Bare",
    published=PUBLISHED - timedelta(days=1),
    updated=PUBLISHED - timedelta(days=1),
)


def spec(*entries: Entry, folder: str = "tags/ai") -> FeedSpec:
    kind, term = ("tag", "AI") if folder else ("all", "")
    return FeedSpec(kind, term, folder, f"Newsroom · {kind}: {term}", entries, len(entries))


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


# Repeatable, and from the data only -------------------------------------------------


@pytest.mark.parametrize("render", [render_atom, render_rss, render_json])
def test_same_input_same_bytes(render: object) -> None:
    assert callable(render)
    assert render(spec(FULL, BARE), SITE) == render(spec(FULL, BARE), SITE)


@pytest.mark.parametrize("render", [render_atom, render_rss, render_json])
def test_every_date_comes_from_the_data_never_the_clock(render: object) -> None:
    assert callable(render)
    text = render(spec(FULL, BARE), SITE).decode()
    allowed = {FULL.published, FULL.updated, BARE.published}
    iso = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", text)
    rfc822 = re.findall(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", text)
    found = {datetime.fromisoformat(value) for value in iso}
    found |= {parsedate_to_datetime(value) for value in rfc822}
    assert found and found <= allowed


def test_an_empty_feed_has_a_fixed_date() -> None:
    atom = xml(render_atom(spec(folder=""), SITE))
    assert atom.findtext("a:updated", namespaces=NS) == EMPTY_FEED_DATE.isoformat()
    rss = xml(render_rss(spec(folder=""), SITE))
    assert rss.findtext("channel/lastBuildDate") == "Sat, 01 Jan 2000 00:00:00 +0000"
    assert json.loads(render_json(spec(folder=""), SITE))["items"] == []


# Atom -------------------------------------------------------------------------------


def test_atom_feed_head() -> None:
    data = render_atom(spec(FULL, BARE), SITE)
    lines = data.split(b"\n")
    assert lines[0] == b"<?xml version='1.0' encoding='UTF-8'?>"
    assert (
        lines[1] == b'<?xml-stylesheet type="text/xsl" href="https://example.org/news/feed.xsl"?>'
    )
    feed = xml(data)
    assert feed.findtext("a:id", namespaces=NS) == "tag:example.org,2025:feed/tags/ai"
    assert feed.findtext("a:title", namespaces=NS) == "Newsroom · tag: AI"
    assert feed.findtext("a:updated", namespaces=NS) == FULL.updated.isoformat()
    links = {link.get("rel"): link.get("href") for link in feed.findall("a:link", NS)}
    assert links == {
        "self": "https://example.org/news/tags/ai/atom.xml",
        "alternate": "https://example.org/news/tags/ai/",
    }
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    assert feed.findtext("a:generator", namespaces=NS) == "feeds"


def test_atom_entry_carries_everything() -> None:
    entry = xml(render_atom(spec(FULL), SITE)).find("a:entry", NS)
    assert entry is not None
    assert entry.findtext("a:id", namespaces=NS) == FULL.id
    assert entry.findtext("a:title", namespaces=NS) == FULL.title
    assert entry.findtext("a:published", namespaces=NS) == "2001-02-10T19:51:01+08:00"
    assert entry.findtext("a:updated", namespaces=NS) == "2001-02-12T19:51:01+08:00"
    assert entry.find("a:link", NS).get("href") == FULL.link
    content = entry.find("a:content", NS)
    assert content.get("type") == "html" and content.text == FULL.content_html
    summary = entry.find("a:summary", NS)
    assert summary.text == FULL.summary and summary.get("type") in (None, "text")
    assert entry.findtext("a:author/a:name", namespaces=NS) == "qq"
    terms = [(cat.get("term"), cat.get("scheme")) for cat in entry.findall("a:category", NS)]
    assert terms == [
        ("qq", "https://example.org/news/categories/"),
        ("AI", "https://example.org/news/tags/"),
        ("qq", "https://example.org/news/tags/"),
    ]
    thumbnails = entry.findall("media:thumbnail", NS)
    assert [thumb.get("url") for thumb in thumbnails] == [FULL.thumbnail]
    assert entry.find("media:group", NS) is None  # feedgen's one-child group is invalid


def test_atom_entries_keep_the_plan_order() -> None:
    feed = xml(render_atom(spec(BARE, FULL), SITE))
    assert [e.findtext("a:id", namespaces=NS) for e in feed.findall("a:entry", NS)] == [
        BARE.id,
        FULL.id,
    ]


def test_a_bare_entry_invents_nothing() -> None:
    entry = xml(render_atom(spec(BARE), SITE)).find("a:entry", NS)
    assert entry.find("a:link", NS) is None and entry.find("a:summary", NS) is None
    assert entry.find("a:author", NS) is None and entry.find("media:thumbnail", NS) is None
    assert entry.findtext("a:content", namespaces=NS) == "Bare"  # the title, as escaped HTML
    item = xml(render_rss(spec(BARE), SITE)).find("channel/item")
    assert item.find("link") is None
    assert item.findtext("description") == "Bare"  # feedgen: without a summary, the content
    assert json.loads(render_json(spec(BARE), SITE))["items"][0] == {
        "id": BARE.id,
        "title": "Bare",
        "content_html": "Bare",
        "date_published": BARE.published.isoformat(),
        "date_modified": BARE.updated.isoformat(),
    }


def test_an_entry_without_a_body_shows_its_summary_as_escaped_html() -> None:
    summary_only = Entry(
        id="tag:x,2025:s", title="T", published=PUBLISHED, updated=PUBLISHED, summary="a < b & c"
    )
    content = xml(render_atom(spec(summary_only), SITE)).find("a:entry/a:content", NS)
    assert content.text == "a &lt; b &amp; c"


# RSS --------------------------------------------------------------------------------


def test_rss_channel_links_to_the_page_and_itself() -> None:
    channel = xml(render_rss(spec(FULL), SITE)).find("channel")
    assert channel.findtext("link") == "https://example.org/news/tags/ai/"
    self_link = channel.find("a:link", NS)
    assert self_link.get("rel") == "self"
    assert self_link.get("href") == "https://example.org/news/tags/ai/rss.xml"
    assert channel.findtext("language") == "zh-CN"
    assert channel.findtext("lastBuildDate") == "Mon, 12 Feb 2001 19:51:01 +0800"


def test_rss_item_carries_everything() -> None:
    item = xml(render_rss(spec(FULL), SITE)).find("channel/item")
    guid = item.find("guid")
    assert guid.text == FULL.id and guid.get("isPermaLink") == "false"
    assert item.findtext("link") == FULL.link
    assert item.findtext("pubDate") == "Sat, 10 Feb 2001 19:51:01 +0800"
    assert item.findtext("content:encoded", namespaces=NS) == FULL.content_html
    # <description> is HTML to RSS readers: the plain-text summary is escaped once more.
    assert item.findtext("description") == "Summary with &lt;em&gt; &amp; ampersand"
    assert item.findtext("dc:creator", namespaces=NS) == "qq"
    domains = [(cat.text, cat.get("domain")) for cat in item.findall("category")]
    assert ("AI", "https://example.org/news/tags/") in domains
    assert item.find("media:thumbnail", NS).get("url") == FULL.thumbnail


# JSON Feed 1.1 ----------------------------------------------------------------------


def test_json_feed_top_level() -> None:
    data = render_json(spec(FULL), SITE)
    assert data.endswith(b"}\n") and "人工智能".encode() in data  # UTF-8, not \\u escapes
    document = json.loads(data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "https://example.org/news/tags/ai/feed.json"
    assert document["home_page_url"] == "https://example.org/news/tags/ai/"
    assert document["language"] == "zh-CN"
    assert document["description"] == "Entries of Newsroom filed under the tag “AI”"


def test_json_item_fields() -> None:
    item = json.loads(render_json(spec(FULL), SITE))["items"][0]
    assert item == {
        "id": FULL.id,
        "url": FULL.link,
        "title": FULL.title,
        "content_html": FULL.content_html,
        "summary": FULL.summary,
        "image": FULL.thumbnail,
        "date_published": "2001-02-10T19:51:01+08:00",
        "date_modified": "2001-02-12T19:51:01+08:00",
        "authors": [{"name": "qq"}],
        "tags": ["qq", "AI"],
        "language": "zh-CN",
    }


# Languages and dispatch -------------------------------------------------------------


def test_feed_language_is_the_most_common_one() -> None:
    english = [
        Entry(id=f"e{n}", title="t", published=PUBLISHED, updated=PUBLISHED, language="en")
        for n in range(2)
    ]
    feed = xml(render_atom(spec(FULL, *english), SITE))
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert "language" not in json.loads(render_json(spec(FULL, *english), SITE))


def test_render_feed_writes_the_configured_formats_under_the_folder() -> None:
    only_json = Site(title="N", base_url="https://example.org/", formats=("json",))
    assert list(render_feed(spec(FULL), only_json)) == ["tags/ai/feed.json"]
    assert sorted(render_feed(spec(FULL, folder=""), SITE)) == ["atom.xml", "feed.json", "rss.xml"]


def test_unicode_folders_are_percent_encoded_in_urls() -> None:
    chinese = FeedSpec("tag", "芯片", "tags/芯片", "N · tag: 芯片", (FULL,), 1)
    feed = xml(render_atom(chinese, SITE))
    links = {link.get("rel"): link.get("href") for link in feed.findall("a:link", NS)}
    assert links["self"] == "https://example.org/news/tags/%E8%8A%AF%E7%89%87/atom.xml"
    assert (
        feed.findtext("a:id", namespaces=NS) == "tag:example.org,2025:feed/tags/%E8%8A%AF%E7%89%87"
    )


def test_utc_dates_stay_utc() -> None:
    utc = Entry(
        id="u",
        title="t",
        published=datetime(2001, 1, 1, tzinfo=UTC),
        updated=datetime(2001, 1, 1, tzinfo=UTC),
    )
    assert xml(render_atom(spec(utc), SITE)).findtext("a:entry/a:published", namespaces=NS) == (
        "2001-01-01T00:00:00+00:00"
    )
