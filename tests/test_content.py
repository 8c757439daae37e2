"""Entry HTML: CommonMark rendering, sanitizing, absolute URLs and XML-safe text."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize.content import (
    join,
    plain_text,
    render_markdown,
    sanitize_html,
    srcset_candidates,
    xml_clean,
)

BASE = "https://news.example.com/a/article.html"


def test_markdown_is_commonmark_with_tables_and_strikethrough() -> None:
    markup = render_markdown("# T\n\n**b** ~~s~~\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", BASE)
    assert "<h1>T</h1>" in markup
    assert "<strong>b</strong>" in markup and "<s>s</s>" in markup
    assert "<table>" in markup and "<td>1</td>" in markup


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        '<img src="x.png" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<iframe src="https://evil.example/"></iframe>',
        "<style>body{}</style>",
        '<form action="https://evil.example/"><input></form>',
    ],
)
def test_dangerous_html_is_removed(dangerous: str) -> None:
    cleaned = sanitize_html(dangerous, BASE).lower()
    for marker in ("script", "onerror", "javascript:", "iframe", "<style", "<form", "<input"):
        assert marker not in cleaned


def test_relative_urls_resolve_against_the_entry_link() -> None:
    markup = render_markdown("[l](/x?a=1&b=2) ![i](img/p.png) [c](//cdn.example/z)", BASE)
    assert 'href="https://news.example.com/x?a=1&amp;b=2"' in markup
    assert 'src="https://news.example.com/a/img/p.png"' in markup
    assert 'href="https://cdn.example/z"' in markup


def test_without_a_base_relative_urls_are_dropped_and_text_kept() -> None:
    markup = render_markdown(
        "[kept text](/x) ![alt](p.png) [abs](https://e.example/) [p](//c/z)", None
    )
    assert "kept text" in markup and 'alt="alt"' in markup
    assert "/x" not in markup and "p.png" not in markup
    assert 'href="https://e.example/"' in markup and 'href="https://c/z"' in markup


def test_links_get_noopener() -> None:
    assert 'rel="noopener noreferrer"' in render_markdown("[a](https://e.example/)", None)


@pytest.mark.parametrize(
    "bad", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\ud800"]
)
def test_xml_clean_removes_what_xml_forbids(bad: str) -> None:
    assert xml_clean(f"a{bad}b") == "ab"
    assert bad not in render_markdown(f"a{bad}b", None)
    title = plain_text(f"t{bad}i&#1;tle")  # white-space controls become a space
    assert title in ("title", "t itle") and bad not in title


def test_xml_clean_keeps_tabs_newlines_and_chinese() -> None:
    text = "第一行\t\n第二行\r😀"
    assert xml_clean(text) is text


def test_plain_text_drops_tags_decodes_entities_collapses_space() -> None:
    assert plain_text("  Tom &amp; <b>Jerry</b>\n\n &lt;3 ") == "Tom & Jerry <3"


URL_PARTS = st.sampled_from(
    [
        "http:",
        "https:",
        "mailto:",
        "ftp:",
        "//",
        "/",
        "./",
        "../",
        "?",
        "#",
        ";",
        ":",
        "@",
        "a",
        "B",
        "例",
        " ",
        "\t",
        "%20",
        "..",
        ".",
        "x.org",
        "[::1]",
        "80",
    ]
)
URLS = st.lists(URL_PARTS, max_size=8).map("".join)


@given(URLS, URLS)
@settings(max_examples=2000, deadline=None)
def test_join_is_urljoin(base: str, url: str) -> None:
    assert join(base, url) == urljoin(base, url)


# Shaped like the links of articles, so most take join's shortcut for URLs urljoin keeps.
LINKS = st.tuples(
    st.sampled_from(["http", "https", "HTTPS", "ftp", "mailto", "h-t.t+p"]),
    st.sampled_from(["://", ":/", ":"]),
    st.lists(
        st.sampled_from(["x.org", "a", ":80", "@", "%41", "例", "[::1]", "-", "~"]), max_size=3
    ),
    st.lists(URL_PARTS, max_size=6),
).map(lambda parts: parts[0] + parts[1] + "".join(parts[2]) + "".join(parts[3]))


@given(URLS, LINKS)
@settings(max_examples=3000, deadline=None)
def test_join_of_an_absolute_link_is_urljoin(base: str, url: str) -> None:
    assert join(base, url) == urljoin(base, url)


@pytest.mark.parametrize(
    "url",
    [
        "https://x.org/a;b",  # urlparse splits ";b" off as parameters, and back
        "https://x.org/a;",  # ... and an empty one is dropped
        "https://x.org/a?",  # an empty query is dropped
        "https://x.org/a#",
        "HTTPS://x.org/a",  # the scheme comes back in lower case
        "https://x.org/a\tb",
        "https://x.org/a?b#c",
        "https://x.org/%E4%BE%8B/例?q=1#f",
    ],
)
def test_join_of_links_urljoin_changes_or_keeps(url: str) -> None:
    for base in ("https://a.example/x/", "http://a.example/", ""):
        assert join(base, url) == urljoin(base, url)


def test_join_of_a_host_url_depends_on_the_base_scheme_only() -> None:
    assert join("https://a.example/x/y", "//cdn.example/i.png") == "https://cdn.example/i.png"
    assert join("http://b.example/", "//cdn.example/i.png") == "http://cdn.example/i.png"
    assert join("https://a.example/x/", "../z") == "https://a.example/z"


def test_sanitized_html_holds_no_character_xml_forbids_even_from_references() -> None:
    html = sanitize_html("<p>a&#x1;b&#1;c&#xFFFE;d\x0be</p>", None)
    assert html == xml_clean(html)
    assert "abcde" in html


def test_srcset_candidates_resolve_and_those_not_http_go() -> None:
    markup = sanitize_html(
        '<picture><source srcset="/a.jpg 1x, b.jpg 2x,javascript:alert(1) 3x, '
        'https://cdn.example/w_100,h_200/c.jpg 100w" type="image/jpeg">'
        '<img src="/d.jpg" alt="d"></picture>',
        BASE,
    )
    assert (
        'srcset="https://news.example.com/a.jpg 1x, https://news.example.com/a/b.jpg 2x, '
        'https://cdn.example/w_100,h_200/c.jpg 100w"'
    ) in markup
    assert "javascript" not in markup


def test_without_a_base_relative_srcset_candidates_go() -> None:
    markup = sanitize_html('<picture><source srcset="/a.jpg 1x, //cdn.example/b.jpg 2x">', None)
    assert 'srcset="https://cdn.example/b.jpg 2x"' in markup
    assert "srcset" not in sanitize_html('<picture><source srcset="/a.jpg 1x, b.jpg">', None)


@pytest.mark.parametrize(
    ("srcset", "candidates"),
    [
        ("a.jpg", [("a.jpg", "")]),
        (" , a.jpg 1x ,, b.jpg", [("a.jpg", "1x"), ("b.jpg", "")]),
        ("a.jpg,b.jpg 2x", [("a.jpg,b.jpg", "2x")]),  # a URL may hold commas
        ("a.jpg 100w (x, y), b.jpg 2x", [("a.jpg", "100w (x, y)"), ("b.jpg", "2x")]),
        ("\ta.jpg\n 1x\n", [("a.jpg", "1x")]),
        ("", []),
    ],
)
def test_srcset_candidates_split_as_the_html_standard_does(
    srcset: str, candidates: list[tuple[str, str]]
) -> None:
    assert srcset_candidates(srcset) == candidates


def test_no_named_reference_brings_a_character_xml_forbids() -> None:
    # sanitize_html cleans the cleaner's output only when the markup holds "&#".
    from html.entities import html5

    names = [name if name.endswith(";") else name + ";" for name in html5]
    html = sanitize_html("<p>" + " ".join(f"&{name}" for name in names) + "</p>", None)
    assert html == xml_clean(html)
    assert "\t" in html and "\u2060" in html  # &Tab; and &NoBreak; were decoded
