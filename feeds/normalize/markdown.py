"""Markdown to HTML (CommonMark, tables, strikethrough): one reference, one fast engine.

markdown-it-py is the reference. markdown-it-pyrs, the Rust port of the same parser, is
about 14 times faster and renders news prose byte for byte alike (every article of a
50,000-article generated corpus), so it renders every text that has none of the constructs
where fuzzing showed the two disagree; those texts, and any text the Rust port panics on,
go to the reference. The disagreements, all outside ordinary prose:
- Unicode spaces (U+3000, U+00A0) and tabs: Python's str.strip() trims them, Rust does not;
- HTML at the start of a line, HTML comments (`<!`): the end-of-text newline and comments
  follow different CommonMark versions;
- code fences and code spans, `~~` (strikethrough and fences), tables (any `|`, pipe-less
  `:--` rows), empty list items and empty quote lines, link reference definitions;
- `*` other than list bullets and `**bold**` pairs (stray emphasis runs).
tests/test_markdown_engines.py fuzzes this guard against the reference.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import markdown_it_pyrs

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# CommonMark with tables and strikethrough, as Hugo's Goldmark renders them.
_PLUGINS = ["table", "strikethrough"]
# Every character str.isspace() accepts but space and newline (test_markdown_engines checks
# the list): an explicit class scans several times faster than `[^\S \n]`.
_ODD_SPACE = re.compile(
    "[\t\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
_RISKY_TEXT = ("<!", "~~", "|", "`")
# At the start of a line (checked only on lines that start with one of _LINE_STARTS):
# an HTML block, an empty quote, a link definition, an empty list item, a table row (or
# a line ending in `-:`, anywhere).
_RISKY_LINE = re.compile(
    r"[ >*+\-0-9.)]*(?:<|>[ >]*$|\[[^\]]*\]:)"
    r"|[ >]*(?:[*+-]|\d{1,9}[.)])[ ]*$"
    r"|[ >]*:-"
)
_LINE_STARTS = frozenset(" >*+-0123456789.):<[")
_BULLET = re.compile(r"[ >]*\* ")


def _risky(text: str) -> bool:
    # Plain scans instead of one multi-line regex: `^` alternatives make `re` try every
    # position of the text, which cost more than rendering it.
    if _ODD_SPACE.search(text) or any(piece in text for piece in _RISKY_TEXT):
        return True
    stars = 0  # `**` runs outside list bullets: the engines agree on `**bold**` pairs only
    for line in text.split("\n"):
        if (line[:1] in _LINE_STARTS and _RISKY_LINE.match(line)) or line.rstrip(" ").endswith(
            "-:"
        ):
            return True
        if "*" in line:
            bullet = _BULLET.match(line)
            rest = line[bullet.end() :] if bullet else line
            if "*" in rest.replace("**", ""):
                return True
            stars += rest.count("**")
    return stars % 2 == 1


@lru_cache(maxsize=1)
def reference() -> MarkdownIt:
    # Imported when first needed: most builds never need it, and it takes a while to load.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(_PLUGINS)


@lru_cache(maxsize=1)
def _fast() -> markdown_it_pyrs.MarkdownIt:
    return markdown_it_pyrs.MarkdownIt("commonmark").enable_many(["table", "strikethrough"])


def markdown_to_html(text: str) -> str:
    """The reference's HTML for `text` (unsanitized), by the fast engine where it agrees."""
    if not _risky(text):
        try:
            return _fast().render(text)
        except BaseException as exc:  # a Rust panic is a BaseException (PanicException)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
    html: str = reference().render(text)
    return html
