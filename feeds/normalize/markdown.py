"""Markdown to HTML (CommonMark, tables, strikethrough): one reference, one fast engine.

markdown-it-py is the reference. pyromark (pulldown-cmark, in Rust) is about 60 times
faster. It spells some HTML its own way (`"` in text unescaped, `<br />`), which the
sanitizer writes back alike (content.sanitize_html), and it disagrees with the reference
on some constructs, none of them ordinary prose. So it renders every text that has none of
the constructs where fuzzing showed that the two, once sanitized, differ; those texts, and
any text the Rust parser panics on, go to the reference. The disagreements:
- Unicode spaces (U+3000, U+00A0, U+2028...), tabs, carriage returns and other control
  characters: Python's str.strip() trims the spaces, Rust does not;
- `<` (raw HTML, autolinks), `~` (one is strikethrough in pulldown-cmark), `\\` (a
  backslash before a line end), code (a backtick), tables (`|`, pipe-less `:-` rows);
- at the start of a line: empty quote lines and list items, link reference definitions,
  four spaces (indented code, or text after a long list marker).
`*` and `_` emphasis, headings, lists, quotes, links and images agree.
tests/test_markdown_engines.py fuzzes this guard against the reference.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import pyromark

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# CommonMark with tables and strikethrough, as Hugo's Goldmark renders them.
_PLUGINS = ["table", "strikethrough"]
_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
# Every character str.isspace() accepts but space and newline (test_markdown_engines checks
# the list), every other control character, and the risky ASCII ones: one scan of the text.
_RISKY_CHARACTER = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000<|`~\\\\]"
)
# What a line must not start with (after list and quote markers): an empty quote line, a
# link reference definition, an empty list item, a table's alignment row, four spaces.
_LINE_START = (
    r"(?:[ >*+\-0-9.)]*(?:>[ >]*(?:\n|\Z)|\[[^\]\n]*\]:)"
    r"|[ >]*(?:[*+-]|[0-9]{1,9}[.)])[ ]*(?:\n|\Z)"
    r"|[ >]*:-"
    r"|[ ]{4})"
)
_FIRST_LINE = re.compile(_LINE_START)
# Led by a newline, a literal: `re` skips to each newline instead of trying every position.
_OTHER_LINE = re.compile("\n" + _LINE_START)
_ALIGNMENT_END = re.compile(r"-:[ ]*(?:\n|\Z)")  # a line ending in `-:` (an alignment row)


def _risky(text: str) -> bool:
    return (
        _RISKY_CHARACTER.search(text) is not None
        or _FIRST_LINE.match(text) is not None
        or _OTHER_LINE.search(text) is not None
        or _ALIGNMENT_END.search(text) is not None
    )


@lru_cache(maxsize=1)
def reference() -> MarkdownIt:
    # Imported when first needed: most builds never need it, and it takes a while to load.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(_PLUGINS)


def markdown_to_html(text: str) -> str:
    """HTML for `text` (unsanitized) that sanitizes to what the reference's HTML does; by
    the fast engine where the two agree."""
    if not _risky(text):
        try:
            # With the final newline: without it, pulldown-cmark ends an indented code
            # block without one (the reference adds it).
            return pyromark.html(text + "\n", options=_OPTIONS)
        except BaseException as exc:  # a Rust panic is a BaseException (PanicException)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
    html: str = reference().render(text)
    return html
