"""index.html and the per-term pages: parsed as HTML5 (html5lib, strict), every feed
listed with its count, dates and URLs, autodiscovery, escaping, and the same bytes twice."""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urljoin

import html5lib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.model import Entry, FeedSpec
from feeds.render.index import relative, render_pages
from feeds.render.plan import plan_feeds
from feeds.render.site import Site
from tests.site_server import CHINESE_TAG, build_site

NS = "{http://www.w3.org/1999/xhtml}"
SITE = Site("Site <&> 站点", "https://example.org/feeds/", ("atom", "rss", "json"))
START = datetime(2025, 2, 1, 9, 30, tzinfo=UTC)


def entry(number: int, **kw: object) -> Entry:
    fields: dict[str, object] = {
        "id": f"tag:example.org,2025:{number}",
        "title": f"标题 {number}",
        "published": START + timedelta(hours=number),
        "updated": START + timedelta(hours=number, minutes=5),
        "link": f"https://example.com/{number}",
        "language": "zh-CN",
    }
    fields.update(kw)
    return Entry(**fields)  # type: ignore[arg-type]


ENTRIES = [
    entry(1, tags=("AI", "欧洲"), categories=("News",)),
    entry(2, tags=("ai",), categories=("News",)),
    entry(3, tags=("欧洲",), categories=("Blogs",), title="<script>alert(1)</script> & more"),
    entry(4, tags=("AI",), link="javascript:alert(1)"),
    entry(5, tags=("AI",), link=None),
]


def parse(data: bytes) -> ET.Element:
    """Strict HTML5 parsing: any parse error (bad nesting, stray end tag) raises."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(data, transport_encoding="utf-8")  # type: ignore[no-any-return]


def feed_items(document: ET.Element) -> list[ET.Element]:
    return [li for li in document.iter(f"{NS}li") if li.get("class") == "feed"]


def text(element: ET.Element) -> str:
    return "".join(element.itertext())


def of_class(element: ET.Element, name: str, tag: str = "*") -> list[ET.Element]:
    return [e for e in element.iter(tag if tag == "*" else NS + tag) if e.get("class") == name]


def alternates(document: ET.Element) -> list[tuple[str | None, str | None]]:
    return [
        (link.get("type"), link.get("href"))
        for link in document.iter(f"{NS}link")
        if link.get("rel") == "alternate"
    ]


@pytest.fixture
def feeds() -> tuple[FeedSpec, ...]:
    return plan_feeds(ENTRIES, SITE.title, limit=2).feeds


def test_index_lists_every_feed_with_count_update_and_its_formats(
    feeds: tuple[FeedSpec, ...],
) -> None:
    document = parse(render_pages(feeds, SITE)["index.html"])
    items = feed_items(document)
    assert len(items) == len(feeds)
    for spec, item in zip(feeds, items, strict=True):
        assert item.get("data-kind") == spec.kind
        count = of_class(item, "count", "data")[0]
        assert count.get("value") == str(spec.total)
        newest = max(e.updated for e in spec.entries)
        updated = of_class(item, "updated", "time")[0]
        assert updated.get("datetime") == newest.isoformat()
        links = {a.get("data-format"): a.get("href") for a in item.iter(f"{NS}a")}
        links.pop(None)
        assert links == {fmt: SITE.feed_url(spec, fmt) for fmt in SITE.formats}
        page = of_class(item, "name", "a")[0]
        assert urljoin(SITE.base_url, page.get("href") or "") == SITE.page_url(spec)
    # Case variants are one tag; totals count entries beyond the per-feed limit of 2.
    by_name = {text(of_class(i, "name", "a")[0]): i for i in items}
    assert next(d for d in by_name["AI"].iter(f"{NS}data")).get("value") == "4"


def test_index_has_autodiscovery_viewport_and_no_script(feeds: tuple[FeedSpec, ...]) -> None:
    data = render_pages(feeds, SITE)["index.html"]
    document = parse(data)
    head = document.find(f"{NS}head")
    assert head is not None
    combined = feeds[0]
    assert alternates(head) == [
        ("application/atom+xml", SITE.feed_url(combined, "atom")),
        ("application/rss+xml", SITE.feed_url(combined, "rss")),
        ("application/feed+json", SITE.feed_url(combined, "json")),
    ]
    viewport = [m for m in head.iter(f"{NS}meta") if m.get("name") == "viewport"]
    assert viewport and "width=device-width" in (viewport[0].get("content") or "")
    assert data.startswith(b"<!DOCTYPE html>\n")
    assert document.get("lang") == "zh-CN"
    assert not list(document.iter(f"{NS}script"))
    assert b"<script" not in data
    assert text(head.find(f"{NS}title")) == SITE.title  # type: ignore[arg-type]


def test_titles_are_escaped_and_only_web_links_become_hrefs(feeds: tuple[FeedSpec, ...]) -> None:
    pages = render_pages(feeds, SITE)
    data = pages["categories/blogs/index.html"]
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in data
    assert "Site &lt;&amp;&gt; 站点".encode() in data
    assert b"<script" not in b"".join(pages.values())
    assert b"javascript:" not in b"".join(pages.values())
    titles = {text(t): t for t in of_class(parse(pages["tags/ai/index.html"]), "title")}
    assert titles["标题 5"].tag == f"{NS}span"  # no link at all
    assert titles["标题 4"].tag == f"{NS}span"  # javascript: dropped


def test_a_term_page_lists_its_entries_and_its_feeds(feeds: tuple[FeedSpec, ...]) -> None:
    pages = render_pages(feeds, SITE)
    spec = next(s for s in feeds if s.kind == "tag" and s.term == "AI")
    terms = [s.path("index.html") for s in feeds if s.folder]
    assert sorted(pages) == sorted(["index.html", *terms])
    document = parse(pages[spec.path("index.html")])
    titles = of_class(document, "title")
    assert [text(t) for t in titles] == [e.title for e in spec.entries]
    times = [t.get("datetime") for t in document.iter(f"{NS}time") if t.get("class") != "updated"]
    assert times == [e.published.isoformat() for e in spec.entries]
    assert [href for _, href in alternates(document)] == [
        SITE.feed_url(spec, fmt) for fmt in SITE.formats
    ]
    body = text(document)
    assert "4 entries, the newest 2 shown" in body
    home = next(a for a in document.iter(f"{NS}a") if text(a) == SITE.title)
    assert urljoin(SITE.page_url(spec), home.get("href") or "") == SITE.base_url


def test_only_configured_formats_are_linked() -> None:
    site = Site(title="s", base_url="https://example.org/", formats=("rss",))
    feeds = plan_feeds(ENTRIES, "s", 10).feeds
    pages = render_pages(feeds, site)
    for data in pages.values():
        assert b"atom.xml" not in data and b"feed.json" not in data
        assert b"rss.xml" in data


def test_no_entries_still_gives_a_valid_index() -> None:
    feeds = plan_feeds([], "empty", 10).feeds
    pages = render_pages(feeds, SITE)
    assert list(pages) == ["index.html"]
    document = parse(pages["index.html"])
    assert [i.get("data-kind") for i in feed_items(document)] == ["all"]
    assert "0 entries" in text(document)


def test_same_feeds_same_bytes(feeds: tuple[FeedSpec, ...]) -> None:
    reordered = plan_feeds(list(reversed(ENTRIES)), SITE.title, limit=2).feeds
    assert render_pages(feeds, SITE) == render_pages(reordered, SITE)


def test_every_page_of_the_seeds_build_is_valid_and_complete(
    tmp_path: Path, seeds_copy: Path
) -> None:
    site = build_site(tmp_path, seeds_copy)
    site.listener.close()
    out = site.out
    index = parse((out / "index.html").read_bytes())
    rows = feed_items(index)
    assert len(rows) == len(site.feeds)
    built = [(spec.kind, spec.term, spec.folder, spec.total) for spec in site.report.feeds]
    assert built == [(spec.kind, spec.term, spec.folder, spec.total) for spec in site.feeds]
    for spec, row in zip(site.feeds, rows, strict=True):
        count = next(d for d in row.iter(f"{NS}data"))
        assert count.get("value") == str(spec.total)
        for link in row.iter(f"{NS}a"):
            href = link.get("href") or ""
            target = urljoin(site.settings.base_url, href)
            relative = target.removeprefix(site.settings.base_url)
            path = out / unquote(relative)
            assert path.exists(), href
        if spec.folder:
            page = parse((out / spec.folder / "index.html").read_bytes())
            titles = [text(t) for t in of_class(page, "title")]
            assert titles == [e.title for e in spec.entries]
    chinese = parse((out / "tags" / CHINESE_TAG / "index.html").read_bytes())
    assert "中文标题：订阅测试" in text(chinese)


FOLDERS = st.lists(
    st.sampled_from(["tags", "categories", "a", "b", "中文", "x-y", "."]), max_size=3
)


@given(FOLDERS.map("/".join), FOLDERS.map("/".join))
def test_relative_is_relpath(target: str, here: str) -> None:
    target, here = target or ".", here or "."
    assert relative(target, here) == posixpath.relpath(target, here)
