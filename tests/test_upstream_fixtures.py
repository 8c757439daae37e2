"""Every file of tests/fixtures/upstream/ through parse_feed, with the outcome each one proves.

A fixture without a case here fails `test_every_fixture_has_a_case`, so the folder and the
table cannot drift apart. Helper servers in the integration tests serve the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.errors import ParseError
from feeds.model import Source
from feeds.normalize.upstream import ParsedFeed, parse_feed

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
URL = "https://upstream.example/feeds/feed.xml"
SEEN_AT = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)  # a Wednesday
# Nothing a local file, an entity or a script could contribute may ever show up.
NEVER = ("root:x:", "<script", "alert(", "javascript:", "onerror", "onclick", "onload", "lollol")


@dataclass(frozen=True)
class Case:
    titles: tuple[str, ...] = ()
    error: str | None = None  # a substring of the ParseError's problem
    warnings: tuple[str, ...] = ()  # substrings, one per expected warning, in order
    links: tuple[str | None, ...] | None = None
    contains: tuple[str, ...] = ()  # substrings the published HTML must keep
    stripped: tuple[str, ...] = ()  # substrings that must be gone (besides NEVER)
    undated: int = 0
    ttl: int | None = None
    content_type: str = "application/xml"
    source: dict[str, object] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "rss20_good.xml": Case(
        titles=("Third post", "Second post", "First post"),
        contains=("<strong>third</strong>", "Second post body"),
        ttl=7200,
    ),
    "rss091_netscape.xml": Case(
        titles=("Café opening", "Second item"),
        contains=("The café opens on Monday, naïve &amp; résumé.",),
        undated=2,
    ),
    "rss10_rdf.xml": Case(titles=("Erster Eintrag", "Zweiter Eintrag"), ttl=3600),
    "atom10_good.xml": Case(
        titles=("Atom HTML title", "XHTML entry"),
        contains=("<code>code</code>", "<p>XHTML <b>body</b></p>"),
        stripped=("<em>",),
    ),
    "jsonfeed10.json": Case(
        titles=("Numeric id item", "Relative url item"),
        links=("https://upstream.example/json/2", "https://upstream.example/json/1"),
        contains=(
            'src="https://upstream.example/img/2.png"',
            "<p>Second paragraph &amp; more.</p>",
        ),
        content_type="application/feed+json",
    ),
    "jsonfeed11.json": Case(
        titles=(
            "Premier article",
            "An item without a title: its first words become the title.",
        ),
        warnings=("item #3 is not an object",),
        contains=("<p>Bonjour le monde</p>",),
        content_type="application/feed+json",
    ),
    "jsonfeed_broken.json": Case(error="not JSON", content_type="application/feed+json"),
    "relative_links_xml_base.xml": Case(
        titles=("Nested base", "Feed base only"),
        links=(
            "https://cdn.upstream.example/blog/2025/post-1.html",
            "https://cdn.upstream.example/root/post-2.html",
        ),
        contains=(
            'href="https://cdn.upstream.example/blog/about.html"',
            'src="https://cdn.upstream.example/blog/2025/images/p1.png"',
            'href="https://other.example/x"',
            'href="https://cdn.upstream.example/blog/notes.html"',
        ),
    ),
    "relative_links_no_base.xml": Case(
        titles=("Relative everything", "Guid that is not a URL"),
        # "12345" is a guid, not a link, even though RSS calls guids permalinks by default.
        links=("https://upstream.example/articles/one.html", None),
        contains=(
            'src="https://upstream.example/articles/pics/one.png"',
            'href="https://upstream.example/top.html"',
            'href="https://upstream.example/feeds/rel.html"',
        ),
    ),
    "encoding_gbk_declared_utf8.xml": Case(
        titles=("中国经济增长放缓，专家称明年将回暖", "你好世界"),
        warnings=("declared as utf-8, but the bytes are gb18030",),
        contains=("据报道，国家统计局今天公布的数据显示。",),
        stripped=("\ufffd",),
        content_type="application/rss+xml; charset=utf-8",
    ),
    "html_page_instead_of_feed.xml": Case(error="HTML page", content_type="text/html"),
    "well_formed_not_a_feed.xml": Case(error="no RSS, RDF or Atom root element"),
    "truncated_xml.xml": Case(
        titles=("Complete one", "Complete two", "Cut off"),
        warnings=("malformed XML, 3 entries recovered",),
        undated=1,
    ),
    "empty_channel.xml": Case(),
    "entity_billion_laughs.xml": Case(
        titles=("Laughs &lol9;",),
        warnings=("DOCTYPE with an internal subset removed", "malformed XML"),
        undated=1,
        # The reference is left as the text it is, never expanded (NEVER holds "lollol").
        contains=("&amp;lol9;&amp;lol9;&amp;lol9;",),
    ),
    "entity_quadratic_blowup.xml": Case(
        titles=("Blowup", "Second, malformed so the loose parser runs"),
        warnings=("DOCTYPE with an internal subset removed", "malformed XML"),
        undated=2,
        stripped=("xxxxxxxxxx",),
    ),
    "external_entity_local_file.xml": Case(
        titles=("Leak &xxe; here",),
        warnings=("DOCTYPE with an internal subset removed", "malformed XML"),
        contains=("Before &amp;xxe; after",),
        undated=1,
    ),
    "external_parameter_entity.xml": Case(
        titles=("Parameter entity",),
        warnings=("DOCTYPE with an internal subset removed",),
        undated=1,
    ),
    "xinclude_local_file.xml": Case(
        titles=("Include",),
        contains=("<p>Before</p><p>After</p>",),
        stripped=("xi:include", "passwd"),
    ),
    "script_and_event_handlers.xml": Case(
        titles=("Hello world",),
        contains=("<p>Kept text</p>", 'alt="ok"', 'href="https://upstream.example/fine"'),
        stripped=("<style", "display: none", "evil.example", "steal(", "<svg", "target="),
        undated=1,
    ),
    "javascript_links.xml": Case(
        titles=("Entry link is javascript", "Data URL link"),
        links=(None, None),
        contains=('href="https://upstream.example/safe"', 'href="mailto:editor@upstream.example"'),
        stripped=("vbscript:", "data:", "msgbox"),
        undated=2,
    ),
    "iframes_and_forms.xml": Case(
        titles=("Embeds",),
        contains=("<p>Visible paragraph</p>",),
        stripped=(
            "<iframe",
            "<form",
            "<input",
            "<button",
            "<object",
            "<embed",
            "<meta",
            "<base",
            "<link",
            "evil.example",
        ),
        undated=1,
    ),
    "duplicate_guids_different_links.xml": Case(
        titles=("Newest, first in the document", "Older, same guid, other link"),
        warnings=("item #3 repeats an earlier item",),
    ),
    "no_dates.xml": Case(titles=("Undated one", "Unparseable date"), undated=2),
    "future_dates.xml": Case(titles=("From the far future", "Twelve hours ahead"), undated=1),
    "naive_dates.xml": Case(
        titles=("RFC 822 without zone", "ISO 8601 without zone", "Zone given"),
        source={"timezone": "Asia/Shanghai"},
    ),
    "no_ids_no_links.xml": Case(
        titles=(
            "Text only",
            "Link only",
            "An item with neither title nor link: its first words become its title.",
        ),
        warnings=("item #3 repeats an earlier item", "item #5 has no title, link or content"),
        links=(None, "https://upstream.example/nolink/1#section", None),
        undated=3,
    ),
    "skip_hours_and_days.xml": Case(titles=("Only item",), ttl=3 * 3600),
    "filters_include_exclude_limit.xml": Case(
        titles=("Python 3.14 released", "PYTHON tips"),
        undated=2,
        source={"include": "(?i)python", "exclude": "draft", "limit": 2},
    ),
}


def parse_fixture(name: str, **source: object) -> ParsedFeed:
    case = CASES[name]
    options = {**case.source, **source}
    declared = Source(name="Example", url=URL, **options)  # type: ignore[arg-type]
    body = (FIXTURES / name).read_bytes()
    return parse_feed(body, {"Content-Type": case.content_type}, URL, declared, SEEN_AT)


def test_every_fixture_has_a_case() -> None:
    assert sorted(path.name for path in FIXTURES.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture(name: str) -> None:
    case = CASES[name]
    if case.error is not None:
        with pytest.raises(ParseError) as raised:
            parse_fixture(name)
        assert raised.value.where == URL
        assert case.error in raised.value.problem
        return
    parsed = parse_fixture(name)
    assert tuple(entry.title for entry in parsed.entries) == case.titles
    assert len(parsed.warnings) == len(case.warnings), parsed.warnings
    for expected, warning in zip(case.warnings, parsed.warnings, strict=True):
        assert expected in warning
    if case.links is not None:
        assert tuple(entry.link for entry in parsed.entries) == case.links
    published = "\n".join(
        f"{entry.title}\n{entry.content_html}\n{entry.summary or ''}\n{entry.link or ''}"
        for entry in parsed.entries
    )
    for kept in case.contains:
        assert kept in published
    for gone in (*NEVER, *case.stripped):
        assert gone not in published
    assert len(parsed.undated) == case.undated
    assert parsed.ttl == case.ttl
    assert len({entry.id for entry in parsed.entries}) == len(parsed.entries)
    for entry in parsed.entries:
        assert entry.published.tzinfo is not None and entry.updated >= entry.published
        assert entry.origin == "upstream:Example" and entry.categories == ("Example",)
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
