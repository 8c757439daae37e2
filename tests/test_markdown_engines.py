"""The fast Markdown engine is only used where it renders exactly like the reference."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import frontmatter
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize.markdown import _ODD_SPACE, markdown_to_html, reference

ROOT = Path(__file__).resolve().parent.parent
MAKE_CORPUS = ROOT.parent / "shared" / "tools" / "make_corpus.py"

# Pieces of Markdown syntax and prose, shuffled by hypothesis into adversarial texts.
PIECES = [
    "a", "word ", "text. ", "中文，", "**bold**", "*em*", "_", "__", "~~", "~", "~~~", "`", "```",
    "#", "# ", ">", "> ", "- ", "1. ", "1) ", "+ ", "|", "| a |", "|:-:|", ":---", "---", "===",
    "[", "]", "(", ")", "!", "<", "&", "&amp;", "&#65;", "\\", "<div>", "</div>", "<b>", "<!--",
    "-->", "\t", " ", "  ", "    ", "\n", "\n\n", "  \n", "\u3000", "\xa0", "[x]: /u", "[x]",
    "![i](p.png)", "[l](http://x.example/a?b=1&c=2)", "<http://a.example>", "\n\n- item",
    "\n\n1. item", "\n\n> quote",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=30))
def test_markdown_matches_the_reference_on_any_text(pieces: list[str]) -> None:
    text = "".join(pieces).strip()
    assert markdown_to_html(text) == reference().render(text)


@pytest.mark.parametrize(
    "text",
    [
        "\u3000\u3000首行缩进的段落\n\n\u3000\u3000第二段",  # Python's strip() trims U+3000
        "text\n\n<p>raw html last</p>",  # no newline after a final HTML block
        "```\nunclosed fence",
        "> ",
        "inline <!-- comment --> here",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "中文，~~text.**# *~~ **bold**",  # emphasis runs inside strikethrough
        "(_*b **   \nx* **bold**",  # stray `*` runs
    ],
)
def test_texts_the_engines_disagree_on_go_to_the_reference(text: str) -> None:
    assert markdown_to_html(text) == reference().render(text)


def test_generated_articles_render_like_the_reference(tmp_path: Path) -> None:
    if not MAKE_CORPUS.exists():
        pytest.skip("shared/tools/make_corpus.py is not beside the project")
    options = ["--count", "300", "--seed", "7", "--quiet"]
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(tmp_path), *options], check=True)
    for path in [*sorted(tmp_path.glob("*.txt")), *sorted((ROOT / "seeds").glob("*.txt"))]:
        _, body = frontmatter.parse(path.read_text(encoding="utf-8"))
        assert markdown_to_html(body) == reference().render(body), path.name


def test_the_odd_space_class_is_every_space_but_space_and_newline() -> None:
    matched = {chr(code) for code in range(sys.maxunicode + 1) if _ODD_SPACE.match(chr(code))}
    spaces = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    assert matched == spaces - {" ", "\n"}
