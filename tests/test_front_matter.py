"""The split of an article (normalize/front_matter.py) is python-frontmatter's."""

from __future__ import annotations

import frontmatter
from frontmatter.default_handlers import YAMLHandler
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize import front_matter
from feeds.normalize.batch import article_body

# Boundaries of every shape, blank and odd whitespace, YAML and body lines.
PIECES = [
    "---", "----", "--", "--- ", "---\t", "--- x", "x ---", "\n", "\r\n", "\r", " ", "\t", "\x0b",
    "\x0c", "\u3000", "\xa0", "\u2028", "\ufeff", "title: a", "tags:", "  - b", "body text",
    "# heading", "...", "+++",
]  # fmt: skip


def library_split(text: str) -> tuple[str, str] | None:
    """What frontmatter.parse does before loading the YAML."""
    try:
        fm, content = YAMLHandler().split(frontmatter.u(text).strip())
    except ValueError:
        return None
    return fm, content.strip()


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_the_split_is_the_libraries(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert front_matter.split(text) == library_split(text)


def test_the_boundary_is_the_libraries() -> None:
    assert YAMLHandler.FM_BOUNDARY is not None
    assert front_matter.BOUNDARY.pattern == YAMLHandler.FM_BOUNDARY.pattern
    assert front_matter.BOUNDARY.flags == YAMLHandler.FM_BOUNDARY.flags


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_the_body_is_what_the_library_gives(pieces: list[str]) -> None:
    text = "".join(pieces)

    class BodyOnly(YAMLHandler):
        def load(self, fm: str, **kwargs: object) -> dict[str, str]:
            return {}

    _, body = frontmatter.parse(text.encode().decode("utf-8-sig"), handler=BodyOnly())
    assert article_body(text.encode()) == body
