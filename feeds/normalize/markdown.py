"""Markdown to HTML (CommonMark, tables, strikethrough): one reference, one fast engine.

markdown-it-py is the reference. markdown-it-pyrs, the Rust port of the same parser, is
about 14 times faster and renders news prose byte for byte alike (every article of a
50,000-article generated corpus), so it renders every text that has none of the constructs
where fuzzing showed the two disagree; those texts, and any text the Rust port panics on,
go to the reference. The disagreements, all outside ordinary prose:
- Unicode spaces (U+3000, U+00A0) and tabs: Python's str.strip() trims them, Rust does not;
- HTML at the start of a line, HTML comments (`<!`): the end-of-text newline and comments
  follow different CommonMark versions;
- code fences and code spans, `~~~`, tables (any `|`, pipe-less `:--` rows), empty list
  items and empty quote lines, link reference definitions.
tests/test_markdown_engines.py fuzzes this guard against the reference.
"""

from __future__ import annotations

import re
from functools import lru_cache

import markdown_it_pyrs
from markdown_it import MarkdownIt

# CommonMark with tables and strikethrough, as Hugo's Goldmark renders them.
_PLUGINS = ["table", "strikethrough"]
_RISKY = re.compile(
    r"[^\S \n]"  # any white space but space and newline
    r"|<!|~~~|[|`]"
    r"|^[ >*+\-0-9.)]*(?:<|>[ >]*$|\[[^\]]*\]:)"  # HTML block, empty quote, link definition
    r"|^[ >]*(?:[*+-]|\d{1,9}[.)])[ ]*$"  # empty list item
    r"|^[ >]*:-|-:[ ]*$",  # table alignment row without pipes
    re.MULTILINE,
)


@lru_cache(maxsize=1)
def reference() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(_PLUGINS)


@lru_cache(maxsize=1)
def _fast() -> markdown_it_pyrs.MarkdownIt:
    return markdown_it_pyrs.MarkdownIt("commonmark").enable_many(["table", "strikethrough"])


def markdown_to_html(text: str) -> str:
    """The reference's HTML for `text` (unsanitized), by the fast engine where it agrees."""
    if not _RISKY.search(text):
        try:
            return _fast().render(text)
        except BaseException as exc:  # a Rust panic is a BaseException (PanicException)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
    html: str = reference().render(text)
    return html
