"""Entry rows of the HTML pages are rendered once and reused by every page that lists the
entry (feeds/render/index.py). These tests render pages of awkward entries through that
cache and compare them with a straightforward rendering: the list template as it read before
the cache, one entry at a time, and each page rendered again with an empty cache."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import html5lib
import pytest
from jinja2 import Environment

from feeds.model import Entry, FeedSpec
from feeds.render import index
from feeds.render.index import render_index, render_term_page
from feeds.render.plan import plan_feeds
from feeds.render.site import Site

SITE = Site("Site <&> \"'", "https://example.org/sub dir/", ("atom", "rss", "json"))
NS = "{http://www.w3.org/1999/xhtml}"

# The entry list as the templates wrote it before rows were cached: the reference.
REFERENCE = """\
<ol class="entries">
{% for entry in entries %}
<li class="entry"{% if entry.language %} lang="{{ entry.language }}"{% endif %}>
{% if web_link(entry.link) %}<a class="title" href="{{ web_link(entry.link) }}">\
{{ entry.title }}</a>{% else %}<span class="title">{{ entry.title }}</span>{% endif %}

<div class="meta"><time datetime="{{ entry.published.isoformat() }}">\
{{ when(entry.published) }}</time>{% if entry.source_name %} · {{ entry.source_name }}\
{% endif %}</div>
</li>
{% endfor %}
</ol>
"""

TITLES = (
    "<script>alert(1)</script>",
    "Fish & Chips &amp; more",
    "\"double\" and 'single' quotes",
    "مرحبا بالعالم: عنوان من اليمين",
    "שלום \u200fעולם\u202e reversed",
    "混合 mixed عربي text",
    "emoji 🦀 and combining e\u0301",
    "long " + "very long title " * 400,
    "   spaces   ",
    "{{ not a template }} {% neither %}",
)
LINKS = (
    "https://example.com/a?b=1&c=\"x\"&d='y'",
    "http://example.com/<path>",
    "HTTPS://UPPER.EXAMPLE/",
    " https://leading-space.example/",
    "https://例子.测试/路径?q=值",
    "javascript:alert(1)",
    "ftp://example.com/file",
    "",
    None,
)
LANGUAGES = (None, "ar", "he", "zh-CN", 'en"><b>x</b>')
SOURCES = (None, "", "A & B <c>", "مصدر", "'quoted' \"source\"")
ZONES = (
    UTC,
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=-3, minutes=-30)),
)
TAGS = ("AI", "ai", "Europe", "欧洲", "عربي", "C++", "a/b", "<tag>", "x & y")
CATEGORIES = ("News", "Blogs", "Notes")
START = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def generated(count: int, seed: int) -> list[Entry]:
    rng = random.Random(seed)
    entries = []
    for number in range(count):
        published = (START + timedelta(minutes=37 * number)).astimezone(rng.choice(ZONES))
        entries.append(
            Entry(
                id=f"tag:example.org,2025:{number}",
                title=f"{rng.choice(TITLES)} #{number}",
                published=published,
                updated=published + timedelta(minutes=rng.randrange(0, 600)),
                link=rng.choice(LINKS),
                language=rng.choice(LANGUAGES),
                source_name=rng.choice(SOURCES),
                tags=tuple(rng.sample(TAGS, rng.randrange(1, 5))),
                categories=(rng.choice(CATEGORIES),),
            )
        )
    return entries


def twins(entry: Entry) -> list[Entry]:
    """Entries that differ from `entry` in one thing its row shows, and so need their own row."""
    changes: list[dict[str, object]] = [
        {"title": entry.title + " (edited)"},
        {"link": "https://example.net/other"},
        {"link": None},
        {"language": "fr"},
        {"language": None},
        {"source_name": "Another source"},
        # The same instant in another zone: equal datetimes, another local time on the page.
        {"published": entry.published.astimezone(timezone(timedelta(hours=5, minutes=45)))},
    ]
    return [
        replace(entry, id=f"{entry.id}-twin{number}", **change)  # type: ignore[arg-type]
        for number, change in enumerate(changes)
    ]


def reference_list(entries: tuple[Entry, ...]) -> str:
    environment = Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )

    def web_link(url: str | None) -> str | None:
        if url and urlsplit(url).scheme.lower() in ("http", "https"):
            return url
        return None

    def when(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M")

    template = environment.from_string(REFERENCE)
    return template.render(entries=entries, web_link=web_link, when=when)


def entry_list(page: bytes) -> str:
    """The page's <ol class="entries">: escaped texts hold no '<', so '</ol>' ends it."""
    text = page.decode()
    start = text.index('<ol class="entries">')
    return text[start : text.index("</ol>\n", start) + len("</ol>\n")]


def parse(page: bytes) -> ET.Element:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(page, transport_encoding="utf-8")  # type: ignore[no-any-return]


def term_specs(entries: list[Entry]) -> list[FeedSpec]:
    return [spec for spec in plan_feeds(entries, SITE.title, limit=50).feeds if spec.folder]


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    index._entry_row.cache_clear()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cached_rows_equal_the_reference_rendering(seed: int) -> None:
    entries = generated(120, seed)
    entries += [twin for entry in entries[::15] for twin in twins(entry)]
    specs = term_specs(entries)
    assert len(specs) > 10
    pages = {spec.folder: render_term_page(spec, SITE) for spec in specs}
    # Entries sit on several pages each: later pages took rows the earlier ones rendered.
    assert index._entry_row.cache_info().hits > 0
    for spec in specs:
        assert entry_list(pages[spec.folder]) == reference_list(spec.entries), spec.folder
        index._entry_row.cache_clear()
        assert render_term_page(spec, SITE) == pages[spec.folder], spec.folder


def test_twins_get_their_own_rows() -> None:
    first = generated(1, 7)[0]
    entries = (first, *twins(first))
    spec = FeedSpec("tag", "t", "tags/t", "t", entries, len(entries))
    rows = entry_list(render_term_page(spec, SITE)).split("</li>\n")[:-1]
    assert len(set(rows)) == len(entries)
    assert entry_list(render_term_page(spec, SITE)) == reference_list(entries)


def test_the_index_page_shares_rows_with_term_pages() -> None:
    entries = generated(80, 4)
    feeds = plan_feeds(entries, SITE.title, limit=50).feeds
    for spec in feeds[1:]:
        render_term_page(spec, SITE)
    page = render_index(feeds, SITE)
    assert entry_list(page) == reference_list(feeds[0].entries)
    index._entry_row.cache_clear()
    assert render_index(feeds, SITE) == page


def test_an_edited_entry_shows_its_new_values_on_the_next_build() -> None:
    entries = generated(60, 5)
    before = {spec.folder: render_term_page(spec, SITE) for spec in term_specs(entries)}
    edited = [
        replace(
            entry,
            title=entry.title + " & edited",
            link="https://example.com/new",
            published=entry.published.astimezone(ZoneInfo("Asia/Kolkata")),
        )
        for entry in entries
    ]
    for spec in term_specs(edited):
        page = render_term_page(spec, SITE)
        assert page != before[spec.folder]
        assert entry_list(page) == reference_list(spec.entries)


def test_awkward_pages_parse_and_show_every_title_as_written() -> None:
    entries = generated(60, 6)
    for spec in term_specs(entries):
        document = parse(render_term_page(spec, SITE))
        titles = [
            element
            for element in document.iter()
            if element.get("class") == "title" and element.tag in (NS + "a", NS + "span")
        ]
        assert ["".join(title.itertext()) for title in titles] == [e.title for e in spec.entries]
        for title, entry in zip(titles, spec.entries, strict=True):
            assert title.get("href") in (entry.link, None)
            if title.get("href") is None:
                assert not (entry.link or "").lower().lstrip().startswith("http")
