"""The simple front-matter reader gives what PyYAML gives, or declines."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize.simple_yaml import _load_common, _load_general, load_simple

ROOT = Path(__file__).resolve().parent.parent

# Lines and pieces of lines, shuffled by hypothesis into front matter good and bad (the good
# pieces are repeated so that most texts are in the subset).
GOOD_KEYS = ["title", "date", "tags", "a-b", "x_1"]
BAD_KEYS = ["on", "Null", " title", "tags ", "1"]
GOOD_VALUES = [
    '"text"', '"with \\" quote"', '"back\\\\slash"', '""', "plain", "Plain text", "C++",
    "AI/ML", "M&A", "Editor's Pick", "中文", "true", "False", '"#"', '"a: b"', "a#b",
]  # fmt: skip
BAD_VALUES = [
    '"esc \\n"', "yes", "No", "null", "~", "2024-01-02", "12", "1.5", ".inf", "-x", "[a, b]",
    "{a: 1}", "&anchor x", "*ref", "!tag x", "|", ">-", "a # comment", "a: b", "a:", "'single'",
    '"open', "x\ty", "é\u2028", "a\x85b", "@at", "%pct", "`tick", "",
]  # fmt: skip
KEYS = GOOD_KEYS * 8 + BAD_KEYS
VALUES = GOOD_VALUES * 20 + BAD_VALUES
INDENTS = ["", " ", "  ", "    "]


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        key, value = draw(st.sampled_from(KEYS)), draw(st.sampled_from(VALUES))
        if draw(st.booleans()):
            lines.append(f"{key}: {value}".rstrip(" ") if value else f"{key}:")
            continue
        lines.append(f"{key}:")
        indent = draw(st.sampled_from(INDENTS))
        for _ in range(draw(st.integers(0, 3))):
            item_indent = indent if draw(st.integers(0, 9)) else draw(st.sampled_from(INDENTS))
            lines.append(f"{item_indent}- {draw(st.sampled_from(VALUES))}")
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["  continued", "", "# c", "...", "- x"])))
    return "\n" + "\n".join(lines) + "\n"


def reference(text: str) -> object:
    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return "YAML error"


@settings(max_examples=3000, deadline=None)
@given(front_matter())
def test_it_reads_what_pyyaml_reads_or_declines(text: str) -> None:
    simple = load_simple(text)
    if simple is not None:
        assert repr(simple) == repr(reference(text))
    # The one-scan reading of common lines reads as the general one, or leaves it the text.
    common = _load_common(text)
    if common is not None:
        assert repr(common) == repr(_load_general(text))


@pytest.mark.parametrize("path", sorted((ROOT / "seeds").glob("*.txt")), ids=lambda p: p.name)
def test_the_seeds_front_matter_is_read_simply_and_alike(path: Path) -> None:
    front = path.read_text(encoding="utf-8").split("---\n", 2)[1]
    simple = load_simple(front)
    assert simple is not None
    assert repr(simple) == repr(reference(front))


def test_escapes_other_than_quote_and_backslash_go_to_pyyaml() -> None:
    assert load_simple('title: "a\\"b\\\\c"\n') == {"title": 'a"b\\c'}
    assert load_simple('title: "line\\nbreak"\n') is None
    assert load_simple("title: 'single'\n") is None


def test_odd_characters_are_those_pyyaml_refuses_and_tab_return_and_nel() -> None:
    import sys

    from yaml.reader import Reader

    from feeds.normalize.simple_yaml import _ODD

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        refused = bool(Reader.NON_PRINTABLE.match(char)) or char in "\t\r\x85"
        assert bool(_ODD.match(char)) == refused, hex(code)
