"""The short way to safe HTML (normalize/markdown_html.py) gives what sanitize_html gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize.content import render_markdown, sanitize_html
from feeds.normalize.markdown import markdown_to_html
from feeds.normalize.markdown_html import made_safe
from tests import corpora
from tests.test_markdown_engines import PIECES

BASES = (None, "https://base.example/news/item.html")

# Links and images of every shape: kept as they are, resolved, dropped, refused.
LINKS = [
    "[l](https://a.example/p/q?x=1&y=2#f)", "[l](http://a.example:8080/)", "[l](https://a.b.example)",
    '[l](https://a.example/ "ti&tle")', '[l](https://a.example/ "say \\"hi\\"")',
    "![i](https://img.example/a.png)", '![i *x*](https://img.example/a.png "t")', "![](https://i.example/)",
    "[l](/relative)", "[l](other.html)", "[l](//cdn.example/x)", "[l](mailto:a@b.example)",
    "[l](ftp://a.example/)", "[l](HTTPS://A.EXAMPLE/)", "[l](http://1.2.3.4/)", "[l](http://999.1.1.1/)",
    "[l](https://xn--zz.example/)", "[l](http://a.example:99999/)", "[l](https://a_b.example/)",
    "[l](https://a.example/a;b)", "[l](https://a.example/?)", "[l](https://a.example/%zz)",
    "[l](<https://a.example/with space>)", "[l](javascript:alert(1))", "[l]()",
    "[l](https://a.example/it's)", "[l](https://a.example/(x)*!$,=@~%41:y)",
    "![i](https://a.example/p?q=a/b?c&d=e#f?x/y)", "[l](http://a-b.c-d.example:1/-._~)",
    "<https://auto.example/>", "\xa0", '"', "&quot;", "&lt;", "&gt;", "\x01", "\x7f", "\x85",
    "\u2028", "\ufdd0", "\ufeff", "\r", "\r\n", "\t", "&#0;", "&#xD800;", "&nbsp;", "&copy;",
]  # fmt: skip


def agree(text: str) -> str | None:
    """made_safe's answer for `text`, checked against sanitize_html for every base."""
    html = markdown_to_html(text)
    safe = made_safe(text, html)
    if safe is not None:
        for base in BASES:
            assert safe == sanitize_html(html, base), (text, base)
    return safe


# Without `<` (which always goes the full way), so that many texts go the short way.
TEXTS = [piece for piece in PIECES + LINKS if "<" not in piece] + LINKS


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(TEXTS), min_size=1, max_size=40))
def test_the_short_way_agrees_with_the_sanitizer_on_any_text(pieces: list[str]) -> None:
    agree("".join(pieces))


def test_generated_articles_take_the_short_way_and_agree(tmp_path: Path) -> None:
    found = corpora.bodies(tmp_path, 300, 11)
    short = sum(agree(body) is not None for _, body in found)
    assert short > 0.8 * len(found)  # the point of it: most prose goes the short way


@pytest.mark.parametrize(
    "text",
    [
        "Prose with a [link](https://a.example/p?x=1&y=2) and ![a pic & more](https://i.example/p.png).",
        '# Title\n\n> quoted  \nline\n\n- one\n- **two**\n\n3. three\n\n---\n\n*em* \xa0"q"',
    ],
)
def test_plain_prose_goes_the_short_way(text: str) -> None:
    assert agree(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "raw <b>html</b> in the text",  # any `<`: raw HTML is the sanitizer's
        "a [relative](/link) one",  # resolved against the base
        "a [mail](mailto:a@b.example) link",
        "some `code`",
        "a\x01control",
    ],
)
def test_anything_else_goes_the_full_way(text: str) -> None:
    assert made_safe(text, markdown_to_html(text)) is None


def test_render_markdown_gives_the_sanitized_html() -> None:
    text = "A [link](https://a.example/) and a [relative](x.html) one.\n\nNext  \nline"
    expected = sanitize_html(markdown_to_html(text), "https://base.example/d/")
    assert render_markdown(text, "https://base.example/d/") == expected
    plain = "Only [absolute](https://a.example/) links.\n\nNext  \nline"
    assert render_markdown(plain, None) == sanitize_html(markdown_to_html(plain), None)
